//! Every event of the HTTP honeypot is made here: `http.request` for each request
//! (classified), `http.login` for credentials posted to a login form or sent as
//! Basic auth, `credential.reuse` when a honeytoken comes back, and
//! `sensor.status` when a limit is hit outside of a request.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;

use nectar_event::field;
use nectar_event::text::bound;
use nectar_event::{Event, Kind, Severity};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Shared;
use super::classify::{Parts, Scratch};
use super::conn::{ConnInfo, Outcome};
use super::site::Page;
use crate::honeytoken::Honeytokens;

/// A bound that shaped the answer (`data.limit`), named as its config key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    None,
    RequestLine,
    HeaderSize,
    HeaderCount,
    BodySize,
    HeaderTimeout,
    BadChunk,
}

impl Limit {
    fn key(self) -> Option<&'static str> {
        match self {
            Limit::None => None,
            Limit::RequestLine => Some("max_request_line_bytes"),
            Limit::HeaderSize => Some("max_header_bytes"),
            Limit::HeaderCount => Some("max_headers"),
            Limit::BodySize => Some("max_body_bytes"),
            Limit::HeaderTimeout => Some("header_timeout_seconds"),
            Limit::BadChunk => Some("chunked_encoding"),
        }
    }
}

/// One parsed request, borrowing the connection's buffer.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    /// The request target as sent.
    pub target: &'a str,
    pub raw_path: &'a str,
    pub query: &'a str,
    /// The path percent-decoded with dot segments removed; None if it climbs above
    /// the root or is not a path.
    pub decoded_path: Option<Cow<'a, str>>,
    pub http10: bool,
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    pub host: Option<&'a str>,
    pub user_agent: &'a [u8],
    pub content_type: &'a [u8],
    pub authorization: &'a [u8],
    pub forwarded_for: &'a [u8],
    pub connection_close: bool,
    pub connection_keepalive: bool,
    pub body: &'a [u8],
    pub index: u32,
}

impl<'a> Request<'a> {
    pub fn new(
        req: &httparse::Request<'_, 'a>,
        _head_len: usize,
        body: &'a [u8],
        index: u32,
    ) -> Request<'a> {
        let method = req.method.unwrap_or("");
        let target = req.path.unwrap_or("");
        let http10 = req.version == Some(0);
        let mut r = Request {
            method,
            target,
            raw_path: target,
            query: "",
            decoded_path: None,
            http10,
            headers: Vec::with_capacity(req.headers.len()),
            host: None,
            user_agent: b"",
            content_type: b"",
            authorization: b"",
            forwarded_for: b"",
            connection_close: false,
            connection_keepalive: false,
            body,
            index,
        };
        for h in req.headers.iter() {
            let name: &'a str = h.name;
            let value: &'a [u8] = h.value;
            r.headers.push((name.as_bytes(), value));
            if name.eq_ignore_ascii_case("host") {
                r.host = std::str::from_utf8(value).ok().map(str::trim);
            } else if name.eq_ignore_ascii_case("user-agent") {
                r.user_agent = value;
            } else if name.eq_ignore_ascii_case("content-type") {
                r.content_type = value;
            } else if name.eq_ignore_ascii_case("authorization") {
                r.authorization = value;
            } else if name.eq_ignore_ascii_case("x-forwarded-for") {
                r.forwarded_for = value;
            } else if name.eq_ignore_ascii_case("connection") {
                for token in value.split(|b| *b == b',') {
                    let token = token.trim_ascii();
                    if token.eq_ignore_ascii_case(b"close") {
                        r.connection_close = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
                        r.connection_keepalive = true;
                    }
                }
            }
        }
        // Absolute form (proxy requests): keep only the path.
        let mut path_part = target;
        if let Some(rest) = target
            .strip_prefix("http://")
            .or_else(|| target.strip_prefix("https://"))
        {
            path_part = rest.find('/').map_or("/", |i| &rest[i..]);
        }
        let (path, query) = path_part.split_once('?').unwrap_or((path_part, ""));
        r.raw_path = path;
        r.query = query;
        r.decoded_path = normalize_path(path);
        r
    }
}

/// Percent-decodes a path and removes `.` and `..` segments; None if `..` climbs
/// above the root, a NUL or a non-UTF-8 byte appears, or it is not absolute.
fn normalize_path(path: &str) -> Option<Cow<'_, str>> {
    if !path.starts_with('/') {
        return None;
    }
    let needs_work = path.contains('%') || path.contains("/.") || path.contains("//");
    if !needs_work {
        return Some(Cow::Borrowed(path));
    }
    let mut decoded = Vec::with_capacity(path.len());
    if !super::decode::percent_decode(path.as_bytes(), &mut decoded) {
        decoded.clear();
        decoded.extend_from_slice(path.as_bytes());
    }
    if decoded.contains(&0) {
        return None;
    }
    let text = String::from_utf8(decoded).ok()?;
    let mut segments: Vec<&str> = Vec::new();
    let ends_with_slash = text.ends_with('/');
    for seg in text.split('/').skip(1) {
        match seg {
            "." => {}
            ".." => {
                segments.pop()?;
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(text.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || (ends_with_slash && !out.ends_with('/')) {
        out.push('/');
    }
    Some(Cow::Owned(out))
}

/// Whether a query string carries a password-like parameter (`password=`,
/// `passwd=`, `pwd=`, `pass=`, `secret=`...), which encryption at rest must seal.
fn query_names_a_secret(query: &str) -> bool {
    query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or("").to_ascii_lowercase();
        ["pass", "pwd", "secret"].iter().any(|s| name.contains(s))
    })
}

fn lossy(bytes: &[u8], max: usize) -> String {
    let cut = &bytes[..bytes.len().min(max)];
    String::from_utf8_lossy(cut).into_owned()
}

/// The client's address: the peer, or the last address of `X-Forwarded-For` when
/// the peer is a trusted proxy.
fn client_ip(shared: &Shared, info: &ConnInfo, forwarded: &[u8]) -> IpAddr {
    let peer = info.peer.ip();
    if forwarded.is_empty() || !shared.config.trusted_proxies.contains(&peer) {
        return peer;
    }
    std::str::from_utf8(forwarded)
        .ok()
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer)
}

fn base_event(
    shared: &Shared,
    info: &ConnInfo,
    kind: Kind,
    severity: Severity,
    summary: String,
    src: IpAddr,
) -> Event {
    let mut event = Event::new(shared.sensor.clone(), kind, severity, summary)
        .from_addr(src, Some(info.peer.port()))
        .to_addr(info.local.ip(), Some(info.local.port()))
        .with(field::SESSION, info.id.clone())
        .with(field::PROTOCOL, if info.tls { "https" } else { "http" });
    if let Some(sni) = &info.sni {
        event = event.with("tls_sni", sni.clone());
    }
    event
}

const PATH_MAX: usize = 4096;
const HEADER_VALUE_MAX: usize = 8192;

/// Records one answered request: `http.request`, and `http.login` /
/// `credential.reuse` when they apply.
pub(crate) async fn request(
    shared: &Shared,
    info: &ConnInfo,
    req: &Request<'_>,
    outcome: &Outcome,
    scratch: &mut Scratch,
) {
    let verdict = shared.classifier.classify(
        &Parts {
            method: req.method.as_bytes(),
            path: req.raw_path.as_bytes(),
            query: req.query.as_bytes(),
            body: req.body,
            headers: &req.headers,
            user_agent: req.user_agent,
        },
        scratch,
    );
    let src = client_ip(shared, info, req.forwarded_for);
    let classes: Vec<Value> = verdict.class_names().map(Value::from).collect();
    let severity = if verdict.has("log4shell")
        || verdict.has("cmdi")
        || verdict.has("shellshock")
        || verdict.has("php")
    {
        Severity::High
    } else if verdict.classes & !(1 << 10) != 0 {
        Severity::Medium
    } else if verdict.classes != 0 {
        Severity::Low
    } else {
        Severity::Info
    };
    // With `[honeypot] encrypt_to`, credentials outside a form are sealed too: the
    // Authorization headers (Basic auth is base64, not a secret) and a query string
    // that names a password.
    let encrypts = shared.capture.encrypts();
    let secret_query = encrypts && query_names_a_secret(req.query);
    let mut summary = String::with_capacity(96);
    if secret_query {
        let _ = write!(
            summary,
            "{} {}?(encrypted)",
            bound(req.method, 16),
            bound(req.raw_path, 160)
        );
    } else {
        let _ = write!(
            summary,
            "{} {}",
            bound(req.method, 16),
            bound(req.target, 160)
        );
    }
    let _ = write!(summary, " -> {}", outcome.status);
    if !classes.is_empty() {
        summary.push_str(" [");
        for (i, c) in verdict.class_names().enumerate() {
            if i > 0 {
                summary.push(',');
            }
            summary.push_str(c);
        }
        summary.push(']');
    }
    let mut sealed_headers: Vec<(&'static str, String)> = Vec::new();
    let headers: Vec<Value> = req
        .headers
        .iter()
        .map(|(n, v)| {
            let mut value = lossy(v, HEADER_VALUE_MAX);
            if encrypts {
                for (header, key) in [
                    (&b"authorization"[..], "authorization"),
                    (&b"proxy-authorization"[..], "proxy_authorization"),
                ] {
                    if n.eq_ignore_ascii_case(header) {
                        sealed_headers
                            .push((key, std::mem::replace(&mut value, "(encrypted)".into())));
                    }
                }
            }
            Value::Array(vec![Value::from(lossy(n, 256)), Value::from(value)])
        })
        .collect();
    let mut event = base_event(shared, info, Kind::HttpRequest, severity, summary, src)
        .with("method", bound(req.method, 64))
        .with(field::PATH, bound(req.raw_path, PATH_MAX))
        .with(
            "query",
            if secret_query {
                "(encrypted)"
            } else {
                bound(req.query, PATH_MAX)
            },
        )
        .with("version", if req.http10 { "HTTP/1.0" } else { "HTTP/1.1" })
        .with("headers", Value::Array(headers))
        .with(field::USER_AGENT, lossy(req.user_agent, HEADER_VALUE_MAX))
        .with("status", outcome.status)
        .with("classes", Value::Array(classes))
        .with(
            "rules",
            Value::Array(
                verdict
                    .rules
                    .iter()
                    .map(|r| Value::from(shared.classifier.rule_id(*r)))
                    .collect(),
            ),
        )
        .with("request_index", req.index)
        .with("body_bytes", req.body.len());
    if let Some(host) = req.host {
        event = event.with("host", bound(host, 255));
    }
    if secret_query {
        event = shared
            .capture
            .secret(event, "query", bound(req.query, PATH_MAX));
    }
    for (key, value) in &sealed_headers {
        event = shared.capture.secret(event, key, value);
    }
    if !req.body.is_empty() {
        // A posted body holds what login forms send: encrypted with the passwords
        // when `[honeypot] encrypt_to` is set.
        event = event.with("body_sha256", sha256_hex(req.body));
        event = shared.capture.secret(
            event,
            "body_preview",
            &lossy(req.body, shared.config.body_preview_bytes),
        );
    }
    if let Some(p) = outcome.persona {
        event = event.with("persona", p);
    }
    if let Some(key) = outcome.limit.key() {
        event = event.with(field::LIMIT, key);
    }
    if outcome.delay > 0.0 {
        // The wait given to an injected SLEEP(), in milliseconds.
        event = event.with("delay_ms", (outcome.delay * 1000.0) as u64);
    }
    if src != info.peer.ip() {
        event = event.with("proxy", info.peer.ip().to_string());
    }
    shared.bus.send(event).await;

    // Credentials: a login form, or Basic auth on any request.
    let mut password_seen: Option<String> = None;
    if let Some(page) = &outcome.login
        && let Some((user, password)) = login_fields(page, req)
    {
        let format = page.login.as_ref().map_or("form", |l| l.format.as_str());
        login_event(
            shared,
            info,
            req,
            src,
            &user,
            &password,
            format,
            page.persona,
        )
        .await;
        password_seen = Some(password);
    } else if req.method == "POST"
        && let Some((user, password)) = generic_login(req)
    {
        login_event(shared, info, req, src, &user, &password, "form", "").await;
        password_seen = Some(password);
    }
    if let Some((user, password)) = basic_auth(req.authorization) {
        login_event(shared, info, req, src, &user, &password, "basic", "").await;
        password_seen.get_or_insert(password);
    }
    // Honeytokens coming back: as a password, or anywhere in the request.
    let tokens: &Honeytokens = &shared.tokens;
    let found = password_seen
        .as_deref()
        .and_then(|p| tokens.exact(p).map(|t| (t, "password")))
        .or_else(|| tokens.find_in(req.body).map(|t| (t, "body")))
        .or_else(|| {
            req.headers
                .iter()
                .find_map(|(_, v)| tokens.find_in(v))
                .map(|t| (t, "header"))
        })
        .or_else(|| tokens.find_in(req.target.as_bytes()).map(|t| (t, "url")));
    if let Some((token, field)) = found {
        let event = Honeytokens::reuse_event(
            token,
            &shared.sensor,
            "http",
            field,
            Some((src, info.peer.port())),
        )
        .to_addr(info.local.ip(), Some(info.local.port()))
        .with(field::SESSION, info.id.clone());
        shared.bus.send(event).await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn login_event(
    shared: &Shared,
    info: &ConnInfo,
    req: &Request<'_>,
    src: IpAddr,
    user: &str,
    password: &str,
    format: &str,
    persona: &str,
) {
    let summary = format!(
        "{}/{} posted to {}",
        bound(user, 64),
        shared.capture.shown_secret(password),
        bound(req.raw_path, 128)
    );
    let mut event = base_event(
        shared,
        info,
        Kind::HttpLogin,
        Severity::Medium,
        summary,
        src,
    )
    .with(field::USERNAME, bound(user, 1024))
    .with(field::PATH, bound(req.raw_path, PATH_MAX))
    .with("format", format)
    .with(field::USER_AGENT, lossy(req.user_agent, HEADER_VALUE_MAX));
    if !persona.is_empty() {
        event = event.with("persona", persona);
    }
    event = shared
        .capture
        .secret(event, field::PASSWORD, bound(password, 1024));
    shared.bus.send(event).await;
}

/// The user name and password a login form received.
pub(crate) fn login_fields(page: &Page, req: &Request<'_>) -> Option<(String, String)> {
    let spec = page.login.as_ref()?;
    if spec.format == "xmlrpc" {
        return xmlrpc_credentials(req.body);
    }
    let mut user = None;
    let mut password = None;
    for (k, v) in form_pairs(req.body) {
        if user.is_none() && spec.username.iter().any(|n| n.as_bytes() == k.as_bytes()) {
            user = Some(v);
        } else if password.is_none() && spec.password.iter().any(|n| n.as_bytes() == k.as_bytes()) {
            password = Some(v);
        }
    }
    if user.is_none() && password.is_none() {
        return generic_login(req);
    }
    Some((user.unwrap_or_default(), password.unwrap_or_default()))
}

/// A login posted anywhere: urlencoded fields whose names say user and password.
fn generic_login(req: &Request<'_>) -> Option<(String, String)> {
    if req.body.is_empty() || req.body.len() > 64 * 1024 {
        return None;
    }
    let json = req
        .content_type
        .windows(4)
        .any(|w| w.eq_ignore_ascii_case(b"json"));
    if json {
        let v: Value = serde_json::from_slice(req.body).ok()?;
        let obj = v.as_object()?;
        let pick = |names: &[&str]| {
            obj.iter()
                .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
                .and_then(|(_, v)| v.as_str().map(str::to_owned))
        };
        let password = pick(&["password", "pass", "passwd", "pwd"])?;
        let user = pick(&["username", "user", "login", "email", "name"]).unwrap_or_default();
        return Some((user, password));
    }
    let mut user = None;
    let mut password = None;
    for (k, v) in form_pairs(req.body) {
        let k = k.to_ascii_lowercase();
        if password.is_none() && (k.contains("pass") || k == "pwd" || k.ends_with("_pw")) {
            password = Some(v);
        } else if user.is_none()
            && (k.contains("user")
                || k == "log"
                || k == "login"
                || k.contains("email")
                || k == "uname"
                || k == "name")
        {
            user = Some(v);
        }
    }
    Some((user.unwrap_or_default(), password?))
}

/// `application/x-www-form-urlencoded` pairs, decoded (at most 64 of them).
fn form_pairs(body: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    body.split(|b| *b == b'&').take(64).filter_map(|pair| {
        let mut it = pair.splitn(2, |b| *b == b'=');
        let k = form_decode(it.next()?);
        let v = form_decode(it.next().unwrap_or(b""));
        Some((k, v))
    })
}

fn form_decode(raw: &[u8]) -> String {
    let plus: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let mut out = Vec::with_capacity(plus.len());
    if super::decode::percent_decode(&plus, &mut out) {
        String::from_utf8_lossy(&out).into_owned()
    } else {
        String::from_utf8_lossy(&plus).into_owned()
    }
}

/// The user name and password of a WordPress XML-RPC call that takes them
/// (`wp.getUsersBlogs`, `system.multicall` of them, ...): its first two string
/// values. XML-RPC makes a `<value>` without a type element a string, and
/// brute-forcers send both `<value>admin</value>` and
/// `<value><string>admin</string></value>`; a multicall's method names are not
/// parameters.
fn xmlrpc_credentials(body: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(&body[..body.len().min(64 * 1024)]).ok()?;
    let mut values = Vec::with_capacity(2);
    let mut rest = text;
    while values.len() < 2 {
        let open = rest.find("<value>")?;
        let before = &rest[..open];
        let inner = &rest[open + "<value>".len()..];
        let (value, consumed) = xmlrpc_string_value(inner)?;
        rest = &inner[consumed..];
        let is_method_name = before.trim_end().ends_with("<name>methodName</name>");
        if let Some(value) = value
            && !is_method_name
        {
            values.push(value);
        }
    }
    let password = values.pop()?;
    let user = values.pop()?;
    Some((user, password))
}

/// The string in the `<value>` element starting at `inner` (just after its
/// opening tag), and how many bytes of `inner` to skip to read past it. `None`
/// as the value for a value of another type (`<int>`, `<struct>`, ... whose
/// own `<value>`s are read next); `None` overall when the element never ends.
fn xmlrpc_string_value(inner: &str) -> Option<(Option<String>, usize)> {
    let trimmed = inner.trim_start();
    let skipped = inner.len() - trimmed.len();
    if let Some(typed) = trimmed.strip_prefix("<string>") {
        let end = typed.find("</string>")?;
        let consumed = skipped + "<string>".len() + end + "</string>".len();
        return Some((Some(xml_unescape(&typed[..end])), consumed));
    }
    if trimmed.starts_with("<string/>") {
        return Some((Some(String::new()), skipped + "<string/>".len()));
    }
    if trimmed.starts_with('<') && !trimmed.starts_with("</value>") {
        // Another type: its nested values (an array's, a struct's) come next.
        return Some((None, 0));
    }
    // Untyped: the text up to `</value>` is the string, blanks included.
    let end = inner.find("</value>")?;
    Some((Some(xml_unescape(&inner[..end])), end + "</value>".len()))
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// `Authorization: Basic ...` credentials.
fn basic_auth(value: &[u8]) -> Option<(String, String)> {
    use base64::Engine as _;
    let rest = value
        .strip_prefix(b"Basic ")
        .or_else(|| value.strip_prefix(b"basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim_ascii())
        .ok()?;
    let text = String::from_utf8_lossy(&decoded);
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A request answered with an error before it could be parsed (malformed,
/// oversized): an `http.request` event with what arrived.
pub(crate) async fn rejected(
    shared: &Shared,
    info: &ConnInfo,
    status: u16,
    limit: Limit,
    raw: &[u8],
) {
    let line_end = raw.iter().position(|b| *b == b'\n').unwrap_or(raw.len());
    let first = lossy(&raw[..line_end.min(256)], 256);
    let summary = format!("{} -> {status} (malformed)", first.trim_end());
    let mut event = base_event(
        shared,
        info,
        Kind::HttpRequest,
        Severity::Low,
        summary,
        info.peer.ip(),
    )
    .with("status", status)
    .with("malformed", true)
    .with("raw_preview", lossy(raw, shared.config.body_preview_bytes))
    .with("raw_bytes", raw.len())
    .with("classes", Value::Array(Vec::new()))
    .with("rules", Value::Array(Vec::new()));
    if let Some(key) = limit.key() {
        event = event.with(field::LIMIT, key);
    }
    shared.bus.send(event).await;
}

/// A limit hit with no request to attach it to (a slow head).
pub(crate) async fn limit_event(shared: &Shared, info: &ConnInfo, limit: Limit, raw: &[u8]) {
    let Some(key) = limit.key() else { return };
    let event = base_event(
        shared,
        info,
        Kind::SensorStatus,
        Severity::Low,
        format!(
            "HTTP client {} hit {key} after {} bytes",
            info.peer.ip(),
            raw.len()
        ),
        info.peer.ip(),
    )
    .with(field::LIMIT, key)
    .with("raw_bytes", raw.len())
    .with("raw_preview", lossy(raw, 256));
    shared.bus.send(event).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_refuse_climbing() {
        assert_eq!(normalize_path("/a/b").as_deref(), Some("/a/b"));
        assert_eq!(normalize_path("/a/./b/../c").as_deref(), Some("/a/c"));
        assert_eq!(
            normalize_path("/%77p-login.php").as_deref(),
            Some("/wp-login.php")
        );
        assert_eq!(normalize_path("/wp-admin/").as_deref(), Some("/wp-admin/"));
        assert_eq!(normalize_path("/../etc/passwd"), None);
        assert_eq!(normalize_path("/icons/.%2e/%2e%2e/etc/passwd"), None);
        assert_eq!(normalize_path("/a%00b"), None);
        assert_eq!(normalize_path("*"), None);
        assert_eq!(normalize_path("/.").as_deref(), Some("/"));
    }

    #[test]
    fn xmlrpc_untyped_values_are_strings() {
        let untyped = b"<?xml version=\"1.0\"?><methodCall><methodName>wp.getUsersBlogs</methodName><params><param><value>admin</value></param><param><value>p&amp;ss</value></param></params></methodCall>";
        assert_eq!(
            xmlrpc_credentials(untyped),
            Some(("admin".into(), "p&ss".into()))
        );
        // Mixed, with blanks between the elements, and an empty password.
        let mixed = b"<params>\n <param>\n  <value>\n   <string>root</string>\n  </value>\n </param>\n <param><value></value></param></params>";
        assert_eq!(xmlrpc_credentials(mixed), Some(("root".into(), "".into())));
        // A multicall: the method name is not the user name.
        let multicall = b"<methodCall><methodName>system.multicall</methodName><params><param><value><array><data><value><struct><member><name>methodName</name><value><string>wp.getUsersBlogs</string></value></member><member><name>params</name><value><array><data><value>admin</value><value><string>123456</string></value></data></array></value></member></struct></value></data></array></value></param></params></methodCall>";
        assert_eq!(
            xmlrpc_credentials(multicall),
            Some(("admin".into(), "123456".into()))
        );
    }

    #[test]
    fn credentials_from_forms_xmlrpc_json_and_basic() {
        let xml = b"<?xml version=\"1.0\"?><methodCall><methodName>wp.getUsersBlogs</methodName><params><param><value><string>admin</string></value></param><param><value><string>p&amp;ss</string></value></param></params></methodCall>";
        assert_eq!(
            xmlrpc_credentials(xml),
            Some(("admin".into(), "p&ss".into()))
        );
        assert_eq!(xmlrpc_credentials(b"<string>x"), None);
        assert_eq!(xmlrpc_credentials(b"<value>x"), None);
        assert_eq!(
            basic_auth(b"Basic YWRtaW46c2VjcmV0"),
            Some(("admin".into(), "secret".into()))
        );
        assert_eq!(basic_auth(b"Basic !!!"), None);
        let pairs: Vec<_> = form_pairs(b"log=a%40b&pwd=x+y%21&x").collect();
        assert_eq!(pairs[0], ("log".into(), "a@b".into()));
        assert_eq!(pairs[1], ("pwd".into(), "x y!".into()));
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

//! One HTTP connection: read a request head within the limits, read its body,
//! answer as the claimed server would, and record the request — in a loop while
//! keep-alive lasts.
//!
//! Parsing is `httparse` (the parser under hyper); the connection loop is ours
//! because the honeypot must answer malformed and oversized requests exactly as
//! Apache or nginx do, see the raw bytes of every request (header order and case),
//! and bound every read in time and size — what a general HTTP server hides.

use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};

use super::Shared;
use super::config::ServerProfile;
use super::profile::{self, ErrorDetail, Head, Origin, Persistence};
use super::record::{self, Limit, Request};
use super::site::{self, Page};

/// What the transport knows about the connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// The TLS server name the client asked for, on the HTTPS port.
    pub sni: Option<String>,
    pub tls: bool,
    /// Short id shared by the events of this connection.
    pub id: String,
}

/// The `Date` header, formatted at most once a second per connection.
struct DateCache {
    second: u64,
    text: String,
}

impl DateCache {
    fn now(&mut self) -> &str {
        let now = SystemTime::now();
        let second = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if second != self.second || self.text.is_empty() {
            self.second = second;
            self.text = httpdate::fmt_http_date(now);
        }
        &self.text
    }
}

/// How reading a request head ended.
enum HeadRead {
    /// A complete head of this many bytes is at the start of the buffer.
    Complete(usize),
    /// Answer with an error page and close.
    Reject(u16, ErrorDetail<'static>, Limit),
    /// The client went away, stayed idle, or we are shutting down.
    Gone,
    /// The head did not arrive in time (slowloris).
    TimedOut,
}

pub(crate) async fn serve<S>(shared: Arc<Shared>, mut stream: S, info: ConnInfo)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let cfg = &shared.config;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    let mut chunked_body: Vec<u8> = Vec::new();
    let mut scratch = super::classify::Scratch::default();
    let mut date = DateCache {
        second: 0,
        text: String::new(),
    };
    let mut stop = shared.stop.clone();
    let mut served: u32 = 0;
    loop {
        let head = read_head(&shared, &mut stream, &mut buf, served, &mut stop).await;
        let head_len = match head {
            HeadRead::Complete(n) => n,
            HeadRead::Gone => return,
            HeadRead::TimedOut => {
                // Apache answers a slow client with 408 and closes.
                respond_error(
                    &shared,
                    &info,
                    &mut out,
                    &mut date,
                    408,
                    ErrorDetail::Plain,
                    None,
                );
                let _ = stream.write_all(&out).await;
                record::limit_event(&shared, &info, Limit::HeaderTimeout, &buf).await;
                return;
            }
            HeadRead::Reject(status, detail, limit) => {
                respond_error(&shared, &info, &mut out, &mut date, status, detail, None);
                let _ = stream.write_all(&out).await;
                record::rejected(&shared, &info, status, limit, &buf).await;
                return;
            }
        };
        if !shared.rate_allows(info.peer.ip()) {
            return;
        }
        // Body: Content-Length or chunked, bounded.
        let framing = {
            let mut storage =
                [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut []);
            let _ =
                req.parse_with_uninit_headers(&buf[..head_len], &mut storage[..cfg.max_headers]);
            body_framing(req.headers)
        };
        let (body_range, consumed, over) = match framing {
            Framing::None => (head_len..head_len, head_len, false),
            Framing::Length(n) if n > cfg.max_body_bytes as u64 => {
                (head_len..head_len, head_len, true)
            }
            Framing::Length(n) => {
                let end = head_len + n as usize;
                if !fill(&shared, &mut stream, &mut buf, end, &mut stop).await {
                    return;
                }
                (head_len..end, end, false)
            }
            Framing::Chunked => {
                match read_chunked(
                    &shared,
                    &mut stream,
                    &mut buf,
                    head_len,
                    &mut chunked_body,
                    &mut stop,
                )
                .await
                {
                    Chunked::Done(end) => (0..0, end, false),
                    Chunked::TooLarge => (head_len..head_len, head_len, true),
                    Chunked::Bad => {
                        respond_error(
                            &shared,
                            &info,
                            &mut out,
                            &mut date,
                            400,
                            ErrorDetail::Plain,
                            None,
                        );
                        let _ = stream.write_all(&out).await;
                        record::rejected(&shared, &info, 400, Limit::BadChunk, &buf).await;
                        return;
                    }
                    Chunked::Gone => return,
                }
            }
            Framing::Invalid => {
                respond_error(
                    &shared,
                    &info,
                    &mut out,
                    &mut date,
                    400,
                    ErrorDetail::Plain,
                    None,
                );
                let _ = stream.write_all(&out).await;
                record::rejected(&shared, &info, 400, Limit::None, &buf).await;
                return;
            }
        };
        served += 1;
        let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut []);
        if !matches!(
            req.parse_with_uninit_headers(&buf[..head_len], &mut storage[..cfg.max_headers]),
            Ok(httparse::Status::Complete(_))
        ) {
            return;
        }
        let body: &[u8] = if matches!(framing, Framing::Chunked) && !over {
            &chunked_body
        } else {
            &buf[body_range]
        };
        let request = Request::new(&req, head_len, body, served);
        let mut outcome = answer(&shared, &info, &request, over, served, &mut out, &mut date);
        if outcome.delay > 0.0 {
            outcome.delay = sleep_for(&shared, outcome.delay, &mut stop).await;
        }
        let close = outcome.close;
        if stream.write_all(&out).await.is_err() {
            record::request(&shared, &info, &request, &outcome, &mut scratch).await;
            return;
        }
        record::request(&shared, &info, &request, &outcome, &mut scratch).await;
        drop(request);
        if close {
            let _ = stream.flush().await;
            return;
        }
        buf.drain(..consumed);
        chunked_body.clear();
    }
}

/// What was answered, for the event.
pub(crate) struct Outcome {
    pub status: u16,
    pub close: bool,
    pub persona: Option<&'static str>,
    /// The login form the request posted to, if it was one.
    pub login: Option<Arc<Page>>,
    pub limit: Limit,
    /// Seconds the answer waits for an injected `SLEEP()`: asked by the
    /// application, then the wait actually made (capped, 0 over the cap).
    pub delay: f64,
}

/// Waits as a database would on an injected `SLEEP(seconds)`: at most
/// `max_sleep_seconds`, and only while fewer than `max_sleeping_connections`
/// wait (else not at all); returns the seconds waited.
async fn sleep_for(
    shared: &Shared,
    seconds: f64,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> f64 {
    let cap = shared.config.max_sleep_seconds as f64;
    let seconds = seconds.min(cap);
    if seconds.is_nan() || seconds <= 0.0 {
        return 0.0;
    }
    let Ok(_permit) = shared.sleepers.clone().try_acquire_owned() else {
        return 0.0;
    };
    let wait = Duration::from_secs_f64(seconds);
    tokio::select! {
        _ = tokio::time::sleep(wait) => seconds,
        _ = stop.changed() => 0.0,
    }
}

/// Reads until a whole request head is buffered, within the limits and the time.
async fn read_head<S: AsyncRead + Unpin>(
    shared: &Shared,
    stream: &mut S,
    buf: &mut Vec<u8>,
    served: u32,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> HeadRead {
    let cfg = &shared.config;
    let header_time = Duration::from_secs(cfg.header_timeout_seconds);
    // The first request must arrive within the header timeout; later ones may
    // wait for the keep-alive timeout, then have the header timeout from their
    // first byte.
    let mut deadline = if served == 0 || !buf.is_empty() {
        Instant::now() + header_time
    } else {
        Instant::now() + Duration::from_secs(cfg.keepalive_timeout_seconds)
    };
    let mut started = served == 0 || !buf.is_empty();
    loop {
        if !buf.is_empty() {
            // Leading blank lines are allowed before a request (RFC 9112 2.2).
            let skip = buf
                .iter()
                .take_while(|b| **b == b'\r' || **b == b'\n')
                .count();
            if skip > 0 {
                buf.drain(..skip);
            }
        }
        if !buf.is_empty()
            && let Some(done) = check_head(shared, buf)
        {
            return done;
        }
        if buf.capacity() - buf.len() < 2048 {
            buf.reserve(4096);
        }
        let read = tokio::select! {
            r = timeout_at(deadline, stream.read_buf(buf)) => r,
            _ = stop.changed() => return HeadRead::Gone,
        };
        match read {
            Ok(Ok(0)) | Ok(Err(_)) => return HeadRead::Gone,
            Ok(Ok(_)) => {
                if !started {
                    started = true;
                    deadline = Instant::now() + header_time;
                }
            }
            Err(_) => {
                return if started && !buf.is_empty() {
                    HeadRead::TimedOut
                } else if served == 0 {
                    // A connection that never sent a byte: Apache answers 408 too.
                    HeadRead::TimedOut
                } else {
                    HeadRead::Gone
                };
            }
        }
    }
}

/// Most header lines any configuration allows (`max_headers` is at most this).
pub(crate) const MAX_HEADERS: usize = 256;

/// Parses what is buffered: the verdict if the head is complete or must be
/// refused, None if more bytes are needed.
fn check_head(shared: &Shared, buf: &[u8]) -> Option<HeadRead> {
    let cfg = &shared.config;
    let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let line_end = buf.iter().position(|b| *b == b'\n');
    match req.parse_with_uninit_headers(buf, &mut storage[..cfg.max_headers]) {
        Ok(httparse::Status::Complete(n)) => {
            if line_end.unwrap_or(n) > cfg.max_request_line_bytes {
                return Some(HeadRead::Reject(
                    414,
                    ErrorDetail::Plain,
                    Limit::RequestLine,
                ));
            }
            if req
                .headers
                .iter()
                .any(|h| h.name.len() + 2 + h.value.len() > cfg.max_header_bytes)
            {
                return Some(HeadRead::Reject(
                    400,
                    ErrorDetail::HeaderTooLarge,
                    Limit::HeaderSize,
                ));
            }
            Some(HeadRead::Complete(n))
        }
        Ok(httparse::Status::Partial) => {
            if line_end.unwrap_or(buf.len()) > cfg.max_request_line_bytes {
                return Some(HeadRead::Reject(
                    414,
                    ErrorDetail::Plain,
                    Limit::RequestLine,
                ));
            }
            if buf.len() > cfg.max_head_bytes || longest_line(buf) > cfg.max_header_bytes {
                return Some(HeadRead::Reject(
                    400,
                    ErrorDetail::HeaderTooLarge,
                    Limit::HeaderSize,
                ));
            }
            None
        }
        Err(httparse::Error::TooManyHeaders) => Some(HeadRead::Reject(
            400,
            ErrorDetail::TooManyHeaders,
            Limit::HeaderCount,
        )),
        Err(_) => {
            if line_end.unwrap_or(buf.len()) > cfg.max_request_line_bytes {
                return Some(HeadRead::Reject(
                    414,
                    ErrorDetail::Plain,
                    Limit::RequestLine,
                ));
            }
            Some(HeadRead::Reject(400, ErrorDetail::Plain, Limit::None))
        }
    }
}

fn longest_line(buf: &[u8]) -> usize {
    buf.split(|b| *b == b'\n')
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0)
}

/// Reads until `buf` holds `end` bytes (a Content-Length body), within the header
/// timeout; false if the client went away or was too slow.
async fn fill<S: AsyncRead + Unpin>(
    shared: &Shared,
    stream: &mut S,
    buf: &mut Vec<u8>,
    end: usize,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(shared.config.header_timeout_seconds);
    if buf.len() < end {
        buf.reserve(end - buf.len());
    }
    while buf.len() < end {
        let read = tokio::select! {
            r = timeout_at(deadline, stream.read_buf(buf)) => r,
            _ = stop.changed() => return false,
        };
        match read {
            Ok(Ok(n)) if n > 0 => {}
            _ => return false,
        }
    }
    true
}

enum Chunked {
    /// Decoded; the raw body ends at this offset of the buffer.
    Done(usize),
    TooLarge,
    Bad,
    Gone,
}

/// Decodes a chunked body that starts at `start` of `buf` into `body`.
async fn read_chunked<S: AsyncRead + Unpin>(
    shared: &Shared,
    stream: &mut S,
    buf: &mut Vec<u8>,
    start: usize,
    body: &mut Vec<u8>,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Chunked {
    let max = shared.config.max_body_bytes;
    let deadline = Instant::now() + Duration::from_secs(shared.config.header_timeout_seconds);
    let mut pos = start;
    body.clear();
    loop {
        // Parse as far as the buffer goes.
        let progress = loop {
            match httparse::parse_chunk_size(&buf[pos..]) {
                Ok(httparse::Status::Complete((used, size))) => {
                    if size == 0 {
                        // Trailers: skip lines up to the blank one.
                        let rest = &buf[pos + used..];
                        if let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
                            if i == 0 {
                                return Chunked::Done(pos + used + 2);
                            }
                            if let Some(j) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
                                return Chunked::Done(pos + used + j + 4);
                            }
                        }
                        break false;
                    }
                    if body.len() as u64 + size > max as u64 {
                        return Chunked::TooLarge;
                    }
                    let data_start = pos + used;
                    let data_end = data_start + size as usize;
                    if buf.len() < data_end + 2 {
                        break false;
                    }
                    if &buf[data_end..data_end + 2] != b"\r\n" {
                        return Chunked::Bad;
                    }
                    body.extend_from_slice(&buf[data_start..data_end]);
                    pos = data_end + 2;
                }
                Ok(httparse::Status::Partial) => break false,
                Err(_) => return Chunked::Bad,
            }
        };
        let _ = progress;
        if buf.len() - start > max + 64 * 1024 {
            return Chunked::TooLarge;
        }
        buf.reserve(4096);
        let read = tokio::select! {
            r = timeout_at(deadline, stream.read_buf(buf)) => r,
            _ = stop.changed() => return Chunked::Gone,
        };
        match read {
            Ok(Ok(n)) if n > 0 => {}
            _ => return Chunked::Gone,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    Invalid,
}

fn body_framing(headers: &[httparse::Header<'_>]) -> Framing {
    let mut framing = Framing::None;
    for h in headers {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if h.value.eq_ignore_ascii_case(b"chunked") {
                framing = Framing::Chunked;
            } else {
                return Framing::Invalid;
            }
        } else if h.name.eq_ignore_ascii_case("content-length") && framing != Framing::Chunked {
            let Some(n) = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
            else {
                return Framing::Invalid;
            };
            if matches!(framing, Framing::Length(m) if m != n) {
                return Framing::Invalid;
            }
            framing = Framing::Length(n);
        }
    }
    framing
}

/// Methods Apache knows (405 when a resource does not allow them); any other gets 501.
const APACHE_METHODS: &[&str] = &[
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "VERSION-CONTROL",
    "REPORT",
    "CHECKOUT",
    "CHECKIN",
    "UNCHECKOUT",
    "MKWORKSPACE",
    "UPDATE",
    "LABEL",
    "MERGE",
    "BASELINE-CONTROL",
    "MKACTIVITY",
    "ORDERPATCH",
    "ACL",
    "SEARCH",
];

/// Decides the answer, writes it into `out`.
fn answer(
    shared: &Shared,
    info: &ConnInfo,
    req: &Request<'_>,
    body_over_limit: bool,
    served: u32,
    out: &mut Vec<u8>,
    date: &mut DateCache,
) -> Outcome {
    let cfg = &shared.config;
    let profile = cfg.profile;
    let head_only = req.method == "HEAD";
    let wants_keepalive = if req.http10 {
        req.connection_keepalive
    } else {
        !req.connection_close
    };
    let last = served >= cfg.max_keepalive_requests;
    let mut persist = Persistence {
        close: !wants_keepalive || last,
        // Apache answers `Connection: close` to a client that asked to close
        // (nmap's http-headers does), as to one that asked to keep alive.
        client_asked: req.connection_keepalive || req.connection_close,
        http10: req.http10,
        timeout_seconds: cfg.keepalive_timeout_seconds,
        remaining: cfg.max_keepalive_requests.saturating_sub(served) + 1,
    };
    let mut outcome = Outcome {
        status: 200,
        close: persist.close,
        persona: None,
        login: None,
        limit: Limit::None,
        delay: 0.0,
    };
    let error = |status: u16,
                 detail: ErrorDetail<'_>,
                 persist: &mut Persistence,
                 outcome: &mut Outcome,
                 out: &mut Vec<u8>,
                 date: &mut DateCache,
                 allow: Option<&str>,
                 extra: &[(String, String)]| {
        if matches!(status, 400 | 408 | 413 | 414 | 501) {
            persist.close = true;
        }
        outcome.status = status;
        outcome.close = persist.close;
        write_error(
            shared, info, req.host, out, date, status, detail, persist, head_only, allow, extra,
        );
    };
    if body_over_limit {
        outcome.limit = Limit::BodySize;
        persist.close = true;
        error(
            413,
            ErrorDetail::Plain,
            &mut persist,
            &mut outcome,
            out,
            date,
            None,
            &[],
        );
        return outcome;
    }
    if !req.http10 && req.host.is_none() || req.host.is_some_and(|h| !valid_host(h)) {
        error(
            400,
            ErrorDetail::Plain,
            &mut persist,
            &mut outcome,
            out,
            date,
            None,
            &[],
        );
        return outcome;
    }
    let Some(path) = req.decoded_path.as_deref() else {
        // The path climbs above the root (or does not decode): Apache says 400.
        error(
            400,
            ErrorDetail::Plain,
            &mut persist,
            &mut outcome,
            out,
            date,
            None,
            &[],
        );
        return outcome;
    };
    let method = req.method;
    let known = APACHE_METHODS.contains(&method);
    if profile == ServerProfile::Apache {
        if method == "TRACE" {
            error(
                405,
                ErrorDetail::Method(method),
                &mut persist,
                &mut outcome,
                out,
                date,
                Some(""),
                &[],
            );
            return outcome;
        }
        if !known {
            error(
                501,
                ErrorDetail::Method(method),
                &mut persist,
                &mut outcome,
                out,
                date,
                Some(profile::APACHE_ALLOW),
                &[],
            );
            return outcome;
        }
    }
    if let Some(app) = &shared.webapp
        && matches!(method, "GET" | "HEAD" | "POST")
        && super::webapp::WebApp::handles(path)
    {
        let app_req = super::webapp::AppRequest {
            method,
            path,
            query: req.query,
            body: req.body,
            form: req.content_type.is_empty()
                || req
                    .content_type
                    .windows(21)
                    .any(|w| w.eq_ignore_ascii_case(b"x-www-form-urlencoded")),
            client_ip: info.peer.ip().to_string(),
            server_ip: info.local.ip().to_string(),
        };
        if let Some(page) = app.answer(&app_req) {
            outcome.persona = Some("webapp");
            outcome.status = page.status;
            outcome.delay = page.delay;
            let head = Head {
                status: page.status,
                origin: Origin::Script,
                allow: None,
                extra: &page.headers,
                content_type: "text/html; charset=UTF-8",
                content_length: Some(page.body.len()),
            };
            out.clear();
            profile::write_head(profile, cfg.server_name(), date.now(), &head, &persist, out);
            if !head_only {
                out.extend_from_slice(&page.body);
            }
            return outcome;
        }
    }
    let page = shared.site.get(path).cloned();
    if method == "OPTIONS" && profile == ServerProfile::Apache {
        let allow = if req.target == "*" {
            None
        } else {
            Some(profile::APACHE_ALLOW)
        };
        outcome.status = 200;
        let head = Head {
            status: 200,
            origin: Origin::Error,
            allow,
            extra: &[],
            content_type: if allow.is_some() { "text/html" } else { "" },
            content_length: Some(0),
        };
        out.clear();
        profile::write_head(profile, cfg.server_name(), date.now(), &head, &persist, out);
        return outcome;
    }
    let simple = matches!(method, "GET" | "HEAD" | "POST");
    let Some(page) = page else {
        if profile == ServerProfile::Apache && basename(path).starts_with(".ht") {
            error(
                403,
                ErrorDetail::Plain,
                &mut persist,
                &mut outcome,
                out,
                date,
                None,
                &[],
            );
            return outcome;
        }
        if simple && shared.site.is_directory(path) {
            let (host, port) = host_and_port(req.host, info);
            let scheme = if info.tls { "https" } else { "http" };
            let location = if (info.tls && port == 443) || (!info.tls && port == 80) {
                format!("{scheme}://{host}{path}/")
            } else {
                format!("{scheme}://{host}:{port}{path}/")
            };
            let extra = [("Location".to_owned(), location.clone())];
            error(
                301,
                ErrorDetail::Location(&location),
                &mut persist,
                &mut outcome,
                out,
                date,
                None,
                &extra,
            );
            return outcome;
        }
        if !simple {
            error(
                405,
                ErrorDetail::Method(method),
                &mut persist,
                &mut outcome,
                out,
                date,
                Some(profile::APACHE_ALLOW),
                &[],
            );
            return outcome;
        }
        error(
            404,
            ErrorDetail::Plain,
            &mut persist,
            &mut outcome,
            out,
            date,
            None,
            &[],
        );
        return outcome;
    };
    outcome.persona = Some(page.persona);
    let post_allowed = !page.file || profile == ServerProfile::Apache;
    if !simple || (method == "POST" && !post_allowed) {
        error(
            405,
            ErrorDetail::Method(method),
            &mut persist,
            &mut outcome,
            out,
            date,
            Some(profile::APACHE_ALLOW),
            &[],
        );
        return outcome;
    }
    let mut failed_body: Option<Vec<u8>> = None;
    if method == "POST" && page.login.is_some() {
        outcome.login = Some(page.clone());
        if let Some(template) = &page.failed {
            let user = record::login_fields(&page, req)
                .map(|(u, _)| u)
                .unwrap_or_default();
            failed_body = Some(site::fill_username(template, &user));
        }
    }
    let body: &[u8] = failed_body.as_deref().unwrap_or(&page.body);
    let origin = if page.file {
        Origin::File {
            last_modified: &shared.site.last_modified,
            etag: &page.etag,
        }
    } else {
        Origin::Script
    };
    let head = Head {
        status: page.status,
        origin,
        allow: None,
        extra: &page.headers,
        content_type: &page.content_type,
        content_length: Some(body.len()),
    };
    outcome.status = page.status;
    out.clear();
    profile::write_head(profile, cfg.server_name(), date.now(), &head, &persist, out);
    if !head_only {
        out.extend_from_slice(body);
    }
    outcome
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether a Host header is a plausible name or address (Apache refuses others
/// with 400 under its default `HttpProtocolOptions Strict`).
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
}

/// The name and port the signature of an error page shows.
fn host_and_port<'a>(host: Option<&'a str>, info: &ConnInfo) -> (std::borrow::Cow<'a, str>, u16) {
    let local_port = info.local.port();
    match host.filter(|h| valid_host(h)) {
        Some(h) => {
            let (name, port) = if let Some(rest) = h.strip_prefix('[') {
                match rest.split_once(']') {
                    Some((addr, tail)) => (
                        &h[..addr.len() + 2],
                        tail.strip_prefix(':').and_then(|p| p.parse().ok()),
                    ),
                    None => (h, None),
                }
            } else {
                match h.rsplit_once(':') {
                    Some((n, p)) => (n, p.parse().ok()),
                    None => (h, None),
                }
            };
            (std::borrow::Cow::Borrowed(name), port.unwrap_or(local_port))
        }
        None => (
            std::borrow::Cow::Owned(info.local.ip().to_string()),
            local_port,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn write_error(
    shared: &Shared,
    info: &ConnInfo,
    host: Option<&str>,
    out: &mut Vec<u8>,
    date: &mut DateCache,
    status: u16,
    detail: ErrorDetail<'_>,
    persist: &Persistence,
    head_only: bool,
    allow: Option<&str>,
    extra: &[(String, String)],
) {
    let cfg = &shared.config;
    let (name, port) = host_and_port(host, info);
    let mut page = Vec::with_capacity(512);
    profile::error_page(
        cfg.profile,
        cfg.server_name(),
        status,
        detail,
        &name,
        port,
        &mut page,
    );
    // Apache leaves out Content-Length on HEAD error pages and on 413 (it closes).
    let length = match cfg.profile {
        ServerProfile::Apache if head_only || status == 413 => None,
        _ => Some(page.len()),
    };
    let head = Head {
        status,
        origin: Origin::Error,
        allow,
        extra,
        content_type: profile::error_content_type(cfg.profile),
        content_length: length,
    };
    out.clear();
    profile::write_head(
        cfg.profile,
        cfg.server_name(),
        date.now(),
        &head,
        persist,
        out,
    );
    if !head_only {
        out.extend_from_slice(&page);
    }
}

/// An error answer outside of a parsed request (malformed, too large, too slow).
fn respond_error(
    shared: &Shared,
    info: &ConnInfo,
    out: &mut Vec<u8>,
    date: &mut DateCache,
    status: u16,
    detail: ErrorDetail<'_>,
    host: Option<&str>,
) {
    let persist = Persistence {
        close: true,
        client_asked: false,
        http10: false,
        timeout_seconds: 0,
        remaining: 0,
    };
    write_error(
        shared,
        info,
        host,
        out,
        date,
        status,
        detail,
        &persist,
        false,
        None,
        &[],
    );
}

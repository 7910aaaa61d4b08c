//! What the claimed server puts on the wire: header order and spelling, when it
//! says `Keep-Alive`, and its error pages, byte for byte.
//!
//! Apache 2.4.71 and nginx 1.22.1 as Debian 12 ships them were captured on
//! loopback (`tests/data/apache-2.4.71/`, `tests/data/nginx-1.22.1/`, see the
//! README there) and the fingerprint tests compare our bytes with those captures.
//! Responses are written by hand into one buffer because no HTTP library lets us
//! choose header order and case the way these servers do (hyper lower-cases names
//! and puts `date` where it likes), and a different order is a fingerprint.

use std::io::Write as _;

use super::config::ServerProfile;

/// Apache's `Server` header in Debian 12 (`ServerTokens OS`).
pub const APACHE_SERVER: &str = "Apache/2.4.71 (Debian)";
/// nginx's `Server` header in Debian 12.
pub const NGINX_SERVER: &str = "nginx/1.22.1";
/// The methods Apache's default handler lists in `Allow`.
pub const APACHE_ALLOW: &str = "GET,POST,OPTIONS,HEAD";

/// What produced a response body: the order of headers depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    /// A file served as is (Last-Modified, ETag, Accept-Ranges).
    File {
        /// `Last-Modified`, an HTTP date.
        last_modified: &'a str,
        /// `ETag`, with its quotes.
        etag: &'a str,
    },
    /// A script (PHP) that set its own headers.
    Script,
    /// The server's own error page.
    Error,
}

/// The head of one response.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    /// Status code.
    pub status: u16,
    /// Who made the body.
    pub origin: Origin<'a>,
    /// `Allow`, for 405/501/OPTIONS.
    pub allow: Option<&'a str>,
    /// Headers the application set, in order (Set-Cookie, Location, ...).
    pub extra: &'a [(String, String)],
    /// `Content-Type`; empty: none.
    pub content_type: &'a str,
    /// `Content-Length`; None: not sent.
    pub content_length: Option<usize>,
}

/// How the connection goes on after this response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persistence {
    /// The connection is closed after this response.
    pub close: bool,
    /// The client asked for keep-alive with `Connection: keep-alive` (Apache then
    /// answers with `Keep-Alive` and `Connection: Keep-Alive`).
    pub client_asked: bool,
    /// Whether the request was HTTP/1.0 (nginx and Apache say `close` explicitly).
    pub http10: bool,
    /// Apache's KeepAliveTimeout, for the `Keep-Alive` header.
    pub timeout_seconds: u64,
    /// Requests left on this connection, for `max=`.
    pub remaining: u32,
}

/// The reason phrase each server uses.
pub fn reason(profile: ServerProfile, status: u16) -> &'static str {
    match (profile, status) {
        (_, 200) => "OK",
        (_, 301) => "Moved Permanently",
        (_, 302) => "Found",
        (_, 304) => "Not Modified",
        (_, 400) => "Bad Request",
        (_, 401) => "Unauthorized",
        (_, 403) => "Forbidden",
        (_, 404) => "Not Found",
        (ServerProfile::Apache, 405) => "Method Not Allowed",
        (ServerProfile::Nginx, 405) => "Not Allowed",
        (ServerProfile::Apache, 408) => "Request Timeout",
        (ServerProfile::Nginx, 408) => "Request Time-out",
        (_, 413) => "Request Entity Too Large",
        (ServerProfile::Apache, 414) => "Request-URI Too Long",
        (ServerProfile::Nginx, 414) => "Request-URI Too Large",
        (_, 500) => "Internal Server Error",
        (_, 501) => "Not Implemented",
        (_, 503) => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes the status line and headers (and the blank line) into `out`.
pub fn write_head(
    profile: ServerProfile,
    server: &str,
    date: &str,
    head: &Head<'_>,
    persist: &Persistence,
    out: &mut Vec<u8>,
) {
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        head.status,
        reason(profile, head.status)
    );
    match profile {
        ServerProfile::Apache => apache_head(server, date, head, persist, out),
        ServerProfile::Nginx => nginx_head(server, date, head, persist, out),
    }
    out.extend_from_slice(b"\r\n");
}

fn header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn length(out: &mut Vec<u8>, n: usize) {
    let _ = write!(out, "Content-Length: {n}\r\n");
}

fn apache_head(
    server: &str,
    date: &str,
    head: &Head<'_>,
    persist: &Persistence,
    out: &mut Vec<u8>,
) {
    header(out, "Date", date);
    header(out, "Server", server);
    match head.origin {
        Origin::File {
            last_modified,
            etag,
        } => {
            header(out, "Last-Modified", last_modified);
            header(out, "ETag", etag);
            header(out, "Accept-Ranges", "bytes");
            if let Some(n) = head.content_length {
                length(out, n);
            }
            header(out, "Vary", "Accept-Encoding");
        }
        Origin::Script => {
            for (k, v) in head.extra {
                header(out, k, v);
            }
            if head.content_length.is_some_and(|n| n > 0) {
                header(out, "Vary", "Accept-Encoding");
            }
            if let Some(n) = head.content_length {
                length(out, n);
            }
        }
        Origin::Error => {
            for (k, v) in head.extra {
                header(out, k, v);
            }
            if let Some(allow) = head.allow {
                header(out, "Allow", allow);
            }
            if let Some(n) = head.content_length {
                length(out, n);
            }
        }
    }
    if persist.close {
        if persist.client_asked || persist.http10 || head.status >= 400 {
            header(out, "Connection", "close");
        }
    } else if persist.client_asked {
        let _ = write!(
            out,
            "Keep-Alive: timeout={}, max={}\r\nConnection: Keep-Alive\r\n",
            persist.timeout_seconds, persist.remaining
        );
    }
    if !head.content_type.is_empty() {
        header(out, "Content-Type", head.content_type);
    }
}

fn nginx_head(server: &str, date: &str, head: &Head<'_>, persist: &Persistence, out: &mut Vec<u8>) {
    header(out, "Server", server);
    header(out, "Date", date);
    if !head.content_type.is_empty() {
        header(out, "Content-Type", head.content_type);
    }
    if let Some(n) = head.content_length {
        length(out, n);
    }
    if let Origin::File { last_modified, .. } = head.origin {
        header(out, "Last-Modified", last_modified);
    }
    header(
        out,
        "Connection",
        if persist.close { "close" } else { "keep-alive" },
    );
    match head.origin {
        Origin::File { etag, .. } => {
            header(out, "ETag", etag);
            header(out, "Accept-Ranges", "bytes");
        }
        // nginx's static handler sends no Allow with its 405.
        Origin::Script | Origin::Error => {
            for (k, v) in head.extra {
                header(out, k, v);
            }
        }
    }
}

/// Why the server answered with an error: selects the page's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorDetail<'a> {
    /// The plain page of the status.
    Plain,
    /// A header line longer than the limit.
    HeaderTooLarge,
    /// More header lines than the limit.
    TooManyHeaders,
    /// The method, for 405 and 501.
    Method(&'a str),
    /// A redirect target, for 301 and 302.
    Location(&'a str),
}

/// Writes the server's error page for `status` into `out`. `host` and `port` are
/// what Apache's signature shows (the Host header's name, HTML-escaped here).
pub fn error_page(
    profile: ServerProfile,
    server: &str,
    status: u16,
    detail: ErrorDetail<'_>,
    host: &str,
    port: u16,
    out: &mut Vec<u8>,
) {
    let title = reason(profile, status);
    match profile {
        ServerProfile::Apache => {
            let _ = write!(
                out,
                "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>{status} {title}</title>\n</head><body>\n<h1>{title}</h1>\n"
            );
            match (status, detail) {
                (301 | 302, ErrorDetail::Location(to)) => {
                    out.extend_from_slice(b"<p>The document has moved <a href=\"");
                    escape_html(to, out);
                    out.extend_from_slice(b"\">here</a>.</p>");
                }
                (400, d) => {
                    out.extend_from_slice(
                        b"<p>Your browser sent a request that this server could not understand.<br />\n",
                    );
                    match d {
                        ErrorDetail::HeaderTooLarge => out.extend_from_slice(
                            b"Size of a request header field exceeds server limit.",
                        ),
                        ErrorDetail::TooManyHeaders => out.extend_from_slice(
                            b"The number of request header fields exceeds this server's limit.",
                        ),
                        _ => {}
                    }
                    out.extend_from_slice(b"</p>");
                }
                (401, _) => out.extend_from_slice(b"<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>"),
                (403, _) => out.extend_from_slice(
                    b"<p>You don't have permission to access this resource.</p>",
                ),
                (405, d) => {
                    out.extend_from_slice(b"<p>The requested method ");
                    if let ErrorDetail::Method(m) = d {
                        escape_html(m, out);
                    }
                    out.extend_from_slice(b" is not allowed for this URL.</p>");
                }
                (408, _) => out.extend_from_slice(
                    b"<p>Server timeout waiting for the HTTP request from the client.</p>",
                ),
                (413, _) => out.extend_from_slice(b"The requested resource does not allow request data with POST requests, or the amount of data provided in\nthe request exceeds the capacity limit."),
                (414, _) => out.extend_from_slice(b"<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>"),
                (501, d) => {
                    out.extend_from_slice(b"<p>");
                    if let ErrorDetail::Method(m) = d {
                        escape_html(m, out);
                    }
                    out.extend_from_slice(b" not supported for current URL.<br />\n</p>");
                }
                _ => out.extend_from_slice(b"<p>The requested URL was not found on this server.</p>"),
            }
            out.extend_from_slice(b"\n<hr>\n<address>");
            out.extend_from_slice(server.as_bytes());
            out.extend_from_slice(b" Server at ");
            escape_html(host, out);
            let _ = write!(out, " Port {port}</address>\n</body></html>\n");
        }
        ServerProfile::Nginx => {
            let too_large = detail == ErrorDetail::HeaderTooLarge;
            let _ = write!(out, "<html>\r\n<head><title>{status} ");
            if too_large {
                out.extend_from_slice(b"Request Header Or Cookie Too Large");
            } else {
                out.extend_from_slice(title.as_bytes());
            }
            let _ = write!(
                out,
                "</title></head>\r\n<body>\r\n<center><h1>{status} {title}</h1></center>\r\n"
            );
            if too_large {
                out.extend_from_slice(b"<center>Request Header Or Cookie Too Large</center>\r\n");
            }
            let _ = write!(
                out,
                "<hr><center>{server}</center>\r\n</body>\r\n</html>\r\n"
            );
        }
    }
}

/// Appends `text` with `<>&"'` escaped (what an attacker puts in Host must not
/// become markup in our page).
pub fn escape_html(text: &str, out: &mut Vec<u8>) {
    for b in text.bytes() {
        match b {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            _ => out.push(b),
        }
    }
}

/// The content type of each server's error pages.
pub fn error_content_type(profile: ServerProfile) -> &'static str {
    match profile {
        ServerProfile::Apache => "text/html; charset=iso-8859-1",
        ServerProfile::Nginx => "text/html",
    }
}

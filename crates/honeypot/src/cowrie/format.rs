//! Nectar's honeypot events in Cowrie's JSON (`cowrie.json`), without I/O: the
//! `eventid`s and field names of Cowrie 3.1 (`cowrie.core.eventids`), so ELK,
//! Splunk and T-Pot pipelines built for Cowrie read Nectar unchanged.
//!
//! Every line carries Cowrie's common fields: `eventid`, `timestamp` (ISO 8601,
//! microseconds, `Z`), `session` (12 hex digits), `protocol` (`ssh`/`telnet`),
//! `src_ip`, `src_port`, `dst_ip`, `dst_port`, `sensor`, `uuid` and `message`.
//! Events Cowrie has no id for (limits, network alarms) are not written.

use std::collections::HashSet;

use nectar_event::{Category, Event, Kind, Protocol, field};
use serde_json::{Map, Value, json};

/// Sessions remembered for `cowrie.client.version` (sent once per session);
/// cleared when full so a flood of connections costs bounded memory.
const MAX_SESSIONS: usize = 65_536;

/// What the fake machine's binaries are (Cowrie's `arch`, in
/// `cowrie.session.params`): every ELF in the fake filesystem is x86-64.
const ARCH: &str = "linux-x64-lsb";

/// The mapping's state: which sessions already had their client version line,
/// and which recordings' input hashes were seen (Cowrie's `duplicate`).
#[derive(Debug)]
pub struct CowrieFormat {
    uuid: String,
    versioned: HashSet<String>,
    /// Input hashes of recordings written so far; cleared when full, so a flood
    /// costs bounded memory (a replayed script may then be `duplicate: false`).
    recorded: HashSet<String>,
}

impl CowrieFormat {
    /// A formatter whose lines name the sensor `uuid`.
    pub fn new(uuid: String) -> CowrieFormat {
        CowrieFormat {
            uuid,
            versioned: HashSet::new(),
            recorded: HashSet::new(),
        }
    }

    /// Appends the Cowrie lines for `event` (none, one or two) to `out`.
    pub fn write(&mut self, event: &Event, out: &mut Vec<u8>) {
        let data = &event.data;
        let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or("");
        let (Some(session), Some(protocol)) = (
            data.get(field::SESSION).and_then(Value::as_str),
            data.get(field::PROTOCOL).and_then(Value::as_str),
        ) else {
            return;
        };
        // HTTP honeypot sessions (and anything else) have no Cowrie form.
        if protocol != Protocol::Ssh.as_str() && protocol != Protocol::Telnet.as_str() {
            return;
        }
        let session = session.to_owned();
        let mut lines: Vec<(&str, Map<String, Value>, String)> = Vec::new();
        match event.kind {
            Kind::SessionConnect => {
                let message = format!(
                    "New connection: {}:{} ({}:{}) [session: {session}]",
                    ip(&event.src_ip),
                    event.src_port.unwrap_or(0),
                    ip(&event.dst_ip),
                    event.dst_port.unwrap_or(0),
                );
                lines.push(("cowrie.session.connect", Map::new(), message));
            }
            Kind::SshClientKex => {
                let mut fields = Map::new();
                for key in [
                    "hassh",
                    "hasshAlgorithms",
                    "kexAlgs",
                    "keyAlgs",
                    "encCS",
                    "macCS",
                    "compCS",
                    "langCS",
                ] {
                    fields.insert(key.into(), data.get(key).cloned().unwrap_or(Value::Null));
                }
                let message = format!("SSH client hassh fingerprint: {}", text(field::HASSH));
                self.version_line(event, &session, &mut lines);
                lines.push(("cowrie.client.kex", fields, message));
            }
            kind if matches!(
                kind.category(),
                Category::LoginSuccess | Category::LoginFailure
            ) =>
            {
                self.version_line(event, &session, &mut lines);
                let success = kind.category() == Category::LoginSuccess;
                if text(field::METHOD) == "publickey" {
                    let mut fields = Map::new();
                    fields.insert("username".into(), text(field::USERNAME).into());
                    fields.insert("fingerprint".into(), text("fingerprint").into());
                    fields.insert("key".into(), "".into());
                    fields.insert("type".into(), text("key_type").into());
                    let message = format!(
                        "public key attempt for user {} of type {} with fingerprint {}",
                        text(field::USERNAME),
                        text("key_type"),
                        text("fingerprint")
                    );
                    lines.push(("cowrie.client.fingerprint", fields, message));
                } else {
                    let mut fields = Map::new();
                    fields.insert("username".into(), text(field::USERNAME).into());
                    // Encrypted at rest (`encrypt_to`): the ciphertext, which
                    // `nectar decrypt` turns back into Cowrie's `password`.
                    let shown =
                        sealed_or_clear(data, field::PASSWORD, field::PASSWORD_SEALED, &mut fields);
                    let message = format!(
                        "login attempt [{}/{shown}] {}",
                        text(field::USERNAME),
                        if success { "succeeded" } else { "failed" }
                    );
                    let id = if success {
                        "cowrie.login.success"
                    } else {
                        "cowrie.login.failed"
                    };
                    lines.push((id, fields, message));
                    if success {
                        let mut fields = Map::new();
                        fields.insert("arch".into(), ARCH.into());
                        lines.push((
                            "cowrie.session.params",
                            fields,
                            format!("Session parameters: arch {ARCH}"),
                        ));
                    }
                }
            }
            // The sample fetcher's follow-up of a download: Cowrie's own
            // words for a URL it fetched, or could not.
            Kind::SampleFetch => {
                let mut fields = Map::new();
                fields.insert("url".into(), text(field::URL).into());
                if data.get("fetched") == Some(&Value::Bool(true)) {
                    fields.insert("outfile".into(), text(field::FILE).into());
                    fields.insert("shasum".into(), text(field::SHA256).into());
                    fields.insert(
                        "duplicate".into(),
                        data.get(field::DUPLICATE)
                            .cloned()
                            .unwrap_or(Value::Bool(false)),
                    );
                    let message = format!(
                        "Downloaded URL ({}) with SHA-256 {} to {}",
                        text(field::URL),
                        text(field::SHA256),
                        text(field::FILE)
                    );
                    lines.push(("cowrie.session.file_download", fields, message));
                } else {
                    let message = format!(
                        "Attempt to download file(s) from URL ({}) failed",
                        text(field::URL)
                    );
                    lines.push(("cowrie.session.file_download.failed", fields, message));
                }
            }
            kind if kind.category() == Category::Command => {
                let mut fields = Map::new();
                // Encrypted at rest (`encrypt_to`): the ciphertext, which `nectar
                // decrypt` turns back into Cowrie's `input`.
                let shown = sealed_or_clear(data, field::INPUT, field::INPUT_SEALED, &mut fields);
                let message = format!("CMD: {shown}");
                lines.push(("cowrie.command.input", fields.clone(), message));
                // Cowrie's answer to a line whose command it does not have.
                if data
                    .get(field::UNKNOWN)
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
                    || data.contains_key(field::UNKNOWN_SEALED)
                {
                    let message = format!("Command not found: {shown}");
                    lines.push(("cowrie.command.failed", fields, message));
                }
            }
            kind if kind.category() == Category::Download => {
                // Nothing is fetched, so there is no SHA-256 of the content: the
                // field is left out rather than made up.
                let mut fields = Map::new();
                let shown = sealed_or_clear(data, field::URL, field::URL_SEALED, &mut fields);
                fields.insert("outfile".into(), text(field::OUTFILE).into());
                fields.insert("destfile".into(), text(field::OUTFILE).into());
                if let Some(sha) = data.get(field::SHA256).or_else(|| data.get("shasum")) {
                    fields.insert("shasum".into(), sha.clone());
                }
                let message = format!(
                    "Download of URL ({shown}) to {} recorded, not fetched",
                    text(field::OUTFILE)
                );
                lines.push(("cowrie.session.file_download", fields, message));
            }
            // Stored uploads only (Cowrie has no id for a refused one). Files
            // written through the shell are Cowrie's "Saved redir contents".
            kind if kind.category() == Category::Upload
                && data.get(field::STORED) == Some(&Value::Bool(true)) =>
            {
                let mut fields = Map::new();
                fields.insert("outfile".into(), text(field::FILE).into());
                fields.insert("shasum".into(), text(field::SHA256).into());
                if text(field::VIA) == "shell" {
                    fields.insert("url".into(), text(field::PATH).into());
                    fields.insert("destfile".into(), text(field::PATH).into());
                    fields.insert(
                        "duplicate".into(),
                        data.get(field::DUPLICATE)
                            .cloned()
                            .unwrap_or(Value::Bool(false)),
                    );
                    let message = format!(
                        "Saved redir contents with SHA-256 {} to {}",
                        text(field::SHA256),
                        text(field::PATH)
                    );
                    lines.push(("cowrie.session.file_download", fields, message));
                } else {
                    fields.insert("filename".into(), text(field::FILENAME).into());
                    let message = format!(
                        "SFTP Uploaded file \"{}\" to {}",
                        text(field::FILENAME),
                        text(field::FILE)
                    );
                    lines.push(("cowrie.session.file_upload", fields, message));
                }
            }
            Kind::SshForward if text("request") == "direct-tcpip" => {
                let mut fields = Map::new();
                fields.insert("dst_ip".into(), text("target_host").into());
                fields.insert(
                    "dst_port".into(),
                    data.get("target_port").cloned().unwrap_or(Value::Null),
                );
                let message = format!(
                    "direct-tcp connection request to {}:{} from {}:{}",
                    text("target_host"),
                    data.get("target_port").and_then(Value::as_u64).unwrap_or(0),
                    text("originator_host"),
                    data.get("originator_port")
                        .and_then(Value::as_u64)
                        .unwrap_or(0)
                );
                lines.push(("cowrie.direct-tcpip.request", fields, message));
            }
            Kind::SessionClose => {
                self.versioned.remove(&session);
                let seconds = data
                    .get(field::DURATION)
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                if let (Some(width), Some(height)) = (
                    data.get("width").and_then(Value::as_u64),
                    data.get("height").and_then(Value::as_u64),
                ) {
                    let mut fields = Map::new();
                    fields.insert("width".into(), json!(width));
                    fields.insert("height".into(), json!(height));
                    lines.push((
                        "cowrie.client.size",
                        fields,
                        format!("Terminal Size: {width} {height}"),
                    ));
                }
                if let Some(ttylog) = data.get(field::RECORDING).and_then(Value::as_str) {
                    let shasum = text("recording_input_sha256");
                    if self.recorded.len() >= MAX_SESSIONS {
                        self.recorded.clear();
                    }
                    let duplicate = !shasum.is_empty() && !self.recorded.insert(shasum.to_owned());
                    let mut fields = Map::new();
                    fields.insert("ttylog".into(), ttylog.into());
                    fields.insert(
                        "size".into(),
                        data.get("recording_bytes").cloned().unwrap_or(json!(0)),
                    );
                    fields.insert("shasum".into(), shasum.into());
                    fields.insert("duplicate".into(), duplicate.into());
                    fields.insert(
                        "duration_ms".into(),
                        json!((seconds * 1000.0).round() as u64),
                    );
                    lines.push((
                        "cowrie.log.closed",
                        fields,
                        format!(
                            "Closing TTY Log: {ttylog} after {} seconds",
                            seconds.round()
                        ),
                    ));
                }
                let mut fields = Map::new();
                fields.insert("duration".into(), json!(seconds));
                fields.insert(
                    "duration_ms".into(),
                    json!((seconds * 1000.0).round() as u64),
                );
                let message = format!("Connection lost after {seconds:.1} seconds");
                lines.push(("cowrie.session.closed", fields, message));
            }
            _ => {}
        }
        for (id, fields, message) in lines {
            let mut object = Map::new();
            object.insert("eventid".into(), id.into());
            object.insert(
                "timestamp".into(),
                serde_json::to_value(event.time).unwrap_or(Value::Null),
            );
            object.insert("session".into(), session.clone().into());
            object.insert("protocol".into(), protocol.into());
            object.insert("src_ip".into(), ip(&event.src_ip).into());
            object.insert("src_port".into(), json!(event.src_port.unwrap_or(0)));
            object.insert("dst_ip".into(), ip(&event.dst_ip).into());
            object.insert("dst_port".into(), json!(event.dst_port.unwrap_or(0)));
            object.insert("sensor".into(), event.sensor.clone().into());
            object.insert("uuid".into(), self.uuid.clone().into());
            // Per-event fields win over the common ones (direct-tcpip's dst_*).
            object.extend(fields);
            object.insert("message".into(), message.into());
            if serde_json::to_writer(&mut *out, &Value::Object(object)).is_ok() {
                out.push(b'\n');
            }
        }
    }

    /// `cowrie.client.version` before the first event of an SSH session that
    /// knows the client's identification string.
    fn version_line(
        &mut self,
        event: &Event,
        session: &str,
        lines: &mut Vec<(&str, Map<String, Value>, String)>,
    ) {
        let Some(version) = event
            .data
            .get(field::CLIENT_VERSION)
            .and_then(Value::as_str)
        else {
            return;
        };
        if version.is_empty() || self.versioned.contains(session) {
            return;
        }
        if self.versioned.len() >= MAX_SESSIONS {
            self.versioned.clear();
        }
        self.versioned.insert(session.to_owned());
        let mut fields = Map::new();
        fields.insert("version".into(), version.into());
        lines.push((
            "cowrie.client.version",
            fields,
            format!("Remote SSH version: {version}"),
        ));
    }
}

/// Copies `key` of `data` to `fields`, or `sealed` (its `_enc` name) when the
/// event has it sealed (`encrypt_to`); returns what a message may show of it.
/// Cowrie's field names are Nectar's for these (`password`, `input`, `url`).
fn sealed_or_clear<'a>(
    data: &'a Map<String, Value>,
    key: &str,
    sealed: &str,
    fields: &mut Map<String, Value>,
) -> &'a str {
    if let Some(value) = data.get(sealed) {
        fields.insert(sealed.into(), value.clone());
        return "(encrypted)";
    }
    let clear = data.get(key).and_then(Value::as_str).unwrap_or("");
    fields.insert(key.into(), clear.into());
    clear
}

fn ip(addr: &Option<std::net::IpAddr>) -> String {
    addr.map(|a| a.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nectar_event::Severity;

    fn event(kind: Kind, data: Value) -> Event {
        let mut e = Event::new("pot-1", kind, Severity::Low, "x")
            .from_addr("203.0.113.7".parse().unwrap(), Some(51234))
            .to_addr("10.0.0.5".parse().unwrap(), Some(22));
        if let Value::Object(map) = data {
            for (k, v) in map {
                e = e.with(&k, v);
            }
        }
        e
    }

    fn lines(f: &mut CowrieFormat, e: &Event) -> Vec<Value> {
        let mut out = Vec::new();
        f.write(e, &mut out);
        out.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect()
    }

    #[test]
    fn login_lines_match_cowrie() {
        let mut f = CowrieFormat::new("u-1".into());
        let failed = event(
            Kind::SshLoginFailed,
            json!({"session": "fc3e06cb9819", "protocol": "ssh", "username": "admin",
                   "password": "admin", "method": "password", "client_version": "SSH-2.0-Go"}),
        );
        let out = lines(&mut f, &failed);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["eventid"], "cowrie.client.version");
        assert_eq!(out[0]["version"], "SSH-2.0-Go");
        let l = &out[1];
        assert_eq!(l["eventid"], "cowrie.login.failed");
        assert_eq!(l["message"], "login attempt [admin/admin] failed");
        assert_eq!(l["session"], "fc3e06cb9819");
        assert_eq!(l["src_ip"], "203.0.113.7");
        assert_eq!(l["src_port"], 51234);
        assert_eq!(l["dst_port"], 22);
        assert_eq!(l["sensor"], "pot-1");
        assert_eq!(l["uuid"], "u-1");
        assert!(l["timestamp"].as_str().unwrap().ends_with('Z'));
        // The version line comes once per session.
        assert_eq!(lines(&mut f, &failed).len(), 1);
        let close = event(
            Kind::SessionClose,
            json!({"session": "fc3e06cb9819", "protocol": "ssh", "duration": 1.5}),
        );
        let l = &lines(&mut f, &close)[0];
        assert_eq!(l["eventid"], "cowrie.session.closed");
        assert_eq!(l["duration"], 1.5);
        assert_eq!(l["duration_ms"], 1500);
        // A recorded session: its terminal, then its recording, then the close.
        let sha = "b".repeat(64);
        let recorded = event(
            Kind::SessionClose,
            json!({"session": "fc3e06cb9819", "protocol": "ssh", "duration": 2.0, "width": 132,
                   "height": 43, "recording": "recordings/2026/11/24/fc3e06cb9819.cast",
                   "recording_bytes": 4242, "recording_input_sha256": sha}),
        );
        let out = lines(&mut f, &recorded);
        let ids: Vec<&str> = out.iter().map(|l| l["eventid"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "cowrie.client.size",
                "cowrie.log.closed",
                "cowrie.session.closed"
            ]
        );
        assert_eq!(
            (&out[0]["width"], &out[0]["height"]),
            (&json!(132), &json!(43))
        );
        assert_eq!(out[1]["ttylog"], "recordings/2026/11/24/fc3e06cb9819.cast");
        assert_eq!(out[1]["size"], 4242);
        assert_eq!(out[1]["shasum"], sha.as_str());
        assert_eq!(out[1]["duplicate"], false);
        assert_eq!(out[1]["duration_ms"], 2000);
        // The same input again (a replayed bot script): a duplicate.
        assert_eq!(lines(&mut f, &recorded)[1]["duplicate"], true);
        let success = event(
            Kind::TelnetLoginSuccess,
            json!({"session": "fc3e06cb9819", "protocol": "telnet", "username": "root",
                   "password": "x"}),
        );
        let out = lines(&mut f, &success);
        assert_eq!(out[1]["eventid"], "cowrie.session.params");
        assert_eq!(out[1]["arch"], "linux-x64-lsb");
        let typed = event(
            Kind::TelnetCommand,
            json!({"session": "fc3e06cb9819", "protocol": "telnet", "input": "foo; id",
                   "unknown": ["foo"]}),
        );
        let out = lines(&mut f, &typed);
        assert_eq!(out[0]["eventid"], "cowrie.command.input");
        assert_eq!(out[1]["eventid"], "cowrie.command.failed");
        assert_eq!(out[1]["input"], "foo; id");
        assert_eq!(out[1]["message"], "Command not found: foo; id");
        // Sealed with `encrypt_to`: the ciphertext, never the line.
        let sealed = event(
            Kind::SshCommand,
            json!({"session": "fc3e06cb9819", "protocol": "ssh", "input_enc": "YWdl",
                   "unknown_enc": "YWdl", "url_enc": "x"}),
        );
        let out = lines(&mut f, &sealed);
        assert_eq!(out[0]["input_enc"], "YWdl");
        assert!(out[0].get("input").is_none());
        assert_eq!(out[0]["message"], "CMD: (encrypted)");
        assert_eq!(out[1]["eventid"], "cowrie.command.failed");
        let http = event(
            Kind::SessionConnect,
            json!({"session": "fc3e06cb9819", "protocol": "http"}),
        );
        assert!(lines(&mut f, &http).is_empty());
        // Not a honeypot session event: nothing.
        assert!(lines(&mut f, &event(Kind::NetAlarm, json!({}))).is_empty());
    }

    #[test]
    fn uploads_are_file_upload_and_shell_writes_saved_redir_contents() {
        let mut f = CowrieFormat::new("u-1".into());
        let sha = "a".repeat(64);
        let scp = event(
            Kind::SshUpload,
            json!({"session": "fc3e06cb9819", "protocol": "ssh", "via": "scp", "filename": "x.sh",
                   "path": "/tmp/x.sh", "sha256": sha, "stored": true, "file": "uploads/aa/aaa"}),
        );
        let l = &lines(&mut f, &scp)[0];
        assert_eq!(l["eventid"], "cowrie.session.file_upload");
        assert_eq!(
            (&l["filename"], &l["shasum"], &l["outfile"]),
            (&json!("x.sh"), &json!(sha), &json!("uploads/aa/aaa"))
        );
        let shell = event(
            Kind::TelnetUpload,
            json!({"session": "fc3e06cb9819", "protocol": "telnet", "via": "shell", "filename": "/tmp/.s",
                   "path": "/tmp/.s", "sha256": sha, "stored": true, "file": "uploads/aa/aaa", "duplicate": true}),
        );
        let l = &lines(&mut f, &shell)[0];
        assert_eq!(l["eventid"], "cowrie.session.file_download");
        assert_eq!(
            (&l["destfile"], &l["duplicate"]),
            (&json!("/tmp/.s"), &json!(true))
        );
        let refused = event(
            Kind::SshUpload,
            json!({"session": "fc3e06cb9819", "protocol": "ssh", "via": "sftp", "stored": false}),
        );
        assert!(lines(&mut f, &refused).is_empty());
    }

    #[test]
    fn fetched_samples_are_cowries_downloads() {
        let mut f = CowrieFormat::new("u-1".into());
        let sha = "b".repeat(64);
        let fetched = event(
            Kind::SampleFetch,
            json!({"session": "fc3e06cb9819", "protocol": "telnet", "url": "http://203.0.113.9/x",
                   "fetched": true, "sha256": sha, "file": "uploads/bb/bbb", "duplicate": false}),
        );
        let l = &lines(&mut f, &fetched)[0];
        assert_eq!(l["eventid"], "cowrie.session.file_download");
        assert_eq!(
            (&l["url"], &l["shasum"], &l["outfile"]),
            (
                &json!("http://203.0.113.9/x"),
                &json!(sha),
                &json!("uploads/bb/bbb")
            )
        );
        let failed = event(
            Kind::SampleFetch,
            json!({"session": "fc3e06cb9819", "protocol": "ssh", "url": "http://203.0.113.9/y",
                   "fetched": false, "reason": "timeout"}),
        );
        let l = &lines(&mut f, &failed)[0];
        assert_eq!(l["eventid"], "cowrie.session.file_download.failed");
    }
}

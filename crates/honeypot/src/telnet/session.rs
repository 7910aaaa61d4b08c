//! One Telnet connection: option negotiation, the `login:`/`Password:` dialogue,
//! then the fake shell, and every event the connection produces (made here, in
//! one place, with the same `data.session`).
//!
//! Input is handled as it comes, so a raw-TCP bot that sends its user name,
//! password and commands in one burst without waiting for prompts (or without
//! any Telnet negotiation) is served the same as a person at a telnet client.
//! Every wait is bounded: login grace, idle time (reads and writes, so a client
//! that stops reading cannot hold a task), session length and bytes received.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nectar_event::field;
use nectar_event::{Event, Kind, Severity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Shared;
use super::config::TelnetProfile;
use super::options::Options;
use super::parser::{Command, Parser, escape_into};
use super::probe::{self, Probe};
use crate::capture::{RecordingLog, SessionRecording, Terminal, upload_event};
use crate::listener::{MAX_VALUE_BYTES, session_id};
use crate::shell::line::{Key, LineEditor};
use crate::shell::{Action, Limits, Origin, Output, Shell};
use nectar_event::text::{bound, clip, escape_bytes};

/// Bytes read from the socket at once.
const READ_CHUNK: usize = 2048;
/// Longest user name or password kept; the rest of the line is dropped.
const MAX_LOGIN_FIELD: usize = 256;
/// Most bytes of a probe kept in its event (`data.line`).
const MAX_PROBE_BYTES: usize = 256;

/// Where the dialogue is.
enum Phase {
    User,
    Password(String),
    Shell(Box<Shell>),
}

/// Runs one connection to its end, then records its close.
pub(crate) async fn run(shared: Arc<Shared>, mut stream: TcpStream, peer: SocketAddr) {
    let started = Instant::now();
    let mut conn = Conn {
        local: stream.local_addr().ok(),
        id: session_id(),
        peer,
        phase: Phase::User,
        editor: LineEditor::new(MAX_LOGIN_FIELD.min(shared.config.max_line_bytes)).cooked(),
        options: Options::default(),
        failures: 0,
        user: None,
        received: 0,
        recording: None,
        recorded: None,
        probe: None,
        probe_lines: 0,
        shared,
    };
    let connect = conn.event(
        Kind::SessionConnect,
        Severity::Info,
        format!("Telnet connection from {}", peer.ip()),
    );
    conn.shared.bus.send(connect).await;
    let _ = stream.set_nodelay(true);
    let reason = conn.serve(&mut stream).await;
    conn.finish(reason, started.elapsed()).await;
}

struct Conn {
    shared: Arc<Shared>,
    id: String,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    phase: Phase,
    /// The line editor of the login dialogue (the shell has its own).
    editor: LineEditor,
    options: Options,
    failures: u32,
    user: Option<String>,
    received: u64,
    /// The shell's recording while it runs.
    recording: Option<SessionRecording>,
    /// Its file, size and input hash, for the close event.
    recorded: Option<std::sync::Arc<RecordingLog>>,
    /// What the client sent was a scanner's probe: its lines are not credentials.
    probe: Option<Probe>,
    /// Lines typed at the prompts after a probe was seen (not recorded).
    probe_lines: u32,
}

impl Conn {
    /// The conversation; returns why it ended.
    async fn serve(&mut self, stream: &mut TcpStream) -> &'static str {
        let shared = self.shared.clone();
        let config = &shared.config;
        let idle = Duration::from_secs(config.idle_timeout_seconds);
        let grace = tokio::time::sleep(Duration::from_secs(config.login_grace_seconds));
        let whole = tokio::time::sleep(Duration::from_secs(config.max_session_seconds));
        tokio::pin!(grace, whole);
        let mut stop = self.shared.stop.clone();

        let (options, mut out) = Options::opening(config.profile);
        self.options = options;
        out.extend_from_slice(self.issue().as_bytes());
        out.extend_from_slice(self.login_prompt().as_bytes());
        if let Err(reason) = write(stream, &out, idle).await {
            return reason;
        }

        let mut buf = [0u8; READ_CHUNK];
        let mut parser = Parser::new();
        let mut data = Vec::new();
        let mut commands: Vec<Command> = Vec::new();
        loop {
            let logged_in = matches!(self.phase, Phase::Shell(_));
            let read = tokio::select! {
                read = tokio::time::timeout(idle, stream.read(&mut buf)) => read,
                _ = &mut grace, if !logged_in => return "login_grace_seconds",
                _ = &mut whole => return "max_session_seconds",
                _ = stop.changed() => return "shutdown",
            };
            let n = match read {
                Err(_) => return "idle_timeout_seconds",
                Ok(Ok(0) | Err(_)) => return "closed",
                Ok(Ok(n)) => n,
            };
            self.received = self.received.saturating_add(n as u64);
            if self.received > config.max_session_bytes {
                return "max_session_bytes";
            }
            data.clear();
            commands.clear();
            out.clear();
            parser.feed(&buf[..n], &mut data, &mut commands);
            // The first bytes of a connection tell a TLS hello or binary probe
            // before line editing mangles them.
            if self.received == n as u64
                && let Some(found) = probe::first_bytes(&data)
            {
                self.probed(found, &data).await;
            }
            let window = self.options.window;
            for command in &commands {
                self.options.handle(command, &mut out);
            }
            if self.options.window != window
                && let Some((width, height)) = self.options.window
                && let Some(limit) = self
                    .recording
                    .as_mut()
                    .and_then(|r| r.resize(width.into(), height.into()))
            {
                self.recording_stopped(limit).await;
            }
            let end = self.input(&data, &mut out).await;
            if !out.is_empty()
                && let Err(reason) = write(stream, &out, idle).await
            {
                return reason;
            }
            // Give back what a burst grew (a 1 MB line, a big command output).
            if out.capacity() > 64 * 1024 {
                out = Vec::new();
            }
            if data.capacity() > 64 * 1024 {
                data = Vec::new();
            }
            if let Some(reason) = end {
                let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
                return reason;
            }
        }
    }

    /// What the impersonated telnetd prints before the first prompt.
    fn issue(&self) -> &'static str {
        match self.shared.config.profile {
            TelnetProfile::Busybox => "\r\n",
            TelnetProfile::Debian => "Debian GNU/Linux 12\r\n",
        }
    }

    fn login_prompt(&self) -> String {
        format!("{} login: ", self.shared.world.persona.hostname)
    }

    /// Takes the user data of one read; appends the answer to `out`. Returns a
    /// reason when the connection must end.
    async fn input(&mut self, data: &[u8], out: &mut Vec<u8>) -> Option<&'static str> {
        let mut rest = data;
        let mut echo = Vec::new();
        let mut keys = Vec::new();
        while !rest.is_empty() {
            if let Phase::Shell(shell) = &mut self.phase {
                let output = shell.feed(rest);
                if let Some(limit) = self.recording.as_mut().and_then(|r| r.input(rest)) {
                    self.recording_stopped(limit).await;
                }
                return self.deliver(output, out).await;
            }
            // Before the shell, one byte at a time: the answer to a line (and
            // whether to echo) depends on the lines before it in the same read.
            let (byte, tail) = (rest[0], &rest[1..]);
            rest = tail;
            echo.clear();
            keys.clear();
            self.editor.feed(&[byte], &mut echo, &mut keys);
            self.editor.truncated = false;
            if matches!(self.phase, Phase::User) {
                out.extend_from_slice(&echo);
            }
            for key in keys.drain(..) {
                match (key, &self.phase) {
                    (Key::Line(line), Phase::User) => {
                        if self.probe.is_none()
                            && let Some(found) = probe::line(&line)
                        {
                            self.probed(found, line.as_bytes()).await;
                        }
                        if self.probe.is_some() {
                            self.probe_lines = self.probe_lines.saturating_add(1);
                        }
                        if line.trim().is_empty() {
                            out.extend_from_slice(self.login_prompt().as_bytes());
                        } else {
                            self.phase = Phase::Password(line);
                            out.extend_from_slice(b"Password: ");
                        }
                    }
                    (Key::Line(password), Phase::Password(user)) => {
                        let user = user.clone();
                        if let Some(end) = self.attempt(user, password, out).await {
                            return Some(end);
                        }
                        // The LF (or NUL) of the password's CR LF is not a first,
                        // empty, shell command.
                        if byte == b'\r'
                            && matches!(self.phase, Phase::Shell(_))
                            && let Some((b'\n' | 0, tail)) = rest.split_first()
                        {
                            rest = tail;
                        }
                    }
                    // Ctrl-D on an empty line is end of input: `login` exits.
                    (Key::Eof, _) => return Some("closed"),
                    (Key::Interrupt, _) => {
                        self.phase = Phase::User;
                        out.extend_from_slice(b"\r\n");
                        out.extend_from_slice(self.login_prompt().as_bytes());
                    }
                    (Key::Line(_), Phase::Shell(_)) => {}
                }
            }
        }
        None
    }

    /// Records that the client is a scanner probing in another protocol, once
    /// per connection: from now on its lines are not login attempts.
    async fn probed(&mut self, found: Probe, bytes: &[u8]) {
        if self.probe.is_some() {
            return;
        }
        self.probe = Some(found);
        let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let first = first.strip_suffix(b"\r").unwrap_or(first);
        let line = escape_bytes(&first[..first.len().min(MAX_PROBE_BYTES)]);
        let event = self
            .event(
                Kind::TelnetProbe,
                Severity::Info,
                format!(
                    "{} probe at the Telnet login prompt: {}",
                    found.as_str(),
                    clip(&line, 120)
                ),
            )
            .with("probe", found.as_str())
            .with("line", line);
        self.shared.bus.send(event).await;
    }

    /// Records one login attempt and answers it (a probe's lines are refused
    /// without a record).
    async fn attempt(
        &mut self,
        user: String,
        password: String,
        out: &mut Vec<u8>,
    ) -> Option<&'static str> {
        if self.probe.is_some() {
            self.probe_lines = self.probe_lines.saturating_add(1);
            return self.refuse(out).await;
        }
        let accepted = self.shared.credentials.accepts(&user, &password);
        let (kind, severity, verdict) = if accepted {
            (Kind::TelnetLoginSuccess, Severity::Medium, "accepted")
        } else {
            (Kind::TelnetLoginFailed, Severity::Low, "refused")
        };
        let mut event = self
            .event(
                kind,
                severity,
                format!(
                    "{}/{} {verdict}",
                    clip(&user, 64),
                    self.shared.capture.shown_secret(&password)
                ),
            )
            .with(field::USERNAME, bound(&user, MAX_VALUE_BYTES))
            .with("method", "password");
        event =
            self.shared
                .capture
                .secret(event, field::PASSWORD, bound(&password, MAX_VALUE_BYTES));
        if let Some(term) = &self.options.term {
            event = event.with("term", term.clone());
        }
        if let Some((width, height)) = self.options.window {
            event = event.with("width", width).with("height", height);
        }
        self.shared.bus.send(event).await;
        if let Some(token) = self.shared.honeytokens.exact(&password) {
            let mut reuse = crate::honeytoken::Honeytokens::reuse_event(
                token,
                &self.shared.sensor,
                "telnet",
                "password",
                Some((self.peer.ip(), self.peer.port())),
            )
            .with(field::USERNAME, bound(&user, MAX_VALUE_BYTES))
            .with(field::SESSION, self.id.clone());
            if let Some(local) = self.local {
                reuse = reuse.to_addr(local.ip(), Some(local.port()));
            }
            self.shared.bus.send(reuse).await;
        }
        if accepted {
            out.extend_from_slice(b"\r\n");
            let mut shell = self.new_shell(&user);
            self.user = Some(user.chars().take(32).collect());
            let greeting = shell.greeting();
            self.phase = Phase::Shell(shell);
            self.start_recording();
            return self.deliver(greeting, out).await;
        }
        self.refuse(out).await
    }

    /// Answers a refused login; the reason to end when attempts ran out.
    async fn refuse(&mut self, out: &mut Vec<u8>) -> Option<&'static str> {
        self.failures += 1;
        self.phase = Phase::User;
        let delay = self.shared.config.failure_delay_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        out.extend_from_slice(b"\r\nLogin incorrect\r\n");
        if self.failures >= self.shared.config.max_auth_attempts {
            if self.probe.is_some() {
                return Some("max_auth_attempts");
            }
            let limit = self
                .event(
                    Kind::SensorStatus,
                    Severity::Low,
                    format!("Telnet client {} hit max_auth_attempts", self.peer.ip()),
                )
                .with(field::LIMIT, "max_auth_attempts");
            self.shared.bus.send(limit).await;
            return Some("max_auth_attempts");
        }
        out.extend_from_slice(self.login_prompt().as_bytes());
        None
    }

    fn new_shell(&self, user: &str) -> Box<Shell> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let shell = Shell::new(
            self.shared.world.clone(),
            user,
            Limits {
                max_line_bytes: self.shared.config.max_line_bytes,
                max_commands: self.shared.config.max_commands,
            },
            Origin {
                client_ip: self.peer.ip().to_string(),
                server_ip: self.local.map(|a| a.ip().to_string()).unwrap_or_default(),
                now,
            },
            true,
        );
        Box::new(shell)
    }

    /// Starts recording the shell (its greeting is the first output).
    fn start_recording(&mut self) {
        let (width, height) = self.options.window.unwrap_or((80, 24));
        let terminal = Terminal::new(
            self.options.term.as_deref().unwrap_or(""),
            width.into(),
            height.into(),
        )
        .with_shell(self.shared.world.persona.login_shell());
        let title = format!(
            "Telnet session {} from {} ({})",
            self.id,
            self.peer.ip(),
            self.user.as_deref().unwrap_or("?")
        );
        if let Some(recording) = self.shared.capture.record(&self.id, &terminal, title) {
            self.recorded = Some(recording.log());
            self.recording = Some(recording);
        }
    }

    /// Reports a recording that stopped early (size bound or write error).
    async fn recording_stopped(&self, limit: &'static str) {
        let event = self
            .event(
                Kind::SensorStatus,
                Severity::Low,
                format!("Telnet session recording stopped at {limit}"),
            )
            .with(field::LIMIT, limit);
        self.shared.bus.send(event).await;
    }

    /// Records the shell's actions and queues its output; a reason when it exited.
    async fn deliver(&mut self, output: Output, out: &mut Vec<u8>) -> Option<&'static str> {
        let user = self.user.clone().unwrap_or_default();
        for (action, notes) in crate::shell::with_notes(output.actions) {
            let event = match action {
                Action::NotFound(_) | Action::Typed(_) | Action::Process { .. } => continue,
                Action::Command(input) => {
                    let base = self
                        .event(Kind::TelnetCommand, Severity::Medium, String::new())
                        .with(field::USERNAME, user.clone());
                    self.shared
                        .capture
                        .command(base, &clip(&user, 32), &input, notes)
                }
                Action::Download { tool, url, outfile } => {
                    let base = self.event(Kind::TelnetDownload, Severity::High, String::new());
                    self.shared.capture.download(base, tool, &url, outfile)
                }
                Action::FileWrite { path, data } => {
                    let verdict = self.shared.capture.store_upload(&data);
                    let base = self.event(Kind::TelnetUpload, Severity::High, String::new());
                    upload_event(base, "shell", &path, &path, &verdict)
                        .with(field::USERNAME, user.clone())
                }
                Action::Limit(which) => {
                    let key = if which == "line" {
                        "max_line_bytes"
                    } else {
                        "max_commands"
                    };
                    self.event(
                        Kind::SensorStatus,
                        Severity::Low,
                        format!("Telnet session hit {key}"),
                    )
                    .with(field::LIMIT, key)
                }
            };
            self.shared.bus.send(event).await;
        }
        let stopped = self.recording.as_mut().and_then(|r| {
            let a = r.output(&output.data);
            let b = r.output(&output.err);
            a.or(b)
        });
        if let Some(limit) = stopped {
            self.recording_stopped(limit).await;
        }
        // A terminal has one stream: stdout and stderr together.
        escape_into(&output.data, out);
        escape_into(&output.err, out);
        output.exit.map(|_| "exit")
    }

    fn event(&self, kind: Kind, severity: Severity, summary: String) -> Event {
        let mut event = Event::new(self.shared.sensor.clone(), kind, severity, summary)
            .from_addr(self.peer.ip(), Some(self.peer.port()))
            .with(field::SESSION, self.id.clone())
            .with(field::PROTOCOL, "telnet");
        if let Some(local) = self.local {
            event = event.to_addr(local.ip(), Some(local.port()));
        }
        event
    }

    async fn finish(&self, reason: &str, duration: Duration) {
        let mut event = self
            .event(
                Kind::SessionClose,
                Severity::Info,
                format!("Telnet connection from {} closed", self.peer.ip()),
            )
            .with(
                "duration",
                (duration.as_secs_f64() * 1000.0).round() / 1000.0,
            )
            .with("reason", reason)
            .with("negotiated", self.options.negotiated);
        if let Some(found) = self.probe {
            event = event
                .with("probe", found.as_str())
                .with("probe_lines", self.probe_lines);
        }
        if let Some(term) = &self.options.term {
            event = event.with("term", term.clone());
        }
        if let Some((width, height)) = self.options.window {
            event = event.with("width", width).with("height", height);
        }
        if let Some(recording) = &self.recorded {
            event = recording
                .describe(event.with(field::RECORDING, recording.relative_path().to_owned()));
        }
        self.shared.bus.send(event).await;
        if reason.starts_with("max_") && reason != "max_auth_attempts"
            || reason == "login_grace_seconds"
        {
            let limit = self
                .event(
                    Kind::SensorStatus,
                    Severity::Low,
                    format!("Telnet session closed at limit {reason}"),
                )
                .with(field::LIMIT, reason);
            self.shared.bus.send(limit).await;
        }
    }
}

/// Writes all of `bytes`, giving up after `idle` (a client that does not read).
async fn write(stream: &mut TcpStream, bytes: &[u8], idle: Duration) -> Result<(), &'static str> {
    match tokio::time::timeout(idle, stream.write_all(bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err("closed"),
        Err(_) => Err("idle_timeout_seconds"),
    }
}

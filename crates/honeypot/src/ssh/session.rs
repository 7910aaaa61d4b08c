//! One SSH connection: the russh handler, its state, and every event the
//! connection produces (made here, in one place, with the same `data.session`).
//!
//! Authentication: each attempt (password, public key, keyboard-interactive) is an
//! `ssh.login.*` event with the client's version string and HASSH; the password
//! attempt that reaches `max_auth_attempts` refusals is answered, as sshd does,
//! with OpenSSH's disconnect instead of a refusal. After login,
//! `shell` and `exec` run the fake shell; forwarding is refused and logged.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nectar_event::field;
use nectar_event::{Event, Kind, Severity};
use russh::keys::HashAlg;
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelOpenFailure, Disconnect, MethodKind, MethodSet};
use tokio::net::TcpStream;

use super::Shared;
use super::profile::TOO_MANY_FAILURES;
use super::tap::{Hello, Tap};
use crate::capture::{IncomingFile, RecordingLog, SessionRecording, Terminal, upload_event};
use crate::listener::MAX_VALUE_BYTES;
use crate::shell::{Action, Limits, Origin, Shell};
use crate::ssh::scp::{self, Received, ScpSink};
use nectar_event::text::{bound, clip};

/// Channels one connection may open (OpenSSH clients use one or two).
const MAX_CHANNELS: usize = 4;

/// Runs one connection to its end, then records its close.
pub(crate) async fn run(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr) {
    let local = stream.local_addr().ok();
    let hello = Arc::new(Hello::default());
    let started = Instant::now();
    let id = uuid::Uuid::now_v7().simple().to_string();
    let conn = Conn {
        shared: shared.clone(),
        id: id[id.len() - 12..].to_owned(),
        peer,
        local,
        hello: hello.clone(),
        kex_noted: false,
        failures: 0,
        user: None,
        channels: Vec::new(),
        logged_in: Arc::new(OnceLock::new()),
        recordings: Arc::new(Mutex::new(Vec::new())),
        placed: Arc::new(Mutex::new(Vec::new())),
    };
    // Every await below that is not the session's main loop is boxed: this
    // future lives as long as the connection, and an inline state machine is
    // as large as its largest await (the handshake's alone is over 1 KiB).
    Box::pin(conn.send(conn.event(
        Kind::SessionConnect,
        Severity::Info,
        format!("SSH connection from {}", peer.ip()),
    )))
    .await;
    let _ = stream.set_nodelay(true);
    let tap = Tap::new(stream, hello.clone(), shared.config.max_session_bytes);
    let closer = conn.clone_for_close();
    let config = shared.russh.clone();
    let mut stop = shared.stop.clone();
    let mut reason = "closed";
    match Box::pin(russh::server::run_stream(config, tap, conn)).await {
        Ok(running) => {
            let handle = running.handle();
            let login_grace = Duration::from_secs(shared.config.login_grace_seconds);
            let max_session = Duration::from_secs(shared.config.max_session_seconds);
            let mut running = std::pin::pin!(running);
            let grace = tokio::time::sleep(login_grace);
            let whole = tokio::time::sleep(max_session);
            tokio::pin!(grace, whole);
            let mut grace_armed = true;
            loop {
                tokio::select! {
                    _ = &mut running => break,
                    _ = &mut grace, if grace_armed => {
                        grace_armed = false;
                        if closer.logged_in() {
                            continue;
                        }
                        reason = "login_grace_seconds";
                        disconnect(&handle, "Timeout before authentication", &mut running, 5).await;
                        break;
                    }
                    _ = &mut whole => {
                        reason = "max_session_seconds";
                        disconnect(&handle, "", &mut running, 5).await;
                        break;
                    }
                    _ = stop.changed() => {
                        reason = "shutdown";
                        disconnect(&handle, "", &mut running, 2).await;
                        break;
                    }
                }
            }
        }
        Err(_) => reason = "handshake",
    }
    if hello.over_limit.load(Ordering::Relaxed) {
        reason = "max_session_bytes";
    }
    Box::pin(closer.finish(reason, started.elapsed())).await;
}

/// Ends a session from our side (a limit or shutdown): sends the disconnect
/// with `message`, then gives russh `wait_seconds` to finish. Boxed, so the
/// connection's long-lived future does not carry these rare states.
fn disconnect<'a, R>(
    handle: &'a russh::server::Handle,
    message: &'a str,
    running: &'a mut std::pin::Pin<&mut R>,
    wait_seconds: u64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>
where
    R: std::future::Future + Send,
{
    Box::pin(async move {
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            handle.disconnect(Disconnect::ByApplication, message.into(), String::new()),
        )
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(wait_seconds), running.as_mut()).await;
    })
}

/// The handler russh calls for one connection.
pub(crate) struct Conn {
    shared: Arc<Shared>,
    id: String,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    hello: Arc<Hello>,
    kex_noted: bool,
    failures: u32,
    user: Option<String>,
    channels: Vec<Chan>,
    /// Set at the first accepted login, so the login grace timer spares the session.
    logged_in: Arc<OnceLock<()>>,
    /// Recordings started on this connection (relative paths), for the close event.
    recordings: Arc<Mutex<Vec<Arc<RecordingLog>>>>,
    /// Files uploaded on this connection (SCP, SFTP), shown by its shells.
    placed: Arc<Mutex<Vec<Placed>>>,
}

/// A file uploaded on a connection, as its fake filesystem shows it.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    pub path: String,
    /// The beginning the fake filesystem keeps (`fs::KEPT_FILE_BYTES`).
    pub head: Arc<[u8]>,
    /// The whole file's size and hash when `head` is not all of it.
    pub full: Option<crate::shell::fs::FullFile>,
    pub mode: u32,
}

/// Most uploaded files one connection's shells show.
pub(crate) const MAX_PLACED: usize = 64;

struct Chan {
    id: ChannelId,
    /// The channel itself, kept only until the client says what it is for: the
    /// SFTP subsystem reads it as a stream; anything else drops it (russh would
    /// otherwise queue every data message on it).
    channel: Option<Channel<Msg>>,
    pty: bool,
    terminal: Terminal,
    shell: Option<Box<Shell>>,
    recording: Option<SessionRecording>,
    /// `scp -t`: the channel receives files instead of running a shell.
    scp: Option<Box<ScpSink>>,
    /// How many of the connection's uploaded files this channel's shell has.
    placed_seen: usize,
    /// The channel runs the SFTP subsystem (in its own task).
    sftp: bool,
    /// An `exec`'d `cat > f` reads the channel's input: kept as an upload.
    stdin: Option<Box<IncomingFile>>,
}

/// What the connection task keeps to report the close.
struct Closer {
    shared: Arc<Shared>,
    id: String,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    hello: Arc<Hello>,
    logged_in: Arc<OnceLock<()>>,
    recordings: Arc<Mutex<Vec<Arc<RecordingLog>>>>,
}

impl Closer {
    fn logged_in(&self) -> bool {
        self.logged_in.get().is_some()
    }

    async fn finish(&self, reason: &str, duration: Duration) {
        let mut summary = format!("SSH connection from {} closed", self.peer.ip());
        let mut event = base_event(
            &self.shared,
            &self.id,
            self.peer,
            self.local,
            Kind::SessionClose,
            Severity::Info,
            String::new(),
        );
        if let Some(line) = self.hello.refused_ident.get() {
            summary = format!("Not an SSH client ({})", clip(line, 60));
            event = event.with(field::CLIENT_VERSION, line.clone());
        }
        event.summary = summary;
        let mut event = event
            .with(
                "duration",
                (duration.as_secs_f64() * 1000.0).round() / 1000.0,
            )
            .with("reason", reason);
        let recordings =
            std::mem::take(&mut *self.recordings.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(first) = recordings.first() {
            event = first.describe(event.with(field::RECORDING, first.relative_path().to_owned()));
        }
        if recordings.len() > 1 {
            let all: Vec<&str> = recordings.iter().map(|r| r.relative_path()).collect();
            event = event.with("recordings", all);
        }
        // The client's terminal (Cowrie's `cowrie.client.size`).
        if let Some(terminal) = self.hello.terminal.get() {
            event = event
                .with("width", terminal.width)
                .with("height", terminal.height);
            if !terminal.term.is_empty() {
                event = event.with("term", terminal.term.clone());
            }
        }
        self.shared.bus.send(event).await;
        if reason.starts_with("max_") || reason == "login_grace_seconds" {
            let limit = base_event(
                &self.shared,
                &self.id,
                self.peer,
                self.local,
                Kind::SensorStatus,
                Severity::Low,
                format!("SSH session closed at limit {reason}"),
            )
            .with(field::LIMIT, reason);
            self.shared.bus.send(limit).await;
        }
    }
}

/// What an event of this connection is made from, for work done outside the
/// handler (the SFTP subsystem runs in its own task).
#[derive(Clone)]
pub(crate) struct EventBase {
    shared: Arc<Shared>,
    id: String,
    peer: SocketAddr,
    local: Option<SocketAddr>,
}

impl EventBase {
    pub(crate) fn event(&self, kind: Kind, severity: Severity, summary: String) -> Event {
        base_event(
            &self.shared,
            &self.id,
            self.peer,
            self.local,
            kind,
            severity,
            summary,
        )
    }

    pub(crate) async fn send(&self, event: Event) {
        self.shared.bus.send(event).await;
    }

    pub(crate) fn capture(&self) -> &crate::capture::Capture {
        &self.shared.capture
    }
}

fn base_event(
    shared: &Shared,
    session: &str,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    kind: Kind,
    severity: Severity,
    summary: String,
) -> Event {
    let mut event = Event::new(shared.sensor.clone(), kind, severity, summary)
        .from_addr(peer.ip(), Some(peer.port()))
        .with(field::SESSION, session.to_owned())
        .with(field::PROTOCOL, "ssh");
    if let Some(local) = local {
        event = event.to_addr(local.ip(), Some(local.port()));
    }
    event
}

impl Conn {
    fn clone_for_close(&self) -> Closer {
        let logged_in = self.logged_in.clone();
        Closer {
            shared: self.shared.clone(),
            id: self.id.clone(),
            peer: self.peer,
            local: self.local,
            hello: self.hello.clone(),
            logged_in,
            recordings: self.recordings.clone(),
        }
    }

    fn event_base(&self) -> EventBase {
        EventBase {
            shared: self.shared.clone(),
            id: self.id.clone(),
            peer: self.peer,
            local: self.local,
        }
    }

    fn event(&self, kind: Kind, severity: Severity, summary: String) -> Event {
        base_event(
            &self.shared,
            &self.id,
            self.peer,
            self.local,
            kind,
            severity,
            summary,
        )
    }

    async fn send(&self, event: Event) {
        self.shared.bus.send(event).await;
    }

    fn client_version(&self) -> String {
        self.hello.ident.get().cloned().unwrap_or_default()
    }

    fn hassh(&self) -> String {
        self.hello.hassh.get().cloned().unwrap_or_default()
    }

    /// Logs the client's algorithm lists the first time its HASSH is seen.
    async fn note_kex(&mut self) {
        if self.kex_noted {
            return;
        }
        self.kex_noted = true;
        // Taken: after this the connection keeps only the HASSH.
        let kex = self
            .hello
            .kex
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(kex) = kex else {
            return;
        };
        let hassh = self.hassh();
        let new = {
            let mut seen = self
                .shared
                .seen_hassh
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if seen.len() >= super::MAX_HASSH {
                seen.clear();
            }
            seen.insert(hassh.clone())
        };
        if !new {
            return;
        }
        let mut event = self
            .event(
                Kind::SshClientKex,
                Severity::Info,
                format!(
                    "New SSH client fingerprint {hassh} ({})",
                    clip(&self.client_version(), 60)
                ),
            )
            .with(field::HASSH, hassh)
            .with("hasshAlgorithms", kex.hassh_algorithms())
            .with(field::CLIENT_VERSION, self.client_version());
        for (k, v) in kex.to_json() {
            event = event.with(&k, v);
        }
        self.send(event).await;
    }

    /// Records one attempt; returns the answer for russh.
    async fn attempt(
        &mut self,
        user: &str,
        method: &'static str,
        secret: Option<&str>,
        extra: Vec<(&'static str, String)>,
        accepted: bool,
    ) -> Auth {
        self.note_kex().await;
        let (kind, severity, verdict) = if accepted {
            (Kind::SshLoginSuccess, Severity::Medium, "accepted")
        } else {
            (Kind::SshLoginFailed, Severity::Low, "refused")
        };
        let shown = match secret {
            Some(s) => format!("{}/{}", clip(user, 64), self.shared.capture.shown_secret(s)),
            None => format!("{} ({method})", clip(user, 64)),
        };
        let mut event = self
            .event(kind, severity, format!("{shown} {verdict}"))
            .with(field::USERNAME, bound(user, MAX_VALUE_BYTES))
            .with("method", method)
            .with(field::CLIENT_VERSION, self.client_version())
            .with(field::HASSH, self.hassh());
        if let Some(secret) = secret {
            event =
                self.shared
                    .capture
                    .secret(event, field::PASSWORD, bound(secret, MAX_VALUE_BYTES));
        }
        for (k, v) in extra {
            // The password's bytes are the password: sealed like it.
            event = if k == field::PASSWORD_BYTES {
                self.shared.capture.secret(event, k, &v)
            } else {
                event.with(k, v)
            };
        }
        self.send(event).await;
        if let Some(token) = secret.and_then(|s| self.shared.honeytokens.exact(s)) {
            let reuse = crate::honeytoken::Honeytokens::reuse_event(
                token,
                &self.shared.sensor,
                "ssh",
                "password",
                Some((self.peer.ip(), self.peer.port())),
            )
            .with(field::USERNAME, bound(user, MAX_VALUE_BYTES))
            .with(field::SESSION, self.id.clone());
            let reuse = match self.local {
                Some(local) => reuse.to_addr(local.ip(), Some(local.port())),
                None => reuse,
            };
            self.send(reuse).await;
        }
        if accepted {
            self.user = Some(user.chars().take(32).collect());
            let _ = self.logged_in.set(());
            return Auth::Accept;
        }
        self.failures += 1;
        if self.failures >= self.shared.config.max_auth_attempts {
            let limit = self
                .event(
                    Kind::SensorStatus,
                    Severity::Low,
                    format!("SSH client {} hit max_auth_attempts", self.peer.ip()),
                )
                .with(field::LIMIT, "max_auth_attempts");
            self.send(limit).await;
            // As sshd: the attempt that reaches MaxAuthTries gets no failure
            // reply, only the disconnect (reason 2, protocol error).
            return Auth::Disconnect {
                reason: Disconnect::ProtocolError,
                description: TOO_MANY_FAILURES.into(),
            };
        }
        Auth::Reject {
            // Keep offering password after a refusal (russh would drop it), as
            // OpenSSH does, so brute-forcers keep trying on one connection.
            proceed_with_methods: Some(MethodSet::from(
                &[
                    MethodKind::PublicKey,
                    MethodKind::Password,
                    MethodKind::KeyboardInteractive,
                ][..],
            )),
            partial_success: false,
        }
    }

    /// An attempt that arrives after the MaxAuthTries disconnect was queued (the
    /// client did not wait for it) ends the connection unrecorded, as sshd has
    /// exited by then.
    fn under_max_tries(&self) -> Result<(), russh::Error> {
        if self.failures >= self.shared.config.max_auth_attempts {
            return Err(russh::Error::Disconnect);
        }
        Ok(())
    }

    fn chan(&mut self, id: ChannelId) -> Option<&mut Chan> {
        self.channels.iter_mut().find(|c| c.id == id)
    }

    fn new_shell(&self, pty: bool) -> Box<Shell> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut shell = Box::new(Shell::new(
            self.shared.world.clone(),
            self.user.as_deref().unwrap_or("root"),
            Limits {
                max_line_bytes: self.shared.config.max_line_bytes,
                max_commands: self.shared.config.max_commands,
            },
            Origin {
                client_ip: self.peer.ip().to_string(),
                server_ip: self.local.map(|a| a.ip().to_string()).unwrap_or_default(),
                now,
            },
            pty,
        ));
        // Files uploaded earlier on this connection are there.
        for file in self.placed.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            shell.place_file(&file.path, &file.head, file.full, file.mode, now);
        }
        shell
    }

    /// Gives the shell of `channel` the files uploaded on this connection since
    /// it last looked.
    fn sync_placed(&mut self, channel: ChannelId) {
        let placed = self.placed.clone();
        let Some(chan) = self.chan(channel) else {
            return;
        };
        let Some(shell) = chan.shell.as_mut() else {
            return;
        };
        let list = placed.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        for file in list.iter().skip(chan.placed_seen) {
            shell.place_file(&file.path, &file.head, file.full, file.mode, now);
        }
        chan.placed_seen = list.len();
    }

    /// Records files an SCP sink received: an `ssh.upload` event each, and the
    /// stored ones join the connection's filesystem.
    async fn received(&mut self, files: Vec<Received>) {
        for file in files {
            let base = self.event(Kind::SshUpload, Severity::High, String::new());
            let event = upload_event(base, "scp", &file.filename, &file.path, &file.verdict)
                .with(field::USERNAME, self.user.clone().unwrap_or_default());
            self.send(event).await;
            if matches!(
                file.verdict,
                nectar_capture::uploads::Verdict::Stored { .. }
            ) {
                let mut placed = self.placed.lock().unwrap_or_else(|p| p.into_inner());
                if placed.len() < MAX_PLACED {
                    placed.push(Placed {
                        full: crate::capture::full_file(&file.verdict),
                        path: file.path,
                        head: file.head.into(),
                        mode: file.mode,
                    });
                }
            }
        }
    }

    /// The input of an `exec`'d `cat > f` ended: the line runs, the input is an
    /// `ssh.upload` event (`via` `exec`), and, stored, joins the connection's
    /// filesystem.
    async fn end_stdin(&mut self, channel: ChannelId, session: &mut Session) {
        let Some(chan) = self.chan(channel) else {
            return;
        };
        let Some(stdin) = chan.stdin.take() else {
            return;
        };
        let Some(shell) = chan.shell.as_mut() else {
            return;
        };
        let end = stdin.finish();
        let (out, target) = shell.end_stdin(&end.head, end.full);
        let path = target.unwrap_or_default();
        let mode = shell.mode_of(&path).unwrap_or(0o644);
        if end.full.size > 0 {
            let base = self.event(Kind::SshUpload, Severity::High, String::new());
            let name = if path.is_empty() { "-" } else { path.as_str() };
            let event = upload_event(base, "exec", name, &path, &end.verdict)
                .with(field::USERNAME, self.user.clone().unwrap_or_default());
            self.send(event).await;
        }
        if !path.is_empty()
            && matches!(end.verdict, nectar_capture::uploads::Verdict::Stored { .. })
        {
            let mut placed = self.placed.lock().unwrap_or_else(|p| p.into_inner());
            if placed.len() < MAX_PLACED {
                placed.push(Placed {
                    full: Some(end.full),
                    path,
                    head: end.head.into(),
                    mode,
                });
            }
        }
        self.deliver(channel, out, true, session).await;
    }

    /// Ends an SCP channel with scp's exit status.
    fn end_scp(&mut self, channel: ChannelId, session: &mut Session) {
        let Some(chan) = self.chan(channel) else {
            return;
        };
        let Some(sink) = chan.scp.take() else {
            return;
        };
        let _ = session.exit_status_request(channel, u32::from(sink.failed));
        let _ = session.eof(channel);
        let _ = session.close(channel);
    }

    /// Reports a recording that stopped early (size bound or write error).
    async fn recording_stopped(&self, limit: &'static str) {
        let event = self
            .event(
                Kind::SensorStatus,
                Severity::Low,
                format!("SSH session recording stopped at {limit}"),
            )
            .with(field::LIMIT, limit);
        self.send(event).await;
    }

    /// Starts recording the shell of `channel` (one file per shell; a second shell
    /// on the same connection gets `-2`, ...).
    fn start_recording(&mut self, channel: ChannelId) {
        let count = self.recordings.lock().map_or(0, |r| r.len());
        let name = if count == 0 {
            self.id.clone()
        } else {
            format!("{}-{}", self.id, count + 1)
        };
        let title = format!(
            "SSH session {} from {} ({})",
            self.id,
            self.peer.ip(),
            self.user.as_deref().unwrap_or("?")
        );
        let capture = self.shared.capture.clone();
        let Some(chan) = self.chan(channel) else {
            return;
        };
        let Some(recording) = capture.record(&name, &chan.terminal, title) else {
            return;
        };
        let log = recording.log();
        chan.recording = Some(recording);
        self.recordings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(log);
    }

    /// Sends shell output, records its actions, and ends the channel on exit.
    async fn deliver(
        &mut self,
        channel: ChannelId,
        out: crate::shell::Output,
        exec: bool,
        session: &mut Session,
    ) {
        for (action, notes) in crate::shell::with_notes(out.actions) {
            let event = match action {
                Action::NotFound(_) | Action::Typed(_) | Action::Process { .. } => continue,
                Action::Command(input) => {
                    let kind = if exec {
                        Kind::SshExec
                    } else {
                        Kind::SshCommand
                    };
                    let base = self
                        .event(kind, Severity::Medium, String::new())
                        .with(field::USERNAME, self.user.clone().unwrap_or_default());
                    let who = self.user.as_deref().unwrap_or("?");
                    self.shared.capture.command(base, who, &input, notes)
                }
                Action::Download { tool, url, outfile } => {
                    let base = self.event(Kind::SshDownload, Severity::High, String::new());
                    self.shared.capture.download(base, tool, &url, outfile)
                }
                Action::FileWrite { path, data } => {
                    let verdict = self.shared.capture.store_upload(&data);
                    let base = self.event(Kind::SshUpload, Severity::High, String::new());
                    upload_event(base, "shell", &path, &path, &verdict)
                        .with(field::USERNAME, self.user.clone().unwrap_or_default())
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
                        format!("SSH session hit {key}"),
                    )
                    .with(field::LIMIT, key)
                }
            };
            self.send(event).await;
        }
        let stopped = self.chan(channel).and_then(|c| {
            let rec = c.recording.as_mut()?;
            let a = rec.output(&out.data);
            let b = rec.output(&out.err);
            a.or(b)
        });
        if let Some(limit) = stopped {
            self.recording_stopped(limit).await;
        }
        if !out.data.is_empty() {
            let _ = session.data(channel, out.data);
        }
        if !out.err.is_empty() {
            // SSH_EXTENDED_DATA_STDERR, as sshd sends a command's stderr.
            let _ = session.extended_data(channel, 1, out.err);
        }
        if let Some(code) = out.exit {
            let _ = session.exit_status_request(channel, code);
            let _ = session.eof(channel);
            let _ = session.close(channel);
            if let Some(chan) = self.chan(channel) {
                chan.shell = None;
            }
        }
    }
}

impl russh::server::Handler for Conn {
    type Error = russh::Error;

    /// The group a `diffie-hellman-group-exchange-sha256` client gets: the size
    /// sshd would pick (`super::profile::gex_group_bits`), from the RFC 3526
    /// groups (sshd draws its primes from `/etc/ssh/moduli`; same sizes).
    async fn lookup_dh_gex_group(
        &mut self,
        gex: &russh::client::GexParams,
    ) -> Result<Option<russh::kex::dh::groups::DhGroup>, Self::Error> {
        use russh::kex::dh::groups::{DH_GROUP14, DH_GROUP15, DH_GROUP16, DH_GROUP17, DH_GROUP18};
        let bits = super::profile::gex_group_bits(
            gex.min_group_size(),
            gex.preferred_group_size(),
            gex.max_group_size(),
        );
        Ok(Some(match bits {
            Some(3072) => DH_GROUP15,
            Some(4096) => DH_GROUP16,
            Some(6144) => DH_GROUP17,
            Some(8192) => DH_GROUP18,
            _ => DH_GROUP14,
        }))
    }

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        self.note_kex().await;
        Ok(Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(
                &[
                    MethodKind::PublicKey,
                    MethodKind::Password,
                    MethodKind::KeyboardInteractive,
                ][..],
            )),
            partial_success: false,
        })
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        self.under_max_tries()?;
        let ok = self.shared.credentials.accepts(user, password);
        Ok(self
            .attempt(user, "password", Some(password), Vec::new(), ok)
            .await)
    }

    /// A user name or password that is not UTF-8 (russh patch 9): a failed
    /// login like any other, as OpenSSH answers, recorded lossily with the
    /// bytes in base64 (`username_b64`, `password_b64`, the latter sealed
    /// with `encrypt_to` like the password).
    async fn auth_password_bytes(
        &mut self,
        user: &[u8],
        password: &[u8],
    ) -> Result<Auth, Self::Error> {
        let (Ok(user_text), Ok(password_text)) =
            (std::str::from_utf8(user), std::str::from_utf8(password))
        else {
            use base64::Engine as _;
            self.under_max_tries()?;
            let b64 = |bytes: &[u8]| {
                base64::engine::general_purpose::STANDARD
                    .encode(&bytes[..bytes.len().min(MAX_VALUE_BYTES)])
            };
            let mut extra = Vec::new();
            if std::str::from_utf8(user).is_err() {
                extra.push((field::USERNAME_BYTES, b64(user)));
            }
            if std::str::from_utf8(password).is_err() {
                extra.push((field::PASSWORD_BYTES, b64(password)));
            }
            let (user, password) = (
                String::from_utf8_lossy(user),
                String::from_utf8_lossy(password),
            );
            return Ok(self
                .attempt(&user, "password", Some(&password), extra, false)
                .await);
        };
        self.auth_password(user_text, password_text).await
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        self.under_max_tries()?;
        // Keys are never accepted: log the offer and refuse before any signature.
        let fingerprint = offer.public_key.fingerprint(HashAlg::Sha256).to_string();
        let key_type = offer.algorithm.to_string();
        let extra = vec![("key_type", key_type), ("fingerprint", fingerprint)];
        Ok(self.attempt(user, "publickey", None, extra, false).await)
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        _key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(Auth::reject())
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        let Some(response) = response else {
            // Ask like OpenSSH with PAM: one hidden "Password: " prompt.
            return Ok(Auth::Partial {
                name: Cow::Borrowed(""),
                instructions: Cow::Borrowed(""),
                prompts: Cow::Owned(vec![(Cow::Borrowed("Password: "), false)]),
            });
        };
        self.under_max_tries()?;
        let answers: Vec<String> = response
            .take(8)
            .map(|b| String::from_utf8_lossy(&b[..b.len().min(1024)]).into_owned())
            .collect();
        let password = answers.first().cloned().unwrap_or_default();
        let ok = self.shared.credentials.accepts(user, &password);
        Ok(self
            .attempt(
                user,
                "keyboard-interactive",
                Some(&password),
                Vec::new(),
                ok,
            )
            .await)
    }

    async fn auth_succeeded(&mut self, _session: &mut Session) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channels.len() >= MAX_CHANNELS {
            reply.reject(ChannelOpenFailure::ResourceShortage).await;
            return Ok(());
        }
        self.channels.push(Chan {
            id: channel.id(),
            channel: Some(channel),
            pty: false,
            terminal: Terminal::default(),
            shell: None,
            recording: None,
            scp: None,
            placed_seen: 0,
            sftp: false,
            stdin: None,
        });
        reply.accept().await;
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Closed without EOF: what the command read is still an upload.
        self.end_stdin(channel, session).await;
        self.channels.retain(|c| c.id != channel);
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.chan(channel).is_some_and(|c| c.scp.is_some()) {
            self.end_scp(channel, session);
            return Ok(());
        }
        if self.chan(channel).is_some_and(|c| c.stdin.is_some()) {
            self.end_stdin(channel, session).await;
            return Ok(());
        }
        if self.chan(channel).is_some_and(|c| c.sftp) {
            // The client ended its SFTP session: sftp-server exits 0.
            let _ = session.exit_status_request(channel, 0);
            let _ = session.eof(channel);
            let _ = session.close(channel);
            return Ok(());
        }
        // A client without a terminal closing stdin: a command still reading it
        // (`cat > f`) runs, then the shell ends.
        let Some(chan) = self.chan(channel) else {
            return Ok(());
        };
        if chan.pty {
            return Ok(());
        }
        let Some(shell) = chan.shell.as_mut() else {
            return Ok(());
        };
        let mut out = shell.end_input();
        out.exit.get_or_insert(0);
        self.deliver(channel, out, false, session).await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        cols: u32,
        rows: u32,
        _pw: u32,
        _ph: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let hello = self.hello.clone();
        match self.chan(channel) {
            Some(chan) => {
                chan.pty = true;
                chan.terminal = Terminal::new(term, cols, rows);
                let _ = hello.terminal.set(chan.terminal.clone());
                let _ = session.channel_success(channel);
            }
            None => {
                let _ = session.channel_failure(channel);
            }
        }
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let _ = session.channel_success(channel);
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(pty) = self
            .chan(channel)
            .filter(|c| c.shell.is_none() && c.scp.is_none())
            .map(|c| {
                c.channel = None;
                c.pty
            })
        else {
            let _ = session.channel_failure(channel);
            return Ok(());
        };
        let mut shell = self.new_shell(pty);
        let greeting = if pty { Some(shell.greeting()) } else { None };
        if let Some(chan) = self.chan(channel) {
            chan.shell = Some(shell);
        }
        self.start_recording(channel);
        let _ = session.channel_success(channel);
        if let Some(out) = greeting {
            self.deliver(channel, out, false, session).await;
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(pty) = self
            .chan(channel)
            .filter(|c| c.shell.is_none() && c.scp.is_none())
            .map(|c| {
                c.channel = None;
                c.pty
            })
        else {
            let _ = session.channel_failure(channel);
            return Ok(());
        };
        let _ = session.channel_success(channel);
        let command = String::from_utf8_lossy(data).into_owned();
        let mut shell = self.new_shell(pty);
        if let Some((target, must_be_dir)) = scp::sink_target(&command) {
            // `scp -t TARGET`: receive files on this channel.
            let target = shell.resolve(&target);
            let is_dir = must_be_dir || shell.is_dir(&target);
            let sink = ScpSink::new(self.shared.capture.clone(), target, is_dir);
            if let Some(chan) = self.chan(channel) {
                chan.scp = Some(Box::new(sink));
            }
            let out = crate::shell::Output {
                data: ScpSink::greeting().to_vec(),
                actions: vec![Action::Command(command)],
                ..Default::default()
            };
            self.deliver(channel, out, true, session).await;
            return Ok(());
        }
        let out = shell.exec(&command);
        if out.exit.is_none() {
            // The command reads the channel's input: a file (`cat > f`), kept
            // as an upload, or a script (`sh`).
            let stdin = shell
                .reads_stdin()
                .then(|| Box::new(self.shared.capture.begin_stream()));
            if let Some(chan) = self.chan(channel) {
                chan.shell = Some(shell);
                chan.stdin = stdin;
            }
        }
        self.deliver(channel, out, true, session).await;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let taken = self
            .chan(channel)
            .filter(|c| c.shell.is_none() && c.scp.is_none())
            .and_then(|c| c.channel.take());
        let Some(stream) = taken.filter(|_| name == "sftp") else {
            // Other subsystems: refused, as by an sshd without them.
            let _ = session.channel_failure(channel);
            return Ok(());
        };
        let event = self
            .event(
                Kind::SshExec,
                Severity::Medium,
                format!("{}: SFTP session", self.user.as_deref().unwrap_or("?")),
            )
            .with(field::INPUT, "subsystem sftp")
            .with("subsystem", "sftp")
            .with(field::USERNAME, self.user.clone().unwrap_or_default());
        self.send(event).await;
        let user = self.user.clone().unwrap_or_else(|| "root".into());
        let persona = &self.shared.world.persona;
        let sftp = super::sftp::Sftp::new(
            self.event_base(),
            self.shared.world.new_fs(),
            &user,
            persona.home(&user),
            persona.uid(&user),
            self.placed.clone(),
        );
        if let Some(chan) = self.chan(channel) {
            chan.sftp = true;
        }
        let _ = session.channel_success(channel);
        let config = russh_sftp::server::Config {
            max_client_packet_len: 64 * 1024,
        };
        russh_sftp::server::run_with_config(stream.into_stream(), sftp, config).await;
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(chan) = self.chan(channel) else {
            return Ok(());
        };
        chan.channel = None;
        if let Some(sink) = chan.scp.as_mut() {
            let mut reply = Vec::new();
            let mut files = Vec::new();
            sink.feed(data, &mut reply, &mut files);
            let done = sink.is_done();
            if !reply.is_empty() {
                let _ = session.data(channel, reply);
            }
            self.received(files).await;
            if done {
                self.end_scp(channel, session);
            }
            return Ok(());
        }
        if let Some(stdin) = chan.stdin.as_mut() {
            stdin.feed(data);
            return Ok(());
        }
        if chan.shell.is_none() {
            return Ok(());
        }
        self.sync_placed(channel);
        let Some(chan) = self.chan(channel) else {
            return Ok(());
        };
        let stopped = chan.recording.as_mut().and_then(|r| r.input(data));
        let Some(shell) = chan.shell.as_mut() else {
            return Ok(());
        };
        let out = shell.feed(data);
        if let Some(limit) = stopped {
            self.recording_stopped(limit).await;
        }
        self.deliver(channel, out, false, session).await;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        cols: u32,
        rows: u32,
        _pw: u32,
        _ph: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let stopped = self
            .chan(channel)
            .and_then(|c| c.recording.as_mut())
            .and_then(|r| r.resize(cols, rows));
        if let Some(limit) = stopped {
            self.recording_stopped(limit).await;
        }
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        channel: Channel<Msg>,
        host: &str,
        port: u32,
        originator: &str,
        originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        drop(channel);
        let event = self
            .event(
                Kind::SshForward,
                Severity::Medium,
                format!("direct-tcpip to {}:{port} refused", clip(host, 100)),
            )
            .with("request", "direct-tcpip")
            .with("target_host", bound(host, MAX_VALUE_BYTES))
            .with("target_port", port)
            .with("originator_host", bound(originator, MAX_VALUE_BYTES))
            .with("originator_port", originator_port);
        self.send(event).await;
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn tcpip_forward(
        &mut self,
        address: &str,
        port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        let event = self
            .event(
                Kind::SshForward,
                Severity::Medium,
                format!("tcpip-forward of {}:{port} refused", clip(address, 100)),
            )
            .with("request", "tcpip-forward")
            .with("target_host", bound(address, MAX_VALUE_BYTES))
            .with("target_port", *port);
        self.send(event).await;
        Ok(false)
    }

    async fn channel_open_x11(
        &mut self,
        channel: Channel<Msg>,
        _a: &str,
        _p: u32,
        reply: ChannelOpenHandle,
        _s: &mut Session,
    ) -> Result<(), Self::Error> {
        drop(channel);
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Deterministic guards on what an idle connection keeps (issue #5). The
    //! memory per held shell itself is measured by `scripts/bench_ssh_honeypot.sh`
    //! (BENCHMARKS.md); these catch the changes that would silently undo it.

    /// The size of the future `f` returns, without calling it.
    fn returned_size<A, B, C, F>(_: fn(A, B, C) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    #[test]
    fn the_connection_task_stays_small() {
        // It lives as long as the connection (one per held shell): 1,216 bytes
        // in a release build, 1,232 in a debug one. Every await but the
        // session's own is boxed; an inline one (the handshake, an event send)
        // would add its whole state here.
        let size = returned_size(super::run);
        eprintln!("connection future: {size} bytes");
        assert!(size <= 1536, "session::run's future grew to {size} bytes");
    }

    #[test]
    fn russh_is_the_patched_one() {
        // vendor/russh (NECTAR_PATCHES.md, patch 4) boxes the largest variant
        // of the session's messages (136 bytes unpatched; 88 patched): every
        // slot of a message channel is this large.
        let size = std::mem::size_of::<russh::server::Msg>();
        eprintln!("russh::server::Msg: {size} bytes");
        assert!(
            size <= 96,
            "russh::server::Msg is {size} bytes: is vendor/russh patched?"
        );
    }
}

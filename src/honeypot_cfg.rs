//! `[honeypot.*]` in the configuration file: which honeypots `serve` runs and how.
//! The settings themselves live in `nectar-honeypot` (one struct per honeypot);
//! this file checks them with errors naming the full key and prints them commented.

use serde::{Deserialize, Serialize};

use crate::config::{Config, lit};

/// `[honeypot]`
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HoneypotSection {
    /// An age X25519 public key (`age1...`): passwords, recordings and uploads are
    /// written encrypted to it. Empty: in clear.
    pub encrypt_to: String,
    /// `[honeypot.ssh]`: the SSH honeypot.
    pub ssh: nectar_honeypot::ssh::SshHoneypotConfig,
    /// `[honeypot.telnet]`: the Telnet honeypot.
    pub telnet: nectar_honeypot::telnet::TelnetHoneypotConfig,
    /// `[honeypot.cowrie]`: honeypot events in Cowrie's JSON format too.
    pub cowrie: nectar_honeypot::cowrie::CowrieOutputConfig,
    /// `[honeypot.recordings]`: asciicast recordings of interactive sessions.
    pub recordings: nectar_honeypot::capture::RecordingsConfig,
    /// `[honeypot.uploads]`: uploaded and written files, kept by SHA-256.
    pub uploads: nectar_honeypot::capture::UploadsConfig,
    /// `[honeypot.http]`: the HTTP honeypot.
    pub http: nectar_honeypot::http::HttpHoneypotConfig,
}

/// What honeypot sessions leave on disk, as configured; shared by every honeypot.
pub fn capture(
    config: &Config,
) -> anyhow::Result<std::sync::Arc<nectar_honeypot::capture::Capture>> {
    nectar_honeypot::capture::Capture::with_encryption(
        &config.data_dir,
        config.honeypot.recordings.clone(),
        config.honeypot.uploads.clone(),
        &config.honeypot.encrypt_to,
    )
    .map_err(|e| crate::exit::usage(format!("honeypot: {e}")))
}

/// Checks `[honeypot.*]`; errors name the key (`honeypot.ssh.listen`).
pub fn validate(config: &Config) -> Result<(), String> {
    let key = config.honeypot.encrypt_to.trim();
    if !key.is_empty() {
        nectar_capture::seal::Sealer::new(key)
            .map_err(|e| format!("key `honeypot.encrypt_to`: {e}"))?;
    }
    config
        .honeypot
        .ssh
        .validate()
        .map_err(|e| e.replacen("key `", "key `honeypot.ssh.", 1))?;
    config
        .honeypot
        .recordings
        .validate()
        .map_err(|e| e.replacen("key `", "key `honeypot.recordings.", 1))?;
    config
        .honeypot
        .telnet
        .validate()
        .map_err(|e| e.replacen("key `", "key `honeypot.telnet.", 1))?;
    config
        .honeypot
        .cowrie
        .validate()
        .map_err(|e| e.replacen("key `", "key `honeypot.cowrie.", 1))?;
    config
        .honeypot
        .uploads
        .validate()
        .map_err(|e| e.replacen("key `", "key `honeypot.uploads.", 1))?;
    config
        .honeypot
        .http
        .validate()
        .map_err(|e| e.replacen("key `", "key `honeypot.http.", 1))
}

/// Appends `[honeypot.ssh]` and `[honeypot.telnet]` with a comment per key to the
/// commented configuration.
pub fn commented(config: &Config, line: &mut dyn FnMut(String)) {
    line(String::new());
    line("[honeypot]".into());
    line("# An age public key (age1..., from `nectar age-keygen` or `age-keygen`):".into());
    line("# captured passwords (data.password_enc instead of data.password), recordings".into());
    line("# (.cast.age) and uploads (.age) are written encrypted to it, so this machine".into());
    line("# cannot read back what it captured. Read them with `nectar decrypt`.".into());
    line(format!("encrypt_to = {}", lit(&config.honeypot.encrypt_to)));
    let ssh = &config.honeypot.ssh;
    line(String::new());
    line("[honeypot.ssh]".into());
    line("# Run the SSH honeypot (it looks like Debian 12's OpenSSH 9.2p1).".into());
    line(format!("enabled = {}", ssh.enabled));
    line("# Address and port to listen on; 22 needs CAP_NET_BIND_SERVICE.".into());
    line(format!("listen = {}", lit(&ssh.listen.to_string())));
    line("# Identification string sent to clients: the OpenSSH build we pretend to be.".into());
    line(format!("banner = {}", lit(&ssh.banner)));
    line("# Host name in the prompt, shown by every honeypot (HTTP bait pages too);".into());
    line("# empty: picked at first start, kept in data_dir.".into());
    line(format!("hostname = {}", lit(&ssh.hostname)));
    line("# Accepted logins, \"user:password\", first match wins; * matches anything,".into());
    line("# a password starting with ! refuses (\"root:!root\" before \"root:*\").".into());
    line(format!("credentials = {}", lit(&ssh.credentials)));
    line("# Milliseconds to wait before answering a refused login (0: none).".into());
    line(format!("failure_delay_ms = {}", ssh.failure_delay_ms));
    line("# Refused logins per connection before OpenSSH's \"Too many authentication".into());
    line("# failures\" disconnect (OpenSSH's MaxAuthTries is 6).".into());
    line(format!("max_auth_attempts = {}", ssh.max_auth_attempts));
    line("# Connections open at once, in total and per source address.".into());
    line(format!("max_connections = {}", ssh.max_connections));
    line(format!(
        "max_connections_per_ip = {}",
        ssh.max_connections_per_ip
    ));
    line("# Seconds to log in (OpenSSH's LoginGraceTime), seconds of silence before".into());
    line("# a connection is closed, and the longest a connection may last.".into());
    line(format!("login_grace_seconds = {}", ssh.login_grace_seconds));
    line(format!(
        "idle_timeout_seconds = {}",
        ssh.idle_timeout_seconds
    ));
    line(format!("max_session_seconds = {}", ssh.max_session_seconds));
    line("# Longest command line kept, bytes a client may send per connection, and".into());
    line("# commands per session.".into());
    line(format!("max_line_bytes = {}", ssh.max_line_bytes));
    line(format!("max_session_bytes = {}", ssh.max_session_bytes));
    line(format!("max_commands = {}", ssh.max_commands));
    line("# Connections the kernel queues before they are accepted.".into());
    line(format!("backlog = {}", ssh.backlog));

    let recordings = &config.honeypot.recordings;
    line(String::new());
    line("[honeypot.recordings]".into());
    line("# Record interactive sessions (SSH shell, Telnet) in asciicast v2, one file".into());
    line("# per session in data_dir/recordings/YYYY/MM/DD/SESSION.cast; the session's".into());
    line("# close event names it (data.recording). Play one with `nectar replay SESSION`.".into());
    line(format!("enabled = {}", recordings.enabled));
    line("# Largest recording in bytes; past it the recording stops and a sensor.status".into());
    line("# event names max_recording_bytes.".into());
    line(format!("max_bytes = {}", recordings.max_bytes));

    let uploads = &config.honeypot.uploads;
    line(String::new());
    line("[honeypot.uploads]".into());
    line("# Keep files uploaded over SCP or SFTP, and files written through the fake".into());
    line("# shell (echo > f, printf, tee, cat > f, here-documents) or sent as the input".into());
    line("# of an exec'd `cat > f` (ssh host 'cat > f' < file), whole, in".into());
    line(
        "# data_dir/uploads/, named by SHA-256 (stored once); each is an ssh.upload event.".into(),
    );
    line(format!("enabled = {}", uploads.enabled));
    line("# Largest file kept, in bytes (an SSH connection also ends at".into());
    line("# honeypot.ssh.max_session_bytes), and most bytes the directory may hold.".into());
    line("# (The session's fake filesystem keeps the first 64 KiB of each file, and".into());
    line("# reports its real size and SHA-256.)".into());
    line(format!("max_file_bytes = {}", uploads.max_file_bytes));
    line(format!("quota_bytes = {}", uploads.quota_bytes));

    commented_telnet(config, line);
    crate::honeypot_http_cfg::commented(&config.honeypot.http, line);
}

fn commented_cowrie(config: &Config, line: &mut dyn FnMut(String)) {
    let cowrie = &config.honeypot.cowrie;
    line(String::new());
    line("[honeypot.cowrie]".into());
    line("# Also write SSH and Telnet honeypot events as Cowrie's JSON lines (its".into());
    line("# eventids and field names), for pipelines built for Cowrie.".into());
    line(format!("enabled = {}", cowrie.enabled));
    line("# The file; a relative path is inside data_dir.".into());
    line(format!(
        "path = {}",
        lit(&cowrie.path.display().to_string())
    ));
    line("# Rotate past this many bytes (0: never), keeping this many old files.".into());
    line(format!("max_bytes = {}", cowrie.max_bytes));
    line(format!("keep = {}", cowrie.keep));
}

fn commented_telnet(config: &Config, line: &mut dyn FnMut(String)) {
    let telnet = &config.honeypot.telnet;
    line(String::new());
    line("[honeypot.telnet]".into());
    line("# Run the Telnet honeypot (login prompt, then the same fake shell as SSH).".into());
    line(format!("enabled = {}", telnet.enabled));
    line("# Address and port to listen on; 23 needs CAP_NET_BIND_SERVICE.".into());
    line(format!("listen = {}", lit(&telnet.listen.to_string())));
    line("# \"busybox\": BusyBox telnetd and ash on an ARMv7 IP camera (BusyBox 1.24".into());
    line("# applets, squashfs root, 32-bit ARM binaries), what IoT bots look for;".into());
    line("# \"debian\": Debian 12's telnetd and bash on the SSH honeypot's x86-64 VM.".into());
    let profile = match telnet.profile {
        nectar_honeypot::telnet::TelnetProfile::Busybox => "busybox",
        nectar_honeypot::telnet::TelnetProfile::Debian => "debian",
    };
    line(format!("profile = {}", lit(profile)));
    line("# The busybox camera's processor: \"arm\" (ARMv7, armv7l) or \"mipsel\"".into());
    line("# (little-endian MIPS); uname, /proc/cpuinfo and its ELF headers follow it.".into());
    let arch = match telnet.arch {
        nectar_honeypot::telnet::Arch::Arm => "arm",
        nectar_honeypot::telnet::Arch::Mipsel => "mipsel",
    };
    line(format!("arch = {}", lit(arch)));
    line("# Host name in the login prompt; empty: the SSH honeypot's (the machine's).".into());
    line(format!("hostname = {}", lit(&telnet.hostname)));
    line("# Accepted logins, \"user:password\", first match wins (as in [honeypot.ssh]).".into());
    line(format!("credentials = {}", lit(&telnet.credentials)));
    line("# Milliseconds to wait before \"Login incorrect\" (0: none; BusyBox waits 3000).".into());
    line(format!("failure_delay_ms = {}", telnet.failure_delay_ms));
    line("# Refused logins per connection before it is closed (login allows 3).".into());
    line(format!("max_auth_attempts = {}", telnet.max_auth_attempts));
    line("# Connections open at once, in total and per source address.".into());
    line(format!("max_connections = {}", telnet.max_connections));
    line(format!(
        "max_connections_per_ip = {}",
        telnet.max_connections_per_ip
    ));
    line("# Seconds to log in, seconds of silence before a connection is closed, and".into());
    line("# the longest a connection may last.".into());
    line(format!(
        "login_grace_seconds = {}",
        telnet.login_grace_seconds
    ));
    line(format!(
        "idle_timeout_seconds = {}",
        telnet.idle_timeout_seconds
    ));
    line(format!(
        "max_session_seconds = {}",
        telnet.max_session_seconds
    ));
    line("# Longest line kept, bytes a client may send per connection, and commands".into());
    line("# per session.".into());
    line(format!("max_line_bytes = {}", telnet.max_line_bytes));
    line(format!("max_session_bytes = {}", telnet.max_session_bytes));
    line(format!("max_commands = {}", telnet.max_commands));
    line("# Connections the kernel queues before they are accepted.".into());
    line(format!("backlog = {}", telnet.backlog));
    commented_cowrie(config, line);
}

//! The names of the `data` fields that more than one part of Nectar reads: the
//! honeypots write them, the store's rollups and queries, the Cowrie log, the web
//! pages and `nectar ctl` read them. One constant per name, so a typo is a compile
//! error and "who reads `data.username`?" is a search for `field::USERNAME`.
//!
//! Fields only one module ever touches (a detector's window statistics, one
//! protocol's oddities) keep their literal next to that module's code.

/// The honeypot connection an event belongs to (12 hex digits): every event of
/// one SSH, Telnet or HTTP connection carries the same value.
pub const SESSION: &str = "session";
/// The protocol of a honeypot session (`ssh`, `telnet`, `http`).
pub const PROTOCOL: &str = "protocol";
/// The user name of a login attempt.
pub const USERNAME: &str = "username";
/// The password of a login attempt (absent when sealed: see [`PASSWORD_SEALED`]).
pub const PASSWORD: &str = "password";
/// The password, sealed with the `encrypt_to` identity (base64 age ciphertext).
pub const PASSWORD_SEALED: &str = "password_enc";
/// The user name's bytes in base64, when they are not UTF-8 (`username` then
/// holds them read lossily, with U+FFFD).
pub const USERNAME_BYTES: &str = "username_b64";
/// The password's bytes in base64, when they are not UTF-8 (absent when
/// sealed: `password_b64_enc`).
pub const PASSWORD_BYTES: &str = "password_b64";
/// How a login was attempted (`password`, `publickey`, `keyboard-interactive`).
pub const METHOD: &str = "method";
/// The command line a shell received (absent when sealed: see [`INPUT_SEALED`]).
pub const INPUT: &str = "input";
/// The command line, sealed with the `encrypt_to` identity.
pub const INPUT_SEALED: &str = "input_enc";
/// The bytes typed for a command line when line editing changed them, escaped.
pub const RAW: &str = "raw";
/// On a shell-command event: each simple command it ran, as a process
/// (`image`, `command_line`, `parent_image`), for process-creation rules.
pub const PROCESSES: &str = "processes";
/// On a shell-command event: what the line does, which sets its severity
/// (`harmless`, `recon`, `other`, `execute`, `download`, `anti_forensics`,
/// `persistence`, `credential_change`, `download_execute`).
pub const ACTIVITY: &str = "activity";
/// The names in a command line the fake shell does not have.
pub const UNKNOWN: &str = "unknown";
/// The names the fake shell does not have, sealed with the `encrypt_to` identity.
pub const UNKNOWN_SEALED: &str = "unknown_enc";
/// A URL an attacker fetched in the fake shell (absent when sealed).
pub const URL: &str = "url";
/// The URL, sealed with the `encrypt_to` identity.
pub const URL_SEALED: &str = "url_enc";
/// Where a download was to be written.
pub const OUTFILE: &str = "outfile";
/// The SHA-256 of a file's content, in hex.
pub const SHA256: &str = "sha256";
/// A path: the file written (uploads) or the path requested (HTTP).
pub const PATH: &str = "path";
/// The file name an upload announced.
pub const FILENAME: &str = "filename";
/// Where an upload's content is stored, relative to the data directory.
pub const FILE: &str = "file";
/// Whether an upload's content was stored.
pub const STORED: &str = "stored";
/// How an upload arrived (`scp`, `sftp`, `shell`).
pub const VIA: &str = "via";
/// Whether an upload's content was seen before.
pub const DUPLICATE: &str = "duplicate";
/// The client's version string (SSH identification line).
pub const CLIENT_VERSION: &str = "client_version";
/// The client's SSH key-exchange fingerprint.
pub const HASSH: &str = "hassh";
/// How long a session lasted, in seconds.
pub const DURATION: &str = "duration";
/// The session's recording, relative to the data directory.
pub const RECORDING: &str = "recording";
/// The HTTP request's `User-Agent`.
pub const USER_AGENT: &str = "user_agent";
/// The name of the network statistic that crossed its threshold (`net.alarm`).
pub const STATISTIC: &str = "stat";
/// The API token that posted an event (`POST /api/v1/events`), set by the
/// server; the server's own events never carry it.
pub const SUBMITTED_BY: &str = "submitted_by";
/// Set (true) on an event whose `data` was cut to its producer's bound
/// ([`crate::Event::fit_data`]).
pub const CLIPPED: &str = "clipped";
/// The configuration key of a limit a sensor hit (`sensor.status`).
pub const LIMIT: &str = "limit";

#[cfg(test)]
mod tests {
    #[test]
    fn sealed_names_are_the_clear_name_with_enc() {
        for (clear, sealed) in [
            (super::PASSWORD, super::PASSWORD_SEALED),
            (super::INPUT, super::INPUT_SEALED),
            (super::UNKNOWN, super::UNKNOWN_SEALED),
            (super::URL, super::URL_SEALED),
        ] {
            assert_eq!(format!("{clear}_enc"), sealed);
        }
    }
}

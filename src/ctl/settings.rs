//! Where `nectar ctl` finds the server and its token: flags, then the environment
//! (`NECTAR_URL`, `NECTAR_TOKEN`), then a config file (`NECTAR_CTL_CONFIG`, or
//! `$XDG_CONFIG_HOME/nectar/ctl.toml`, or `~/.config/nectar/ctl.toml`):
//!
//! ```toml
//! url = "http://127.0.0.1:8080"   # the server (default)
//! token = "nct_..."               # an API token (`nectar token create`)
//! # token_file = "/path/to/file"  # or: read the token from this file
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::exit::usage;

/// Used when nothing else names the server: `nectar serve`'s default address.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// The config file's keys; every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CtlFile {
    url: Option<String>,
    token: Option<String>,
    token_file: Option<PathBuf>,
}

/// The resolved server and token.
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub token: Option<String>,
}

/// The config file to read: `NECTAR_CTL_CONFIG` (must exist), else the XDG location
/// if it exists.
fn config_path() -> Option<(PathBuf, bool)> {
    if let Some(path) = std::env::var_os("NECTAR_CTL_CONFIG").filter(|p| !p.is_empty()) {
        return Some((PathBuf::from(path), true));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some((base.join("nectar").join("ctl.toml"), false))
}

fn read_file(path: &Path, required: bool) -> anyhow::Result<CtlFile> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(CtlFile::default());
        }
        Err(e) => {
            return Err(usage(format!(
                "cannot read {} (NECTAR_CTL_CONFIG): {e}",
                path.display()
            )));
        }
    };
    toml::from_str(&text).map_err(|e| {
        usage(format!(
            "{}: {}; valid keys are url, token and token_file",
            path.display(),
            e.message()
        ))
    })
}

/// Resolves the settings; flag and environment values arrive already merged by clap
/// (`flag_url`, `flag_token`).
pub fn resolve(flag_url: Option<String>, flag_token: Option<String>) -> anyhow::Result<Settings> {
    let file = match config_path() {
        Some((path, required)) => {
            read_file(&path, required).with_context(|| format!("reading {}", path.display()))?
        }
        None => CtlFile::default(),
    };
    let url = flag_url
        .or(file.url)
        .unwrap_or_else(|| DEFAULT_URL.to_owned());
    let url = check_url(&url)?;
    let token = match (flag_token, file.token, file.token_file) {
        (Some(t), _, _) | (None, Some(t), _) => Some(t),
        (None, None, Some(path)) => Some(
            std::fs::read_to_string(&path)
                .map_err(|e| usage(format!("cannot read token_file {}: {e}", path.display())))?,
        ),
        (None, None, None) => None,
    };
    let token = token.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if let Some(t) = &token
        && !t.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(usage(
            "the token holds spaces or control characters; copy it exactly as `nectar token create` printed it",
        ));
    }
    Ok(Settings { url, token })
}

/// The server URL without a trailing slash; only `http://` (this build has no TLS
/// client: reach a remote server through an SSH tunnel or a local TLS proxy).
fn check_url(url: &str) -> anyhow::Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed)
        .map_err(|e| usage(format!("--url / NECTAR_URL {trimmed:?} is not a URL: {e}")))?;
    match parsed.scheme() {
        "http" => {}
        "https" => {
            return Err(usage(format!(
                "--url {trimmed:?}: https is not supported by this build of `nectar ctl`; \
                 use http:// over loopback, an SSH tunnel (ssh -L 8080:127.0.0.1:8080 HOST) or a local TLS proxy"
            )));
        }
        other => {
            return Err(usage(format!(
                "--url {trimmed:?}: scheme {other:?} is not http; e.g. http://127.0.0.1:8080"
            )));
        }
    }
    if parsed.host_str().is_none() {
        return Err(usage(format!("--url {trimmed:?} names no host")));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            check_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(check_url("https://x").is_err());
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("nonsense").is_err());
    }

    #[test]
    fn file_keys_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl.toml");
        std::fs::write(&path, "url = \"http://h:1\"\ntokn = \"x\"\n").unwrap();
        let err = read_file(&path, true).unwrap_err().to_string();
        assert!(err.contains("tokn"), "{err}");
        std::fs::write(&path, "url = \"http://h:1\"\ntoken = \"x\"\n").unwrap();
        let file = read_file(&path, true).unwrap();
        assert_eq!(file.token.as_deref(), Some("x"));
        assert!(
            read_file(&dir.path().join("absent"), false)
                .unwrap()
                .url
                .is_none()
        );
        assert!(read_file(&dir.path().join("absent"), true).is_err());
    }
}

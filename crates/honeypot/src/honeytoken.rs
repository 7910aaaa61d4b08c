//! Honeytokens: fake secrets (database passwords, cloud keys, API tokens) made once
//! per installation, planted in the HTTP honeypot's exposed files, and watched for
//! everywhere else. A secret that only ever existed in our bait cannot be used by
//! anyone who did not read the bait, so its use (as an SSH password, in an HTTP
//! login or header) is a `credential.reuse` event linking the two visits.
//!
//! The tokens live in `DATA_DIR/honeytokens.json` (mode 0600) so they survive
//! restarts and differ between installations.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use nectar_event::field;
use nectar_event::{Event, Kind, Severity};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::Error;

/// One fake secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Honeytoken {
    /// What it pretends to be (`db_password`, `aws_secret_access_key`, ...).
    pub name: String,
    /// The secret itself.
    pub value: String,
    /// Where it is planted (the pages that show it).
    pub planted: String,
}

/// The file name in the data directory.
pub const FILE: &str = "honeytokens.json";

/// The tokens of this installation, with a matcher to find them in text.
#[derive(Debug, Clone)]
pub struct Honeytokens {
    tokens: Vec<Honeytoken>,
    matcher: Option<AhoCorasick>,
}

/// (name, where it is planted, how to make it).
const RECIPES: &[(&str, &str, Recipe)] = &[
    (
        "db_password",
        "/.env, /config.php.bak, /phpinfo.php",
        Recipe::Password(16),
    ),
    ("db_root_password", "/.env", Recipe::Password(20)),
    ("admin_password", "/config.php.bak", Recipe::Password(14)),
    ("mail_password", "/.env", Recipe::Password(18)),
    ("redis_password", "/.env", Recipe::Password(24)),
    ("app_key", "/.env", Recipe::Prefixed("base64:", 44, B64)),
    ("jwt_secret", "/.env", Recipe::Prefixed("", 48, ALNUM)),
    (
        "aws_access_key_id",
        "/.env, /phpinfo.php",
        Recipe::Prefixed("AKIA", 16, UPPER_DIGITS),
    ),
    (
        "aws_secret_access_key",
        "/.env, /phpinfo.php",
        Recipe::Prefixed("", 40, B64),
    ),
    (
        "git_token",
        "/.git/config",
        Recipe::Prefixed("ghp_", 36, ALNUM),
    ),
    (
        "stripe_key",
        "/.env",
        Recipe::Prefixed("sk_live_", 24, ALNUM),
    ),
];

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// Passwords look human-made but strong: letters, digits and a few symbols.
const PASSWORD: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%*-_";

#[derive(Debug, Clone, Copy)]
enum Recipe {
    Password(usize),
    Prefixed(&'static str, usize, &'static [u8]),
}

impl Recipe {
    fn make(self, rng: &mut impl Rng) -> String {
        let (prefix, len, alphabet) = match self {
            Recipe::Password(n) => ("", n, PASSWORD),
            Recipe::Prefixed(p, n, a) => (p, n, a),
        };
        let mut s = String::with_capacity(prefix.len() + len);
        s.push_str(prefix);
        for _ in 0..len {
            s.push(char::from(alphabet[rng.random_range(0..alphabet.len())]));
        }
        s
    }
}

/// Shortest value worth matching in text (shorter ones would match by chance).
const MIN_MATCH_LEN: usize = 12;

impl Honeytokens {
    /// No tokens (a honeypot running without the HTTP one's bait).
    pub fn empty() -> Honeytokens {
        Honeytokens {
            tokens: Vec::new(),
            matcher: None,
        }
    }

    /// Reads `DIR/honeytokens.json`, or makes new tokens and writes it. Tokens
    /// missing from an older file are added.
    pub fn load_or_create(dir: &Path) -> Result<Honeytokens, Error> {
        let path = dir.join(FILE);
        let fail = |reason: String| Error::State {
            path: path.clone(),
            reason,
        };
        let mut tokens: Vec<Honeytoken> = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                fail(format!(
                    "not a honeytoken file ({e}); move it away to make new tokens"
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(fail(e.to_string())),
        };
        let before = tokens.len();
        let mut rng = rand::rng();
        for (name, planted, recipe) in RECIPES {
            if !tokens.iter().any(|t| t.name == *name) {
                tokens.push(Honeytoken {
                    name: (*name).into(),
                    value: recipe.make(&mut rng),
                    planted: (*planted).into(),
                });
            }
        }
        if tokens.len() != before {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
            let text = serde_json::to_vec_pretty(&tokens).map_err(|e| fail(e.to_string()))?;
            crate::ssh::hostkeys::write_private(&path, &text).map_err(|e| fail(e.to_string()))?;
            tracing::info!(path = %path.display(), "Made this installation's honeytokens.");
        }
        Ok(Honeytokens::from_tokens(tokens))
    }

    /// Tokens given as they are (tests, tools).
    pub fn from_tokens(tokens: Vec<Honeytoken>) -> Honeytokens {
        let patterns: Vec<&str> = tokens
            .iter()
            .filter(|t| t.value.len() >= MIN_MATCH_LEN)
            .map(|t| t.value.as_str())
            .collect();
        let matcher = (!patterns.is_empty())
            .then(|| AhoCorasick::new(&patterns).ok())
            .flatten();
        Honeytokens { tokens, matcher }
    }

    /// Every token.
    pub fn all(&self) -> &[Honeytoken] {
        &self.tokens
    }

    /// The value of token `name` (empty if there is none).
    pub fn value(&self, name: &str) -> &str {
        self.tokens
            .iter()
            .find(|t| t.name == name)
            .map_or("", |t| t.value.as_str())
    }

    /// The token equal to `secret`, if any (a password typed somewhere).
    pub fn exact(&self, secret: &str) -> Option<&Honeytoken> {
        if secret.is_empty() {
            return None;
        }
        self.tokens.iter().find(|t| t.value == secret)
    }

    /// The first token found inside `text` (a header, a body).
    pub fn find_in(&self, text: &[u8]) -> Option<&Honeytoken> {
        let m = self.matcher.as_ref()?.find(text)?;
        let value = &text[m.start()..m.end()];
        self.tokens.iter().find(|t| t.value.as_bytes() == value)
    }

    /// The `credential.reuse` event for `token` seen in `protocol` (`ssh`, `http`)
    /// as `field` (`password`, `header`, `body`).
    pub fn reuse_event(
        token: &Honeytoken,
        sensor: &str,
        protocol: &str,
        field: &str,
        src: Option<(IpAddr, u16)>,
    ) -> Event {
        let mut event = Event::new(
            sensor.to_owned(),
            Kind::CredentialReuse,
            Severity::High,
            format!(
                "honeytoken {} (planted in {}) used over {protocol}",
                token.name, token.planted
            ),
        )
        .with("token", token.name.clone())
        .with("planted", token.planted.clone())
        .with(field::PROTOCOL, protocol)
        .with("field", field)
        .with("value", token.value.clone());
        if let Some((ip, port)) = src {
            event = event.from_addr(ip, Some(port));
        }
        event
    }
}

/// Where the tokens of `data_dir` are kept.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_made_once_private_unique_and_found() {
        let dir = tempfile::tempdir().unwrap();
        let a = Honeytokens::load_or_create(dir.path()).unwrap();
        let b = Honeytokens::load_or_create(dir.path()).unwrap();
        assert_eq!(a.all(), b.all());
        assert_eq!(a.all().len(), RECIPES.len());
        let other = tempfile::tempdir().unwrap();
        let c = Honeytokens::load_or_create(other.path()).unwrap();
        assert_ne!(a.value("db_password"), c.value("db_password"));
        assert!(a.value("aws_access_key_id").starts_with("AKIA"));
        assert_eq!(a.value("aws_access_key_id").len(), 20);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let pw = a.value("db_password").to_owned();
        assert_eq!(a.exact(&pw).unwrap().name, "db_password");
        assert!(a.exact("123456").is_none());
        let text = format!("Authorization: Basic x\r\nX: {}\r\n", a.value("git_token"));
        assert_eq!(a.find_in(text.as_bytes()).unwrap().name, "git_token");
        assert!(a.find_in(b"nothing here").is_none());
        std::fs::write(path(dir.path()), b"garbage").unwrap();
        let e = Honeytokens::load_or_create(dir.path()).unwrap_err();
        assert!(e.to_string().contains("honeytokens.json"), "{e}");
    }
}

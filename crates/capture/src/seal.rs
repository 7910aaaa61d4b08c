//! Encryption at rest with age (X25519 recipients): with `encrypt_to` set, what a
//! sensor captures — passwords in events, recordings, uploads — is written
//! encrypted to a public key, so a sensor broken into cannot read back what it
//! collected; only the holder of the identity (the private key) can.
//!
//! [`Sealer`] holds the public key and encrypts; [`Opener`] holds identities and
//! decrypts. A secret in an event becomes `FIELD_enc`: the binary age file,
//! base64-encoded (no clear field is kept). Files are age files (`.age`), whole.

use std::io::{BufRead, Read, Write};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

/// Why encryption or decryption failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// `encrypt_to` is not an age X25519 public key.
    #[error(
        "not an age public key (it starts with \"age1\"; make one with `nectar age-keygen` or `age-keygen`): {0}"
    )]
    Recipient(String),
    /// The identity file holds no usable age X25519 key.
    #[error("no age identity (a line AGE-SECRET-KEY-1...) in the identity file")]
    Identity,
    /// The data is not an age file for one of these identities, or it is damaged.
    #[error("cannot decrypt: {0}")]
    Decrypt(String),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Encrypts to one age recipient.
#[derive(Clone)]
pub struct Sealer {
    recipient: age::x25519::Recipient,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer({})", self.recipient)
    }
}

impl Sealer {
    /// A sealer for `age1...`.
    pub fn new(recipient: &str) -> Result<Sealer, SealError> {
        let recipient = age::x25519::Recipient::from_str(recipient.trim())
            .map_err(|e| SealError::Recipient(e.to_string()))?;
        Ok(Sealer { recipient })
    }

    /// The public key.
    pub fn recipient(&self) -> String {
        self.recipient.to_string()
    }

    /// Starts an age file on `output`; `finish()` the writer to complete it.
    pub fn wrap<W: Write>(&self, output: W) -> std::io::Result<age::stream::StreamWriter<W>> {
        let encryptor = age::Encryptor::with_recipients(std::iter::once(
            &self.recipient as &dyn age::Recipient,
        ))
        .map_err(std::io::Error::other)?;
        encryptor.wrap_output(output)
    }

    /// A secret for an event field: the age file of `plaintext`, in base64.
    pub fn seal_text(&self, plaintext: &str) -> String {
        let mut out = Vec::with_capacity(plaintext.len() + 256);
        let sealed = self.wrap(&mut out).and_then(|mut w| {
            w.write_all(plaintext.as_bytes())?;
            w.finish().map(|_| ())
        });
        match sealed {
            Ok(()) => BASE64.encode(&out),
            // Encrypting into memory does not fail; if it ever did, keep nothing.
            Err(_) => String::new(),
        }
    }
}

/// Decrypts with one or more age identities.
pub struct Opener {
    identities: Vec<age::x25519::Identity>,
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Opener({} identities)", self.identities.len())
    }
}

impl Opener {
    /// Identities from an identity file's text (as `age-keygen` writes it:
    /// `AGE-SECRET-KEY-1...` lines, `#` comments).
    pub fn parse(text: &str) -> Result<Opener, SealError> {
        let identities: Vec<age::x25519::Identity> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| age::x25519::Identity::from_str(l).ok())
            .collect();
        if identities.is_empty() {
            return Err(SealError::Identity);
        }
        Ok(Opener { identities })
    }

    /// Identities from a file.
    pub fn from_file(path: &std::path::Path) -> Result<Opener, SealError> {
        Opener::parse(&std::fs::read_to_string(path)?)
    }

    /// A reader of the plaintext of an age file.
    pub fn open<R: BufRead>(&self, input: R) -> Result<impl Read, SealError> {
        let decryptor =
            age::Decryptor::new_buffered(input).map_err(|e| SealError::Decrypt(e.to_string()))?;
        decryptor
            .decrypt(self.identities.iter().map(|i| i as &dyn age::Identity))
            .map_err(|e| SealError::Decrypt(e.to_string()))
    }

    /// The plaintext of a secret written by [`Sealer::seal_text`].
    pub fn open_text(&self, sealed: &str) -> Result<String, SealError> {
        let bytes = BASE64
            .decode(sealed.trim())
            .map_err(|e| SealError::Decrypt(e.to_string()))?;
        let mut text = String::new();
        self.open(&bytes[..])?
            .take(1 << 20)
            .read_to_string(&mut text)
            .map_err(|e| SealError::Decrypt(e.to_string()))?;
        Ok(text)
    }
}

/// A new identity: (the identity file's text, its public key).
pub fn generate() -> (String, String) {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let text = format!(
        "# created: {created}\n# public key: {public}\n{}\n",
        identity.to_string().expose_secret()
    );
    (text, public)
}

/// Whether `data` starts like an age file.
pub fn is_age(data: &[u8]) -> bool {
    data.starts_with(b"age-encryption.org/v1\n")
}

/// [`open_fields`] on an object (an event's `data`).
pub fn open_map(map: &mut serde_json::Map<String, serde_json::Value>, opener: &Opener) -> usize {
    let mut value = serde_json::Value::Object(std::mem::take(map));
    let count = open_fields(&mut value, opener);
    if let serde_json::Value::Object(m) = value {
        *map = m;
    }
    count
}

/// Shows every `*_enc` field of an object as `FIELD: "(encrypted)"`, for a reader
/// without the identity. Returns how many there were.
pub fn mark_encrypted(map: &mut serde_json::Map<String, serde_json::Value>) -> usize {
    let sealed: Vec<String> = map
        .keys()
        .filter(|k| k.ends_with("_enc"))
        .cloned()
        .collect();
    for key in &sealed {
        map.remove(key);
        map.insert(
            key.trim_end_matches("_enc").to_owned(),
            "(encrypted)".into(),
        );
    }
    sealed.len()
}

/// Decrypts every `*_enc` field of a JSON value (recursively) into the field
/// without the suffix; fields that do not decrypt are left as they are. Returns
/// how many were decrypted.
pub fn open_fields(value: &mut serde_json::Value, opener: &Opener) -> usize {
    let mut count = 0;
    match value {
        serde_json::Value::Object(map) => {
            let sealed: Vec<(String, String)> = map
                .iter()
                .filter_map(|(k, v)| {
                    let clear = k.strip_suffix("_enc")?;
                    Some((clear.to_owned(), v.as_str()?.to_owned()))
                })
                .collect();
            for (clear, text) in sealed {
                if let Ok(plain) = opener.open_text(&text) {
                    map.remove(&format!("{clear}_enc"));
                    map.insert(clear, plain.into());
                    count += 1;
                }
            }
            for v in map.values_mut() {
                count += open_fields(v, opener);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                count += open_fields(v, opener);
            }
        }
        _ => {}
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_streams_round_trip_only_with_the_identity() {
        let (identity, public) = generate();
        assert!(public.starts_with("age1"));
        let sealer = Sealer::new(&public).unwrap();
        let opener = Opener::parse(&identity).unwrap();
        let sealed = sealer.seal_text("hunter2");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(opener.open_text(&sealed).unwrap(), "hunter2");
        let (other, _) = generate();
        assert!(Opener::parse(&other).unwrap().open_text(&sealed).is_err());

        let mut file = Vec::new();
        let mut w = sealer.wrap(&mut file).unwrap();
        w.write_all(b"recording").unwrap();
        w.finish().unwrap();
        assert!(is_age(&file));
        let mut back = String::new();
        opener
            .open(&file[..])
            .unwrap()
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, "recording");

        let mut event = serde_json::json!({"data": {"password_enc": sealed, "username": "root"}});
        assert_eq!(open_fields(&mut event, &opener), 1);
        assert_eq!(event["data"]["password"], "hunter2");
        assert!(event["data"].get("password_enc").is_none());
    }

    #[test]
    fn bad_keys_are_named() {
        assert!(matches!(
            Sealer::new("age1nope"),
            Err(SealError::Recipient(_))
        ));
        assert!(matches!(
            Opener::parse("# nothing\n"),
            Err(SealError::Identity)
        ));
    }
}

//! `nectar decrypt` and `nectar age-keygen`: reading back what a sensor captured
//! with `[honeypot] encrypt_to`, on a machine that holds the identity.
//!
//! `decrypt` takes a JSON-lines log (events.jsonl, the Cowrie log, an API export)
//! and prints each line with its `*_enc` fields decrypted (`password_enc` becomes
//! `password`), or an age file (a `.cast.age` recording, an upload) and prints its
//! plaintext.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use nectar_capture::seal::{self, Opener};

use crate::exit::usage;

#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The age identity file (the private key of `honeypot.encrypt_to`).
    #[arg(long, short = 'i', value_name = "KEY")]
    identity: PathBuf,

    /// A JSON-lines log, or an age-encrypted recording or upload.
    file: PathBuf,

    /// Write here instead of stdout.
    #[arg(long, short = 'o', value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write the identity here (mode 0600; must not exist). Without it, stdout.
    #[arg(long, short = 'o', value_name = "PATH")]
    output: Option<PathBuf>,
}

/// Reads the identity file, naming the flag when it is unusable.
pub fn identity(path: &std::path::Path, flag: &str) -> anyhow::Result<Opener> {
    Opener::from_file(path).map_err(|e| usage(format!("{flag} {}: {e}", path.display())))
}

pub fn run(args: &DecryptArgs) -> anyhow::Result<()> {
    let opener = identity(&args.identity, "--identity")?;
    let file = std::fs::File::open(&args.file)
        .map_err(|e| usage(format!("{}: {e}", args.file.display())))?;
    let mut input = BufReader::new(file);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let age_file = seal::is_age(input.fill_buf().context("cannot read the file")?);
    if age_file {
        let mut plain = opener
            .open(input)
            .map_err(|e| usage(format!("{}: {e}", args.file.display())))?;
        std::io::copy(&mut plain, &mut out).context("cannot write the plaintext")?;
        return out.flush().context("cannot write the plaintext");
    }
    let mut decrypted = 0;
    for (n, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", args.file.display(), n + 1))?;
        let text = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(mut value) => {
                decrypted += seal::open_fields(&mut value, &opener);
                value.to_string()
            }
            // Not JSON: passed through, so a mixed file loses nothing.
            Err(_) => line,
        };
        writeln!(out, "{text}").context("cannot write")?;
    }
    out.flush().context("cannot write")?;
    eprintln!("{decrypted} fields decrypted");
    Ok(())
}

pub fn keygen(args: &KeygenArgs) -> anyhow::Result<()> {
    let (text, public) = seal::generate();
    match &args.output {
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options
                .open(path)
                .map_err(|e| usage(format!("--output {}: {e}", path.display())))?;
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => print!("{text}"),
    }
    eprintln!("Public key: {public}");
    Ok(())
}

/// Reads a recording, decrypting it with `identity` if it is an age file.
pub fn read_recording(
    path: &std::path::Path,
    identity: Option<&Opener>,
) -> anyhow::Result<Vec<u8>> {
    // A recording is bounded when written; this bounds what is read back.
    const MAX: u64 = 256 * 1024 * 1024;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut input = BufReader::new(file);
    let mut data = Vec::new();
    if seal::is_age(input.fill_buf()?) {
        let Some(identity) = identity else {
            return Err(usage(format!(
                "{} is encrypted: give --identity KEY (the private key of honeypot.encrypt_to)",
                path.display()
            )));
        };
        identity
            .open(input)
            .map_err(|e| usage(format!("{}: {e}", path.display())))?
            .take(MAX)
            .read_to_end(&mut data)
            .with_context(|| format!("cannot decrypt {}", path.display()))?;
    } else {
        input.take(MAX).read_to_end(&mut data)?;
    }
    Ok(data)
}

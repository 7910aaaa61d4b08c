//! `nectar replay SESSION`: plays a honeypot session's recording in the terminal
//! with its original timing. The recording is attacker output, so by default it
//! goes through `nectar_capture::terminal::Filter` (colours and cursor movement
//! kept; title, clipboard, device reports and other escape sequences dropped);
//! `--raw` passes it through untouched.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use nectar_capture::asciicast;
use nectar_capture::terminal::Filter;

use crate::config::Config;
use crate::exit::usage;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A session id (as in the events' `data.session`), looked up in
    /// DATA_DIR/recordings, or the path of a .cast file.
    session: String,

    /// Playback speed: 2 plays twice as fast.
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    speed: f64,

    /// Longest pause, in seconds, however long the attacker was idle.
    #[arg(long, value_name = "SECONDS")]
    max_idle: Option<f64>,

    /// The age identity file, for a recording encrypted with `honeypot.encrypt_to`.
    #[arg(long, short = 'i', value_name = "KEY")]
    identity: Option<PathBuf>,

    /// Write the recorded output byte for byte, escape sequences included (an
    /// attacker's output can then set your terminal's title, clipboard, ...).
    #[arg(long)]
    raw: bool,
}

pub fn run(config: &Config, args: &ReplayArgs) -> anyhow::Result<()> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(usage("--speed: must be a number greater than 0"));
    }
    if let Some(idle) = args.max_idle
        && !(idle.is_finite() && idle >= 0.0)
    {
        return Err(usage("--max-idle: must be a number of seconds, 0 or more"));
    }
    let path = locate(&config.data_dir, &args.session)?;
    let identity = match &args.identity {
        Some(key) => Some(crate::decrypt::identity(key, "--identity")?),
        None => None,
    };
    let data = crate::decrypt::read_recording(&path, identity.as_ref())?;
    let (_, frames) =
        asciicast::read(&data[..]).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut filter = Filter::new();
    let mut text = String::new();
    let mut clock = 0.0f64;
    for frame in frames.iter().filter(|f| f.code == "o") {
        let mut gap = (frame.time - clock).max(0.0);
        clock = frame.time.max(clock);
        if let Some(idle) = args.max_idle {
            gap = gap.min(idle);
        }
        let wait = gap / args.speed;
        if wait > 0.0 {
            out.flush().ok();
            std::thread::sleep(Duration::from_secs_f64(wait.min(86_400.0)));
        }
        let shown = if args.raw {
            frame.data.as_str()
        } else {
            text.clear();
            filter.push(&frame.data, &mut text);
            text.as_str()
        };
        if let Err(e) = out.write_all(shown.as_bytes()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e).context("cannot write to stdout");
        }
    }
    out.flush().ok();
    drop(out);
    if filter.dropped() > 0 {
        eprintln!(
            "\n[nectar replay: {} escape sequences or control characters removed; --raw keeps them]",
            filter.dropped()
        );
    }
    Ok(())
}

/// The recording file named by `session`: a path if it looks like one, else a
/// session id under the data directory.
fn locate(data_dir: &Path, session: &str) -> anyhow::Result<PathBuf> {
    let as_path = Path::new(session);
    if session.contains('/') || session.ends_with(".cast") || session.ends_with(".age") {
        if as_path.is_file() {
            return Ok(as_path.to_owned());
        }
        return Err(usage(format!("{session}: no such recording file")));
    }
    asciicast::find(data_dir, session).ok_or_else(|| {
        usage(format!(
            "no recording of session {session:?} in {} (give a session id from the events' data.session, or a .cast file)",
            data_dir.join("recordings").display()
        ))
    })
}

//! nmap as a child process: at low priority (`nice -n 10`), with a time
//! limit (killed when it passes), its XML read from standard output with a
//! size bound, its standard error kept (bounded) for the failure message.

use std::process::Stdio;
use std::time::Duration;

use ipnet::IpNet;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use super::xml::{self, MAX_XML_BYTES, NmapRun, NmapXmlError};

/// Most bytes of nmap's standard error kept.
const MAX_STDERR: u64 = 16 * 1024;

/// Why a scan failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// nmap could not be started.
    #[error("cannot start {command:?}: {source} (see [inventory] nmap)")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// It ran longer than `[inventory] scan_timeout_secs`.
    #[error("nmap ran longer than {0:?} and was stopped ([inventory] scan_timeout_secs)")]
    Timeout(Duration),
    /// It exited with an error.
    #[error("nmap failed ({status}): {stderr}")]
    Failed {
        /// Its exit status.
        status: String,
        /// What it said.
        stderr: String,
    },
    /// Its output did not parse.
    #[error("nmap's XML output: {0}")]
    Xml(#[from] NmapXmlError),
    /// Reading its output failed.
    #[error("reading nmap's output: {0}")]
    Io(#[from] std::io::Error),
}

/// The full command line: `nice -n 10`, the configured nmap command, the
/// profile's options, XML to stdout, no DNS, then the targets.
pub fn command_line(nmap: &[String], profile: &[String], targets: &[IpNet]) -> Vec<String> {
    let mut v: Vec<String> = vec!["nice".into(), "-n".into(), "10".into()];
    v.extend(nmap.iter().cloned());
    v.extend(profile.iter().cloned());
    v.extend(["-oX", "-", "--no-stylesheet", "-n"].map(String::from));
    v.extend(targets.iter().map(|t| {
        if t.prefix_len() == t.max_prefix_len() {
            t.addr().to_string()
        } else {
            t.to_string()
        }
    }));
    v
}

/// Runs `argv` and parses its XML.
pub async fn run(argv: &[String], limit: Duration) -> Result<NmapRun, RunError> {
    let (program, args) = argv.split_first().ok_or_else(|| RunError::Spawn {
        command: String::new(),
        source: std::io::Error::other("empty command"),
    })?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| RunError::Spawn {
            command: argv.join(" "),
            source,
        })?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("no stdout"))?;
    let mut stderr = child
        .stderr
        .take()
        .ok_or_else(|| std::io::Error::other("no stderr"))?;
    let work = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut limited_out = (&mut stdout).take(MAX_XML_BYTES as u64 + 1);
        let read_out = limited_out.read_to_end(&mut out);
        let read_err = async {
            let mut limited_err = (&mut stderr).take(MAX_STDERR);
            limited_err.read_to_end(&mut err).await?;
            // The rest is dropped, so nmap never blocks on a full pipe.
            tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await
        };
        let (a, b) = tokio::join!(read_out, read_err);
        a?;
        b?;
        if out.len() > MAX_XML_BYTES {
            return Err(RunError::Xml(NmapXmlError::TooLarge));
        }
        let status = child.wait().await?;
        Ok((status, out, err))
    };
    let (status, out, err) = match tokio::time::timeout(limit, work).await {
        Ok(r) => r?,
        // Dropping the future drops the child: killed (kill_on_drop).
        Err(_) => return Err(RunError::Timeout(limit)),
    };
    if !status.success() {
        return Err(RunError::Failed {
            status: status.to_string(),
            stderr: String::from_utf8_lossy(&err)
                .trim()
                .chars()
                .take(1000)
                .collect(),
        });
    }
    Ok(xml::parse(&out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_nice_and_ends_with_the_targets() {
        let v = command_line(
            &["nmap".into()],
            &["-F".into()],
            &[
                "192.0.2.7/32".parse().unwrap(),
                "192.0.2.0/28".parse().unwrap(),
            ],
        );
        assert_eq!(
            v.join(" "),
            "nice -n 10 nmap -F -oX - --no-stylesheet -n 192.0.2.7 192.0.2.0/28"
        );
    }

    #[tokio::test]
    async fn failures_and_time_limits_are_errors() {
        let sh = |s: &str| vec!["sh".to_string(), "-c".to_string(), s.to_string()];
        let e = run(&sh("echo boom >&2; exit 3"), Duration::from_secs(30))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("boom"), "{e}");
        let e = run(&sh("exec sleep 30"), Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(e, RunError::Timeout(_)), "{e}");
        let e = run(&sh("echo '<nmaprun>'"), Duration::from_secs(30))
            .await
            .unwrap_err();
        assert!(matches!(e, RunError::Xml(NmapXmlError::Truncated)), "{e}");
        let e = run(&["/nonexistent/nmap".to_string()], Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(e, RunError::Spawn { .. }), "{e}");
    }
}

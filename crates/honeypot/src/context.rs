//! What every honeypot of one sensor shares, decided once at start: the machine
//! they all pretend to be ([`Machine`]) and the rest of their surroundings
//! ([`HoneypotContext`]: sensor name, bus, capture, honeytokens, state directory).
//!
//! One context and one `start(config, &context)` per honeypot, so the SSH prompt,
//! the Telnet shell and the HTTP bait pages (`/phpinfo.php`, `/server-status`)
//! tell one story: the same host name, whether `[honeypot.ssh] hostname` is set
//! or generated. Before, the HTTP honeypot read the SSH state directory's name
//! file itself and missed a configured name.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nectar_bus::EventSender;

use crate::Error;
use crate::capture::Capture;
use crate::honeytoken::Honeytokens;

/// The machine every honeypot of a sensor impersonates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// Its host name: in shell prompts, `hostname`, `uname -n`, and the HTTP
    /// bait pages.
    pub hostname: String,
}

impl Machine {
    /// The machine named `configured` (`[honeypot.ssh] hostname`) when it is not
    /// empty; else the name picked on first start and kept in `state_dir/ssh/hostname`
    /// (where the SSH honeypot always kept it, so an upgrade keeps the name), so it
    /// does not change on restart and is not the same on every installation.
    pub fn decide(configured: &str, state_dir: &Path) -> Result<Machine, Error> {
        let hostname = if configured.is_empty() {
            crate::listener::persistent_hostname(&state_dir.join("ssh"))?
        } else {
            configured.to_owned()
        };
        Ok(Machine { hostname })
    }
}

/// Most bytes of JSON in a honeypot event's `data`: anyone can connect and
/// make events, so they stay far below the API's bound (256 KiB); longer
/// values are cut and the event marked `clipped` (#26 item 2: 3,549 events of
/// ~66 KB made an export take 600 MB).
pub const MAX_DATA_BYTES: usize = 16 * 1024;

/// What a honeypot needs besides its own configuration section.
#[derive(Clone)]
pub struct HoneypotContext {
    /// The sensor name its events carry.
    pub sensor: String,
    /// Where its events go.
    pub bus: EventSender,
    /// Session recordings, uploads, and sealing of captured secrets.
    pub capture: Arc<Capture>,
    /// The planted credentials to watch for in logins.
    pub honeytokens: Arc<Honeytokens>,
    /// The machine every honeypot impersonates.
    pub machine: Arc<Machine>,
    /// Where honeypots keep their state, each in a directory of its own
    /// (`ssh/` host keys, `http/` install date and TLS certificate, ...).
    pub state_dir: PathBuf,
}

impl HoneypotContext {
    /// A context for `machine` with state in `state_dir`, events to `bus` as
    /// `sensor` (their `data` cut to [`MAX_DATA_BYTES`]), nothing captured and
    /// no honeytokens (add them with the fields).
    pub fn new(
        state_dir: &Path,
        sensor: &str,
        bus: EventSender,
        machine: Machine,
    ) -> HoneypotContext {
        HoneypotContext {
            sensor: sensor.to_owned(),
            bus: bus.with_data_bound(MAX_DATA_BYTES),
            capture: Capture::disabled(),
            honeytokens: Arc::new(Honeytokens::empty()),
            machine: Arc::new(machine),
            state_dir: state_dir.to_owned(),
        }
    }

    /// The state directory of one honeypot (`ssh`, `telnet`, `http`).
    pub fn dir(&self, honeypot: &str) -> PathBuf {
        self.state_dir.join(honeypot)
    }

    /// The host name a honeypot shows: its own `configured` one when set (a
    /// Telnet camera may be another machine), else the shared machine's.
    pub(crate) fn hostname(&self, configured: &str) -> String {
        if configured.is_empty() {
            self.machine.hostname.clone()
        } else {
            configured.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_name_wins_and_a_generated_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let named = Machine::decide("web01", dir.path()).unwrap();
        assert_eq!(named.hostname, "web01");
        assert!(!dir.path().join("ssh/hostname").exists());
        let generated = Machine::decide("", dir.path()).unwrap();
        assert!(!generated.hostname.is_empty());
        assert_eq!(Machine::decide("", dir.path()).unwrap(), generated);
        let (bus, _events) = EventSender::channel(1);
        let cx = HoneypotContext::new(dir.path(), "test", bus, generated.clone());
        assert_eq!(cx.hostname(""), generated.hostname);
        assert_eq!(cx.hostname("cam-3"), "cam-3");
        assert_eq!(cx.dir("http"), dir.path().join("http"));
    }
}

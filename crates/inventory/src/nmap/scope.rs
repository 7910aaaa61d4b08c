//! The scope check every scan target passes before nmap may start: each
//! target is an address or a prefix (never a host name nmap would resolve,
//! never an option), and lies wholly inside `[inventory] scan_scope`.

use ipnet::IpNet;

use crate::config::{Networks, parse_prefix};

/// Most targets in one scan.
pub const MAX_TARGETS: usize = 256;

/// Why a scan's targets were refused; each names the target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// No targets.
    #[error("targets: give at least one address or prefix")]
    Empty,
    /// More than [`MAX_TARGETS`].
    #[error("targets: at most {MAX_TARGETS} per scan")]
    TooMany,
    /// Not an address or a prefix.
    #[error("target {0:?} is not an address or a prefix (host names are not scanned)")]
    NotAddress(String),
    /// Outside `[inventory] scan_scope`.
    #[error("target {0} is outside [inventory] scan_scope; nmap was not started")]
    OutOfScope(String),
}

/// The targets as prefixes, if every one is in `scope`.
pub fn check_targets(scope: &Networks, targets: &[String]) -> Result<Vec<IpNet>, TargetError> {
    if targets.is_empty() {
        return Err(TargetError::Empty);
    }
    if targets.len() > MAX_TARGETS {
        return Err(TargetError::TooMany);
    }
    let shown = |t: &str| t.chars().take(64).collect::<String>();
    targets
        .iter()
        .map(|t| {
            let net = parse_prefix(t).map_err(|_| TargetError::NotAddress(shown(t)))?;
            if scope.covers(&net) {
                Ok(net)
            } else {
                Err(TargetError::OutOfScope(shown(t.trim())))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_inside_the_scope_pass() {
        let scope = Networks::new(vec!["192.0.2.0/24".parse().unwrap()]);
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_targets(&scope, &t(&["192.0.2.7", "192.0.2.0/25"]))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            check_targets(&scope, &t(&["192.0.2.7", "198.51.100.1"])),
            Err(TargetError::OutOfScope("198.51.100.1".into()))
        );
        assert_eq!(
            check_targets(&scope, &t(&["192.0.2.0/23"])),
            Err(TargetError::OutOfScope("192.0.2.0/23".into()))
        );
        assert!(matches!(
            check_targets(&scope, &t(&["-iL/etc/passwd"])),
            Err(TargetError::NotAddress(_))
        ));
        assert!(matches!(
            check_targets(&scope, &t(&["example.org"])),
            Err(TargetError::NotAddress(_))
        ));
        assert_eq!(check_targets(&scope, &[]), Err(TargetError::Empty));
        assert_eq!(
            check_targets(&Networks::default(), &t(&["192.0.2.1"])),
            Err(TargetError::OutOfScope("192.0.2.1".into()))
        );
    }
}

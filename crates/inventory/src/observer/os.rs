//! The OS family guess from a SYN or SYN-ACK: the initial TTL the sender
//! chose (64, 128 or 255, rounded up from what arrived) and, for 64, the
//! window it offered (BSD and macOS offer 65535; Linux does not).

/// What a host's TCP handshakes suggest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum OsFamily {
    /// No SYN or SYN-ACK seen yet.
    #[default]
    Unknown = 0,
    /// Initial TTL 64, window other than 65535.
    Linux,
    /// Initial TTL 64, window 65535.
    Bsd,
    /// Initial TTL 128.
    Windows,
    /// Initial TTL 255 (routers, printers, Solaris).
    NetworkDevice,
}

impl OsFamily {
    /// From the TTL that arrived and the window of a SYN or SYN-ACK.
    #[inline]
    pub fn guess(ttl: u8, window: Option<u16>) -> OsFamily {
        match ttl {
            0 => OsFamily::Unknown,
            1..=64 if window == Some(65_535) => OsFamily::Bsd,
            1..=64 => OsFamily::Linux,
            65..=128 => OsFamily::Windows,
            _ => OsFamily::NetworkDevice,
        }
    }

    /// The name the inventory shows.
    pub fn as_str(self) -> &'static str {
        match self {
            OsFamily::Unknown => "",
            OsFamily::Linux => "Linux",
            OsFamily::Bsd => "BSD/macOS",
            OsFamily::Windows => "Windows",
            OsFamily::NetworkDevice => "network device",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_from_ttl_and_window() {
        assert_eq!(OsFamily::guess(64, Some(64_240)), OsFamily::Linux);
        assert_eq!(OsFamily::guess(57, Some(65_535)), OsFamily::Bsd);
        assert_eq!(OsFamily::guess(127, Some(8192)), OsFamily::Windows);
        assert_eq!(OsFamily::guess(250, None), OsFamily::NetworkDevice);
        assert_eq!(OsFamily::guess(0, None).as_str(), "");
    }
}

//! A remote sensor's side of the link to its server (#20): enrolment with a
//! one-time secret, a TLS client that trusts only the pinned server, the
//! bus destination that keeps events in the on-disk spool, and the shipper
//! that empties the spool into the server without losing or doubling events.

mod client;
mod credential;
mod enrol;
mod error;
pub mod pin;
mod ship;
mod spool_ingest;

pub use client::{REQUEST_TIMEOUT, base_url, pinned_client};
pub use credential::{CREDENTIAL_FILE, Credential};
pub use enrol::{EnrolAnswer, EnrolRequest, enrol};
pub use error::SensorError;
pub use ship::{ShipStatus, Shipper, ShipperConfig, Stopped, header};
pub use spool_ingest::SpoolIngest;

/// `text` cut to at most `max` bytes on a character boundary.
pub(crate) fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

//! nectar-spot's integration tests, one binary (see STYLE.md): equality with
//! libspot 3.1.0, the guards, save/restore, property tests, and the
//! unbounded tail (not in libspot).

mod common;
mod guards;
#[cfg(feature = "serde")]
mod persist;
mod props;
mod reference;
mod unbounded;
mod variants;

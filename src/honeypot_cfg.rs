//! What honeypot sessions leave on disk, built once from `[honeypot]` and shared
//! by every honeypot `serve` starts. (The section itself, its checks and its
//! documentation are owned by `nectar-honeypot`.)

use crate::config::Config;

/// What honeypot sessions leave on disk, as configured; shared by every honeypot.
pub fn capture(
    config: &Config,
) -> anyhow::Result<std::sync::Arc<nectar_honeypot::capture::Capture>> {
    nectar_honeypot::capture::Capture::with_encryption(
        &config.data_dir,
        config.honeypot.recordings.clone(),
        config.honeypot.uploads.clone(),
        &config.honeypot.encrypt_to,
    )
    .map_err(|e| crate::exit::usage(format!("honeypot: {e}")))
}

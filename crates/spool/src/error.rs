//! What can go wrong with a spool.

/// A spool operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The spool's database could not be read or written.
    #[error("spool database: {0}")]
    Database(#[from] sqlx::Error),
    /// A batch larger than the whole spool (`max_bytes`) can never fit.
    #[error(
        "a batch of {bytes} bytes is larger than the spool ({max_bytes} bytes): raise [sensor] spool_max_bytes or send smaller batches"
    )]
    TooLarge {
        /// The batch's compressed size.
        bytes: u64,
        /// The spool's bound.
        max_bytes: u64,
    },
    /// A batch's payload could not be encoded or decoded.
    #[error("batch payload: {0}")]
    Payload(String),
}

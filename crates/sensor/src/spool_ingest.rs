//! The bus's destination on a sensor: what `serve` commits to its database, a
//! sensor commits to its spool. A batch is acknowledged to its producers once
//! it is in the spool (synchronous=FULL: on disk).

use std::future::Future;

use nectar_bus::{Ack, Ingest, IngestError, IngestOutcome};
use nectar_event::Event;
use nectar_spool::Spool;

/// [`Ingest`] into a [`Spool`].
#[derive(Clone)]
pub struct SpoolIngest {
    spool: Spool,
}

impl SpoolIngest {
    /// Appends what the bus forwards to `spool`.
    pub fn new(spool: Spool) -> SpoolIngest {
        SpoolIngest { spool }
    }
}

impl Ingest for SpoolIngest {
    fn enqueue(&self, events: Vec<Event>, ack: Ack) -> impl Future<Output = ()> + Send {
        let spool = self.spool.clone();
        async move {
            let n = events.len();
            match spool.append(&events).await {
                Ok(_) => ack.complete(Ok(IngestOutcome {
                    stored: n,
                    duplicates: 0,
                })),
                Err(e) => ack.complete(Err(IngestError::Failed(format!(
                    "the spool could not keep {n} events: {e}"
                )))),
            }
        }
    }
}

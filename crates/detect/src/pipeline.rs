//! The offline hot loop: file → decode → windows, in one place so that
//! `nectar analyze`, tests and the benchmark run the same code.
#![forbid(unsafe_code)]

use nectar_packet::{DecodeErrors, FileError, FileReader};

use crate::window::{WindowReport, Windower};

/// Reads every packet of `reader`, decodes it, counts decode errors and feeds
/// the windower, emitting each closed window. Does not flush the last window
/// (call [`Windower::finish`]), so several files can continue one timeline.
///
/// Returns the packets read. On a truncated or corrupt file the windows up
/// to the error have been emitted and `errors` holds their decode errors;
/// the error says how many packets were read.
pub fn run_file<F: FnMut(&WindowReport)>(
    reader: &mut FileReader,
    windower: &mut Windower,
    errors: &mut DecodeErrors,
    emit: &mut F,
) -> Result<u64, FileError> {
    let mut n = 0u64;
    while let Some(p) = reader.next_packet()? {
        let view = p.decode();
        errors.record_meta(&view.meta);
        windower.push(&view.meta, emit);
        n += 1;
    }
    Ok(n)
}

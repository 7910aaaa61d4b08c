//! Telling that the spool's last write was cut off (a power cut, a crash while
//! SQLite wrote a batch), before SQLite opens the file.
//!
//! SQLite itself already does the safe thing: on open it replays the write-ahead
//! log frame by frame, checking each frame's salt and cumulative checksum, and
//! keeps only transactions that end in a valid commit frame; a torn last batch
//! is rolled back and the batches before it stay. But it does so silently. A
//! sensor must say that it lost the batch being written, so this reads the same
//! log the same way (the format is documented in SQLite's `fileformat2.html`,
//! "WAL File Format") and reports what SQLite is about to discard.
//!
//! Read-only and bounded: at most [`MAX_WAL_BYTES`] are looked at, in one frame
//! buffer; any oddity (a file that is not a WAL, an unknown page size) reports
//! nothing rather than guessing.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Larger logs are not checked (SQLite checkpoints long before: 1,000 pages).
pub const MAX_WAL_BYTES: u64 = 1 << 30;

const HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// What the check found: the end of the log that SQLite will discard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornWrite {
    /// Bytes after the last committed transaction: frames of a transaction
    /// that never committed, and a frame cut short.
    pub discarded_bytes: u64,
    /// Frames of that unfinished transaction that are whole.
    pub whole_frames: u64,
    /// The log ends in the middle of a frame.
    pub cut_frame: bool,
}

/// The write-ahead log of the database at `db`.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Reads the write-ahead log of the database at `db` (if any) and tells
/// whether its last transaction was cut off. `None`: no log, an empty or
/// clean one, or one this does not understand.
pub fn check(db: &Path) -> Option<TornWrite> {
    let path = wal_path(db);
    let file = std::fs::File::open(&path).ok()?;
    let len = file.metadata().ok()?.len();
    if len < HEADER as u64 || len > MAX_WAL_BYTES {
        return None;
    }
    check_reader(std::io::BufReader::new(file), len)
}

/// [`check`] on a log of `len` bytes read from `wal`.
pub fn check_reader(mut wal: impl Read, len: u64) -> Option<TornWrite> {
    let mut header = [0u8; HEADER];
    wal.read_exact(&mut header).ok()?;
    let word = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let big_endian = match word(&header, 0) {
        0x377f_0682 => false,
        0x377f_0683 => true,
        _ => return None,
    };
    let page_size = match word(&header, 8) {
        1 => 65_536,
        n if n.is_power_of_two() && (512..=32_768).contains(&n) => n as usize,
        _ => return None,
    };
    let salt = (word(&header, 16), word(&header, 20));
    let mut sum = checksum((0, 0), &header[..24], big_endian);
    if sum != (word(&header, 24), word(&header, 28)) {
        return None;
    }
    let frame_len = FRAME_HEADER + page_size;
    let mut frame = vec![0u8; frame_len];
    // Where the last committed transaction ends, and where valid frames end.
    let mut committed_end = HEADER as u64;
    let mut valid_end = HEADER as u64;
    let mut whole_frames = 0u64;
    while valid_end + frame_len as u64 <= len {
        if wal.read_exact(&mut frame).is_err() {
            break;
        }
        if (word(&frame, 8), word(&frame, 12)) != salt {
            // A frame of an earlier generation of the log (before a
            // checkpoint restarted it): where the current log ends.
            break;
        }
        let next = checksum(sum, &frame[..8], big_endian);
        let next = checksum(next, &frame[FRAME_HEADER..], big_endian);
        if next != (word(&frame, 16), word(&frame, 20)) {
            break;
        }
        sum = next;
        valid_end += frame_len as u64;
        whole_frames += 1;
        if word(&frame, 4) != 0 {
            // A commit frame (it holds the database's size after the commit).
            committed_end = valid_end;
            whole_frames = 0;
        }
    }
    // A tail shorter than a frame that the valid frames run into: a frame
    // cut short. (Old frames after a restarted log are whole frames.)
    let cut_frame = valid_end == len - (len - HEADER as u64) % frame_len as u64
        && !(len - HEADER as u64).is_multiple_of(frame_len as u64);
    if whole_frames == 0 && !cut_frame {
        return None;
    }
    let end = if cut_frame { len } else { valid_end };
    Some(TornWrite {
        discarded_bytes: end - committed_end,
        whole_frames,
        cut_frame,
    })
}

/// SQLite's WAL checksum: over 32-bit words (in the log's byte order), two
/// running sums.
fn checksum((mut s0, mut s1): (u32, u32), data: &[u8], big_endian: bool) -> (u32, u32) {
    for pair in data.chunks_exact(8) {
        let read = |b: &[u8]| {
            let b = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        s0 = s0.wrapping_add(read(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(read(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log of `frames` (page number, commit size) with 512-byte pages.
    fn wal(frames: &[(u32, u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0x377f_0682u32.to_be_bytes());
        out.extend_from_slice(&3_007_000u32.to_be_bytes());
        out.extend_from_slice(&512u32.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        out.extend_from_slice(&0x9abc_def0u32.to_be_bytes());
        let mut sum = checksum((0, 0), &out, false);
        out.extend_from_slice(&sum.0.to_be_bytes());
        out.extend_from_slice(&sum.1.to_be_bytes());
        for &(page, commit) in frames {
            let mut head = Vec::new();
            head.extend_from_slice(&page.to_be_bytes());
            head.extend_from_slice(&commit.to_be_bytes());
            let data = vec![page as u8; 512];
            sum = checksum(sum, &head, false);
            sum = checksum(sum, &data, false);
            head.extend_from_slice(&0x1234_5678u32.to_be_bytes());
            head.extend_from_slice(&0x9abc_def0u32.to_be_bytes());
            head.extend_from_slice(&sum.0.to_be_bytes());
            head.extend_from_slice(&sum.1.to_be_bytes());
            out.extend_from_slice(&head);
            out.extend_from_slice(&data);
        }
        out
    }

    fn run(bytes: &[u8]) -> Option<TornWrite> {
        check_reader(bytes, bytes.len() as u64)
    }

    #[test]
    fn a_clean_log_reports_nothing() {
        assert_eq!(run(&wal(&[(1, 0), (2, 2), (3, 3)])), None);
        assert_eq!(run(&wal(&[])), None);
    }

    #[test]
    fn a_frame_cut_short_is_reported() {
        let full = wal(&[(1, 0), (2, 2), (3, 0), (4, 4)]);
        let cut = &full[..full.len() - 100];
        // The last transaction: frame 3 whole, frame 4 cut.
        assert_eq!(
            run(cut),
            Some(TornWrite {
                discarded_bytes: (536 + 436) as u64,
                whole_frames: 1,
                cut_frame: true,
            })
        );
    }

    #[test]
    fn a_transaction_without_its_commit_frame_is_reported() {
        let full = wal(&[(1, 1), (2, 0), (3, 0)]);
        assert_eq!(
            run(&full),
            Some(TornWrite {
                discarded_bytes: 2 * 536,
                whole_frames: 2,
                cut_frame: false,
            })
        );
    }

    #[test]
    fn frames_of_an_earlier_log_are_not_a_torn_write() {
        let mut log = wal(&[(1, 1)]);
        // Whole frames with other salts after the current ones (a log that
        // restarted after a checkpoint).
        let mut old = vec![0u8; 536];
        old[3] = 5;
        log.extend_from_slice(&old);
        assert_eq!(run(&log), None);
    }

    #[test]
    fn what_is_not_a_log_reports_nothing() {
        assert_eq!(run(b"not a write-ahead log, just some bytes...."), None);
        assert_eq!(run(&[0u8; 10]), None);
        let mut bad = wal(&[(1, 1)]);
        bad[26] ^= 1; // header checksum
        assert_eq!(run(&bad), None);
    }
}

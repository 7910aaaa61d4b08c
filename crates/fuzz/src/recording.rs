//! Session recordings: the filter that replays an attacker's terminal output on an
//! analyst's terminal (`nectar replay`, the session page), and the asciicast reader.

use nectar_capture::asciicast;
use nectar_capture::terminal::{Filter, plain, sanitize};

/// Filters `data` as terminal output, whole and cut into pieces: both give the same
/// text; filtering it again changes nothing; what is left is text, line controls
/// and the escape sequences a replay may draw with (no OSC, DCS, reports, mouse or
/// paste modes); the plain transcript has no escape at all.
pub fn terminal_replay(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let whole = sanitize(&text);
    let mut filter = Filter::new();
    let mut pieces = String::new();
    let mut rest: &str = &text;
    for piece in crate::cuts(data) {
        // Cut where the piece ends, moved back to a character boundary.
        let mut end = piece.len().min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let end = if end == 0 {
            rest.chars().next().map_or(0, char::len_utf8)
        } else {
            end
        };
        let (head, tail) = rest.split_at(end);
        filter.push(head, &mut pieces);
        rest = tail;
    }
    filter.push(rest, &mut pieces);
    assert_eq!(
        whole, pieces,
        "the filter depends on how the stream was cut"
    );
    assert_eq!(sanitize(&whole), whole, "filtering twice changed the text");
    check_safe(&whole);
    check_safe(&pieces);
    let transcript = plain(&text);
    assert!(
        transcript
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{8}')),
        "{transcript:?}"
    );
}

/// Every ESC starts a sequence the filter keeps: CSI, a charset choice, or one of
/// the single-character cursor and keypad commands; no other control character.
fn check_safe(text: &str) {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                let next = chars.next();
                assert!(
                    matches!(
                        next,
                        Some('[' | '(' | ')' | '*' | '+' | '7' | '8' | 'D' | 'E' | 'M' | '=' | '>')
                    ),
                    "ESC {next:?} kept in {text:?}"
                );
            }
            '\n' | '\r' | '\t' | '\u{8}' => {}
            c => assert!(!c.is_control(), "control {c:?} kept in {text:?}"),
        }
    }
}

/// Reads `data` as an asciicast v2 file; what it yields can be replayed.
pub fn asciicast_file(data: &[u8]) {
    if let Ok((_, frames)) = asciicast::read(std::io::Cursor::new(data)) {
        let mut filter = Filter::new();
        let mut out = String::new();
        for frame in &frames {
            assert!(frame.time.is_finite());
            filter.push(&frame.data, &mut out);
        }
        check_safe(&out);
    }
}

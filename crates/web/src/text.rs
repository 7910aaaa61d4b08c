//! Making attacker-controlled text safe to show a person.
//!
//! HTML escaping is the templates' job (askama escapes every value). This module does
//! the other half, for pages: control and invisible characters and terminal escapes
//! become visible text (`\x1b[31m` stays readable instead of recolouring a terminal
//! or hiding text), and long values are cut so one event cannot swamp a page. Which
//! characters are escaped, and how, is decided by `nectar_event::text`; this module
//! adds what only pages need (the cut value's disclosure).

/// `s` with control and invisible characters written visibly (`\xNN`, `\n`,
/// `\u{200b}`), cut to `max_chars` characters with an ellipsis: the one rule of
/// `nectar_event::text`, which `nectar ctl` shares.
pub use nectar_event::text::visible;

/// An attacker's value ready for a table cell: `short` fits the cell; when it had
/// to be cut, `full` holds the whole value (made visible the same way, up to
/// `FULL_CHARS`) for the page to offer behind a `<details>` disclosure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shown {
    /// The value, cut to the cell.
    pub short: String,
    /// The whole value when `short` is cut.
    pub full: Option<String>,
}

/// Most characters a disclosed value shows (the event's JSON has the rest).
pub const FULL_CHARS: usize = 20_000;

/// Attacker text for a page, exactly as typed: backslashes as they are, ASCII
/// controls as control pictures (`␛`, `␉`, `␊`), other invisible characters as
/// `⟨U+NNNN⟩` (the one notation of `nectar_event::text::pictured`).
pub use nectar_event::text::pictured;

/// `s` for a cell of `max_chars` characters, with the whole value when cut;
/// written as [`pictured`] text (what the attacker typed, copyable).
pub fn shown(s: &str, max_chars: usize) -> Shown {
    let cut = s.chars().nth(max_chars).is_some();
    Shown {
        short: pictured(s, max_chars),
        full: cut.then(|| pictured(s, FULL_CHARS)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_cuts() {
        assert_eq!(visible("a\x1b[31mred\x07", 100), "a\\x1b[31mred\\x07");
        assert_eq!(visible("l1\nl2\r\t\\", 100), "l1\\nl2\\r\\t\\\\");
        assert_eq!(visible("abcdef", 3), "abc…");
        assert_eq!(visible("\u{202e}gnp.exe", 100), "\\u{202e}gnp.exe");
        assert_eq!(visible("\u{9b}", 10), "\\x9b");
    }

    #[test]
    fn shown_keeps_the_whole_when_cut() {
        assert_eq!(shown("abc", 3).full, None);
        let long = shown("abcdef\x1b", 3);
        assert_eq!(long.short, "abc…");
        assert_eq!(long.full.as_deref(), Some("abcdef␛"));
    }

    /// #25 item 8: a command is shown as typed.
    #[test]
    fn shown_commands_are_as_typed() {
        assert_eq!(
            shown("awk \"{print \\$4}\"", 80).short,
            "awk \"{print \\$4}\""
        );
        assert_eq!(shown("model name\t: x", 80).short, "model name␉: x");
    }
}

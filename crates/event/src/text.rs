//! The one place that decides how attacker text is cut and shown: clipped to a
//! number of characters, bounded to a number of bytes, and with every character
//! that could hide, reorder or rewrite what a person reads written out visibly.
//!
//! Honeypots clip summaries and bound the values they keep; the web pages and
//! `nectar ctl` escape what they show; the fake shell escapes the raw bytes of a
//! line. They used to do it with five copies that had drifted apart (one escaped
//! U+2028 but not U+200B, another the reverse). Now [`must_escape`] is the one
//! tested set of dangerous code points, decided by Unicode general category (from
//! `unicode-properties`, not a hand-kept list): every control (Cc: C0, DEL, C1),
//! every format character (Cf: bidirectional controls, zero-width characters, the
//! soft hyphen, U+061C, U+2060–2064, U+FFF9–FFFB, the tag characters), the line
//! and paragraph separators (Zl, Zp), the whole tag block U+E0000–E007F and the
//! Hangul fillers (letters that draw nothing). Letters of every script, symbols
//! and emoji stay as they are; a zero-width joiner between two emoji (a family,
//! a profession) is kept, since it cannot disguise text.
//!
//! How an escaped character is written depends on where it goes (each caller's
//! format is part of what its tests and readers expect):
//! - [`visible`], for pages and terminals: `\n`, `\r`, `\t`, other controls as
//!   `\xNN`, the rest as `\u{NNNN}`, and a backslash as `\\` so a typed `\x1b`
//!   cannot pass for an escaped ESC;
//! - [`clip`], for summaries stored with an event (shown later through
//!   [`visible`]): the same without doubling backslashes;
//! - [`escape_bytes`], for raw bytes that may not be UTF-8: bytes that are not
//!   UTF-8 and ASCII controls as `\xNN`, other escaped characters as `\u{NN}`;
//! - [`pictured`], for web pages (#25 item 8: what the page shows is what the
//!   attacker typed, and copying it gives the same text): backslashes stay as
//!   they are; an ASCII control is its Unicode control picture (ESC `␛`, tab
//!   `␉`, line feed `␊`, NUL `␀`, DEL `␡`); every other escaped character is
//!   `⟨U+NNNN⟩`. A typed control picture or `⟨` is itself written `⟨U+NNNN⟩`,
//!   so a picture or a bracket on a page always means an escape.

use std::fmt::Write as _;

use unicode_properties::{GeneralCategory, UnicodeEmoji, UnicodeGeneralCategory};

/// Whether `c` must never reach a page or a terminal as itself (see the module
/// documentation for the set and why).
pub fn must_escape(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    ) || matches!(
        c,
        '\u{e0000}'..='\u{e007f}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}'
    )
}

/// Every code point of the categories Cc, Cf, Zl and Zp and of the tag block,
/// walked from the Unicode table itself rather than from [`must_escape`]: the
/// set each place that shows attacker text (pages, `nectar ctl`, the shell) is
/// tested against.
pub fn invisible_by_category() -> impl Iterator<Item = char> {
    (0..=char::MAX as u32)
        .filter_map(char::from_u32)
        .filter(|c| {
            matches!(
                c.general_category(),
                GeneralCategory::Control
                    | GeneralCategory::Format
                    | GeneralCategory::LineSeparator
                    | GeneralCategory::ParagraphSeparator
            ) || ('\u{e0000}'..='\u{e007f}').contains(c)
        })
}

/// `text` for a page or a terminal: at most `max_chars` characters (then `…`),
/// dangerous characters escaped, backslashes doubled.
pub fn visible(text: &str, max_chars: usize) -> String {
    escaped(text, max_chars, Style::Visible)
}

/// `text` for a web page: at most `max_chars` characters (then `…`), ASCII
/// controls as control pictures (`␛`, `␉`), other dangerous characters as
/// `⟨U+NNNN⟩`, backslashes as typed (see the module documentation).
pub fn pictured(text: &str, max_chars: usize) -> String {
    escaped(text, max_chars, Style::Pictures)
}

/// `text` for an event's one-line summary: at most `max_chars` characters (then
/// `…`), dangerous characters escaped (backslashes kept as they are: the summary
/// goes through [`visible`] again when shown).
pub fn clip(text: &str, max_chars: usize) -> String {
    escaped(text, max_chars, Style::Summary)
}

/// Bytes shown as text that a terminal or a browser can display without
/// interpreting any of it: a backslash as `\\`, ASCII controls and bytes that
/// are not UTF-8 as `\xNN`, other dangerous characters as `\u{NN}`, so
/// `ESC [ A` reads `\x1b[A`.
pub fn escape_bytes(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() + 8);
    for chunk in data.utf8_chunks() {
        push_escaped(&mut out, chunk.valid(), usize::MAX, Style::Bytes);
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// At most `max_bytes` of `text`, cut on a character boundary: how much of an
/// attacker's value an event keeps (unescaped; the event's JSON is the evidence).
pub fn bound(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Visible,
    Summary,
    Bytes,
    Pictures,
}

fn escaped(text: &str, max_chars: usize, style: Style) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    push_escaped(&mut out, text, max_chars, style);
    out
}

fn push_escaped(out: &mut String, text: &str, max_chars: usize, style: Style) {
    let mut chars = text.chars().peekable();
    let mut previous = '\0';
    let mut count = 0;
    while let Some(c) = chars.next() {
        if count == max_chars {
            out.push('…');
            return;
        }
        count += 1;
        if style == Style::Pictures {
            push_pictured(out, c, previous, chars.peek().copied());
            previous = c;
            continue;
        }
        match c {
            '\\' if style != Style::Summary => out.push_str("\\\\"),
            '\n' if style != Style::Bytes => out.push_str("\\n"),
            '\r' if style != Style::Bytes => out.push_str("\\r"),
            '\t' if style != Style::Bytes => out.push_str("\\t"),
            '\u{200d}' if joins_emoji(previous, chars.peek().copied()) => out.push(c),
            c if must_escape(c) => {
                let code = c as u32;
                if code < 0x80 || (code < 0x100 && style != Style::Bytes) {
                    let _ = write!(out, "\\x{code:02x}");
                } else {
                    let _ = write!(out, "\\u{{{code:x}}}");
                }
            }
            c => out.push(c),
        }
        previous = c;
    }
}

/// One character of [`pictured`] text.
fn push_pictured(out: &mut String, c: char, previous: char, next: Option<char>) {
    match c {
        '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
        '\u{7f}' => out.push('\u{2421}'),
        '\u{200d}' if joins_emoji(previous, next) => out.push(c),
        // A typed control picture or bracket would pass for an escape.
        '\u{2400}'..='\u{243f}' | '\u{27e8}' => {
            let _ = write!(out, "\u{27e8}U+{:04X}\u{27e9}", c as u32);
        }
        c if must_escape(c) => {
            let _ = write!(out, "\u{27e8}U+{:04X}\u{27e9}", c as u32);
        }
        c => out.push(c),
    }
}

/// Whether a zero-width joiner between `before` and `after` is part of an emoji
/// sequence (👩‍💻): both sides are emoji outside ASCII (digits, `#` and `*`
/// count as emoji, and a joiner between them would hide in plain text), or
/// `before` is a skin tone or variation selector ending an emoji.
fn joins_emoji(before: char, after: Option<char>) -> bool {
    let Some(after) = after else { return false };
    !before.is_ascii()
        && !after.is_ascii()
        && before.is_emoji_char_or_emoji_component()
        && after.is_emoji_char()
        && !must_escape(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code points #26 names, written out here so the test does not trust
    /// the category table it checks.
    const NAMED: &[char] = &[
        '\u{00ad}',
        '\u{061c}',
        '\u{180e}',
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{200e}',
        '\u{200f}',
        '\u{2028}',
        '\u{2029}',
        '\u{202a}',
        '\u{202e}',
        '\u{2060}',
        '\u{2061}',
        '\u{2062}',
        '\u{2063}',
        '\u{2064}',
        '\u{2066}',
        '\u{2069}',
        '\u{feff}',
        '\u{fff9}',
        '\u{fffa}',
        '\u{fffb}',
        '\u{e0000}',
        '\u{e0001}',
        '\u{e0020}',
        '\u{e0041}',
        '\u{e007f}',
        '\u{0}',
        '\u{7}',
        '\u{1b}',
        '\u{7f}',
        '\u{80}',
        '\u{9b}',
        '\u{9f}',
        '\u{3164}',
    ];

    #[test]
    fn pictured_text_keeps_backslashes_and_pictures_controls() {
        assert_eq!(
            pictured("awk \"{print \\$4}\"", 100),
            "awk \"{print \\$4}\""
        );
        assert_eq!(pictured("a\x1b[31m\tb\n\x7f", 100), "a␛[31m␉b␊␡");
        assert_eq!(pictured("\u{202e}gnp.exe", 100), "⟨U+202E⟩gnp.exe");
        assert_eq!(
            pictured("typed ␛ and ⟨U+1B⟩", 100),
            "typed ⟨U+241B⟩ and ⟨U+27E8⟩U+1B⟩"
        );
        assert_eq!(pictured("abcdef", 3), "abc…");
        for c in invisible_by_category().chain(NAMED.iter().copied()) {
            let shown = pictured(&format!("a{c}b"), 10);
            assert!(!shown.contains(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn every_control_format_and_separator_character_is_escaped_in_each_style() {
        let mut walked = 0;
        for c in invisible_by_category().chain(NAMED.iter().copied()) {
            walked += 1;
            assert!(must_escape(c), "U+{:04X}", c as u32);
            let text = format!("a{c}b");
            for shown in [
                visible(&text, 10),
                clip(&text, 10),
                escape_bytes(text.as_bytes()),
            ] {
                assert!(
                    !shown.contains(c),
                    "U+{:04X} passed through: {shown:?}",
                    c as u32
                );
                assert!(
                    shown.starts_with("a\\") && shown.ends_with('b'),
                    "{shown:?}"
                );
                assert!(shown.chars().all(|s| !must_escape(s)), "{shown:?}");
            }
        }
        // Cc has 65 code points and Cf about 170: the walk must have seen them.
        assert!(walked > 65 + 160, "walked only {walked}");
    }

    #[test]
    fn letters_of_every_script_symbols_and_emoji_stay_as_they_are() {
        for text in [
            "root admin Ünïcödé ß",
            "пароль",
            "密码 パスワード 비밀번호",
            "كلمة السر",
            "סיסמה",
            "पासवर्ड",
            "€ ½ → ∑ ✓",
            "😀 🦀 👍🏽 🇫🇷 ❤️",
            "👨\u{200d}👩\u{200d}👧 👩🏽\u{200d}💻 ❤️\u{200d}🔥",
        ] {
            assert_eq!(visible(text, 1000), text);
            assert_eq!(clip(text, 1000), text);
            assert_eq!(escape_bytes(text.as_bytes()), text);
        }
        // A joiner hidden in a word, or between ASCII "emoji" (digits), is shown.
        assert_eq!(visible("ad\u{200d}min", 100), "ad\\u{200d}min");
        assert_eq!(visible("1\u{200d}2", 100), "1\\u{200d}2");
        assert_eq!(visible("😀\u{200d}", 100), "😀\\u{200d}");
    }

    #[test]
    fn visible_names_whitespace_doubles_backslashes_and_cuts() {
        assert_eq!(visible("a\x1b[31mred\x07", 100), "a\\x1b[31mred\\x07");
        assert_eq!(visible("l1\nl2\r\t\\", 100), "l1\\nl2\\r\\t\\\\");
        assert_eq!(visible("abcdef", 3), "abc…");
        assert_eq!(visible("abc", 3), "abc");
        assert_eq!(visible("\u{202e}gnp.exe", 100), "\\u{202e}gnp.exe");
        assert_eq!(visible("\u{9b}", 10), "\\x9b");
        assert_eq!(visible("x\u{e0041}", 10), "x\\u{e0041}");
    }

    #[test]
    fn clip_keeps_backslashes_for_summaries() {
        assert_eq!(clip("echo \\x41\n\u{1b}", 100), "echo \\x41\\n\\x1b");
        assert_eq!(clip("ééé", 2), "éé…");
    }

    #[test]
    fn escape_bytes_writes_bytes_and_ascii_controls_as_hex() {
        assert_eq!(
            escape_bytes(b"a\\b\xff\xc2\x9b\xe2\x80\xa8\x00"),
            "a\\\\b\\xff\\u{9b}\\u{2028}\\x00"
        );
        assert_eq!(
            escape_bytes(b"una\x1b[Ame\tx\x7f"),
            "una\\x1b[Ame\\x09x\\x7f"
        );
    }

    #[test]
    fn bound_cuts_on_a_character_boundary() {
        assert_eq!(bound("abc", 16), "abc");
        assert_eq!(bound("aé", 2), "a");
        assert_eq!(bound("aé", 3), "aé");
        assert_eq!(bound(&"x".repeat(5000), 4096).len(), 4096);
    }
}

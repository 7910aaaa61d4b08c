//! A filter for replaying an attacker's terminal output on an analyst's terminal.
//!
//! Output recorded from a honeypot session is attacker-controlled: played back raw
//! it could set the window title, write the clipboard (OSC 52), ask the terminal to
//! answer into its own input (device status, `ENQ`), or switch on mouse reporting.
//! [`Filter`] keeps what a replay needs — text, line controls, colours (SGR),
//! cursor movement, erasing, scroll regions, the alternate screen — and drops every
//! other escape sequence and control character, counting what it dropped. It works
//! on a stream: a sequence split between two frames is judged whole.
//!
//! Written by hand because it is the product's own policy (what is safe to show),
//! not a terminal emulator; it is a small state machine with bounded state.

/// Longest CSI sequence kept; a longer one is dropped.
const MAX_CSI: usize = 64;

/// DEC private modes (`CSI ? n h/l`) a replay may set: cursor visibility, the
/// alternate screen, auto-wrap, origin mode. Mouse and paste modes are not here.
const SAFE_PRIVATE_MODES: &[&str] = &["1", "6", "7", "12", "25", "47", "1047", "1048", "1049"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    /// After ESC.
    Escape,
    /// After `ESC (`, `ESC )` and the like: one charset byte follows.
    Charset,
    /// Inside `ESC [`.
    Csi,
    /// Inside OSC, DCS, APC, PM or SOS: skipped up to BEL or ST.
    String,
    /// ESC seen inside a string: `\` ends it.
    StringEscape,
}

/// The streaming filter.
#[derive(Debug)]
pub struct Filter {
    state: State,
    csi: String,
    dropped: u64,
}

impl Default for Filter {
    fn default() -> Self {
        Filter::new()
    }
}

impl Filter {
    /// A filter at the start of a stream.
    pub fn new() -> Filter {
        Filter {
            state: State::Ground,
            csi: String::new(),
            dropped: 0,
        }
    }

    /// Sequences and control characters dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Appends the safe part of `text` to `out`.
    pub fn push(&mut self, text: &str, out: &mut String) {
        for c in text.chars() {
            match self.state {
                State::Ground => match c {
                    '\u{1b}' => self.state = State::Escape,
                    '\n' | '\r' | '\t' | '\u{8}' => out.push(c),
                    // C0 and C1 controls: BEL, ENQ (answerback), SO/SI, 8-bit CSI...
                    c if c.is_control() => self.dropped += 1,
                    c => out.push(c),
                },
                State::Escape => {
                    self.state = State::Ground;
                    match c {
                        '[' => {
                            self.csi.clear();
                            self.state = State::Csi;
                        }
                        ']' | 'P' | '_' | '^' | 'X' => {
                            self.dropped += 1;
                            self.state = State::String;
                        }
                        '(' | ')' | '*' | '+' => {
                            self.csi.clear();
                            self.csi.push(c);
                            self.state = State::Charset;
                        }
                        // Save/restore cursor, index, next line, reverse index,
                        // keypad modes.
                        '7' | '8' | 'D' | 'E' | 'M' | '=' | '>' => {
                            out.push('\u{1b}');
                            out.push(c);
                        }
                        _ => self.dropped += 1,
                    }
                }
                State::Charset => {
                    self.state = State::Ground;
                    // ASCII and the DEC line-drawing set, as `tput` and curses use.
                    if matches!(c, 'B' | '0' | 'A') {
                        out.push('\u{1b}');
                        out.push_str(&self.csi);
                        out.push(c);
                    } else {
                        self.dropped += 1;
                    }
                }
                State::Csi => {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        self.state = State::Ground;
                        if self.csi_is_safe(c) {
                            out.push_str("\u{1b}[");
                            out.push_str(&self.csi);
                            out.push(c);
                        } else {
                            self.dropped += 1;
                        }
                    } else if ('\u{20}'..='\u{3f}').contains(&c) && self.csi.len() < MAX_CSI {
                        self.csi.push(c);
                    } else {
                        // A control character or an over-long sequence: drop it all.
                        self.dropped += 1;
                        self.state = if c == '\u{1b}' {
                            State::Escape
                        } else {
                            State::Ground
                        };
                    }
                }
                State::String => match c {
                    '\u{7}' => self.state = State::Ground,
                    '\u{1b}' => self.state = State::StringEscape,
                    _ => {}
                },
                State::StringEscape => {
                    self.state = if c == '\\' {
                        State::Ground
                    } else {
                        State::String
                    };
                }
            }
        }
    }

    /// Whether `CSI <params> final` only draws: colours, cursor movement, erasing,
    /// scrolling, and a few private modes. Reports (`n`, `c`), window operations
    /// (`t`) and anything else are not.
    fn csi_is_safe(&self, last: char) -> bool {
        let params = self.csi.as_str();
        if let Some(modes) = params.strip_prefix('?') {
            return matches!(last, 'h' | 'l')
                && modes.split(';').all(|m| SAFE_PRIVATE_MODES.contains(&m));
        }
        if !params
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b';' || b == b':')
        {
            return false;
        }
        matches!(
            last,
            'm' | 'A'
                | 'B'
                | 'C'
                | 'D'
                | 'E'
                | 'F'
                | 'G'
                | 'H'
                | 'f'
                | 'd'
                | 'J'
                | 'K'
                | 'X'
                | 'P'
                | '@'
                | 'L'
                | 'M'
                | 'S'
                | 'T'
                | 'r'
                | 's'
                | 'u'
        )
    }
}

/// Filters a whole text at once.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    Filter::new().push(text, &mut out);
    out
}

/// The text of terminal output without any escape sequence (colours and cursor
/// movement dropped too) and with CR LF as LF: for showing a transcript as text.
pub fn plain(text: &str) -> String {
    let safe = sanitize(text);
    let mut out = String::with_capacity(safe.len());
    let mut chars = safe.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                Some('(' | ')' | '*' | '+') => {
                    chars.next();
                }
                _ => {}
            },
            '\r' if chars.peek() == Some(&'\n') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_colours_and_cursor_movement() {
        let s = "\u{1b}[1;31mred\u{1b}[0m\r\n\u{1b}[2J\u{1b}[H\u{1b}[10;5Hx\u{1b}[K\u{1b}[?25l\u{1b}[?1049h\u{1b}(0q\u{1b}(B\u{1b}7\u{1b}8\u{1b}[38;5;196mz\tq\u{8}";
        assert_eq!(sanitize(s), s);
    }

    #[test]
    fn drops_title_clipboard_reports_and_strings() {
        let cases = [
            ("a\u{1b}]0;owned\u{7}b", "ab"),
            ("a\u{1b}]52;c;ZXZpbA==\u{1b}\\b", "ab"),
            (
                "a\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\b",
                "alinkb",
            ),
            ("a\u{1b}P+q544e\u{1b}\\b", "ab"),
            ("a\u{1b}_apc\u{7}b", "ab"),
            ("a\u{1b}[6nb", "ab"),
            ("a\u{1b}[cb", "ab"),
            ("a\u{1b}[21tb", "ab"),
            ("a\u{1b}[?1000hb", "ab"),
            ("a\u{1b}[?2004hb", "ab"),
            ("a\u{1b}[?25;1000hb", "ab"),
            ("a\u{5}\u{7}\u{9b}6nb", "a6nb"),
            ("a\u{1b}cb", "ab"),
            ("a\u{1b}[>0qb", "ab"),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize(input), want, "{input:?}");
        }
    }

    #[test]
    fn a_sequence_split_between_frames_is_judged_whole() {
        let mut f = Filter::new();
        let mut out = String::new();
        f.push("a\u{1b}]0;ti", &mut out);
        f.push("tle\u{7}b\u{1b}[3", &mut out);
        f.push("1mc", &mut out);
        assert_eq!(out, "ab\u{1b}[31mc");
        assert_eq!(f.dropped(), 1);
    }

    #[test]
    fn plain_text_has_no_escapes_at_all() {
        let s = "\u{1b}[1;31mred\u{1b}[0m\r\n\u{1b}]0;t\u{7}\u{1b}(0q\u{1b}(Bok\u{1b}7";
        assert_eq!(plain(s), "red\nqok");
    }

    #[test]
    fn an_endless_csi_is_dropped_with_bounded_state() {
        let long = format!("\u{1b}[{}mX", "1;".repeat(10_000));
        let out = sanitize(&long);
        assert!(!out.contains('\u{1b}'));
        assert!(out.ends_with('X'));
    }
}

//! The terminal line discipline of an interactive session: echo, backspace,
//! Ctrl-C, Ctrl-D, Ctrl-U, and escape sequences (arrow keys) swallowed. Bytes in,
//! echo bytes and finished lines out.
//!
//! A line longer than the limit keeps its first `max` bytes; the rest is dropped
//! (and reported once), so a client streaming without a newline costs nothing.
//!
//! What the editing swallows (control characters, escape sequences, the keys
//! that edited the line) is evidence too (a bot probing for a real terminal, a
//! human's corrections): an editor [`LineEditor::keeping_raw`] also keeps each
//! line's bytes as they came, at most `max` of them, when they differ from the
//! line ([`LineEditor::take_raw_lines`]). They are never interpreted.

/// What a chunk of input produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// A finished line (without its end).
    Line(String),
    /// Ctrl-C: the line was discarded.
    Interrupt,
    /// Ctrl-D on an empty line: log out.
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    None,
    /// After ESC.
    Start,
    /// Inside `ESC [` ... up to a final byte.
    Csi,
    /// Inside `ESC O x`.
    Ss3,
}

/// The editor's state.
#[derive(Debug)]
pub struct LineEditor {
    buf: Vec<u8>,
    max: usize,
    esc: Esc,
    last_cr: bool,
    /// Set when a line was cut at the limit (cleared by the caller).
    pub truncated: bool,
    /// The current line's bytes as they came (`None`: not kept).
    raw: Option<Vec<u8>>,
    /// The current line's raw bytes differ from the line.
    edited: bool,
    /// For each line finished since the last [`LineEditor::take_raw_lines`],
    /// its raw bytes if they differ from it.
    raw_lines: Vec<Option<Vec<u8>>>,
    /// A plain tty's canonical mode ([`LineEditor::cooked`]).
    cooked: bool,
}

impl LineEditor {
    /// An editor keeping at most `max` bytes per line.
    pub fn new(max: usize) -> LineEditor {
        LineEditor {
            buf: Vec::new(),
            max,
            esc: Esc::None,
            last_cr: false,
            truncated: false,
            raw: None,
            edited: false,
            raw_lines: Vec::new(),
            cooked: false,
        }
    }

    /// The same editor as a plain tty's canonical mode, which `login` reads
    /// through: only the line end, erase, kill, Ctrl-C and Ctrl-D are
    /// interpreted; escape sequences and other control characters are part of
    /// the line, as `login` gets them (and as the event must keep them: a
    /// password typed as `ESC [ 5 m pw` is that, not `pw`). Echoed as `^[`.
    pub fn cooked(mut self) -> LineEditor {
        self.cooked = true;
        self
    }

    /// The same editor, also keeping each line's raw bytes.
    pub fn keeping_raw(mut self) -> LineEditor {
        self.raw = Some(Vec::new());
        self
    }

    /// For each [`Key::Line`] produced since the last call, in order: its bytes
    /// as they came when editing changed them (control characters, escape
    /// sequences, backspaces), else `None`. Empty unless
    /// [`LineEditor::keeping_raw`].
    pub fn take_raw_lines(&mut self) -> Vec<Option<Vec<u8>>> {
        std::mem::take(&mut self.raw_lines)
    }

    /// Ends the current line's raw bytes: kept for a finished line, dropped for
    /// a discarded one.
    fn end_raw(&mut self, finished: bool) {
        let edited = std::mem::replace(&mut self.edited, false);
        let Some(raw) = self.raw.as_mut() else {
            return;
        };
        if finished {
            self.raw_lines.push(edited.then(|| raw.clone()));
        }
        raw.clear();
    }

    /// Feeds bytes; echo goes to `echo`, finished keys to `keys`.
    pub fn feed(&mut self, input: &[u8], echo: &mut Vec<u8>, keys: &mut Vec<Key>) {
        for &b in input {
            // Every byte of the line, as it came (bounded like the line).
            let noted = match self.raw.as_mut() {
                Some(raw) if raw.len() < self.max => {
                    raw.push(b);
                    true
                }
                _ => false,
            };
            // CR NUL is Telnet's bare CR: a line end, like CR LF.
            let line_end = matches!(b, b'\r' | b'\n') || (b == 0 && self.last_cr);
            let kept_control = self.cooked && b < 0x20 && !matches!(b, 0x03 | 0x04 | 0x08 | 0x15);
            let swallowed =
                !line_end && !kept_control && (self.esc != Esc::None || b < 0x20 || b == 0x7f);
            if swallowed {
                self.edited = true;
            }
            match self.esc {
                Esc::Start => {
                    self.esc = match b {
                        b'[' => Esc::Csi,
                        b'O' => Esc::Ss3,
                        _ => Esc::None,
                    };
                    continue;
                }
                Esc::Csi => {
                    if (0x40..=0x7e).contains(&b) {
                        self.esc = Esc::None;
                    }
                    continue;
                }
                Esc::Ss3 => {
                    self.esc = Esc::None;
                    continue;
                }
                Esc::None => {}
            }
            let was_cr = std::mem::replace(&mut self.last_cr, false);
            match b {
                _ if kept_control && !line_end => self.push_control(b, echo),
                0x1b => self.esc = Esc::Start,
                b'\r' | b'\n' | 0 if line_end => {
                    // The line's end is not part of its raw bytes.
                    if noted && let Some(raw) = self.raw.as_mut() {
                        raw.pop();
                    }
                    if b != b'\r' && was_cr {
                        continue; // CR LF is one line end
                    }
                    self.last_cr = b == b'\r';
                    echo.extend_from_slice(b"\r\n");
                    let line = String::from_utf8_lossy(&self.buf).into_owned();
                    self.buf.clear();
                    keys.push(Key::Line(line));
                    self.end_raw(true);
                }
                0x7f | 0x08 => {
                    // Remove one whole UTF-8 character.
                    let mut removed = false;
                    while let Some(last) = self.buf.pop() {
                        removed = true;
                        if last & 0xc0 != 0x80 {
                            break;
                        }
                    }
                    if removed {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                0x03 => {
                    echo.extend_from_slice(b"^C\r\n");
                    self.buf.clear();
                    keys.push(Key::Interrupt);
                    self.end_raw(false);
                }
                0x04 => {
                    if self.buf.is_empty() {
                        keys.push(Key::Eof);
                        self.end_raw(false);
                    }
                }
                0x15 => {
                    for _ in 0..String::from_utf8_lossy(&self.buf).chars().count() {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                    self.buf.clear();
                }
                b'\t' => {}
                b if b < 0x20 => {}
                b => {
                    if self.buf.len() < self.max {
                        self.buf.push(b);
                        echo.push(b);
                    } else {
                        self.truncated = true;
                    }
                }
            }
        }
    }

    /// A control character a cooked line keeps, echoed as a tty with
    /// `echoctl` does (`^[` for ESC).
    fn push_control(&mut self, b: u8, echo: &mut Vec<u8>) {
        if self.buf.len() < self.max {
            self.buf.push(b);
            if b == b'\t' {
                echo.push(b);
            } else {
                echo.extend_from_slice(&[b'^', b ^ 0x40]);
            }
        } else {
            self.truncated = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> (Vec<u8>, Vec<Key>) {
        let mut ed = LineEditor::new(16);
        let (mut echo, mut keys) = (Vec::new(), Vec::new());
        ed.feed(input, &mut echo, &mut keys);
        (echo, keys)
    }

    #[test]
    fn editing_keys() {
        let (echo, keys) = run(b"lx\x7fs\r\n");
        assert_eq!(keys, [Key::Line("ls".into())]);
        assert_eq!(echo, b"lx\x08 \x08s\r\n");
        let (_, keys) = run(b"abc\x03pwd\r");
        assert_eq!(keys, [Key::Interrupt, Key::Line("pwd".into())]);
        let (_, keys) = run(b"i\x1b[A\x1b[1;5Cd\x1bOB\n\x04");
        assert_eq!(keys, [Key::Line("id".into()), Key::Eof]);
        let (_, keys) = run("é\x7fa\r".as_bytes());
        assert_eq!(keys, [Key::Line("a".into())]);
        let (_, keys) = run(b"abc\x15w\r");
        assert_eq!(keys, [Key::Line("w".into())]);
    }

    #[test]
    fn a_cooked_line_keeps_escape_sequences_and_controls() {
        let mut ed = LineEditor::new(64).cooked();
        let (mut echo, mut keys) = (Vec::new(), Vec::new());
        ed.feed(b"\x1b[5mpw\r\n", &mut echo, &mut keys);
        ed.feed(b"a\x01b\x7fc\r\n", &mut echo, &mut keys);
        assert_eq!(
            keys,
            [Key::Line("\x1b[5mpw".into()), Key::Line("a\x01c".into())]
        );
        assert!(echo.starts_with(b"^[[5mpw\r\n"));
        // Not cooked: the escape sequence is a key, not part of the line.
        let mut plain = LineEditor::new(64);
        let mut keys = Vec::new();
        plain.feed(b"\x1b[5mpw\r", &mut Vec::new(), &mut keys);
        assert_eq!(keys, [Key::Line("pw".into())]);
    }

    #[test]
    fn raw_bytes_are_kept_when_editing_changed_the_line() {
        let mut ed = LineEditor::new(64).keeping_raw();
        let (mut echo, mut keys) = (Vec::new(), Vec::new());
        ed.feed(
            b"id\r\nuname\x1b[A\x08\x08-a\r\ngone\x03echo \x00hi\n",
            &mut echo,
            &mut keys,
        );
        assert_eq!(
            keys,
            [
                Key::Line("id".into()),
                Key::Line("una-a".into()),
                Key::Interrupt,
                Key::Line("echo hi".into())
            ]
        );
        assert_eq!(
            ed.take_raw_lines(),
            [
                None,
                Some(b"uname\x1b[A\x08\x08-a".to_vec()),
                Some(b"echo \x00hi".to_vec())
            ]
        );
        assert!(ed.take_raw_lines().is_empty());
        // Telnet's CR NUL and CR LF end a line, and are not editing.
        ed.feed(b"ls\r\0pwd\r\n", &mut echo, &mut keys);
        assert_eq!(ed.take_raw_lines(), [None, None]);
        // Not kept unless asked for.
        let mut plain = LineEditor::new(64);
        plain.feed(b"a\x1b[Ab\r", &mut echo, &mut keys);
        assert!(plain.take_raw_lines().is_empty());
    }

    #[test]
    fn long_lines_are_cut() {
        let mut ed = LineEditor::new(4);
        let (mut echo, mut keys) = (Vec::new(), Vec::new());
        ed.feed(&[b'a'; 10_000], &mut echo, &mut keys);
        ed.feed(b"\r", &mut echo, &mut keys);
        assert_eq!(keys, [Key::Line("aaaa".into())]);
        assert!(ed.truncated);
        assert!(echo.len() < 10);
    }
}

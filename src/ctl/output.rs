//! What `nectar ctl` prints: aligned tables for people, JSON for programs.
//!
//! Values in tables come from attackers (user names, commands, summaries): every cell
//! goes through [`cell`], which shows control characters and terminal escapes as
//! text (`\x1b[31m`), so printing an event cannot recolour or rewrite the terminal.
//! A closed pipe (`nectar ctl events list | head`) ends the program quietly.

use std::io::Write;

use serde_json::Value;

/// Writes `text` and a newline to stdout; exits 0 when the reader has gone away.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// Prints a JSON value on one line (`--json`).
pub fn json(value: &Value) {
    line(&value.to_string());
}

/// A JSON value as safe, one-line text cut to `max` characters: strings without
/// quotes, numbers as written, null as empty.
pub fn cell(value: &Value, max: usize) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => nectar_event::text::visible(s, max),
        other => nectar_event::text::visible(&other.to_string(), max),
    }
}

/// A table with a header row; columns padded to their widest cell.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    min_widths: Vec<usize>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Table {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
            min_widths: Vec::new(),
        }
    }

    /// Columns at least this wide, so that tables printed piece by piece (`events
    /// follow`) line up.
    pub fn min_widths(mut self, widths: &[usize]) -> Table {
        self.min_widths = widths.to_vec();
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Prints the header and the rows.
    pub fn print(&self) {
        self.print_with(true);
    }

    /// Prints the rows only (a continuation of a table already under way).
    pub fn print_rows(&self) {
        self.print_with(false);
    }

    /// The last column is not padded, so long text does not leave trailing blanks.
    fn print_with(&self, header: bool) {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self
            .header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                h.chars()
                    .count()
                    .max(self.min_widths.get(i).copied().unwrap_or(0))
            })
            .collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let render = |cells: &mut dyn Iterator<Item = &str>| {
            let mut text = String::new();
            for (i, cell) in cells.enumerate().take(columns) {
                if i + 1 == columns {
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    let pad = widths[i] - cell.chars().count() + 2;
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            text.trim_end().to_owned()
        };
        if header {
            line(&render(&mut self.header.iter().copied()));
        }
        for row in &self.rows {
            line(&render(&mut row.iter().map(String::as_str)));
        }
    }
}

/// `key: value` lines, keys aligned.
pub fn fields(pairs: &[(&str, String)]) {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in pairs {
        line(&format!("{key:<width$}  {value}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_show_escapes_and_cut() {
        assert_eq!(
            cell(&Value::from("a\u{1b}[31mb"), 100),
            "a\\x1b[31mb".to_owned()
        );
        assert_eq!(cell(&Value::from("abcdef"), 3), "abc…");
        assert_eq!(cell(&Value::Null, 3), "");
        assert_eq!(cell(&serde_json::json!(42), 10), "42");
    }
}

//! The shell grammar the fake shell understands: lists joined by `;`, `&`, `&&`,
//! `||`; pipelines; redirections; single and double quotes, backslashes, `$VAR`,
//! `${VAR}`, `$?`, backticks and `$(...)`. Pure: text in, syntax tree or a
//! bash-worded error out. Expansion happens later, at run time, so that
//! `cd /tmp; echo $(pwd)` sees the new directory.
//!
//! Every input is bounded by the caller's line limit; nesting of `$(...)` is
//! bounded here, so no input can recurse without limit.

/// A piece of a word, before expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal text; `quoted` text is never split or globbed.
    Lit(String, bool),
    /// `$NAME`, `${NAME}`, `$?`, ...; `quoted` inside double quotes.
    Var(String, bool),
    /// `$(...)` or backticks: the source of the command to run.
    Subst(String, bool),
}

/// One word: parts that expand and join.
pub type Word = Vec<Part>;

/// Where a redirection points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// `>` or `>>` (append) from fd 1 or 2 to a file.
    Out {
        /// 1 or 2.
        fd: u8,
        /// The file.
        target: Word,
        /// `>>`.
        append: bool,
    },
    /// `<` file.
    In(Word),
    /// `2>&1`.
    ErrToOut,
    /// `>&2` / `1>&2`.
    OutToErr,
    /// `<<WORD`: a here-document ending at a line `WORD` (quotes removed); the
    /// shell collects its body from the lines that follow.
    HereDoc(String),
    /// `<<< word`: the word and a newline on stdin.
    HereString(Word),
}

/// A simple command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command {
    /// Words, the first being the command name.
    pub words: Vec<Word>,
    /// Redirections, in order.
    pub redirects: Vec<Redirect>,
    /// `( list )`: the source of a subshell run in place of words.
    pub group: Option<String>,
}

/// Commands joined by `|`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pipeline {
    /// The commands.
    pub commands: Vec<Command>,
    /// `!` in front.
    pub negate: bool,
}

/// How a pipeline is joined to the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// `;`, `&`, newline or the first one: always runs.
    Always,
    /// `&&`: runs if the previous status was 0.
    And,
    /// `||`: runs if the previous status was not 0.
    Or,
}

/// A parsed line.
pub type List = Vec<(Join, Pipeline)>;

/// How deep `$(...)` may nest.
pub const MAX_DEPTH: usize = 8;
/// Most pipelines in one line.
const MAX_PIPELINES: usize = 256;

/// A syntax error, worded like bash's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(Word),
    Op(&'static str),
    /// A redirection operator with its fd: `>`, `>>`, `<`, `2>&1`, `>&2`, `&>`, `<<`, `<<<`.
    Redir(u8, &'static str),
    /// `( list )`: the source between the parentheses.
    Group(String),
}

/// Parses one line.
pub fn parse(line: &str) -> Result<List, SyntaxError> {
    let tokens = lex(line, 0)?;
    let mut list: List = Vec::new();
    let mut join = Join::Always;
    let mut pipeline = Pipeline::default();
    let mut command = Command::default();
    let mut tokens = tokens.into_iter().peekable();
    let unexpected = |t: &str| SyntaxError(format!("syntax error near unexpected token `{t}'"));
    while let Some(token) = tokens.next() {
        match token {
            Token::Group(source) => {
                if !command.words.is_empty() || command.group.is_some() {
                    return Err(unexpected("("));
                }
                command.group = Some(source);
            }
            Token::Word(w) => {
                if command.group.is_some() {
                    return Err(unexpected(&word_text(&w)));
                }
                if command.words.is_empty()
                    && command.redirects.is_empty()
                    && pipeline.commands.is_empty()
                    && w == [Part::Lit("!".into(), false)]
                {
                    pipeline.negate = !pipeline.negate;
                } else {
                    command.words.push(w);
                }
            }
            Token::Redir(fd, op) => {
                let redirect = match op {
                    "2>&1" => Redirect::ErrToOut,
                    ">&2" => Redirect::OutToErr,
                    "<<<" => {
                        let Some(Token::Word(word)) = tokens.next() else {
                            return Err(unexpected("newline"));
                        };
                        Redirect::HereString(word)
                    }
                    "<<" => {
                        let mut delimiter = String::new();
                        if let Some(Token::Word(w)) = tokens.peek() {
                            delimiter = word_text(w);
                            tokens.next();
                        }
                        // `<<-EOF` strips tabs; the `-` is not part of the word.
                        Redirect::HereDoc(delimiter.trim_start_matches('-').to_owned())
                    }
                    _ => {
                        let Some(Token::Word(target)) = tokens.next() else {
                            return Err(unexpected("newline"));
                        };
                        match op {
                            "<" => Redirect::In(target),
                            "&>" => {
                                command.redirects.push(Redirect::Out {
                                    fd: 1,
                                    target,
                                    append: false,
                                });
                                Redirect::ErrToOut
                            }
                            _ => Redirect::Out {
                                fd,
                                target,
                                append: op == ">>",
                            },
                        }
                    }
                };
                command.redirects.push(redirect);
            }
            Token::Op(op) => {
                if command.words.is_empty()
                    && command.redirects.is_empty()
                    && command.group.is_none()
                {
                    // Blank lines and a trailing `;` are fine; an operator with
                    // nothing before it is not.
                    if (op == ";" || op == "&")
                        && pipeline.commands.is_empty()
                        && join == Join::Always
                    {
                        continue;
                    }
                    return Err(unexpected(op));
                }
                pipeline.commands.push(std::mem::take(&mut command));
                if op == "|" {
                    continue;
                }
                list.push((join, std::mem::take(&mut pipeline)));
                if list.len() > MAX_PIPELINES {
                    return Err(SyntaxError("line too complex".into()));
                }
                join = match op {
                    "&&" => Join::And,
                    "||" => Join::Or,
                    _ => Join::Always,
                };
            }
        }
    }
    if !command.words.is_empty() || !command.redirects.is_empty() || command.group.is_some() {
        pipeline.commands.push(command);
    } else if !pipeline.commands.is_empty() || join != Join::Always {
        return Err(SyntaxError("syntax error: unexpected end of file".into()));
    }
    if !pipeline.commands.is_empty() {
        list.push((join, pipeline));
    }
    Ok(list)
}

/// Index of the `)` closing a group whose body starts at `start`, skipping quotes.
fn group_end(chars: &[char], start: usize) -> Option<usize> {
    let mut level = 0usize;
    let mut quote: Option<char> = None;
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        match (quote, c) {
            (Some('"'), '\\') => i += 1,
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\\') => i += 1,
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => {
                level += 1;
                if level > MAX_DEPTH {
                    return None;
                }
            }
            (None, ')') if level == 0 => return Some(i),
            (None, ')') => level -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// A word's literal text, for error messages.
fn word_text(word: &Word) -> String {
    word.iter()
        .map(|p| match p {
            Part::Lit(s, _) => s.clone(),
            Part::Var(s, _) => format!("${s}"),
            Part::Subst(s, _) => format!("$({s})"),
        })
        .collect()
}

fn lex(line: &str, depth: usize) -> Result<Vec<Token>, SyntaxError> {
    if depth > MAX_DEPTH {
        return Err(SyntaxError("maximum nesting depth exceeded".into()));
    }
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut word: Word = Vec::new();
    let mut lit = String::new();
    let mut in_word = false;
    let mut i = 0;
    let flush_lit = |lit: &mut String, word: &mut Word, quoted: bool| {
        if !lit.is_empty() {
            word.push(Part::Lit(std::mem::take(lit), quoted));
        }
    };
    macro_rules! end_word {
        () => {
            flush_lit(&mut lit, &mut word, false);
            if in_word {
                tokens.push(Token::Word(std::mem::take(&mut word)));
                in_word = false;
            }
        };
    }
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' => {
                end_word!();
                i += 1;
            }
            '\n' => {
                end_word!();
                tokens.push(Token::Op(";"));
                i += 1;
            }
            '#' if !in_word => break,
            ';' | '|' | '&' | '(' | ')' => {
                let next = chars.get(i + 1).copied();
                // `2>&1` etc. are handled under '>'; here `&>` is a redirection.
                if c == '&' && next == Some('>') {
                    end_word!();
                    tokens.push(Token::Redir(1, "&>"));
                    i += 2;
                    continue;
                }
                end_word!();
                let (op, len) = match (c, next) {
                    ('&', Some('&')) => ("&&", 2),
                    ('|', Some('|')) => ("||", 2),
                    (';', Some(';')) => {
                        return Err(SyntaxError(
                            "syntax error near unexpected token `;;'".into(),
                        ));
                    }
                    (';', _) => (";", 1),
                    ('&', _) => ("&", 1),
                    ('|', _) => ("|", 1),
                    ('(', _) => {
                        // A subshell: keep its source, parsed when it runs.
                        let end = group_end(&chars, i + 1).ok_or_else(|| {
                            SyntaxError("unexpected EOF while looking for matching `)'".into())
                        })?;
                        tokens.push(Token::Group(chars[i + 1..end].iter().collect()));
                        i = end + 1;
                        continue;
                    }
                    _ => return Err(SyntaxError("syntax error near unexpected token `)'".into())),
                };
                tokens.push(Token::Op(op));
                i += len;
            }
            '>' | '<' => {
                // A word made only of digits right before is the fd (`2>`).
                let mut fd = if c == '>' { 1 } else { 0 };
                if in_word && word.is_empty() && (lit == "1" || lit == "2") {
                    fd = if lit == "2" { 2 } else { 1 };
                    lit.clear();
                    in_word = false;
                } else {
                    end_word!();
                }
                let rest: String = chars[i..chars.len().min(i + 4)].iter().collect();
                let (op, len) = if c == '<' {
                    if rest.starts_with("<<<") {
                        ("<<<", 3)
                    } else if rest.starts_with("<<") {
                        ("<<", 2)
                    } else {
                        ("<", 1)
                    }
                } else if rest.starts_with(">&1") {
                    // `2>&1` (or a no-op `1>&1`).
                    ("2>&1", 3)
                } else if rest.starts_with(">&2") {
                    (">&2", 3)
                } else if rest.starts_with(">>") {
                    (">>", 2)
                } else {
                    (">", 1)
                };
                let op = if op == "2>&1" && fd != 2 { ">" } else { op };
                if op == ">" && rest.starts_with(">&1") {
                    // `>&1` from fd 1: nothing to do.
                    i += 3;
                    continue;
                }
                tokens.push(Token::Redir(fd, op));
                i += len;
            }
            '\'' => {
                in_word = true;
                flush_lit(&mut lit, &mut word, false);
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .ok_or_else(|| {
                        SyntaxError("unexpected EOF while looking for matching `''".into())
                    })?;
                word.push(Part::Lit(chars[i + 1..i + 1 + end].iter().collect(), true));
                i += end + 2;
            }
            '"' => {
                in_word = true;
                flush_lit(&mut lit, &mut word, false);
                i += 1;
                let mut q = String::new();
                // An empty "" still makes a (quoted, empty) word.
                word.push(Part::Lit(String::new(), true));
                loop {
                    let Some(&c) = chars.get(i) else {
                        return Err(SyntaxError(
                            "unexpected EOF while looking for matching `\"'".into(),
                        ));
                    };
                    match c {
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\\' => {
                            match chars.get(i + 1) {
                                Some(&n @ ('$' | '`' | '"' | '\\')) => q.push(n),
                                Some('\n') => {}
                                Some(&n) => {
                                    q.push('\\');
                                    q.push(n);
                                }
                                None => q.push('\\'),
                            }
                            i += 2;
                        }
                        '$' | '`' => {
                            if !q.is_empty() {
                                word.push(Part::Lit(std::mem::take(&mut q), true));
                            }
                            i = dollar(&chars, i, true, &mut word, depth)?;
                        }
                        c => {
                            q.push(c);
                            i += 1;
                        }
                    }
                }
                if !q.is_empty() {
                    word.push(Part::Lit(q, true));
                }
            }
            '\\' => {
                in_word = true;
                if let Some(&n) = chars.get(i + 1)
                    && n != '\n'
                {
                    flush_lit(&mut lit, &mut word, false);
                    word.push(Part::Lit(n.to_string(), true));
                }
                i += 2;
            }
            '$' | '`' => {
                in_word = true;
                flush_lit(&mut lit, &mut word, false);
                i = dollar(&chars, i, false, &mut word, depth)?;
            }
            c => {
                in_word = true;
                lit.push(c);
                i += 1;
            }
        }
    }
    flush_lit(&mut lit, &mut word, false);
    if in_word {
        tokens.push(Token::Word(word));
    }
    Ok(tokens)
}

/// Reads a `$...` or backtick expansion starting at `chars[i]`; returns the index
/// after it.
fn dollar(
    chars: &[char],
    i: usize,
    quoted: bool,
    word: &mut Word,
    depth: usize,
) -> Result<usize, SyntaxError> {
    if chars[i] == '`' {
        let end = chars[i + 1..]
            .iter()
            .position(|&c| c == '`')
            .ok_or_else(|| SyntaxError("unexpected EOF while looking for matching ``'".into()))?;
        let source: String = chars[i + 1..i + 1 + end].iter().collect();
        lex(&source, depth + 1)?; // bound the nesting now
        word.push(Part::Subst(source, quoted));
        return Ok(i + end + 2);
    }
    match chars.get(i + 1) {
        Some('(') => {
            // Find the matching parenthesis, skipping quoted text.
            let mut level = 0usize;
            let mut j = i + 1;
            let mut quote: Option<char> = None;
            while j < chars.len() {
                let c = chars[j];
                match (quote, c) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, '\'' | '"') => quote = Some(c),
                    (None, '(') => level += 1,
                    (None, ')') => {
                        level -= 1;
                        if level == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            if j >= chars.len() {
                return Err(SyntaxError(
                    "unexpected EOF while looking for matching `)'".into(),
                ));
            }
            let source: String = chars[i + 2..j].iter().collect();
            lex(&source, depth + 1)?;
            word.push(Part::Subst(source, quoted));
            Ok(j + 1)
        }
        Some('{') => {
            let end = chars[i + 2..]
                .iter()
                .position(|&c| c == '}')
                .ok_or_else(|| SyntaxError("bad substitution".into()))?;
            let name: String = chars[i + 2..i + 2 + end].iter().collect();
            word.push(Part::Var(name, quoted));
            Ok(i + end + 3)
        }
        Some(&c)
            if c == '?' || c == '$' || c == '#' || c == '@' || c == '*' || c.is_ascii_digit() =>
        {
            word.push(Part::Var(c.to_string(), quoted));
            Ok(i + 2)
        }
        Some(&c) if c.is_ascii_alphabetic() || c == '_' => {
            let len = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .count();
            word.push(Part::Var(
                chars[i + 1..i + 1 + len].iter().collect(),
                quoted,
            ));
            Ok(i + 1 + len)
        }
        _ => {
            word.push(Part::Lit("$".into(), quoted));
            Ok(i + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Word {
        vec![Part::Lit(s.into(), false)]
    }

    #[test]
    fn lists_pipelines_and_redirections() {
        let list = parse(
            "cd /tmp || cd /var/run; wget http://x/y -O a && chmod +x a | cat > /dev/null 2>&1 &",
        )
        .unwrap();
        assert_eq!(list.len(), 4);
        assert_eq!(list[1].0, Join::Or);
        assert_eq!(list[3].0, Join::And);
        assert_eq!(list[3].1.commands.len(), 2);
        let cat = &list[3].1.commands[1];
        assert_eq!(cat.words, vec![lit("cat")]);
        assert_eq!(
            cat.redirects,
            vec![
                Redirect::Out {
                    fd: 1,
                    target: lit("/dev/null"),
                    append: false
                },
                Redirect::ErrToOut
            ]
        );
    }

    #[test]
    fn quotes_variables_and_substitutions() {
        let list = parse(r#"echo 'a b' "c $HOME ${X}" \; `uname` $(echo $(id)) $? $"#).unwrap();
        let words = &list[0].1.commands[0].words;
        assert_eq!(words.len(), 8);
        assert_eq!(words[1], vec![Part::Lit("a b".into(), true)]);
        assert!(words[2].contains(&Part::Var("HOME".into(), true)));
        assert!(words[2].contains(&Part::Var("X".into(), true)));
        assert_eq!(words[3], vec![Part::Lit(";".into(), true)]);
        assert_eq!(words[4], vec![Part::Subst("uname".into(), false)]);
        assert_eq!(words[5], vec![Part::Subst("echo $(id)".into(), false)]);
        assert_eq!(words[6], vec![Part::Var("?".into(), false)]);
        assert_eq!(words[7], lit("$"));
    }

    #[test]
    fn errors_are_bash_worded_and_nothing_panics() {
        assert!(parse("echo 'x").unwrap_err().0.contains("matching"));
        assert!(parse("| x").unwrap_err().0.contains("unexpected token `|'"));
        assert!(parse("a &&").is_err());
        assert_eq!(
            parse("(a; b) | c").unwrap()[0].1.commands[0]
                .group
                .as_deref(),
            Some("a; b")
        );
        assert!(parse("(a").unwrap_err().0.contains("matching `)'"));
        assert!(parse("(a) b").is_err());
        assert!(parse(&"(".repeat(100)).is_err());
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse("   # comment").unwrap(), vec![]);
        assert_eq!(parse("a;").unwrap().len(), 1);
        let deep = "$(".repeat(50) + &")".repeat(50);
        assert!(parse(&deep).is_err());
        // Every prefix of a tricky line parses or fails cleanly.
        let tricky = r#"echo "a$(b 'c)' "d")" `e` ${f 2>&1 >> g < h << i &> j"#;
        for end in 0..=tricky.len() {
            if tricky.is_char_boundary(end) {
                let _ = parse(&tricky[..end]);
            }
        }
    }
}

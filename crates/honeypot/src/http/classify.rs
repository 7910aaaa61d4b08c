//! Attack classification: each request is tagged with zero or more classes (`sqli`,
//! `xss`, ...) and the ids of the rules that matched.
//!
//! Rules are data: a TOML file (the default one is embedded, `rules/http.toml`; a
//! user file named by `honeypot.http.rules_file` adds to it). Each rule is a regular
//! expression over one or more parts of the request, matched after [`decode`]
//! normalised it, so `%2527`, `&lt;`, `+` and case do not hide an attack. All rules
//! of one part run as one `RegexSet`: one pass over the text, whatever the count.

use regex::bytes::{RegexSet, RegexSetBuilder};
use serde::Deserialize;

use super::decode;

/// The classes a rule may give; the names are part of the event format
/// (`data.classes`).
pub const CLASSES: &[&str] = &[
    "sqli",
    "xss",
    "traversal",
    "rfi",
    "cmdi",
    "log4shell",
    "shellshock",
    "php",
    "ssrf",
    "cve-probe",
    "scanner",
];

/// A part of the request a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The method (`GET`, `PROPFIND`).
    Method,
    /// The path, without the query.
    Path,
    /// The query string.
    Query,
    /// The body (up to `max_body_bytes`).
    Body,
    /// Every header as `name: value` lines, the user agent included.
    Headers,
    /// The `User-Agent` header alone.
    UserAgent,
    /// Each header value on its own (`Cookie` whole, as a CGI script sees it in
    /// `HTTP_COOKIE`), so a rule cannot match across two headers and `^`/`$` are
    /// the value's ends.
    HeaderValue,
    /// Each cookie's value on its own (every `Cookie` header split at `;`, the name
    /// and `=` cut off), decoded as a form value: PHP's `$_COOKIE` turns `+` into a
    /// space, so injected cookies are written that way.
    Cookie,
}

const PARTS: [Part; 8] = [
    Part::Method,
    Part::Path,
    Part::Query,
    Part::Body,
    Part::Headers,
    Part::UserAgent,
    Part::HeaderValue,
    Part::Cookie,
];

/// Most header values one request has classified one at a time (the rest are still
/// seen by `headers` rules). The server bounds a head to `max_headers` (100 by
/// default) already; this bounds the classifier on its own, whoever calls it.
const MAX_HEADER_VALUES: usize = 256;

/// Most cookies one request has classified one at a time, over all its `Cookie`
/// headers (the whole header is still a `header_value`).
const MAX_COOKIES: usize = 256;

/// One rule as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    class: String,
    #[serde(rename = "in")]
    parts: Vec<Part>,
    pattern: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// The default rules, shipped with Nectar.
pub const DEFAULT_RULES: &str = include_str!("../../rules/http.toml");

/// Most rules in total (defaults and user file), so a huge file is refused.
const MAX_RULES: usize = 2048;

/// The compiled rules.
#[derive(Debug)]
pub struct Classifier {
    /// Per part: the set, and for each of its patterns the rule index.
    sets: Vec<(Part, RegexSet, Vec<u16>)>,
    ids: Vec<String>,
    class_of: Vec<u8>,
}

/// What matched one request: classes as a bit set over [`CLASSES`], rules as indices.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Bit `i` set: class `CLASSES[i]`.
    pub classes: u16,
    /// Indices of the rules that matched, in rule order, without repeats.
    pub rules: Vec<u16>,
}

impl Verdict {
    /// Whether class `name` is set.
    pub fn has(&self, name: &str) -> bool {
        CLASSES
            .iter()
            .position(|c| *c == name)
            .is_some_and(|i| self.classes & (1 << i) != 0)
    }

    /// The class names, in the order of [`CLASSES`].
    pub fn class_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        CLASSES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.classes & (1 << i) != 0)
            .map(|(_, c)| *c)
    }
}

/// The parts of one request, raw (the classifier decodes them).
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    /// Method.
    pub method: &'a [u8],
    /// Path (raw, percent-encoded).
    pub path: &'a [u8],
    /// Query string (raw), without `?`.
    pub query: &'a [u8],
    /// Body (bounded).
    pub body: &'a [u8],
    /// Headers in arrival order.
    pub headers: &'a [(&'a [u8], &'a [u8])],
    /// The `User-Agent` value.
    pub user_agent: &'a [u8],
}

/// Buffers reused from request to request of one connection.
#[derive(Debug, Default)]
pub struct Scratch {
    text: Vec<u8>,
    out: Vec<u8>,
    tmp: Vec<u8>,
    matched: Vec<u16>,
}

impl Classifier {
    /// Compiles the default rules and, if given, the user's rules after them.
    /// Errors name the file and the rule.
    pub fn new(user_rules: Option<(&str, &str)>) -> Result<Classifier, String> {
        let mut specs = parse("the default rules", DEFAULT_RULES)?;
        if let Some((name, text)) = user_rules {
            specs.extend(parse(name, text)?);
        }
        if specs.len() > MAX_RULES {
            return Err(format!("{} rules; at most {MAX_RULES}", specs.len()));
        }
        let mut ids = Vec::with_capacity(specs.len());
        let mut class_of = Vec::with_capacity(specs.len());
        for spec in &specs {
            let class = CLASSES
                .iter()
                .position(|c| *c == spec.class)
                .ok_or_else(|| {
                    format!(
                        "rule {:?}: unknown class {:?} (one of {})",
                        spec.id,
                        spec.class,
                        CLASSES.join(", ")
                    )
                })?;
            if spec.parts.is_empty() {
                return Err(format!("rule {:?}: `in` lists no part", spec.id));
            }
            if ids.contains(&spec.id) {
                return Err(format!("rule {:?} is defined twice", spec.id));
            }
            ids.push(spec.id.clone());
            class_of.push(class as u8);
        }
        let mut sets = Vec::new();
        for part in PARTS {
            let (patterns, index): (Vec<&str>, Vec<u16>) = specs
                .iter()
                .enumerate()
                .filter(|(_, s)| s.parts.contains(&part))
                .map(|(i, s)| (s.pattern.as_str(), i as u16))
                .unzip();
            if patterns.is_empty() {
                continue;
            }
            // ASCII classes (`\w`, `\b`, `\s` over bytes): attack syntax is ASCII,
            // and it keeps every rule on the fast lazy DFA whatever bytes arrive.
            let set = RegexSetBuilder::new(&patterns)
                .unicode(false)
                .case_insensitive(true)
                .size_limit(64 << 20)
                .build()
                .map_err(|e| {
                    // Find the culprit to name it.
                    let bad = patterns
                        .iter()
                        .zip(&index)
                        .find(|(p, _)| {
                            regex::bytes::RegexBuilder::new(p)
                                .unicode(false)
                                .build()
                                .is_err()
                        })
                        .map(|(_, i)| specs[usize::from(*i)].id.clone())
                        .unwrap_or_default();
                    format!("rule {bad:?}: {e}")
                })?;
            sets.push((part, set, index));
        }
        Ok(Classifier {
            sets,
            ids,
            class_of,
        })
    }

    /// The id of rule `index`.
    pub fn rule_id(&self, index: u16) -> &str {
        &self.ids[usize::from(index)]
    }

    /// Classifies one request.
    pub fn classify(&self, parts: &Parts<'_>, scratch: &mut Scratch) -> Verdict {
        scratch.matched.clear();
        for (part, set, index) in &self.sets {
            let matcher = Matcher { set, index };
            match part {
                Part::Method => matcher.run(parts.method, false, scratch),
                Part::Path => matcher.run(parts.path, false, scratch),
                Part::Query => matcher.run(parts.query, true, scratch),
                Part::Body => matcher.run(parts.body, true, scratch),
                Part::UserAgent => matcher.run(parts.user_agent, false, scratch),
                Part::Headers => {
                    // Taken out of `scratch` for the call, which borrows it whole.
                    let mut block = std::mem::take(&mut scratch.text);
                    header_block(parts.headers, &mut block);
                    matcher.run(&block, false, scratch);
                    scratch.text = block;
                }
                Part::HeaderValue => {
                    for (_, value) in parts.headers.iter().take(MAX_HEADER_VALUES) {
                        matcher.run(value, false, scratch);
                    }
                }
                Part::Cookie => {
                    for value in cookie_values(parts.headers).take(MAX_COOKIES) {
                        matcher.run(value, true, scratch);
                    }
                }
            }
        }
        scratch.matched.sort_unstable();
        scratch.matched.dedup();
        let mut verdict = Verdict {
            classes: 0,
            rules: Vec::with_capacity(scratch.matched.len()),
        };
        for &r in &scratch.matched {
            verdict.classes |= 1 << self.class_of[usize::from(r)];
            verdict.rules.push(r);
        }
        verdict
    }
}

/// The rules of one part, run over one text at a time.
struct Matcher<'a> {
    set: &'a RegexSet,
    index: &'a [u16],
}

impl Matcher<'_> {
    /// Normalises `text` (`form`: `+` is a space) and records the rules matching it.
    fn run(&self, text: &[u8], form: bool, scratch: &mut Scratch) {
        if text.is_empty() {
            return;
        }
        decode::normalize(text, form, &mut scratch.out, &mut scratch.tmp);
        for m in self.set.matches(&scratch.out).iter() {
            scratch.matched.push(self.index[m]);
        }
    }
}

/// Every header as a `name: value` line, into `out` (cleared first).
fn header_block(headers: &[(&[u8], &[u8])], out: &mut Vec<u8>) {
    out.clear();
    for (name, value) in headers {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.push(b'\n');
    }
}

/// The values of the cookies of every `Cookie` header, raw: each `;`-separated
/// piece without its name and `=` (a piece without `=` is all value, as browsers
/// read it), blanks around it trimmed, empty ones left out.
pub fn cookie_values<'a>(headers: &'a [(&'a [u8], &'a [u8])]) -> impl Iterator<Item = &'a [u8]> {
    headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(b"cookie"))
        .flat_map(|(_, value)| value.split(|&b| b == b';'))
        .map(|piece| {
            let value = piece
                .iter()
                .position(|&b| b == b'=')
                .map_or(piece, |eq| &piece[eq + 1..]);
            value.trim_ascii()
        })
        .filter(|value| !value.is_empty())
}

fn parse(name: &str, text: &str) -> Result<Vec<RuleSpec>, String> {
    toml::from_str::<RuleFile>(text)
        .map(|f| f.rule)
        .map_err(|e| format!("{name}: {e}"))
}

#[cfg(test)]
mod tests;

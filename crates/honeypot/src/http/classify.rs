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
}

const PARTS: [Part; 6] = [
    Part::Method,
    Part::Path,
    Part::Query,
    Part::Body,
    Part::Headers,
    Part::UserAgent,
];

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
            let text: &[u8] = match part {
                Part::Method => parts.method,
                Part::Path => parts.path,
                Part::Query => parts.query,
                Part::Body => parts.body,
                Part::UserAgent => parts.user_agent,
                Part::Headers => {
                    scratch.text.clear();
                    for (name, value) in parts.headers {
                        scratch.text.extend_from_slice(name);
                        scratch.text.extend_from_slice(b": ");
                        scratch.text.extend_from_slice(value);
                        scratch.text.push(b'\n');
                    }
                    &scratch.text
                }
            };
            if text.is_empty() {
                continue;
            }
            let form = matches!(part, Part::Query | Part::Body);
            decode::normalize(text, form, &mut scratch.out, &mut scratch.tmp);
            for m in set.matches(&scratch.out).iter() {
                scratch.matched.push(index[m]);
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

fn parse(name: &str, text: &str) -> Result<Vec<RuleSpec>, String> {
    toml::from_str::<RuleFile>(text)
        .map(|f| f.rule)
        .map_err(|e| format!("{name}: {e}"))
}

#[cfg(test)]
mod tests;

//! Loading rules: the built-in pack (Sigma YAML under `pack/`, compiled into
//! the binary), then every `*.yml`/`*.yaml` under each `[rules] paths` folder;
//! rules turned off by id are left out. A file that does not parse, or a rule
//! the engine cannot compile, is a [`LoadError`] naming the file and the line
//! of its document; the other rules still load.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use nectar_event::{AlertRule, Severity};
use rsigma_parser::{CorrelationRule, Level, SigmaCollection, SigmaRule, parse_sigma_yaml};

/// Most rule files read from one folder tree, and most bytes per file: a rule
/// folder is configuration, and a wrong path (`/`) must not read the disk.
pub const MAX_RULE_FILES: usize = 10_000;
/// Largest rule file read.
pub const MAX_RULE_FILE_BYTES: u64 = 1024 * 1024;
/// Deepest folder nesting walked.
const MAX_FOLDER_DEPTH: usize = 16;

/// The built-in pack: (file name, YAML).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("auth.yml", include_str!("../pack/auth.yml")),
    ("shell.yml", include_str!("../pack/shell.yml")),
    ("http.yml", include_str!("../pack/http.yml")),
    ("honeytoken.yml", include_str!("../pack/honeytoken.yml")),
    ("network.yml", include_str!("../pack/network.yml")),
];

/// A file or rule that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoadError {
    /// The file (`builtin:NAME` for the pack).
    pub file: String,
    /// The line its document starts on (1-based), when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// What is known of a loaded rule, for the Rules page and `nectar rules`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleInfo {
    /// Id, title, level and techniques, as alerts carry them.
    #[serde(flatten)]
    pub rule: AlertRule,
    /// `detection` or the correlation type (`event_count`, ...).
    pub kind: String,
    /// Where it came from.
    pub file: String,
    /// The line of its document.
    pub line: Option<usize>,
    /// Whether it raises alerts itself (a detection only referenced by a
    /// correlation does not, unless it says `generate: true`).
    pub generates: bool,
}

/// Rules parsed and ready for the engine.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// Every rule, correlation and filter, merged.
    pub collection: SigmaCollection,
    /// One entry per rule and correlation, in load order.
    pub infos: Vec<RuleInfo>,
    /// What could not be loaded.
    pub errors: Vec<LoadError>,
    /// Where each detection rule of `collection.rules` came from (file, line).
    pub(crate) rule_sources: Vec<(String, Option<usize>)>,
}

impl RuleSet {
    /// The built-in pack plus the folders, without the rules in `disabled`.
    pub fn load(paths: &[PathBuf], disabled: &[String], builtin: bool) -> RuleSet {
        let mut set = RuleSet::default();
        let disabled: HashSet<&str> = disabled.iter().map(String::as_str).collect();
        if builtin {
            for (name, text) in BUILT_IN {
                set.add_text(&format!("builtin:{name}"), text, &disabled);
            }
        }
        for path in paths {
            let mut files = Vec::new();
            if let Err(e) = collect_files(path, 0, &mut files) {
                set.errors.push(LoadError {
                    file: path.display().to_string(),
                    line: None,
                    message: e,
                });
                continue;
            }
            files.sort();
            for file in files {
                set.add_file(&file, &disabled);
            }
        }
        set.finish();
        set
    }

    /// One file's rules (for `nectar rules check FILE`).
    pub fn add_file(&mut self, file: &Path, disabled: &HashSet<&str>) {
        let name = file.display().to_string();
        match read_bounded(file) {
            Ok(text) => self.add_text(&name, &text, disabled),
            Err(message) => self.errors.push(LoadError {
                file: name,
                line: None,
                message,
            }),
        }
    }

    /// Rules from YAML text that came from `file`.
    pub fn add_text(&mut self, file: &str, text: &str, disabled: &HashSet<&str>) {
        let collection = match parse_sigma_yaml(text) {
            Ok(c) => c,
            Err(e) => {
                self.errors.push(LoadError {
                    file: file.to_owned(),
                    line: None,
                    message: e.to_string(),
                });
                return;
            }
        };
        if !collection.errors.is_empty() {
            for (line, message) in locate_errors(text, &collection.errors) {
                self.errors.push(LoadError {
                    file: file.to_owned(),
                    line,
                    message,
                });
            }
        }
        let on = |id: &Option<String>| id.as_deref().is_none_or(|id| !disabled.contains(id));
        for mut rule in collection.rules {
            if !on(&rule.id) {
                continue;
            }
            // rsigma feeds a correlation only from detections with an id: a
            // rule named but without one gets its name (or title) as its id.
            if rule.id.is_none() {
                rule.id = Some(rule.name.clone().unwrap_or_else(|| rule.title.clone()));
            }
            let line = line_of(text, &rule.title);
            self.infos.push(RuleInfo {
                rule: alert_rule_of(&rule),
                kind: "detection".into(),
                file: file.to_owned(),
                line,
                generates: true,
            });
            self.rule_sources.push((file.to_owned(), line));
            self.collection.rules.push(rule);
        }
        for corr in collection.correlations {
            if !on(&corr.id) {
                continue;
            }
            self.infos.push(RuleInfo {
                rule: correlation_alert_rule(&corr),
                kind: corr.correlation_type.as_str().to_owned(),
                file: file.to_owned(),
                line: line_of(text, &corr.title),
                generates: true,
            });
            self.collection.correlations.push(corr);
        }
        self.collection
            .filters
            .extend(collection.filters.into_iter().filter(|f| on(&f.id)));
    }

    /// Marks the detections only correlations use (Sigma: they raise nothing of
    /// their own unless `generate: true`).
    fn finish(&mut self) {
        let mut referenced: HashSet<&str> = HashSet::new();
        for corr in &self.collection.correlations {
            if !corr.generate {
                referenced.extend(corr.rules.iter().map(String::as_str));
            }
        }
        let names: Vec<(Option<String>, Option<String>)> = self
            .collection
            .rules
            .iter()
            .map(|r| (r.id.clone(), r.name.clone()))
            .collect();
        let mut i = 0;
        for info in self.infos.iter_mut() {
            if info.kind != "detection" {
                continue;
            }
            if let Some((id, name)) = names.get(i) {
                let used = id.as_deref().is_some_and(|id| referenced.contains(id))
                    || name.as_deref().is_some_and(|n| referenced.contains(n));
                info.generates = !used;
            }
            i += 1;
        }
    }
}

/// The rule as alerts name it. A rule without an id is named by its title.
pub fn alert_rule_of(rule: &SigmaRule) -> AlertRule {
    AlertRule {
        id: rule.id.clone().unwrap_or_else(|| rule.title.clone()),
        title: rule.title.clone(),
        level: severity_of(rule.level),
        techniques: techniques(&rule.tags),
    }
}

fn correlation_alert_rule(corr: &CorrelationRule) -> AlertRule {
    AlertRule {
        id: corr.id.clone().unwrap_or_else(|| corr.title.clone()),
        title: corr.title.clone(),
        level: severity_of(corr.level),
        techniques: techniques(&corr.tags),
    }
}

/// A Sigma level as a severity (`informational` is `info`; none is `medium`,
/// Sigma's own default).
pub fn severity_of(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Informational) => Severity::Info,
        Some(Level::Low) => Severity::Low,
        None | Some(Level::Medium) => Severity::Medium,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
    }
}

/// ATT&CK technique ids from Sigma tags: `attack.t1110.001` is `T1110.001`.
pub fn techniques(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let Some(rest) = tag.strip_prefix("attack.") else {
            continue;
        };
        let Some(digits) = rest.strip_prefix('t').or_else(|| rest.strip_prefix('T')) else {
            continue;
        };
        let valid = digits
            .split('.')
            .enumerate()
            .all(|(i, part)| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) && i < 2);
        let technique = format!("T{digits}");
        if valid && !out.contains(&technique) {
            out.push(technique);
        }
    }
    out
}

/// The 1-based line of the first `title:` naming `title`, if any.
fn line_of(text: &str, title: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix("title:")
                .is_some_and(|t| t.trim().trim_matches(['"', '\'']) == title)
        })
        .map(|i| i + 1)
}

/// Each parse error with the line of the document it came from: the documents
/// are parsed one at a time to find which ones fail.
fn locate_errors(text: &str, errors: &[String]) -> Vec<(Option<usize>, String)> {
    let mut starts = vec![0usize];
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() == "---" {
            starts.push(i + 1);
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut located = Vec::new();
    for (n, start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(lines.len(), |next| next - 1);
        let doc = lines.get(*start..end).unwrap_or_default().join("\n");
        if doc.trim().is_empty() {
            continue;
        }
        let problems = match parse_sigma_yaml(&doc) {
            Ok(c) => c.errors,
            Err(e) => vec![e.to_string()],
        };
        // A line number inside the message (YAML errors) is relative to the
        // document; the first content line is the document's line.
        let first = lines
            .iter()
            .enumerate()
            .skip(*start)
            .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map_or(start + 1, |(i, _)| i + 1);
        for p in problems {
            located.push((Some(first), p));
        }
    }
    if located.is_empty() {
        // Only a whole-file problem (a cross-document reference): unplaced.
        return errors.iter().map(|e| (None, e.clone())).collect();
    }
    located
}

fn read_bounded(file: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(file).map_err(|e| e.to_string())?;
    if meta.len() > MAX_RULE_FILE_BYTES {
        return Err(format!(
            "{} bytes: a rule file may have at most {MAX_RULE_FILE_BYTES}",
            meta.len()
        ));
    }
    std::fs::read_to_string(file).map_err(|e| e.to_string())
}

fn collect_files(path: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if meta.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    if depth > MAX_FOLDER_DEPTH {
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("cannot read it: {e}"))?;
    for entry in entries.flatten() {
        let p = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            collect_files(&p, depth + 1, out)?;
        } else if p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        {
            if out.len() >= MAX_RULE_FILES {
                return Err(format!(
                    "more than {MAX_RULE_FILES} rule files; is the folder right?"
                ));
            }
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_tags_become_technique_ids() {
        let tags: Vec<String> = [
            "attack.credential-access",
            "attack.t1110.001",
            "attack.T1105",
            "attack.t1110.001",
            "attack.g0032",
            "cve.2021-44228",
            "attack.t12x",
        ]
        .map(String::from)
        .into();
        assert_eq!(techniques(&tags), ["T1110.001", "T1105"]);
    }

    #[test]
    fn the_built_in_pack_loads_without_errors() {
        let set = RuleSet::load(&[], &[], true);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        assert!(set.infos.len() >= 15, "{}", set.infos.len());
        let mut ids = HashSet::new();
        for info in &set.infos {
            assert!(
                ids.insert(info.rule.id.clone()),
                "duplicate id {}",
                info.rule.id
            );
            assert!(info.line.is_some(), "{}", info.rule.id);
            if info.generates {
                assert!(
                    !info.rule.techniques.is_empty(),
                    "{} has no technique",
                    info.rule.id
                );
            }
        }
    }

    #[test]
    fn a_broken_document_is_named_by_file_and_line() {
        let mut set = RuleSet::default();
        let text = "title: fine\nid: a\nlogsource: {product: nectar}\ndetection:\n  sel: {kind: x}\n  condition: sel\n---\n# broken\ntitle: broken\nid: b\nlogsource: {product: nectar}\ndetection:\n  sel: {kind|nonsense: x}\n  condition: sel\n";
        set.add_text("rules/x.yml", text, &HashSet::new());
        assert_eq!(set.infos.len(), 1, "{:?}", set.errors);
        assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
        assert_eq!(set.errors[0].line, Some(9));
        assert!(set.errors[0].to_string().starts_with("rules/x.yml:9: "));
    }
}

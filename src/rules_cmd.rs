//! `nectar rules`: check rule files, list the rules `serve` would run, and
//! replay a JSON-lines file of events through rules to see what they would
//! have raised, without a server. The engine and the alert folding are the
//! ones `serve` runs (`nectar-rules`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use anyhow::Context;
use nectar_event::{Event, IncomingEvent};
use nectar_rules::{EngineLimits, RuleEngine, RuleSet, SigmaEngine};

use crate::config::Config;
use crate::exit::usage;

/// `nectar rules ...`.
#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// Validate Sigma rule files or folders: errors name the file and line
    /// (exit 2 when any rule does not load).
    Check {
        /// Files or folders (`*.yml`, `*.yaml` in them).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// List the rules `serve` runs with this configuration (built-in pack and
    /// `[rules] paths`), with their level and ATT&CK techniques.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show what rules would have raised on a file of events (JSON lines, as
    /// the event log writes them): one line per alert, with its count.
    Test {
        /// Rule files or folders; without any, the configured rules.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The events, one JSON object per line (`-` for standard input).
        #[arg(long, value_name = "FILE.jsonl")]
        events: PathBuf,
        /// Also run the built-in pack with the given paths.
        #[arg(long)]
        builtin: bool,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `nectar rules` command.
pub fn run(config: &Config, command: RulesCommand) -> anyhow::Result<()> {
    match command {
        RulesCommand::Check { paths } => check(&paths),
        RulesCommand::List { json } => list(config, json),
        RulesCommand::Test {
            paths,
            events,
            builtin,
            json,
        } => test(config, &paths, &events, builtin, json),
    }
}

fn load(
    paths: &[PathBuf],
    disabled: &[String],
    builtin: bool,
) -> (RuleSet, SigmaEngine, Vec<nectar_rules::LoadError>) {
    let set = RuleSet::load(paths, disabled, builtin);
    let (engine, compile) = SigmaEngine::new(&set, EngineLimits::default());
    let mut errors = set.errors.clone();
    errors.extend(compile);
    (set, engine, errors)
}

fn check(paths: &[PathBuf]) -> anyhow::Result<()> {
    for path in paths {
        if !path.exists() {
            return Err(usage(format!("{}: no such file or folder", path.display())));
        }
    }
    let (set, _, errors) = load(paths, &[], false);
    for e in &errors {
        eprintln!("{e}");
    }
    if !errors.is_empty() {
        return Err(usage(format!(
            "{} problem(s) in the rules; {} rule(s) loaded",
            errors.len(),
            set.infos.len()
        )));
    }
    println!("{} rule(s) loaded, no errors.", set.infos.len());
    Ok(())
}

fn list(config: &Config, json: bool) -> anyhow::Result<()> {
    let (set, _, errors) = load(
        &config.rules.paths,
        &config.rules.disabled,
        config.rules.builtin,
    );
    let mut out = std::io::stdout().lock();
    if json {
        let body = serde_json::json!({"rules": set.infos, "errors": errors});
        writeln!(out, "{body}")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<34} {:<9} {:<16} {:<22} TITLE",
        "ID", "LEVEL", "KIND", "TECHNIQUES"
    )?;
    for info in &set.infos {
        writeln!(
            out,
            "{:<34} {:<9} {:<16} {:<22} {}",
            info.rule.id,
            info.rule.level.as_str(),
            if info.generates {
                info.kind.as_str()
            } else {
                "(correlated)"
            },
            info.rule.techniques.join(","),
            nectar_event::text::visible(&info.rule.title, 200)
        )?;
    }
    for e in &errors {
        eprintln!("not loaded: {e}");
    }
    Ok(())
}

/// One alert the replay raised.
#[derive(serde::Serialize)]
struct Raised {
    rule: String,
    title: String,
    severity: &'static str,
    group: BTreeMap<String, String>,
    count: u64,
    first_event: String,
    last_event: String,
}

fn test(
    config: &Config,
    paths: &[PathBuf],
    events: &PathBuf,
    builtin: bool,
    json: bool,
) -> anyhow::Result<()> {
    let (mut engine, errors) = if paths.is_empty() {
        let (_, engine, errors) = load(
            &config.rules.paths,
            &config.rules.disabled,
            config.rules.builtin,
        );
        (engine, errors)
    } else {
        for path in paths {
            if !path.exists() {
                return Err(usage(format!("{}: no such file or folder", path.display())));
            }
        }
        let (_, engine, errors) = load(paths, &[], builtin);
        (engine, errors)
    };
    for e in &errors {
        eprintln!("not loaded: {e}");
    }
    let reader: Box<dyn BufRead> = if events.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        let file = std::fs::File::open(events)
            .map_err(|e| usage(format!("--events {}: {e}", events.display())))?;
        Box::new(BufReader::new(file))
    };
    let mut raised: Vec<Raised> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut matches = Vec::new();
    let mut read = 0u64;
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", events.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let event = parse_event(&line)
            .map_err(|e| usage(format!("--events {} line {}: {e}", events.display(), n + 1)))?;
        read += 1;
        engine.process(&event, &mut matches);
        for m in matches.drain(..) {
            let key = nectar_rules::stage::fingerprint(&m.rule.id, &m.group);
            match index.get(&key) {
                Some(&i) => {
                    raised[i].count += 1;
                    raised[i].last_event = event.id.to_string();
                }
                None => {
                    index.insert(key, raised.len());
                    raised.push(Raised {
                        title: nectar_rules::stage::title(&m.rule.title, &m.group),
                        rule: m.rule.id.clone(),
                        severity: m.rule.level.as_str(),
                        group: m.group,
                        count: m.initial_count,
                        first_event: event.id.to_string(),
                        last_event: event.id.to_string(),
                    });
                }
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if json {
        for r in &raised {
            writeln!(out, "{}", serde_json::to_string(r)?)?;
        }
    } else {
        for r in &raised {
            writeln!(
                out,
                "{:<9} {:>6}  {:<34} {}",
                r.severity,
                r.count,
                r.rule,
                nectar_event::text::visible(&r.title, 200)
            )?;
        }
    }
    eprintln!("{read} event(s) read, {} alert(s) raised.", raised.len());
    Ok(())
}

/// An event line: a stored event (the event log) or an incoming one.
fn parse_event(line: &str) -> Result<Event, String> {
    if let Ok(event) = serde_json::from_str::<Event>(line) {
        return Ok(event);
    }
    let incoming: IncomingEvent = serde_json::from_str(line).map_err(|e| e.to_string())?;
    incoming
        .into_event("rules-test", &nectar_event::Limits::default())
        .map_err(|e| e.to_string())
}

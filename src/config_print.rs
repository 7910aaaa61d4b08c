//! `nectar config`: the effective configuration as a commented TOML file that a
//! user can save and edit. Nothing here is written per key: the comments are the
//! doc comments of the sections' fields (their JSON Schema descriptions, derived
//! with `schemars`) and the values are the configuration serialised, walked
//! together, so a new key is documented and printed by being declared.
//!
//! Keys come in the order their structs declare them (`toml`'s `preserve_order`),
//! each table's plain keys before its sub-tables. Secrets ([`Sensitive`] values,
//! `writeOnly` in the schema) that are set are printed commented out and
//! redacted.
//!
//! [`Sensitive`]: nectar_event::config::Sensitive

use std::fmt::Write as _;

use schemars::generate::SchemaSettings;
use serde_json::Value as Json;

use crate::config::Config;

/// The first lines of the file.
const PREAMBLE: &str = "\
# Nectar configuration. Every key is optional: what is shown here is the
# effective value (the default unless your file or flags changed it).
# Save as nectar.toml and run `nectar --config nectar.toml serve`.

";

/// Lines of allowed values (`stats`) are wrapped at this width.
const WIDTH: usize = 88;

/// `config` as a commented TOML file.
pub fn commented_toml(config: &Config) -> Result<String, toml::ser::Error> {
    let values = toml::Table::try_from(config)?;
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Config>();
    let root = schema.as_value();
    let mut printer = Printer {
        out: PREAMBLE.to_owned(),
        defs: root.get("$defs"),
    };
    printer.table(&[], &values, Some(root));
    Ok(printer.out)
}

/// Walks a table of values with the schema that describes it.
struct Printer<'a> {
    out: String,
    /// The schema's definitions, which `$ref`s point into.
    defs: Option<&'a Json>,
}

impl<'a> Printer<'a> {
    /// A table's keys (with their comments), then its sub-tables, each under its
    /// `[header]` and the comment of the key that holds it.
    fn table(&mut self, path: &[&str], values: &toml::Table, schema: Option<&'a Json>) {
        for (key, value) in values {
            if !value.is_table() && tables(value).is_none() {
                self.key(key, value, self.child(schema, key));
            }
        }
        for (key, value) in values {
            let toml::Value::Table(sub) = value else {
                continue;
            };
            let child = self.child(schema, key);
            let mut sub_path = path.to_vec();
            sub_path.push(key);
            self.out.push('\n');
            self.comment(self.description(child));
            // A table of tables only (`[detect.stat]`) needs no header of its own:
            // its sub-tables' headers make it.
            if sub.is_empty() || sub.values().any(|v| !v.is_table()) {
                let header: Vec<String> = sub_path.iter().map(|k| toml_key(k)).collect();
                let _ = writeln!(self.out, "[{}]", header.join("."));
            }
            self.table(&sub_path, sub, child);
        }
        // Arrays of tables (`[[notify.channels]]`) last: each entry under its
        // own header, its keys documented and its secrets commented out like
        // any table's.
        for (key, value) in values {
            let Some(entries) = tables(value) else {
                continue;
            };
            let child = self.child(schema, key);
            let items = child.map(|c| self.resolve(c)).and_then(|c| c.get("items"));
            let mut sub_path = path.to_vec();
            sub_path.push(key);
            let header: Vec<String> = sub_path.iter().map(|k| toml_key(k)).collect();
            for (i, entry) in entries.into_iter().enumerate() {
                self.out.push('\n');
                if i == 0 {
                    self.comment(self.description(child));
                }
                let _ = writeln!(self.out, "[[{}]]", header.join("."));
                self.table(&sub_path, entry, items);
            }
        }
    }

    /// One `key = value` line, after its description and allowed values.
    fn key(&mut self, key: &str, value: &toml::Value, schema: Option<&'a Json>) {
        self.comment(self.description(schema));
        let resolved = schema.map(|s| self.resolve(s));
        self.allowed_values(resolved);
        let secret = resolved.and_then(|s| s.get("writeOnly")) == Some(&Json::Bool(true));
        let key = toml_key(key);
        if secret && value.as_str() != Some("") {
            // The value is `Sensitive`'s placeholder, not the secret: comment it
            // out, so that saving this output does not overwrite the secret.
            let _ = writeln!(
                self.out,
                "# {key} = {value}  (set; secrets are not printed)"
            );
        } else {
            let _ = writeln!(self.out, "{key} = {value}");
        }
    }

    /// `# ...` lines of the values an enumeration allows: each with its own
    /// description when the variants have one, else all on a line.
    fn allowed_values(&mut self, schema: Option<&'a Json>) {
        let Some(schema) = schema else { return };
        if let Some(variants) = schema.get("oneOf").and_then(Json::as_array) {
            for variant in variants {
                let variant = self.resolve(variant);
                let (Some(name), Some(text)) = (
                    variant.get("const"),
                    variant.get("description").and_then(Json::as_str),
                ) else {
                    continue;
                };
                let mut lines = text.lines();
                let first = lines.next().unwrap_or_default();
                let _ = writeln!(self.out, "#   {name}: {}", plain(first));
                for line in lines {
                    let _ = writeln!(self.out, "#     {}", plain(line));
                }
            }
            return;
        }
        let names = schema
            .get("enum")
            .or_else(|| schema.get("items").and_then(|i| i.get("enum")))
            .and_then(Json::as_array);
        if let Some(names) = names {
            let mut line = String::from("# One of:");
            for name in names {
                let name = name
                    .as_str()
                    .map_or_else(|| name.to_string(), str::to_owned);
                if line.len() + 1 + name.len() > WIDTH {
                    let _ = writeln!(self.out, "{line}");
                    line = String::from("#  ");
                }
                line.push(' ');
                line.push_str(&name);
            }
            let _ = writeln!(self.out, "{line}");
        }
    }

    /// The description as `# ` lines.
    fn comment(&mut self, text: Option<&str>) {
        for line in text.into_iter().flat_map(str::lines) {
            let line = plain(line);
            if line.is_empty() {
                self.out.push_str("#\n");
            } else {
                let _ = writeln!(self.out, "# {line}");
            }
        }
    }

    /// The schema of `key` within a table's schema: a declared property, or the
    /// schema every entry of a map shares.
    fn child(&self, schema: Option<&'a Json>, key: &str) -> Option<&'a Json> {
        let table = self.resolve(schema?);
        table
            .get("properties")
            .and_then(|p| p.get(key))
            .or_else(|| table.get("additionalProperties").filter(|a| a.is_object()))
    }

    /// The doc comment of a key: the field's own, else its type's.
    fn description(&self, schema: Option<&'a Json>) -> Option<&'a str> {
        let schema = schema?;
        schema
            .get("description")
            .or_else(|| self.resolve(schema).get("description"))
            .and_then(Json::as_str)
    }

    /// Follows `$ref`s into the definitions.
    fn resolve(&self, mut schema: &'a Json) -> &'a Json {
        for _ in 0..8 {
            let Some(name) = schema
                .get("$ref")
                .and_then(Json::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            else {
                break;
            };
            match self.defs.and_then(|d| d.get(name)) {
                Some(def) => schema = def,
                None => break,
            }
        }
        schema
    }
}

/// The entries of a non-empty array whose entries are all tables (printed as
/// `[[key]]` sections; an empty one stays `key = []`).
fn tables(value: &toml::Value) -> Option<Vec<&toml::Table>> {
    let array = value.as_array().filter(|a| !a.is_empty())?;
    array.iter().map(toml::Value::as_table).collect()
}

/// A doc-comment line without rustdoc's link syntax: "[`x`](path)" and "[`x`]"
/// become "`x`".
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("[`") {
        let Some(len) = rest[start + 2..].find("`]") else {
            break;
        };
        let end = start + 2 + len;
        out.push_str(&rest[..start]);
        out.push_str(&rest[start + 1..end + 1]);
        rest = &rest[end + 2..];
        if rest.starts_with('(')
            && let Some(close) = rest.find(')')
        {
            rest = &rest[close + 1..];
        }
    }
    out.push_str(rest);
    out.trim_end().to_owned()
}

/// A key as TOML writes it: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_owned()
    } else {
        toml::Value::String(key.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use nectar_event::config::Sensitive;

    use super::*;

    #[test]
    fn links_are_plain_and_odd_keys_quoted() {
        assert_eq!(
            plain("keeps [`KEPT`](crate::fs::KEPT) of [`Stat::ALL`] "),
            "keeps `KEPT` of `Stat::ALL`"
        );
        assert_eq!(toml_key("R_SYN"), "R_SYN");
        assert_eq!(toml_key("a.b"), "\"a.b\"");
    }

    #[test]
    fn arrays_of_tables_print_as_sections_and_read_back() {
        let text = r#"
            [[notify.channels]]
            name = "siem"
            type = "syslog"
            address = "127.0.0.1:514"
            [[notify.channels]]
            name = "chat"
            type = "slack"
            url = "https://hooks.slack.com/services/T/B/secret-token"
            [[notify.routes]]
            channels = ["siem", "chat"]
            min_severity = "high"
        "#;
        let config = Config::parse(text).unwrap();
        let printed = commented_toml(&config).unwrap();
        assert!(!printed.contains("secret-token"), "{printed}");
        assert!(
            printed.contains("\n[[notify.channels]]\n# The name routes use"),
            "{printed}"
        );
        assert!(printed.contains("# url = \"<redacted>\"  (set; secrets are not printed)"));
        assert!(printed.contains("[[notify.routes]]\n"), "{printed}");
        // Read back, it is the same but for the secret, which was not printed.
        let back = toml::from_str::<Config>(&printed).unwrap();
        let mut expected = config.clone();
        expected.notify.channels[1].url = Sensitive::default();
        assert_eq!(back, expected);
    }

    #[test]
    fn every_key_has_its_doc_comment_and_enumerations_their_values() {
        let text = commented_toml(&Config::default()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let is_key = !line.starts_with('#') && line.contains(" = ");
            let is_header = line.starts_with('[');
            if (is_key || is_header) && i > 0 {
                assert!(
                    lines[i - 1].starts_with('#'),
                    "{line:?} has no comment above it"
                );
            }
        }
        // Doc comments of the owning crates, not of the binary.
        assert!(text.contains("# Run the SSH honeypot (it looks like Debian 12's OpenSSH"));
        assert!(text.contains("#   \"busybox\": BusyBox telnetd"), "{text}");
        assert!(
            text.contains("#   \"full\": Every commit is on disk"),
            "{text}"
        );
        assert!(text.contains(" R_SYN "), "the statistics are listed");
    }

    #[test]
    fn secrets_that_are_set_are_commented_out_and_redacted() {
        let mut config = Config::default();
        config.sinks.influxdb.password = Sensitive::new("hunter2-secret");
        let text = commented_toml(&config).unwrap();
        assert!(!text.contains("hunter2-secret"));
        assert!(text.contains("# password = \"<redacted>\""), "{text}");
        assert!(
            text.contains("\ntoken = \"\"\n"),
            "an empty secret is shown"
        );
        assert!(!format!("{config:?}").contains("hunter2-secret"));
        // The output still loads, without the secret (it is not overwritten).
        let again = Config::parse(&text).unwrap();
        assert!(again.sinks.influxdb.password.is_empty());
    }
}

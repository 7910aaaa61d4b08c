//! Reading what people send about incidents, for the API and the forms
//! alike: every value is bounded, every refusal names its field.

use nectar_event::{
    Classification, IncidentStatus, ObservableKind, Resolution, Severity, Tlp, valid_technique,
};
use nectar_store::NewObservable;

use crate::error::ApiError;

/// Most characters of a title.
pub const MAX_TITLE: usize = 200;
/// Most bytes of a description or a comment (Markdown).
pub const MAX_MARKDOWN: usize = 64 * 1024;
/// Most tags, and characters of each.
pub const MAX_TAGS: usize = 32;
const MAX_TAG: usize = 64;
/// Most techniques.
pub const MAX_TECHNIQUES: usize = 100;
/// Most characters of a task's title.
pub const MAX_TASK: usize = 500;
/// Most characters of a timeline entry.
pub const MAX_NOTE: usize = 4_000;
/// Most observables one request adds.
pub const MAX_OBSERVABLES: usize = 1_000;
/// Most characters of an observable's value.
pub const MAX_VALUE: usize = 2_048;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// A one-line text field: trimmed, without control characters, 1 to `max`
/// characters.
pub fn line(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(bad(format!("{field}: must not be empty")));
    }
    if v.chars().count() > max {
        return Err(bad(format!("{field}: at most {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(bad(format!(
            "{field}: must be one line without control characters"
        )));
    }
    Ok(v.to_owned())
}

/// Markdown text: at most [`MAX_MARKDOWN`] bytes; `required` refuses empty.
pub fn markdown(field: &str, value: &str, required: bool) -> Result<String, ApiError> {
    if required && value.trim().is_empty() {
        return Err(bad(format!("{field}: must not be empty")));
    }
    if value.len() > MAX_MARKDOWN {
        return Err(bad(format!("{field}: at most {MAX_MARKDOWN} bytes")));
    }
    Ok(value.replace("\r\n", "\n"))
}

/// A user name to assign; empty unassigns.
pub fn assignee(field: &str, value: &str) -> Result<Option<String>, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if !crate::valid_name(v) {
        return Err(bad(format!(
            "{field}: a user name (1 to 64 letters, digits, - _ . @)"
        )));
    }
    Ok(Some(v.to_owned()))
}

/// A severity name.
pub fn severity(value: &str) -> Result<Severity, ApiError> {
    value
        .trim()
        .parse()
        .map_err(|e| bad(format!("severity: {e}")))
}

/// A status name.
pub fn status(value: &str) -> Result<IncidentStatus, ApiError> {
    IncidentStatus::parse(value.trim())
        .ok_or_else(|| bad("status: expected new, in_progress, contained or closed"))
}

/// A resolution name.
pub fn resolution(value: &str) -> Result<Resolution, ApiError> {
    Resolution::parse(value.trim()).ok_or_else(|| {
        bad(
            "resolution: expected true_positive_with_impact, true_positive_without_impact, \
             false_positive, benign or duplicate",
        )
    })
}

/// A TLP (or PAP) level.
pub fn tlp(field: &str, value: &str) -> Result<Tlp, ApiError> {
    Tlp::parse(value).ok_or_else(|| {
        bad(format!(
            "{field}: expected clear, green, amber, amber+strict or red"
        ))
    })
}

/// Tags: trimmed, deduplicated, bounded.
pub fn tags<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let v = line("tags", v, MAX_TAG)?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(bad(format!("tags: at most {MAX_TAGS}")));
    }
    Ok(out)
}

/// ATT&CK technique ids, deduplicated.
pub fn techniques<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        if !valid_technique(v) {
            return Err(bad(format!(
                "techniques: {:?} is not an ATT&CK technique id such as T1110 or T1110.001",
                crate::visible(v, 40)
            )));
        }
        if !out.iter().any(|t| t == v) {
            out.push(v.to_owned());
        }
    }
    if out.len() > MAX_TECHNIQUES {
        return Err(bad(format!("techniques: at most {MAX_TECHNIQUES}")));
    }
    Ok(out)
}

/// A classification block, checked against its vocabularies.
pub fn classification(c: Classification) -> Result<Classification, ApiError> {
    c.check().map_err(bad)?;
    Ok(c)
}

/// What a value most likely is, for a bulk line without a type.
fn guess_kind(value: &str) -> ObservableKind {
    let hex = |n: usize| value.len() == n && value.bytes().all(|b| b.is_ascii_hexdigit());
    if value.parse::<std::net::IpAddr>().is_ok() {
        ObservableKind::Ip
    } else if hex(64) {
        ObservableKind::Sha256
    } else if hex(40) {
        ObservableKind::Sha1
    } else if hex(32) {
        ObservableKind::Md5
    } else if value.contains("://") {
        ObservableKind::Url
    } else if value.contains('@') && !value.contains(' ') {
        ObservableKind::Email
    } else if value.contains('.')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        ObservableKind::Domain
    } else {
        ObservableKind::Other
    }
}

/// Observables from text, one per line: `value`, or `type:value` where type
/// is a known type name (`ip:203.0.113.7`, `domain:evil.example`). Without a
/// type, `default` is used, else the type is guessed (address, hash, URL,
/// e-mail, domain, other). Addresses are normalised.
pub fn observable_lines(
    text: &str,
    default: Option<ObservableKind>,
    ioc: bool,
    level: Tlp,
) -> Result<Vec<NewObservable>, ApiError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let (kind, value) = match raw.split_once(':') {
            Some((k, rest)) if ObservableKind::parse(k.trim()).is_some() => {
                (ObservableKind::parse(k.trim()), rest.trim())
            }
            _ => (default, raw),
        };
        out.push(observable(
            &format!("observables line {}", n + 1),
            kind,
            value,
            ioc,
            level,
        )?);
        if out.len() > MAX_OBSERVABLES {
            return Err(bad(format!(
                "observables: at most {MAX_OBSERVABLES} at once"
            )));
        }
    }
    if out.is_empty() {
        return Err(bad("observables: give at least one value, one per line"));
    }
    Ok(out)
}

/// One observable; `kind` `None` guesses it.
pub fn observable(
    field: &str,
    kind: Option<ObservableKind>,
    value: &str,
    ioc: bool,
    level: Tlp,
) -> Result<NewObservable, ApiError> {
    let value = line(field, value, MAX_VALUE)?;
    let kind = kind.unwrap_or_else(|| guess_kind(&value));
    let value = if kind == ObservableKind::Ip {
        value
            .parse::<std::net::IpAddr>()
            .map_err(|_| {
                bad(format!(
                    "{field}: {:?} is not an IP address",
                    crate::visible(&value, 60)
                ))
            })?
            .to_string()
    } else {
        value
    };
    Ok(NewObservable {
        kind: kind.as_str().to_owned(),
        value,
        ioc,
        tlp: level,
    })
}

/// An observable type name.
pub fn kind(value: &str) -> Result<ObservableKind, ApiError> {
    ObservableKind::parse(value.trim()).ok_or_else(|| {
        let names: Vec<&str> = ObservableKind::ALL.iter().map(|k| k.as_str()).collect();
        bad(format!("type: expected one of {}", names.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_lines_are_typed_guessed_and_normalised() {
        let list = observable_lines(
            "203.0.113.7\n\ndomain:evil.example\n2001:DB8::1\nhttp://x.example/a\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nsomething odd",
            None,
            true,
            Tlp::Amber,
        )
        .unwrap();
        let got: Vec<(&str, &str)> = list
            .iter()
            .map(|o| (o.kind.as_str(), o.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("ip", "203.0.113.7"),
                ("domain", "evil.example"),
                ("ip", "2001:db8::1"),
                ("url", "http://x.example/a"),
                (
                    "sha256",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                ),
                ("other", "something odd"),
            ]
        );
        let err = observable_lines("ip:not-an-address", None, false, Tlp::Amber).unwrap_err();
        assert!(
            err.message().starts_with("observables line 1"),
            "{}",
            err.message()
        );
        assert!(observable_lines("\n \n", None, false, Tlp::Amber).is_err());
    }

    #[test]
    fn fields_are_named_in_refusals() {
        assert!(
            line("title", "", 10)
                .unwrap_err()
                .message()
                .starts_with("title")
        );
        assert!(line("title", "a\u{1b}b", 10).is_err());
        assert!(
            tags(["ok", "a\nb"])
                .unwrap_err()
                .message()
                .starts_with("tags")
        );
        assert!(
            techniques(["T1110", "x"])
                .unwrap_err()
                .message()
                .starts_with("techniques")
        );
        assert!(
            assignee("assignee", "a b")
                .unwrap_err()
                .message()
                .starts_with("assignee")
        );
        assert_eq!(assignee("assignee", " ").unwrap(), None);
        assert!(
            tlp("pap", "purple")
                .unwrap_err()
                .message()
                .starts_with("pap")
        );
    }
}

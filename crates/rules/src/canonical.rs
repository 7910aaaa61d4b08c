//! Detection on the fields Nectar itself writes in lowercase (`kind`,
//! `severity`, `product`, `service`) compares case-sensitively with lowercased
//! literals: the same matches (those values are never in another case), without
//! rsigma lowercasing the event's value, an allocation, for each comparison of
//! each candidate rule; most rules name `kind`.

use rsigma_parser::{Detection, DetectionItem, Modifier, SigmaRule, SigmaValue, StringPart};

/// Fields whose every value Nectar writes in lowercase ASCII.
const LOWERCASE_FIELDS: [&str; 4] = ["kind", "severity", "product", "service"];

/// `rule` with its comparisons on [`LOWERCASE_FIELDS`] made case-sensitive,
/// or `None` when it has none to change.
pub(crate) fn with_canonical_case(rule: &SigmaRule) -> Option<SigmaRule> {
    let mut changed = rule.clone();
    let mut any = false;
    for detection in changed.detection.named.values_mut() {
        any |= rewrite(detection);
    }
    any.then_some(changed)
}

fn rewrite(detection: &mut Detection) -> bool {
    match detection {
        Detection::AllOf(items) => items.iter_mut().fold(false, |any, i| rewrite_item(i) | any),
        Detection::AnyOf(all) => all.iter_mut().fold(false, |any, d| rewrite(d) | any),
        _ => false,
    }
}

fn rewrite_item(item: &mut DetectionItem) -> bool {
    let plain_comparison = item.field.modifiers.iter().all(|m| {
        matches!(
            m,
            Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith | Modifier::All
        )
    });
    let canonical = item
        .field
        .name
        .as_deref()
        .is_some_and(|name| LOWERCASE_FIELDS.contains(&name));
    let strings = !item.values.is_empty()
        && item
            .values
            .iter()
            .all(|v| matches!(v, SigmaValue::String(_)));
    if !(canonical && plain_comparison && strings) {
        return false;
    }
    for value in &mut item.values {
        if let SigmaValue::String(s) = value {
            for part in &mut s.parts {
                if let StringPart::Plain(text) = part {
                    *text = text.to_lowercase();
                }
            }
            s.original = s.original.to_lowercase();
        }
    }
    item.field.modifiers.push(Modifier::Cased);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsigma_parser::parse_sigma_yaml;

    fn rule(detection: &str) -> SigmaRule {
        let text = format!(
            "title: t\nlogsource: {{product: nectar}}\ndetection:\n{detection}    condition: sel\n"
        );
        parse_sigma_yaml(&text).unwrap().rules.remove(0)
    }

    #[test]
    fn plain_comparisons_on_nectars_own_fields_become_cased() {
        let r = rule("    sel:\n        kind: SSH.Login.Failed\n        username: Root\n");
        let changed = with_canonical_case(&r).unwrap();
        let Detection::AllOf(items) = &changed.detection.named["sel"] else {
            panic!()
        };
        let kind = items
            .iter()
            .find(|i| i.field.name.as_deref() == Some("kind"))
            .unwrap();
        assert!(kind.field.has_modifier(Modifier::Cased));
        assert!(
            matches!(&kind.values[0], SigmaValue::String(s) if s.original == "ssh.login.failed")
        );
        // Attacker-written fields keep Sigma's case-insensitive default.
        let user = items
            .iter()
            .find(|i| i.field.name.as_deref() == Some("username"))
            .unwrap();
        assert!(!user.field.has_modifier(Modifier::Cased));
    }

    #[test]
    fn other_comparisons_are_left_alone() {
        for detection in [
            "    sel:\n        kind|re: '^SSH'\n",
            "    sel:\n        kind|cased: ssh.command\n",
            "    sel:\n        username: root\n",
        ] {
            assert!(
                with_canonical_case(&rule(detection)).is_none(),
                "{detection}"
            );
        }
    }
}

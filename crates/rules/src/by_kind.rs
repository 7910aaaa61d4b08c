//! Rules that only ever match one or a few event kinds, found from their
//! condition, so the engine evaluates them only on events of those kinds.
//!
//! Most rules say `kind: X` in the selection their condition requires. rsigma's
//! candidate index then picks `kind` as the rule's witness (an exact value beats
//! a substring), so every event of kind X is a candidate for every such rule:
//! twenty rules on `kind: http.request` with different `path|startswith` were
//! all evaluated on every request. Here such a rule goes to a partition per
//! kind, without the `kind` comparison, which holds for every event there; the
//! index then picks the rule's next condition (the path's prefix) and only
//! requests with that path meet the rule.
//!
//! Only conditions whose truth is plain: the condition is one expression that
//! is the selection itself or an `and` with it (`selection and not filter`), the
//! selection is a map of fields, and `kind` is compared for equality with
//! literal values (case-sensitively: `crate::canonical` made it so).

use rsigma_parser::{ConditionExpr, Detection, Modifier, SigmaRule, SigmaValue, StringPart};

/// The kinds `rule` can match, and the rule as it reads on events of those
/// kinds; `None` when its condition is not plain enough to tell.
pub(crate) fn split_by_kind(rule: &SigmaRule) -> Option<(Vec<String>, SigmaRule)> {
    let [condition] = rule.detection.conditions.as_slice() else {
        return None;
    };
    let required: Vec<&str> = match condition {
        ConditionExpr::Identifier(name) => vec![name.as_str()],
        ConditionExpr::And(all) => all
            .iter()
            .filter_map(|e| match e {
                ConditionExpr::Identifier(name) => Some(name.as_str()),
                _ => None,
            })
            .collect(),
        _ => return None,
    };
    for name in required {
        let Some(Detection::AllOf(items)) = rule.detection.named.get(name) else {
            continue;
        };
        let Some(position) = items.iter().position(|i| {
            i.field.name.as_deref() == Some("kind") && i.field.modifiers == [Modifier::Cased]
        }) else {
            continue;
        };
        let Some(kinds) = literals(&items[position].values) else {
            continue;
        };
        let mut within = rule.clone();
        if items.len() > 1
            && let Some(Detection::AllOf(items)) = within.detection.named.get_mut(name)
        {
            items.remove(position);
        }
        return Some((kinds, within));
    }
    None
}

/// The values, when every one is a plain string without wildcards.
fn literals(values: &[SigmaValue]) -> Option<Vec<String>> {
    values
        .iter()
        .map(|v| match v {
            SigmaValue::String(s) => match s.parts.as_slice() {
                [StringPart::Plain(text)] => Some(text.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .filter(|kinds| !kinds.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::with_canonical_case;
    use rsigma_parser::parse_sigma_yaml;

    fn rule(detection: &str) -> SigmaRule {
        let text = format!("title: t\nlogsource: {{product: nectar}}\ndetection:\n{detection}");
        let parsed = parse_sigma_yaml(&text).unwrap().rules.remove(0);
        with_canonical_case(&parsed).unwrap_or(parsed)
    }

    #[test]
    fn a_required_kind_comparison_moves_to_the_partition() {
        let r = rule(
            "    sel:\n        kind: [HTTP.Request, ssh.command]\n        path|startswith: /admin\n    filter:\n        path: /admin/ok\n    condition: sel and not filter\n",
        );
        let (kinds, within) = split_by_kind(&r).unwrap();
        assert_eq!(kinds, ["http.request", "ssh.command"]);
        let Detection::AllOf(items) = &within.detection.named["sel"] else {
            panic!()
        };
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].field.name.as_deref(), Some("path"));
        // A selection that is only the kind keeps it (nothing else to index).
        let alone = rule("    sel:\n        kind: ssh.login.failed\n    condition: sel\n");
        let (kinds, within) = split_by_kind(&alone).unwrap();
        assert_eq!(kinds, ["ssh.login.failed"]);
        assert_eq!(within, alone);
    }

    #[test]
    fn conditions_that_do_not_require_the_kind_stay_whole() {
        for detection in [
            "    sel:\n        kind: ssh.command\n    other:\n        username: root\n    condition: sel or other\n",
            "    sel:\n        kind: ssh.command\n    condition: not sel\n",
            "    sel:\n        kind|contains: ssh\n    condition: sel\n",
            "    sel:\n        kind: 'ssh.*'\n    condition: sel\n",
            "    sel:\n        - kind: ssh.command\n        - username: root\n    condition: sel\n",
            "    sel:\n        kind: ssh.command\n    condition: 1 of sel*\n",
        ] {
            assert!(split_by_kind(&rule(detection)).is_none(), "{detection}");
        }
    }
}

//! Which silence, if any, covers a match: rule, source network and field
//! values must all fit (an empty part fits everything).

use ipnet::IpNet;
use nectar_event::Event;
use nectar_store::Silence;
use rsigma_eval::event::Event as SigmaEvent;
use uuid::Uuid;

use crate::engine::Match;
use crate::view::NativeView;

struct Active {
    id: Uuid,
    rule: Option<String>,
    cidr: Option<IpNet>,
    matchers: Vec<(String, String)>,
}

/// The silences in force, ready to test matches against.
#[derive(Default)]
pub struct ActiveSilences {
    list: Vec<Active>,
}

impl ActiveSilences {
    /// From the store's silences in force (a silence whose network no longer
    /// parses is skipped: it was validated when made).
    pub fn new(silences: &[Silence]) -> ActiveSilences {
        let list = silences
            .iter()
            .filter_map(|s| {
                let cidr = match &s.cidr {
                    Some(text) => Some(parse_network(text)?),
                    None => None,
                };
                Some(Active {
                    id: s.id,
                    rule: s.rule_id.clone(),
                    cidr,
                    matchers: s
                        .matchers
                        .iter()
                        .map(|m| (m.field.clone(), m.value.clone()))
                        .collect(),
                })
            })
            .collect();
        ActiveSilences { list }
    }

    /// The first silence covering `m` on `event`.
    pub fn covering(&self, m: &Match, event: &Event) -> Option<Uuid> {
        if self.list.is_empty() {
            return None;
        }
        let view = NativeView::new(event);
        self.list
            .iter()
            .find(|s| {
                s.rule.as_deref().is_none_or(|r| r == m.rule.id)
                    && s.cidr.is_none_or(|net| {
                        let ip = event
                            .src_ip
                            .or_else(|| m.group.get("src_ip").and_then(|ip| ip.parse().ok()));
                        ip.is_some_and(|ip| net.contains(&ip))
                    })
                    && s.matchers.iter().all(|(field, value)| {
                        m.group
                            .get(field)
                            .is_some_and(|v| v.eq_ignore_ascii_case(value))
                            || view
                                .get_field(field)
                                .and_then(|v| v.as_str().map(|s| s.eq_ignore_ascii_case(value)))
                                .unwrap_or(false)
                    })
            })
            .map(|s| s.id)
    }
}

/// A network (`203.0.113.0/24`) or a single address (`203.0.113.7`).
pub fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<std::net::IpAddr>().ok().map(IpNet::from))
        .map(|n| n.trunc())
}

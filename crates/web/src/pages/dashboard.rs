//! The dashboard: what happened in the selected time range at a glance — events over
//! time, counts by kind and severity, top sources and credentials and commands, and
//! the latest network alarms.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use nectar_event::{Kind, Severity, Timestamp};
use nectar_store::{
    DataField, EventFilter, KindCount, KindFilter, RollupRange, TopField, ValueCount,
};

use super::events::EventRow;
use super::timerange::{PRESETS, RangeParams, TimeRange};
use super::{Layout, charts, render, storage_error};
use crate::AppState;
use crate::auth::CurrentUser;

/// One value of a "top" list, made safe to show and linked to the events behind it.
pub struct TopRow {
    /// Cut to the cell, with the whole value (as far as the rollups keep it: 256
    /// bytes) behind a disclosure.
    pub value: crate::text::Shown,
    pub count: i64,
    /// Query string of the events page for this value (already URL-encoded), if any.
    pub link: Option<String>,
}

pub struct SeverityRow {
    pub severity: Severity,
    pub count: i64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    range: TimeRange,
    presets: Vec<(&'static str, &'static str)>,
    since_value: String,
    until_value: String,
    total: i64,
    chart: String,
    kinds: Vec<KindCount>,
    severities: Vec<SeverityRow>,
    max_severity_count: i64,
    sources: Vec<TopRow>,
    /// Events of the top 200 sources by their country and network (`[enrich]`).
    countries: Vec<(String, i64)>,
    networks: Vec<(String, i64)>,
    usernames: Vec<TopRow>,
    passwords: Vec<TopRow>,
    commands: Vec<TopRow>,
    /// Passwords and commands sealed with `encrypt_to`: counted, not ranked.
    passwords_sealed: i64,
    commands_sealed: i64,
    /// The server has the identity, so the events show sealed values decrypted.
    can_decrypt: bool,
    alarms: Vec<EventRow>,
    range_query: String,
    /// Parts that could not start (a honeypot's port taken): shown first.
    failures: Vec<crate::StartFailure>,
    /// Credential pairs, most tried first, per protocol and outcome.
    pairs: Vec<PairRow>,
}

/// A credential pair of the dashboard, linked to its events.
pub struct PairRow {
    pub protocol: &'static str,
    pub outcome: &'static str,
    pub username: crate::text::Shown,
    pub password: crate::text::Shown,
    pub count: i64,
    pub link: String,
}

fn pair_rows(pairs: Vec<nectar_store::CredentialPair>, range_query: &str) -> Vec<PairRow> {
    use crate::auth::percent_encode;
    use nectar_event::Category;
    pairs
        .into_iter()
        .map(|p| PairRow {
            protocol: p.kind.family(),
            outcome: match p.kind.category() {
                Category::LoginSuccess => "accepted",
                Category::LoginFailure => "refused",
                _ => "posted",
            },
            link: format!(
                "kind={}&username={}&password={}&{range_query}",
                p.kind.as_str(),
                percent_encode(&p.username),
                percent_encode(&p.password)
            ),
            username: crate::text::shown(&p.username, 40),
            password: crate::text::shown(&p.password, 40),
            count: p.count,
        })
        .collect()
}

/// The ranked values keep at most this many bytes of a value: a longer one is
/// cut, so it links to nothing exact.
const RANKED_VALUE_BYTES: usize = 256;

fn top_rows(values: Vec<ValueCount>, param: Option<&str>, range_query: &str) -> Vec<TopRow> {
    values
        .into_iter()
        .map(|v| TopRow {
            link: param
                .filter(|_| v.value.len() < RANKED_VALUE_BYTES)
                .map(|p| {
                    format!(
                        "{p}={}&{range_query}",
                        crate::auth::percent_encode(&v.value)
                    )
                }),
            value: crate::text::shown(&v.value, 80),
            count: v.count,
        })
        .collect()
}

/// Labels with their event counts, most first.
type Ranked = Vec<(String, i64)>;

/// Sources grouped by country and network on the dashboard.
const TOP_SOURCES_GROUPED: usize = 200;

/// The events of `sources` summed by country and by AS (ten each, most first);
/// empty when no GeoIP/ASN source is configured.
fn by_origin(tables: &nectar_enrich::Tables, sources: &[ValueCount]) -> (Ranked, Ranked) {
    let mut countries: std::collections::HashMap<String, i64> = Default::default();
    let mut networks: std::collections::HashMap<String, i64> = Default::default();
    if tables.is_empty() {
        return (Vec::new(), Vec::new());
    }
    for s in sources {
        let Ok(ip) = s.value.parse::<std::net::IpAddr>() else {
            continue;
        };
        let found = tables.lookup(ip);
        if let Some(g) = found.geo {
            let name = match (g.country, g.country_code) {
                (Some(c), Some(cc)) => format!("{c} ({cc})"),
                (Some(c), None) | (None, Some(c)) => c.to_owned(),
                (None, None) => continue,
            };
            *countries.entry(crate::visible(&name, 64)).or_default() += s.count;
        }
        if let Some(a) = found.asn {
            let name = match (a.number, a.organization) {
                (Some(n), Some(o)) => format!("AS{n} {o}"),
                (Some(n), None) => format!("AS{n}"),
                (None, Some(o)) => o.to_owned(),
                (None, None) => continue,
            };
            *networks.entry(crate::visible(&name, 64)).or_default() += s.count;
        }
    }
    let top = |m: std::collections::HashMap<String, i64>| {
        let mut v: Vec<(String, i64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(10);
        v
    };
    (top(countries), top(networks))
}

pub async fn dashboard(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(params): Query<RangeParams>,
) -> Response {
    let now = Timestamp::now();
    let range = params.resolve(now);
    let filter = EventFilter {
        since: range.since,
        until: range.until,
        ..EventFilter::default()
    };
    let store = &state.store;
    // Everything but the alarm list comes from the rollups: the page costs the same
    // with a thousand events or a hundred million.
    let rolled = RollupRange::new(range.since, range.until);
    let alarms = EventFilter {
        kind: Some(KindFilter::Exact(Kind::NetAlarm)),
        ..filter.clone()
    };
    // The panels are independent reads: run them at once on the reader pool.
    let result = tokio::try_join!(
        store.rollup_by_bucket(rolled, range.bucket_us),
        store.rollup_by_kind(rolled),
        store.rollup_by_severity(rolled),
        store.rollup_top(rolled, TopField::SrcIp, TOP_SOURCES_GROUPED),
        store.rollup_top(rolled, TopField::Data(DataField::Username), 10),
        store.rollup_top(rolled, TopField::Data(DataField::Password), 10),
        store.rollup_top(rolled, TopField::Data(DataField::Input), 10),
        store.list_events(&alarms, None, 10),
        store.credential_pairs(range.since, range.until, 15),
    );
    let (buckets, kinds, severities, sources, usernames, passwords, commands, alarms, pairs) =
        match result {
            Ok(parts) => parts,
            Err(err) => return storage_error(err),
        };
    let sealed = tokio::try_join!(
        store.rollup_sealed(rolled, DataField::Password),
        store.rollup_sealed(rolled, DataField::Input),
    );
    let (passwords_sealed, commands_sealed) = match sealed {
        Ok(counts) => counts,
        Err(err) => return storage_error(err),
    };
    let (countries, networks) = by_origin(&state.enrich.snapshot(), &sources);
    let sources: Vec<ValueCount> = sources.into_iter().take(10).collect();
    let total = severities.iter().map(|(_, n)| n).sum();
    let start_us = range
        .since
        .map(Timestamp::as_micros)
        .or_else(|| buckets.first().map(|b| b.start.as_micros()))
        .unwrap_or(now.as_micros() - range.bucket_us);
    let end_us = range.until.unwrap_or(now).as_micros();
    let range_query = match range.key {
        "custom" => format!(
            "since={}&until={}",
            range.since.map(|t| t.to_string()).unwrap_or_default(),
            range.until.map(|t| t.to_string()).unwrap_or_default()
        ),
        _ => range
            .since
            .map(|t| format!("since={t}"))
            .unwrap_or_default(),
    };
    let form_value = |t: Option<Timestamp>| {
        t.map(|t| t.to_string()[..16].to_owned())
            .unwrap_or_default()
    };
    render(&DashboardPage {
        layout: Layout::new(&session, "dashboard"),
        presets: PRESETS.iter().map(|(k, l, _)| (*k, *l)).collect(),
        since_value: form_value(range.since),
        until_value: form_value(range.until),
        chart: charts::event_bars(&buckets, start_us, end_us, range.bucket_us),
        total,
        kinds,
        max_severity_count: severities.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1),
        severities: severities
            .into_iter()
            .map(|(severity, count)| SeverityRow { severity, count })
            .collect(),
        sources: top_rows(sources, Some("src_ip"), &range_query),
        countries,
        networks,
        usernames: top_rows(usernames, Some("username"), &range_query),
        passwords: top_rows(passwords, Some("password"), &range_query),
        commands: top_rows(commands, Some("command"), &range_query),
        pairs: pair_rows(pairs, &range_query),
        passwords_sealed,
        commands_sealed,
        can_decrypt: state.identity.is_some(),
        alarms: alarms.events.iter().map(EventRow::from_event).collect(),
        failures: state.not_running().await,
        range,
        range_query,
    })
}

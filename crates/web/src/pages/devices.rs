//! The Devices pages (#21): every device the live detector learnt (vendor,
//! address, learning or monitoring, last anomaly), and one device with a
//! sparkline per feature of its last windows, the learnt range shaded and
//! the anomalous windows marked. Server-rendered SVG, no script; the only
//! text in the SVG is numbers we format.

use std::fmt::Write as _;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use nectar_store::DeviceModelRow;
use serde::Deserialize;
use serde_json::Value;

use super::timerange::short;
use super::{Layout, error_page, render, storage_error};
use crate::api_devices::{history_json, parse_mac};
use crate::auth::CurrentUser;
use crate::{AppState, visible};

const PAGE: u32 = 200;

pub struct DeviceRow {
    pub mac: String,
    pub vendor: String,
    pub address: String,
    pub state: String,
    pub learnt: u64,
    pub last_anomaly: String,
    pub updated: String,
}

fn row(d: &DeviceModelRow) -> DeviceRow {
    DeviceRow {
        mac: visible(&d.mac, 17),
        vendor: visible(d.vendor.as_deref().unwrap_or("-"), 80),
        address: visible(d.address.as_deref().unwrap_or("-"), 64),
        state: visible(&d.phase, 16),
        learnt: d.learnt,
        last_anomaly: d.last_anomaly.map_or_else(|| "-".to_owned(), short),
        updated: short(d.updated),
    }
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    layout: Layout,
    rows: Vec<DeviceRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    pub after: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Response {
    let layout = Layout::new(&session, "hosts");
    let after = match q.after.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(a) => match parse_mac("after", a) {
            Ok(m) => Some(m),
            Err(_) => return error_page(StatusCode::BAD_REQUEST, "after: not a MAC address."),
        },
    };
    let mut devices = match state.store.list_devices(after.as_deref(), PAGE + 1).await {
        Ok(d) => d,
        Err(e) => return storage_error(e),
    };
    let next = (devices.len() > PAGE as usize).then(|| {
        devices.truncate(PAGE as usize);
        devices.last().map(|d| d.mac.clone()).unwrap_or_default()
    });
    render(&DevicesPage {
        layout,
        rows: devices.iter().map(row).collect(),
        next,
    })
}

/// One feature's chart.
pub struct FeatureChart {
    pub name: String,
    pub last: String,
    pub range: String,
    pub svg: String,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    layout: Layout,
    device: DeviceRow,
    window_seconds: String,
    windows: usize,
    anomalies: usize,
    charts: Vec<FeatureChart>,
}

pub async fn detail(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(mac): Path<String>,
) -> Response {
    let layout = Layout::new(&session, "hosts");
    let Ok(mac) = parse_mac("mac", &mac) else {
        return error_page(StatusCode::BAD_REQUEST, "Not a MAC address.");
    };
    let d = match state.store.device(&mac).await {
        Ok(Some(d)) => d,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "No such device."),
        Err(e) => return storage_error(e),
    };
    let h = history_json(&d);
    let windows = h["windows"].as_array().cloned().unwrap_or_default();
    let names: Vec<String> = h["features"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(32)
                .map(|n| visible(n.as_str().unwrap_or("?"), 32))
                .collect()
        })
        .unwrap_or_default();
    let anomalous: Vec<bool> = windows
        .iter()
        .map(|w| w["anomaly"].as_bool().unwrap_or(false))
        .collect();
    let charts = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let values: Vec<f64> = windows
                .iter()
                .map(|w| w["values"].get(i).and_then(Value::as_f64).unwrap_or(0.0))
                .collect();
            let range = h["ranges"]
                .get(name)
                .and_then(|r| Some((r.get(0)?.as_f64()?, r.get(1)?.as_f64()?)));
            FeatureChart {
                name: name.clone(),
                last: values.last().map_or("-".to_owned(), |v| number(*v)),
                range: range.map_or("learning".to_owned(), |(lo, hi)| {
                    format!("{} – {}", number(lo), number(hi))
                }),
                svg: sparkline(&values, range, &anomalous),
            }
        })
        .collect();
    render(&DevicePage {
        layout,
        device: row(&d),
        window_seconds: h["window_seconds"].as_f64().map_or("?".to_owned(), number),
        windows: windows.len(),
        anomalies: anomalous.iter().filter(|a| **a).count(),
        charts,
    })
}

fn number(x: f64) -> String {
    if !x.is_finite() {
        "-".to_owned()
    } else if x.abs() >= 100.0 || x == x.round() {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

const W: f64 = 300.0;
const H: f64 = 48.0;
const PAD: f64 = 3.0;

/// A sparkline: the values as a line, the learnt range as a band, the
/// anomalous windows as red dots.
pub fn sparkline(values: &[f64], range: Option<(f64, f64)>, anomalous: &[bool]) -> String {
    let clean = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    let mut max = values.iter().copied().map(clean).fold(0.0, f64::max);
    if let Some((_, hi)) = range {
        max = max.max(clean(hi));
    }
    let max = if max > 0.0 { max * 1.05 } else { 1.0 };
    let n = values.len().max(2);
    let x = |i: usize| PAD + (W - 2.0 * PAD) * i as f64 / (n - 1) as f64;
    let y = |v: f64| H - PAD - (H - 2.0 * PAD) * clean(v) / max;
    let mut svg = String::with_capacity(256 + values.len() * 24);
    let _ = write!(
        svg,
        r#"<svg class="spark" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="feature values over time" xmlns="http://www.w3.org/2000/svg">"#
    );
    if let Some((lo, hi)) = range {
        let (top, bottom) = (y(hi), y(lo));
        let _ = write!(
            svg,
            r##"<rect class="learnt" x="{PAD}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="#cfe8cf"><title>learnt range</title></rect>"##,
            W - 2.0 * PAD,
            (bottom - top).max(1.0)
        );
    }
    if !values.is_empty() {
        svg.push_str(r##"<polyline fill="none" stroke="#335" stroke-width="1.5" points=""##);
        for (i, v) in values.iter().enumerate() {
            let _ = write!(svg, "{:.1},{:.1} ", x(i), y(*v));
        }
        svg.push_str(r#""/>"#);
    }
    for (i, (v, a)) in values.iter().zip(anomalous).enumerate() {
        if *a {
            let _ = write!(
                svg,
                r##"<circle class="anomaly" cx="{:.1}" cy="{:.1}" r="3" fill="#c00"><title>anomaly</title></circle>"##,
                x(i),
                y(*v)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_mark_anomalies_and_survive_odd_numbers() {
        let s = sparkline(&[1.0, 2.0, 50.0], Some((0.5, 3.0)), &[false, false, true]);
        assert_eq!(s.matches("<circle").count(), 1);
        assert!(s.contains("class=\"learnt\""));
        let s = sparkline(&[f64::NAN, f64::INFINITY, -1.0], None, &[]);
        assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
        assert!(sparkline(&[], None, &[]).ends_with("</svg>"));
    }
}

//! The detection page: per statistic, a chart of its recent windows with the SPOT
//! thresholds and alarms, and its state (learning or monitoring, alarms so far).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::charts::{SeriesPoint, series};
use super::{Layout, render};
use crate::AppState;
use crate::auth::CurrentUser;

pub struct StatPanel {
    pub name: String,
    /// What the statistic measures and over which time scale.
    pub what: String,
    pub state: String,
    pub progress: String,
    pub value: String,
    pub up: String,
    pub down: String,
    pub alarms: u64,
    pub note: String,
    pub chart: String,
}

#[derive(Template)]
#[template(path = "detection.html")]
struct DetectionPage {
    layout: Layout,
    configured: bool,
    running: bool,
    source: String,
    summary: String,
    error: String,
    panels: Vec<StatPanel>,
}

fn number(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| {
        if x.abs() >= 100.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.4}")
        }
    })
}

fn text(s: &str) -> String {
    crate::visible(s, 200)
}

pub async fn page(State(state): State<AppState>, CurrentUser(session): CurrentUser) -> Response {
    let layout = Layout::new(&session, "detection");
    let empty = |layout, configured: bool, error: &str| {
        render(&DetectionPage {
            layout,
            configured,
            running: false,
            source: String::new(),
            summary: String::new(),
            error: error.to_owned(),
            panels: Vec::new(),
        })
    };
    let Some(detector) = state.detector.clone() else {
        return empty(layout, false, "");
    };
    let Ok(status) = tokio::task::spawn_blocking(move || detector.status()).await else {
        return empty(layout, true, "the detector's state could not be read");
    };
    let panels = status
        .stats
        .iter()
        .map(|s| {
            let points: Vec<SeriesPoint> = s
                .history
                .iter()
                .map(|p| SeriesPoint {
                    value: p.value,
                    up: p.threshold_up,
                    down: p.threshold_down,
                })
                .collect();
            let st = &s.status;
            let what = nectar_detect::Stat::from_name(st.stat).map_or_else(String::new, |stat| {
                let info = stat.info();
                let scale = if info.scale > 1 {
                    format!(" · over the last {} windows (×{})", info.scale, info.scale)
                } else {
                    " · per window".to_owned()
                };
                format!("{}{scale}", info.description)
            });
            StatPanel {
                name: text(st.stat),
                what: text(&what),
                state: text(st.state),
                progress: format!("{} / {}", st.learnt, st.need),
                value: number(st.value),
                up: number(st.threshold_up),
                down: number(st.threshold_down),
                alarms: st.alarms,
                note: text(st.note.as_deref().unwrap_or_default()),
                chart: series(&points),
            }
        })
        .collect();
    render(&DetectionPage {
        layout,
        configured: true,
        running: status.running,
        source: text(&status.source),
        summary: format!(
            "{} packets, {} windows of {}, {} alarms, {} decode errors",
            status.packets,
            status.windows,
            text(&status.window),
            status.alarms,
            status.decode_errors,
        ),
        error: text(status.error.as_deref().unwrap_or_default()),
        panels,
    })
}

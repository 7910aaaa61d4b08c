//! The detection page: per statistic, a chart of its recent windows with the SPOT
//! thresholds and alarms, and its state (learning or monitoring, alarms so far).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde_json::Value;

use super::charts::{SeriesPoint, series};
use super::{Layout, render};
use crate::AppState;
use crate::auth::CurrentUser;

pub struct StatPanel {
    pub name: String,
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

fn number(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |x| {
        if x.abs() >= 100.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.4}")
        }
    })
}

fn text(v: &Value) -> String {
    crate::visible(v.as_str().unwrap_or_default(), 200)
}

pub async fn page(State(state): State<AppState>, CurrentUser(session): CurrentUser) -> Response {
    let layout = Layout::new(&session, "detection");
    let Some(detector) = state.detector.clone() else {
        return render(&DetectionPage {
            layout,
            configured: false,
            running: false,
            source: String::new(),
            summary: String::new(),
            error: String::new(),
            panels: Vec::new(),
        });
    };
    let status = tokio::task::spawn_blocking(move || detector.status())
        .await
        .unwrap_or(Value::Null);
    let panels = status["stats"]
        .as_array()
        .map(|stats| {
            stats
                .iter()
                .map(|s| {
                    let points: Vec<SeriesPoint> = s["history"]
                        .as_array()
                        .map(|h| {
                            h.iter()
                                .map(|p| SeriesPoint {
                                    value: p["value"].as_f64(),
                                    up: p["threshold_up"].as_f64(),
                                    down: p["threshold_down"].as_f64(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    StatPanel {
                        name: text(&s["stat"]),
                        state: text(&s["state"]),
                        progress: format!(
                            "{} / {}",
                            s["learnt"].as_u64().unwrap_or(0),
                            s["need"].as_u64().unwrap_or(0)
                        ),
                        value: number(&s["value"]),
                        up: number(&s["threshold_up"]),
                        down: number(&s["threshold_down"]),
                        alarms: s["alarms"].as_u64().unwrap_or(0),
                        note: text(&s["note"]),
                        chart: series(&points),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    render(&DetectionPage {
        layout,
        configured: true,
        running: status["running"].as_bool().unwrap_or(false),
        source: text(&status["source"]),
        summary: format!(
            "{} packets, {} windows of {}, {} alarms, {} decode errors",
            status["packets"].as_u64().unwrap_or(0),
            status["windows"].as_u64().unwrap_or(0),
            text(&status["window"]),
            status["alarms"].as_u64().unwrap_or(0),
            status["decode_errors"].as_u64().unwrap_or(0),
        ),
        error: text(&status["error"]),
        panels,
    })
}

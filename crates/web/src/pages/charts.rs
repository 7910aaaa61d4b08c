//! Charts drawn on the server as SVG: no script, no external file, readable in any
//! browser and in a screenshot. Labels are only numbers and times we format ourselves;
//! nothing an attacker sent is ever placed in the SVG.

use std::fmt::Write as _;

use nectar_event::Timestamp;
use nectar_store::BucketCount;

use super::timerange::short;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 28.0;

/// A bar chart of event counts per bucket from `start` to `end`, with empty buckets
/// drawn as gaps, a y axis with three ticks and five time labels.
pub fn event_bars(buckets: &[BucketCount], start_us: i64, end_us: i64, bucket_us: i64) -> String {
    let bucket_us = bucket_us.max(1);
    let first = start_us.div_euclid(bucket_us) * bucket_us;
    let slots = (((end_us - first) / bucket_us) + 1).clamp(1, 2_000) as usize;
    let mut counts = vec![0i64; slots];
    for b in buckets {
        let slot = (b.start.as_micros() - first) / bucket_us;
        if (0..slots as i64).contains(&slot) {
            counts[slot as usize] += b.count;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let bar_w = plot_w / slots as f64;
    let mut svg = String::with_capacity(4_096 + slots * 160);
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="Events over time" xmlns="http://www.w3.org/2000/svg">"#
    );
    // Axes and y ticks at 0, max/2, max.
    for value in [0, max / 2, max] {
        let y = TOP + plot_h - plot_h * (value as f64) / (max as f64);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{value}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (i, count) in counts.iter().enumerate() {
        if *count == 0 {
            continue;
        }
        let h = (plot_h * (*count as f64) / (max as f64)).max(1.0);
        let x = LEFT + bar_w * i as f64;
        let from = Timestamp::from_micros(first + i as i64 * bucket_us);
        let label = from.map_or(String::new(), short);
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{x:.2}" y="{:.2}" width="{:.2}" height="{h:.2}"><title>{label}: {count}</title></rect>"#,
            TOP + plot_h - h,
            (bar_w - 1.0).max(0.5),
        );
    }
    // Five time labels along the x axis.
    for i in 0..5 {
        let fraction = i as f64 / 4.0;
        let at = first + ((slots as f64 * fraction) as i64) * bucket_us;
        let x = LEFT + plot_w * fraction;
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let label = Timestamp::from_micros(at).map_or(String::new(), short);
        let _ = write!(
            svg,
            r#"<text class="tick" x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{label}</text>"#,
            HEIGHT - 8.0
        );
    }
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/></svg>"#,
        TOP + plot_h,
        WIDTH - RIGHT,
        TOP + plot_h
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_bars_for_nonempty_buckets_only() {
        let start = 1_700_000_000_000_000;
        let buckets = vec![
            BucketCount {
                start: Timestamp::from_micros(start).unwrap(),
                count: 5,
            },
            BucketCount {
                start: Timestamp::from_micros(start + 120_000_000).unwrap(),
                count: 10,
            },
        ];
        let svg = event_bars(&buckets, start, start + 600_000_000, 60_000_000);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(">10</text>"), "max tick");
        assert!(!svg.contains("NaN"));
        let empty = event_bars(&[], start, start, 60_000_000);
        assert_eq!(empty.matches("<rect").count(), 0);
    }
}

/// One point of a statistic's history: its value and the thresholds it was compared
/// with (absent while learning).
pub struct SeriesPoint {
    pub value: Option<f64>,
    pub up: Option<f64>,
    pub down: Option<f64>,
}

const SERIES_WIDTH: f64 = 600.0;
const SERIES_HEIGHT: f64 = 140.0;

/// A statistic over recent windows: the value as a line, the upper and lower SPOT
/// thresholds as dashed lines, and values beyond them marked as alarms.
pub fn series(points: &[SeriesPoint]) -> String {
    let finite = |x: &Option<f64>| x.filter(|v| v.is_finite());
    let all = points
        .iter()
        .flat_map(|p| [finite(&p.value), finite(&p.up), finite(&p.down)])
        .flatten();
    let (mut lo, mut hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let (left, right, top, bottom) = (52.0, 6.0, 8.0, 8.0);
    let plot_w = SERIES_WIDTH - left - right;
    let plot_h = SERIES_HEIGHT - top - bottom;
    let n = points.len().max(2) - 1;
    let x = |i: usize| left + plot_w * i as f64 / n as f64;
    let y = |v: f64| top + plot_h - plot_h * (v - lo) / (hi - lo);
    let mut svg = String::with_capacity(1_024 + points.len() * 40);
    let _ = write!(
        svg,
        r#"<svg class="chart series" viewBox="0 0 {SERIES_WIDTH} {SERIES_HEIGHT}" role="img" aria-label="Values and thresholds" xmlns="http://www.w3.org/2000/svg">"#
    );
    for v in [lo, hi] {
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            SERIES_WIDTH - right,
            left - 4.0,
            y(v) + 4.0,
            compact(v),
            y = y(v),
        );
    }
    let mut line = |class: &str, pick: &dyn Fn(&SeriesPoint) -> Option<f64>| {
        let mut path = String::new();
        let mut pen_down = false;
        for (i, p) in points.iter().enumerate() {
            match pick(p).filter(|v| v.is_finite()) {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(i),
                        y(v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = write!(svg, r#"<path class="{class}" d="{}"/>"#, path.trim_end());
        }
    };
    line("threshold", &|p| p.up);
    line("threshold", &|p| p.down);
    line("value", &|p| p.value);
    for (i, p) in points.iter().enumerate() {
        if let Some(v) = finite(&p.value) {
            let above = finite(&p.up).is_some_and(|up| v > up);
            let below = finite(&p.down).is_some_and(|down| v < down);
            if above || below {
                let _ = write!(
                    svg,
                    r#"<circle class="alarm" cx="{:.1}" cy="{:.1}" r="3.5"/>"#,
                    x(i),
                    y(v)
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A short label for an axis value.
fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod series_tests {
    use super::*;

    #[test]
    fn marks_values_beyond_thresholds() {
        let points: Vec<SeriesPoint> = (0..20)
            .map(|i| SeriesPoint {
                value: Some(if i == 15 { 9.0 } else { 1.0 }),
                up: (i >= 5).then_some(3.0),
                down: None,
            })
            .collect();
        let svg = series(&points);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert_eq!(svg.matches("class=\"threshold\"").count(), 1);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        let empty = series(&[]);
        assert!(empty.starts_with("<svg") && !empty.contains("NaN"));
    }
}

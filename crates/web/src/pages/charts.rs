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

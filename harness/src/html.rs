//! The HTML report of a run (`target/boardloop/report.html` by default): one
//! self-contained file a person opens in a browser, no script or stylesheet
//! fetched. Per trial: its status; each compared channel plotted, expected
//! beside received, with the samples outside tolerance marked; lost packets
//! on a timeline; the host's row-to-row intervals as a histogram (jitter);
//! the steps as they ran; links to the data CSV and transcript a failed trial
//! keeps. Plots are drawn with plotters' SVG backend and inlined.
//!
//! A small inline script counts what the browser rendered (plots, failed
//! trials) into `<body data-…>` attributes, so a headless browser's DOM dump
//! shows the page really rendered (`ci/report-browser.sh`).

use crate::check::ChannelPlot;
use crate::console::{Status, TrialResult};
use crate::report::Timeline;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the report shows of a trial that ran, beside its result.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// The scenario file, as shown to people.
    pub scenario: String,
    /// The steps as they ran.
    pub steps: Vec<String>,
    /// Where a failed trial's data, transcript and step log were kept.
    pub artifacts: Option<PathBuf>,
    /// Each compared channel.
    pub plots: Vec<ChannelPlot>,
    /// Row arrivals and losses.
    pub timeline: Timeline,
}

const BLUE_: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const RED_: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const GREY_: RGBColor = RGBColor(0x99, 0x99, 0x99);

/// The report of a run, `report` being where it will be written (links to
/// artifacts are made relative to it).
pub fn report(results: &[TrialResult], elapsed: Duration, report: &Path) -> String {
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let (passed, failed, ignored) = (
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Ignored),
    );
    let mut h = String::with_capacity(1 << 20);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>boardloop: {passed} passed, {failed} failed</title><style>{CSS}</style></head>\n\
         <body>\n<h1>boardloop run</h1>\n<p class=\"totals\"><span class=\"pass\">{passed} passed</span>, \
         <span class=\"fail\">{failed} failed</span>, {ignored} ignored in {:.1} s</p>\n",
        elapsed.as_secs_f64()
    );
    if failed > 0 {
        h.push_str("<h2>Failed</h2>\n<ul class=\"failed\">\n");
        for r in results.iter().filter(|r| r.status == Status::Fail) {
            let _ = writeln!(
                h,
                "<li><a href=\"#{}\">{}</a>: {}</li>",
                anchor(&r.name),
                esc(&r.name),
                esc(r.failures.first().map_or("", String::as_str))
            );
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<h2>Trials</h2>\n");
    let base = report.parent().unwrap_or(Path::new("."));
    for r in results.iter().filter(|r| r.status != Status::Ignored) {
        trial(&mut h, r, base);
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results.iter().filter(|r| r.status == Status::Ignored) {
        *reasons.entry(r.detail.as_str()).or_default() += 1;
    }
    if !reasons.is_empty() {
        h.push_str("<h2>Ignored here</h2>\n<table class=\"ignored\"><tr><th>trials</th><th>why</th></tr>\n");
        for (why, n) in reasons {
            let _ = writeln!(h, "<tr><td>{n}</td><td>{}</td></tr>", esc(why));
        }
        h.push_str("</table>\n");
    }
    h.push_str(SCRIPT);
    h.push_str("</body></html>\n");
    h
}

fn trial(h: &mut String, r: &TrialResult, base: &Path) {
    let (class, word) = match r.status {
        Status::Pass => ("pass", "PASS"),
        _ => ("fail", "FAIL"),
    };
    let ev = r.evidence.as_deref();
    let plots = ev.map_or(0, |e| e.plots.len());
    let _ = write!(
        h,
        "<section class=\"trial {class}\" id=\"{}\" data-status=\"{class}\" data-channels=\"{plots}\">\n\
         <details{}><summary><span class=\"badge {class}\">{word}</span> <b>{}</b> \
         <span class=\"detail\">{:.2} s · {}</span></summary>\n",
        anchor(&r.name),
        if r.status == Status::Fail { " open" } else { "" },
        esc(&r.name),
        r.elapsed.as_secs_f64(),
        esc(&r.detail)
    );
    if !r.failures.is_empty() {
        h.push_str("<ul class=\"failures\">\n");
        for f in &r.failures {
            let _ = writeln!(h, "<li>{}</li>", esc(f));
        }
        h.push_str("</ul>\n");
    }
    let Some(ev) = ev else {
        h.push_str("</details></section>\n");
        return;
    };
    let _ = writeln!(h, "<p>scenario <code>{}</code></p>", esc(&ev.scenario));
    if let Some(dir) = &ev.artifacts {
        let rel = dir.strip_prefix(base).unwrap_or(dir).display().to_string();
        let _ = writeln!(
            h,
            "<p class=\"links\">kept: <a href=\"{0}/data.csv\">data.csv</a> · \
             <a href=\"{0}/transcript.txt\">transcript.txt</a> · <a href=\"{0}/report.txt\">report.txt</a></p>",
            esc(&rel)
        );
    }
    if !ev.plots.is_empty() {
        h.push_str("<div class=\"plots\">\n");
        for p in &ev.plots {
            let _ = writeln!(
                h,
                "<figure class=\"channel\" data-mismatches=\"{}\">{}<figcaption>{} · {} of {} values outside tolerance{}</figcaption></figure>",
                p.mismatches,
                channel_svg(p),
                esc(&p.channel),
                p.mismatches,
                p.compared,
                if p.points.len() < p.compared {
                    format!(" · rows {}–{} shown", p.points[0].0, p.points[p.points.len() - 1].0)
                } else {
                    String::new()
                }
            );
        }
        h.push_str("</div>\n");
    }
    let t = &ev.timeline;
    h.push_str("<div class=\"plots\">\n");
    if t.losses.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"noloss\">no packet lost in {:.2} s</p>",
            t.span_s
        );
    } else {
        let _ = writeln!(
            h,
            "<figure class=\"losses\">{}<figcaption>{} packets lost at {} places</figcaption></figure>",
            losses_svg(t),
            t.losses.iter().map(|l| l.1).sum::<u64>(),
            t.losses.len()
        );
    }
    if t.intervals_ms.len() >= 2 {
        let _ = writeln!(
            h,
            "<figure class=\"jitter\">{}<figcaption>host time between rows, {} intervals</figcaption></figure>",
            jitter_svg(&t.intervals_ms),
            t.intervals_ms.len()
        );
    }
    h.push_str("</div>\n<details class=\"steps\"><summary>steps</summary><ol>\n");
    for s in &ev.steps {
        let _ = writeln!(h, "<li><code>{}</code></li>", esc(s));
    }
    h.push_str("</ol></details>\n</details></section>\n");
}

/// A channel's plot: expected (blue) and received (red) against the row,
/// a cross on each value outside tolerance.
fn channel_svg(p: &ChannelPlot) -> String {
    let finite = |v: f64| v.is_finite();
    let (mut lo, mut hi) = p
        .points
        .iter()
        .flat_map(|q| [q.1, q.2])
        .filter(|v| finite(*v))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !(lo.is_finite() && hi.is_finite()) {
        (lo, hi) = (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs().max(1e-9) * 1e-6);
    let (x0, x1) = match (p.points.first(), p.points.last()) {
        (Some(a), Some(b)) => (a.0 as f64, (b.0 + 1) as f64),
        _ => (0.0, 1.0),
    };
    svg((480, 160), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin(6)
            .x_label_area_size(24)
            .y_label_area_size(64)
            .caption(
                format!(
                    "{} ({} preset, data row {})",
                    p.channel, p.preset, p.data_row
                ),
                ("sans-serif", 13),
            )
            .build_cartesian_2d(x0..x1, (lo - pad)..(hi + pad))?;
        chart
            .configure_mesh()
            .x_desc("row")
            .x_labels(6)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_labels(4)
            .disable_x_mesh()
            .disable_y_mesh()
            .draw()?;
        let received = p
            .points
            .iter()
            .filter(|q| finite(q.2))
            .map(|q| (q.0 as f64, q.2));
        if p.mismatches == 0 {
            // One line serves both: it halves a passing report's size
            // (30 MB for the whole matrix with both drawn).
            chart
                .draw_series(LineSeries::new(received, BLUE_.stroke_width(2)))?
                .label("received = expected")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], BLUE_.stroke_width(2)));
        } else {
            chart
                .draw_series(LineSeries::new(
                    p.points.iter().map(|q| (q.0 as f64, q.1)),
                    BLUE_.stroke_width(3),
                ))?
                .label("expected")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], BLUE_.stroke_width(3)));
            chart
                .draw_series(LineSeries::new(received, RED_.stroke_width(1)))?
                .label("received")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], RED_.stroke_width(1)));
            chart.draw_series(
                p.points
                    .iter()
                    .filter(|q| q.3)
                    .map(|q| (q.0 as f64, if finite(q.2) { q.2 } else { hi }))
                    .map(|xy| Cross::new(xy, 4, RED_.stroke_width(2))),
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(GREY_)
            .label_font(("sans-serif", 11))
            .draw()?;
        Ok(())
    })
}

/// Lost packets on the run's timeline: a bar per place, as tall as the
/// packets lost there.
fn losses_svg(t: &Timeline) -> String {
    let most = t.losses.iter().map(|l| l.1).max().unwrap_or(1) as f64;
    let span = t.span_s.max(1e-3);
    svg((480, 130), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin(6)
            .x_label_area_size(24)
            .y_label_area_size(40)
            .caption("lost packets", ("sans-serif", 13))
            .build_cartesian_2d(0.0..span, 0.0..most * 1.15)?;
        chart
            .configure_mesh()
            .x_desc("s")
            .x_labels(6)
            .y_labels(3)
            .disable_x_mesh()
            .disable_y_mesh()
            .draw()?;
        let w = span / 300.0;
        chart.draw_series(
            t.losses
                .iter()
                .map(|&(at, n)| Rectangle::new([(at - w, 0.0), (at + w, n as f64)], RED_.filled())),
        )?;
        Ok(())
    })
}

/// The host's row-to-row intervals as a histogram, 40 bins up to the
/// 99.9th percentile (longer ones in the last bin).
fn jitter_svg(intervals: &[f64]) -> String {
    const BINS: u32 = 40;
    let mut sorted: Vec<f64> = intervals
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    let top = sorted
        .get((sorted.len() as f64 * 0.999) as usize)
        .or(sorted.last())
        .copied()
        .unwrap_or(1.0)
        .max(1e-3);
    let width = top / BINS as f64;
    let mut counts = vec![0u32; BINS as usize];
    for v in &sorted {
        let b = ((v.max(0.0) / width) as usize).min(BINS as usize - 1);
        counts[b] += 1;
    }
    let most = counts.iter().copied().max().unwrap_or(1);
    svg((480, 150), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin(6)
            .x_label_area_size(24)
            .y_label_area_size(48)
            .caption("inter-arrival jitter", ("sans-serif", 13))
            .build_cartesian_2d((0u32..BINS).into_segmented(), 0u32..most + most / 8 + 1)?;
        chart
            .configure_mesh()
            .x_desc("ms between rows")
            .x_labels(8)
            .y_labels(3)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(b) | SegmentValue::Exact(b) => {
                    format!("{:.2}", (*b as f64 + 0.5) * width)
                }
                SegmentValue::Last => String::new(),
            })
            .disable_x_mesh()
            .disable_y_mesh()
            .draw()?;
        chart.draw_series(
            Histogram::vertical(&chart)
                .style(BLUE_.filled())
                .margin(1)
                .data(counts.iter().enumerate().map(|(b, &n)| (b as u32, n))),
        )?;
        Ok(())
    })
}

/// A plot drawn by `draw` on an SVG canvas of `size`, as SVG text; a
/// drawing error becomes a line saying so instead.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), Box<dyn std::error::Error>>,
) -> String {
    let mut text = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw(&root).and_then(|_| root.present().map_err(Into::into))
    };
    match drawn {
        Ok(()) => text,
        Err(e) => format!("<p class=\"fail\">plot failed: {}</p>", esc(&e.to_string())),
    }
}

/// A trial's name as an HTML id.
fn anchor(name: &str) -> String {
    name.replace("::", "--")
}

/// `s` as HTML text.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
code{font-size:12px}.pass{color:#2a7d2a}.fail{color:#c62828}\
.badge{display:inline-block;min-width:3.2em;text-align:center;border-radius:3px;color:#fff;font-size:12px;padding:0 4px}\
.badge.pass{background:#2a7d2a}.badge.fail{background:#c62828}\
section.trial{border-left:4px solid #2a7d2a;margin:.4em 0;padding:.2em .6em}\
section.trial.fail{border-left-color:#c62828;background:#fff6f6}\
.detail{color:#666;font-size:12px}.plots{display:flex;flex-wrap:wrap;gap:8px}\
figure{margin:0}figcaption{font-size:12px;color:#555}\
table.ignored td{padding:0 .6em}ul.failures li{color:#c62828}";

/// Counts what the browser rendered, for a headless check.
const SCRIPT: &str = "<script>(function(){var b=document.body;\
var svgs=[].slice.call(document.querySelectorAll('figure.channel svg'));\
b.dataset.channelPlots=svgs.length;\
b.dataset.renderedPlots=svgs.filter(function(s){var r=s.getBoundingClientRect();return r.width>0&&r.height>0;}).length;\
b.dataset.failedTrials=document.querySelectorAll('section.trial.fail').length;\
b.dataset.markedSamples=[].slice.call(document.querySelectorAll('figure.channel')).reduce(function(n,f){return n+(+f.dataset.mismatches>0?1:0);},0);\
})();</script>\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, status: Status, bad_row: Option<usize>) -> TrialResult {
        let plot = |channel: &str| ChannelPlot {
            preset: "default".into(),
            channel: channel.into(),
            data_row: 1,
            points: (0..50)
                .map(|r| {
                    let e = (r as f64 / 5.0).sin();
                    let bad = Some(r) == bad_row;
                    (r, e, if bad { e + 3.0 } else { e }, bad)
                })
                .collect(),
            compared: 50,
            mismatches: usize::from(bad_row.is_some()),
        };
        TrialResult {
            name: name.into(),
            status,
            elapsed: Duration::from_millis(800),
            detail: "rows 50 values 100 lost 3 garbage 0".into(),
            failures: bad_row
                .map(|r| {
                    vec![format!(
                        "signal: 1 of 100 values outside 1 LSB; first: row {r} <eeg1>"
                    )]
                })
                .unwrap_or_default(),
            description: String::new(),
            evidence: Some(Box::new(Evidence {
                scenario: "scenarios/cyton/x.yaml".into(),
                steps: vec!["prepare".into(), "start".into()],
                artifacts: bad_row.map(|_| PathBuf::from("/r/target/boardloop/cyton__b__emulated")),
                plots: vec![plot("eeg1"), plot("eeg2")],
                timeline: Timeline {
                    intervals_ms: (0..50).map(|i| 4.0 + (i % 3) as f64 * 0.1).collect(),
                    losses: vec![(0.1, 3)],
                    span_s: 0.2,
                },
            })),
        }
    }

    #[test]
    fn every_run_trial_has_its_plots_and_a_failure_is_marked() {
        let ignored = TrialResult {
            name: "cyton::a::device".into(),
            status: Status::Ignored,
            elapsed: Duration::ZERO,
            detail: "no rig".into(),
            failures: vec![],
            description: String::new(),
            evidence: None,
        };
        let html = report(
            &[
                result("cyton::a::emulated", Status::Pass, None),
                result("cyton::b::emulated", Status::Fail, Some(20)),
                ignored,
            ],
            Duration::from_secs(3),
            Path::new("/r/target/boardloop/report.html"),
        );
        // Two run trials of two channels: four channel plots, one per figure.
        assert_eq!(html.matches("<figure class=\"channel\"").count(), 4);
        assert_eq!(
            html.matches("<svg").count(),
            4 + 2 + 2,
            "channels, losses, jitter"
        );
        assert!(html.contains(
            "<section class=\"trial fail\" id=\"cyton--b--emulated\" data-status=\"fail\" data-channels=\"2\">"
        ));
        assert!(html.contains("<details open><summary><span class=\"badge fail\">FAIL</span>"));
        assert!(html.contains("<a href=\"#cyton--b--emulated\">cyton::b::emulated</a>"));
        // Escaped, linked relative to the report.
        assert!(html.contains("first: row 20 &lt;eeg1&gt;"));
        assert!(html.contains("<a href=\"cyton__b__emulated/data.csv\">"));
        // The failed channels carry their mismatch; the ignored trial is a reason line.
        assert_eq!(html.matches("data-mismatches=\"1\"").count(), 2);
        assert!(html.contains("<tr><td>1</td><td>no rig</td></tr>"));
        assert!(html.contains("3 packets lost at 1 places"));
    }

    #[test]
    fn plots_survive_odd_values() {
        let mut p = result("x::y::z", Status::Fail, Some(3))
            .evidence
            .unwrap()
            .plots[0]
            .clone();
        p.points[3].2 = f64::NAN;
        p.points[4].1 = f64::INFINITY;
        assert!(channel_svg(&p).starts_with("<svg"));
        p.points.clear();
        assert!(channel_svg(&p).starts_with("<svg"));
        assert!(jitter_svg(&[]).starts_with("<svg"));
        assert!(jitter_svg(&[f64::NAN, 0.0]).starts_with("<svg"));
    }
}

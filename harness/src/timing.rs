//! `expect.stream`: the stream's rate, jitter, gaps and losses, measured from
//! the rows a board returned (their host timestamps and packet counters), so
//! it holds on a physical device as on our emulator, and on any driver.

use crate::check::Segment;
use boardloop_boards::{BoardDescr, Data};
use boardloop_emulators::portable::StreamExpect;
use boardloop_emulators::CounterModel;

/// What was measured over every stream of a trial.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timing {
    /// Rows used.
    pub rows: usize,
    /// The rows' rate, Hz: in each stream, the slope of the line under every
    /// row's timestamp against its sample index (lost samples counted; see
    /// [`lower_hull_slope`]); the streams' periods averaged by their rows.
    pub rate_hz: f64,
    /// Inter-arrival jitter, ms: |interval / samples spanned − 1 / rate|.
    pub jitter_p50_ms: f64,
    /// Its 99th percentile.
    pub jitter_p99_ms: f64,
    /// The longest interval between two rows, ms.
    pub max_gap_ms: f64,
    /// Packets lost: counter steps beyond the stream's usual step.
    pub lost: u64,
}

/// The `p`-th percentile (0–100) of `v` by nearest rank; 0 when empty.
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Each row's sample index in its stream, from the packet counter: a row
/// whose counter moved by `k` usual steps is `k` samples after the last one
/// (a Daisy row moves the counter by 2, the usual step there), rows that
/// share a counter (several samples per packet) follow each other; and the
/// packets lost on the way.
pub fn sample_indices(counters: &[f64], counter: CounterModel) -> (Vec<u64>, u64) {
    let steps: Vec<u64> = counters
        .windows(2)
        .map(|w| counter.step(counter.wrap(w[0]), counter.wrap(w[1])))
        .collect();
    // The usual step: the commonest non-zero one.
    let mut counts = std::collections::BTreeMap::new();
    for s in steps.iter().filter(|s| **s > 0) {
        *counts.entry(*s).or_insert(0usize) += 1;
    }
    let usual = counts
        .iter()
        .max_by_key(|(s, n)| (**n, std::cmp::Reverse(**s)))
        .map_or(1, |(s, _)| *s);
    // Rows per packet: the longest run of one counter.
    let per_packet = steps
        .split(|s| *s > 0)
        .map(|run| run.len() as u64 + 1)
        .max()
        .unwrap_or(1);
    let mut idx = Vec::with_capacity(counters.len());
    let mut lost = 0;
    let (mut packet, mut within) = (0u64, 0u64);
    if !counters.is_empty() {
        idx.push(0);
    }
    for s in steps {
        if s == 0 {
            within += 1;
        } else {
            let k = s.div_ceil(usual);
            lost += k.saturating_sub(1);
            packet += k;
            within = 0;
        }
        idx.push(packet * per_packet + within);
    }
    (idx, lost)
}

/// The slope of the lower convex hull of the points (`x[i]`, `y[i]`), `x`
/// increasing, on the edge over the mean of `x`; 0 with fewer than two
/// distinct `x`.
pub fn lower_hull_slope(x: &[u64], y: &[f64]) -> f64 {
    let mut hull: Vec<(f64, f64)> = Vec::new();
    for (&xi, &yi) in x.iter().zip(y) {
        let p = (xi as f64, yi);
        if hull.last().is_some_and(|l| l.0 == p.0) {
            // The same index twice: the lower point stands for it.
            if hull.last().is_some_and(|l| l.1 <= p.1) {
                continue;
            }
            hull.pop();
        }
        while hull.len() >= 2 {
            let (a, b) = (hull[hull.len() - 2], hull[hull.len() - 1]);
            // b is not below the line from a to p: drop it.
            if (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0) <= 0.0 {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(p);
    }
    if hull.len() < 2 {
        return 0.0;
    }
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64;
    let edge = hull
        .windows(2)
        .find(|w| w[1].0 >= mean)
        .unwrap_or(&hull[hull.len() - 2..]);
    (edge[1].1 - edge[0].1) / (edge[1].0 - edge[0].0)
}

/// Measures the streams of `data` (`segments`), leaving out `skip` rows at
/// the start of each.
pub fn measure(
    data: &Data,
    descr: &BoardDescr,
    counter: CounterModel,
    segments: &[Segment],
    skip: usize,
) -> Timing {
    let mut m = Timing::default();
    if descr.timestamp_channel >= data.num_rows || descr.package_num_channel >= data.num_rows {
        return m;
    }
    let ts = data.row(descr.timestamp_channel);
    let pkg = data.row(descr.package_num_channel);
    let mut jitter = Vec::new();
    let mut slope_weighted = 0.0;
    for seg in segments {
        let (a, b) = (seg.first_row + skip, seg.end_row.min(data.num_samples));
        if b < a + 3 {
            continue;
        }
        let (idx, lost) = sample_indices(&pkg[a..b], counter);
        m.lost += lost;
        let t = &ts[a..b];
        let n = b - a;
        // The period: the slope of the lower convex hull of (sample index,
        // timestamp) where it passes the mean index (the linear-programming
        // skew estimate of Moon, Skelly and Towsley, 1999). A row can only
        // arrive late (a burst, a backlog, a host thread held back), never
        // early, so the line under every row is the device's pace; a
        // least-squares fit was pulled 2 % off by the late first rows of a
        // one-second stream, a median of slopes 14 % off by a 400 ms stall of
        // a loaded host.
        let period = lower_hull_slope(&idx, t);
        if period <= 0.0 {
            continue;
        }
        let n = n as f64;
        slope_weighted += period * n;
        m.rows += b - a;
        for i in 1..t.len() {
            let dt = t[i] - t[i - 1];
            m.max_gap_ms = m.max_gap_ms.max(dt * 1000.0);
            let spanned = idx[i] - idx[i - 1];
            if spanned > 0 {
                jitter.push((dt / spanned as f64 - period).abs() * 1000.0);
            }
        }
    }
    if m.rows > 0 {
        m.rate_hz = m.rows as f64 / slope_weighted;
    }
    m.jitter_p50_ms = percentile(&mut jitter, 50.0);
    m.jitter_p99_ms = percentile(&mut jitter, 99.0);
    m
}

/// The ways `m` breaks `x`, each a sentence with the measured and the
/// allowed value.
pub fn failures(m: &Timing, x: &StreamExpect) -> Vec<String> {
    let mut out = Vec::new();
    if m.rows == 0 {
        out.push("stream: no rows to measure".into());
        return out;
    }
    let off = m.rate_hz / x.rate_hz - 1.0;
    let tol = x
        .tolerance_pct
        .map(|p| p / 100.0)
        .into_iter()
        .chain(x.tolerance_ppm.map(|p| p / 1e6))
        .fold(None, |a: Option<f64>, t| Some(a.map_or(t, |a| a.max(t))))
        .unwrap_or(0.01);
    if off.abs() > tol {
        out.push(format!(
            "stream: rate {:.3} Hz is {:+.0} ppm ({:+.3} %) from {} Hz, beyond ±{:.0} ppm",
            m.rate_hz,
            off * 1e6,
            off * 100.0,
            x.rate_hz,
            tol * 1e6
        ));
    }
    if let Some(j) = &x.jitter_ms {
        for (name, got, max) in [
            ("p50", m.jitter_p50_ms, j.p50),
            ("p99", m.jitter_p99_ms, j.p99),
        ] {
            if let Some(max) = max {
                if got > max {
                    out.push(format!("stream: jitter {name} {got:.2} ms, above {max} ms"));
                }
            }
        }
    }
    if let Some(g) = x.max_gap_ms {
        if m.max_gap_ms > g {
            out.push(format!(
                "stream: longest gap {:.1} ms, above {g} ms",
                m.max_gap_ms
            ));
        }
    }
    if let Some(l) = x.lost {
        if m.lost != l {
            out.push(format!(
                "stream: {} packets lost (from the rows' counters), expected {l}",
                m.lost
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cyton_counter() -> CounterModel {
        CounterModel {
            start: 0,
            modulo: 256,
            packets_per_sample: 1,
            samples: None,
        }
    }

    #[test]
    fn indices_count_wraps_losses_and_shared_counters() {
        // 254, 255, 0 wrap; 3 after 1: one lost.
        let (idx, lost) = sample_indices(&[254.0, 255.0, 0.0, 1.0, 3.0], cyton_counter());
        assert_eq!(idx, vec![0, 1, 2, 3, 5]);
        assert_eq!(lost, 1);
        // Daisy rows step by 2: that is the usual step, nothing lost.
        let (idx, lost) = sample_indices(&[1.0, 3.0, 5.0, 9.0, 11.0], cyton_counter());
        assert_eq!(idx, vec![0, 1, 2, 4, 5]);
        assert_eq!(lost, 1);
        // Two rows per packet.
        let (idx, lost) = sample_indices(&[7.0, 7.0, 8.0, 8.0, 10.0, 10.0], cyton_counter());
        assert_eq!(idx, vec![0, 1, 2, 3, 6, 7]);
        assert_eq!(lost, 1);
    }

    #[test]
    fn the_rate_is_the_line_under_late_rows() {
        // 250 Hz rows, every fourth on time and the others held up to 16 ms
        // (bursts), and 100 rows 400 ms late (a stall caught up).
        let x: Vec<u64> = (0..1000).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|&i| {
                let late = if i % 4 == 3 {
                    0.0
                } else {
                    0.016 - 0.004 * (i % 4) as f64
                };
                let stall = if (300..400).contains(&i) { 0.4 } else { 0.0 };
                i as f64 / 250.0 + late + stall
            })
            .collect();
        let p = lower_hull_slope(&x, &y);
        assert!((1.0 / p - 250.0).abs() < 1e-6, "{}", 1.0 / p);
        assert_eq!(lower_hull_slope(&[3], &[1.0]), 0.0);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 50.0), 50.0);
        assert_eq!(percentile(&mut v, 99.0), 99.0);
        assert_eq!(percentile(&mut [], 99.0), 0.0);
    }
}

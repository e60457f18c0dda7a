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
    /// The rows' rate, Hz: in each stream, the median over rows of the
    /// timestamp slope to the row half a stream later, per sample index
    /// (lost samples counted); the streams' periods averaged by their rows.
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
        // The period: the median slope over half the stream, of each row and
        // the one n/2 rows later. A least-squares fit was pulled 2 % off by
        // the first rows of a one-second stream arriving late and caught up
        // (a loaded host); the median of slopes that each span half the
        // stream ignores such a start, and bursts, as long as most rows keep
        // the pace.
        let h = n / 2;
        let mut slopes: Vec<f64> = (0..n - h)
            .filter(|&i| idx[i + h] > idx[i])
            .map(|i| (t[i + h] - t[i]) / (idx[i + h] - idx[i]) as f64)
            .collect();
        let period = percentile(&mut slopes, 50.0);
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
                    out.push(format!(
                        "stream: jitter {name} {got:.2} ms, above {max} ms"
                    ));
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
    fn percentiles_by_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 50.0), 50.0);
        assert_eq!(percentile(&mut v, 99.0), 99.0);
        assert_eq!(percentile(&mut [], 99.0), 0.0);
    }
}

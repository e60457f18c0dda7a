//! Rates and jitter: packets per second and the gaps between packets, from
//! the times of the reads that completed each packet (a read may complete
//! several: they share its time).

use super::exchange::Run;
use super::framing::{Framed, Shape};
use super::{DiffOptions, Report, Side};
use crate::timing::{lower_hull_slope, percentile, sample_indices};

/// Fewer packets than this give no rate: the slope of a handful of arrival
/// times says more about the reads than about the device.
const MIN_PACKETS: usize = 20;

/// A gap between two packets longer than this (ms) means the reads
/// stalled: 50 periods at 250 packets/s, 12 times the 16 ms an FTDI
/// adapter's latency timer holds bytes. A recording machine starved that
/// long (a 2-core host running other builds stalled every process 1.5 s)
/// gets the backlog in a burst, and a device emulated there falls behind its
/// pace, so the run's slope no longer measures the device: measured 0.6 to
/// 3.7 % off on runs of 250 packets with such a stall, within 0.3 % without.
pub const STALL_MS: f64 = 200.0;

/// One stream run's timing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Packets measured.
    pub packets: usize,
    /// Packets per second.
    pub per_second: f64,
    /// Median gap between packets, ms.
    pub p50_ms: f64,
    /// 99th percentile gap, ms.
    pub p99_ms: f64,
    /// Longest gap, ms.
    pub max_gap_ms: f64,
}

/// Measures a run's packets; `None` with too few of them.
pub fn measure(shape: &Shape, run: &Run, framed: &Framed) -> Option<Rate> {
    let ps = &framed.packets;
    if ps.len() < MIN_PACKETS {
        return None;
    }
    let t: Vec<f64> = ps
        .iter()
        .map(|p| run.chunk_of(p.start + p.len - 1).at.as_secs_f64())
        .collect();
    // Packet numbers from the counter, so lost packets keep their place.
    let counters: Option<Vec<f64>> = ps.iter().map(|p| p.counter.map(|c| c as f64)).collect();
    let x = match counters {
        Some(c) => sample_indices(&c, shape.model).0,
        None => (0..ps.len() as u64).collect(),
    };
    // The period: the slope of the line under every arrival time, as the
    // harness measures a board's rate (`timing::lower_hull_slope`): arrivals
    // are only ever late, and a few late ones at either end do not tilt it.
    let period = lower_hull_slope(&x, &t);
    if period <= 0.0 {
        return None;
    }
    let mut gaps: Vec<f64> = t.windows(2).map(|w| (w[1] - w[0]) * 1e3).collect();
    let max_gap_ms = gaps.iter().copied().fold(0.0, f64::max);
    Some(Rate {
        packets: ps.len(),
        per_second: 1.0 / period,
        p50_ms: percentile(&mut gaps, 50.0),
        p99_ms: percentile(&mut gaps, 99.0),
        max_gap_ms,
    })
}

/// Shows each run's rate and gaps side by side; a rate further from B's
/// than the tolerance is a disagreement.
pub fn compare(shape: &Shape, a: &Side, b: &Side, opts: &DiffOptions, out: &mut Report) {
    let runs = a.framed.len().min(b.framed.len());
    for r in 0..runs {
        out.section(&format!(
            "rates and jitter ({} {}){:>8}{:>12}",
            a.label,
            r + 1,
            "A",
            "B"
        ));
        let ma = measure(shape, &a.exchange.runs[r], &a.framed[r]);
        let mb = measure(shape, &b.exchange.runs[r], &b.framed[r]);
        let (Some(ma), Some(mb)) = (ma, mb) else {
            out.line(format!(
                "  fewer than {MIN_PACKETS} packets in A or B: no rate measured"
            ));
            continue;
        };
        let row = |name: &str, x: f64, y: f64, prec: usize| {
            format!("  {name:<24}{x:>14.prec$}{y:>12.prec$}")
        };
        out.line(row("packets", ma.packets as f64, mb.packets as f64, 0));
        out.line(row("packets/s", ma.per_second, mb.per_second, 2));
        out.line(row("gap p50 (ms)", ma.p50_ms, mb.p50_ms, 2));
        out.line(row("gap p99 (ms)", ma.p99_ms, mb.p99_ms, 2));
        out.line(row("max gap (ms)", ma.max_gap_ms, mb.max_gap_ms, 2));
        let apart = (ma.per_second - mb.per_second).abs() / mb.per_second;
        let stalled: Vec<String> = [("A", ma), ("B", mb)]
            .iter()
            .filter(|(_, m)| m.max_gap_ms > STALL_MS)
            .map(|(side, m)| format!("{side}'s reads stalled {:.0} ms", m.max_gap_ms))
            .collect();
        if !stalled.is_empty() {
            out.line(format!(
                "  rates not compared: {} (over {STALL_MS} ms, the run's timing is not the device's)",
                stalled.join(", ")
            ));
        } else if apart > opts.rate_tolerance {
            out.differs(format!(
                "{} {}: {:.2} packets/s in A, {:.2} in B ({:.1} % apart, tolerance {} %)",
                a.label,
                r + 1,
                ma.per_second,
                mb.per_second,
                apart * 100.0,
                opts.rate_tolerance * 100.0
            ));
        }
    }
}

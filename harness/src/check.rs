//! Comparing what a board produced with what the emulated device declared.
//!
//! Expected values come from the device profile and the scenario's signals (the
//! emulator's side), never from a driver's decoder. Each row is placed at its sample
//! index by unwrapping the packet counter, so lost packets leave gaps rather than
//! shifting every later comparison.

use crate::binding::{BoardBinding, ChannelBinding, CheckMode};
use boardloop_boards::Data;
use boardloop_emulators::scenario::SignalCheck;
use boardloop_emulators::state::State;
use boardloop_emulators::{ChannelModel, CounterModel, Scenario};
use std::fmt;

/// Rows of one stream (between a start and the next stop).
#[derive(Debug, Clone)]
pub struct Segment {
    /// First row of the stream in the collected data.
    pub first_row: usize,
    /// One past its last row.
    pub end_row: usize,
    /// Samples per second the device streamed at (the signal's time base).
    pub rate: f64,
    /// Device state over the stream: from which row on, and until which row values
    /// are not compared because the change may not have reached the device yet.
    pub states: Vec<StateSpan>,
}

/// Device state from a command on.
#[derive(Debug, Clone)]
pub struct StateSpan {
    /// Rows the host had when it sent the command.
    pub from_row: usize,
    /// Without `device_packet`: rows before this are skipped (the device applies
    /// a command some packets after the host sends it).
    pub settle_until: usize,
    /// The first stream packet the device built under the new state, when the
    /// emulator reports it: then the state applies from that packet exactly, and
    /// only rows the host decoded after sending but the device built before
    /// applying are skipped.
    pub device_packet: Option<u64>,
    /// The state.
    pub state: State,
}

impl StateSpan {
    fn applies(&self, row: usize, packet: u64) -> bool {
        match self.device_packet {
            Some(p) => packet >= p,
            None => row >= self.from_row,
        }
    }

    fn disputed(&self, row: usize, packet: u64) -> bool {
        match self.device_packet {
            Some(p) => row >= self.from_row && packet < p,
            None => row >= self.from_row && row < self.settle_until,
        }
    }
}

/// The first value that did not match.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Row index in the collected data.
    pub row: usize,
    /// Sample index in its stream.
    pub sample: u64,
    /// Packet counter of the row.
    pub counter: f64,
    /// Signal name.
    pub channel: String,
    /// Data row holding it.
    pub data_row: usize,
    /// Expected value.
    pub expected: f64,
    /// Value found.
    pub got: f64,
    /// One count of the channel.
    pub lsb: f64,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {} (sample {}, counter {}), {} (data row {}): expected {:.6}, got {:.6} ({:+.2} LSB)",
            self.row,
            self.sample,
            self.counter,
            self.channel,
            self.data_row,
            self.expected,
            self.got,
            (self.got - self.expected) / self.lsb
        )
    }
}

/// The outcome of a signal check.
#[derive(Debug, Clone, Default)]
pub struct SignalReport {
    /// Rows compared.
    pub rows_checked: usize,
    /// Values compared.
    pub values_checked: usize,
    /// Values outside tolerance.
    pub mismatches: usize,
    /// The first one.
    pub first: Option<Mismatch>,
    /// Channels compared.
    pub channels: Vec<String>,
    /// Problems that are not value mismatches (unknown channel, counter anomalies).
    pub problems: Vec<String>,
}

/// Compares `data` with the declared signals.
pub fn check_signals(
    data: &Data,
    board: &BoardBinding,
    scenario: &Scenario,
    segments: &[Segment],
    check: &SignalCheck,
) -> SignalReport {
    let mut report = SignalReport::default();
    let profile = &scenario.profile;
    let Some(counter) = CounterModel::of(profile) else {
        report
            .problems
            .push("the device profile has no stream".into());
        return report;
    };
    let chosen: Vec<&ChannelBinding> = match &check.channels {
        Some(list) => {
            let mut v = Vec::new();
            for name in list {
                match board.channels.iter().find(|c| &c.signal == name) {
                    Some(c) => v.push(c),
                    None => report
                        .problems
                        .push(format!("board `{}` has no channel `{name}`", board.name)),
                }
            }
            v
        }
        None => board
            .channels
            .iter()
            .filter(|c| c.default_checked)
            .collect(),
    };
    let start_state = segments
        .first()
        .and_then(|s| s.states.first())
        .map(|s| s.state.clone())
        .unwrap_or_else(|| scenario.initial_state.clone());
    let models: Vec<(&ChannelBinding, ChannelModel)> = chosen
        .into_iter()
        .filter_map(
            |c| match ChannelModel::find_active(profile, &c.signal, &start_state) {
                Some(m) => Some((c, m)),
                None => {
                    if check.channels.is_some() {
                        report.problems.push(format!(
                            "device `{}` sends no `{}` in this state",
                            profile.decl.name, c.signal
                        ));
                    }
                    None
                }
            },
        )
        .collect();
    report.channels = models.iter().map(|(c, _)| c.signal.clone()).collect();
    // Rows are placed by the counter of the stream that carries the channels.
    let counter = models.first().map_or(counter, |(_, m)| m.counter());
    let pkg_row = board.descr.package_num_channel;
    for seg in segments {
        let mut held: Vec<f64> = vec![0.0; models.len()];
        // (packet index, counter, sample within the packet)
        let mut last: Option<(u64, u64, u64)> = None;
        for row in seg.first_row..seg.end_row.min(data.num_samples) {
            let c = data.row(pkg_row)[row];
            let cv = c.round() as u64 % counter.modulo;
            let (packet, j) = match last {
                None => (
                    (cv + counter.modulo - counter.start % counter.modulo) % counter.modulo,
                    0,
                ),
                Some((p, prev, j)) => {
                    let step = (cv + counter.modulo - prev) % counter.modulo;
                    // Several rows per packet (Ganglion: 2, Muse: 12) share its counter.
                    if step == 0 {
                        (p, j + 1)
                    } else {
                        (p + step, 0)
                    }
                }
            };
            last = Some((packet, cv, j));
            let Some(span) = seg.states.iter().rev().find(|s| s.applies(row, packet)) else {
                continue;
            };
            let settling = seg.states.iter().any(|s| s.disputed(row, packet));
            if !settling {
                report.rows_checked += 1;
            }
            for (k, (binding, model)) in models.iter().enumerate() {
                let (sample, e) =
                    model.expected_at(&span.state, &scenario.signals, packet, j, seg.rate);
                let expected = match binding.mode {
                    CheckMode::Exact => e.value,
                    CheckMode::Hold => {
                        if e.present {
                            held[k] = e.value;
                        }
                        held[k]
                    }
                    CheckMode::WhenPresent => {
                        if !e.present {
                            continue;
                        }
                        e.value
                    }
                };
                if settling {
                    continue;
                }
                let got = data.row(binding.row)[row];
                report.values_checked += 1;
                let tol = check.tolerance_lsb * e.lsb.abs() + 1e-9 * expected.abs().max(1.0);
                if (got - expected).abs() > tol || got.is_nan() {
                    report.mismatches += 1;
                    if report.first.is_none() {
                        report.first = Some(Mismatch {
                            row,
                            sample,
                            counter: c,
                            channel: binding.signal.clone(),
                            data_row: binding.row,
                            expected,
                            got,
                            lsb: e.lsb,
                        });
                    }
                }
            }
        }
    }
    report
}

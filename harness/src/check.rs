//! Comparing what a board produced with what the emulated device declared.
//!
//! Expected values come from the device profile and the scenario's signals (the
//! emulator's side), never from a driver's decoder. Each row is placed at its sample
//! index by unwrapping the packet counter, so lost packets leave gaps rather than
//! shifting every later comparison.

use crate::binding::{preset_key, BoardBinding, ChannelBinding, CheckMode};
use boardloop_boards::{Data, Preset};
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
    /// Samples per second the device streamed at (the signal's time base) on
    /// the stream of the default preset; the other presets' channels use their
    /// own streams' rates.
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
    /// The preset whose data it is in.
    pub preset: Preset,
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
        if self.preset != Preset::Default {
            write!(f, "{} preset ", preset_key(self.preset))?;
        }
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
    /// Each compared channel's values, for the HTML report.
    pub plots: Vec<ChannelPlot>,
}

/// Rows of a channel the HTML report plots where a value was outside
/// tolerance: a window around the first one.
pub const PLOT_ROWS: usize = 250;

/// Rows of a channel the HTML report plots where every value held: the
/// first ones, half a second of a Cyton. Fewer than for a failure, as the
/// whole matrix has about 4,000 channel plots (22 MB of report at 250).
pub const PLOT_ROWS_PASSED: usize = 125;

/// One compared channel, expected beside received, for the HTML report: a
/// window of [`PLOT_ROWS`] compared rows around the channel's first mismatch
/// (or its first [`PLOT_ROWS_PASSED`]), each with whether it was outside
/// tolerance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelPlot {
    /// The preset's key (`default`, `auxiliary`, `ancillary`).
    pub preset: String,
    /// The signal's name.
    pub channel: String,
    /// The data row holding it.
    pub data_row: usize,
    /// (row index in the collected data, expected, received, outside
    /// tolerance), in row order.
    pub points: Vec<(usize, f64, f64, bool)>,
    /// Values compared in all, and how many were outside tolerance.
    pub compared: usize,
    /// Of them, outside tolerance.
    pub mismatches: usize,
}

impl ChannelPlot {
    /// Keeps the points the report plots: [`PLOT_ROWS`] around the first
    /// mismatch, else the first [`PLOT_ROWS_PASSED`].
    fn cut_window(&mut self) {
        let n = self.points.len();
        let (keep, first_bad) = match self.points.iter().position(|p| p.3) {
            Some(i) => (PLOT_ROWS, i),
            None => (PLOT_ROWS_PASSED, 0),
        };
        if n <= keep {
            return;
        }
        let start = first_bad.saturating_sub(keep / 4).min(n - keep);
        self.points.drain(start + keep..);
        self.points.drain(..start);
    }
}

/// Compares `data`, the rows of `preset`, with the declared signals; `segments`
/// count rows of that preset.
pub fn check_signals(
    data: &Data,
    board: &BoardBinding,
    preset: Preset,
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
    // Problems name the preset unless it is the default one, so the messages
    // of single-preset boards read as they always have.
    let where_ = match preset {
        Preset::Default => String::new(),
        p => format!(" in its {} preset", preset_key(p)),
    };
    let Some((descr, channels)) = board.layout(preset) else {
        report.problems.push(format!(
            "board `{}` has no {} preset",
            board.name,
            preset_key(preset)
        ));
        return report;
    };
    let chosen: Vec<&ChannelBinding> = match &check.channels {
        Some(list) => {
            let mut v = Vec::new();
            for name in list {
                match channels.iter().find(|c| &c.signal == name) {
                    Some(c) => v.push(c),
                    None => report.problems.push(format!(
                        "board `{}` has no channel `{name}`{where_}",
                        board.name
                    )),
                }
            }
            v
        }
        None => channels.iter().filter(|c| c.default_checked).collect(),
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
    report.plots = models
        .iter()
        .map(|(c, _)| ChannelPlot {
            preset: preset_key(preset).to_string(),
            channel: c.signal.clone(),
            data_row: c.row,
            ..Default::default()
        })
        .collect();
    // Rows are placed by the counter of the stream that carries the channels.
    let counter = models.first().map_or(counter, |(_, m)| m.counter());
    let pkg_row = descr.package_num_channel;
    for seg in segments {
        // A preset other than the default one streams at its own rate (Muse:
        // accel/gyro 52 Hz, PPG 64 Hz), its signals' time base.
        let rate = match (preset, models.first(), seg.states.first()) {
            (Preset::Default, _, _) | (_, None, _) | (_, _, None) => seg.rate,
            (_, Some((_, m)), Some(first)) => m.sample_rate(&first.state),
        };
        let mut held: Vec<f64> = vec![0.0; models.len()];
        // (packet index, counter, sample within the packet)
        let mut last: Option<(u64, u64, u64)> = None;
        for row in seg.first_row..seg.end_row.min(data.num_samples) {
            let c = data.row(pkg_row)[row];
            let cv = counter.wrap(c);
            let (packet, j) = counter.place(last, cv);
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
                    model.expected_at(&span.state, &scenario.signals, packet, j, rate);
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
                let bad = (got - expected).abs() > tol || got.is_nan();
                let plot = &mut report.plots[k];
                plot.points.push((row, expected, got, bad));
                plot.compared += 1;
                if bad {
                    plot.mismatches += 1;
                    report.mismatches += 1;
                    if report.first.is_none() {
                        report.first = Some(Mismatch {
                            preset,
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
    for p in &mut report.plots {
        p.cut_window();
    }
    report
}

/// The first `n` samples of `d` (a default-preset session of board `id`)
/// without the timestamp column, the host's clock: what two sessions of one
/// recording must agree on (the record/replay proofs).
pub fn values_without_timestamps(
    id: boardloop_boards::BoardId,
    d: &Data,
    n: usize,
) -> Vec<Vec<f64>> {
    let ts = boardloop_boards::board_descr(id, Preset::Default)
        .map(|b| b.timestamp_channel)
        .ok();
    (0..n.min(d.num_samples))
        .map(|s| {
            let mut v = d.sample(s);
            if let Some(ts) = ts.filter(|&t| t < v.len()) {
                v.remove(ts);
            }
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::board;
    use crate::catalog::scenarios_dir;
    use boardloop_boards::codec::muse::{MuseChar, MuseRows, GYRO_SCALE};
    use boardloop_boards::{MuseDecoder, MuseModel};
    use boardloop_emulators::Device;

    fn aux_scenario() -> Scenario {
        let dir = scenarios_dir();
        Scenario::load(&dir.join("muse_2/aux_signal.yaml"), &dir.join("devices")).unwrap()
    }

    /// The auxiliary rows the Muse 2 decoder makes of the emulator's first
    /// `notifications` accel and gyro notifications (accel first, as the
    /// emulator sends them: profile order).
    fn aux_rows(sc: &Scenario, notifications: usize) -> Data {
        let mut dev = Device::new(
            sc.profile.clone(),
            sc.signals.clone(),
            sc.initial_state.clone(),
        );
        dev.start_streaming();
        let stream = |name: &str| {
            sc.profile
                .streams
                .iter()
                .position(|s| s.name == name)
                .unwrap()
        };
        let (accel, gyro) = (stream("accel"), stream("gyro"));
        let mut decoder = MuseDecoder::new(MuseModel::Muse2);
        let mut rows = MuseRows::default();
        for _ in 0..notifications {
            let (_, a) = dev.next_packet_of(accel).unwrap();
            decoder.decode(MuseChar::Accel, &a, &mut rows);
            let (_, g) = dev.next_packet_of(gyro).unwrap();
            decoder.decode(MuseChar::Gyro, &g, &mut rows);
        }
        Data::from_samples(9, &rows.aux.iter().collect::<Vec<_>>())
    }

    fn one_stream(sc: &Scenario, rows: usize) -> Vec<Segment> {
        vec![Segment {
            first_row: 0,
            end_row: rows,
            // The default preset's (EEG) rate: the auxiliary check must not use it.
            rate: 256.0,
            states: vec![StateSpan {
                from_row: 0,
                settle_until: 0,
                device_packet: Some(0),
                state: sc.initial_state.clone(),
            }],
        }]
    }

    fn check(sc: &Scenario) -> SignalCheck {
        let x = sc.decl.expect.presets.auxiliary.as_ref().unwrap();
        x.signal.clone().unwrap()
    }

    #[test]
    fn auxiliary_preset_values_match_the_declared_signals() {
        let sc = aux_scenario();
        let data = aux_rows(&sc, 20);
        assert_eq!(data.num_samples, 60);
        let b = board("muse_2").unwrap();
        let r = check_signals(
            &data,
            &b,
            Preset::Auxiliary,
            &sc,
            &one_stream(&sc, 60),
            &check(&sc),
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.mismatches, 0, "{:?}", r.first);
        assert_eq!(r.values_checked, 60 * 6);
    }

    /// The auxiliary preset of a Muse 2 checked against `sc` in one stream.
    fn check_aux(sc: &Scenario, data: &Data) -> SignalReport {
        let b = board("muse_2").unwrap();
        let n = data.num_samples;
        check_signals(
            data,
            &b,
            Preset::Auxiliary,
            sc,
            &one_stream(sc, n),
            &check(sc),
        )
    }

    #[test]
    fn a_wrong_auxiliary_value_is_reported_with_preset_row_and_channel() {
        let sc = aux_scenario();
        let mut data = aux_rows(&sc, 20);
        let n = data.num_samples;
        // gyro_z (data row 6), sample 7: five counts off.
        data.values[6 * n + 7] += 5.0 * GYRO_SCALE;
        let r = check_aux(&sc, &data);
        assert_eq!(r.mismatches, 1);
        let m = r.first.unwrap();
        assert_eq!((m.preset, m.row, m.data_row), (Preset::Auxiliary, 7, 6));
        assert_eq!(m.channel, "gyro_z");
        let text = m.to_string();
        assert!(
            text.starts_with("auxiliary preset row 7 (sample 7, counter 2), gyro_z (data row 6)"),
            "{text}"
        );
        assert!(text.ends_with("(+5.00 LSB)"), "{text}");
        // The report's plot of gyro_z marks that row, and only it.
        let plot = r.plots.iter().find(|p| p.channel == "gyro_z").unwrap();
        assert_eq!((plot.preset.as_str(), plot.data_row), ("auxiliary", 6));
        let bad: Vec<usize> = plot.points.iter().filter(|p| p.3).map(|p| p.0).collect();
        assert_eq!(bad, vec![7]);
        assert_eq!((plot.compared, plot.mismatches), (n, 1));
    }

    #[test]
    fn a_plot_keeps_a_window_around_the_first_mismatch() {
        let mut p = ChannelPlot {
            points: (0..2000).map(|r| (r, 0.0, 0.0, r == 1500)).collect(),
            ..Default::default()
        };
        p.cut_window();
        assert_eq!(p.points.len(), PLOT_ROWS);
        assert_eq!(p.points[0].0, 1500 - PLOT_ROWS / 4);
        assert!(p.points.iter().any(|x| x.3));
        // No mismatch: the first rows; one near the end: the last window.
        let mut p = ChannelPlot {
            points: (0..2000).map(|r| (r, 0.0, 0.0, r == 1999)).collect(),
            ..Default::default()
        };
        p.cut_window();
        assert_eq!(p.points[0].0, 2000 - PLOT_ROWS);
        let mut p = ChannelPlot {
            points: (0..2000).map(|r| (r, 0.0, 0.0, false)).collect(),
            ..Default::default()
        };
        p.cut_window();
        assert_eq!((p.points[0].0, p.points.len()), (0, PLOT_ROWS_PASSED));
    }

    #[test]
    fn swapped_auxiliary_axes_fail() {
        let sc = aux_scenario();
        let mut data = aux_rows(&sc, 20);
        let n = data.num_samples;
        // accel_y and accel_z (rows 2 and 3) exchanged, as a decoder bug would.
        let (y, z) = data.values.split_at_mut(3 * n);
        y[2 * n..3 * n].swap_with_slice(&mut z[..n]);
        let r = check_aux(&sc, &data);
        assert_eq!(r.mismatches, 2 * n);
        assert_eq!(r.first.unwrap().channel, "accel_y");
    }

    #[test]
    fn a_channel_the_preset_lacks_is_a_problem_naming_it() {
        let sc = aux_scenario();
        let data = aux_rows(&sc, 2);
        let b = board("muse_2").unwrap();
        let mut c = check(&sc);
        c.channels = Some(vec!["ppg1".into()]);
        let r = check_signals(&data, &b, Preset::Auxiliary, &sc, &one_stream(&sc, 6), &c);
        assert_eq!(
            r.problems,
            ["board `muse_2` has no channel `ppg1` in its auxiliary preset"]
        );
        let r = check_signals(
            &data,
            &board("muse_2016").unwrap(),
            Preset::Ancillary,
            &sc,
            &one_stream(&sc, 6),
            &c,
        );
        assert_eq!(r.problems, ["board `muse_2016` has no ancillary preset"]);
    }
}

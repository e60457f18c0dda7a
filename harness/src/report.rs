//! Keeping what a failed trial saw: the data as CSV (`data.csv` for the
//! default preset, `data-<preset>.csv` for each other preset it checks), the
//! byte transcript and the step log, under
//! `target/boardloop/<board>__<scenario>__<target>/`.

use crate::catalog::artifacts_dir;
use crate::run::{Outcome, Trial};
use boardloop_boards::{BoardDescr, Data};
use boardloop_emulators::CounterModel;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Writes the artifacts of a failed trial and returns their folder; clears stale
/// artifacts of a passing one.
pub fn keep(
    trial: &Trial,
    out: &Outcome,
    data: &Data,
    others: &[(&str, &Data)],
    transcript: Option<&str>,
) -> Option<PathBuf> {
    let dir = artifacts_dir().join(trial.name().replace("::", "__"));
    let _ = std::fs::remove_dir_all(&dir);
    if out.passed() {
        return None;
    }
    std::fs::create_dir_all(&dir).ok()?;
    let _ = std::fs::write(dir.join("data.csv"), to_csv(data));
    // The other presets the scenario checks, each beside the default's.
    for (key, d) in others {
        let _ = std::fs::write(dir.join(format!("data-{key}.csv")), to_csv(d));
    }
    if let Some(t) = transcript {
        let _ = std::fs::write(dir.join("transcript.txt"), t);
    }
    let mut r = String::new();
    let _ = writeln!(
        r,
        "trial {}\nscenario {}\n",
        trial.name(),
        crate::catalog::shown(&trial.scenario.path)
    );
    for f in &out.failures {
        let _ = writeln!(r, "FAIL {f}");
    }
    let _ = writeln!(
        r,
        "\nrows {}  values checked {}",
        out.rows, out.values_checked
    );
    if let Some(s) = &out.stats {
        let _ = writeln!(r, "driver stats {s:?}");
    }
    let _ = writeln!(r, "\nsteps:");
    for l in &out.log {
        let _ = writeln!(r, "  {l}");
    }
    let _ = std::fs::write(dir.join("report.txt"), r);
    Some(dir)
}

/// One line per sample, one column per data row (BrainFlow's layout, transposed).
pub fn to_csv(data: &Data) -> String {
    let mut s = String::new();
    let header: Vec<String> = (0..data.num_rows).map(|r| format!("row{r}")).collect();
    s.push_str(&header.join(","));
    s.push('\n');
    for i in 0..data.num_samples {
        let line: Vec<String> = (0..data.num_rows)
            .map(|r| format!("{}", data.values[r * data.num_samples + i]))
            .collect();
        s.push_str(&line.join(","));
        s.push('\n');
    }
    s
}

/// Intervals the HTML report keeps for its jitter histogram: the first ones,
/// a minute and more of most boards.
pub const MAX_INTERVALS: usize = 20_000;

/// When rows arrived and where packets were lost, from the host's timestamps
/// and the packet counter of the collected data (default preset).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// Host time from one row to the next, ms (at most [`MAX_INTERVALS`]).
    pub intervals_ms: Vec<f64>,
    /// Where the counter jumped: (seconds after the first row, packets lost).
    pub losses: Vec<(f64, u64)>,
    /// Seconds from the first row to the last.
    pub span_s: f64,
}

/// The timeline of `data`, whose packet counter wraps as `counter` says.
/// Rows that share a counter (several samples per packet) are one packet.
pub fn timeline(data: &Data, descr: &BoardDescr, counter: Option<CounterModel>) -> Timeline {
    let mut t = Timeline::default();
    let n = data.num_samples;
    if n == 0 || descr.timestamp_channel >= data.num_rows {
        return t;
    }
    let ts = data.row(descr.timestamp_channel);
    t.span_s = ts[n - 1] - ts[0];
    t.intervals_ms = ts
        .windows(2)
        .take(MAX_INTERVALS)
        .map(|w| (w[1] - w[0]) * 1000.0)
        .collect();
    let (Some(c), true) = (counter, descr.package_num_channel < data.num_rows) else {
        return t;
    };
    let pkg = data.row(descr.package_num_channel);
    for i in 1..n {
        let step = c.step(c.wrap(pkg[i - 1]), c.wrap(pkg[i]));
        if step > 1 {
            t.losses.push((ts[i] - ts[0], step - 1));
        }
    }
    t
}

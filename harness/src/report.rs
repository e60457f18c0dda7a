//! Keeping what a failed trial saw: the data as CSV, the byte transcript and the
//! step log, under `target/boardloop/<board>__<scenario>__<target>/`.

use crate::catalog::artifacts_dir;
use crate::run::{Outcome, Trial};
use boardloop_boards::Data;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Writes the artifacts of a failed trial and returns their folder; clears stale
/// artifacts of a passing one.
pub fn keep(
    trial: &Trial,
    out: &Outcome,
    data: &Data,
    transcript: Option<&str>,
) -> Option<PathBuf> {
    let dir = artifacts_dir().join(trial.name().replace("::", "__"));
    let _ = std::fs::remove_dir_all(&dir);
    if out.passed() {
        return None;
    }
    std::fs::create_dir_all(&dir).ok()?;
    let _ = std::fs::write(dir.join("data.csv"), to_csv(data));
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

//! What `boardloop run` shows a person: progress in the plan's order (a
//! progress bar on a terminal, plain lines otherwise), ignored trials grouped
//! by reason, a board × target table, and the failures again at the end with
//! their first difference.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// How a trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Every expectation held.
    Pass,
    /// An expectation did not hold, or the trial could not be built.
    Fail,
    /// It cannot run here (no rig, no VM, no BrainFlow); the detail says why.
    Ignored,
}

impl Status {
    /// The word in the progress lines and reports.
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Ignored => "IGNORED",
        }
    }
}

/// One trial's result, as every report shows it.
#[derive(Debug, Clone)]
pub struct TrialResult {
    /// `board::scenario::target`.
    pub name: String,
    /// How it ended.
    pub status: Status,
    /// Wall time (zero when not run).
    pub elapsed: Duration,
    /// Counts for a run trial (`rows 500 values 4000 lost 0 garbage 0`), the
    /// reason for an ignored one.
    pub detail: String,
    /// For a failure: every expectation that did not hold, first difference
    /// first.
    pub failures: Vec<String>,
    /// For a failure: the full description (driver counters, artifacts).
    pub description: String,
    /// For a trial that ran: what the HTML report shows of it.
    pub evidence: Option<Box<crate::html::Evidence>>,
}

impl TrialResult {
    /// The name's three parts: board, scenario, target.
    pub fn parts(&self) -> (&str, &str, &str) {
        let mut it = self.name.splitn(3, "::");
        let board = it.next().unwrap_or_default();
        let scenario = it.next().unwrap_or_default();
        let target = it.next().unwrap_or_default();
        (board, scenario, target)
    }

    /// The progress line (`PASS    cyton::known_signal::emulated  0.57 s  rows …`).
    pub fn line(&self) -> String {
        format!(
            "{:<7} {:<55} {:>6.2} s  {}",
            self.status.word(),
            self.name,
            self.elapsed.as_secs_f64(),
            self.detail
        )
    }
}

/// Prints finished trials in the plan's order whatever order they finish in:
/// a trial's line waits until every earlier one has finished. On a terminal a
/// progress bar below the lines shows how many are done and which are running.
pub struct Progress {
    total: usize,
    bar: Option<ProgressBar>,
    state: Mutex<Printed>,
}

struct Printed {
    next: usize,
    waiting: BTreeMap<usize, String>,
    running: BTreeSet<(usize, String)>,
}

impl Progress {
    /// Progress over `total` trials; `bar`: draw a progress bar (a terminal).
    pub fn new(total: usize, bar: bool) -> Progress {
        let bar = bar.then(|| {
            let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stdout());
            b.set_style(
                ProgressStyle::with_template("{pos:>4}/{len} [{bar:30}] {elapsed:>4} {wide_msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            b
        });
        Progress {
            total,
            bar,
            state: Mutex::new(Printed {
                next: 0,
                waiting: BTreeMap::new(),
                running: BTreeSet::new(),
            }),
        }
    }

    /// Trial `i` (0-based in the plan's order) started.
    pub fn started(&self, i: usize, name: &str) {
        let mut g = self.lock();
        g.running.insert((i, name.to_string()));
        self.show_running(&g);
    }

    /// Trial `i` finished: prints its line once every earlier one is printed.
    pub fn finished(&self, i: usize, result: &TrialResult) {
        let mut g = self.lock();
        g.running.retain(|(j, _)| *j != i);
        let width = self.total.to_string().len();
        g.waiting.insert(
            i,
            format!("[{:>width$}/{}] {}", i + 1, self.total, result.line()),
        );
        while let Some(line) = {
            let next = g.next;
            g.waiting.remove(&next)
        } {
            g.next += 1;
            match &self.bar {
                Some(b) => {
                    b.println(line);
                    b.inc(1);
                }
                None => println!("{line}"),
            }
        }
        self.show_running(&g);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    fn show_running(&self, g: &Printed) {
        if let Some(b) = &self.bar {
            let names: Vec<&str> = g.running.iter().map(|(_, n)| n.as_str()).collect();
            b.set_message(names.join("  "));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Printed> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Everything after the progress lines: ignored trials by reason (one line
/// per reason with its count, or each trial with `verbose`), the board ×
/// target table, the failures with their first difference, and the totals.
pub fn summary(results: &[TrialResult], elapsed: Duration, verbose: bool) -> String {
    let mut s = String::new();
    let ignored: Vec<&TrialResult> = results
        .iter()
        .filter(|r| r.status == Status::Ignored)
        .collect();
    if !ignored.is_empty() {
        if verbose {
            let _ = writeln!(s, "\nignored:");
            for r in &ignored {
                let _ = writeln!(s, "  {:<55} {}", r.name, r.detail);
            }
        } else {
            let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
            for r in &ignored {
                *by_reason.entry(r.detail.as_str()).or_default() += 1;
            }
            let _ = writeln!(s, "\nignored, by reason (--verbose lists each trial):");
            let mut reasons: Vec<_> = by_reason.into_iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            for (reason, n) in reasons {
                let _ = writeln!(s, "  {n:>4}  {reason}");
            }
        }
    }

    // board × target: passed, failed, ignored.
    let mut table: BTreeMap<(&str, &str), [usize; 3]> = BTreeMap::new();
    for r in results {
        let (board, _, target) = r.parts();
        table.entry((board, target)).or_default()[r.status as usize] += 1;
    }
    let bw = table
        .keys()
        .map(|k| k.0.len())
        .chain([5])
        .max()
        .unwrap_or(5);
    let tw = table
        .keys()
        .map(|k| k.1.len())
        .chain([6])
        .max()
        .unwrap_or(6);
    let _ = writeln!(
        s,
        "\n{:<bw$}  {:<tw$}  {:>6}  {:>6}  {:>7}",
        "board", "target", "passed", "failed", "ignored"
    );
    let mut total = [0usize; 3];
    for ((board, target), n) in &table {
        let _ = writeln!(
            s,
            "{board:<bw$}  {target:<tw$}  {:>6}  {:>6}  {:>7}",
            n[0], n[1], n[2]
        );
        for k in 0..3 {
            total[k] += n[k];
        }
    }
    let _ = writeln!(
        s,
        "{:<bw$}  {:<tw$}  {:>6}  {:>6}  {:>7}",
        "total", "", total[0], total[1], total[2]
    );

    let failed: Vec<&TrialResult> = results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(s, "\nfailures:");
        for r in &failed {
            let first = r
                .failures
                .first()
                .map_or("(no expectation recorded)", String::as_str);
            let _ = writeln!(s, "  {}\n    first difference: {first}", r.name);
            if r.failures.len() > 1 {
                let _ = writeln!(s, "    and {} more", r.failures.len() - 1);
            }
        }
        let _ = writeln!(s, "\nin full:");
        for r in &failed {
            s.push_str(&r.description);
        }
    }
    let _ = writeln!(
        s,
        "\n{} passed, {} failed, {} ignored in {:.1} s",
        total[0],
        total[1],
        total[2],
        elapsed.as_secs_f64()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, status: Status, detail: &str, failures: &[&str]) -> TrialResult {
        TrialResult {
            name: name.to_string(),
            status,
            elapsed: Duration::from_millis(250),
            detail: detail.to_string(),
            failures: failures.iter().map(|f| f.to_string()).collect(),
            description: format!("{name} failed:\n  - {}\n", failures.join("\n  - ")),
            evidence: None,
        }
    }

    #[test]
    fn summary_groups_ignored_counts_per_board_and_target_and_repeats_failures() {
        let results = [
            result("cyton::a::emulated", Status::Pass, "rows 1", &[]),
            result("cyton::a::device", Status::Ignored, "no rig", &[]),
            result(
                "cyton::b::emulated",
                Status::Fail,
                "rows 2",
                &["row 3 differs", "x"],
            ),
            result("cyton::b::device", Status::Ignored, "no rig", &[]),
            result("muse_2::a::bluez", Status::Ignored, "no VM", &[]),
        ];
        let s = summary(&results, Duration::from_secs(3), false);
        assert!(s.contains("     2  no rig\n"), "{s}");
        assert!(s.contains("     1  no VM\n"), "{s}");
        assert!(!s.contains("cyton::a::device"), "{s}");
        let row = |b: &str, t: &str| {
            s.lines()
                .find(|l| l.split_whitespace().take(2).eq([b, t]))
                .map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>())
        };
        assert_eq!(row("cyton", "emulated"), Some(vec!["1", "1", "0"]));
        assert_eq!(row("cyton", "device"), Some(vec!["0", "0", "2"]));
        assert_eq!(row("muse_2", "bluez"), Some(vec!["0", "0", "1"]));
        assert!(
            s.contains(
                "  cyton::b::emulated\n    first difference: row 3 differs\n    and 1 more\n"
            ),
            "{s}"
        );
        assert!(
            s.contains("\n1 passed, 1 failed, 3 ignored in 3.0 s\n"),
            "{s}"
        );
        let verbose = summary(&results, Duration::from_secs(3), true);
        assert!(verbose.contains("cyton::a::device"), "{verbose}");
    }

    #[test]
    fn the_name_splits_into_board_scenario_target() {
        let r = result(
            "cyton_daisy::known_signal::brainflow_dropin",
            Status::Pass,
            "",
            &[],
        );
        assert_eq!(
            r.parts(),
            ("cyton_daisy", "known_signal", "brainflow_dropin")
        );
    }
}

//! The trial matrix: every scenario × every board it names × every target, with
//! unavailable targets decided at list time (ignored, with the reason).

use crate::binding::board;
use crate::brainflow::{find_dropin_python, find_python};
use crate::catalog::{discover_where, Entry};
use crate::rig::Rig;
use crate::run::Trial;
use crate::targets::PLANNERS;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};

/// What the matrix is built from.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The scenarios folder.
    pub scenarios: PathBuf,
    /// A rig for the `device` target, or why there is none.
    pub rig: Option<Result<Rig, String>>,
    /// Adapters (emulator, board) for the `bluez` target, or why it cannot
    /// run here (`None`: never planned).
    pub bluez: Option<Result<(String, String), String>>,
    /// Only these trials (`board::scenario::target`), loading only the
    /// scenarios they can come from; `None`: every trial.
    pub only: Option<Vec<String>>,
}

impl PlanOptions {
    /// From the environment: `BOARDLOOP_SCENARIOS`, `BOARDLOOP_RIG`,
    /// `BOARDLOOP_TRIALS` (trial names separated by spaces or commas: the
    /// lab VM's queue runs a few trials per process, and loading every
    /// scenario there took 20-35 s of each process's start).
    pub fn from_env() -> Self {
        PlanOptions {
            scenarios: crate::catalog::scenarios_dir(),
            rig: std::env::var_os("BOARDLOOP_RIG").map(|p| {
                let p = PathBuf::from(p);
                Rig::load(&p).map_err(|e| e.to_string())
            }),
            bluez: Some(crate::bluez_ble::adapters_from_env()),
            only: std::env::var("BOARDLOOP_TRIALS").ok().map(|v| {
                v.split([' ', ','])
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect()
            }),
        }
    }

    /// Whether the scenario file `path` (stem `stem` in folder `folder`) can
    /// give a trial [`PlanOptions::only`] names: its stem is the name's middle
    /// part and its board is the folder or named in the file (a scenario's
    /// `boards` default to its folder). A superset: [`plan`] keeps the exact
    /// names.
    fn may_give(&self, folder: &str, stem: &str, path: &Path) -> bool {
        let Some(only) = &self.only else {
            return true;
        };
        let mut text = None;
        only.iter().any(|n| {
            let mut parts = n.splitn(3, "::");
            let (Some(board), Some(s)) = (parts.next(), parts.next()) else {
                return false;
            };
            s == stem
                && (board == folder
                    || text
                        .get_or_insert_with(|| std::fs::read_to_string(path).unwrap_or_default())
                        .contains(board))
        })
    }
}

/// One entry of the matrix.
#[derive(Debug, Clone)]
pub struct Planned {
    /// `board::scenario::target`.
    pub name: String,
    /// What to run, unless the entry is a load error.
    pub trial: Result<Trial, String>,
    /// Why it cannot run here, if it cannot.
    pub ignored: Option<String>,
}

/// Where `ci/build-plugins.sh` puts the plugins: `BOARDLOOP_PLUGIN_DIR`, else
/// `$CARGO_TARGET_DIR/plugins`, else `<repo>/target/plugins`.
pub fn plugin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BOARDLOOP_PLUGIN_DIR") {
        return PathBuf::from(d);
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => PathBuf::from(t).join("plugins"),
        None => crate::catalog::repo_root().join("target/plugins"),
    }
}

/// The C++ plugin of harness board `board`, if its registry declaration
/// names one (only those boards get `cpp` trials).
pub fn cpp_plugin(board: &str) -> Option<PathBuf> {
    boardloop_boards::registry::by_name(board)
        .and_then(|d| d.cpp_plugin)
        .map(|lib| plugin_dir().join(lib))
}

/// What the targets plan from: the options, and what the BrainFlow targets
/// need, looked up once per plan and only if a scenario asks for it
/// (finding BrainFlow's Python runs an interpreter).
#[derive(Debug)]
pub struct Planning<'a> {
    /// The plan's options.
    pub opts: &'a PlanOptions,
    python: OnceCell<Result<PathBuf, String>>,
    dropin: OnceCell<Result<PathBuf, String>>,
}

impl<'a> Planning<'a> {
    /// Planning from `opts`; nothing looked up yet.
    pub fn new(opts: &'a PlanOptions) -> Self {
        Planning {
            opts,
            python: OnceCell::new(),
            dropin: OnceCell::new(),
        }
    }

    /// The Python that has BrainFlow (see [`find_python`]).
    pub fn python(&self) -> Result<PathBuf, String> {
        self.python.get_or_init(find_python).clone()
    }

    /// The drop-in venv's Python (see [`find_dropin_python`]).
    pub fn dropin_python(&self) -> Result<PathBuf, String> {
        self.dropin.get_or_init(find_dropin_python).clone()
    }
}

/// Builds the matrix: for each scenario and each board it names, the trial
/// of every target that applies, in the order of [`PLANNERS`].
pub fn plan(opts: &PlanOptions) -> Vec<Planned> {
    let entries = discover_where(&opts.scenarios, &|folder, stem, path| {
        opts.may_give(folder, stem, path)
    });
    let ctx = Planning::new(opts);
    let mut out = Vec::new();
    for Entry {
        folder,
        name,
        scenario,
        ..
    } in entries
    {
        let scenario = match scenario {
            Ok(s) => s,
            Err(e) => {
                out.push(Planned {
                    name: format!("{folder}::{name}::load"),
                    trial: Err(e.to_string()),
                    ignored: None,
                });
                continue;
            }
        };
        for bname in &scenario.decl.boards {
            let Some(b) = board(bname) else {
                out.push(Planned {
                    name: format!("{bname}::{name}::load"),
                    trial: Err(format!(
                        "{}: unknown board `{bname}` (see `boardloop boards`)",
                        crate::catalog::shown(&scenario.path)
                    )),
                    ignored: None,
                });
                continue;
            };
            for planner in PLANNERS {
                let Some(p) = planner(&ctx, &b, &scenario) else {
                    continue;
                };
                let t = Trial {
                    board: b.clone(),
                    scenario: scenario.clone(),
                    target: p.target,
                };
                let name = t.name();
                if opts.only.as_ref().is_some_and(|o| !o.contains(&name)) {
                    continue;
                }
                out.push(Planned {
                    name,
                    trial: Ok(t),
                    ignored: p.ignored,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(only: Option<Vec<String>>) -> Vec<String> {
        let opts = PlanOptions {
            scenarios: crate::catalog::repo_root().join("scenarios"),
            only,
            ..PlanOptions::default()
        };
        plan(&opts).into_iter().map(|p| p.name).collect()
    }

    /// `only` plans exactly the named trials, in the full plan's order, for
    /// a board sharing another's folder (ironbci32 in freeeeg32/) too.
    #[test]
    fn only_plans_exactly_the_named_trials() {
        let all = names(None);
        assert!(all.len() > 300, "{} trials", all.len());
        let mut picked: Vec<String> = all.iter().step_by(37).cloned().collect();
        picked.push("ironbci32::known_signal::emulated".into());
        let want: Vec<String> = all.iter().filter(|n| picked.contains(n)).cloned().collect();
        assert!(want.contains(&"ironbci32::known_signal::emulated".to_string()));
        picked.reverse();
        assert_eq!(names(Some(picked)), want);
        assert!(names(Some(vec!["cyton::no_such_scenario::emulated".into()])).is_empty());
    }
}

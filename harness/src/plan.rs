//! The trial matrix: every scenario × every board it names × every target, with
//! unavailable targets decided at list time (ignored, with the reason).

use crate::binding::board;
use crate::brainflow::{find_dropin_python, find_python};
use crate::catalog::{discover, Entry};
use crate::rig::{Rig, RigBoard};
use crate::run::{Target, Trial};
use std::path::PathBuf;

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
}

impl PlanOptions {
    /// From the environment: `BOARDLOOP_SCENARIOS`, `BOARDLOOP_RIG`.
    pub fn from_env() -> Self {
        PlanOptions {
            scenarios: crate::catalog::scenarios_dir(),
            rig: std::env::var_os("BOARDLOOP_RIG").map(|p| {
                let p = PathBuf::from(p);
                Rig::load(&p).map_err(|e| e.to_string())
            }),
            bluez: Some(crate::bluez_ble::adapters_from_env()),
        }
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
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/plugins"),
    }
}

/// The C++ plugin of harness board `board`, if its registry declaration
/// names one (only those boards get `cpp` trials).
pub fn cpp_plugin(board: &str) -> Option<PathBuf> {
    boardloop_boards::registry::by_name(board)
        .and_then(|d| d.cpp_plugin)
        .map(|lib| plugin_dir().join(lib))
}

/// The `device` trial of `t` (a `Target::Device`): the rig's entry for its
/// board, or why it cannot run here. The same for serial and BLE boards: a
/// rig names a port, or an address or name (and adapter).
fn device_trial(mut t: Trial, opts: &PlanOptions) -> Planned {
    let has_faults = !t.scenario.decl.faults.is_empty();
    let ble = t.scenario.profile.ble.is_some();
    let ignored = match &opts.rig {
        None => Some(
            "no rig: set BOARDLOOP_RIG=rig.yaml (or `boardloop run --rig rig.yaml`)".to_string(),
        ),
        Some(Err(e)) => Some(format!("rig file: {e}")),
        Some(Ok(rig)) => match rig.device_for(t.board.name, ble, &t.scenario.name, has_faults) {
            Ok(d) => {
                t.target = Target::Device { device: d.clone() };
                None
            }
            Err(why) => Some(why),
        },
    };
    Planned {
        name: t.name(),
        trial: Ok(t),
        ignored,
    }
}

/// Builds the matrix.
pub fn plan(opts: &PlanOptions) -> Vec<Planned> {
    let entries = discover(&opts.scenarios);
    let mut out = Vec::new();
    let mut python: Option<Result<PathBuf, String>> = None;
    let mut dropin: Option<Result<PathBuf, String>> = None;
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
                        scenario.path.display()
                    )),
                    ignored: None,
                });
                continue;
            };
            let mk = |target: Target| Trial {
                board: b.clone(),
                scenario: scenario.clone(),
                target,
            };
            if scenario.profile.ble.is_some() {
                // BLE devices: the in-memory link always; real BlueZ only where
                // two adapters and bluetoothd are reachable (the lab VM).
                let t = mk(Target::Memory);
                out.push(Planned {
                    name: t.name(),
                    trial: Ok(t),
                    ignored: None,
                });
                if let Some(bz) = &opts.bluez {
                    let (target, ignored) = match bz {
                        Ok((e, b)) => (
                            Target::Bluez {
                                emulator: e.clone(),
                                board: b.clone(),
                            },
                            None,
                        ),
                        Err(why) => (
                            Target::Bluez {
                                emulator: String::new(),
                                board: String::new(),
                            },
                            Some(why.clone()),
                        ),
                    };
                    let t = mk(target);
                    out.push(Planned {
                        name: t.name(),
                        trial: Ok(t),
                        ignored,
                    });
                    if scenario.decl.brainflow {
                        // BrainFlow's own native BLE driver, then BrainFlow's
                        // binding on our library, against the same device.
                        let own = python.get_or_insert_with(find_python).clone();
                        let ours = dropin.get_or_insert_with(find_dropin_python).clone();
                        for (py, dropin) in [(own, false), (ours, true)] {
                            let (python, emulator, board, ignored) = match (bz.clone(), py) {
                                (Ok((e, b)), Ok(p)) => (p, e, b, None),
                                (Err(why), _) | (_, Err(why)) => {
                                    (PathBuf::new(), String::new(), String::new(), Some(why))
                                }
                            };
                            let t = mk(if dropin {
                                Target::BrainflowDropinBluez {
                                    python,
                                    emulator,
                                    board,
                                }
                            } else {
                                Target::BrainflowBluez {
                                    python,
                                    emulator,
                                    board,
                                }
                            });
                            out.push(Planned {
                                name: t.name(),
                                trial: Ok(t),
                                ignored,
                            });
                        }
                    }
                }
                out.push(device_trial(
                    mk(Target::Device {
                        device: RigBoard::default(),
                    }),
                    opts,
                ));
                continue;
            }
            let t = mk(Target::Emulated);
            out.push(Planned {
                name: t.name(),
                trial: Ok(t),
                ignored: None,
            });
            if let Some(plugin) = cpp_plugin(bname) {
                let ignored = (!plugin.is_file()).then(|| {
                    format!(
                        "C++ plugin {} is not built: run `bash ci/build-plugins.sh` \
                         (CMake; output goes to $CARGO_TARGET_DIR/plugins)",
                        plugin.display()
                    )
                });
                let t = mk(Target::Cpp { plugin });
                out.push(Planned {
                    name: t.name(),
                    trial: Ok(t),
                    ignored,
                });
            }
            out.push(device_trial(
                mk(Target::Device {
                    device: RigBoard::default(),
                }),
                opts,
            ));
            if scenario.decl.brainflow {
                let py = python.get_or_insert_with(find_python).clone();
                let (python, ignored) = match py {
                    Ok(p) => (p, None),
                    Err(e) => (PathBuf::new(), Some(e)),
                };
                let t = mk(Target::Brainflow { python });
                out.push(Planned {
                    name: t.name(),
                    trial: Ok(t),
                    ignored,
                });
                let py = dropin.get_or_insert_with(find_dropin_python).clone();
                let (python, ignored) = match py {
                    Ok(p) => (p, None),
                    Err(e) => (PathBuf::new(), Some(e)),
                };
                let t = mk(Target::BrainflowDropin { python });
                out.push(Planned {
                    name: t.name(),
                    trial: Ok(t),
                    ignored,
                });
            }
        }
    }
    out
}

//! The replay targets: a scenario's steps against a recording of a device
//! (`boardloop record`), played back by [`ReplayEmulator`] on a
//! pseudo-terminal. A recording taken on a rig becomes a regression test that
//! needs no hardware: the host must send what it sent then (any deviation
//! fails the trial), and what it reads is held to the scenario's portable
//! checks.
//!
//! A BLE recording (`@transport ble`) is played on an in-memory peripheral
//! with the device profile's GATT table, which the recorded table must match,
//! and read by our driver through the in-memory link (`replay`); in the lab
//! VM also served by bluetoothd and read through btleplug (`replay_bluez`).
//!
//! Recordings live beside the scenarios they were taken with:
//! `scenarios/<board>/recordings/<scenario>.rec` (`replay`, `replay_bluez`:
//! our Rust driver) and `<scenario>.brainflow.rec` (`brainflow_replay` on a
//! pty, `brainflow_replay_bluez` through BlueZ: BrainFlow's own driver
//! through its Python binding): each host sends its own commands, so each
//! needs its own recording. BrainFlow's BLE sessions are recorded on the
//! device's side (`boardloop_emulators::record_ble`), since BrainFlow talks
//! to BlueZ itself.

use super::TargetPlan;
use super::{serial_board, Brainflow, Emulator, Library, Link, Planner, Session, TargetKind};
use crate::binding::BoardBinding;
use crate::brainflow::{Connect, PythonHost};
use crate::host::RustHost;
use crate::plan::Planning;
use crate::run::Trial;
use boardloop_boards::{InputParams, Preset};
use boardloop_emulators::replay::{ReplayEmulator, ReplayOptions};
use boardloop_emulators::replay_ble::BleReplay;
use boardloop_emulators::Scenario;
use std::path::PathBuf;
use std::sync::Arc;

/// Who reads the replayed device.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayHost {
    /// Our Rust driver, from the registry.
    Rust,
    /// BrainFlow's own driver through its Python binding (this Python).
    Brainflow(PathBuf),
    /// Our Rust driver through BlueZ (btleplug on `board`), the recording
    /// served by bluetoothd on `emulator` (a BLE recording; the lab VM).
    RustBluez {
        /// Adapter the recording is served on (e.g. `hci1`).
        emulator: String,
        /// Adapter the board connects from (e.g. `hci0`).
        board: String,
    },
    /// BrainFlow's own native BLE driver through its Python binding (this
    /// Python), on a BLE recording served by bluetoothd on `emulator`;
    /// BrainFlow (SimpleBLE) connects from the first adapter it lists.
    BrainflowBluez {
        /// The Python whose `brainflow` package is BrainFlow's own.
        python: PathBuf,
        /// Adapter the recording is served on (e.g. `hci1`).
        emulator: String,
        /// Adapter the host connects from (e.g. `hci0`).
        board: String,
    },
}

/// A recording played back as the device.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// The recording.
    pub recording: PathBuf,
    /// Who reads it.
    pub host: ReplayHost,
    /// Whether the scenario's exact checks hold on it: a recording of
    /// boardloop's emulator playing this scenario ([`plays_scenario`])
    /// carries the declared signal to the LSB, so the host reads from it
    /// what the scenario expects. A device's recording is held to the
    /// portable checks only.
    pub exact: bool,
}

/// The `@source` a recording of boardloop's emulator starts with (the
/// targets' `recording_for` writes it, then the scenario's path).
pub(super) const EMULATOR_SOURCE: &str = "boardloop's emulator playing ";

/// Whether `recording` is of boardloop's emulator playing `sc` (its
/// `@scenario`, `@profile` and the scenario file `@source` names), not of a
/// physical device. A recording that cannot be read is not: the replay
/// reports why when it loads it.
pub fn plays_scenario(recording: &std::path::Path, sc: &Scenario) -> bool {
    let Ok(rec) = boardloop_emulators::recording::Recording::load(recording) else {
        return false;
    };
    let file = |p: &std::path::Path| {
        let parent = p.parent().and_then(|d| d.file_name()).map(|d| d.to_owned());
        (parent, p.file_name().map(|f| f.to_owned()))
    };
    let source = rec
        .get("source")
        .and_then(|s| s.strip_prefix(EMULATOR_SOURCE));
    rec.get("scenario") == Some(sc.name.as_str())
        && rec.get("profile") == Some(sc.profile.decl.name.as_str())
        && source.is_some_and(|p| file(std::path::Path::new(p)) == file(&sc.path))
}

impl TargetKind for Replay {
    fn name(&self) -> &'static str {
        match self.host {
            ReplayHost::Rust => "replay",
            ReplayHost::Brainflow(_) => "brainflow_replay",
            ReplayHost::RustBluez { .. } => "replay_bluez",
            ReplayHost::BrainflowBluez { .. } => "brainflow_replay_bluez",
        }
    }

    fn skips_timing(&self) -> Option<String> {
        match self.host {
            ReplayHost::RustBluez { .. } | ReplayHost::BrainflowBluez { .. } => {
                Some(super::bluez::lab_timing())
            }
            _ => None,
        }
    }

    fn open(
        &self,
        trial: &Trial,
        params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        match &self.host {
            ReplayHost::RustBluez { emulator, board } => {
                return self.open_bluez(trial, params, emulator, board, None, log)
            }
            ReplayHost::BrainflowBluez {
                python,
                emulator,
                board,
            } => return self.open_bluez(trial, params, emulator, board, Some(python), log),
            _ => {}
        }
        if trial.scenario.profile.ble.is_some() {
            return self.open_ble(trial, params, log);
        }
        let emu = ReplayEmulator::load(&self.recording, ReplayOptions::default())
            .map_err(|e| format!("cannot replay: {e}"))?;
        let port = emu.path().display().to_string();
        log.push(format!("replaying {} on {port}", self.recording.display()));
        let host = match &self.host {
            ReplayHost::Rust => serial_board(trial, &port, params)?,
            ReplayHost::RustBluez { .. } | ReplayHost::BrainflowBluez { .. } => {
                unreachable!("a BLE recording, opened above")
            }
            ReplayHost::Brainflow(python) => {
                let started = PythonHost::start(python, None)
                    .map_err(|e| format!("cannot start BrainFlow: {e}"))?;
                Brainflow {
                    python: python.clone(),
                    library: Library::Own,
                    link: Link::Serial,
                }
                .host(started, trial, Connect::Serial(&port), log)?
            }
        };
        Ok(Session {
            host,
            emulator: Some(Emulator::Replay(emu)),
            guard: None,
        })
    }

    fn skips_exact(&self) -> Option<String> {
        if self.exact {
            return None;
        }
        Some(
            "replayed from a recording: the values are the recorded device's, held to the portable checks"
                .into(),
        )
    }

    fn withheld_rows(&self, board: &BoardBinding, preset: Preset) -> usize {
        match self.host {
            ReplayHost::Rust | ReplayHost::RustBluez { .. } => 0,
            ReplayHost::Brainflow(_) | ReplayHost::BrainflowBluez { .. } => {
                board.brainflow_withheld_rows[preset as usize]
            }
        }
    }

    fn reports_stats(&self) -> bool {
        !self.brainflow()
    }

    fn pins_spans(&self) -> bool {
        false
    }
}

impl Replay {
    /// Whether BrainFlow's own driver reads the replay (through its
    /// binding, which passes no decoder statistics through).
    fn brainflow(&self) -> bool {
        matches!(
            self.host,
            ReplayHost::Brainflow(_) | ReplayHost::BrainflowBluez { .. }
        )
    }

    /// A BLE recording: played on an in-memory peripheral with the
    /// profile's GATT table, reached by our driver through the in-memory
    /// link (as the `memory` target does).
    fn open_ble(
        &self,
        trial: &Trial,
        params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        let sc = &trial.scenario;
        let (Some(ble), Some(periph)) = (&sc.profile.ble, crate::memory_ble::peripheral(sc)) else {
            return Err(format!(
                "`{}` has no valid GATT table",
                sc.profile.decl.name
            ));
        };
        let adapter = Arc::new(crate::memory_ble::MemoryAdapter(periph.clone()));
        let emu = BleReplay::load(
            &self.recording,
            &sc.profile.decl.name,
            ble,
            adapter,
            ReplayOptions::default(),
        )
        .map_err(|e| format!("cannot replay: {e}"))?;
        let link = boardloop_boards::MemoryBle::new();
        link.add(&periph);
        log.push(format!(
            "replaying {} on memory peripheral {:?}",
            self.recording.display(),
            periph.info().name
        ));
        let emulator = Some(Emulator::BleReplay(emu));
        let board = crate::memory_ble::board(trial.board.id, link, params)
            .map_err(|e| format!("board `{}`: {e}", trial.board.name))?;
        Ok(Session {
            host: Box::new(RustHost(board)),
            emulator,
            guard: None,
        })
    }

    /// A BLE recording served by bluetoothd on `emulator`
    /// ([`crate::bluez_ble::serve_replay`]), read by our driver through
    /// btleplug on `board`, or by BrainFlow's own driver (its binding in
    /// `brainflow`, this Python) from the first adapter SimpleBLE lists.
    fn open_bluez(
        &self,
        trial: &Trial,
        params: &InputParams,
        emulator: &str,
        board: &str,
        brainflow: Option<&PathBuf>,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        let sc = &trial.scenario;
        // BrainFlow's Python imports BrainFlow while the device gets ready
        // (as the `brainflow_bluez` target does).
        let started = match brainflow {
            Some(python) => Some((
                python,
                PythonHost::start(python, Some(board))
                    .map_err(|e| format!("cannot start BrainFlow: {e}"))?,
            )),
            None => None,
        };
        let served = crate::bluez_ble::serve_replay(
            &self.recording,
            &sc.profile,
            emulator,
            Some(board),
            ReplayOptions::default(),
        )?;
        log.push(format!(
            "replaying {} as {:?} at {} on {emulator}, board on {board}",
            self.recording.display(),
            served.name,
            served.address
        ));
        // Declared in this order so that a failure below drops the replay
        // first, then the guard (see `bluez_ble::Guard`).
        let guard = served.guard;
        let replay = served.replay;
        let host: Box<dyn crate::host::Host> = match started {
            Some((python, started)) => {
                let connect = Connect::Mac {
                    address: &served.address,
                    adapter: board,
                };
                Brainflow {
                    python: python.clone(),
                    library: Library::Own,
                    link: Link::Bluez {
                        emulator: emulator.to_string(),
                        board: board.to_string(),
                    },
                }
                .host(started, trial, connect, log)?
            }
            None => Box::new(RustHost(
                crate::bluez_ble::board_on(
                    trial.board.id,
                    board,
                    params,
                    None,
                    sc.profile.ble.as_ref(),
                )
                .map_err(|e| format!("board `{}`: {e}", trial.board.name))?,
            )),
        };
        Ok(Session {
            host,
            emulator: Some(Emulator::BleReplay(replay)),
            guard: Some(Box::new(guard)),
        })
    }
}

/// The recording of `sc` on `board` for a host (`suffix`: `.brainflow` for
/// BrainFlow's own driver, empty for ours), if one was taken.
fn recording(ctx: &Planning, board: &BoardBinding, sc: &Scenario, suffix: &str) -> Option<PathBuf> {
    let p = ctx
        .opts
        .scenarios
        .join(board.name)
        .join("recordings")
        .join(format!("{}{suffix}.rec", sc.name));
    p.is_file().then_some(p)
}

/// The replay of `recording` of `sc` by `host`, ignored for a reason if
/// given; held to the exact checks where [`plays_scenario`] says so.
fn planned(
    recording: PathBuf,
    sc: &Scenario,
    host: ReplayHost,
    ignored: Option<String>,
) -> TargetPlan {
    let exact = plays_scenario(&recording, sc);
    TargetPlan::new(
        Replay {
            recording,
            host,
            exact,
        },
        ignored,
    )
}

/// `replay`: scenarios with a recording taken with our driver.
pub(super) const PLAN_RUST: Planner = |ctx, board, sc| {
    let recording = recording(ctx, board, sc, "")?;
    Some(planned(recording, sc, ReplayHost::Rust, None))
};

/// `replay_bluez`: BLE scenarios with a recording taken with our driver,
/// served through BlueZ where the plan was asked for BlueZ trials (ready
/// when the adapters are known, else ignored with the reason).
pub(super) const PLAN_BLUEZ: Planner = |ctx, board, sc| {
    sc.profile.ble.as_ref()?;
    let bluez = ctx.opts.bluez.as_ref()?;
    let recording = recording(ctx, board, sc, "")?;
    let ((emulator, board), ignored) = match bluez {
        Ok(adapters) => (adapters.clone(), None),
        Err(why) => (Default::default(), Some(why.clone())),
    };
    let host = ReplayHost::RustBluez { emulator, board };
    Some(planned(recording, sc, host, ignored))
};

/// `brainflow_replay`: serial scenarios with a recording taken with
/// BrainFlow's driver; ignored where BrainFlow's Python package is missing.
pub(super) const PLAN_BRAINFLOW: Planner = |ctx, board, sc| {
    if sc.profile.ble.is_some() {
        return None;
    }
    let recording = recording(ctx, board, sc, ".brainflow")?;
    let (python, ignored) = match ctx.python() {
        Ok(p) => (p, None),
        Err(e) => (PathBuf::new(), Some(e)),
    };
    Some(planned(
        recording,
        sc,
        ReplayHost::Brainflow(python),
        ignored,
    ))
};

/// `brainflow_replay_bluez`: BLE scenarios with a recording of BrainFlow's
/// own driver's session (taken on the device's side, `brainflow_bluez` with
/// `--record`), served through BlueZ where the plan was asked for BlueZ
/// trials; ignored with the reason where the adapters or BrainFlow's Python
/// package are missing.
pub(super) const PLAN_BRAINFLOW_BLUEZ: Planner = |ctx, board, sc| {
    sc.profile.ble.as_ref()?;
    let bluez = ctx.opts.bluez.clone()?;
    let recording = recording(ctx, board, sc, ".brainflow")?;
    let (host, ignored) = match (bluez, ctx.python()) {
        (Ok((emulator, board)), Ok(python)) => (
            ReplayHost::BrainflowBluez {
                python,
                emulator,
                board,
            },
            None,
        ),
        (Err(why), _) | (_, Err(why)) => (
            ReplayHost::BrainflowBluez {
                python: PathBuf::new(),
                emulator: String::new(),
                board: String::new(),
            },
            Some(why),
        ),
    };
    Some(planned(recording, sc, host, ignored))
};

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
//! `scenarios/<board>/recordings/<scenario>.rec` (`replay`, our Rust driver)
//! and `<scenario>.brainflow.rec` (`brainflow_replay`, BrainFlow's own driver
//! through its Python binding): each host sends its own commands, so each
//! needs its own recording.

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
}

/// A recording played back as the device.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// The recording.
    pub recording: PathBuf,
    /// Who reads it.
    pub host: ReplayHost,
}

impl TargetKind for Replay {
    fn name(&self) -> &'static str {
        match self.host {
            ReplayHost::Rust => "replay",
            ReplayHost::Brainflow(_) => "brainflow_replay",
            ReplayHost::RustBluez { .. } => "replay_bluez",
        }
    }

    fn skips_timing(&self) -> Option<String> {
        match self.host {
            ReplayHost::RustBluez { .. } => Some(super::bluez::lab_timing()),
            _ => None,
        }
    }

    fn open(
        &self,
        trial: &Trial,
        params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        if let ReplayHost::RustBluez { emulator, board } = &self.host {
            return self.open_bluez(trial, params, emulator, board, log);
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
            ReplayHost::RustBluez { .. } => unreachable!("a BLE recording"),
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
        Some(
            "replayed from a recording: the values are the recorded device's, held to the portable checks"
                .into(),
        )
    }

    fn withheld_rows(&self, board: &BoardBinding, preset: Preset) -> usize {
        match self.host {
            ReplayHost::Rust | ReplayHost::RustBluez { .. } => 0,
            ReplayHost::Brainflow(_) => board.brainflow_withheld_rows[preset as usize],
        }
    }

    fn reports_stats(&self) -> bool {
        !matches!(self.host, ReplayHost::Brainflow(_))
    }

    fn pins_spans(&self) -> bool {
        false
    }
}

impl Replay {
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
    /// btleplug on `board`.
    fn open_bluez(
        &self,
        trial: &Trial,
        params: &InputParams,
        emulator: &str,
        board: &str,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        let sc = &trial.scenario;
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
        let host = crate::bluez_ble::board_on(
            trial.board.id,
            board,
            params,
            None,
            sc.profile.ble.as_ref(),
        )
        .map_err(|e| format!("board `{}`: {e}", trial.board.name))?;
        Ok(Session {
            host: Box::new(RustHost(host)),
            emulator: Some(Emulator::BleReplay(served.replay)),
            guard: Some(Box::new(served.guard)),
        })
    }
}

/// The recording of `sc` on `board` for a host, if one was taken (BLE
/// recordings: our driver's only, over the in-memory link or BlueZ).
fn recording(ctx: &Planning, board: &BoardBinding, sc: &Scenario, suffix: &str) -> Option<PathBuf> {
    if sc.profile.ble.is_some() && !suffix.is_empty() {
        return None;
    }
    let p = ctx
        .opts
        .scenarios
        .join(board.name)
        .join("recordings")
        .join(format!("{}{suffix}.rec", sc.name));
    p.is_file().then_some(p)
}

/// `replay`: scenarios with a recording taken with our driver.
pub(super) const PLAN_RUST: Planner = |ctx, board, sc| {
    let recording = recording(ctx, board, sc, "")?;
    Some(TargetPlan::ready(Replay {
        recording,
        host: ReplayHost::Rust,
    }))
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
    Some(TargetPlan::new(Replay { recording, host }, ignored))
};

/// `brainflow_replay`: scenarios with a recording taken with BrainFlow's
/// driver; ignored where BrainFlow's Python package is missing.
pub(super) const PLAN_BRAINFLOW: Planner = |ctx, board, sc| {
    let recording = recording(ctx, board, sc, ".brainflow")?;
    let (python, ignored) = match ctx.python() {
        Ok(p) => (p, None),
        Err(e) => (PathBuf::new(), Some(e)),
    };
    Some(TargetPlan::new(
        Replay {
            recording,
            host: ReplayHost::Brainflow(python),
        },
        ignored,
    ))
};

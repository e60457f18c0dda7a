//! The replay targets: a scenario's steps against a recording of a device
//! (`boardloop record`), played back by [`ReplayEmulator`] on a
//! pseudo-terminal. A recording taken on a rig becomes a regression test that
//! needs no hardware: the host must send what it sent then (any deviation
//! fails the trial), and what it reads is held to the scenario's portable
//! checks.
//!
//! Recordings live beside the scenarios they were taken with:
//! `scenarios/<board>/recordings/<scenario>.rec` (`replay`, our Rust driver)
//! and `<scenario>.brainflow.rec` (`brainflow_replay`, BrainFlow's own driver
//! through its Python binding): each host sends its own commands, so each
//! needs its own recording.

use super::TargetPlan;
use super::{serial_board, Brainflow, Emulator, Library, Link, Planner, Session, TargetKind};
use crate::binding::BoardBinding;
use crate::brainflow::Connect;
use crate::plan::Planning;
use crate::run::Trial;
use boardloop_boards::{InputParams, Preset};
use boardloop_emulators::replay::{ReplayEmulator, ReplayOptions};
use boardloop_emulators::Scenario;
use std::path::PathBuf;

/// Who reads the replayed device.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayHost {
    /// Our Rust driver, from the registry.
    Rust,
    /// BrainFlow's own driver through its Python binding (this Python).
    Brainflow(PathBuf),
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
        }
    }

    fn open(
        &self,
        trial: &Trial,
        params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        let emu = ReplayEmulator::load(&self.recording, ReplayOptions::default())
            .map_err(|e| format!("cannot replay: {e}"))?;
        let port = emu.path().display().to_string();
        log.push(format!("replaying {} on {port}", self.recording.display()));
        let host = match &self.host {
            ReplayHost::Rust => serial_board(trial, &port, params)?,
            ReplayHost::Brainflow(python) => Brainflow {
                python: python.clone(),
                library: Library::Own,
                link: Link::Serial,
            }
            .host(trial, Connect::Serial(&port), log)?,
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
            ReplayHost::Rust => 0,
            ReplayHost::Brainflow(_) => board.brainflow_withheld_rows[preset as usize],
        }
    }

    fn reports_stats(&self) -> bool {
        self.host == ReplayHost::Rust
    }

    fn pins_spans(&self) -> bool {
        false
    }
}

/// The recording of `sc` on `board` for a host, if one was taken.
fn recording(ctx: &Planning, board: &BoardBinding, sc: &Scenario, suffix: &str) -> Option<PathBuf> {
    if sc.profile.ble.is_some() {
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

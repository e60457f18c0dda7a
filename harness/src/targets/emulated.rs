//! `emulated`: the built-in emulator on a pseudo-terminal, opened by the
//! Rust driver. Every serial scenario runs here; it needs nothing installed.

use super::{serial_board, serial_emulator, Emulator, Session, TargetKind, TargetPlan};
use crate::binding::BoardBinding;
use crate::plan::Planning;
use crate::run::Trial;
use boardloop_boards::InputParams;
use boardloop_emulators::Scenario;

/// The built-in emulator on a pseudo-terminal; the Rust driver opens it.
#[derive(Debug, Clone, PartialEq)]
pub struct Emulated;

impl TargetKind for Emulated {
    fn name(&self) -> &'static str {
        "emulated"
    }

    fn open(
        &self,
        trial: &Trial,
        params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        let (emu, port, recorder) = serial_emulator(trial, log)?;
        Ok(Session {
            host: serial_board(trial, &port, params)?,
            emulator: Some(Emulator::Serial(emu)),
            guard: recorder.map(|r| Box::new(r) as _),
        })
    }
}

/// Every serial scenario.
pub(super) fn plan(_: &Planning, _: &BoardBinding, sc: &Scenario) -> Option<TargetPlan> {
    sc.profile
        .ble
        .is_none()
        .then(|| TargetPlan::ready(Emulated))
}

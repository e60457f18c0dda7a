//! `bluez`: the built-in BLE emulator served by bluetoothd on one adapter,
//! the Rust BLE driver connecting through btleplug on another
//! (`crate::bluez_ble`). Runs only next to a real BlueZ with two adapters
//! (the lab VM, `bash ci/ble-test.sh`); elsewhere it is listed, ignored.

use super::{Emulator, Session, TargetKind, TargetPlan};
use crate::binding::BoardBinding;
use crate::host::RustHost;
use crate::plan::Planning;
use crate::run::Trial;
use boardloop_boards::InputParams;
use boardloop_emulators::Scenario;

/// The built-in BLE emulator served by BlueZ (bluer) on one adapter; the
/// Rust BLE driver connects through btleplug on another.
#[derive(Debug, Clone, PartialEq)]
pub struct Bluez {
    /// Adapter the emulated device is served on (e.g. `hci1`).
    pub emulator: String,
    /// Adapter the board connects from (e.g. `hci0`).
    pub board: String,
}

impl TargetKind for Bluez {
    /// The lab VM runs bluetoothd, btvirt and the emulated device under
    /// software emulation, which delivers notifications late: 1-s streams of
    /// the Ganglion and the Muse 2 measured 8-10 % below their rate there
    /// (so the rate says nothing about the device; the memory link keeps time).
    fn skips_timing(&self) -> Option<String> {
        Some(lab_timing())
    }

    fn name(&self) -> &'static str {
        "bluez"
    }

    fn open(
        &self,
        trial: &Trial,
        params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        let st = crate::bluez_ble::start(
            &trial.scenario,
            trial.board.id,
            &self.emulator,
            &self.board,
            params,
            super::recording_for(trial, log)?,
        )?;
        log.push(st.log);
        Ok(Session {
            host: Box::new(RustHost(st.board)),
            emulator: Some(Emulator::Ble(st.emulator)),
            guard: Some(Box::new(st.guard)),
        })
    }
}

/// Why a device served by BlueZ in the lab VM says nothing of the stream's
/// timing, for every target that serves one there.
pub(super) fn lab_timing() -> String {
    "an emulated device on BlueZ in the lab VM: software emulation delivers its \
     notifications late (1-s streams measured 8-10 % below their rate)"
        .into()
}

/// BLE scenarios, where the plan was asked for BlueZ trials: ready when the
/// adapters are known, else ignored with the reason.
pub(super) fn plan(ctx: &Planning, _: &BoardBinding, sc: &Scenario) -> Option<TargetPlan> {
    let bluez = ctx
        .opts
        .bluez
        .as_ref()
        .filter(|_| sc.profile.ble.is_some())?;
    Some(match bluez {
        Ok((e, b)) => TargetPlan::ready(Bluez {
            emulator: e.clone(),
            board: b.clone(),
        }),
        Err(why) => TargetPlan::new(
            Bluez {
                emulator: String::new(),
                board: String::new(),
            },
            Some(why.clone()),
        ),
    })
}

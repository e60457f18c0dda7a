//! `memory`: the built-in BLE emulator on an in-memory GATT peripheral
//! (`crate::memory_ble`), reached by the Rust BLE driver through the
//! in-memory link. Every BLE scenario runs here, with no radio and no BlueZ.

use super::{Emulator, Session, TargetKind, TargetPlan};
use crate::binding::BoardBinding;
use crate::host::RustHost;
use crate::plan::Planning;
use crate::run::Trial;
use boardloop_boards::InputParams;
use boardloop_emulators::{BleEmulator, BleOptions, Scenario};
use std::sync::Arc;

/// The built-in BLE emulator on an in-memory GATT peripheral; the Rust BLE
/// driver connects through the in-memory link.
#[derive(Debug, Clone, PartialEq)]
pub struct Memory;

impl TargetKind for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn open(
        &self,
        trial: &Trial,
        params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        let sc = &trial.scenario;
        let Some(periph) = crate::memory_ble::peripheral(sc) else {
            return Err(format!(
                "`{}` has no valid GATT table",
                sc.profile.decl.name
            ));
        };
        let adapter = Arc::new(crate::memory_ble::MemoryAdapter(periph.clone()));
        let emu = BleEmulator::spawn(sc, adapter, BleOptions::default())
            .map_err(|e| format!("cannot start the BLE emulator: {e}"))?;
        let ble = boardloop_boards::MemoryBle::new();
        let (b, p) = (ble.clone(), periph.clone());
        // The device comes into range now, or as late as the scenario's
        // `advertise_after_ms` fault says.
        let advertising = crate::advertise::advertise(sc, move || {
            b.add(&p);
            Ok(())
        })?;
        // Declared after the advertisement: a failure below stops the
        // emulator first, as the end of a trial does.
        let emulator = Some(Emulator::Ble(emu));
        log.push(format!("memory peripheral {:?}", periph.info().name));
        let connector = crate::ble_record::RecordingConnector::wrap(
            Box::new(ble),
            super::recording_for(trial, log)?,
            sc.profile.ble.as_ref(),
        );
        match crate::memory_ble::board_on(trial.board.id, connector, params) {
            Ok(b) => Ok(Session {
                host: Box::new(RustHost(b)),
                emulator,
                guard: Some(Box::new(advertising)),
            }),
            Err(e) => Err(format!("board `{}`: {e}", trial.board.name)),
        }
    }
}

/// Every BLE scenario.
pub(super) fn plan(_: &Planning, _: &BoardBinding, sc: &Scenario) -> Option<TargetPlan> {
    sc.profile.ble.is_some().then(|| TargetPlan::ready(Memory))
}

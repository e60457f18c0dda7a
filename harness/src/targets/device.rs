//! `device`: a device on a lab rig (or an external `boardloop emulate`),
//! found through the rig file. No emulator of ours stands behind it, so
//! only what the host sees is checked.

use super::{recorded_port, serial_board, Session, TargetKind, TargetPlan};
use crate::binding::BoardBinding;
use crate::ble_record::RecordingConnector;
use crate::host::RustHost;
use crate::plan::Planning;
use crate::rig::RigBoard;
use crate::run::Trial;
use boardloop_boards::registry::{self, Connection};
use boardloop_boards::InputParams;
use boardloop_emulators::Scenario;

/// A device on a lab rig (or an external `boardloop emulate`): a serial
/// port, or a BLE device found by address or name, opened through the same
/// registry path a user takes (`boardloop_bluez::create_board`).
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// The rig's entry for the board.
    pub device: RigBoard,
    /// Whether the rig lists the scenario (the device is a `boardloop
    /// emulate` process playing it); if not, the device is taken for a
    /// physical one and only the scenario's portable checks apply.
    pub listed: bool,
}

impl TargetKind for Device {
    fn name(&self) -> &'static str {
        "device"
    }

    fn skips_exact(&self) -> Option<String> {
        (!self.listed).then(|| {
            "the rig does not list the scenario, so the device is taken for a physical one"
                .to_string()
        })
    }

    fn open(
        &self,
        trial: &Trial,
        params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        let device = &self.device;
        // Held until the trial is over (the session's guard): two trials
        // never share one device (`device_lock`).
        let lock = crate::device_lock::acquire(device, &trial.name(), log)?;
        let mut recorder = None;
        // The scenario's profile says what the device is, as for the plan.
        let host = if trial.scenario.profile.ble.is_some() {
            // A BLE device on a rig: BrainFlow's params, as a user gives them.
            let params = InputParams {
                mac_address: device.mac_address.clone().unwrap_or_default(),
                serial_number: device.name.clone().unwrap_or_default(),
                ..params.clone()
            };
            log.push(format!("device {}", device.describe()));
            let connector = RecordingConnector::wrap(
                boardloop_bluez::connector(device.adapter.clone()),
                super::recording_for(trial, log)?,
                trial.scenario.profile.ble.as_ref(),
            );
            let link = Connection::Ble(connector);
            match registry::create_board_on(trial.board.id, &params, link) {
                Ok(b) => Box::new(RustHost(b)),
                Err(e) => return Err(format!("cannot create the board: {e}")),
            }
        } else {
            let port = device.serial_port.clone().unwrap_or_default();
            log.push(format!("port {port}"));
            let (port, proxy) = recorded_port(trial, port, log)?;
            recorder = proxy;
            serial_board(trial, &port, params)?
        };
        Ok(Session {
            host,
            emulator: None,
            // The recorder goes first: its last transfer is in before the
            // device is free for the next trial.
            guard: Some(Box::new((recorder, lock))),
        })
    }
}

/// Every scenario, serial and BLE alike: a rig names a port, or an address
/// or name (and adapter). Ignored without a rig, or when the rig has no
/// device for it or leaves the scenario out.
pub(super) fn plan(ctx: &Planning, board: &BoardBinding, sc: &Scenario) -> Option<TargetPlan> {
    let has_faults = !sc.decl.faults.is_empty();
    let portable = sc.decl.expect.portable.is_some();
    let ble = sc.profile.ble.is_some();
    let (device, listed, ignored) = match &ctx.opts.rig {
        None => (
            RigBoard::default(),
            false,
            Some(
                "no rig: set BOARDLOOP_RIG=rig.yaml (or `boardloop run --rig rig.yaml`)"
                    .to_string(),
            ),
        ),
        Some(Err(e)) => (RigBoard::default(), false, Some(format!("rig file: {e}"))),
        Some(Ok(rig)) => match rig.device_for(board.name, ble, &sc.name, has_faults, portable) {
            Ok((d, listed)) => (d.clone(), listed, None),
            Err(why) => (RigBoard::default(), false, Some(why)),
        },
    };
    Some(TargetPlan::new(Device { device, listed }, ignored))
}

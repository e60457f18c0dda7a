//! The BrainFlow targets: the built-in emulator read through BrainFlow's
//! Python binding (`ci/brainflow_host.py`, run by [`PythonHost`]), over a
//! pseudo-terminal for serial boards or over BlueZ for BLE ones. Behind the
//! binding is BrainFlow's own `libBoardController.so` (`brainflow`,
//! `brainflow_bluez`: the reference we are compared with) or ours in its
//! place (`brainflow_dropin`, `brainflow_dropin_bluez`: the drop-in proof,
//! the venv of `ci/make-dropin-venv.sh`). All four set up alike; they differ
//! only in what the library behind the binding does.

use super::{serial_emulator, Emulator, Planner, Session, TargetKind, TargetPlan};
use crate::binding::BoardBinding;
use crate::brainflow::{Connect, PythonHost};
use crate::host::Host;
use crate::plan::Planning;
use crate::run::Trial;
use boardloop_boards::{BoardId, InputParams, Preset};
use boardloop_emulators::Scenario;
use std::path::PathBuf;

/// Whose `libBoardController.so` BrainFlow's binding loads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Library {
    /// BrainFlow's own (the `brainflow` package).
    Own,
    /// Ours, in its place (the drop-in venv).
    Ours,
}

/// How a BrainFlow host reaches the emulated device.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// The serial emulator's pseudo-terminal (BrainFlow's `serial_port`).
    Serial,
    /// The BLE emulator served by BlueZ (bluer) on one adapter, found by
    /// `mac_address` from the other.
    Bluez {
        /// Adapter the emulated device is served on (e.g. `hci1`).
        emulator: String,
        /// The adapter BrainFlow connects from (e.g. `hci0`); BrainFlow's
        /// own SimpleBLE ignores it and uses the first adapter it lists,
        /// ours connects from it through btleplug.
        board: String,
    },
}

/// The built-in emulator read through BrainFlow's Python binding.
#[derive(Debug, Clone, PartialEq)]
pub struct Brainflow {
    /// The Python interpreter whose `brainflow` loads `library`.
    pub python: PathBuf,
    /// Whose library the binding loads.
    pub library: Library,
    /// How it reaches the device.
    pub link: Link,
}

impl TargetKind for Brainflow {
    fn name(&self) -> &'static str {
        match (self.library, &self.link) {
            (Library::Own, Link::Serial) => "brainflow",
            (Library::Own, Link::Bluez { .. }) => "brainflow_bluez",
            (Library::Ours, Link::Serial) => "brainflow_dropin",
            (Library::Ours, Link::Bluez { .. }) => "brainflow_dropin_bluez",
        }
    }

    fn open(
        &self,
        trial: &Trial,
        _params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        let sc = &trial.scenario;
        // BrainFlow's Python starts first and imports BrainFlow while the
        // device gets ready (tens of seconds of a BLE trial's set-up in the
        // lab VM were that import).
        let adapter = match &self.link {
            Link::Serial => None,
            Link::Bluez { board, .. } => Some(board.as_str()),
        };
        let started = PythonHost::start(&self.python, adapter)
            .map_err(|e| format!("cannot start BrainFlow: {e}"))?;
        match &self.link {
            Link::Serial => {
                let (emu, port, recorder) = serial_emulator(trial, log)?;
                Ok(Session {
                    host: self.host(started, trial, Connect::Serial(&port), log)?,
                    emulator: Some(Emulator::Serial(emu)),
                    guard: recorder.map(|r| Box::new(r) as _),
                })
            }
            Link::Bluez { emulator, board } => {
                // BrainFlow's own driver talks to BlueZ itself: its session
                // is recorded on the device's side.
                let record = super::recording_for(trial, log)?;
                let served = crate::bluez_ble::serve(sc, emulator, board, record)?;
                log.push(served.log);
                // Declared in this order so that a failure below drops the
                // emulator first, then the guard (see `bluez_ble::Guard`).
                let guard = served.guard;
                let emulator = Some(Emulator::Ble(served.emulator));
                let connect = Connect::Mac {
                    address: &served.address,
                    adapter: board,
                };
                Ok(Session {
                    host: self.host(started, trial, connect, log)?,
                    emulator,
                    guard: Some(Box::new(guard)),
                })
            }
        }
    }

    /// Only BrainFlow's own drivers keep rows back; ours deliver them all.
    fn withheld_rows(&self, board: &BoardBinding, preset: Preset) -> usize {
        match self.library {
            Library::Own => board.brainflow_withheld_rows[preset as usize],
            Library::Ours => 0,
        }
    }

    /// BrainFlow's own driver's bug, where a board declares one.
    fn command_overrun(&self, board: &BoardBinding) -> usize {
        match self.library {
            Library::Own => board.decl.brainflow_command_overrun,
            Library::Ours => 0,
        }
    }

    /// The binding passes no statistics through.
    fn reports_stats(&self) -> bool {
        false
    }

    /// The binding's host is not held to the emulator's packets.
    fn pins_spans(&self) -> bool {
        false
    }
}

impl Brainflow {
    /// BrainFlow's binding (`h`, started) on the device, proven to have
    /// loaded the expected library.
    pub(super) fn host(
        &self,
        mut h: PythonHost,
        trial: &Trial,
        connect: Connect,
        log: &mut Vec<String>,
    ) -> Result<Box<dyn Host>, String> {
        let sc = &trial.scenario;
        h.open(
            trial.board.id as i32,
            connect,
            sc.decl.timeout,
            &sc.decl.other_info,
        )
        .map_err(|e| format!("cannot start BrainFlow: {e}"))?;
        // Ours reports this workspace's version, BrainFlow's its own.
        let ours = env!("CARGO_PKG_VERSION");
        let dropin = self.library == Library::Ours;
        match h.version() {
            Ok(v) if (v == ours) == dropin => log.push(format!("libBoardController {v}")),
            Ok(v) => {
                return Err(format!(
                    "BrainFlow loaded libBoardController {v}, expected {} ({ours})",
                    if dropin {
                        "ours"
                    } else {
                        "BrainFlow's own, not ours"
                    }
                ))
            }
            Err(e) => return Err(format!("BoardShim.get_version failed: {e}")),
        }
        Ok(Box::new(h))
    }
}

// One planner per trial name: PLANNERS lists the BLE ones before `device`
// and the serial ones after it, as the trial order has them.

/// BLE scenarios that BrainFlow supports (`brainflow: true`), where the plan
/// was asked for BlueZ trials, on BrainFlow's own library.
pub(super) const PLAN_BLUEZ: Planner = |ctx, b, sc| plan(ctx, b, sc, Library::Own, true);
/// As [`PLAN_BLUEZ`], on our library.
pub(super) const PLAN_DROPIN_BLUEZ: Planner = |ctx, b, sc| plan(ctx, b, sc, Library::Ours, true);
/// Serial scenarios that BrainFlow supports, on BrainFlow's own library.
pub(super) const PLAN_SERIAL: Planner = |ctx, b, sc| plan(ctx, b, sc, Library::Own, false);
/// As [`PLAN_SERIAL`], on our library.
pub(super) const PLAN_DROPIN_SERIAL: Planner = |ctx, b, sc| plan(ctx, b, sc, Library::Ours, false);

/// BrainFlow 5.23's native BLE drivers that list a device's services right
/// after connecting: their wait for SimpleBLE issue #26 (1 s) sits in the
/// branch where no device was found (`ganglion_native.cpp` l.165,
/// `brainalive.cpp` l.136, `aavaa_v3.cpp` l.149; brainflow 9097190c), where
/// the Muse driver waits after connecting (`muse.cpp` l.190). Over BlueZ 5.66
/// in the lab VM the central's bluetoothd takes about 1.3 s to export the
/// services; SimpleBLE asks it for `ServicesResolved` meanwhile, the reply
/// emits that property before the services (`bluez/src/links.rs`), and the
/// driver returns STATUS_OK from `prepare_session` without its
/// characteristics: `start_stream` then fails with BOARD_NOT_CREATED_ERROR.
/// Measured: 3 of 5 Ganglion trials back to back on 24b4c16, 4 of 10 on this
/// code, and in a full CI rehearsal the Ganglion's and BrainAlive's trials
/// both. Their `brainflow_bluez` trials are listed ignored with this reason
/// (`BOARDLOOP_BRAINFLOW_DEFECTS=run` runs them anyway); the drop-in trials,
/// our library behind BrainFlow's binding, run.
const BRAINFLOW_BLUEZ_DEFECTS: [BoardId; 3] = [
    BoardId::GanglionNative,
    BoardId::BrainAlive,
    BoardId::AavaaV3,
];

/// Why `board`'s BrainFlow driver cannot be trusted over the lab's BlueZ, if
/// it cannot (see [`BRAINFLOW_BLUEZ_DEFECTS`]).
fn brainflow_bluez_defect(board: &BoardBinding) -> Option<String> {
    if !BRAINFLOW_BLUEZ_DEFECTS.contains(&board.id)
        || std::env::var("BOARDLOOP_BRAINFLOW_DEFECTS").as_deref() == Ok("run")
    {
        return None;
    }
    Some(
        "BrainFlow 5.23's driver lists services right after connecting (its SimpleBLE #26 wait \
         is in the not-found branch), and over the lab's BlueZ it prepares without its \
         characteristics in about one trial in three (README, conventions; \
         BOARDLOOP_BRAINFLOW_DEFECTS=run runs it)"
            .into(),
    )
}

/// The BrainFlow trial of `sc` on `library`, over BlueZ (`bluez`) or
/// serial, and why it cannot run here; `None` where it does not apply. The
/// Python is looked up only then: finding it runs an interpreter.
fn plan(
    ctx: &Planning,
    board: &BoardBinding,
    sc: &Scenario,
    library: Library,
    bluez: bool,
) -> Option<TargetPlan> {
    if !sc.decl.brainflow || sc.profile.ble.is_some() != bluez {
        return None;
    }
    let python = || match library {
        Library::Own => ctx.python(),
        Library::Ours => ctx.dropin_python(),
    };
    let (python, link, ignored) = if !bluez {
        match python() {
            Ok(p) => (p, Link::Serial, None),
            Err(e) => (PathBuf::new(), Link::Serial, Some(e)),
        }
    } else {
        let adapters = ctx.opts.bluez.clone()?;
        // A driver with a known defect is listed ignored with it, its Python
        // not looked up.
        let defect = match library {
            Library::Own => brainflow_bluez_defect(board),
            Library::Ours => None,
        };
        match (adapters, defect.map_or_else(python, Err)) {
            (Ok((emulator, board)), Ok(p)) => (p, Link::Bluez { emulator, board }, None),
            (Err(why), _) | (_, Err(why)) => (
                PathBuf::new(),
                Link::Bluez {
                    emulator: String::new(),
                    board: String::new(),
                },
                Some(why),
            ),
        }
    };
    let target = Brainflow {
        python,
        library,
        link,
    };
    Some(TargetPlan::new(target, ignored))
}

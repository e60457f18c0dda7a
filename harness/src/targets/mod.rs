//! Targets: where the board under test meets its device. Each kind of target
//! is one type in its own file, behind [`TargetKind`]; [`PLANNERS`] lists
//! them, and its order is the order of a board's trials in every listing.
//!
//! Adding a target: a file with a type that implements [`TargetKind`] and a
//! [`Planner`] that says which trials it takes, then its `mod` line and its
//! planner in [`PLANNERS`]. Nothing else names a target.

mod bluez;
mod brainflow;
mod cpp;
mod device;
mod emulated;
mod memory;
mod replay;

pub use bluez::Bluez;
pub use brainflow::{Brainflow, Library, Link};
pub use cpp::Cpp;
pub use device::Device;
pub use emulated::Emulated;
pub use memory::{Memory, RECORD_ENV};
pub use replay::{Replay, ReplayHost};

use crate::binding::BoardBinding;
use crate::host::{Host, RustHost};
use crate::plan::Planning;
use crate::run::Trial;
use boardloop_boards::{create_board, InputParams, Preset};
use boardloop_emulators::device::CommandRecord;
use boardloop_emulators::replay::ReplayEmulator;
use boardloop_emulators::replay::ReplayStats;
use boardloop_emulators::replay_ble::BleReplay;
use boardloop_emulators::state::State;
use boardloop_emulators::{BleEmulator, Scenario, SerialEmulator, SerialOptions};
use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

/// One kind of target. The trial flow (play, collect, verify) is the same
/// for all of them; what differs is how the device and the host are set up
/// ([`TargetKind::open`]) and a few properties of the driver behind the host,
/// whose defaults fit a Rust board read against the built-in emulator.
pub trait TargetKind: Debug + Send + Sync {
    /// The last part of a trial name (`board::scenario::target`); CI scripts
    /// select trials by it, so it never changes.
    fn name(&self) -> &'static str;

    /// Starts the device (if the target has an emulator) and builds the host
    /// on it, logging what was set up; `params` carry the scenario's timeout.
    /// The error is the trial's failure.
    fn open(
        &self,
        trial: &Trial,
        params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String>;

    /// Rows of `preset` per stream that this target's driver keeps back by
    /// design (see [`BoardBinding::brainflow_withheld_rows`]).
    fn withheld_rows(&self, _board: &BoardBinding, _preset: Preset) -> usize {
        0
    }

    /// Whether the driver reports decoder statistics; when it does not
    /// (BrainFlow's binding), their expectations are not checked, while its
    /// data still is.
    fn reports_stats(&self) -> bool {
        true
    }

    /// Why the scenario's exact checks (those its `expect.portable` does not
    /// name) cannot hold here, if they cannot: then each is skipped and
    /// listed with this reason, never silently. Our emulators play the
    /// declared signal to the LSB, so by default they all hold.
    fn skips_exact(&self) -> Option<String> {
        None
    }

    /// Why the stream's timing (`expect.stream`: rate, jitter, gaps) says
    /// nothing about the device here, if it does not: the check is then
    /// skipped and listed with this reason, never silently.
    fn skips_timing(&self) -> Option<String> {
        None
    }

    /// Whether the emulator's command records may pin the state spans to the
    /// packets the commands took effect at (see
    /// [`crate::check::StateSpan::device_packet`]). That needs the host's
    /// rows to follow the emulator's packets one for one from the first;
    /// BrainFlow's drivers are not held to it, so they keep row-based
    /// settling.
    fn pins_spans(&self) -> bool {
        true
    }
}

/// What [`TargetKind::open`] set up for one trial.
pub struct Session {
    /// The host that drives the board under test.
    pub host: Box<dyn Host>,
    /// The emulator playing the device, unless the device is real.
    pub emulator: Option<Emulator>,
    /// Held until the emulator is gone, then dropped (a pending late
    /// advertisement, or BlueZ links to cut and devices to forget, which
    /// only works once the emulator has let go of the peripheral).
    pub guard: Option<Box<dyn Any>>,
}

/// The emulator behind a trial.
pub enum Emulator {
    /// The serial emulator on a pseudo-terminal.
    Serial(SerialEmulator),
    /// The BLE emulator on a peripheral (in memory, or served by BlueZ).
    Ble(BleEmulator),
    /// A recording played back as the device: it knows no commands nor
    /// state, only where the host deviated from the recording.
    Replay(ReplayEmulator),
    /// A BLE recording played back on a peripheral (as [`Emulator::Replay`]).
    BleReplay(BleReplay),
}

impl Emulator {
    /// The commands the device received, each with when it took effect.
    pub fn commands(&self) -> Vec<CommandRecord> {
        match self {
            Emulator::Serial(e) => e.commands(),
            Emulator::Ble(e) => e.commands(),
            Emulator::Replay(_) | Emulator::BleReplay(_) => Vec::new(),
        }
    }
    /// The device's state now.
    pub fn state(&self) -> State {
        match self {
            Emulator::Serial(e) => e.state(),
            Emulator::Ble(e) => e.state(),
            Emulator::Replay(_) | Emulator::BleReplay(_) => State::default(),
        }
    }
    /// What went over the link, for failure artifacts.
    pub fn transcript(&self) -> String {
        match self {
            Emulator::Serial(e) => e.transcript(),
            Emulator::Ble(e) => e.transcript(),
            Emulator::Replay(e) => e.summary(),
            Emulator::BleReplay(e) => e.summary(),
        }
    }
    /// Waits until the device has handled everything the host sent.
    pub fn settle(&self) {
        match self {
            Emulator::Serial(e) => e.settle(),
            Emulator::Ble(e) => e.settle(),
            Emulator::Replay(_) => {}
            Emulator::BleReplay(e) => e.settle(),
        }
    }
    /// Why the emulator stopped, if it failed (the serial one can), or
    /// where the host deviated from the recording (a replay).
    pub fn error(&self) -> Option<String> {
        match self {
            Emulator::Serial(e) => e.error(),
            Emulator::Ble(_) => None,
            Emulator::Replay(e) => replay_error(e.stats()),
            Emulator::BleReplay(e) => replay_error(e.stats()),
        }
    }

    /// Whether the emulator records the commands it took and when (a
    /// replay does not: its commands are the recording's).
    pub fn records_commands(&self) -> bool {
        !matches!(self, Emulator::Replay(_) | Emulator::BleReplay(_))
    }
}

/// A replay's error and deviations, as one message.
fn replay_error(s: ReplayStats) -> Option<String> {
    let mut all: Vec<String> = s.error.into_iter().collect();
    all.extend(
        s.deviations
            .iter()
            .map(|d| format!("the host deviated: {d}")),
    );
    (!all.is_empty()).then(|| all.join("; "))
}

/// A target as planned for one board and scenario.
#[derive(Debug, Clone)]
pub struct TargetPlan {
    /// The target.
    pub target: Arc<dyn TargetKind>,
    /// Why it cannot run here, if it cannot (the trial is listed, ignored).
    pub ignored: Option<String>,
}

impl TargetPlan {
    /// A target that can run here.
    pub fn ready(target: impl TargetKind + 'static) -> Self {
        TargetPlan::new(target, None)
    }
    /// A target listed, and ignored with the reason when there is one.
    pub fn new(target: impl TargetKind + 'static, ignored: Option<String>) -> Self {
        TargetPlan {
            target: Arc::new(target),
            ignored,
        }
    }
}

/// Which trial a kind of target takes of a board and scenario: `None` when
/// it does not apply to them (not even as an ignored trial).
pub type Planner = fn(&Planning, &BoardBinding, &Scenario) -> Option<TargetPlan>;

/// Every kind of target, in the order of a board's trials in the plan (and
/// so in `--list`, which CI cuts into steps). BLE scenarios take the first
/// four and `device`, serial ones the rest.
pub const PLANNERS: &[Planner] = &[
    memory::plan,
    bluez::plan,
    brainflow::PLAN_BLUEZ,
    brainflow::PLAN_DROPIN_BLUEZ,
    emulated::plan,
    cpp::plan,
    device::plan,
    brainflow::PLAN_SERIAL,
    brainflow::PLAN_DROPIN_SERIAL,
    replay::PLAN_RUST,
    replay::PLAN_BRAINFLOW,
];

/// The built-in serial emulator for `sc` on a new pseudo-terminal, and the
/// port's path (logged: a failed trial's log says where it ran).
fn serial_emulator(
    sc: &Scenario,
    log: &mut Vec<String>,
) -> Result<(SerialEmulator, String), String> {
    let emu = SerialEmulator::spawn(sc, SerialOptions::default())
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let port = emu.path().display().to_string();
    log.push(format!("port {port}"));
    Ok((emu, port))
}

/// The Rust serial board of `trial` on `port`, built by the registry as a
/// user's `create_board` builds it.
fn serial_board(trial: &Trial, port: &str, params: &InputParams) -> Result<Box<dyn Host>, String> {
    let params = InputParams {
        serial_port: port.to_string(),
        ..params.clone()
    };
    match create_board(trial.board.id, params) {
        Ok(b) => Ok(Box::new(RustHost(b))),
        Err(e) => Err(format!("cannot create the board: {e}")),
    }
}

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
pub use memory::Memory;
pub use replay::{plays_scenario, Replay, ReplayHost};

use crate::binding::BoardBinding;
use crate::catalog::shown;
use crate::host::{Host, RustHost};
use crate::plan::Planning;
use crate::run::Trial;
use boardloop_boards::{create_board, InputParams, Preset};
use boardloop_emulators::device::CommandRecord;
use boardloop_emulators::record::RecordProxy;
use boardloop_emulators::replay::ReplayEmulator;
use boardloop_emulators::replay::ReplayStats;
use boardloop_emulators::replay_ble::BleReplay;
use boardloop_emulators::state::State;
use boardloop_emulators::{BleEmulator, Scenario, SerialEmulator, SerialOptions};
use std::any::Any;
use std::fmt::Debug;
use std::path::PathBuf;
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

    /// Bytes this target's driver writes past each command, which the device
    /// refuses (see `BoardDecl::brainflow_command_overrun`).
    fn command_overrun(&self, _board: &BoardBinding) -> usize {
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
    replay::PLAN_BLUEZ,
    replay::PLAN_BRAINFLOW,
    replay::PLAN_BRAINFLOW_BLUEZ,
];

/// The built-in serial emulator for the trial's scenario on a new
/// pseudo-terminal, and the port the host opens (logged: a failed trial's
/// log says where it ran), with its recorder when `BOARDLOOP_RECORD` asks
/// for one (see [`recorded_port`]).
fn serial_emulator(
    trial: &Trial,
    log: &mut Vec<String>,
) -> Result<(SerialEmulator, String, Option<RecordProxy>), String> {
    let emu = SerialEmulator::spawn(&trial.scenario, SerialOptions::default())
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let port = emu.path().display().to_string();
    log.push(format!("port {port}"));
    let (port, proxy) = recorded_port(trial, port, log)?;
    Ok((emu, port, proxy))
}

/// A recording's `@key value` header lines.
pub(crate) type Header = Vec<(String, String)>;

/// Where `BOARDLOOP_RECORD=DIR` (`boardloop run --record DIR`) records a
/// trial's link, with the recording's header; `None` when it is not set:
/// `DIR/<board>/recordings/<scenario>.rec` for our driver's targets
/// (`emulated`, `memory`, `bluez`, `device`), `<scenario>.brainflow.rec` for
/// BrainFlow's own driver (`brainflow`, `brainflow_bluez`: one host, whatever
/// the link), `<scenario>.<target>.rec` for the others. Each host sends its
/// own commands, and the `replay` targets pick their recording by that name.
pub(crate) fn recording_for(
    trial: &Trial,
    log: &mut Vec<String>,
) -> Result<Option<(PathBuf, Header)>, String> {
    let Some(dir) = std::env::var_os("BOARDLOOP_RECORD").filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let target = trial.target.name();
    let suffix = match target {
        "emulated" | "memory" | "bluez" | "device" => String::new(),
        // BrainFlow's own driver: a BLE board's runs only over BlueZ, and
        // its recording is `brainflow_replay_bluez`'s, as a serial board's
        // (`brainflow`) is `brainflow_replay`'s.
        "brainflow_bluez" => ".brainflow".to_string(),
        t => format!(".{t}"),
    };
    let dir = PathBuf::from(dir).join(trial.board.name).join("recordings");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let out = dir.join(format!("{}{suffix}.rec", trial.scenario.name));
    let mut header = vec![
        (
            "profile".to_string(),
            trial.scenario.profile.decl.name.clone(),
        ),
        ("scenario".to_string(), trial.scenario.name.clone()),
        ("host".to_string(), target.to_string()),
    ];
    if target != "device" {
        // Not the pty's name: which device played, for whoever reads it later.
        let source = format!("{}{}", replay::EMULATOR_SOURCE, shown(&trial.scenario.path));
        header.insert(0, ("source".to_string(), source));
    }
    log.push(format!("recording the link into {}", out.display()));
    Ok(Some((out, header)))
}

/// A serial trial's port, behind a [`RecordProxy`] when the link is to be
/// recorded (see [`recording_for`]): the port the host opens, and the
/// proxy, which records until it is dropped.
pub(crate) fn recorded_port(
    trial: &Trial,
    port: String,
    log: &mut Vec<String>,
) -> Result<(String, Option<RecordProxy>), String> {
    let Some((out, header)) = recording_for(trial, log)? else {
        return Ok((port, None));
    };
    // The device's own rate (FreeEEG32's 921600 on a rig); a pty ignores it.
    let baud = boardloop_boards::registry::by_id(trial.board.id)
        .ok()
        .and_then(|d| d.serial_baud())
        .unwrap_or(115_200);
    let proxy = RecordProxy::spawn(&port, baud, &out, &header)
        .map_err(|e| format!("cannot record {port}: {e}"))?;
    let path = proxy.path().display().to_string();
    log.push(format!("the host opens {path}"));
    Ok((path, Some(proxy)))
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

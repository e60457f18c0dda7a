//! Scenarios: a device profile, the signal on each channel, what the host does, the
//! faults the device injects, and what the board under test must produce.

use crate::device::ChannelModel;
use crate::limits::{
    MAX_BUFFER_SIZE, MAX_DURATION_MS, MAX_FAULT_PACKETS, MAX_PACKETS, MAX_WAIT_SAMPLES, SPEED_RANGE,
};
use crate::load::{confine, read_yaml, semantic_error, LoadError};
use crate::portable::{CheckName, SpectralExpect, StreamExpect};
use crate::profile::{Profile, StateDecl};
use crate::realistic::RealisticDecl;
use crate::signal::{SignalDecl, SignalSet};
use crate::state::State;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The YAML form of a scenario.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioDecl {
    /// Device profile name (`scenarios/devices/<device>.yaml`).
    pub device: String,
    /// Boards this scenario applies to; defaults to the folder name.
    #[serde(default)]
    pub boards: Vec<String>,
    /// A line for people.
    #[serde(default)]
    pub description: String,
    /// How fast the device streams.
    #[serde(default)]
    pub pacing: Pacing,
    /// Packets the device sends per stream before falling silent; unlimited if absent.
    pub packets: Option<u64>,
    /// Power-on state overrides (scalars only), e.g. `end_byte: 0xC5`.
    #[serde(default)]
    pub state: BTreeMap<String, f64>,
    /// Signals by channel name (`eeg1`, `eeg*`, `accel_x`).
    #[serde(default)]
    pub signals: BTreeMap<String, SignalDecl>,
    /// What the host does, in order.
    pub steps: Vec<Step>,
    /// What the device does wrong.
    #[serde(default)]
    pub faults: Vec<FaultDecl>,
    /// What must come out.
    #[serde(default)]
    pub expect: Expect,
    /// Ring buffer size passed to `start_stream`.
    #[serde(default = "default_buffer")]
    pub buffer_size: usize,
    /// Board timeout in seconds (BrainFlow's `timeout` param); 0 = the board's default.
    #[serde(default)]
    pub timeout: i32,
    /// BrainFlow's `other_info` param, given to every host: our boards,
    /// BrainFlow's own drivers and its binding on our library (the Ganglion's
    /// `fw:2`, `fw:auto`: BrainFlow 5.21+ reads a Ganglion as firmware 3
    /// unless told).
    #[serde(default)]
    pub other_info: String,
    /// Also play this scenario against BrainFlow's own driver (`::brainflow` trials).
    #[serde(default)]
    pub brainflow: bool,
    /// Hardware-like behaviour of the emulated device: noise, mains hum, DC
    /// offsets, clock drift, burst delivery (seeded; see [`RealisticDecl`]).
    pub realistic: Option<RealisticDecl>,
}

fn default_buffer() -> usize {
    450_000
}

/// Stream pacing.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Pacing {
    /// The device's own rate (Cyton: 250 packets/s).
    #[default]
    Realtime,
    /// The device's rate times a factor.
    Speed(f64),
    /// As fast as the reader takes them.
    Max,
}

impl Pacing {
    /// Seconds between packets at `rate` packets/s; zero for [`Pacing::Max`].
    pub fn interval(&self, rate: f64) -> f64 {
        match self {
            Pacing::Realtime => 1.0 / rate,
            Pacing::Speed(f) => 1.0 / (rate * f),
            Pacing::Max => 0.0,
        }
    }
}

/// One host step.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// `prepare_session`.
    Prepare,
    /// `start_stream`.
    Start,
    /// `stop_stream`.
    Stop,
    /// `release_session`.
    Release,
    /// `config_board`.
    Config(ConfigStep),
    /// `insert_marker` (the marker must land on the next sample).
    Marker(f64),
    /// Wait until this many rows have arrived since the stream started.
    WaitSamples(usize),
    /// Sleep.
    WaitMs(u64),
    /// Wait until the driver reports its link lost (an unplug, a dropped BLE
    /// link), at most this many ms: an event to wait on, where a sleep would
    /// guess how long the device and the host's stack take on a busy machine.
    /// A host that reports no link state (BrainFlow, C++ plugins) sleeps the
    /// whole time instead.
    WaitLinkLost(u64),
}

/// A `config_board` call and the reply it must get.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigStep {
    /// The command sent.
    pub send: String,
    /// The exact reply expected.
    pub reply: Option<String>,
}

/// A fault the device injects: `at_packet` and exactly one kind.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
// serde refuses keys left over after the flattened kind; schemars, seeing the
// flatten, writes no `additionalProperties: false` (it would refuse the kind's
// own key). The transform closes each kind's alternative instead.
#[schemars(transform = crate::schema::close_flattened_alternatives)]
pub struct FaultDecl {
    /// The packet it applies at: the device's N-th packet (0-based, counted across
    /// streams, dropped ones included).
    #[serde(default)]
    pub at_packet: u64,
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
}

/// Kinds of fault.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Do not send this many packets (their counters are skipped).
    Drop(u64),
    /// Send these bytes before the packet.
    Garbage(Vec<u8>),
    /// XOR one byte of the packet.
    Corrupt {
        /// Byte offset in the packet.
        offset: usize,
        /// Mask to XOR with.
        xor: u8,
    },
    /// Send only the first N bytes of the packet.
    Truncate(usize),
    /// Pause this many milliseconds before the packet.
    StallMs(u64),
    /// Send this many packets at once, back to back, then resume the pace.
    Burst(u64),
    /// The device disappears (the port is gone) before this packet (`unplug: true`).
    Unplug(bool),
    /// The device never answers anything, from the start (`mute: true`).
    Mute(bool),
    /// BLE: the device starts advertising only this long after the trial starts
    /// (late advertising; longer than the board's timeout: it never appears).
    AdvertiseAfterMs(u64),
    /// BLE: the device goes out of range before this packet (the link drops
    /// and it stops streaming, keeping its other state) and is back in range,
    /// advertising and connectable, this many milliseconds later.
    OutOfRangeMs(u64),
}

/// Expectations on what the board produced.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Rows returned by the board in total.
    pub rows: Option<Count>,
    /// Lost packets the driver reports.
    pub lost_packets: Option<u64>,
    /// Garbage bytes the driver skipped.
    pub garbage_bytes: Option<Count>,
    /// Candidate frames the driver rejected for their end byte.
    pub bad_end_bytes: Option<Count>,
    /// Check every row against the declared signals.
    pub signal: Option<SignalCheck>,
    /// The link is reported lost (unplug).
    pub link_lost: Option<bool>,
    /// The commands the device received, in order, by rule name; `?text` for one it
    /// rejected (malformed, or no rule accepts it).
    pub commands: Option<Vec<String>>,
    /// A step fails with this error (and the run stops there).
    pub error: Option<ExpectedError>,
    /// Device state at the end (emulated targets), e.g. `sample_rate: 500`.
    #[serde(default)]
    pub device_state: BTreeMap<String, f64>,
    /// The same checks on the board's other presets (BrainFlow's auxiliary and
    /// ancillary streams, each with its own rows and ring buffer); the fields
    /// above are about the default preset.
    #[serde(default)]
    pub presets: PresetExpects,
    /// The stream's rate, jitter, gaps and losses, measured from the rows.
    pub stream: Option<StreamExpect>,
    /// Each listed channel's dominant frequency, amplitude and SNR.
    #[serde(default)]
    pub spectral: Vec<SpectralExpect>,
    /// The expectations above that hold on a physical device (the others are
    /// exact: on the `device` target they are skipped, each listed with the
    /// reason). A scenario with a list runs on a rig without being named in
    /// the rig file.
    pub portable: Option<Vec<CheckName>>,
}

impl Expect {
    /// The expectations this scenario sets, by name (`markers`, which every
    /// trial checks, is not one: it holds on any device).
    pub fn set(&self) -> Vec<CheckName> {
        let mut v = Vec::new();
        let mut add = |on: bool, c: CheckName| {
            if on {
                v.push(c);
            }
        };
        add(self.rows.is_some(), CheckName::Rows);
        add(self.lost_packets.is_some(), CheckName::LostPackets);
        add(self.garbage_bytes.is_some(), CheckName::GarbageBytes);
        add(self.bad_end_bytes.is_some(), CheckName::BadEndBytes);
        add(self.signal.is_some(), CheckName::Signal);
        add(self.link_lost.is_some(), CheckName::LinkLost);
        add(self.commands.is_some(), CheckName::Commands);
        add(self.error.is_some(), CheckName::Error);
        add(!self.device_state.is_empty(), CheckName::DeviceState);
        add(!self.presets.named().is_empty(), CheckName::Presets);
        add(self.stream.is_some(), CheckName::Stream);
        add(!self.spectral.is_empty(), CheckName::Spectral);
        v
    }

    /// Whether `check` holds on a physical device, as the scenario says.
    pub fn is_portable(&self, check: CheckName) -> bool {
        self.portable.as_ref().is_some_and(|p| p.contains(&check))
    }
}

/// Expectations on the presets other than the default one, by preset. A
/// struct rather than a map so a misspelt preset is an unknown-field error
/// with its line, like every other field.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct PresetExpects {
    /// BrainFlow's AUXILIARY_PRESET (Muse: accel and gyro).
    pub auxiliary: Option<PresetExpect>,
    /// BrainFlow's ANCILLARY_PRESET (Muse 2/S: PPG).
    pub ancillary: Option<PresetExpect>,
}

impl PresetExpects {
    /// The presets named, with their YAML keys, in BrainFlow's order.
    pub fn named(&self) -> Vec<(&'static str, &PresetExpect)> {
        [
            ("auxiliary", self.auxiliary.as_ref()),
            ("ancillary", self.ancillary.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, e)| e.map(|e| (k, e)))
        .collect()
    }
}

/// What one non-default preset must produce.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PresetExpect {
    /// Rows of this preset returned by the board in total.
    pub rows: Option<Count>,
    /// Check every row of this preset against the declared signals (as
    /// `expect.signal`; `settle_samples` counts this preset's rows).
    pub signal: Option<SignalCheck>,
}

/// An exact number or a range.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum Count {
    /// Exactly this.
    Exact(u64),
    /// Within bounds (inclusive).
    Range {
        /// Lower bound.
        #[serde(default)]
        min: Option<u64>,
        /// Upper bound.
        #[serde(default)]
        max: Option<u64>,
    },
}

impl Count {
    /// The same expectation, `k` lower (saturating at 0): for hosts that
    /// keep back a known number of rows by design.
    pub fn less(&self, k: u64) -> Count {
        match self {
            Count::Exact(e) => Count::Exact(e.saturating_sub(k)),
            Count::Range { min, max } => Count::Range {
                min: min.map(|m| m.saturating_sub(k)),
                max: max.map(|m| m.saturating_sub(k)),
            },
        }
    }

    /// Whether `v` satisfies the expectation.
    pub fn accepts(&self, v: u64) -> bool {
        match self {
            Count::Exact(e) => v == *e,
            Count::Range { min, max } => min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m),
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Exact(e) => write!(f, "{e}"),
            Count::Range { min, max } => write!(
                f,
                "{}..={}",
                min.map_or(String::new(), |m| m.to_string()),
                max.map_or(String::new(), |m| m.to_string())
            ),
        }
    }
}

/// How rows are compared with the declared signals.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SignalCheck {
    /// Allowed difference in LSBs of the channel's scale.
    #[serde(default = "one")]
    pub tolerance_lsb: f64,
    /// Rows skipped after a `config` sent while streaming (the device applies it a
    /// few packets later than the host does).
    #[serde(default)]
    pub settle_samples: usize,
    /// Only these channels (default: every channel the board maps).
    pub channels: Option<Vec<String>>,
}

fn one() -> f64 {
    1.0
}

/// An expected failure.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExpectedError {
    /// The step that fails: `prepare`, `start`, `stop`, `config`, …
    pub step: String,
    /// BrainFlow exit code name (`BOARD_NOT_READY_ERROR`) or number; any code if
    /// absent.
    pub code: Option<String>,
    /// Text the error message must contain.
    pub contains: Option<String>,
}

/// A loaded, validated scenario with its profile.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario file.
    pub path: PathBuf,
    /// Its name (file stem).
    pub name: String,
    /// The declaration.
    pub decl: ScenarioDecl,
    /// The device profile.
    pub profile: Arc<Profile>,
    /// Compiled signals: what the harness expects.
    pub signals: Arc<SignalSet>,
    /// What the emulated device sends: `signals` with the `realistic`
    /// block's analog imperfections (the same set without one).
    pub device_signals: Arc<SignalSet>,
    /// Power-on state with the scenario's overrides.
    pub initial_state: State,
}

/// Loads scenarios that share device profiles, parsing each profile file once.
/// Loading the whole matrix parsed 11 profiles 114 times: YAML parsing was most
/// of the 0.45 s of CPU each matrix process spends before its first trial,
/// 10-25 s in the lab VM's software emulation, and nextest starts one process
/// per trial.
#[derive(Debug, Default)]
pub struct ScenarioLoader {
    profiles: BTreeMap<PathBuf, Arc<Profile>>,
}

impl ScenarioLoader {
    /// Loads a scenario as [`Scenario::load`] does, reusing a profile this
    /// loader has already parsed. (A profile that fails to load is not kept:
    /// each scenario using it reports the error.)
    pub fn load(&mut self, path: &Path, devices_dir: &Path) -> Result<Scenario, LoadError> {
        let (decl, text): (ScenarioDecl, String) = read_yaml(path)?;
        let needle = format!("device: {}", decl.device);
        let profile_path = confine(devices_dir, devices_dir, &format!("{}.yaml", decl.device))
            .map_err(|m| semantic_error(path, &text, "device", &needle, m))?;
        if !profile_path.exists() {
            return Err(semantic_error(
                path,
                &text,
                "device",
                &needle,
                format!("no device profile {}", profile_path.display()),
            ));
        }
        let profile = match self.profiles.get(&profile_path) {
            Some(p) => Arc::clone(p),
            None => {
                let p = Arc::new(Profile::load(&profile_path)?);
                self.profiles.insert(profile_path, Arc::clone(&p));
                p
            }
        };
        Scenario::with_profile(path, &text, decl, profile)
    }
}

impl Scenario {
    /// Loads a scenario; its profile is found in `devices_dir` (and must be
    /// there, see [`confine`]).
    pub fn load(path: &Path, devices_dir: &Path) -> Result<Scenario, LoadError> {
        ScenarioLoader::default().load(path, devices_dir)
    }

    /// Validates a scenario against an already loaded profile.
    pub fn with_profile(
        path: &Path,
        text: &str,
        mut decl: ScenarioDecl,
        profile: Arc<Profile>,
    ) -> Result<Scenario, LoadError> {
        let err = |field: String, needle: &str, msg: String| {
            semantic_error(path, text, field, needle, msg)
        };
        let base = path.parent().unwrap_or(Path::new("."));
        // CSV files stay inside the scenarios folder: the one holding the
        // profile's `devices` folder.
        let root = profile.path.parent().and_then(Path::parent).unwrap_or(base);
        let signals = Arc::new(
            SignalSet::build(&decl.signals, base, root, path, text)?
                .with_generated(profile.generated.clone()),
        );
        let device_signals = match &decl.realistic {
            Some(r) => {
                r.validate(profile.ble.is_some(), &err)?;
                Arc::new(r.impair(&signals))
            }
            None => signals.clone(),
        };
        if let Some(list) = &decl.expect.portable {
            let set = decl.expect.set();
            for c in list {
                if !set.contains(c) {
                    return Err(err(
                        "expect.portable".into(),
                        c.key(),
                        format!("`{}` is not an expectation of this scenario", c.key()),
                    ));
                }
            }
        }
        for (i, sp) in decl.expect.spectral.iter().enumerate() {
            let ok = sp.hz > 0.0
                && sp.tolerance_hz > 0.0
                && sp.tolerance_pct > 0.0
                && !sp.channels.is_empty();
            if !ok {
                return Err(err(
                    format!("expect.spectral[{i}]"),
                    "hz",
                    "needs channels, and `hz`, `tolerance_hz`, `tolerance_pct` above 0".into(),
                ));
            }
        }
        let mut state = profile.initial_state.clone();
        for (k, v) in &decl.state {
            let scalar = matches!(profile.decl.state.get(k), Some(StateDecl::Scalar(_)));
            if !scalar || !state.set(k, *v) {
                return Err(err(
                    format!("state.{k}"),
                    k,
                    format!(
                        "`{k}` is not a scalar state variable of `{}`",
                        profile.decl.name
                    ),
                ));
            }
        }
        for k in decl.expect.device_state.keys() {
            if state.kind(k) != Some(false) {
                return Err(err(
                    format!("expect.device_state.{k}"),
                    k,
                    format!(
                        "`{k}` is not a scalar state variable of `{}`",
                        profile.decl.name
                    ),
                ));
            }
        }
        if let Some(cmds) = &decl.expect.commands {
            for c in cmds {
                // `?text` stands for a command the device rejected.
                if !c.starts_with('?') && profile.command(c).is_none() {
                    return Err(err(
                        "expect.commands".into(),
                        c,
                        format!("`{c}` is not a command of `{}`", profile.decl.name),
                    ));
                }
            }
        }
        for (i, f) in decl.faults.iter().enumerate() {
            let bad = match &f.kind {
                FaultKind::Drop(0) | FaultKind::Burst(0) => Some("must be at least 1"),
                FaultKind::Garbage(g) if g.is_empty() => Some("needs at least one byte"),
                FaultKind::Mute(true) if f.at_packet != 0 => Some("`mute` applies from the start"),
                FaultKind::OutOfRangeMs(_) | FaultKind::AdvertiseAfterMs(_)
                    if profile.ble.is_none() =>
                {
                    Some("is a BLE fault; this device is serial")
                }
                _ => None,
            };
            if let Some(m) = bad {
                return Err(err(format!("faults[{i}]"), "", m.into()));
            }
        }
        for (key, pe) in decl.expect.presets.named() {
            let Some(chs) = pe.signal.as_ref().and_then(|c| c.channels.as_ref()) else {
                continue;
            };
            for c in chs {
                // Caught here, with its line, rather than as a failing trial on
                // every target.
                if ChannelModel::find(&profile, c).is_none() {
                    return Err(err(
                        format!("expect.presets.{key}.signal.channels"),
                        c,
                        format!("`{}` sends no `{c}`", profile.decl.name),
                    ));
                }
            }
        }
        check_numbers(&decl, &err)?;
        if decl.boards.is_empty() {
            if let Some(dir) = base.file_name().and_then(|d| d.to_str()) {
                decl.boards.push(dir.to_string());
            }
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("scenario")
            .to_string();
        Ok(Scenario {
            path: path.to_path_buf(),
            name,
            decl,
            profile,
            signals,
            device_signals,
            initial_state: state,
        })
    }

    /// Whether the device is muted from the start.
    pub fn muted(&self) -> bool {
        self.decl
            .faults
            .iter()
            .any(|f| matches!(f.kind, FaultKind::Mute(true)))
    }
}

/// Refuses numbers that make no sense (`speed: .inf`, `u64::MAX` packets or
/// milliseconds): each would hang a trial or overflow a clock rather than test
/// anything. The limits are in [`crate::limits`].
fn check_numbers(
    decl: &ScenarioDecl,
    err: &dyn Fn(String, &str, String) -> LoadError,
) -> Result<(), LoadError> {
    let at_most = |field: String, needle: String, v: u64, max: u64| {
        if v > max {
            Err(err(field, &needle, format!("must be at most {max}")))
        } else {
            Ok(())
        }
    };
    if let Pacing::Speed(s) = decl.pacing {
        if !SPEED_RANGE.contains(&s) {
            return Err(err(
                "pacing.speed".into(),
                "speed",
                format!(
                    "must be {}..={} (`max` streams as fast as the host reads)",
                    SPEED_RANGE.start(),
                    SPEED_RANGE.end()
                ),
            ));
        }
    }
    if let Some(n) = decl.packets {
        at_most("packets".into(), format!("packets: {n}"), n, MAX_PACKETS)?;
    }
    let b = decl.buffer_size as u64;
    at_most(
        "buffer_size".into(),
        format!("buffer_size: {b}"),
        b,
        MAX_BUFFER_SIZE,
    )?;
    for (i, step) in decl.steps.iter().enumerate() {
        let field = format!("steps[{i}]");
        match step {
            Step::WaitMs(ms) => at_most(field, format!("wait_ms: {ms}"), *ms, MAX_DURATION_MS)?,
            Step::WaitLinkLost(ms) => {
                at_most(field, format!("wait_link_lost: {ms}"), *ms, MAX_DURATION_MS)?
            }
            Step::WaitSamples(n) => {
                let n = *n as u64;
                at_most(field, format!("wait_samples: {n}"), n, MAX_WAIT_SAMPLES)?
            }
            _ => {}
        }
    }
    for (i, f) in decl.faults.iter().enumerate() {
        let field = format!("faults[{i}]");
        let (key, v, max) = match f.kind {
            FaultKind::Drop(n) => ("drop", n, MAX_FAULT_PACKETS),
            FaultKind::Burst(n) => ("burst", n, MAX_FAULT_PACKETS),
            FaultKind::StallMs(ms) => ("stall_ms", ms, MAX_DURATION_MS),
            FaultKind::AdvertiseAfterMs(ms) => ("advertise_after_ms", ms, MAX_DURATION_MS),
            FaultKind::OutOfRangeMs(ms) => ("out_of_range_ms", ms, MAX_DURATION_MS),
            _ => continue,
        };
        at_most(field, format!("{key}: {v}"), v, max)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::parse_yaml;

    #[test]
    fn steps_parse_in_both_forms() {
        let text = "device: d\nsteps:\n  - prepare\n  - config: { send: \"x1060110X\", reply: \"ok$$$\" }\n  - wait_samples: 10\n  - marker: 2.5\n";
        let d: ScenarioDecl = parse_yaml(Path::new("s.yaml"), text).unwrap();
        assert_eq!(d.steps[0], Step::Prepare);
        assert_eq!(d.steps[2], Step::WaitSamples(10));
        assert_eq!(d.steps[3], Step::Marker(2.5));
    }

    #[test]
    fn faults_parse() {
        let text = "device: d\nsteps: []\nfaults:\n  - { at_packet: 5, drop: 3 }\n  - { at_packet: 9, corrupt: { offset: 32, xor: 255 } }\n  - { at_packet: 12, unplug: true }\n  - mute\n";
        let r: Result<ScenarioDecl, _> = parse_yaml(Path::new("s.yaml"), text);
        // `mute` alone is not a mapping: a clear error, located.
        let e = r.unwrap_err();
        assert_eq!(e.line, Some(7), "{e}");
        let text = text.replace("  - mute\n", "  - { mute: true }\n");
        let d: ScenarioDecl = parse_yaml(Path::new("s.yaml"), &text).unwrap();
        assert_eq!(d.faults[0].kind, FaultKind::Drop(3));
        assert_eq!(d.faults[2].kind, FaultKind::Unplug(true));
        assert_eq!(d.faults[3].kind, FaultKind::Mute(true));
    }

    fn muse_2() -> Arc<Profile> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
        Arc::new(Profile::load(&dir.join("muse_2.yaml")).unwrap())
    }

    #[test]
    fn preset_expectations_parse_and_are_checked_against_the_profile() {
        let path = Path::new("muse_2/s.yaml");
        let text = "device: muse_2\nsteps: []\nexpect:\n  rows: 12\n  presets:\n    auxiliary:\n      rows: { min: 3 }\n      signal: { channels: [accel_x, gyro_z] }\n    ancillary:\n      rows: 6\n";
        let d: ScenarioDecl = parse_yaml(path, text).unwrap();
        let named: Vec<&str> = d.expect.presets.named().iter().map(|(k, _)| *k).collect();
        assert_eq!(named, ["auxiliary", "ancillary"]);
        let aux = d.expect.presets.auxiliary.as_ref().unwrap();
        assert_eq!(
            aux.rows,
            Some(Count::Range {
                min: Some(3),
                max: None
            })
        );
        assert_eq!(aux.signal.as_ref().unwrap().tolerance_lsb, 1.0);
        assert!(Scenario::with_profile(path, text, d, muse_2()).is_ok());

        // A channel no stream of the device carries: located, named.
        let text = text.replace("gyro_z", "gyro_w");
        let d: ScenarioDecl = parse_yaml(path, &text).unwrap();
        let e = Scenario::with_profile(path, &text, d, muse_2()).unwrap_err();
        assert_eq!(e.line, Some(8), "{e}");
        assert_eq!(
            e.field.as_deref(),
            Some("expect.presets.auxiliary.signal.channels")
        );
        assert!(e.message.contains("`gyro_w`"), "{e}");
    }

    #[test]
    fn an_unknown_preset_is_an_error_with_its_line() {
        let text = "device: muse_2\nsteps: []\nexpect:\n  presets:\n    auxilary: { rows: 3 }\n";
        let e = parse_yaml::<ScenarioDecl>(Path::new("s.yaml"), text).unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("unknown field `auxilary`"), "{e}");
        // The default preset is `expect` itself, not one of `presets`.
        let text = text.replace("auxilary", "default");
        assert!(parse_yaml::<ScenarioDecl>(Path::new("s.yaml"), &text).is_err());
        let text =
            "device: muse_2\nsteps: []\nexpect:\n  presets:\n    ancillary: { rows: 3, lost: 0 }\n";
        let e = parse_yaml::<ScenarioDecl>(Path::new("s.yaml"), text).unwrap_err();
        assert!(e.message.contains("unknown field `lost`"), "{e}");
    }

    #[test]
    fn ble_faults_are_refused_on_a_serial_device() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
        let cyton = Arc::new(Profile::load(&dir.join("cyton.yaml")).unwrap());
        let path = Path::new("cyton/s.yaml");
        let text =
            "device: cyton\nsteps: []\nfaults:\n  - { at_packet: 5, out_of_range_ms: 100 }\n";
        let d: ScenarioDecl = parse_yaml(path, text).unwrap();
        assert_eq!(d.faults[0].kind, FaultKind::OutOfRangeMs(100));
        let e = Scenario::with_profile(path, text, d, cyton).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("faults[0]"));
        assert!(e.message.contains("BLE fault"), "{e}");
        // The same fault on a BLE device loads.
        let text = text.replace("cyton", "muse_2");
        let d: ScenarioDecl = parse_yaml(path, &text).unwrap();
        assert!(Scenario::with_profile(path, &text, d, muse_2()).is_ok());
    }

    #[test]
    fn count_forms() {
        let c: Count = serde_yaml_ng::from_str("{ min: 3 }").unwrap();
        assert!(c.accepts(3) && !c.accepts(2));
        let c: Count = serde_yaml_ng::from_str("7").unwrap();
        assert!(c.accepts(7) && !c.accepts(8));
    }
}

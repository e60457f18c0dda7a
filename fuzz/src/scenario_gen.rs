//! A structure-aware scenario: an `Arbitrary` model of a scenario file
//! (device, pacing, state, signals, steps, faults, expectations), written as
//! YAML with [`crate::yaml`]. Names come mostly from the shipped devices'
//! vocabulary, so most scenarios get past parsing into validation against
//! their profile; numbers often sit at the loader's limits.

use crate::yaml::{first, pick, Float, Name, Rare, Small, Text, UInt, Y};
use arbitrary::Arbitrary;

/// The shipped profiles' names (scenarios/devices).
pub const DEVICES: &[&str] = &[
    "cyton",
    "cyton_daisy",
    "freeeeg128",
    "freeeeg32",
    "ganglion",
    "muse_2",
    "muse_2016",
    "muse_s",
    "neuropawn_knight",
];

const SIGNALS: &[&str] = &[
    "eeg*", "eeg1", "eeg2", "eeg3", "eeg4", "eeg5", "eeg8", "eeg9", "eeg16", "eeg32", "eeg128",
    "eeg129", "accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z", "ppg1", "ppg2",
    "ppg3", "aux", "analog1", "analog2", "analog3", "*", "accel*", "eeg0",
];

const STEPS: &[&str] = &["prepare", "start", "stop", "release", "config", "marker"];

const SENDS: &[&str] = &[
    "x1060110X",
    "x1160110X",
    "x9060110X",
    "x106",
    "1",
    "!",
    "~6",
    "~~",
    "/2",
    "<",
    "d",
    "v",
    "p21",
    "p50",
    "v1",
    "z",
    "",
    "\u{0}",
];

const CSV: &[&str] = &[
    "../data/ecg_like.csv",
    "../data/none.csv",
    "/dev/zero",
    "../../../etc/hostname",
    "../devices/cyton.yaml",
    "",
];

/// Per shipped device: its scalar state variables and its commands (what a
/// scenario may set, expect and name).
fn vocab(device: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match device {
        "cyton" | "cyton_daisy" => (
            &[
                "sample_rate",
                "board_mode",
                "end_byte",
                "end_byte_cycle",
                "accel",
                "test_signal",
            ],
            &[
                "soft_reset",
                "start",
                "stop",
                "defaults",
                "channel_settings",
                "channel_off",
                "channel_on",
                "test_signal",
                "sample_rate",
                "board_mode_analog",
                "timestamps_on",
                "?x9060110X",
            ],
        ),
        "ganglion" => (
            &[
                "serial",
                "firmware",
                "impedance",
                "accel",
                "sample_rate",
                "imp1",
                "imp5",
            ],
            &[
                "start",
                "stop",
                "impedance_on",
                "impedance_off",
                "accel_on",
                "accel_off",
                "channel_off",
                "channel_on",
                "sample_rate",
                "soft_reset",
            ],
        ),
        "muse_2" | "muse_s" | "muse_2016" => (
            &["serial", "preset"],
            &[
                "version", "reset", "start", "stop", "status", "preset", "?p99",
            ],
        ),
        "neuropawn_knight" => (
            &[
                "sample_rate",
                "last_channel_on",
                "rld_added",
                "loff_p",
                "loff_n",
            ],
            &["channel_on", "rld_add"],
        ),
        _ => (&["sample_rate"], &["start"]),
    }
}

/// Whether a shipped device is BLE.
fn ble(device: &str) -> bool {
    matches!(device, "ganglion" | "muse_2" | "muse_s" | "muse_2016")
}

/// A scenario file.
#[derive(Debug, Arbitrary)]
pub struct ScenarioGen {
    device: Name,
    description: Option<String>,
    boards: Rare<Vec<Name>>,
    pacing: Option<PacingGen>,
    packets: Option<UInt>,
    state: Vec<(Name, Float)>,
    signals: Vec<(Name, SignalGen)>,
    /// `steps` is required: leaving it out is an error, sometimes.
    no_steps: Rare<()>,
    steps: Vec<StepGen>,
    faults: Vec<FaultGen>,
    expect: Option<ExpectGen>,
    buffer_size: Option<UInt>,
    timeout: Rare<UInt>,
    brainflow: Option<bool>,
    unknown: Rare<(Name, UInt)>,
}

#[derive(Debug, Arbitrary)]
enum PacingGen {
    Realtime,
    Max,
    Speed(Float),
    Word(Name),
}

#[derive(Debug, Arbitrary)]
struct Periodic {
    hz: Float,
    amplitude: Float,
    offset: Option<Float>,
    phase_deg: Option<Float>,
    no_amplitude: Rare<()>,
}

impl Periodic {
    fn y(&self) -> Y {
        Y::map(vec![
            ("hz", Some(self.hz.y())),
            (
                "amplitude",
                self.no_amplitude.0.is_none().then(|| self.amplitude.y()),
            ),
            ("offset", self.offset.as_ref().map(Float::y)),
            ("phase_deg", self.phase_deg.as_ref().map(Float::y)),
        ])
    }
}

#[derive(Debug, Arbitrary)]
enum SignalGen {
    Sine(Periodic),
    Square(Periodic),
    Sawtooth(Periodic),
    Constant(Float),
    Noise {
        seed: UInt,
        amplitude: Float,
        offset: Option<Float>,
    },
    Csv {
        file: Text,
        column: Option<Small>,
        header: Option<bool>,
    },
    /// Not a signal (`eeg1: 5`, `eeg1: { sine: 3 }`, two kinds at once).
    Wrong(u8, Float),
}

impl SignalGen {
    fn y(&self) -> Y {
        let one = |k: &str, v: Y| Y::Map(vec![(k.to_string(), v)]);
        match self {
            SignalGen::Sine(p) => one("sine", p.y()),
            SignalGen::Square(p) => one("square", p.y()),
            SignalGen::Sawtooth(p) => one("sawtooth", p.y()),
            SignalGen::Constant(f) => one("constant", f.y()),
            SignalGen::Noise {
                seed,
                amplitude,
                offset,
            } => one(
                "noise",
                Y::map(vec![
                    ("seed", Some(seed.y())),
                    ("amplitude", Some(amplitude.y())),
                    ("offset", offset.as_ref().map(Float::y)),
                ]),
            ),
            SignalGen::Csv {
                file,
                column,
                header,
            } => one(
                "csv",
                Y::map(vec![
                    ("file", Some(file.y(CSV))),
                    ("column", column.as_ref().map(Small::y)),
                    ("header", header.map(|h| Y::raw(h.to_string()))),
                ]),
            ),
            SignalGen::Wrong(k, f) if *k >= 24 => one("constant", f.y()),
            SignalGen::Wrong(k, f) => match k % 4 {
                0 => f.y(),
                1 => one("sine", f.y()),
                2 => Y::Map(vec![
                    ("constant".into(), f.y()),
                    ("sine".into(), Y::Map(vec![])),
                ]),
                _ => one("triangle", f.y()),
            },
        }
    }
}

#[derive(Debug, Arbitrary)]
enum StepGen {
    Word(u8),
    Config {
        send: Text,
        reply: Option<Text>,
        extra: Rare<()>,
    },
    Marker(Float),
    WaitSamples(UInt),
    WaitMs(UInt),
    WaitLinkLost(UInt),
    /// An unknown step, or a known one with a value it does not take.
    Odd(u8, Name, Option<UInt>),
}

impl StepGen {
    fn y(&self) -> Y {
        let one = |k: &str, v: Y| Y::Map(vec![(k.to_string(), v)]);
        match self {
            StepGen::Word(i) => Y::s(pick(*i, &STEPS[..4])),
            StepGen::Config { send, reply, extra } => one(
                "config",
                Y::map(vec![
                    ("send", Some(send.y(SENDS))),
                    ("reply", reply.as_ref().map(|r| r.y(SENDS))),
                    ("extra", extra.0.map(|_| Y::raw("1"))),
                ]),
            ),
            StepGen::Marker(f) => one("marker", f.y()),
            StepGen::WaitSamples(n) => one("wait_samples", n.y()),
            StepGen::WaitMs(n) => one("wait_ms", n.y()),
            StepGen::WaitLinkLost(n) => one("wait_link_lost", n.y()),
            StepGen::Odd(gate, _, _) if *gate >= 24 => Y::s(pick(*gate, &STEPS[..4])),
            StepGen::Odd(_, name, v) => {
                let k = name.pick(STEPS);
                match v {
                    Some(v) => one(&k, v.y()),
                    None => Y::s(k),
                }
            }
        }
    }
}

#[derive(Debug, Arbitrary)]
struct FaultGen {
    /// Keep what would otherwise be made valid: a BLE fault on a serial
    /// device, `mute` after the start, empty `garbage`.
    odd: Rare<()>,
    at_packet: Option<UInt>,
    kind: FaultKindGen,
    second: Rare<FaultKindGen>,
}

#[derive(Debug, Arbitrary)]
enum FaultKindGen {
    Drop(UInt),
    Garbage(Vec<u8>, Rare<UInt>),
    Corrupt(UInt, UInt),
    Truncate(UInt),
    StallMs(UInt),
    Burst(UInt),
    Unplug(bool),
    Mute(bool),
    AdvertiseAfterMs(UInt),
    OutOfRangeMs(UInt),
}

impl FaultKindGen {
    fn entry(&self) -> (&'static str, Y) {
        match self {
            FaultKindGen::Drop(n) => ("drop", n.y()),
            FaultKindGen::Garbage(b, odd) => {
                let mut items: Vec<Y> = first(b, 40)
                    .iter()
                    .map(|b| Y::raw(format!("0x{b:02X}")))
                    .collect();
                if let Some(o) = &odd.0 {
                    items.push(o.y());
                }
                ("garbage", Y::Seq(items))
            }
            FaultKindGen::Corrupt(o, x) => (
                "corrupt",
                Y::map(vec![("offset", Some(o.y())), ("xor", Some(x.y()))]),
            ),
            FaultKindGen::Truncate(n) => ("truncate", n.y()),
            FaultKindGen::StallMs(n) => ("stall_ms", n.y()),
            FaultKindGen::Burst(n) => ("burst", n.y()),
            FaultKindGen::Unplug(b) => ("unplug", Y::raw(b.to_string())),
            FaultKindGen::Mute(b) => ("mute", Y::raw(b.to_string())),
            FaultKindGen::AdvertiseAfterMs(n) => ("advertise_after_ms", n.y()),
            FaultKindGen::OutOfRangeMs(n) => ("out_of_range_ms", n.y()),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum CountGen {
    Exact(UInt),
    Range(Option<UInt>, Option<UInt>),
}

impl CountGen {
    fn y(&self) -> Y {
        match self {
            CountGen::Exact(n) => n.y(),
            CountGen::Range(a, b) => Y::map(vec![
                ("min", a.as_ref().map(UInt::y)),
                ("max", b.as_ref().map(UInt::y)),
            ]),
        }
    }
}

#[derive(Debug, Arbitrary)]
struct SignalCheckGen {
    tolerance_lsb: Option<Float>,
    settle_samples: Option<UInt>,
    channels: Option<Vec<Name>>,
}

impl SignalCheckGen {
    fn y(&self) -> Y {
        Y::map(vec![
            ("tolerance_lsb", self.tolerance_lsb.as_ref().map(Float::y)),
            ("settle_samples", self.settle_samples.as_ref().map(UInt::y)),
            (
                "channels",
                self.channels.as_ref().map(|c| {
                    Y::Seq(
                        first(c, 8)
                            .iter()
                            .map(|n| Y::s(n.pick(&SIGNALS[1..])))
                            .collect(),
                    )
                }),
            ),
        ])
    }
}

#[derive(Debug, Arbitrary)]
struct PresetGen {
    rows: Option<CountGen>,
    signal: Option<SignalCheckGen>,
}

impl PresetGen {
    fn y(&self) -> Y {
        Y::map(vec![
            ("rows", self.rows.as_ref().map(CountGen::y)),
            ("signal", self.signal.as_ref().map(SignalCheckGen::y)),
        ])
    }
}

#[derive(Debug, Arbitrary)]
struct ExpectGen {
    rows: Option<CountGen>,
    lost_packets: Option<UInt>,
    garbage_bytes: Option<CountGen>,
    bad_end_bytes: Rare<CountGen>,
    signal: Option<SignalCheckGen>,
    link_lost: Rare<bool>,
    commands: Option<Vec<Name>>,
    error: Rare<(Name, Option<Name>, Option<String>)>,
    device_state: Vec<(Name, Float)>,
    presets: Rare<(Option<PresetGen>, Option<PresetGen>)>,
}

impl ExpectGen {
    fn y(&self, state: &[&str], commands: &[&str]) -> Y {
        Y::map(vec![
            ("rows", self.rows.as_ref().map(CountGen::y)),
            ("lost_packets", self.lost_packets.as_ref().map(UInt::y)),
            (
                "garbage_bytes",
                self.garbage_bytes.as_ref().map(CountGen::y),
            ),
            (
                "bad_end_bytes",
                self.bad_end_bytes.0.as_ref().map(CountGen::y),
            ),
            ("signal", self.signal.as_ref().map(SignalCheckGen::y)),
            ("link_lost", self.link_lost.0.map(|b| Y::raw(b.to_string()))),
            (
                "commands",
                self.commands.as_ref().map(|c| {
                    Y::Seq(
                        first(c, 10)
                            .iter()
                            .map(|n| Y::s(n.pick(commands)))
                            .collect(),
                    )
                }),
            ),
            (
                "error",
                self.error.0.as_ref().map(|(step, code, contains)| {
                    Y::map(vec![
                        ("step", Some(Y::s(step.pick(STEPS)))),
                        (
                            "code",
                            code.as_ref()
                                .map(|c| Y::s(c.pick(&["BOARD_NOT_READY_ERROR", "x"]))),
                        ),
                        (
                            "contains",
                            contains
                                .as_ref()
                                .map(|s| Y::s(s.chars().take(20).collect::<String>())),
                        ),
                    ])
                }),
            ),
            (
                "device_state",
                (!self.device_state.is_empty()).then(|| {
                    Y::Map(
                        first(&self.device_state, 6)
                            .iter()
                            .map(|(k, v)| (k.pick(state), v.y()))
                            .collect(),
                    )
                }),
            ),
            (
                "presets",
                self.presets.0.as_ref().map(|(aux, anc)| {
                    Y::map(vec![
                        ("auxiliary", aux.as_ref().map(PresetGen::y)),
                        ("ancillary", anc.as_ref().map(PresetGen::y)),
                    ])
                }),
            ),
        ])
    }
}

impl ScenarioGen {
    /// The scenario as a YAML tree.
    pub fn y(&self) -> Y {
        let device = self.device.pick(DEVICES);
        let (state, commands) = vocab(&device);
        let is_ble = ble(&device);
        let mut entries: Vec<(&str, Option<Y>)> = vec![
            (
                "description",
                self.description.as_ref().map(|d| {
                    Y::s(
                        d.chars()
                            .filter(|c| !c.is_control())
                            .take(40)
                            .collect::<String>(),
                    )
                }),
            ),
            ("device", Some(Y::s(device.clone()))),
            (
                "boards",
                self.boards
                    .0
                    .as_ref()
                    .map(|b| Y::Seq(first(b, 4).iter().map(|n| Y::s(n.pick(DEVICES))).collect())),
            ),
            (
                "pacing",
                self.pacing.as_ref().map(|p| match p {
                    PacingGen::Realtime => Y::s("realtime"),
                    PacingGen::Max => Y::s("max"),
                    PacingGen::Speed(f) => Y::Map(vec![("speed".into(), f.y())]),
                    PacingGen::Word(n) => Y::s(n.pick(&["max", "realtime", "max", "fast"])),
                }),
            ),
            ("packets", self.packets.as_ref().map(UInt::y)),
            ("brainflow", self.brainflow.map(|b| Y::raw(b.to_string()))),
            (
                "state",
                (!self.state.is_empty()).then(|| {
                    Y::Map(
                        first(&self.state, 6)
                            .iter()
                            .map(|(k, v)| (k.pick(state), v.y()))
                            .collect(),
                    )
                }),
            ),
            (
                "signals",
                (!self.signals.is_empty()).then(|| {
                    Y::Map(
                        first(&self.signals, 12)
                            .iter()
                            .map(|(k, v)| (k.pick(SIGNALS), v.y()))
                            .collect(),
                    )
                }),
            ),
            (
                "faults",
                (!self.faults.is_empty()).then(|| {
                    Y::Seq(
                        first(&self.faults, 8)
                            .iter()
                            .map(|f| {
                                let mut m = Vec::new();
                                if let Some(a) = &f.at_packet {
                                    m.push(("at_packet".to_string(), a.y()));
                                }
                                let (mut k, mut v) = f.kind.entry();
                                if f.odd.0.is_none() {
                                    // Valid unless the model asks otherwise.
                                    match (&f.kind, &mut v) {
                                        (
                                            FaultKindGen::AdvertiseAfterMs(_)
                                            | FaultKindGen::OutOfRangeMs(_),
                                            _,
                                        ) if !is_ble => k = "stall_ms",
                                        (FaultKindGen::Mute(_), _) => {
                                            m.retain(|(k, _)| k != "at_packet")
                                        }
                                        (FaultKindGen::Garbage(..), Y::Seq(items))
                                            if items.is_empty() =>
                                        {
                                            items.push(Y::raw("0xA0"))
                                        }
                                        _ => {}
                                    }
                                }
                                m.push((k.to_string(), v));
                                if let Some(s) = &f.second.0 {
                                    let (k, v) = s.entry();
                                    m.push((k.to_string(), v));
                                }
                                Y::Map(m)
                            })
                            .collect(),
                    )
                }),
            ),
            (
                "steps",
                self.no_steps
                    .0
                    .is_none()
                    .then(|| Y::Seq(first(&self.steps, 16).iter().map(StepGen::y).collect())),
            ),
            ("expect", self.expect.as_ref().map(|e| e.y(state, commands))),
            ("buffer_size", self.buffer_size.as_ref().map(UInt::y)),
            ("timeout", self.timeout.0.as_ref().map(UInt::y)),
        ];
        let unknown;
        if let Some((k, v)) = &self.unknown.0 {
            unknown = k.pick(&["speed", "device", "step", "expects", "extra"]);
            entries.push((unknown.as_str(), Some(v.y())));
        }
        Y::map(entries)
    }
}

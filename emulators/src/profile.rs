//! Device profiles: a device described completely as YAML data.
//!
//! A profile holds the transport, the state commands change, the command rules
//! (exact and patterned, with their replies) and the packet layout of the stream.
//! [`Profile::load`] parses and validates everything up front, so a bad profile is
//! rejected with its file, line and field before anything is emulated.

use crate::commands::{CommandRule, CommandSet};
use crate::expr::Expr;
use crate::extends::resolve;
use crate::layout::{BitOrder, Endian, Layout};
use crate::limits::{
    MAX_COUNTER_MODULO, MAX_DURATION_MS, MAX_LAYOUT_ITEMS, MAX_NOTIFICATION_BYTES, MAX_STATE_ARRAY,
};
use crate::load::{parse_yaml, semantic_error, LoadError};
use crate::signal::{Generated, Signal, SignalDecl};
use crate::state::{State, StateValue};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The YAML form of a device profile.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileDecl {
    /// Another profile in this folder (`muse_2`) that this one states only
    /// the differences from: each top-level entry written here replaces the
    /// base's whole (a list or a mapping too); the rest comes from the base.
    /// A file with `extends` may leave out any field its base gives.
    #[serde(default)]
    pub extends: Option<String>,
    /// The device's name (`cyton`), equal to the file stem.
    pub name: String,
    /// A line for people.
    #[serde(default)]
    pub description: String,
    /// How the device is reached.
    pub transport: TransportDecl,
    /// State variables and their power-on values.
    #[serde(default)]
    pub state: BTreeMap<String, StateDecl>,
    /// Whether command replies are suppressed while streaming (Cyton: yes).
    #[serde(default)]
    pub quiet_while_streaming: bool,
    /// How the text of commands and replies maps to bytes. `utf8` (the
    /// default) suits text protocols; `latin1` makes every character
    /// U+0000..U+00FF one byte, so a binary protocol writes any byte as
    /// YAML's `"\xA3"` (Shimmer3's opcodes and ACK 0xFF).
    #[serde(default)]
    pub charset: Charset,
    /// What each command does.
    #[serde(default)]
    pub commands: Vec<CommandDecl>,
    /// The data stream of a serial device (one stream, packets on the port).
    pub stream: Option<StreamDecl>,
    /// The notification streams of a BLE device, each on its characteristic(s).
    #[serde(default)]
    pub streams: Vec<StreamDecl>,
    /// Signals the device makes itself (an ADC's internal test signal): while
    /// an entry's `when` holds, the channels it covers carry its signal in
    /// place of the scenario's, on the emulator and in what the harness
    /// expects alike. The first entry that holds wins.
    #[serde(default)]
    pub signals: Vec<DeviceSignalDecl>,
}

/// One signal a device generates itself (see [`ProfileDecl::signals`]).
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeviceSignalDecl {
    /// The channels: a name (`eeg1`) or a prefix pattern (`eeg*`).
    pub channels: String,
    /// While this holds in the device's state (an expression of state).
    pub when: String,
    /// The signal, in the channel's physical unit (a scenario's signal
    /// kinds, except `csv`).
    pub signal: SignalDecl,
}

/// Transport of a device.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TransportDecl {
    /// A serial port (emulated as a pseudo-terminal).
    Serial {
        /// Nominal baud rate (a pty ignores it; real rigs use it).
        baud: u32,
    },
    /// A BLE peripheral (emulated in memory or registered with BlueZ).
    Ble(BleDecl),
}

/// A BLE peripheral: what it advertises and its GATT table.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BleDecl {
    /// Advertised local name (a template over state, e.g. `Ganglion-{serial}`).
    pub name: String,
    /// Service UUIDs in the advertisement.
    #[serde(default)]
    pub advertise: Vec<String>,
    /// GATT services.
    pub services: Vec<ServiceDecl>,
}

/// A GATT service.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceDecl {
    /// Service UUID (16-bit short form like `fe84`, or 128-bit).
    pub uuid: String,
    /// The real device's handle of the service declaration, where public
    /// sources establish it. A BlueZ peripheral asks bluetoothd for it; where
    /// bluetoothd's own services hold it, the table goes where bluetoothd
    /// places it, in the same order (the README says where that differs).
    pub handle: Option<u16>,
    /// Its characteristics, in the real device's handle order: a peripheral
    /// registers them in this order.
    pub characteristics: Vec<CharacteristicDecl>,
}

/// A GATT characteristic.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CharacteristicDecl {
    /// Name used by streams and scenarios (`data`, `tp9`).
    pub name: String,
    /// Characteristic UUID (16-bit short form or 128-bit).
    pub uuid: String,
    /// What a central may do with it.
    pub properties: Vec<CharProperty>,
    /// Static read value: text template over state (`{firmware}.0.0`).
    pub value: Option<String>,
    /// Writes to this characteristic are commands for the command rules.
    #[serde(default)]
    pub commands: bool,
    /// The real device's handle of the characteristic's value (its
    /// declaration is one less), where public sources establish it; see
    /// [`ServiceDecl::handle`].
    pub handle: Option<u16>,
    /// Command replies are notified on this characteristic, cut into
    /// notifications as this says (Muse: JSON in 20-byte notifications).
    /// Without it a BLE device's replies are not sent.
    pub replies: Option<NotifyFramingDecl>,
    /// The packets of the streams on this characteristic are joined into
    /// notifications, as a device that fills a buffer does (the Muse S
    /// Athena: 207-244-byte notifications of several blocks); see
    /// [`crate::join`]. Without it every packet is a notification.
    pub join: Option<JoinDecl>,
}

/// How a device joins packets into notifications: a header, then the
/// packets in the order they were built, as many as fit in `max` bytes. A
/// notification goes out when the next packet would not fit beside it.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JoinDecl {
    /// Bytes a notification holds at most, header included, 1..=512 (the
    /// Athena: 244, its ATT MTU of 247 less the notification's 3-byte
    /// header); a link whose MTU carries less gets less.
    pub max: usize,
    /// Fields before the packets, read with the variables of the
    /// notification's first packet, except `notification` (the
    /// notification's index on this characteristic since the streams
    /// started) and `length` (the notification's length in bytes).
    #[serde(default)]
    pub header: Vec<FieldDecl>,
}

/// How a reply is cut into notifications (see [`crate::notify_frames`]).
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NotifyFramingDecl {
    /// Bytes in every notification (Muse: 20), 1..=512; with
    /// `length_prefix`, at most 256.
    pub size: usize,
    /// Byte 0 of each notification is the length of the reply piece it
    /// carries; the piece follows.
    #[serde(default)]
    pub length_prefix: bool,
    /// A piece also ends after each of these characters (Muse: `,`, so one
    /// JSON member goes per notification); a piece longer than a
    /// notification holds is cut where it is full.
    #[serde(default)]
    pub split_after: String,
    /// The bytes past a piece keep what the previous notification had there
    /// (a device that reuses one buffer, as the Muse does); otherwise zeros.
    #[serde(default)]
    pub stale_tail: bool,
}

/// GATT characteristic properties.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CharProperty {
    /// Readable.
    Read,
    /// Writable with response.
    Write,
    /// Writable without response.
    WriteWithoutResponse,
    /// Sends notifications.
    Notify,
}

/// Expands a 16-bit short UUID (`fe84`, `2a28`) to the Bluetooth base UUID; a
/// 128-bit UUID is returned lower-cased.
pub fn full_uuid(u: &str) -> String {
    let u = u.trim().to_ascii_lowercase();
    if u.len() == 4 && u.chars().all(|c| c.is_ascii_hexdigit()) {
        format!("0000{u}-0000-1000-8000-00805f9b34fb")
    } else {
        u
    }
}

/// How command and reply text maps to bytes (see [`ProfileDecl::charset`]).
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Charset {
    /// UTF-8: the text's own bytes.
    #[default]
    Utf8,
    /// ISO 8859-1: one byte per character, U+0000..U+00FF only.
    Latin1,
}

impl Charset {
    /// The bytes of `text`, or `None` when a character has no byte here.
    pub fn encode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Charset::Utf8 => Some(text.as_bytes().to_vec()),
            Charset::Latin1 => text.chars().map(|c| u8::try_from(c).ok()).collect(),
        }
    }

    /// `bytes` as text (lossy for invalid UTF-8).
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            Charset::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Charset::Latin1 => bytes.iter().map(|b| *b as char).collect(),
        }
    }
}

/// A state variable: a number, or an array of numbers indexed from 1.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum StateDecl {
    /// A scalar with its power-on value.
    Scalar(f64),
    /// An array.
    Array {
        /// Number of elements.
        size: usize,
        /// Power-on value of every element.
        default: f64,
    },
}

/// One command rule.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandDecl {
    /// Name used in transcripts and expectations.
    pub name: String,
    /// An exact command text (`v`, `b`).
    #[serde(rename = "match")]
    pub literal: Option<String>,
    /// A patterned command (`x` … `X`, 9 characters).
    pub frame: Option<FrameDecl>,
    /// Fields of a patterned command, by name: position and accepted characters.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldMatchDecl>,
    /// State assignments, `target: expression`; targets are `name`, `name[expr]`
    /// or `name[*]`. All right-hand sides see the state before the command.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Reply text; `{name}` is replaced by a field or state value.
    pub reply: Option<String>,
    /// Starts or stops the stream.
    pub stream: Option<StreamAction>,
    /// Restores every state variable to its power-on value first.
    #[serde(default)]
    pub reset: bool,
}

/// Framing of a patterned command.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FrameDecl {
    /// The first character; omitted when field 0's characters start the command.
    pub start: Option<String>,
    /// Total length in characters.
    pub length: usize,
    /// The required last character.
    pub end: Option<String>,
    /// Reply when `end` arrives before `length` characters.
    pub too_few: Option<String>,
    /// Reply when the last character is not `end`.
    pub bad_end: Option<String>,
    /// Reply when a field has a character it does not accept.
    pub bad_field: Option<String>,
    /// A command still incomplete this long after its first character is dropped,
    /// so a stray start character cannot swallow later commands for ever.
    pub timeout_ms: Option<u64>,
    /// Reply when an incomplete command is dropped after `timeout_ms` (sent when
    /// the next byte arrives).
    pub timeout_reply: Option<String>,
}

/// A field of a patterned command.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldMatchDecl {
    /// Zero-based character position.
    pub at: usize,
    /// Accepted characters and the value each stands for.
    #[serde(default, deserialize_with = "char_map")]
    pub map: BTreeMap<String, f64>,
    /// Accepts every byte, standing for its own value (0..255): a binary
    /// argument such as a little-endian divider's low byte. Replaces `map`.
    #[serde(default)]
    pub any_byte: bool,
    /// The value of every byte `map` does not list (a firmware that reads any
    /// character and falls back to a default). Not for position 0.
    pub default: Option<f64>,
}

/// What a command does to the stream.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StreamAction {
    /// Begin streaming packets.
    Start,
    /// Stop streaming packets.
    Stop,
}

/// A data stream.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamDecl {
    /// Name for reports (`eeg`, `accel`); default `data`.
    pub name: Option<String>,
    /// BLE: the characteristic its packets are notified on (a packet may name its own).
    pub characteristic: Option<String>,
    /// The stream runs (from a start command) only while this holds, e.g. a preset.
    pub when: Option<String>,
    /// Packets per second (an expression over state, e.g. `sample_rate`).
    pub rate: String,
    /// Signal samples per second, the signals' time base (default: packets per
    /// second divided by the packets of a sample).
    pub sample_rate: Option<String>,
    /// Index of the first signal sample a packet carries (an expression of
    /// `packet`, `sample`; default `sample`); fields add their `offset`.
    pub first_sample: Option<String>,
    /// The packet counter: `counter = (start + packet) % modulo`.
    #[serde(default)]
    pub counter: CounterDecl,
    /// The packets that carry one sample (Cyton: one; Cyton+Daisy: two).
    pub packets: Vec<PacketDecl>,
    /// The device streams without being asked (NeuroPawn Knight: its driver
    /// sends no start command). The emulated stream (packet 0) begins at each
    /// discard of the host's input (`tcflush`): the host throws away whatever
    /// came before (BrainFlow flushes both at prepare and at start), so the
    /// stream it reads starts at its last flush, with the scenario's faults
    /// counted from there.
    #[serde(default)]
    pub autostart: bool,
}

/// The packet counter's range.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CounterDecl {
    /// Counter of the first packet of a stream.
    #[serde(default)]
    pub start: u64,
    /// The counter wraps to 0 here.
    #[serde(default = "default_modulo")]
    pub modulo: u64,
    /// The counter counts samples, not packets: each of a packet's this
    /// many samples carries its own value (BrainAlive's package number, one
    /// per 44-byte record), and `counter` in a field is its first sample's.
    #[serde(default)]
    pub samples: Option<u64>,
}

impl Default for CounterDecl {
    fn default() -> Self {
        CounterDecl {
            start: 0,
            modulo: 256,
            samples: None,
        }
    }
}

fn default_modulo() -> u64 {
    256
}

/// One packet of a sample.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PacketDecl {
    /// BLE: the characteristic this packet is notified on (default: the stream's).
    pub characteristic: Option<String>,
    /// The fields in wire order, packed MSB first unless they say `bit_order: lsb`.
    pub fields: Vec<FieldDecl>,
}

/// A field of a packet (or a group of fields).
#[derive(Debug, Clone, Deserialize, JsonSchema, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldDecl {
    /// A name for reports and expected-value queries.
    pub name: Option<String>,
    /// Width in bits.
    pub bits: Option<u32>,
    /// Two's complement.
    #[serde(default)]
    pub signed: bool,
    /// Byte order of a byte-aligned field.
    #[serde(default)]
    pub endian: Endian,
    /// Bit order (`msb`, the default, or `lsb`); on a `repeat` or `one_of`
    /// it is every inner field's unless that one says otherwise. A run of
    /// fields of one order fills whole bytes.
    pub bit_order: Option<BitOrder>,
    /// A raw value (expression).
    pub value: Option<String>,
    /// A signal name (may use `{i}` of an enclosing repeat).
    pub signal: Option<String>,
    /// Physical units per count (expression) for a signal field.
    pub scale: Option<String>,
    /// Which signal sample of the packet this field carries: the stream's
    /// `first_sample` plus this (may use `{i}`-free expressions of the repeat var).
    pub offset: Option<String>,
    /// The raw count that stands for 0 in physical units (Muse: 0x800), an
    /// expression; raw = round(value / scale) + zero.
    pub zero: Option<String>,
    /// Send the difference from the previous signal sample (previous − this), as
    /// delta-compressed formats do (Ganglion firmware 2).
    #[serde(default)]
    pub delta: bool,
    /// Added to a negative raw value before it is packed: a device quirk (the
    /// Ganglion packs negative compressed values one above two's complement,
    /// which BrainFlow's decoder undoes: "a quirk in ganglion data").
    #[serde(default)]
    pub negative_bias: i64,
    /// Send the value as an IEEE 754 binary float (`bits: 32` or `64`) instead of
    /// a rounded integer count: a signal's value / `scale`, or `value`'s result,
    /// as devices that send floats do (NeuroPawn Knight IMU's accel, gyro, mag).
    #[serde(default)]
    pub float: bool,
    /// Send `value` as this many ASCII decimal digits, zero-padded (impedance text).
    pub ascii_digits: Option<u32>,
    /// With `ascii_digits`: send the value's own digits instead, at most
    /// `ascii_digits` and none for 0 or less, as the Ganglion's firmware writes
    /// its impedance (`loadInt` in OpenBCI_Ganglion_Library: `CA 31 32 30 37 5A`
    /// on a real device). The packet is then as long as what it carries.
    #[serde(default)]
    pub unpadded: bool,
    /// The field carries data only when this holds; otherwise zeros.
    pub when: Option<String>,
    /// Repeat `fields` this many times, binding `var` from `from`.
    pub repeat: Option<u32>,
    /// First value of the repeat variable.
    pub from: Option<i64>,
    /// Name of the repeat variable (default `i`).
    pub var: Option<String>,
    /// The repeated fields.
    pub fields: Option<Vec<FieldDecl>>,
    /// Alternatives of equal width; the first whose `when` holds is sent.
    pub one_of: Option<Vec<AltDecl>>,
}

/// One alternative of a `one_of` field.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AltDecl {
    /// The condition.
    pub when: String,
    /// The fields sent when it holds.
    pub fields: Vec<FieldDecl>,
}

fn char_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
    // YAML reads `0: 1` with an integer key; accept any scalar and use its text.
    #[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord)]
    #[serde(untagged)]
    enum Key {
        S(String),
        I(i64),
    }
    let raw: BTreeMap<Key, f64> = BTreeMap::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let k = match k {
                Key::S(s) => s,
                Key::I(i) => i.to_string(),
            };
            (k, v)
        })
        .collect())
}

/// A loaded, validated device profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The file it came from.
    pub path: PathBuf,
    /// The declaration as written, with its `extends` resolved.
    pub decl: ProfileDecl,
    /// Power-on state.
    pub initial_state: State,
    /// Compiled command rules.
    pub commands: CommandSet,
    /// Compiled streams (a serial device has at most one).
    pub streams: Vec<Stream>,
    /// BLE GATT table with full UUIDs, if a BLE device.
    pub ble: Option<BleDecl>,
    /// The device's own signals (see [`ProfileDecl::signals`]), compiled.
    pub generated: Vec<Generated>,
    /// The characteristics whose packets are joined into notifications
    /// (see [`JoinDecl`]), by name.
    pub joins: BTreeMap<String, Join>,
}

/// A compiled [`JoinDecl`].
#[derive(Debug, Clone)]
pub struct Join {
    /// Bytes a notification holds at most, header included.
    pub max: usize,
    /// The header's layout.
    pub header: Layout,
}

/// A compiled stream.
#[derive(Debug, Clone)]
pub struct Stream {
    /// Name for reports.
    pub name: String,
    /// Runs only while this holds (checked when streaming starts).
    pub when: Option<Expr>,
    /// Packets per second.
    pub rate: Expr,
    /// Signal samples per second, if not packets / packets per sample.
    pub sample_rate: Option<Expr>,
    /// First signal sample of a packet, if not `sample`.
    pub first_sample: Option<Expr>,
    /// BLE characteristic (name) of each packet slot.
    pub characteristics: Vec<Option<String>>,
    /// Counter range.
    pub counter: CounterDecl,
    /// One layout per packet of a sample.
    pub packets: Vec<Layout>,
}

/// Names every packet layout may read besides state variables.
pub const PACKET_VARS: &[&str] = &[
    "packet",
    "sample",
    "slot",
    "counter",
    "rate",
    "first",
    "notification",
    "length",
];

impl Profile {
    /// Loads and validates a profile file, with the profiles it extends
    /// (see [`crate::extends`]); an error names the file and line it is about.
    pub fn load(path: &Path) -> Result<Profile, LoadError> {
        let resolved = resolve(path)?;
        let decl: ProfileDecl =
            parse_yaml(path, &resolved.text).map_err(|e| resolved.relocate(e))?;
        Self::from_decl(path, &resolved.text, decl).map_err(|e| resolved.relocate(e))
    }

    /// Validates a parsed declaration (`text` is the source, for error lines).
    pub fn from_decl(path: &Path, text: &str, decl: ProfileDecl) -> Result<Profile, LoadError> {
        let err = |field: String, needle: &str, msg: String| {
            semantic_error(path, text, field, needle, msg)
        };
        if decl.extends.is_some() {
            // Only `load` knows the folder the base is in.
            return Err(err(
                "extends".into(),
                "extends:",
                "`extends` is resolved when the profile is loaded from its file".into(),
            ));
        }
        if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
            if stem != decl.name {
                return Err(err(
                    "name".into(),
                    &format!("name: {}", decl.name),
                    format!("`{}` must equal the file name `{stem}`", decl.name),
                ));
            }
        }
        let mut vars = BTreeMap::new();
        for (name, s) in &decl.state {
            if PACKET_VARS.contains(&name.as_str()) || name == "streaming" {
                return Err(err(
                    format!("state.{name}"),
                    name,
                    format!("`{name}` is reserved"),
                ));
            }
            let v = match s {
                StateDecl::Scalar(v) => StateValue::Scalar(*v),
                StateDecl::Array { size, .. } if *size > MAX_STATE_ARRAY => {
                    return Err(err(
                        format!("state.{name}.size"),
                        name,
                        format!("must be at most {MAX_STATE_ARRAY}"),
                    ));
                }
                StateDecl::Array { size, default } => StateValue::Array(vec![*default; *size]),
            };
            vars.insert(name.clone(), v);
        }
        vars.insert("streaming".into(), StateValue::Scalar(0.0));
        let initial_state = State::new(vars);
        for (i, c) in decl.commands.iter().enumerate() {
            let timeout = c.frame.as_ref().and_then(|f| f.timeout_ms);
            if timeout.is_some_and(|t| t > MAX_DURATION_MS) {
                return Err(err(
                    format!("commands[{i}].frame.timeout_ms"),
                    "timeout_ms",
                    format!("must be at most {MAX_DURATION_MS} (one hour)"),
                ));
            }
        }
        let commands = CommandSet::compile(&decl.commands, &initial_state, decl.charset, &err)?;
        let mut streams = Vec::new();
        if decl.stream.is_some() && !decl.streams.is_empty() {
            return Err(err(
                "streams".into(),
                "streams:",
                "use `stream` (serial) or `streams` (BLE), not both".into(),
            ));
        }
        let ble = match &decl.transport {
            TransportDecl::Ble(b) => Some(b.clone()),
            TransportDecl::Serial { .. } => None,
        };
        if let Some(b) = &ble {
            validate_gatt(b, &err)?;
        }
        let char_names: Vec<&str> = ble
            .iter()
            .flat_map(|b| b.services.iter())
            .flat_map(|s| s.characteristics.iter())
            .map(|c| c.name.as_str())
            .collect();
        let all: Vec<&StreamDecl> = decl.stream.iter().chain(decl.streams.iter()).collect();
        let mut budget = MAX_LAYOUT_ITEMS;
        for (i, s) in all.iter().enumerate() {
            let path = if decl.stream.is_some() {
                "stream".to_string()
            } else {
                format!("streams[{i}]")
            };
            let c = compile_stream(s, &path, &initial_state, &err, &mut budget)?;
            for ch in c.characteristics.iter() {
                match (ch, &ble) {
                    (Some(n), Some(_)) if !char_names.contains(&n.as_str()) => {
                        return Err(err(
                            format!("{path}.characteristic"),
                            n,
                            format!("no characteristic named `{n}` in the GATT table"),
                        ))
                    }
                    (None, Some(_)) => {
                        return Err(err(
                            path.clone(),
                            "",
                            "a BLE stream needs a `characteristic`".into(),
                        ))
                    }
                    _ => {}
                }
            }
            streams.push(c);
        }
        let joins = compile_joins(ble.as_ref(), &streams, &initial_state, &err, &mut budget)?;
        let mut generated = Vec::new();
        for (i, g) in decl.signals.iter().enumerate() {
            let when = compile_expr(
                &g.when,
                &format!("signals[{i}].when"),
                &initial_state,
                &[],
                &err,
            )?;
            let Ok(signal) = Signal::of_decl(&g.signal) else {
                return Err(err(
                    format!("signals[{i}].signal"),
                    "csv",
                    "a device's own signal cannot be a `csv` file".into(),
                ));
            };
            generated.push(Generated {
                channels: g.channels.clone(),
                when,
                signal,
            });
        }
        Ok(Profile {
            path: path.to_path_buf(),
            decl,
            initial_state,
            commands,
            streams,
            ble,
            generated,
            joins,
        })
    }

    /// Whether the device streams unasked (`stream.autostart`, see
    /// [`StreamDecl::autostart`]).
    pub fn autostarts(&self) -> bool {
        self.decl.stream.as_ref().is_some_and(|s| s.autostart)
    }

    /// The first stream (a serial device's only one).
    pub fn stream(&self) -> Option<&Stream> {
        self.streams.first()
    }

    /// The rule named `name`.
    pub fn command(&self, name: &str) -> Option<&CommandRule> {
        self.commands.rules.iter().find(|r| r.name == name)
    }
}

type ErrFn<'a> = dyn Fn(String, &str, String) -> LoadError + 'a;

/// Checks what serde cannot: reply framing that fits, handles that leave room
/// for their declarations and increase through the table (a GATT server lists
/// attributes in handle order), one characteristic at most with `replies`.
fn validate_gatt(ble: &BleDecl, err: &ErrFn<'_>) -> Result<(), LoadError> {
    let mut last: Option<u16> = None;
    let mut replies = 0;
    for (i, s) in ble.services.iter().enumerate() {
        let at = format!("transport.ble.services[{i}]");
        if let Some(h) = s.handle {
            if h == 0 || last.is_some_and(|l| h <= l) {
                return Err(err(
                    format!("{at}.handle"),
                    "handle:",
                    format!("{h:#06x} must be above 0 and above every handle before it"),
                ));
            }
            last = Some(h);
        }
        for (j, c) in s.characteristics.iter().enumerate() {
            let at = format!("{at}.characteristics[{j}]");
            if let Some(h) = c.handle {
                // The declaration takes the handle before the value.
                if h < 2 || last.is_some_and(|l| h - 1 <= l) {
                    return Err(err(
                        format!("{at}.handle"),
                        &c.name,
                        format!(
                            "{h:#06x}: a value handle needs its declaration's handle before it, \
                             above every handle before that"
                        ),
                    ));
                }
                // A notifying characteristic's CCC descriptor follows its value.
                let notify = c.properties.contains(&CharProperty::Notify);
                last = Some(h.saturating_add(u16::from(notify)));
            }
            if let Some(r) = &c.replies {
                replies += 1;
                let max = if r.length_prefix {
                    256
                } else {
                    MAX_NOTIFICATION_BYTES
                };
                if r.size < 1 + usize::from(r.length_prefix) || r.size > max {
                    return Err(err(
                        format!("{at}.replies.size"),
                        &c.name,
                        format!(
                            "{} must be {}..={max}",
                            r.size,
                            1 + usize::from(r.length_prefix)
                        ),
                    ));
                }
                if !c.properties.contains(&CharProperty::Notify) {
                    return Err(err(
                        format!("{at}.replies"),
                        &c.name,
                        format!("`{}` carries replies but has no `notify` property", c.name),
                    ));
                }
            }
            if replies > 1 {
                return Err(err(
                    format!("{at}.replies"),
                    &c.name,
                    "only one characteristic may carry `replies`".into(),
                ));
            }
        }
    }
    Ok(())
}

/// Compiles each characteristic's `join` and checks that every packet sent
/// there fits in a notification beside the header.
fn compile_joins(
    ble: Option<&BleDecl>,
    streams: &[Stream],
    state: &State,
    err: &ErrFn<'_>,
    budget: &mut usize,
) -> Result<BTreeMap<String, Join>, LoadError> {
    let mut joins = BTreeMap::new();
    let chars = ble
        .iter()
        .flat_map(|b| b.services.iter().enumerate())
        .flat_map(|(i, s)| {
            s.characteristics
                .iter()
                .enumerate()
                .map(move |(j, c)| (i, j, c))
        });
    for (i, j, c) in chars {
        let Some(d) = &c.join else { continue };
        let at = format!("transport.ble.services[{i}].characteristics[{j}].join");
        if !c.properties.contains(&CharProperty::Notify) || c.replies.is_some() {
            return Err(err(
                at,
                &c.name,
                format!(
                    "`{}` joins packets into notifications: it needs the `notify` property \
                     and no `replies`",
                    c.name
                ),
            ));
        }
        let header = Layout::compile(&d.header, &format!("{at}.header"), 0, state, err, budget)?;
        if d.max > MAX_NOTIFICATION_BYTES || d.max <= header.len {
            return Err(err(
                format!("{at}.max"),
                "max:",
                format!(
                    "{} must be above the header's {} bytes and at most {MAX_NOTIFICATION_BYTES}",
                    d.max, header.len
                ),
            ));
        }
        for (k, s) in streams.iter().enumerate() {
            for (slot, l) in s.packets.iter().enumerate() {
                if s.characteristics[slot].as_deref() == Some(c.name.as_str())
                    && header.len + l.len > d.max
                {
                    return Err(err(
                        format!("streams[{k}].packets[{slot}]"),
                        &c.name,
                        format!(
                            "a packet of {} bytes does not fit in a notification of `{}` \
                             (join.max {} with a {}-byte header)",
                            l.len, c.name, d.max, header.len
                        ),
                    ));
                }
            }
        }
        joins.insert(c.name.clone(), Join { max: d.max, header });
    }
    Ok(joins)
}

/// Parses an expression and checks that it reads only known names.
pub(crate) fn compile_expr(
    text: &str,
    field: &str,
    state: &State,
    extra: &[&str],
    err: &ErrFn<'_>,
) -> Result<Expr, LoadError> {
    // A long expression is shown by its start: the error should fit a line.
    let shown = match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}… ({} bytes)", &text[..i], text.len()),
        None => text.to_string(),
    };
    let e = Expr::parse(text).map_err(|e| {
        err(
            field.to_string(),
            text,
            format!("bad expression `{shown}`: {e}"),
        )
    })?;
    let mut bad = None;
    e.visit_names(&mut |name, indexed| {
        if bad.is_some() {
            return;
        }
        let ok = match state.kind(name) {
            Some(is_array) => is_array == indexed,
            None => !indexed && extra.contains(&name),
        };
        if !ok {
            bad = Some(name.to_string());
        }
    });
    match bad {
        Some(name) => Err(err(
            field.to_string(),
            text,
            format!("`{shown}`: unknown name `{name}` (or used with the wrong shape)"),
        )),
        None => Ok(e),
    }
}

fn compile_stream(
    s: &StreamDecl,
    path: &str,
    state: &State,
    err: &ErrFn<'_>,
    budget: &mut usize,
) -> Result<Stream, LoadError> {
    let rate = compile_expr(&s.rate, &format!("{path}.rate"), state, &[], err)?;
    let opt = |text: &Option<String>, field: &str, names: &[&str]| {
        text.as_ref()
            .map(|t| compile_expr(t, &format!("{path}.{field}"), state, names, err))
            .transpose()
    };
    let when = opt(&s.when, "when", &[])?;
    let sample_rate = opt(&s.sample_rate, "sample_rate", &["rate"])?;
    let first_sample = opt(
        &s.first_sample,
        "first_sample",
        &["packet", "sample", "counter"],
    )?;
    if s.packets.is_empty() {
        return Err(err(
            format!("{path}.packets"),
            "packets:",
            "at least one packet is needed".into(),
        ));
    }
    // `start` below `modulo`, and `modulo` at most 2^32, keep the counter's
    // `start + packet` from overflowing.
    if s.counter.modulo == 0 || s.counter.modulo > MAX_COUNTER_MODULO {
        return Err(err(
            format!("{path}.counter.modulo"),
            "modulo",
            format!("must be 1..={MAX_COUNTER_MODULO}"),
        ));
    }
    if s.counter.start >= s.counter.modulo {
        return Err(err(
            format!("{path}.counter.start"),
            "start",
            "must be below `modulo`".into(),
        ));
    }
    let mut packets = Vec::new();
    let mut characteristics = Vec::new();
    for (i, p) in s.packets.iter().enumerate() {
        let ppath = format!("{path}.packets[{i}]");
        packets.push(Layout::compile(&p.fields, &ppath, i, state, err, budget)?);
        characteristics.push(
            p.characteristic
                .clone()
                .or_else(|| s.characteristic.clone()),
        );
    }
    Ok(Stream {
        name: s.name.clone().unwrap_or_else(|| "data".into()),
        when,
        rate,
        sample_rate,
        first_sample,
        characteristics,
        counter: s.counter.clone(),
        packets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::parse_yaml;

    fn load(text: &str) -> Result<Profile, LoadError> {
        let p = Path::new("dev.yaml");
        let decl: ProfileDecl = parse_yaml(p, text)?;
        Profile::from_decl(p, text, decl)
    }

    const BASE: &str = "name: dev\ntransport: { serial: { baud: 115200 } }\nstate:\n  srate: 250\n  gain: { size: 2, default: 24 }\n";

    /// A profile of [`BASE`] whose one packet has `fields` (YAML list items,
    /// indented 8 spaces; the first is on line 10).
    fn stream(fields: &str) -> String {
        format!("{BASE}stream:\n  rate: srate\n  packets:\n    - fields:\n{fields}")
    }

    /// Asserts that `text` fails to load with an error at `line` and `field`
    /// whose message contains `words`.
    fn assert_located(text: &str, line: usize, field: &str, words: &str) {
        let e = load(text).unwrap_err();
        assert_eq!(e.line, Some(line), "{e}");
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
        assert!(e.message.contains(words), "{e}");
    }

    #[test]
    fn unknown_name_in_scale_is_located() {
        let text = format!(
            "{BASE}stream:\n  rate: srate\n  packets:\n    - fields:\n        - {{ bits: 8, value: \"0xA0\" }}\n        - {{ bits: 24, signal: eeg1, scale: \"1 / gian[1]\" }}\n"
        );
        let e = load(&text).unwrap_err();
        assert_eq!(e.line, Some(11), "{e}");
        assert!(e.message.contains("gian"), "{e}");
        assert_eq!(
            e.field.as_deref(),
            Some("stream.packets[0].fields[1].scale")
        );
    }

    #[test]
    fn name_must_match_file() {
        let text = BASE.replace("name: dev", "name: other");
        let e = load(&text).unwrap_err();
        assert!(e.message.contains("file name"), "{e}");
    }

    /// The misuses of `bit_order` are load errors naming file, line and field.
    #[test]
    fn bit_order_misuse_is_located() {
        // One 14-bit field LSB first after 4 MSB-first bits: the order
        // changes at bit 4 of a byte.
        let text = stream(
            "        - { bits: 4, value: \"1\" }\n        - { bits: 14, signal: eeg1, bit_order: lsb }\n        - { bits: 6, value: \"0\", bit_order: lsb }\n",
        );
        assert_located(
            &text,
            11,
            "stream.packets[0].fields[1].bit_order",
            "at bit 4 of a byte",
        );
        // The same run as a group fills whole bytes: it loads.
        let text = stream(
            "        - { bits: 8, value: \"1\" }\n        - repeat: 4\n          bit_order: lsb\n          fields: [{ bits: 14, signal: eeg1 }]\n",
        );
        let p = load(&text).unwrap();
        let leaves = p.stream().unwrap().packets[0].leaves();
        assert_eq!(leaves.len(), 5);
        assert_eq!(leaves[0].bit_order, BitOrder::Msb);
        assert!(leaves[1..].iter().all(|l| l.bit_order == BitOrder::Lsb));
        // `endian: little` says nothing more under `bit_order: lsb`.
        let text = stream(
            "        - repeat: 2\n          bit_order: lsb\n          fields: [{ bits: 16, signal: eeg1, endian: little }]\n",
        );
        let e = load(&text).unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("stream.packets[0].fields[0].fields[0].endian"),
            "{e}"
        );
        assert!(e.message.contains("drop `endian: little`"), "{e}");
        // An unknown order is a parse error on its line.
        let text = stream("        - { bits: 8, value: \"1\", bit_order: lsbfirst }\n");
        let e = load(&text).unwrap_err();
        assert_eq!(e.line, Some(10), "{e}");
        assert!(e.message.contains("lsbfirst"), "{e}");
    }

    /// `unpadded` ASCII digits are the value's own: the fields after them
    /// move up and the packet ends earlier; without `ascii_digits` it is a
    /// located load error.
    #[test]
    fn unpadded_digits_shorten_the_packet() {
        let text = stream(
            "        - { bits: 8, value: \"0xCA\" }\n        - { ascii_digits: 6, unpadded: true, value: \"srate * 5 - 43\" }\n        - { bits: 8, value: \"0x5A\" }\n",
        );
        let p = load(&text).unwrap();
        let layout = &p.stream().unwrap().packets[0];
        assert_eq!(layout.len, 8, "the widest packet");
        let v = crate::layout::PacketVars {
            packet: 0,
            sample: 0,
            counter: 0,
            rate: 250.0,
            first: 0,
            notification: 0,
            length: 8,
        };
        let signals = crate::signal::SignalSet::default();
        let encode = |state: &State| layout.encode(state, &signals, &v);
        assert_eq!(encode(&p.initial_state), b"\xCA1207Z");
        // No digit for 0 or less (here −3), as the Ganglion's `loadInt` writes none.
        let mut below = p.initial_state.clone();
        assert!(below.set("srate", 8.0));
        assert_eq!(encode(&below), b"\xCAZ");
        assert_located(
            &stream("        - { bits: 8, value: \"1\", unpadded: true }\n"),
            10,
            "stream.packets[0].fields[0].unpadded",
            "goes with `ascii_digits`",
        );
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = format!("{BASE}colour: red\n");
        let e = load(&text).unwrap_err();
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        assert_eq!(e.line, Some(6));
    }
}

//! A structure-aware device profile: an `Arbitrary` model of a profile file
//! (transport and GATT table, state, commands with frames and fields, packet
//! layouts with nested `repeat` and `one_of`, expressions), written as YAML
//! with [`crate::yaml`]. Expressions name the state the profile declares, the
//! packet variables and the `repeat` variables in scope, so most of them
//! compile; packets are padded to whole bytes and `one_of` widths computed
//! unless the model says otherwise, so layouts get past their checks.

use crate::yaml::{first, pick, Float, Name, Rare, Small, Text, UInt, Y};
use arbitrary::Arbitrary;

const STATE: &[&str] = &[
    "sample_rate",
    "gain",
    "power",
    "firmware",
    "preset",
    "accel",
    "end_byte",
    "mode",
    "serial",
    "x",
    // Reserved: an error (the last two of the vocabulary, picked rarely).
    "packet",
    "streaming",
];

const PACKET_VARS: &[&str] = &["packet", "sample", "slot", "counter", "rate", "first"];

const CHARS: &[&str] = &["data", "command", "eeg", "aux", "control", "status"];

const COMMANDS: &[&str] = &[
    "start",
    "stop",
    "soft_reset",
    "channel_settings",
    "channel_off",
    "sample_rate",
    "preset",
    "version",
];

const TEXTS: &[&str] = &[
    "b",
    "s",
    "v",
    "x",
    "X",
    "~",
    "$$$",
    "Success: Channel set for {channel}$$$",
    "Sample rate is {sample_rate}Hz$$$",
    "{nope}",
    "{",
    "",
    "Ganglion-{serial}",
    "{firmware}.0.0",
    "ab",
    "\u{e9}",
];

const SIGNALS: &[&str] = &[
    "eeg{i}", "eeg{k}", "eeg1", "accel_x", "gyro_z", "ppg{i}", "aux", "{i}", "eeg{", "{nope}",
];

const BITS: &[u32] = &[1, 4, 8, 12, 16, 18, 19, 24, 32, 48, 56, 64];

/// An expression over the names in scope.
#[derive(Debug)]
pub enum E {
    /// A number.
    Num(i16),
    /// A hex number.
    Hex(u16),
    /// A fraction.
    Frac(u16),
    /// A scalar name in scope (or not, sometimes).
    Var(u8),
    /// An array element.
    Idx(u8, Box<E>),
    /// A binary operation.
    Bin(u8, Box<E>, Box<E>),
    /// `-e` or `!e`.
    Un(bool, Box<E>),
    /// `(e)`.
    Paren(Box<E>),
    /// Any text.
    Raw(String),
}

/// Names and numbers most of the time, operators often, raw text rarely
/// (each expression that fails to compile fails the whole profile).
impl<'a> Arbitrary<'a> for E {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let tag: u8 = u.arbitrary()?;
        let sub = |u: &mut arbitrary::Unstructured<'a>| E::arbitrary(u).map(Box::new);
        Ok(match tag {
            0..=79 => E::Var(u.arbitrary()?),
            80..=124 => E::Num(u.arbitrary()?),
            125..=134 => E::Hex(u.arbitrary()?),
            135..=144 => E::Frac(u.arbitrary()?),
            145..=159 => E::Idx(u.arbitrary()?, sub(u)?),
            160..=219 => E::Bin(u.arbitrary()?, sub(u)?, sub(u)?),
            220..=234 => E::Un(u.arbitrary()?, sub(u)?),
            235..=251 => E::Paren(sub(u)?),
            _ => E::Raw(u.arbitrary()?),
        })
    }
}

const OPS: &[&str] = &[
    "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||",
];

/// Names an expression may use where it is written.
#[derive(Clone, Default)]
pub struct Scope {
    scalars: Vec<String>,
    arrays: Vec<String>,
}

impl E {
    fn text(&self, s: &Scope, depth: usize, out: &mut String) {
        if depth > 6 {
            out.push('1');
            return;
        }
        match self {
            E::Num(n) => out.push_str(&n.to_string()),
            E::Hex(n) => out.push_str(&format!("0x{n:X}")),
            E::Frac(n) => out.push_str(&format!("{}", f64::from(*n) / 64.0)),
            E::Var(i) => {
                // One in 32 is a name nothing declares (or of the wrong shape).
                if i % 32 == 31 {
                    out.push_str(["nope", "gain", "i"][*i as usize % 3]);
                } else if s.scalars.is_empty() {
                    out.push_str(&(i / 2).to_string());
                } else {
                    out.push_str(&s.scalars[*i as usize % s.scalars.len()]);
                }
            }
            E::Idx(i, e) => {
                match s.arrays.get(*i as usize % s.arrays.len().max(1)) {
                    Some(a) if i % 32 != 31 => out.push_str(a),
                    _ => out.push_str("sample_rate"),
                }
                out.push('[');
                e.text(s, depth + 1, out);
                out.push(']');
            }
            E::Bin(op, a, b) => {
                a.text(s, depth + 1, out);
                out.push(' ');
                out.push_str(pick(*op, OPS));
                out.push(' ');
                b.text(s, depth + 1, out);
            }
            E::Un(neg, e) => {
                out.push(if *neg { '-' } else { '!' });
                e.text(s, depth + 1, out);
            }
            E::Paren(e) => {
                out.push('(');
                e.text(s, depth + 1, out);
                out.push(')');
            }
            E::Raw(t) => out.extend(t.chars().take(40)),
        }
    }

    fn y(&self, s: &Scope) -> Y {
        let mut out = String::new();
        self.text(s, 0, &mut out);
        Y::s(out)
    }
}

/// One character (frame start and end), usually.
fn one_char(t: &Text) -> Y {
    match t {
        Text::Known(i) => Y::s(pick(*i, &["x", "X", "z", "Z", "~", "/", "p", "b", "$"])),
        raw => raw.y(TEXTS),
    }
}

#[derive(Debug, Arbitrary)]
enum Uuid {
    Short(u16),
    Long(u128),
    Raw(String),
}

impl Uuid {
    fn y(&self) -> Y {
        match self {
            Uuid::Short(n) => Y::s(format!("{n:04x}")),
            Uuid::Long(n) => {
                let h = format!("{n:032x}");
                Y::s(format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                ))
            }
            Uuid::Raw(s) => Y::s(s.chars().take(40).collect::<String>()),
        }
    }
}

#[derive(Debug, Arbitrary)]
struct CharGen {
    name: Name,
    uuid: Uuid,
    properties: Vec<u8>,
    value: Option<Text>,
    commands: Option<bool>,
}

#[derive(Debug, Arbitrary)]
struct ServiceGen {
    uuid: Uuid,
    characteristics: Vec<CharGen>,
}

#[derive(Debug, Arbitrary)]
enum TransportGen {
    Serial(Rare<()>, UInt),
    Ble {
        name: Text,
        advertise: Vec<Uuid>,
        services: Vec<ServiceGen>,
    },
    Wrong(u8, Name),
}

impl TransportGen {
    fn y(&self) -> Y {
        let one = |k: &str, v: Y| Y::Map(vec![(k.to_string(), v)]);
        match self {
            TransportGen::Serial(no_baud, baud) => one(
                "serial",
                Y::map(vec![("baud", no_baud.0.is_none().then(|| baud.y()))]),
            ),
            TransportGen::Ble {
                name,
                advertise,
                services,
            } => one(
                "ble",
                Y::map(vec![
                    ("name", Some(name.y(TEXTS))),
                    (
                        "advertise",
                        (!advertise.is_empty())
                            .then(|| Y::Seq(first(advertise, 3).iter().map(Uuid::y).collect())),
                    ),
                    (
                        "services",
                        Some(Y::Seq(
                            first(services, 3)
                                .iter()
                                .map(|s| {
                                    Y::map(vec![
                                        ("uuid", Some(s.uuid.y())),
                                        (
                                            "characteristics",
                                            Some(Y::Seq(
                                                first(&s.characteristics, 4)
                                                    .iter()
                                                    .map(|c| {
                                                        Y::map(vec![
                                                            ("name", Some(Y::s(c.name.pick(CHARS)))),
                                                            ("uuid", Some(c.uuid.y())),
                                                            (
                                                                "properties",
                                                                Some(Y::Seq(
                                                                    first(&c.properties, 4)
                                                                        .iter()
                                                                        .map(|p| {
                                                                            Y::s(pick(
                                                                                *p,
                                                                                &[
                                                                                    "read",
                                                                                    "write",
                                                                                    "write_without_response",
                                                                                    "notify",
                                                                                    "read",
                                                                                    "write",
                                                                                    "notify",
                                                                                    "notify",
                                                                                    "notify",
                                                                                    "indicate",
                                                                                ],
                                                                            ))
                                                                        })
                                                                        .collect(),
                                                                )),
                                                            ),
                                                            ("value", c.value.as_ref().map(|t| t.y(TEXTS))),
                                                            (
                                                                "commands",
                                                                c.commands.map(|b| Y::raw(b.to_string())),
                                                            ),
                                                        ])
                                                    })
                                                    .collect(),
                                            )),
                                        ),
                                    ])
                                })
                                .collect(),
                        )),
                    ),
                ]),
            ),
            TransportGen::Wrong(g, _) if *g >= 24 => one("serial", Y::map(vec![("baud", Some(Y::raw("115200")))])),
            TransportGen::Wrong(_, n) => Y::s(n.pick(&["serial", "ble", "usb"])),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum StateGen {
    Scalar(Float),
    Array(Small, Float),
    /// `size` alone, or a string.
    Wrong(u8, UInt),
}

#[derive(Debug, Arbitrary)]
struct FrameGen {
    start: Option<Text>,
    /// Without `start` (then a field at 0 must give the start characters).
    no_start: Rare<()>,
    length: Small,
    end: Option<Text>,
    too_few: Rare<Text>,
    bad_end: Rare<Text>,
    bad_field: Option<Text>,
    timeout_ms: Option<UInt>,
}

#[derive(Debug, Arbitrary)]
struct FieldMatchGen {
    at: Small,
    map: Vec<(Text, Float)>,
}

#[derive(Debug, Arbitrary)]
enum Target {
    /// A scalar state variable.
    Scalar(u8),
    /// `array[field]`, `array[*]` or `array[3]`.
    Index(u8, u8),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum CommandKind {
    Match(Text),
    Frame(FrameGen),
    /// Both or neither, an error (unless the gate says otherwise).
    Odd(u8, Text, FrameGen),
}

#[derive(Debug, Arbitrary)]
struct CommandGen {
    name: Name,
    kind: CommandKind,
    fields: Vec<(Name, FieldMatchGen)>,
    set: Vec<(Target, E)>,
    reply: Option<Text>,
    stream: Option<u8>,
    reset: Rare<bool>,
}

impl CommandGen {
    fn y(&self, scope: &Scope) -> Y {
        let field_names: Vec<String> = first(&self.fields, 4)
            .iter()
            .map(|(n, _)| n.pick(&["channel", "rate", "mode", "code"]))
            .collect();
        let mut inner = scope.clone();
        inner.scalars.extend(field_names.iter().cloned());
        let (literal, frame) = match &self.kind {
            CommandKind::Match(t) => (Some(t), None),
            CommandKind::Frame(f) => (None, Some(f)),
            CommandKind::Odd(g, t, f) => match g {
                0..=11 => (Some(t), Some(f)),
                12..=23 => (None, None),
                _ => (Some(t), None),
            },
        };
        // Fields sit inside the frame (a single match is a frame of its length).
        let length = match (literal, frame) {
            (_, Some(f)) => f.length.value().map(|l| l.max(1)),
            (Some(Text::Known(i)), None) => Some(pick(*i, TEXTS).len().max(1) as u64),
            _ => None,
        };
        Y::map(vec![
            ("name", Some(Y::s(self.name.pick(COMMANDS)))),
            ("match", literal.map(|t| t.y(TEXTS))),
            (
                "frame",
                frame.map(|f| {
                    Y::map(vec![
                        (
                            "start",
                            match (&f.start, &f.no_start.0) {
                                (Some(t), _) => Some(one_char(t)),
                                (None, Some(_)) => None,
                                (None, None) => Some(Y::s("~")),
                            },
                        ),
                        (
                            "length",
                            Some(match f.length.value() {
                                Some(0) => Y::raw("1"),
                                _ => f.length.y(),
                            }),
                        ),
                        ("end", f.end.as_ref().map(one_char)),
                        ("too_few", f.too_few.0.as_ref().map(|t| t.y(TEXTS))),
                        ("bad_end", f.bad_end.0.as_ref().map(|t| t.y(TEXTS))),
                        ("bad_field", f.bad_field.as_ref().map(|t| t.y(TEXTS))),
                        ("timeout_ms", f.timeout_ms.as_ref().map(UInt::y)),
                    ])
                }),
            ),
            (
                "fields",
                (!self.fields.is_empty()).then(|| {
                    Y::Map(
                        first(&self.fields, 4)
                            .iter()
                            .zip(&field_names)
                            .map(|((_, f), n)| {
                                (
                                    n.clone(),
                                    Y::map(vec![
                                        (
                                            "at",
                                            Some(match (f.at.value(), length) {
                                                (Some(a), Some(l)) => Y::raw((a % l).to_string()),
                                                _ => f.at.y(),
                                            }),
                                        ),
                                        (
                                            "map",
                                            Some(Y::Map(
                                                first(&f.map, 8)
                                                    .iter()
                                                    .map(|(k, v)| {
                                                        let k = match k {
                                                            Text::Known(i) => ((b'0' + i % 10)
                                                                as char)
                                                                .to_string(),
                                                            Text::Raw(s) => {
                                                                s.chars().take(3).collect()
                                                            }
                                                        };
                                                        (k, v.y())
                                                    })
                                                    .collect(),
                                            )),
                                        ),
                                    ]),
                                )
                            })
                            .collect(),
                    )
                }),
            ),
            (
                "set",
                (!self.set.is_empty()).then(|| {
                    Y::Map(
                        first(&self.set, 4)
                            .iter()
                            .map(|(t, e)| {
                                let k = match t {
                                    Target::Scalar(i) => inner
                                        .scalars
                                        .get(*i as usize % inner.scalars.len().max(1))
                                        .filter(|_| *i < 250)
                                        .cloned()
                                        .unwrap_or_else(|| "nope".into()),
                                    Target::Index(a, i) => format!(
                                        "{}[{}]",
                                        scope
                                            .arrays
                                            .get(*a as usize % (scope.arrays.len() + 1))
                                            .map_or("power", String::as_str),
                                        match i % 4 {
                                            0 => "*".to_string(),
                                            1 => (i / 4).to_string(),
                                            _ => field_names.first().cloned().unwrap_or("i".into()),
                                        }
                                    ),
                                    // Rarely: most raw strings are short.
                                    Target::Raw(s) if s.len() > 3 => s.chars().take(20).collect(),
                                    Target::Raw(_) => {
                                        inner.scalars.first().cloned().unwrap_or("nope".into())
                                    }
                                };
                                (k, e.y(&inner))
                            })
                            .collect(),
                    )
                }),
            ),
            ("reply", self.reply.as_ref().map(|t| t.y(TEXTS))),
            (
                "stream",
                self.stream.map(|s| {
                    Y::s(match s {
                        0..=127 => "start",
                        128..=250 => "stop",
                        _ => "pause",
                    })
                }),
            ),
            ("reset", self.reset.0.map(|b| Y::raw(b.to_string()))),
        ])
    }
}

/// A packet field.
#[derive(Debug, Arbitrary)]
pub enum FieldGen {
    /// A computed value.
    Value {
        name: Option<Name>,
        bits: u8,
        signed: Option<bool>,
        little: Option<bool>,
        value: E,
        when: Rare<E>,
        ascii_digits: Rare<Small>,
    },
    /// A signal sample.
    Signal {
        signal: Name,
        bits: u8,
        signed: Option<bool>,
        scale: Option<E>,
        offset: Rare<E>,
        zero: Rare<E>,
        delta: Rare<bool>,
        negative_bias: Rare<i8>,
        when: Option<E>,
    },
    /// `repeat` over nested fields.
    Repeat {
        repeat: Small,
        from: Option<i8>,
        var: Option<u8>,
        fields: Vec<FieldGen>,
        when: Rare<E>,
    },
    /// `one_of` alternatives; `bits` is computed unless given.
    OneOf {
        bits: Rare<UInt>,
        alts: Vec<(E, Vec<FieldGen>)>,
    },
    /// Keys that do not go together (`value` and `signal`, `repeat` without
    /// `fields`, none at all).
    Mixed(u8, E, Option<UInt>),
}

/// Bit widths: the common ones, or any.
fn bits_of(b: u8) -> Y {
    if b < 240 {
        Y::raw(BITS[b as usize % BITS.len()].to_string())
    } else {
        Y::raw(
            [
                "0",
                "65",
                "4294967288",
                "4294967295",
                "32768",
                "-8",
                "8.5",
                "x",
            ][b as usize % 8]
                .to_string(),
        )
    }
}

fn bits_value(b: u8) -> Option<u64> {
    (b < 240).then(|| u64::from(BITS[b as usize % BITS.len()]))
}

impl FieldGen {
    /// The field as YAML, and its width in bits when known.
    fn y(&self, scope: &Scope, depth: usize) -> (Y, Option<u64>) {
        let b = |x: bool| Y::raw(x.to_string());
        match self {
            FieldGen::Value {
                name,
                bits,
                signed,
                little,
                value,
                when,
                ascii_digits,
            } => {
                let digits = ascii_digits.0.as_ref();
                let width = match digits {
                    Some(d) => d.value().map(|d| d * 8),
                    None => bits_value(*bits),
                };
                let y = Y::map(vec![
                    (
                        "name",
                        name.as_ref()
                            .map(|n| Y::s(n.pick(&["start", "id", "pad", "end_byte"]))),
                    ),
                    ("bits", digits.is_none().then(|| bits_of(*bits))),
                    ("signed", signed.map(b)),
                    (
                        "endian",
                        little.map(|l| Y::s(if l { "little" } else { "big" })),
                    ),
                    ("value", Some(value.y(scope))),
                    ("when", when.0.as_ref().map(|w| w.y(scope))),
                    ("ascii_digits", digits.map(Small::y)),
                ]);
                (y, width)
            }
            FieldGen::Signal {
                signal,
                bits,
                signed,
                scale,
                offset,
                zero,
                delta,
                negative_bias,
                when,
            } => {
                let y = Y::map(vec![
                    ("signal", Some(Y::s(signal.pick(SIGNALS)))),
                    ("bits", Some(bits_of(*bits))),
                    ("signed", signed.map(b)),
                    ("scale", scale.as_ref().map(|e| e.y(scope))),
                    ("offset", offset.0.as_ref().map(|e| e.y(scope))),
                    ("zero", zero.0.as_ref().map(|e| e.y(scope))),
                    ("delta", delta.0.map(b)),
                    (
                        "negative_bias",
                        negative_bias.0.map(|n| Y::raw(n.to_string())),
                    ),
                    ("when", when.as_ref().map(|w| w.y(scope))),
                ]);
                (y, bits_value(*bits))
            }
            FieldGen::Repeat {
                repeat,
                from,
                var,
                fields,
                when,
            } => {
                let v = var.map(|v| pick(v, &["k", "j", "i", "packet", "gain"]).to_string());
                let mut inner = scope.clone();
                inner.scalars.push(v.clone().unwrap_or_else(|| "i".into()));
                let (body, w) = fields_y(fields, &inner, depth + 1, false);
                let width = match (repeat.value(), w) {
                    (Some(n), Some(w)) => Some(n * w),
                    _ => None,
                };
                let y = Y::map(vec![
                    ("repeat", Some(repeat.y())),
                    ("from", from.map(|f| Y::raw(f.to_string()))),
                    ("var", v.map(Y::s)),
                    ("when", when.0.as_ref().map(|w| w.y(scope))),
                    ("fields", Some(body)),
                ]);
                (y, width)
            }
            FieldGen::OneOf { bits, alts } => {
                let rendered: Vec<(Y, Y, Option<u64>)> = first(alts, 4)
                    .iter()
                    .map(|(w, f)| {
                        let (body, width) = fields_y(f, scope, depth + 1, false);
                        (w.y(scope), body, width)
                    })
                    .collect();
                // Every alternative padded to the widest, when the widths are known.
                let widest = rendered
                    .iter()
                    .map(|r| r.2)
                    .try_fold(0u64, |m, w| w.map(|w| m.max(w)));
                let alts = rendered
                    .into_iter()
                    .map(|(w, body, width)| {
                        let body = match (body, widest, width) {
                            (Y::Seq(mut items), Some(m), Some(w)) if m > w => {
                                items.extend(pad(m - w));
                                Y::Seq(items)
                            }
                            (body, ..) => body,
                        };
                        Y::Map(vec![("when".into(), w), ("fields".into(), body)])
                    })
                    .collect();
                let (bits_y, width) = match (&bits.0, widest) {
                    (Some(u), _) => (Some(u.y()), None),
                    (None, Some(m)) if m > 0 => (Some(Y::raw(m.to_string())), Some(m)),
                    (None, _) => (Some(Y::raw("8")), Some(8)),
                };
                let y = Y::map(vec![("bits", bits_y), ("one_of", Some(Y::Seq(alts)))]);
                (y, width)
            }
            FieldGen::Mixed(k, e, _) if *k >= 24 => (
                Y::map(vec![
                    ("bits", Some(Y::raw("8"))),
                    ("value", Some(e.y(scope))),
                ]),
                Some(8),
            ),
            FieldGen::Mixed(k, e, n) => {
                let ey = e.y(scope);
                let y = match k % 5 {
                    0 => Y::map(vec![
                        ("bits", Some(Y::raw("8"))),
                        ("value", Some(ey.clone())),
                        ("signal", Some(Y::s("eeg1"))),
                    ]),
                    1 => Y::map(vec![(
                        "repeat",
                        n.as_ref().map(UInt::y).or(Some(Y::raw("2"))),
                    )]),
                    2 => Y::map(vec![("bits", Some(Y::raw("8")))]),
                    3 => Y::map(vec![
                        ("bits", Some(Y::raw("8"))),
                        ("value", Some(ey)),
                        ("scale", Some(Y::raw("2"))),
                    ]),
                    _ => Y::map(vec![
                        ("bits", Some(Y::raw("8"))),
                        ("value", Some(ey)),
                        ("delta", Some(Y::raw("true"))),
                    ]),
                };
                (y, None)
            }
        }
    }
}

/// Padding fields of `bits` in all, at most 64 each.
fn pad(mut bits: u64) -> Vec<Y> {
    let mut out = Vec::new();
    if bits > 4096 * 8 {
        // Past the packet limit anyway: one field, an error.
        bits = bits.min(1 << 40);
        out.push(Y::Map(vec![
            ("bits".into(), Y::raw(bits.to_string())),
            ("value".into(), Y::raw("0")),
        ]));
        return out;
    }
    while bits > 0 {
        let b = bits.min(64);
        bits -= b;
        out.push(Y::Map(vec![
            ("name".into(), Y::s("pad")),
            ("bits".into(), Y::raw(b.to_string())),
            ("value".into(), Y::raw("0")),
        ]));
    }
    out
}

/// A list of fields and its total width when known; `whole` pads it to
/// whole bytes (a packet).
fn fields_y(fields: &[FieldGen], scope: &Scope, depth: usize, whole: bool) -> (Y, Option<u64>) {
    if depth > 4 {
        return (Y::Seq(pad(8)), Some(8));
    }
    let mut items = Vec::new();
    let mut total = Some(0u64);
    for f in first(fields, 6) {
        let (y, w) = f.y(scope, depth);
        items.push(y);
        total = match (total, w) {
            (Some(t), Some(w)) => Some(t + w),
            _ => None,
        };
    }
    if whole {
        if let Some(t) = total {
            let short = (8 - t % 8) % 8;
            // Pad in pieces of at most 64 bits.
            if short > 0 {
                items.extend(pad(short));
                total = Some(t + short);
            }
        }
    }
    (Y::Seq(items), total)
}

#[derive(Debug, Arbitrary)]
struct PacketGen {
    characteristic: Rare<Name>,
    fields: Vec<FieldGen>,
    /// Leave the width as it comes (often not whole bytes).
    unpadded: Rare<()>,
}

#[derive(Debug, Arbitrary)]
struct StreamGen {
    /// Keep an empty `packets` (an error).
    no_packets: Rare<()>,
    name: Option<Name>,
    characteristic: Option<Name>,
    when: Option<E>,
    rate: E,
    sample_rate: Option<E>,
    first_sample: Option<E>,
    counter: Option<(Option<UInt>, Option<UInt>)>,
    packets: Vec<PacketGen>,
    autostart: Rare<bool>,
}

impl StreamGen {
    fn y(&self, scope: &Scope) -> Y {
        let with = |extra: &[&str]| {
            let mut s = scope.clone();
            s.scalars.extend(extra.iter().map(|x| x.to_string()));
            s
        };
        let layout = with(PACKET_VARS);
        Y::map(vec![
            (
                "name",
                self.name
                    .as_ref()
                    .map(|n| Y::s(n.pick(&["eeg", "aux", "data"]))),
            ),
            (
                "characteristic",
                self.characteristic.as_ref().map(|n| Y::s(n.pick(CHARS))),
            ),
            ("when", self.when.as_ref().map(|e| e.y(scope))),
            ("rate", Some(self.rate.y(scope))),
            (
                "sample_rate",
                self.sample_rate.as_ref().map(|e| e.y(&with(&["rate"]))),
            ),
            (
                "first_sample",
                self.first_sample
                    .as_ref()
                    .map(|e| e.y(&with(&["packet", "sample", "counter"]))),
            ),
            (
                "counter",
                self.counter.as_ref().map(|(s, m)| {
                    Y::map(vec![
                        ("start", s.as_ref().map(UInt::y)),
                        ("modulo", m.as_ref().map(UInt::y)),
                    ])
                }),
            ),
            (
                "packets",
                Some(Y::Seq({
                    let mut v: Vec<Y> = first(&self.packets, 3)
                        .iter()
                        .map(|p| {
                            Y::map(vec![
                                (
                                    "characteristic",
                                    p.characteristic.0.as_ref().map(|n| Y::s(n.pick(CHARS))),
                                ),
                                (
                                    "fields",
                                    Some(fields_y(&p.fields, &layout, 0, p.unpadded.0.is_none()).0),
                                ),
                            ])
                        })
                        .collect();
                    if v.is_empty() && self.no_packets.0.is_none() {
                        v.push(Y::Map(vec![("fields".into(), Y::Seq(pad(8)))]));
                    }
                    v
                })),
            ),
            ("autostart", self.autostart.0.map(|b| Y::raw(b.to_string()))),
        ])
    }
}

#[derive(Debug, Arbitrary)]
enum StreamsGen {
    /// `stream:` (serial).
    One(StreamGen),
    /// `streams:` (BLE).
    Many(Vec<StreamGen>),
    /// Both, an error (unless the gate says otherwise).
    Both(u8, StreamGen, StreamGen),
    None,
}

/// A profile file (named `dev`, the fuzz target's file name, almost always).
#[derive(Debug, Arbitrary)]
pub struct ProfileGen {
    other_name: Rare<Name>,
    description: Option<String>,
    transport: TransportGen,
    state: Vec<(Name, StateGen)>,
    quiet_while_streaming: Rare<bool>,
    commands: Vec<CommandGen>,
    streams: StreamsGen,
    unknown: Rare<(Name, UInt)>,
}

impl ProfileGen {
    /// The profile as a YAML tree.
    pub fn y(&self) -> Y {
        let mut scope = Scope::default();
        let mut state = Vec::new();
        for (k, s) in first(&self.state, 8) {
            let k = match k {
                Name::Known(i) if *i < 250 => pick(*i, &STATE[..STATE.len() - 2]).to_string(),
                k => k.pick(STATE),
            };
            let v = match s {
                StateGen::Scalar(f) => {
                    scope.scalars.push(k.clone());
                    f.y()
                }
                StateGen::Array(n, d) => {
                    scope.arrays.push(k.clone());
                    Y::Map(vec![("size".into(), n.y()), ("default".into(), d.y())])
                }
                StateGen::Wrong(i, n) if *i >= 24 => {
                    scope.scalars.push(k.clone());
                    n.y()
                }
                StateGen::Wrong(i, n) => match i % 3 {
                    0 => Y::Map(vec![("size".into(), n.y())]),
                    1 => Y::s("high"),
                    _ => Y::Map(vec![
                        ("size".into(), n.y()),
                        ("default".into(), Y::raw("1")),
                        ("max".into(), Y::raw("2")),
                    ]),
                },
            };
            state.push((k, v));
        }
        let (stream, streams) = match &self.streams {
            StreamsGen::One(s) => (Some(s.y(&scope)), None),
            StreamsGen::Many(v) => (
                None,
                Some(Y::Seq(first(v, 3).iter().map(|s| s.y(&scope)).collect())),
            ),
            StreamsGen::Both(g, a, _) if *g >= 24 => (Some(a.y(&scope)), None),
            StreamsGen::Both(_, a, b) => (Some(a.y(&scope)), Some(Y::Seq(vec![b.y(&scope)]))),
            StreamsGen::None => (None, None),
        };
        let mut entries: Vec<(&str, Option<Y>)> = vec![
            (
                "name",
                Some(Y::s(match &self.other_name.0 {
                    Some(n) => n.pick(&["cyton", "Dev", "dev.yaml", ""]),
                    None => "dev".into(),
                })),
            ),
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
            ("transport", Some(self.transport.y())),
            (
                "quiet_while_streaming",
                self.quiet_while_streaming.0.map(|b| Y::raw(b.to_string())),
            ),
            ("state", (!state.is_empty()).then_some(Y::Map(state))),
            (
                "commands",
                (!self.commands.is_empty()).then(|| {
                    Y::Seq(
                        first(&self.commands, 6)
                            .iter()
                            .map(|c| c.y(&scope))
                            .collect(),
                    )
                }),
            ),
            ("stream", stream),
            ("streams", streams),
        ];
        let unknown;
        if let Some((k, v)) = &self.unknown.0 {
            unknown = k.pick(&["streamz", "states", "name", "extra"]);
            entries.push((unknown.as_str(), Some(v.y())));
        }
        Y::map(entries)
    }
}

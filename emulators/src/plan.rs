//! Layouts compiled to an encoding plan for one device state.
//!
//! A [`Layout`] is the profile's packet as written: expressions over state
//! variables, `repeat` bindings and per-packet variables, signals by name.
//! Interpreting it per packet cost 2.65 µs per Cyton packet (issue #15): every
//! field looked its state variables and its signal up by name and walked its
//! expressions. Between two commands the state does not change, so a [`Plan`]
//! folds state, bindings and constants into each expression once, resolves
//! every signal, and leaves only what depends on the packet (its counter,
//! sample index, …). The device rebuilds its plans when a command changes the
//! state.
//!
//! The plan is the only encoder: [`Layout::encode`] and the channel model's
//! raw values ([`crate::layout::leaf_raw`]) go through it, so what the harness
//! expects and what the emulator sends come from one place.

use crate::expr::Env;
use crate::expr::{binary, unary, BinOp, Expr, UnOp};
use crate::layout::{
    float_bits, float_count, round, BitOrder, Endian, Layout, Leaf, Node, PacketVars, Quantizer,
    Source,
};
use crate::profile::PACKET_VARS;
use crate::signal::{Signal, SignalSet};
use crate::state::{Scope, State};

/// The per-packet variables in [`PACKET_VARS`] order: packet, sample, slot,
/// counter, rate, first, notification, length.
pub type Vars = [f64; 8];

impl PacketVars {
    /// The per-packet variables of a packet in `slot`, as a plan reads them.
    pub fn values(&self, slot: usize) -> Vars {
        [
            self.packet as f64,
            self.sample as f64,
            slot as f64,
            self.counter as f64,
            self.rate,
            self.first as f64,
            self.notification as f64,
            self.length as f64,
        ]
    }
}

/// An expression with the state, bindings and constants folded in: what is
/// left reads only the per-packet variables.
#[derive(Debug, Clone, PartialEq)]
enum Fx {
    Num(f64),
    /// A per-packet variable, by its index in [`Vars`].
    Var(usize),
    /// Evaluates to an error (an unknown variable or element), as the
    /// expression would have; callers apply the same default as before.
    Fail,
    /// `array[index]` with an index that depends on the packet: the array's
    /// values in this state.
    Index(Vec<f64>, Box<Fx>),
    Unary(UnOp, Box<Fx>),
    Binary(BinOp, Box<Fx>, Box<Fx>),
}

impl Fx {
    /// Folds `e` as [`Expr::eval`] would evaluate it in `scope`, leaving the
    /// per-packet variables (unless a binding shadows them, as in
    /// [`Scope`]'s lookup order: bindings, then packet variables, then state).
    fn fold(e: &Expr, scope: &Scope<'_>) -> Fx {
        match e {
            Expr::Num(v) => Fx::Num(*v),
            Expr::Var(n) => {
                if let Some((_, v)) = scope.bindings.iter().find(|(b, _)| b == n) {
                    return Fx::Num(*v);
                }
                if let Some(i) = PACKET_VARS.iter().position(|p| p == n) {
                    return Fx::Var(i);
                }
                scope.state.get(n).map_or(Fx::Fail, Fx::Num)
            }
            Expr::Index(n, i) => match Fx::fold(i, scope) {
                Fx::Num(idx) => scope.index(n, idx.round() as i64).map_or(Fx::Fail, Fx::Num),
                Fx::Fail => Fx::Fail,
                idx => match scope.state.array(n) {
                    Some(values) => Fx::Index(values.to_vec(), Box::new(idx)),
                    None => Fx::Fail,
                },
            },
            Expr::Unary(op, a) => match Fx::fold(a, scope) {
                Fx::Num(v) => Fx::Num(unary(*op, v)),
                Fx::Fail => Fx::Fail,
                a => Fx::Unary(*op, Box::new(a)),
            },
            Expr::Binary(op, a, b) => {
                let a = Fx::fold(a, scope);
                match (&a, op) {
                    (Fx::Fail, _) => return Fx::Fail,
                    (Fx::Num(x), BinOp::And) if *x == 0.0 => return Fx::Num(0.0),
                    (Fx::Num(x), BinOp::Or) if *x != 0.0 => return Fx::Num(1.0),
                    _ => {}
                }
                let b = Fx::fold(b, scope);
                match (&a, op) {
                    // `1 && b` and `0 || b` are the truth of b (and fail as b does).
                    (Fx::Num(_), BinOp::And | BinOp::Or) if !matches!(b, Fx::Num(_) | Fx::Fail) => {
                        return Fx::Binary(BinOp::Ne, Box::new(b), Box::new(Fx::Num(0.0)))
                    }
                    _ => {}
                }
                match (a, b) {
                    // The left side did not short-circuit, so the right one runs.
                    (Fx::Num(_), Fx::Fail) => Fx::Fail,
                    (Fx::Num(x), Fx::Num(y)) => Fx::Num(binary(*op, x, y)),
                    (a, b) => Fx::Binary(*op, Box::new(a), Box::new(b)),
                }
            }
        }
    }

    /// The value for one packet; `None` where the expression would fail.
    fn eval(&self, x: &Vars) -> Option<f64> {
        Some(match self {
            Fx::Num(v) => *v,
            Fx::Var(i) => x[*i],
            Fx::Fail => return None,
            Fx::Index(values, i) => {
                let idx = i.eval(x)?.round() as i64;
                let k = usize::try_from(idx).ok()?.checked_sub(1)?;
                *values.get(k)?
            }
            Fx::Unary(op, a) => unary(*op, a.eval(x)?),
            Fx::Binary(op, a, b) => {
                let l = a.eval(x)?;
                match op {
                    BinOp::And if l == 0.0 => return Some(0.0),
                    BinOp::Or if l != 0.0 => return Some(1.0),
                    _ => {}
                }
                binary(*op, l, b.eval(x)?)
            }
        })
    }

    /// The value if it does not depend on the packet.
    fn constant(&self) -> Option<Option<f64>> {
        match self {
            Fx::Num(v) => Some(Some(*v)),
            Fx::Fail => Some(None),
            _ => None,
        }
    }
}

/// Whether a field carries data: the conjunction of its `when` conditions.
#[derive(Debug, Clone, PartialEq)]
enum Presence {
    Always,
    Never,
    /// Conditions that depend on the packet; a failing one is false.
    When(Vec<Fx>),
}

/// Where a planned field's raw value comes from.
#[derive(Debug, Clone)]
enum Raw {
    /// The same raw value on every packet.
    Const(i64),
    /// An expression, rounded (or a float's bit pattern).
    Value(Fx),
    /// A signal in physical units over a scale.
    Signal {
        /// `None` for a channel the scenario declares no signal for (reads 0).
        signal: Option<Signal>,
        /// Physical units per count (NaN where it fails, which sends 0).
        scale: Fx,
        offset: Option<Fx>,
        zero: Option<Fx>,
        delta: bool,
    },
}

/// One field of a layout, planned for a state and a scenario's signals.
#[derive(Debug, Clone)]
pub struct FieldPlan {
    presence: Presence,
    raw: Raw,
    bits: u32,
    float: bool,
    endian: Endian,
    bit_order: BitOrder,
    ascii_digits: Option<u32>,
    unpadded: bool,
    negative_bias: i64,
    range: Quantizer,
}

impl FieldPlan {
    /// Plans `leaf` for `state` and `signals`.
    pub fn new(leaf: &Leaf, state: &State, signals: &SignalSet) -> FieldPlan {
        Self::given(leaf, state, signals, &[])
    }

    /// Plans `leaf` where the conditions in `known` (folded) hold: those of
    /// the `one_of` alternative the encoder has already chosen, which the
    /// leaf's `when` repeats (see [`Layout`]) and need not be evaluated again.
    fn given(leaf: &Leaf, state: &State, signals: &SignalSet, known: &[Fx]) -> FieldPlan {
        let scope = Scope {
            state,
            extra: &[],
            bindings: &leaf.bindings,
        };
        let mut conds = Vec::new();
        let mut never = false;
        for w in &leaf.when {
            match Fx::fold(w, &scope) {
                Fx::Num(v) if v != 0.0 => {}
                Fx::Num(_) | Fx::Fail => never = true,
                c if known.contains(&c) => {}
                c => conds.push(c),
            }
        }
        let presence = match (never, conds.is_empty()) {
            (true, _) => Presence::Never,
            (false, true) => Presence::Always,
            (false, false) => Presence::When(conds),
        };
        let fold = |e: &Expr| Fx::fold(e, &scope);
        let raw = match &leaf.source {
            Source::Value(e) => {
                let f = fold(e);
                match f.constant() {
                    Some(v) => Raw::Const(value_raw(v, leaf.float, leaf.bits)),
                    None => Raw::Value(f),
                }
            }
            Source::Signal {
                name,
                scale,
                offset,
                delta,
                zero,
            } => Raw::Signal {
                signal: signals.resolve(name, state),
                scale: fold(scale),
                offset: offset.as_deref().map(fold),
                zero: zero.as_deref().map(fold),
                delta: *delta,
            },
        };
        FieldPlan {
            presence,
            raw,
            bits: leaf.bits,
            float: leaf.float,
            endian: leaf.endian,
            bit_order: leaf.bit_order,
            ascii_digits: leaf.ascii_digits,
            unpadded: leaf.unpadded,
            negative_bias: leaf.negative_bias,
            range: Quantizer::new(leaf.bits, leaf.signed),
        }
    }

    /// Whether the field carries data on this packet (otherwise it sends 0).
    pub fn present(&self, x: &Vars) -> bool {
        match &self.presence {
            Presence::Always => true,
            Presence::Never => false,
            Presence::When(c) => c.iter().all(|c| c.eval(x).is_some_and(|v| v != 0.0)),
        }
    }

    /// The raw count the field carries when present, before masking to its
    /// width: a rounded value, a quantized signal (or its difference from the
    /// previous sample), or a float's bit pattern.
    pub fn raw(&self, x: &Vars) -> i64 {
        match &self.raw {
            Raw::Const(v) => *v,
            Raw::Value(e) => value_raw(e.eval(x), self.float, self.bits),
            Raw::Signal {
                signal,
                scale,
                offset,
                zero,
                delta,
            } => {
                let scale = scale.eval(x).unwrap_or(f64::NAN);
                let rate = x[4];
                let off = offset.as_ref().map_or(0.0, |o| o.eval(x).unwrap_or(0.0));
                // The packet's first sample plus the field's offset.
                let n = (x[5] + off).max(0.0) as u64;
                let phys = |n: u64| signal.as_ref().map_or(0.0, |s| s.value(n, rate));
                if self.float {
                    return float_bits(float_count(phys(n), scale, self.bits), self.bits);
                }
                let z = zero.as_ref().map_or(0.0, |z| z.eval(x).unwrap_or(0.0));
                let q = |n: u64| self.range.quantize(phys(n), scale, z);
                if *delta {
                    // The first sample has no predecessor: a delta of 0.
                    n.checked_sub(1).map_or(0, |prev| q(prev) - q(n))
                } else {
                    q(n)
                }
            }
        }
    }

    fn encode(&self, present: bool, x: &Vars, w: &mut BitWriter<'_>) {
        let raw = if present { self.raw(x) } else { 0 };
        match self.ascii_digits {
            Some(d) => {
                let text = match (self.unpadded, raw) {
                    // The firmware's `loadInt` writes no digit for 0 or less.
                    (true, ..=0) => String::new(),
                    (true, _) => raw.to_string(),
                    (false, _) => format!("{:0width$}", raw.max(0), width = d as usize),
                };
                // Wider than its field: the lowest digits, as a fixed-width display.
                for b in text.bytes().skip(text.len().saturating_sub(d as usize)) {
                    w.put(i64::from(b), 8, Endian::Big, BitOrder::Msb);
                }
                // Unpadded: the digits not sent take no room; the fields after
                // them move up and the packet ends earlier (`encode_into`).
            }
            None => {
                let raw = if raw < 0 {
                    raw + self.negative_bias
                } else {
                    raw
                };
                w.put(raw, self.bits, self.endian, self.bit_order)
            }
        }
    }
}

/// A value field's raw count: rounded, or a float's bit pattern; an
/// expression that fails sends 0.
fn value_raw(v: Option<f64>, float: bool, bits: u32) -> i64 {
    let v = v.unwrap_or(0.0);
    if float {
        float_bits(v, bits)
    } else {
        round(v) as i64
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// A field, and whether its presence is the previous field's (the same
    /// conditions), so it is not evaluated again.
    Field(FieldPlan, bool),
    /// Alternatives of equal width: the first whose condition holds is sent,
    /// zeros if none does.
    OneOf {
        bits: u32,
        alts: Vec<(Fx, Vec<Step>)>,
    },
}

/// A packet layout planned for one state and one scenario's signals.
#[derive(Debug, Clone)]
pub struct Plan {
    steps: Vec<Step>,
    len: usize,
    slot: usize,
}

impl Plan {
    /// Plans `layout` for `state` and `signals`; valid until the state changes.
    pub fn new(layout: &Layout, state: &State, signals: &SignalSet) -> Plan {
        Plan {
            steps: steps(&layout.nodes, state, signals, &[]),
            len: layout.len,
            slot: layout.slot,
        }
    }

    /// Appends one packet to `out`.
    pub fn encode_into(&self, v: &PacketVars, out: &mut Vec<u8>) {
        let x = v.values(self.slot);
        let start = out.len();
        out.resize(start + self.len, 0);
        let mut w = BitWriter {
            buf: &mut out[start..],
            bit: 0,
        };
        encode_steps(&self.steps, &x, &mut w);
        // Shorter than the layout only where an `unpadded` field sent fewer
        // digits than its width; whole bytes, as ASCII digits are.
        let used = w.bit.div_ceil(8);
        out.truncate(start + used);
    }
}

/// Plans `nodes`, where the conditions in `known` hold.
fn steps(nodes: &[Node], state: &State, signals: &SignalSet, known: &[Fx]) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::with_capacity(nodes.len());
    for n in nodes {
        let step = match n {
            Node::Leaf(l) => {
                let f = FieldPlan::given(l, state, signals, known);
                // Neighbours often share a condition (a Cyton's three accel
                // axes): it is evaluated once for all of them.
                let same =
                    matches!(out.last(), Some(Step::Field(p, _)) if p.presence == f.presence);
                Step::Field(f, same)
            }
            Node::OneOf { bits, alts } => {
                let mut planned = Vec::with_capacity(alts.len());
                // Inside alternative k, the conditions of 0..k failed and k's held.
                let mut inside = known.to_vec();
                for (cond, bindings, ns) in alts {
                    let scope = Scope {
                        state,
                        extra: &[],
                        bindings,
                    };
                    let c = Fx::fold(cond, &scope);
                    let not = Fx::fold(&Expr::Unary(UnOp::Not, Box::new((**cond).clone())), &scope);
                    inside.push(c.clone());
                    planned.push((c, steps(ns, state, signals, &inside)));
                    inside.pop();
                    inside.push(not);
                }
                Step::OneOf {
                    bits: *bits,
                    alts: planned,
                }
            }
        };
        out.push(step);
    }
    out
}

fn encode_steps(steps: &[Step], x: &Vars, w: &mut BitWriter<'_>) {
    let mut present = false;
    for s in steps {
        match s {
            Step::Field(f, same) => {
                if !same {
                    present = f.present(x);
                }
                f.encode(present, x, w)
            }
            Step::OneOf { bits, alts } => {
                match alts
                    .iter()
                    .find(|(c, _)| c.eval(x).is_some_and(|v| v != 0.0))
                {
                    Some((_, ns)) => encode_steps(ns, x, w),
                    None => w.skip(*bits),
                }
            }
        }
    }
}

/// Writes fields into a packet's bytes, zeroed and of the layout's length
/// ([`Layout::compile`] checked that the fields fill it exactly): each field
/// MSB first from bit 7 of a byte, or LSB first from bit 0 (`bit_order: lsb`).
/// Bits are ORed into place, so a field of zeros is a skip whatever its order.
struct BitWriter<'a> {
    buf: &'a mut [u8],
    /// Bits written so far.
    bit: usize,
}

impl BitWriter<'_> {
    fn put(&mut self, raw: i64, bits: u32, endian: Endian, order: BitOrder) {
        let mask = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let mut v = (raw as u64) & mask;
        if endian == Endian::Little {
            v = v.swap_bytes() >> (64 - bits);
        }
        if self.bit.is_multiple_of(8) && bits.is_multiple_of(8) {
            // Byte-aligned, as nearly every field is: whole bytes at once,
            // high byte first (MSB first) or low byte first (LSB first).
            let n = bits / 8;
            for i in 0..n {
                let shift = match order {
                    BitOrder::Msb => 8 * (n - 1 - i),
                    BitOrder::Lsb => 8 * i,
                };
                self.byte((v >> shift) as u8);
            }
            return;
        }
        for i in 0..bits {
            // The i-th bit sent: counted from the top (MSB) or the bottom (LSB).
            let (b, mask) = match order {
                BitOrder::Msb => ((v >> (bits - 1 - i)) & 1, 0x80u8 >> (self.bit % 8)),
                BitOrder::Lsb => ((v >> i) & 1, 1u8 << (self.bit % 8)),
            };
            if b == 1 {
                // Never past the end: the layout's length is its fields' width.
                if let Some(slot) = self.buf.get_mut(self.bit / 8) {
                    *slot |= mask;
                }
            }
            self.bit += 1;
        }
    }

    /// Leaves `bits` zero bits.
    fn skip(&mut self, bits: u32) {
        self.bit += bits as usize;
    }

    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.bit / 8) {
            *slot = b;
        }
        self.bit += 8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StateValue;
    use std::collections::BTreeMap;

    #[test]
    fn bit_writer_packs_msb_first() {
        let mut out = vec![0xEE; 11];
        // The packet's bytes are zeroed before encoding, as `encode_into` does.
        out[1..].fill(0);
        let mut w = BitWriter {
            buf: &mut out[1..],
            bit: 0,
        };
        let msb = BitOrder::Msb;
        w.put(0b101, 3, Endian::Big, msb);
        w.put(-1, 5, Endian::Big, msb);
        w.put(0x1234, 16, Endian::Little, msb);
        w.put(-2, 24, Endian::Big, msb);
        w.put(crate::layout::float_bits(3.0, 32), 32, Endian::Little, msb);
        assert_eq!(
            out,
            vec![
                0xEE,
                0b1011_1111,
                0x34,
                0x12,
                0xFF,
                0xFF,
                0xFE,
                0x00,
                0x00,
                0x40,
                0x40
            ]
        );
    }

    /// BrainFlow's `extract_lsb_bits` (muse_athena.cpp): bit k of the field
    /// is bit (start + k) % 8 of byte (start + k) / 8. The reference here is
    /// that loop, written out; the writer must agree with it for widths and
    /// offsets that straddle bytes (14-bit EEG, 20-bit optics).
    fn extract_lsb_bits(data: &[u8], start: usize, bits: usize) -> u64 {
        let mut v = 0u64;
        for k in 0..bits {
            let b = start + k;
            v |= u64::from((data[b / 8] >> (b % 8)) & 1) << k;
        }
        v
    }

    #[test]
    fn bit_writer_packs_lsb_first_as_extract_lsb_bits_reads() {
        for width in [14u32, 20, 3, 8, 16] {
            let n = 16usize;
            let values: Vec<i64> = (0..n as i64)
                .map(|i| (i * 0x2f35 + 0x1b7) & ((1 << width) - 1))
                .collect();
            let mut out = vec![0u8; (n * width as usize).div_ceil(8)];
            let mut w = BitWriter {
                buf: &mut out,
                bit: 0,
            };
            for v in &values {
                w.put(*v, width, Endian::Big, BitOrder::Lsb);
            }
            for (i, v) in values.iter().enumerate() {
                let got = extract_lsb_bits(&out, i * width as usize, width as usize);
                assert_eq!(got as i64, *v, "width {width}, field {i}");
            }
        }
        // Two 14-bit fields by hand: 0x2001 then 0x0003.
        // Bits 0..13 = 0x2001, bits 14..27 = 0x0003: byte 0 = 0x01,
        // byte 1 = 0x20 | (0x3 & 0b11) << 6 = 0xE0, byte 2 = 0, byte 3 = 0.
        let mut out = vec![0u8; 4];
        let mut w = BitWriter {
            buf: &mut out,
            bit: 0,
        };
        w.put(0x2001, 14, Endian::Big, BitOrder::Lsb);
        w.put(0x0003, 14, Endian::Big, BitOrder::Lsb);
        w.put(0, 4, Endian::Big, BitOrder::Lsb);
        assert_eq!(out, [0x01, 0xE0, 0x00, 0x00]);
        // A whole-byte LSB-first field on a byte boundary is little-endian.
        let mut out = vec![0u8; 3];
        let mut w = BitWriter {
            buf: &mut out,
            bit: 0,
        };
        w.put(0x12_3456, 24, Endian::Big, BitOrder::Lsb);
        assert_eq!(out, [0x56, 0x34, 0x12]);
    }

    fn state() -> State {
        let mut v = BTreeMap::new();
        v.insert("gain".to_string(), StateValue::Array(vec![1.0, 24.0]));
        v.insert("on".to_string(), StateValue::Scalar(1.0));
        State::new(v)
    }

    /// Folding gives what evaluating does, for every packet, including the
    /// errors and short-circuits the defaults depend on.
    #[test]
    fn folded_expressions_evaluate_as_the_originals() {
        let s = state();
        let texts = [
            "4500000 / 8388607 / gain[i]",
            "on == 1 && sample % 10 == 0",
            "missing + 1",
            "sample > 3 && missing",
            "sample < 3 || missing",
            "0 && missing",
            "1 || missing",
            "missing && 0",
            "gain[sample % 3]",
            "gain[3]",
            "-counter + !on",
            "i * packet",
            "nope[1]",
            "nope[sample]",
        ];
        let bindings = vec![("i".to_string(), 2.0)];
        for text in texts {
            let e = Expr::parse(text).unwrap();
            let scope = Scope {
                state: &s,
                extra: &[],
                bindings: &bindings,
            };
            let f = Fx::fold(&e, &scope);
            for p in 0..25u64 {
                let v = PacketVars {
                    packet: p,
                    sample: p / 2,
                    counter: p % 7,
                    rate: 250.0,
                    first: p / 2,
                    notification: p * 3,
                    length: 20 + p,
                };
                let extra = v.extra(1);
                let scope = Scope {
                    state: &s,
                    extra: &extra,
                    bindings: &bindings,
                };
                let want = e.eval(&scope).ok();
                let got = f.eval(&v.values(1));
                assert_eq!(got, want, "{text} at packet {p}");
            }
        }
    }
}

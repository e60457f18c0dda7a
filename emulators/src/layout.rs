//! Packet layouts: fields of any bit width, packed MSB first (or LSB first
//! where a field or group says `bit_order: lsb`), built from state and
//! declared signals. This is the emulator's encoder; it never uses a driver's decoder.

use crate::expr::Expr;
use crate::limits::{MAX_LAYOUT_ITEMS, MAX_ONE_OF_ALTERNATIVES, MAX_PACKET_BYTES};
use crate::load::LoadError;
use crate::plan::FieldPlan;
use crate::profile::{compile_expr, FieldDecl, PACKET_VARS};
use crate::signal::SignalSet;
use crate::state::{Scope, State};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// Byte order of a byte-aligned multi-byte field.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Endian {
    /// Most significant byte first.
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

/// The order in which a field's bits fill the packet.
///
/// `msb`: bit k of the packet is bit 7 − k % 8 of byte k / 8 and a field's
/// most significant bit comes first (OpenBCI, Muse 2). `lsb`: bit k of the
/// packet is bit k % 8 of byte k / 8 and a field's least significant bit
/// comes first, as BrainFlow's `extract_lsb_bits` reads the Muse S Athena's
/// 14-bit EEG and 20-bit optics. A whole-byte `lsb` field on a byte boundary
/// is a little-endian integer.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum BitOrder {
    /// Most significant bit first, bytes filled from bit 7.
    #[default]
    Msb,
    /// Least significant bit first, bytes filled from bit 0.
    Lsb,
}

/// Where a field's raw value comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// An expression giving the raw value.
    Value(Arc<Expr>),
    /// A declared signal in physical units, divided by `scale` and rounded.
    Signal {
        /// Concrete signal name (`eeg3`).
        name: String,
        /// Physical units per count.
        scale: Arc<Expr>,
        /// Signal sample within the packet, added to the packet's first sample.
        offset: Option<Arc<Expr>>,
        /// Sends previous − this instead of this.
        delta: bool,
        /// Raw count of physical 0.
        zero: Option<Arc<Expr>>,
    },
}

/// One field with its repeat bindings resolved.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// Field path in the profile, for reports.
    pub path: String,
    /// Declared name, if any.
    pub name: Option<String>,
    /// Width in bits (1..=64).
    pub bits: u32,
    /// Two's complement.
    pub signed: bool,
    /// Byte order (byte-aligned fields only).
    pub endian: Endian,
    /// Bit order, the field's own or its group's.
    pub bit_order: BitOrder,
    /// The value.
    pub source: Source,
    /// All must hold for the field to carry data; otherwise it is zero.
    pub when: Vec<Arc<Expr>>,
    /// Repeat variables in force.
    pub bindings: Vec<(String, f64)>,
    /// Sent as this many ASCII decimal digits instead of binary.
    pub ascii_digits: Option<u32>,
    /// The ASCII digits are the value's own, up to `ascii_digits`: the
    /// packet shortens by the digits not sent.
    pub unpadded: bool,
    /// Added to negative raw values before packing (a device quirk).
    pub negative_bias: i64,
    /// Sent as an IEEE 754 float of `bits` (32 or 64): the raw value is the
    /// float's bit pattern, not a rounded count.
    pub float: bool,
}

/// One alternative of a `one_of`: its condition, the repeat bindings the
/// condition sees, and its fields.
pub type Alternative = (Arc<Expr>, Vec<(String, f64)>, Vec<Node>);

/// A node of a compiled layout.
#[derive(Debug, Clone)]
pub enum Node {
    /// A plain field.
    Leaf(Leaf),
    /// Alternatives of equal width.
    OneOf {
        /// Width of every alternative.
        bits: u32,
        /// Conditions (with the bindings they see) and their fields.
        alts: Vec<Alternative>,
    },
}

/// A compiled packet layout.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Nodes in wire order.
    pub nodes: Vec<Node>,
    /// Packet length in bytes (the most: an `unpadded` field's packets are
    /// shorter by the digits they do not send).
    pub len: usize,
    /// Which packet of the sample this is.
    pub slot: usize,
}

/// The per-packet variables a layout reads.
#[derive(Debug, Clone, Copy)]
pub struct PacketVars {
    /// Packet index since the stream started.
    pub packet: u64,
    /// Sample index since the stream started.
    pub sample: u64,
    /// Packet counter as sent.
    pub counter: u64,
    /// Signal samples per second.
    pub rate: f64,
    /// Index of the first signal sample this packet carries.
    pub first: u64,
    /// How many packets were built before this one on its characteristic
    /// (every stream sending there), since the streams started: a device
    /// whose packet index counts per characteristic, not per stream (the
    /// Muse S Athena's). 0 where no device is running (models). In a
    /// joined notification's header: the notifications before it there.
    pub notification: u64,
    /// The packet's length in bytes; in a joined notification's header, the
    /// notification's.
    pub length: u64,
}

impl Layout {
    /// Compiles a packet's fields, spending from `budget` (what is left of
    /// [`MAX_LAYOUT_ITEMS`] for the whole profile) one per field, `repeat`
    /// iteration and expression node.
    pub(crate) fn compile(
        fields: &[FieldDecl],
        path: &str,
        slot: usize,
        state: &State,
        err: &dyn Fn(String, &str, String) -> LoadError,
        budget: &mut usize,
    ) -> Result<Layout, LoadError> {
        let mut c = Compiler { state, err, budget };
        let nodes = c.fields(fields, &format!("{path}.fields"), &[], &[], BitOrder::Msb)?;
        let bits = total_bits(&nodes);
        if bits > MAX_PACKET_BYTES * 8 {
            return Err(err(
                format!("{path}.fields"),
                "",
                format!("fields add up to {bits} bits, over the limit of {MAX_PACKET_BYTES} bytes"),
            ));
        }
        if !bits.is_multiple_of(8) {
            return Err(err(
                format!("{path}.fields"),
                "",
                format!("fields add up to {bits} bits, not whole bytes"),
            ));
        }
        check_alignment(&nodes, 0, &mut BitOrder::Msb, err)?;
        Ok(Layout {
            nodes,
            len: (bits / 8) as usize,
            slot,
        })
    }

    /// Encodes one packet (planning it for `state` first: a device that sends
    /// many keeps a [`crate::plan::Plan`] instead).
    pub fn encode(&self, state: &State, signals: &SignalSet, v: &PacketVars) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        crate::plan::Plan::new(self, state, signals).encode_into(v, &mut out);
        out
    }

    /// Every leaf, in wire order (alternatives included).
    pub fn leaves(&self) -> Vec<&Leaf> {
        let mut out = Vec::new();
        collect_leaves(&self.nodes, &mut out);
        out
    }
}

impl PacketVars {
    /// The per-packet variables as expression scalars.
    pub fn extra(&self, slot: usize) -> [(&'static str, f64); 8] {
        [
            ("packet", self.packet as f64),
            ("sample", self.sample as f64),
            ("slot", slot as f64),
            ("counter", self.counter as f64),
            ("rate", self.rate),
            ("first", self.first as f64),
            ("notification", self.notification as f64),
            ("length", self.length as f64),
        ]
    }
}

fn collect_leaves<'a>(nodes: &'a [Node], out: &mut Vec<&'a Leaf>) {
    for n in nodes {
        match n {
            Node::Leaf(l) => out.push(l),
            Node::OneOf { alts, .. } => alts.iter().for_each(|(_, _, ns)| collect_leaves(ns, out)),
        }
    }
}

/// The width of `nodes` in bits: a u64, which a sum of u32 widths cannot
/// overflow (two `bits: 4294967288` overflowed a u32 sum).
fn total_bits(nodes: &[Node]) -> u64 {
    nodes
        .iter()
        .map(|n| match n {
            Node::Leaf(l) => u64::from(l.bits),
            Node::OneOf { bits, .. } => u64::from(*bits),
        })
        .sum()
}

/// Checks that little-endian fields are whole bytes on byte boundaries and
/// that the bit order changes only between bytes: a byte half filled MSB
/// first and half LSB first is no device's format, and most likely a
/// `bit_order` put on one field of a run instead of on its group. `prev` is
/// the order of the field before `nodes`.
fn check_alignment(
    nodes: &[Node],
    mut offset: u32,
    prev: &mut BitOrder,
    err: &dyn Fn(String, &str, String) -> LoadError,
) -> Result<u32, LoadError> {
    for n in nodes {
        match n {
            Node::Leaf(l) => {
                if l.bit_order != *prev && !offset.is_multiple_of(8) {
                    return Err(err(
                        format!("{}.bit_order", l.path),
                        l.name.as_deref().unwrap_or(""),
                        format!(
                            "the bit order changes at bit {} of a byte: fields of one \
                             `bit_order` must fill whole bytes (put `bit_order` on the group \
                             that holds them all)",
                            offset % 8
                        ),
                    ));
                }
                *prev = l.bit_order;
                if l.endian == Endian::Little
                    && (!offset.is_multiple_of(8) || !l.bits.is_multiple_of(8))
                {
                    return Err(err(
                        l.path.clone(),
                        "little",
                        "a little-endian field must be whole bytes on a byte boundary".into(),
                    ));
                }
                offset += l.bits;
            }
            Node::OneOf { bits, alts } => {
                // Each alternative starts after the same field; the last
                // one's order stands for what follows (alternatives of one
                // group share it; zeros sent when none holds have no order).
                let mut after = *prev;
                for (_, _, ns) in alts {
                    after = *prev;
                    check_alignment(ns, offset, &mut after, err)?;
                }
                *prev = after;
                offset += bits;
            }
        }
    }
    Ok(offset)
}

/// Whether a leaf carries data on packet `v` in `slot`; a condition that
/// cannot be evaluated is false.
pub fn leaf_present(l: &Leaf, state: &State, v: &PacketVars, slot: usize) -> bool {
    FieldPlan::new(l, state, &SignalSet::default()).present(&v.values(slot))
}

/// The raw count a leaf carries on packet `v` in `slot` when present, before
/// masking to its width.
pub fn leaf_raw(l: &Leaf, state: &State, signals: &SignalSet, v: &PacketVars, slot: usize) -> i64 {
    FieldPlan::new(l, state, signals).raw(&v.values(slot))
}

/// The count a float field carries for `phys`: `phys / scale` rounded to the
/// field's precision (binary32 or binary64), as the device's float holds it.
/// A scale that is not finite and non-zero sends 0, as [`quantize`] does.
pub fn float_count(phys: f64, scale: f64, bits: u32) -> f64 {
    if !scale.is_finite() || scale == 0.0 {
        return 0.0;
    }
    let count = phys / scale;
    if bits == 32 {
        f64::from(count as f32)
    } else {
        count
    }
}

/// The bit pattern of `x` as a float of `bits` (32 or 64), for packing.
pub fn float_bits(x: f64, bits: u32) -> i64 {
    if bits == 32 {
        i64::from((x as f32).to_bits())
    } else {
        x.to_bits() as i64
    }
}

/// The signal sample a field carries: the packet's first sample plus its offset.
pub fn signal_index(offset: Option<&Expr>, scope: &Scope<'_>, v: &PacketVars) -> u64 {
    let off = offset.map_or(0.0, |o| o.eval(scope).unwrap_or(0.0));
    (v.first as f64 + off).max(0.0) as u64
}

/// The raw count of physical 0 (0 unless the field says otherwise).
pub fn zero_of(zero: Option<&Expr>, scope: &Scope<'_>) -> f64 {
    zero.map_or(0.0, |z| z.eval(scope).unwrap_or(0.0))
}

/// Physical value → raw count around a zero count, clamped to the field's range.
pub fn quantize_with_zero(phys: f64, scale: f64, zero: f64, bits: u32, signed: bool) -> i64 {
    Quantizer::new(bits, signed).quantize(phys, scale, zero)
}

/// Physical value → raw count: rounded to the nearest count and clamped to the
/// field's range, as an ADC saturates.
pub fn quantize(phys: f64, scale: f64, bits: u32, signed: bool) -> i64 {
    quantize_with_zero(phys, scale, 0.0, bits, signed)
}

/// A field's range as floats, worked out once for the many samples a plan
/// quantizes into it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantizer {
    lo: f64,
    hi: f64,
}

impl Quantizer {
    /// The range of a field of `bits`, two's complement if `signed`.
    pub fn new(bits: u32, signed: bool) -> Quantizer {
        let (lo, hi) = range(bits, signed);
        Quantizer {
            lo: lo as f64,
            hi: hi as f64,
        }
    }

    /// `phys` in counts of `scale` around the count `zero`, rounded and
    /// clamped; a scale that is not finite and non-zero sends the zero count.
    #[inline]
    pub fn quantize(&self, phys: f64, scale: f64, zero: f64) -> i64 {
        if !scale.is_finite() || scale == 0.0 {
            return zero as i64;
        }
        let raw = round((phys + zero * scale) / scale);
        if raw.is_nan() {
            0
        } else {
            raw.max(self.lo).min(self.hi) as i64
        }
    }
}

/// `x.round()` (half away from zero) up to the sign of a zero result, which
/// every caller casts to an integer. Inline rather than libm's `round`, which
/// took 8% of the emulator's time per Cyton packet (x86-64 without SSE4.1 has
/// no rounding instruction). Below 2^52 the cast truncates exactly and
/// `x - t` is the exact fraction; from 2^52 up every float is an integer.
#[inline]
pub fn round(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        let t = x as i64 as f64;
        let d = x - t;
        if d >= 0.5 {
            t + 1.0
        } else if d <= -0.5 {
            t - 1.0
        } else {
            t
        }
    } else {
        x
    }
}

/// The smallest and largest raw value of a field.
pub fn range(bits: u32, signed: bool) -> (i64, i64) {
    if signed {
        let half = 1i128 << (bits - 1);
        ((-half) as i64, (half - 1) as i64)
    } else {
        (0, ((1i128 << bits) - 1).min(i64::MAX as i128) as i64)
    }
}

struct Compiler<'a> {
    state: &'a State,
    err: &'a dyn Fn(String, &str, String) -> LoadError,
    /// What is left of [`MAX_LAYOUT_ITEMS`].
    budget: &'a mut usize,
}

impl Compiler<'_> {
    fn fields(
        &mut self,
        fields: &[FieldDecl],
        path: &str,
        bindings: &[(String, f64)],
        when: &[Arc<Expr>],
        order: BitOrder,
    ) -> Result<Vec<Node>, LoadError> {
        let mut out = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            let p = format!("{path}[{i}]");
            self.field(f, &p, bindings, when, order, &mut out)?;
        }
        Ok(out)
    }

    fn names(&self, bindings: &[(String, f64)]) -> Vec<String> {
        PACKET_VARS
            .iter()
            .map(|s| s.to_string())
            .chain(bindings.iter().map(|(n, _)| n.clone()))
            .collect()
    }

    fn expr(
        &mut self,
        text: &str,
        field: &str,
        bindings: &[(String, f64)],
    ) -> Result<Arc<Expr>, LoadError> {
        let names = self.names(bindings);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let e = compile_expr(text, field, self.state, &names, self.err)?;
        self.spend(e.size(), field, text)?;
        Ok(Arc::new(e))
    }

    /// Takes `n` from the budget, failing once it is spent: the layout's size
    /// after `repeat` expansion is known only while it is being built.
    fn spend(&mut self, n: usize, field: &str, needle: &str) -> Result<(), LoadError> {
        match self.budget.checked_sub(n) {
            Some(left) => {
                *self.budget = left;
                Ok(())
            }
            None => Err(self.fail(
                field.to_string(),
                needle,
                &format!(
                    "the profile's layouts expand to more than {MAX_LAYOUT_ITEMS} fields, \
                     repeats and expression terms"
                ),
            )),
        }
    }

    fn fail(&self, field: String, needle: &str, msg: &str) -> LoadError {
        (self.err)(field, needle, msg.to_string())
    }

    fn field(
        &mut self,
        f: &FieldDecl,
        p: &str,
        bindings: &[(String, f64)],
        when: &[Arc<Expr>],
        inherited: BitOrder,
        out: &mut Vec<Node>,
    ) -> Result<(), LoadError> {
        // A group's `bit_order` is its fields' unless one says otherwise.
        let order = f.bit_order.unwrap_or(inherited);
        let kinds = [
            f.value.is_some(),
            f.signal.is_some(),
            f.repeat.is_some(),
            f.one_of.is_some(),
        ];
        let needle = f
            .name
            .as_deref()
            .or(f.signal.as_deref())
            .or(f.value.as_deref())
            .unwrap_or("");
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(self.fail(
                p.to_string(),
                needle,
                "a field needs exactly one of `value`, `signal`, `repeat` or `one_of`",
            ));
        }
        self.spend(1, p, needle)?;
        let mut when = when.to_vec();
        if let Some(w) = &f.when {
            when.push(self.expr(w, &format!("{p}.when"), bindings)?);
        }
        if let Some(count) = f.repeat {
            let body = f
                .fields
                .as_ref()
                .ok_or_else(|| self.fail(p.to_string(), needle, "`repeat` needs `fields`"))?;
            let var = f.var.clone().unwrap_or_else(|| "i".to_string());
            let from = f.from.unwrap_or(1);
            if from.checked_add(i64::from(count)).is_none() {
                return Err(self.fail(
                    format!("{p}.from"),
                    needle,
                    "`from` + `repeat` is past the largest integer",
                ));
            }
            for k in 0..i64::from(count) {
                self.spend(1, p, needle)?;
                let mut b = bindings.to_vec();
                b.push((var.clone(), (from + k) as f64));
                let nodes = self.fields(body, &format!("{p}.fields"), &b, &when, order)?;
                out.extend(nodes);
            }
            return Ok(());
        }
        if let Some(alts) = &f.one_of {
            let bits = f.bits.ok_or_else(|| {
                self.fail(
                    p.to_string(),
                    needle,
                    "`one_of` needs `bits` (the width of every alternative)",
                )
            })?;
            if bits == 0 || u64::from(bits) > MAX_PACKET_BYTES * 8 {
                return Err(self.fail(
                    format!("{p}.bits"),
                    needle,
                    &format!("`bits` must be 1..={}", MAX_PACKET_BYTES * 8),
                ));
            }
            if alts.is_empty() || alts.len() > MAX_ONE_OF_ALTERNATIVES {
                return Err(self.fail(
                    format!("{p}.one_of"),
                    needle,
                    &format!("needs 1..={MAX_ONE_OF_ALTERNATIVES} alternatives"),
                ));
            }
            let mut compiled = Vec::new();
            let mut earlier: Vec<Arc<Expr>> = Vec::new();
            for (k, a) in alts.iter().enumerate() {
                let ap = format!("{p}.one_of[{k}]");
                let cond = self.expr(&a.when, &format!("{ap}.when"), bindings)?;
                // A leaf of this alternative carries data only when this alternative
                // is the one sent: its condition holds and no earlier one does.
                let mut alt_when = when.clone();
                for e in &earlier {
                    self.spend(e.size() + 1, &ap, &a.when)?;
                    alt_when.push(Arc::new(Expr::Unary(
                        crate::expr::UnOp::Not,
                        Box::new((**e).clone()),
                    )));
                }
                alt_when.push(cond.clone());
                earlier.push(cond.clone());
                let nodes = self.fields(
                    &a.fields,
                    &format!("{ap}.fields"),
                    bindings,
                    &alt_when,
                    order,
                )?;
                let w = total_bits(&nodes);
                if w != u64::from(bits) {
                    return Err(self.fail(
                        ap,
                        &a.when,
                        &format!("this alternative is {w} bits, the `one_of` says {bits}"),
                    ));
                }
                compiled.push((cond, bindings.to_vec(), nodes));
            }
            out.push(Node::OneOf {
                bits,
                alts: compiled,
            });
            return Ok(());
        }
        let bits = match (f.bits, f.ascii_digits) {
            // Eight digits are 64 bits, the widest field.
            (_, Some(d)) if !(1..=8).contains(&d) => {
                return Err(self.fail(format!("{p}.ascii_digits"), needle, "must be 1..=8"))
            }
            (None, Some(d)) => d * 8,
            (Some(b), Some(d)) if b != d * 8 => {
                return Err(self.fail(
                    format!("{p}.bits"),
                    needle,
                    "`bits` must be 8 × `ascii_digits`",
                ))
            }
            (Some(b), _) => b,
            (None, None) => return Err(self.fail(p.to_string(), needle, "missing `bits`")),
        };
        if f.unpadded && f.ascii_digits.is_none() {
            return Err(self.fail(
                format!("{p}.unpadded"),
                needle,
                "`unpadded` goes with `ascii_digits`",
            ));
        }
        if f.ascii_digits.is_some() && f.value.is_none() {
            return Err(self.fail(
                format!("{p}.ascii_digits"),
                needle,
                "`ascii_digits` goes with `value`",
            ));
        }
        if (f.offset.is_some() || f.delta || f.zero.is_some()) && f.signal.is_none() {
            return Err(self.fail(
                p.to_string(),
                needle,
                "`offset`, `delta` and `zero` go with `signal`",
            ));
        }
        if bits == 0 || bits > 64 {
            return Err(self.fail(format!("{p}.bits"), needle, "`bits` must be 1..=64"));
        }
        if order == BitOrder::Lsb && f.endian == Endian::Little {
            return Err(self.fail(
                format!("{p}.endian"),
                needle,
                "`bit_order: lsb` already sends a field's low byte first: drop `endian: little`",
            ));
        }
        if order == BitOrder::Lsb && f.ascii_digits.is_some() {
            return Err(self.fail(
                format!("{p}.ascii_digits"),
                needle,
                "ASCII digits are text, sent first digit first: they take no `bit_order: lsb`",
            ));
        }
        if f.float {
            // A float is its bit pattern: no count to offset, difference,
            // bias, print as digits or sign-extend.
            if bits != 32 && bits != 64 {
                return Err(self.fail(
                    format!("{p}.bits"),
                    needle,
                    "a `float` field is 32 or 64 bits",
                ));
            }
            if f.delta || f.zero.is_some() || f.negative_bias != 0 || f.ascii_digits.is_some() {
                return Err(self.fail(
                    format!("{p}.float"),
                    needle,
                    "`float` does not go with `delta`, `zero`, `negative_bias` or `ascii_digits`",
                ));
            }
        }
        let source = if let Some(v) = &f.value {
            if f.scale.is_some() {
                return Err(self.fail(
                    format!("{p}.scale"),
                    needle,
                    "`scale` goes with `signal`, not `value`",
                ));
            }
            Source::Value(self.expr(v, &format!("{p}.value"), bindings)?)
        } else {
            let template = f.signal.as_deref().unwrap_or_default();
            let name = substitute(template, bindings);
            let scale_text = f.scale.as_deref().unwrap_or("1");
            Source::Signal {
                name,
                scale: self.expr(scale_text, &format!("{p}.scale"), bindings)?,
                offset: f
                    .offset
                    .as_deref()
                    .map(|o| self.expr(o, &format!("{p}.offset"), bindings))
                    .transpose()?,
                delta: f.delta,
                zero: f
                    .zero
                    .as_deref()
                    .map(|z| self.expr(z, &format!("{p}.zero"), bindings))
                    .transpose()?,
            }
        };
        out.push(Node::Leaf(Leaf {
            path: p.to_string(),
            name: f.name.as_ref().map(|n| substitute(n, bindings)),
            bits,
            signed: f.signed,
            endian: f.endian,
            bit_order: order,
            source,
            when,
            bindings: bindings.to_vec(),
            ascii_digits: f.ascii_digits,
            unpadded: f.unpadded,
            negative_bias: f.negative_bias,
            float: f.float,
        }));
        Ok(())
    }
}

/// Replaces `{var}` by the bound value (`eeg{i}` → `eeg3`).
pub fn substitute(template: &str, bindings: &[(String, f64)]) -> String {
    let mut s = template.to_string();
    for (n, v) in bindings {
        s = s.replace(&format!("{{{n}}}"), &format_num(*v));
    }
    s
}

/// Formats a number as people write it: integers without a decimal point.
pub fn format_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_fields_carry_ieee_bits() {
        // 1.5 / 0.5 = 3.0f32 = 0x40400000; 0.1 is rounded to binary32 first.
        assert_eq!(float_count(1.5, 0.5, 32), 3.0);
        assert_eq!(float_bits(3.0, 32), 0x4040_0000);
        assert_eq!(float_count(0.1, 1.0, 32), f64::from(0.1f32));
        assert_eq!(float_count(0.1, 1.0, 64), 0.1);
        assert_eq!(float_bits(-2.0, 64), (-2.0f64).to_bits() as i64);
        assert_eq!(float_count(1.0, 0.0, 32), 0.0);
    }

    #[test]
    fn round_is_std_round_up_to_the_sign_of_zero() {
        let xs = [
            0.5,
            1.5,
            2.5,
            -0.5,
            -1.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
            1e15 + 0.5,
            4503599627370495.5,
            -4503599627370495.5,
            4503599627370497.0,
            1e300,
            -7.2,
            7.7,
            0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for x in xs {
            assert_eq!(round(x), x.round(), "{x}");
        }
        assert!(round(f64::NAN).is_nan());
        let mut x = -1000.0;
        while x < 1000.0 {
            assert_eq!(round(x), x.round(), "{x}");
            x += 0.0625 + 1e-9;
        }
    }

    #[test]
    fn quantize_rounds_and_saturates() {
        assert_eq!(quantize(10.4, 1.0, 8, true), 10);
        assert_eq!(quantize(-1000.0, 1.0, 8, true), -128);
        assert_eq!(quantize(1000.0, 1.0, 8, false), 255);
        assert_eq!(quantize(-5.0, 1.0, 8, false), 0);
        assert_eq!(range(24, true), (-8_388_608, 8_388_607));
    }
}

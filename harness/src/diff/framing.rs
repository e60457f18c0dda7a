//! Packets: the profile's packet layout read back from a stream's bytes.
//!
//! From a serial stream's layouts this takes what framing needs and nothing
//! of how values are made: the constant first byte (the header, Cyton
//! 0xA0), the field that carries the packet counter, the last byte (the end
//! byte, Cyton 0xC0..0xC6) and the channels' fields. Splitting follows the
//! headers: a packet whose next header is not where its length says is as
//! long as the distance to the next header that starts a packet, so a device
//! that sends 34-byte packets shows as packets of 34 bytes.

use super::exchange::Run;
use super::replies::first_difference;
use super::{hex, shown, Report, Side};
use boardloop_emulators::layout::{BitOrder, Endian, Leaf, Node, PacketVars, Source};
use boardloop_emulators::profile::Stream;
use boardloop_emulators::state::{Scope, State};
use boardloop_emulators::CounterModel;
use std::fmt::Write as _;

/// A channel's field within a packet.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelField {
    /// The signal it carries (`eeg1`).
    pub name: String,
    /// Its first bit, counted from the packet's start.
    pub bit: usize,
    /// Width in bits.
    pub bits: u32,
    /// Two's complement.
    pub signed: bool,
    /// Byte order.
    pub endian: Endian,
    /// Bit order.
    pub bit_order: BitOrder,
}

impl ChannelField {
    /// The raw count this field holds in `packet`.
    pub fn decode(&self, packet: &[u8]) -> i64 {
        let w = self.bits as usize;
        let mut v: u64 = 0;
        if self.bit_order == BitOrder::Lsb {
            // Bit k of the field is bit (bit + k) % 8 of byte (bit + k) / 8.
            for k in (0..w).rev() {
                let i = self.bit + k;
                v = v << 1 | u64::from(packet[i / 8] >> (i % 8) & 1);
            }
        } else if self.endian == Endian::Little {
            // Whole bytes on a byte boundary (the profile checks it).
            let at = self.bit / 8;
            for &b in packet[at..at + w / 8].iter().rev() {
                v = v << 8 | u64::from(b);
            }
        } else {
            for i in self.bit..self.bit + w {
                v = v << 1 | u64::from(packet[i / 8] >> (7 - i % 8) & 1);
            }
        }
        if self.signed && w < 64 && v >> (w - 1) & 1 == 1 {
            (v | !0u64 << w) as i64
        } else {
            v as i64
        }
    }
}

/// What framing reads of a stream's packets.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Each slot's packet length (Cyton+Daisy: two slots).
    pub lens: Vec<usize>,
    /// The constant first byte, if the layout starts with one.
    pub header: Option<u8>,
    /// Byte offset and width in bytes of the counter field.
    pub counter: Option<(usize, usize)>,
    /// The counter's range.
    pub model: CounterModel,
    /// The last byte is a field of its own (an end byte).
    pub end_byte: bool,
    /// Each slot's channel fields (outside `one_of` alternatives, whose
    /// meaning depends on the packet).
    pub channels: Vec<Vec<ChannelField>>,
}

/// One packet as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// Offset of its first byte in the run.
    pub start: usize,
    /// Its length: to the next packet's header.
    pub len: usize,
    /// Its slot in the stream's packet cycle.
    pub slot: usize,
    /// Its counter, if the layout has one.
    pub counter: Option<u64>,
}

/// A run's bytes as packets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Framed {
    /// Bytes before the first packet.
    pub preamble: usize,
    /// The packets.
    pub packets: Vec<Packet>,
    /// Bytes after the last whole packet.
    pub tail: Vec<u8>,
}

/// The value a value field takes with the per-packet variables `v`.
fn value_of(leaf: &Leaf, state: &State, v: &PacketVars) -> Option<f64> {
    let Source::Value(e) = &leaf.source else {
        return None;
    };
    let extra = v.extra(0);
    let scope = Scope {
        state,
        extra: &extra,
        bindings: &leaf.bindings,
    };
    e.eval(&scope).ok()
}

impl Shape {
    /// The shape of `stream` in the power-on `state`.
    pub fn of(stream: &Stream, state: &State) -> Shape {
        let vars = |counter: u64, packet: u64| PacketVars {
            packet,
            sample: packet,
            counter,
            rate: 250.0,
            first: packet,
            notification: packet,
            length: 0,
        };
        let (v1, v2) = (vars(3, 1000), vars(200, 77));
        let mut header = None;
        let mut counter = None;
        let mut end_byte = false;
        let mut channels = Vec::new();
        for layout in &stream.packets {
            let mut bit = 0usize;
            let mut fields = Vec::new();
            let last = layout.nodes.len().saturating_sub(1);
            for (i, node) in layout.nodes.iter().enumerate() {
                if let Node::Leaf(leaf) = node {
                    // Framing comes from the first slot's layout; every slot's
                    // channels count.
                    if layout.slot == 0 {
                        let (a, b) = (value_of(leaf, state, &v1), value_of(leaf, state, &v2));
                        let aligned = bit.is_multiple_of(8) && leaf.bits.is_multiple_of(8);
                        if i == 0 && leaf.bits == 8 && a.is_some() && a == b {
                            header = a.map(|h| h as u8);
                        } else if aligned && a == Some(3.0) && b == Some(200.0) && counter.is_none()
                        {
                            counter = Some((bit / 8, leaf.bits as usize / 8));
                        } else if i == last && leaf.bits == 8 && a.is_some() {
                            end_byte = true;
                        }
                    }
                    push_channel(leaf, bit, &mut fields);
                }
                bit += node_bits(node);
            }
            channels.push(fields);
        }
        Shape {
            lens: stream.packets.iter().map(|l| l.len).collect(),
            header,
            counter,
            model: CounterModel::of_stream(stream),
            end_byte,
            channels,
        }
    }

    /// The counter of a packet starting at `p`, if it is in `bytes`.
    fn counter_at(&self, bytes: &[u8], p: usize) -> Option<u64> {
        let (at, w) = self.counter?;
        let b = bytes.get(p + at..p + at + w)?;
        Some(b.iter().fold(0u64, |v, &x| v << 8 | u64::from(x)))
    }

    /// The slot of the packet at `p` (`index`-th in the run): from its
    /// counter, else from its position.
    fn slot_at(&self, bytes: &[u8], p: usize, index: usize) -> usize {
        let n = self.lens.len();
        match self.counter_at(bytes, p) {
            Some(c) if self.model.modulo.is_multiple_of(n as u64) => {
                (self
                    .model
                    .step(self.model.start % self.model.modulo, c % self.model.modulo)
                    % n as u64) as usize
            }
            _ => index % n,
        }
    }

    /// Whether a packet starts at `p`: its header, and the next packet's
    /// header (or the end of the bytes) where its length says.
    fn starts_at(&self, bytes: &[u8], p: usize, index: usize) -> bool {
        let Some(h) = self.header else {
            return true;
        };
        let len = self.lens[self.slot_at(bytes, p, index)];
        bytes[p] == h && bytes.get(p + len).is_none_or(|&b| b == h)
    }

    /// A BLE run's packets: one per notification (each chunk), in the
    /// packet cycle's slots.
    pub fn per_notification(&self, run: &Run) -> Framed {
        let ends = run.chunks.iter().skip(1).map(|c| c.start);
        let ends = ends.chain(std::iter::once(run.bytes.len()));
        let packets = run
            .chunks
            .iter()
            .zip(ends)
            .enumerate()
            .map(|(index, (c, end))| Packet {
                start: c.start,
                len: end - c.start,
                slot: self.slot_at(&run.bytes, c.start, index),
                counter: self.counter_at(&run.bytes[..end], c.start),
            })
            .collect();
        Framed {
            preamble: 0,
            packets,
            tail: Vec::new(),
        }
    }

    /// Splits a run's bytes into packets.
    pub fn split(&self, run: &Run) -> Framed {
        let bytes = &run.bytes;
        let n = bytes.len();
        let mut p = 0;
        while p < n && !self.starts_at(bytes, p, 0) {
            p += 1;
        }
        let mut out = Framed {
            preamble: p,
            ..Framed::default()
        };
        while p < n {
            let index = out.packets.len();
            let slot = self.slot_at(bytes, p, index);
            let nominal = self.lens[slot];
            if p + nominal > n {
                break;
            }
            let next = p + nominal;
            let mut resync = None;
            if self.header.is_some_and(|h| next < n && bytes[next] != h) {
                resync = Some((p + 1..n).find(|&q| self.starts_at(bytes, q, index + 1)));
            }
            let len = match resync {
                Some(Some(q)) => q - p,
                _ => nominal,
            };
            out.packets.push(Packet {
                start: p,
                len,
                slot,
                counter: self.counter_at(bytes, p),
            });
            p += len;
            if resync == Some(None) {
                // No packet starts after this one: the rest is not packets.
                break;
            }
        }
        out.tail = bytes[p.min(n)..].to_vec();
        out
    }
}

/// One packet's framing fields, for comparing: (what, offset in the packet,
/// value).
fn fields(shape: &Shape, run: &Run, f: &Framed, k: usize) -> Vec<(&'static str, usize, u64)> {
    let p = &f.packets[k];
    let b = &run.bytes[p.start..p.start + p.len];
    let mut v = vec![("length", p.len.min(shape.lens[p.slot]), p.len as u64)];
    if shape.header.is_some() {
        v.push(("header byte", 0, u64::from(b[0])));
    }
    if let (Some((at, _)), Some(c)) = (shape.counter, p.counter) {
        match k.checked_sub(1).and_then(|j| f.packets[j].counter) {
            Some(prev) => v.push(("counter step", at, shape.model.step(prev, c))),
            // A device streaming unasked starts its counter anywhere.
            None if !run.autostart => v.push(("first counter", at, c)),
            None => {}
        }
    }
    if shape.end_byte {
        v.push(("end byte", p.len - 1, u64::from(b[p.len - 1])));
    }
    v
}

/// Compares the stream runs packet by packet; reports each run's first
/// packet that differs.
pub fn compare(shape: &Shape, a: &Side, b: &Side, out: &mut Report) {
    out.section("framing");
    let lens: Vec<String> = shape.lens.iter().map(|l| l.to_string()).collect();
    let mut what = format!("  profile: packets of {} bytes", lens.join("/"));
    if let Some(h) = shape.header {
        let _ = write!(what, ", header 0x{h:02x}");
    }
    if let Some((at, w)) = shape.counter {
        let _ = write!(
            what,
            ", counter in byte {at} ({w} byte(s), modulo {})",
            shape.model.modulo
        );
    }
    if shape.end_byte {
        what.push_str(", end byte last");
    }
    out.line(what);
    let (na, nb) = (a.framed.len(), b.framed.len());
    if na != nb {
        out.differs(format!("{}: A streamed {na} time(s), B {nb}", a.label));
    }
    for r in 0..na.min(nb) {
        let (ra, rb) = (&a.exchange.runs[r], &b.exchange.runs[r]);
        let (fa, fb) = (&a.framed[r], &b.framed[r]);
        out.line(format!(
            "  {} {}: {} packets in A, {} in B",
            a.label,
            r + 1,
            fa.packets.len(),
            fb.packets.len()
        ));
        if fa.packets.is_empty() != fb.packets.is_empty() {
            let (has, none) = if fa.packets.is_empty() {
                ("B", "A")
            } else {
                ("A", "B")
            };
            out.differs(format!(
                "{} {}: packets in {has}, none in {none}",
                a.label,
                r + 1
            ));
            continue;
        }
        if !ra.autostart && fa.preamble != fb.preamble {
            out.differs(format!(
                "{} {}: the first packet starts at byte {} in A, {} in B",
                a.label,
                r + 1,
                fa.preamble,
                fb.preamble
            ));
            let at = fa.preamble.min(fb.preamble);
            out.line(format!("    A: {}", shown(&ra.bytes, at)));
            out.line(format!("    B: {}", shown(&rb.bytes, at)));
            continue;
        }
        let n = fa.packets.len().min(fb.packets.len());
        let found = (0..n).find_map(|k| {
            let (xa, xb) = (fields(shape, ra, fa, k), fields(shape, rb, fb, k));
            xa.into_iter()
                .zip(xb)
                .find(|(x, y)| x.0 == y.0 && x.2 != y.2)
                .map(|(x, y)| (k, x, y.2))
        });
        if let Some((k, (what, at, va), vb)) = found {
            let (pa, pb) = (&fa.packets[k], &fb.packets[k]);
            let byte = |p: &Packet| p.start + at;
            let place = if byte(pa) == byte(pb) {
                format!("stream byte {}", byte(pa))
            } else {
                format!("stream byte {} in A, {} in B", byte(pa), byte(pb))
            };
            let value = |v: u64| match what {
                "header byte" | "end byte" => format!("0x{v:02x}"),
                _ => v.to_string(),
            };
            out.differs(format!(
                "{} {} packet {k} ({place}; A line {}, B line {}): {what} {} in A, {} in B",
                a.label,
                r + 1,
                ra.chunk_of(byte(pa)).line,
                rb.chunk_of(byte(pb)).line,
                value(va),
                value(vb)
            ));
            out.line(format!(
                "    A: {}",
                hex(&ra.bytes[pa.start..pa.start + pa.len])
            ));
            out.line(format!(
                "    B: {}",
                hex(&rb.bytes[pb.start..pb.start + pb.len])
            ));
            continue;
        }
        if ra.stopped && rb.stopped {
            if let Some(at) = first_difference(&fa.tail, &fb.tail) {
                out.differs(format!(
                    "{} {}: the bytes after the last packet differ at byte {at}",
                    a.label,
                    r + 1
                ));
                out.line(format!("    A: {}", shown(&fa.tail, at)));
                out.line(format!("    B: {}", shown(&fb.tail, at)));
                continue;
            }
        }
        out.line(format!("    the first {n} packets agree"));
    }
}

fn node_bits(n: &Node) -> usize {
    match n {
        Node::Leaf(l) => l.bits as usize,
        Node::OneOf { bits, .. } => *bits as usize,
    }
}

fn push_channel(leaf: &Leaf, bit: usize, out: &mut Vec<ChannelField>) {
    if let Source::Signal { name, delta, .. } = &leaf.source {
        // Floats, ASCII digits and deltas are not counts to compare as ranges.
        if !leaf.float && leaf.ascii_digits.is_none() && !delta && leaf.bits <= 64 {
            out.push(ChannelField {
                name: name.clone(),
                bit,
                bits: leaf.bits,
                signed: leaf.signed,
                endian: leaf.endian,
                bit_order: leaf.bit_order,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boardloop_emulators::Profile;

    fn shape(name: &str) -> Shape {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../scenarios/devices/{name}.yaml"));
        let p = Profile::load(&path).unwrap();
        Shape::of(p.stream().unwrap(), &p.initial_state)
    }

    #[test]
    fn serial_profiles_give_their_framing() {
        let c = shape("cyton");
        assert_eq!(
            (c.lens.clone(), c.header, c.counter, c.end_byte),
            (vec![33], Some(0xA0), Some((1, 1)), true)
        );
        let names: Vec<&str> = c.channels[0].iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["eeg1", "eeg2", "eeg3", "eeg4", "eeg5", "eeg6", "eeg7", "eeg8"]
        );
        assert_eq!(c.channels[0][7].bit, 8 * (2 + 7 * 3));
        // Cyton+Daisy: the Daisy's channels in the even packets.
        let d = shape("cyton_daisy");
        assert_eq!(d.lens, vec![33, 33]);
        assert_eq!(d.channels[0][0].name, "eeg9");
        assert_eq!(d.channels[1][0].name, "eeg1");
        let f = shape("freeeeg32");
        assert_eq!(
            (
                f.lens.clone(),
                f.header,
                f.counter,
                f.end_byte,
                f.channels[0].len()
            ),
            (vec![99], Some(0xA0), Some((1, 1)), true, 32)
        );
    }

    fn packet(counter: u8, len: usize) -> Vec<u8> {
        let mut p = vec![0u8; len];
        p[0] = 0xA0;
        p[1] = counter;
        p[len - 1] = 0xC0;
        p
    }

    #[test]
    fn a_packet_of_another_length_is_as_long_as_the_distance_to_the_next_header() {
        let c = shape("cyton");
        let mut bytes = b"xy".to_vec();
        for (k, len) in [(0u8, 33), (1, 34), (2, 33), (3, 33)] {
            bytes.extend(packet(k, len));
        }
        bytes.extend(b"$$$");
        let run = Run {
            bytes,
            ..Run::default()
        };
        let f = c.split(&run);
        assert_eq!(f.preamble, 2);
        let lens: Vec<usize> = f.packets.iter().map(|p| p.len).collect();
        assert_eq!(lens, [33, 34, 33, 33]);
        let counters: Vec<Option<u64>> = f.packets.iter().map(|p| p.counter).collect();
        assert_eq!(counters, [Some(0), Some(1), Some(2), Some(3)]);
        assert_eq!(f.tail, b"$$$");
    }

    #[test]
    fn fields_decode_big_and_little_endian_and_sign() {
        let f = |bit, bits, signed, endian| ChannelField {
            name: "x".into(),
            bit,
            bits,
            signed,
            endian,
            bit_order: BitOrder::Msb,
        };
        let p = [0xA0, 0xFF, 0xFF, 0xFE, 0x12, 0x34];
        assert_eq!(f(8, 24, true, Endian::Big).decode(&p), -2);
        assert_eq!(f(8, 24, false, Endian::Big).decode(&p), 0xFF_FFFE);
        assert_eq!(f(32, 16, false, Endian::Little).decode(&p), 0x3412);
        // A 4-bit field in the middle of a byte.
        assert_eq!(f(4, 4, false, Endian::Big).decode(&p), 0);
        assert_eq!(f(4, 4, true, Endian::Big).decode(&[0x0F]), -1);
        // LSB first: the second 14-bit field of [0x01, 0xE0, 0x00, 0x00] is 3
        // (bits 14..27), the first 0x2001.
        let lsb = |bit| ChannelField {
            bit_order: BitOrder::Lsb,
            ..f(bit, 14, false, Endian::Big)
        };
        assert_eq!(lsb(0).decode(&[0x01, 0xE0, 0, 0]), 0x2001);
        assert_eq!(lsb(14).decode(&[0x01, 0xE0, 0, 0]), 3);
    }
}

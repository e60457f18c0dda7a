//! OpenBCI Ganglion notification decoder (sans-IO), firmware 2 and 3, as
//! BrainFlow's `GanglionNative` reads them (`src/board_controller/openbci/
//! ganglion_native.cpp`, `decompress_firmware_2/3`, and `custom_cast.h`).
//!
//! A notification is 20 bytes: `data[0]` is the packet id, then the payload
//! read MSB-first from bit 8:
//! * firmware 3: ids 0–99 carry 8 × 18-bit values (two samples × 4 channels)
//!   shifted left by 6, ids 100–199 carry 8 × 19-bit values shifted left by 5;
//! * firmware 2: id 0 is one raw sample (4 × int24 BE), ids 1–100 carry 8 ×
//!   18-bit deltas, 101–200 8 × 19-bit deltas (`last[i] = last[i+4] − d[i]`
//!   for i 0–3, then `last[i] = last[i−4] − d[i]` for i 4–7);
//! * 18-bit packets carry one accelerometer axis in byte 19;
//! * ids 201–205: impedance of channels 1–4 and the reference, ASCII digits
//!   ending in `Z` (any length ≥ 2 bytes, like BrainFlow).
//!
//! Rows follow BrainFlow's GANGLION_NATIVE layout (15 rows: package, EEG 1–4,
//! accel 5–7, resistance 8–12, timestamp 13, marker 14); the timestamp and
//! marker rows are left at 0 for the driver.

use serde::Serialize;

use super::decoder::DecodeStats;
use super::rows::Rows;

/// Notification length of a data packet.
pub const PACKET_LEN: usize = 20;
/// Rows per sample (BrainFlow's description of board 46).
pub const NUM_ROWS: usize = 15;
/// µV per count: 1.2 V reference / (2^23 − 1) / gain 51 / 1.5 (BrainFlow's
/// `eeg_scale`, which it evaluates in `float`; we use `f64`, so values differ
/// from BrainFlow's by about 1e-7 relative).
pub const EEG_SCALE: f64 = 1.2e6 / (8_388_607.0 * 1.5 * 51.0);
/// g per count of the accelerometer byte (BrainFlow's `accel_scale`; its
/// `0.016f` widened to double is 0.01600000075995922, we use 0.016).
pub const ACCEL_SCALE: f64 = 0.016;

const ROW_PACKAGE: usize = 0;
const ROW_EEG: usize = 1;
const ROW_ACCEL: usize = 5;
const ROW_RESIST: usize = 8;

/// Which firmware produced the packets (read from characteristic 0x2A28:
/// first byte `'3'` means 3, anything else 2, as BrainFlow decides).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum GanglionFirmware {
    /// Delta-compressed packets, ids 0–200.
    V2,
    /// Absolute truncated samples, ids 0–199.
    V3,
}

impl GanglionFirmware {
    /// BrainFlow's rule on the software-revision string.
    pub fn from_revision(rev: &[u8]) -> Self {
        if rev.first() == Some(&b'3') {
            GanglionFirmware::V3
        } else {
            GanglionFirmware::V2
        }
    }
}

/// How an N-bit field with its top bit set becomes negative.
///
/// BrainFlow's `cast_ganglion_bits_to_int32` computes `-(~bits) - 2`, one
/// less than two's complement, commenting "because of a quirk in ganglion
/// data, we need to add 2". This decoder follows BrainFlow by default so its
/// rows equal BrainFlow's for the same notifications (the project is a
/// drop-in for BrainFlow, and BrainFlow's reading is what users of real
/// Ganglions have been getting for years); [`SignConvention::TwosComplement`]
/// is there for firmware that packs plain two's complement. For firmware 3
/// the difference is one LSB of the truncated value (64 or 32 counts, about
/// 0.12 µV); for firmware 2 it is one count per negative delta.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum SignConvention {
    /// `-(~bits) - 2` for negative fields (BrainFlow 5.x).
    #[default]
    BrainFlow,
    /// Plain two's complement.
    TwosComplement,
}

impl SignConvention {
    /// Sign-extends the low `n` bits of `bits` (n in 2..=31).
    pub fn extend(self, bits: u32, n: u32) -> i32 {
        let mask = (1u32 << n) - 1;
        let bits = bits & mask;
        if bits >> (n - 1) == 0 {
            return bits as i32;
        }
        match self {
            SignConvention::BrainFlow => -((!bits & mask) as i32) - 2,
            SignConvention::TwosComplement => (bits as i32) - (1i32 << n),
        }
    }
}

/// The eight `n`-bit fields (n = 18 or 19) of a data packet, read MSB-first
/// from bit 8 of `data` (bit 0 is the top bit of byte 0), bits past its end
/// reading as 0.
///
/// Each field is cut from one big-endian `u32` load at its first byte: a
/// field starts at most 7 bits into that byte and spans at most 19 bits, so
/// 26 bits of the 32 cover it. This replaced a loop over single bits (one
/// bounds-checked byte read per bit, 144 or 152 per packet), which took
/// about 60 % of the decoder's time (8.5 → 21.9 M notifications per CPU
/// second, firmware 2).
fn fields(data: &[u8; PACKET_LEN], n: usize) -> [u32; 8] {
    // Zero padding: the last 19-bit field's load reads two bytes past the end.
    let mut p = [0u8; PACKET_LEN + 4];
    p[..PACKET_LEN].copy_from_slice(data);
    let mut out = [0u32; 8];
    for (k, v) in out.iter_mut().enumerate() {
        let pos = 8 + k * n;
        let b = pos / 8;
        let word = u32::from_be_bytes([p[b], p[b + 1], p[b + 2], p[b + 3]]);
        *v = (word << (pos % 8)) >> (32 - n);
    }
    out
}

fn int24_be(b: &[u8]) -> i32 {
    let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    ((v << 8) as i32) >> 8
}

/// Parses BrainFlow's impedance payload like `std::stoi`: optional leading
/// whitespace and sign, then at least one digit; stops at the first other byte.
fn parse_impedance(ascii: &[u8]) -> Option<i32> {
    let mut it = ascii
        .iter()
        .copied()
        .skip_while(u8::is_ascii_whitespace)
        .peekable();
    let neg = match it.peek() {
        Some(b'-') => {
            it.next();
            true
        }
        Some(b'+') => {
            it.next();
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    let mut digits = 0;
    for c in it.take_while(u8::is_ascii_digit) {
        v = v * 10 + i64::from(c - b'0');
        digits += 1;
    }
    if digits == 0 || v > i64::from(i32::MAX) {
        return None;
    }
    Some(if neg { -v as i32 } else { v as i32 })
}

/// Ganglion-specific counters beyond [`DecodeStats`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GanglionStats {
    /// Common counters: `packets` are accepted notifications (data and
    /// impedance), `lost_packets` is exact from the ids (see
    /// [`GanglionDecoder`]), `garbage_bytes` counts bytes of rejected
    /// notifications.
    pub decode: DecodeStats,
    /// Impedance notifications accepted.
    pub impedance_packets: u64,
    /// Notifications rejected (wrong size, unknown id, unparsable impedance).
    pub rejected: u64,
    /// Times the id jumped between the 18-bit and 19-bit ranges (accelerometer
    /// toggled): loss across such a jump cannot be counted.
    pub range_switches: u64,
}

/// Streaming Ganglion decoder: one notification in, 0–2 rows out.
///
/// Loss: ids count up within their range (firmware 3: 0–99 or 100–199;
/// firmware 2: 1–100 or 101–200, with 0 a raw restart) and wrap to the
/// range's start; a gap within a range is counted exactly, modulo 100 (a run
/// of 100 lost packets is invisible, as it is in the protocol).
#[derive(Clone, Debug)]
pub struct GanglionDecoder {
    firmware: GanglionFirmware,
    sign: SignConvention,
    /// BrainFlow's `last_data`: the two most recent samples (raw counts).
    last: [i32; 8],
    accel: [f64; 3],
    resist: [f64; 5],
    last_id: Option<u8>,
    stats: GanglionStats,
}

impl GanglionDecoder {
    /// A decoder for `firmware` with BrainFlow's sign convention.
    pub fn new(firmware: GanglionFirmware) -> Self {
        GanglionDecoder {
            firmware,
            sign: SignConvention::default(),
            last: [0; 8],
            accel: [0.0; 3],
            resist: [0.0; 5],
            last_id: None,
            stats: GanglionStats::default(),
        }
    }

    /// Chooses the sign convention for 18/19-bit fields.
    pub fn with_sign(mut self, sign: SignConvention) -> Self {
        self.sign = sign;
        self
    }

    /// The firmware this decoder reads.
    pub fn firmware(&self) -> GanglionFirmware {
        self.firmware
    }

    /// Counters since creation or the last [`GanglionDecoder::reset`].
    pub fn stats(&self) -> &GanglionStats {
        &self.stats
    }

    /// Forgets decompression state, held accel/impedance and counters (at
    /// stream start, as BrainFlow's `temp_data.reset()`).
    pub fn reset(&mut self) {
        *self = GanglionDecoder::new(self.firmware).with_sign(self.sign);
    }

    fn reject(&mut self, data: &[u8]) {
        self.stats.rejected += 1;
        self.stats.decode.garbage_bytes += data.len() as u64;
    }

    /// Range of ids an id belongs to, for loss counting.
    fn range_of(&self, id: u8) -> Option<(u8, u8)> {
        match (self.firmware, id) {
            (GanglionFirmware::V3, 0..=99) => Some((0, 99)),
            (GanglionFirmware::V3, 100..=199) => Some((100, 199)),
            (GanglionFirmware::V2, 1..=100) => Some((1, 100)),
            (GanglionFirmware::V2, 101..=200) => Some((101, 200)),
            _ => None,
        }
    }

    fn count_loss(&mut self, id: u8) {
        let range = self.range_of(id);
        let prev = self.last_id.and_then(|p| self.range_of(p).map(|r| (p, r)));
        match (prev, range) {
            (Some((p, r0)), Some((lo, hi))) if r0 == (lo, hi) => {
                let len = u32::from(hi - lo) + 1;
                let gap = (u32::from(id) + len - u32::from(p) - 1) % len;
                self.stats.decode.lost_packets += u64::from(gap);
            }
            (Some(_), Some(_)) => self.stats.range_switches += 1,
            _ => {}
        }
        self.last_id = match range {
            Some(_) => Some(id),
            // A firmware-2 raw packet (id 0) is followed by id 1: pretend the
            // previous id was the 18-bit range's last.
            None => Some(100),
        };
    }

    /// Appends the row of one sample (4 channels of raw counts).
    #[inline]
    fn push_row(&self, rows: &mut Rows, id: u8, sample: &[i32; 4]) {
        let row = rows.push_zeroed_array::<NUM_ROWS>();
        row[ROW_PACKAGE] = f64::from(id);
        for (i, v) in sample.iter().enumerate() {
            row[ROW_EEG + i] = EEG_SCALE * f64::from(*v);
        }
        row[ROW_ACCEL..ROW_ACCEL + 3].copy_from_slice(&self.accel);
    }

    /// Appends the rows of the two samples in `last`, oldest first.
    fn push_both(&self, rows: &mut Rows, id: u8) {
        let [a0, a1, a2, a3, b0, b1, b2, b3] = self.last;
        self.push_row(rows, id, &[a0, a1, a2, a3]);
        self.push_row(rows, id, &[b0, b1, b2, b3]);
    }

    fn take_accel(&mut self, id: u8, byte: u8) {
        // BrainFlow's mapping ("swap x and z, and invert z"): id % 10 = 0 → z
        // negated, 1 → y, 2 → x. OpenBCI's docs say 1/2/3 → x/y/z at 0.032
        // g; we follow BrainFlow so rows match what its users get.
        let v = ACCEL_SCALE * f64::from(byte as i8);
        match id % 10 {
            0 => self.accel[2] = -v,
            1 => self.accel[1] = v,
            2 => self.accel[0] = v,
            _ => {}
        }
    }

    /// Decodes one notification, appending its rows to `rows` (which takes
    /// the width [`NUM_ROWS`], see [`Rows::set_width`]). Never panics.
    pub fn decode(&mut self, data: &[u8], rows: &mut Rows) {
        rows.set_width(NUM_ROWS);
        let Some(&id) = data.first() else {
            return self.reject(data);
        };
        if data.len() < 2 {
            return self.reject(data);
        }
        if (201..=205).contains(&id) {
            return self.decode_impedance(id, data, rows);
        }
        let Ok(packet) = <&[u8; PACKET_LEN]>::try_from(data) else {
            return self.reject(data);
        };
        if id > 200 {
            return self.reject(data);
        }
        let bits = match (self.firmware, id) {
            (GanglionFirmware::V3, 0..=99) | (GanglionFirmware::V2, 1..=100) => 18,
            (GanglionFirmware::V3, 100..=199) | (GanglionFirmware::V2, 101..=200) => 19,
            (GanglionFirmware::V2, 0) => 0,
            // Firmware 3 never sends 200; BrainFlow would repeat stale values.
            _ => return self.reject(data),
        };
        self.count_loss(id);
        self.stats.decode.packets += 1;
        if bits == 18 {
            self.take_accel(id, data[19]);
        }
        let mut vals = [0i32; 8];
        if bits > 0 {
            for (v, f) in vals.iter_mut().zip(fields(packet, bits)) {
                *v = self.sign.extend(f, bits as u32);
            }
        }
        let before = rows.len();
        match self.firmware {
            GanglionFirmware::V3 => {
                let shift = if bits == 18 { 6 } else { 5 };
                for (l, v) in self.last.iter_mut().zip(vals) {
                    *l = v.wrapping_shl(shift);
                }
                self.push_both(rows, id);
            }
            GanglionFirmware::V2 if bits == 0 => {
                self.last.copy_within(4..8, 0);
                for i in 0..4 {
                    self.last[4 + i] = int24_be(&data[1 + 3 * i..4 + 3 * i]);
                }
                let [_, _, _, _, a, b, c, d] = self.last;
                self.push_row(rows, 0, &[a, b, c, d]);
            }
            GanglionFirmware::V2 => {
                // BrainFlow's two loops: the first new sample from the previous
                // second one, then the second from the first.
                let (first, second) = self.last.split_at_mut(4);
                for ((f, s), d) in first.iter_mut().zip(second.iter()).zip(&vals[..4]) {
                    *f = s.wrapping_sub(*d);
                }
                for ((s, f), d) in second.iter_mut().zip(first.iter()).zip(&vals[4..]) {
                    *s = f.wrapping_sub(*d);
                }
                self.push_both(rows, id);
            }
        }
        self.stats.decode.rows += (rows.len() - before) as u64;
    }

    fn decode_impedance(&mut self, id: u8, data: &[u8], rows: &mut Rows) {
        // BrainFlow looks for 'Z' in bytes 1..6 and parses what precedes it.
        let end = (1..data.len().min(6))
            .find(|&i| data[i] == b'Z')
            .unwrap_or(data.len().min(6));
        let Some(val) = parse_impedance(&data[1..end]) else {
            return self.reject(data);
        };
        self.resist[usize::from(id - 201)] = f64::from(val);
        let row = rows.push_zeroed();
        row[ROW_PACKAGE] = f64::from(id);
        // Channels 1–4 then the reference, in the resistance rows 8–12.
        row[ROW_RESIST..ROW_RESIST + 5].copy_from_slice(&self.resist);
        self.stats.impedance_packets += 1;
        self.stats.decode.packets += 1;
        self.stats.decode.rows += 1;
    }
}

#[cfg(test)]
mod tests;

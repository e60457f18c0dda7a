//! NeuroPawn Knight packet decoder (sans-IO).
//!
//! Packet (21 bytes, BrainFlow 5.23 `neuropawn/knight.cpp`, `Knight::read_thread`):
//! `0xA0, counter, 8 × int16 BE, LOFF STATP, LOFF STATN, 0xC0`.
//! Rows follow BrainFlow's layout (13 rows, see [`crate::descr`]): 0 counter,
//! 1–8 EXG in µV, 9 LOFF STATP, 10 LOFF STATN; timestamp (11) and marker (12)
//! are left at 0 for the driver to fill.

use super::decoder::DecodeStats;
use super::resync::{self, Confirm, Framing};

/// Packet start byte.
pub const START_BYTE: u8 = 0xA0;
/// Packet end byte (BrainFlow drops a frame with any other, "Wrong end byte").
pub const END_BYTE: u8 = 0xC0;
/// Full packet length including start and end bytes.
pub const PACKET_LEN: usize = 21;
/// Rows per sample.
pub const NUM_ROWS: usize = 13;
/// EXG channels.
pub const NUM_EXG: usize = 8;

/// µV per count, computed exactly as BrainFlow 5.23 does it, in single
/// precision: `float eeg_scale = 4 / float (pow (2, 15) - 1) / 12 * 1000000.;`
/// (the float quotient is widened to double for `* 1e6`, then stored as float).
pub fn exg_scale() -> f32 {
    ((4.0f32 / 32767.0f32 / 12.0f32) as f64 * 1_000_000.0) as f32
}

/// µV for a raw count: BrainFlow multiplies float × int in float and stores
/// the float in its double row, so the value carries float rounding.
pub fn exg_microvolts(raw: i16) -> f64 {
    f64::from(exg_scale() * f32::from(raw))
}

/// How far past a candidate to look for the next start byte when confirming
/// it after garbage; bounds the bytes held back while resynchronising.
const MAX_CONFIRM_GAP: usize = 128;

fn is_end_byte(b: u8) -> bool {
    b == END_BYTE
}

/// Knight framing for resynchronisation: a single valid end byte.
const FRAMING: Framing = Framing {
    start_byte: START_BYTE,
    packet_len: PACKET_LEN,
    is_end_byte,
    max_gap: MAX_CONFIRM_GAP,
};

/// Streaming Knight decoder. Feed it bytes in any chunking with
/// [`KnightDecoder::push`]; partial packets are kept across calls.
#[derive(Clone, Debug, Default)]
pub struct KnightDecoder {
    /// Unconsumed bytes: a partial packet or, while resynchronising, a
    /// candidate and its look-ahead.
    buf: Vec<u8>,
    /// False after garbage or a bad end byte: a candidate frame must then be
    /// confirmed, since 0xA0 also occurs inside packet data.
    out_of_sync: bool,
    last_counter: Option<u8>,
    stats: DecodeStats,
}

impl KnightDecoder {
    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters so far (`unpaired` is always 0: Knight packets stand alone).
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Bytes held back waiting for the rest of a packet.
    pub fn pending_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Starts a new stream: forgets the last counter (the first packet counts
    /// no loss) and partial bytes. Stats are kept.
    pub fn reset_stream(&mut self) {
        self.buf.clear();
        self.out_of_sync = false;
        self.last_counter = None;
    }

    /// Consumes `bytes` and appends every completed row to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Vec<f64>>) {
        self.buf.extend_from_slice(bytes);
        let buf = std::mem::take(&mut self.buf);
        let consumed = self.scan(&buf, out);
        self.buf = buf;
        self.buf.drain(..consumed);
    }

    fn lose_sync(&mut self) {
        if !self.out_of_sync {
            self.out_of_sync = true;
            self.stats.resyncs += 1;
        }
    }

    fn scan(&mut self, buf: &[u8], out: &mut Vec<Vec<f64>>) -> usize {
        let mut pos = 0;
        while pos < buf.len() {
            if buf[pos] != START_BYTE {
                self.lose_sync();
                let skip = buf[pos..]
                    .iter()
                    .position(|&b| b == START_BYTE)
                    .unwrap_or(buf.len() - pos);
                self.stats.garbage_bytes += skip as u64;
                pos += skip;
                continue;
            }
            if buf.len() - pos < PACKET_LEN {
                break;
            }
            if buf[pos + PACKET_LEN - 1] != END_BYTE {
                // Rescan from the next byte, not 21 further: a real packet may
                // start inside this bogus frame (after a truncated one).
                self.stats.bad_end_bytes += 1;
                self.stats.garbage_bytes += 1;
                self.lose_sync();
                pos += 1;
                continue;
            }
            if self.out_of_sync {
                match self.confirm(buf, pos) {
                    Confirm::Wait => break,
                    Confirm::Reject => {
                        self.stats.garbage_bytes += 1;
                        pos += 1;
                        continue;
                    }
                    Confirm::Accept => self.out_of_sync = false,
                }
            }
            self.accept(&buf[pos..pos + PACKET_LEN], out);
            pos += PACKET_LEN;
        }
        pos
    }

    /// Decides whether the candidate frame at `pos` is real after garbage
    /// (see [`resync::confirm`]).
    fn confirm(&self, buf: &[u8], pos: usize) -> Confirm {
        resync::confirm(&FRAMING, self.last_counter, buf, pos)
    }

    fn accept(&mut self, f: &[u8], out: &mut Vec<Vec<f64>>) {
        let counter = f[1];
        if let Some(prev) = self.last_counter {
            self.stats.lost_packets += u64::from(counter.wrapping_sub(prev).wrapping_sub(1));
        }
        self.last_counter = Some(counter);
        self.stats.packets += 1;
        let mut row = vec![0.0; NUM_ROWS];
        row[0] = f64::from(counter);
        for ch in 0..NUM_EXG {
            let raw = i16::from_be_bytes([f[2 + 2 * ch], f[3 + 2 * ch]]);
            row[1 + ch] = exg_microvolts(raw);
        }
        row[9] = f64::from(f[18]);
        row[10] = f64::from(f[19]);
        out.push(row);
        self.stats.rows += 1;
    }
}

#[cfg(test)]
mod tests;

impl super::Decoder for KnightDecoder {
    fn decode(&mut self, input: super::Input<'_>, out: &mut super::PresetRows) {
        if let super::Input::Bytes(bytes) = input {
            self.push(bytes, &mut out[crate::ids::Preset::Default as usize]);
        }
    }

    fn reset(&mut self) {
        self.reset_stream();
    }

    fn stats(&self, preset: crate::ids::Preset) -> DecodeStats {
        match preset {
            crate::ids::Preset::Default => KnightDecoder::stats(self).clone(),
            _ => DecodeStats::default(),
        }
    }
}

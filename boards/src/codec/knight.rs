//! NeuroPawn Knight packet decoder (sans-IO).
//!
//! Packet (21 bytes, BrainFlow 5.23 `neuropawn/knight.cpp`, `Knight::read_thread`):
//! `0xA0, counter, 8 × int16 BE, LOFF STATP, LOFF STATN, 0xC0`.
//! Rows follow BrainFlow's layout (13 rows, see [`crate::descr`]): 0 counter,
//! 1–8 EXG in µV, 9 LOFF STATP, 10 LOFF STATN; timestamp (11) and marker (12)
//! are left at 0 for the driver to fill.

use super::framed::{FrameFormat, FramedDecoder};
pub use super::framed::{END_BYTE, START_BYTE};
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

/// The Knight's payload inside the common frame (see [`super::framed`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct KnightFrame;

impl FrameFormat for KnightFrame {
    fn packet_len(&self) -> usize {
        PACKET_LEN
    }

    fn num_rows(&self) -> usize {
        NUM_ROWS
    }

    fn fill_row(&self, f: &[u8], row: &mut [f64]) {
        for ch in 0..NUM_EXG {
            let raw = i16::from_be_bytes([f[2 + 2 * ch], f[3 + 2 * ch]]);
            row[1 + ch] = exg_microvolts(raw);
        }
        row[9] = f64::from(f[18]);
        row[10] = f64::from(f[19]);
    }
}

/// Streaming Knight decoder. Feed it bytes in any chunking with
/// [`FramedDecoder::push`]; partial packets are kept across calls.
pub type KnightDecoder = FramedDecoder<KnightFrame>;

impl FramedDecoder<KnightFrame> {
    /// A fresh Knight decoder.
    pub fn new() -> Self {
        Self::with_format(KnightFrame)
    }
}

impl Default for FramedDecoder<KnightFrame> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;

//! NeuroPawn Knight and Knight IMU packet decoder (sans-IO).
//!
//! Knight (21 bytes, BrainFlow 5.23 `neuropawn/knight.cpp`, `Knight::read_thread`):
//! `0xA0, counter, 8 × int16 BE, LOFF STATP, LOFF STATN, 0xC0`.
//! Rows follow BrainFlow's layout (13 rows, see [`crate::descr`]): 0 counter,
//! 1–8 EXG in µV, 9 LOFF STATP, 10 LOFF STATN; timestamp (11) and marker (12)
//! are left at 0 for the driver to fill.
//!
//! Knight IMU (57 bytes, `neuropawn/knight_imu.cpp`, `KnightIMU::read_thread`):
//! the Knight's packet with `9 × float32 LE` (accel x/y/z, gyro x/y/z, mag
//! x/y/z) between LOFF STATN and the end byte. Rows (22): 0 counter, 1–8 EXG
//! in µV, 9–10 LOFF STATP/STATN, 11–19 the nine floats as sent, 20
//! timestamp, 21 marker. BrainFlow's comment calls the EXG values
//! little-endian, but its code reads them big-endian (`cast_16bit_to_int32`),
//! as the Knight's; the firmware is not published, so this follows the code,
//! which the vendor wrote against the device.

use super::framed::{FrameFormat, FramedDecoder};
pub use super::framed::{END_BYTE, START_BYTE};
/// Full Knight packet length including start and end bytes.
pub const PACKET_LEN: usize = 21;
/// Rows per Knight sample.
pub const NUM_ROWS: usize = 13;
/// EXG channels (both variants).
pub const NUM_EXG: usize = 8;
/// Full Knight IMU packet length: the Knight's plus nine 4-byte floats.
pub const IMU_PACKET_LEN: usize = PACKET_LEN + 4 * NUM_IMU;
/// Rows per Knight IMU sample.
pub const IMU_NUM_ROWS: usize = NUM_ROWS + NUM_IMU;
/// IMU values per Knight IMU packet: accel, gyro, mag, x/y/z each.
pub const NUM_IMU: usize = 9;
/// Where the IMU floats start in a Knight IMU packet (after LOFF STATN).
const IMU_OFFSET: usize = 20;

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

/// Which Knight's payload sits inside the common frame (see
/// [`super::framed`]): the two differ only in the IMU floats the IMU model
/// appends, so one format serves both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KnightFrame {
    /// NeuroPawn Knight (57): EXG and lead-off bytes.
    #[default]
    Knight,
    /// NeuroPawn Knight IMU (66): the same, then nine float32 LE IMU values.
    Imu,
}

impl FrameFormat for KnightFrame {
    fn packet_len(&self) -> usize {
        match self {
            KnightFrame::Knight => PACKET_LEN,
            KnightFrame::Imu => IMU_PACKET_LEN,
        }
    }

    fn num_rows(&self) -> usize {
        match self {
            KnightFrame::Knight => NUM_ROWS,
            KnightFrame::Imu => IMU_NUM_ROWS,
        }
    }

    fn fill_row(&self, f: &[u8], row: &mut [f64]) {
        for ch in 0..NUM_EXG {
            let raw = i16::from_be_bytes([f[2 + 2 * ch], f[3 + 2 * ch]]);
            row[1 + ch] = exg_microvolts(raw);
        }
        row[9] = f64::from(f[18]);
        row[10] = f64::from(f[19]);
        if *self == KnightFrame::Imu {
            for (k, b) in f[IMU_OFFSET..IMU_OFFSET + 4 * NUM_IMU]
                .chunks_exact(4)
                .enumerate()
            {
                // BrainFlow widens the float as is (`(double)f`): NaN and
                // infinities pass through, as the device sent them.
                row[11 + k] = f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            }
        }
    }
}

/// Streaming Knight or Knight IMU decoder. Feed it bytes in any chunking with
/// [`FramedDecoder::push`]; partial packets are kept across calls.
pub type KnightDecoder = FramedDecoder<KnightFrame>;

impl FramedDecoder<KnightFrame> {
    /// A fresh Knight decoder.
    pub fn new() -> Self {
        Self::with_format(KnightFrame::Knight)
    }

    /// A fresh Knight IMU decoder.
    pub fn imu() -> Self {
        Self::with_format(KnightFrame::Imu)
    }
}

impl Default for FramedDecoder<KnightFrame> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;

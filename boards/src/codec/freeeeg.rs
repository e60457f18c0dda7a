//! FreeEEG32, FreeEEG128 and IronBCI32 packets (sans-IO), read as BrainFlow
//! reads them (`src/board_controller/freeeeg/freeeeg.cpp`, one `FreeEEG`
//! class for all three ids):
//!
//! `0xA0, counter, N × int24 big endian, 0xC0`, N = 32 or 128.
//!
//! * BrainFlow finds a packet's end only when the next packet's `0xA0`
//!   follows the `0xC0` at least `1 + 3N` bytes after the start, and takes the
//!   counter and channels from the front of that span; so it also reads longer
//!   frames (its own emulator, `freeeeg32_emulator.py`, pads to 106 bytes).
//!   The firmware's frame length is not established from a public source we
//!   could read; this decoder takes the minimal frame BrainFlow's reader
//!   implies (`3 + 3N` bytes) and counts anything else as garbage.
//! * BrainFlow drops the first packet it completes, since it may have started
//!   mid-packet; this decoder needs no such drop (it hunts for a frame whose
//!   end byte is in place), so it keeps the first packet.
//! * IronBCI32 differs from FreeEEG32 only in its name in BrainFlow: same
//!   class, same layout (35 rows at 512 Hz), same scale.
//!
//! Rows: 0 counter, 1..=N channels in µV, then timestamp and marker (left 0).

use super::framed::{FrameFormat, FramedDecoder};

/// Channels of FreeEEG32 and IronBCI32.
pub const CHANNELS_32: usize = 32;
/// Channels of FreeEEG128.
pub const CHANNELS_128: usize = 128;

/// µV per count, as BrainFlow computes it: `float eeg_scale = ads_vref /
/// float (pow (2, 23) - 1) / ads_gain * 1000000.` with `ads_vref = 2.5` and
/// `ads_gain = 8.0` (both `double`), so the double quotient is stored as a
/// float and widened back for each sample.
pub fn scale() -> f64 {
    f64::from((2.5 / 8_388_607.0 / 8.0 * 1_000_000.0) as f32)
}

/// A FreeEEG-family payload of `channels` 24-bit channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreeEegFrame {
    /// Number of channels (32 or 128).
    pub channels: usize,
}

impl FrameFormat for FreeEegFrame {
    fn packet_len(&self) -> usize {
        3 + 3 * self.channels
    }

    fn num_rows(&self) -> usize {
        self.channels + 3
    }

    fn fill_row(&self, f: &[u8], row: &mut [f64]) {
        let k = scale();
        for ch in 0..self.channels {
            let b = &f[2 + 3 * ch..5 + 3 * ch];
            // Sign-extend the big-endian 24-bit value (BrainFlow's cast_24bit_to_int32).
            let raw = i32::from_be_bytes([b[0], b[1], b[2], 0]) >> 8;
            row[1 + ch] = k * f64::from(raw);
        }
    }
}

/// Streaming decoder of FreeEEG32, FreeEEG128 and IronBCI32 packets.
pub type FreeEegDecoder = FramedDecoder<FreeEegFrame>;

impl FramedDecoder<FreeEegFrame> {
    /// A fresh decoder for a board with `channels` channels.
    pub fn new(channels: usize) -> Self {
        Self::with_format(FreeEegFrame { channels })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Rows;

    fn packet(counter: u8, raws: &[i32]) -> Vec<u8> {
        let mut p = vec![0xA0, counter];
        for r in raws {
            p.extend_from_slice(&r.to_be_bytes()[1..]);
        }
        p.push(0xC0);
        p
    }

    #[test]
    fn decodes_signed_24_bit_channels_with_brainflows_float_scale() {
        let mut raws = vec![0i32; 32];
        raws[0] = 8_388_607;
        raws[1] = -8_388_608;
        raws[2] = -1;
        raws[31] = 12345;
        let mut d = FreeEegDecoder::new(CHANNELS_32);
        let mut rows = Rows::default();
        d.push(&packet(7, &raws), &mut rows);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.len(), 35);
        assert_eq!(r[0], 7.0);
        assert_eq!(r[1], scale() * 8_388_607.0);
        assert_eq!(r[2], scale() * -8_388_608.0);
        assert_eq!(r[3], -scale());
        assert_eq!(r[32], scale() * 12345.0);
        // 2.5 V / 2^23 / 8 in µV, to float precision.
        assert!((scale() - 0.037_252_907).abs() < 1e-8);
        assert_eq!(d.stats().garbage_bytes, 0);
    }

    #[test]
    fn counts_loss_across_the_wrap_and_any_chunking_gives_the_same_rows() {
        let raws: Vec<i32> = (0..128).map(|i| i * 1000 - 64_000).collect();
        let mut bytes = Vec::new();
        for c in [253u8, 254, 2, 3] {
            bytes.extend(packet(c, &raws));
        }
        let mut whole = Rows::default();
        let mut d = FreeEegDecoder::new(CHANNELS_128);
        d.push(&bytes, &mut whole);
        assert_eq!(whole.len(), 4);
        assert_eq!(d.stats().lost_packets, 3);
        for chunk in [1, 5, 386, 387, 388] {
            let mut d = FreeEegDecoder::new(CHANNELS_128);
            let mut rows = Rows::default();
            for c in bytes.chunks(chunk) {
                d.push(c, &mut rows);
            }
            assert_eq!(rows, whole, "chunk {chunk}");
            assert_eq!(d.pending_bytes(), 0);
        }
    }

    #[test]
    fn garbage_and_a_bad_end_byte_are_counted_and_skipped() {
        let raws = vec![1000i32; 32];
        let mut bytes = packet(0, &raws);
        bytes.extend([0x00, 0xC0, 0xA0, 0x55]);
        bytes.extend(packet(1, &raws));
        let mut d = FreeEegDecoder::new(CHANNELS_32);
        let mut rows = Rows::default();
        d.push(&bytes, &mut rows);
        let counters: Vec<f64> = rows.iter().map(|r| r[0]).collect();
        assert_eq!(counters, [0.0, 1.0]);
        assert_eq!(d.stats().garbage_bytes, 4);
        assert_eq!(d.stats().lost_packets, 0);
    }
}

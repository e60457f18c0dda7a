//! Muse S Athena notification decoder (sans-IO), after BrainFlow's
//! `src/board_controller/muse/muse_athena.cpp` (`handle_data_notification`,
//! `parse_sensor_payload`) and `inc/muse_athena_constants.h`, checked on
//! captures of real headsets (OpenMuse, muse-jsx: `tests/captures/`).
//!
//! The device notifies on `273e0013-…` (and, on some firmware, `273e0014-…`).
//! A notification holds packets back to back (every capture has exactly one,
//! filling the notification), each:
//!
//! * a 14-byte header: byte 0 the packet's length (header included), bytes
//!   1–2 the packet index (u16 LE, +1 per packet on its characteristic: the
//!   loss counter), bytes 3–8 a device clock, byte 9 the primary block's tag,
//!   byte 10 its block index, bytes 11–13 unread (see below);
//! * the primary block's data (no header of its own);
//! * sub-packets `[tag, block index, 3 unread bytes] + data` to the end.
//!
//! Blocks by tag: `0x11` EEG 4 channels × 4 samples, `0x12` EEG 8 × 2 (28
//! bytes of 14-bit values, LSB-first); `0x34` optics 4 × 3 (30 bytes),
//! `0x35` 8 × 2, `0x36` 16 × 1 (40 bytes; 20-bit values, LSB-first); `0x47`
//! accel + gyro 3 samples × 6 int16 LE (36 bytes); `0x53` DRL/REF (24 bytes,
//! skipped as BrainFlow does); `0x98` (older firmware) and `0x88` (newer)
//! battery, 20 bytes whose first two are the state of charge, u16 LE in
//! 1/256 %.
//!
//! `0x88` is 20 bytes, as BrainFlow reads it: in every capture the blocks
//! after its 20 bytes carry block indices that continue their tags'
//! sequences and end exactly at the packet's end (every such block of the
//! seven newer-firmware captures, full files). OpenMuse and muse-jsx read `0x88` to the
//! end of the packet (188–230 bytes) and so drop those blocks; OpenMuse's
//! "anomalous EEG4 packet" is a `0x11` byte inside them.
//!
//! The block index counts the blocks of one tag (+1 per block, modulo 256;
//! never a gap in the captures); loss is counted by the packet index,
//! block-index gaps with no packet lost are reported apart
//! ([`AthenaStats::block_gaps`]).
//!
//! Header bytes the decoder does not read, as the captures show them: on
//! firmware with bytes 7–8 = `93 01`, bytes 3–8 are a u48 LE millisecond
//! clock (Unix time, not synchronised: 60 679 ticks over 60.69 host seconds)
//! and bytes 11–12 a u16 LE in 0..=998 with byte 13 = 0; on firmware with
//! bytes 7–8 = `01 00`, bytes 3–8 advance about 3.7 per second and bytes
//! 11–13 are a u24 LE up to 2.7 million that is not monotonic. OpenMuse
//! reads byte 1 alone as the index and bytes 2–5 as a 256 kHz clock; the
//! index is u16 (byte 2 counts on past 255 in every capture).
//!
//! Rows follow BrainFlow's board 67: default (package, EEG TP9 AF7 AF8 TP10,
//! 4 other rows for the 8-channel presets' AUX, timestamp, marker),
//! auxiliary (package, accel, gyro, timestamp, marker), ancillary (package,
//! 16 optical, battery, timestamp, marker). The package number is
//! BrainFlow's, `(packet index << 8) | block index`. Rows a block lacks (AUX
//! under `0x11`, optics 5–16 under `0x34`) are 0, and the battery is 0 until
//! the first report, as in BrainFlow. One difference from BrainFlow 5.23
//! (README, conventions): the battery scale, 1/256 % per count (BrainFlow:
//! 1/512, which halves the level).

use serde::Serialize;

use super::decoder::{DecodeStats, PresetRows};
use super::muse::muse_uuid;
use crate::ble::Uuid;

/// First data characteristic (every capture's).
pub const DATA_1: Uuid = muse_uuid(0x0013);
/// Second data characteristic (notify-capable on some firmware only).
pub const DATA_2: Uuid = muse_uuid(0x0014);
/// Bytes of a packet's header.
pub const HEADER_LEN: usize = 14;
/// Bytes of a sub-packet's header.
pub const SUB_HEADER_LEN: usize = 5;
/// µV per EEG count: 1450 µV over the 14-bit range (BrainFlow after its
/// #855, OpenMuse, muse-jsx).
pub const EEG_SCALE: f64 = 1450.0 / 16383.0;
/// The EEG count of 0 µV (offset binary; BrainFlow after its #856, muse-jsx).
pub const EEG_MIDPOINT: f64 = 8192.0;
/// g per accelerometer count (1/16384).
pub const ACCEL_SCALE: f64 = 0.000_061_035_156_25;
/// °/s per gyroscope count (BrainFlow's sign).
pub const GYRO_SCALE: f64 = -0.007_476_806_640_625;
/// Percent per battery count: the captures recorded at 16.80, 58.27 and
/// 90.40 % (OpenMuse's test files) read so; BrainFlow 5.23 uses 1/512.
pub const BATTERY_SCALE: f64 = 1.0 / 256.0;
/// Rows of the default preset.
pub const DEFAULT_ROWS: usize = 11;
/// Rows of the auxiliary preset.
pub const AUX_ROWS: usize = 9;
/// Rows of the ancillary preset.
pub const ANC_ROWS: usize = 20;
/// The ancillary row of the battery.
const ANC_BATTERY: usize = 17;

/// What a block carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// EEG: channels (4 or 8) × samples, 14-bit.
    Eeg,
    /// Optics: channels (4, 8 or 16) × samples, 20-bit.
    Optics,
    /// Accelerometer and gyroscope, 3 samples.
    Imu,
    /// DRL/REF electrodes (not exposed).
    DrlRef,
    /// Battery (and status, `0x88`).
    Battery,
}

/// The layout of one tag's block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// What it carries.
    pub kind: BlockKind,
    /// Channels per sample.
    pub channels: usize,
    /// Samples per block.
    pub samples: usize,
    /// Data bytes.
    pub len: usize,
}

impl Block {
    /// The layout of `tag`, if it is a known one.
    pub const fn of(tag: u8) -> Option<Block> {
        let (kind, channels, samples, len) = match tag {
            0x11 => (BlockKind::Eeg, 4, 4, 28),
            0x12 => (BlockKind::Eeg, 8, 2, 28),
            0x34 => (BlockKind::Optics, 4, 3, 30),
            0x35 => (BlockKind::Optics, 8, 2, 40),
            0x36 => (BlockKind::Optics, 16, 1, 40),
            0x47 => (BlockKind::Imu, 6, 3, 36),
            0x53 => (BlockKind::DrlRef, 2, 6, 24),
            0x88 => (BlockKind::Battery, 1, 1, 20),
            0x98 => (BlockKind::Battery, 1, 1, 20),
            _ => return None,
        };
        Some(Block {
            kind,
            channels,
            samples,
            len,
        })
    }
}

/// Counters of the decoder.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AthenaStats {
    /// Default preset: packets accepted, EEG rows, packets lost by the
    /// packet index (all presets' loss: a lost packet's blocks are
    /// unknown), bytes not part of a decoded block and bad length bytes
    /// (`resyncs`: the rest of that notification is dropped).
    pub default: DecodeStats,
    /// Auxiliary preset: accel/gyro blocks and rows.
    pub aux: DecodeStats,
    /// Ancillary preset: optics blocks and rows.
    pub anc: DecodeStats,
    /// Blocks missing by their tag's block index with no packet lost (the
    /// device's own skips), per preset in `Preset` order.
    pub block_gaps: [u64; 3],
    /// Packets whose index did not advance (a repeat), dropped.
    pub stale: u64,
}

/// Streaming Athena decoder: notifications in, rows of each preset out.
#[derive(Debug)]
pub struct AthenaDecoder {
    /// Last packet index per data characteristic (`DATA_1`, `DATA_2`).
    last_index: [Option<u16>; 2],
    /// Last block index per tag.
    last_block: [Option<u8>; 256],
    battery: f64,
    stats: AthenaStats,
}

impl Default for AthenaDecoder {
    fn default() -> Self {
        AthenaDecoder::new()
    }
}

/// `width` bits of `data` from bit `start`, LSB-first (bit 0 of a value is
/// the lowest unread bit of its byte); bits past the end read 0.
#[inline]
pub fn lsb_bits(data: &[u8], start: usize, width: u32) -> u32 {
    let at = start / 8;
    let mut v = 0u64;
    for (k, b) in data.iter().skip(at).take(4).enumerate() {
        v |= u64::from(*b) << (8 * k);
    }
    ((v >> (start % 8)) & ((1u64 << width) - 1)) as u32
}

fn i16_le(d: &[u8]) -> f64 {
    f64::from(i16::from_le_bytes([d[0], d[1]]))
}

impl AthenaDecoder {
    /// A decoder with no stream yet.
    pub fn new() -> Self {
        AthenaDecoder {
            last_index: [None; 2],
            last_block: [None; 256],
            battery: 0.0,
            stats: AthenaStats::default(),
        }
    }

    /// Counters since the last [`AthenaDecoder::reset`].
    pub fn stats(&self) -> &AthenaStats {
        &self.stats
    }

    /// The last battery level reported, in percent (0 before any).
    pub fn battery(&self) -> f64 {
        self.battery
    }

    /// Forgets the stream and the counters (at start).
    pub fn reset(&mut self) {
        *self = AthenaDecoder::new();
    }

    /// Decodes one notification of `uuid` (other characteristics are
    /// ignored), appending rows to `out` by preset.
    pub fn decode(&mut self, uuid: Uuid, value: &[u8], out: &mut PresetRows) {
        let slot = if uuid == DATA_1 {
            0
        } else if uuid == DATA_2 {
            1
        } else {
            return;
        };
        let mut at = 0;
        while at < value.len() {
            let rest = &value[at..];
            let len = usize::from(rest[0]);
            if rest.len() < HEADER_LEN || len < HEADER_LEN || len > rest.len() {
                // A short tail or a length byte that cannot be: nothing
                // later in this notification can be framed.
                self.stats.default.garbage_bytes += rest.len() as u64;
                self.stats.default.resyncs += 1;
                return;
            }
            self.packet(slot, &rest[..len], out);
            at += len;
        }
    }

    fn packet(&mut self, slot: usize, p: &[u8], out: &mut PresetRows) {
        let index = u16::from_le_bytes([p[1], p[2]]);
        let lost_before = self.stats.default.lost_packets;
        if let Some(last) = self.last_index[slot] {
            let d = index.wrapping_sub(last);
            if d == 0 || d > 0x8000 {
                self.stats.stale += 1;
                self.stats.default.garbage_bytes += p.len() as u64;
                return;
            }
            self.stats.default.lost_packets += u64::from(d - 1);
        }
        self.last_index[slot] = Some(index);
        self.stats.default.packets += 1;
        let lost = self.stats.default.lost_packets != lost_before;
        let base = u32::from(index) << 8;
        let data = &p[HEADER_LEN..];

        // The primary block: tag and block index in the header.
        let mut at = match Block::of(p[9]) {
            Some(b) => {
                let n = b.len;
                if n > data.len() {
                    self.stats.default.garbage_bytes += data.len() as u64;
                    return;
                }
                self.block(p[9], p[10], b, base, &data[..n], lost, out);
                n
            }
            None => {
                self.stats.default.garbage_bytes += data.len() as u64;
                return;
            }
        };
        // Sub-packets to the end.
        while at < data.len() {
            let rest = &data[at..];
            let b = match Block::of(rest[0]) {
                Some(b) => b,
                _ => break,
            };
            let n = b.len;
            if SUB_HEADER_LEN + n > rest.len() {
                break;
            }
            let body = &rest[SUB_HEADER_LEN..SUB_HEADER_LEN + n];
            self.block(rest[0], rest[1], b, base, body, lost, out);
            at += SUB_HEADER_LEN + n;
        }
        self.stats.default.garbage_bytes += (data.len() - at) as u64;
    }

    #[allow(clippy::too_many_arguments)]
    fn block(
        &mut self,
        tag: u8,
        block_index: u8,
        b: Block,
        base: u32,
        d: &[u8],
        lost: bool,
        out: &mut PresetRows,
    ) {
        let preset = match b.kind {
            BlockKind::Eeg | BlockKind::DrlRef => 0,
            BlockKind::Imu => 1,
            BlockKind::Optics | BlockKind::Battery => 2,
        };
        if let Some(last) = self.last_block[usize::from(tag)] {
            let gap = block_index.wrapping_sub(last).wrapping_sub(1);
            if !lost {
                self.stats.block_gaps[preset] += u64::from(gap);
            }
        }
        self.last_block[usize::from(tag)] = Some(block_index);
        let package = f64::from(base | u32::from(block_index));
        match b.kind {
            BlockKind::Eeg => {
                let rows = &mut out[0];
                rows.set_width(DEFAULT_ROWS);
                for s in 0..b.samples {
                    let row = rows.push_zeroed_array::<DEFAULT_ROWS>();
                    row[0] = package;
                    for c in 0..b.channels {
                        let raw = lsb_bits(d, (s * b.channels + c) * 14, 14);
                        row[1 + c] = (f64::from(raw) - EEG_MIDPOINT) * EEG_SCALE;
                    }
                }
                self.stats.default.rows += b.samples as u64;
            }
            BlockKind::Imu => {
                let rows = &mut out[1];
                rows.set_width(AUX_ROWS);
                for s in 0..b.samples {
                    let row = rows.push_zeroed_array::<AUX_ROWS>();
                    row[0] = package;
                    let v = &d[s * 12..s * 12 + 12];
                    for c in 0..3 {
                        row[1 + c] = i16_le(&v[2 * c..]) * ACCEL_SCALE;
                        row[4 + c] = i16_le(&v[6 + 2 * c..]) * GYRO_SCALE;
                    }
                }
                self.stats.aux.packets += 1;
                self.stats.aux.rows += b.samples as u64;
            }
            BlockKind::Optics => {
                let rows = &mut out[2];
                rows.set_width(ANC_ROWS);
                for s in 0..b.samples {
                    let row = rows.push_zeroed_array::<ANC_ROWS>();
                    row[0] = package;
                    for c in 0..b.channels {
                        row[1 + c] = f64::from(lsb_bits(d, (s * b.channels + c) * 20, 20));
                    }
                    row[ANC_BATTERY] = self.battery;
                }
                self.stats.anc.packets += 1;
                self.stats.anc.rows += b.samples as u64;
            }
            BlockKind::Battery => {
                self.battery = f64::from(u16::from_le_bytes([d[0], d[1]])) * BATTERY_SCALE;
            }
            BlockKind::DrlRef => {}
        }
    }
}

#[cfg(test)]
mod tests;

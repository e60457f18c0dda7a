//! BrainAlive notification decoder (sans-IO), as BrainFlow's `BrainAlive`
//! reads them (`src/board_controller/brainalive/brainalive.cpp`,
//! `read_data` and `brainalive_read_notifications`).
//!
//! The device notifies on one characteristic:
//! * an 8-byte configuration reply `0A ?? 07 ig eg vref_hi vref_lo 0D` (the
//!   answer to the `0A 03 60 07 00 0D` written at prepare): internal gain,
//!   external gain and the ADC's reference in mV; the EEG scale follows from
//!   them, µV per count = `vref * 1000 / (ig * eg * (2^23 - 1))`;
//! * 220-byte data notifications, five 44-byte records of one sample each:
//!   bytes 4..28 are 8 EEG channels of 24 bits (two's complement, big
//!   endian), 28..34 the accelerometer and 34..40 the gyroscope (3 × 16 bits,
//!   big endian, signed), byte 41 the package number and byte 42 a marker.
//!   BrainFlow reads nothing else of a record.
//!
//! Rows follow BrainFlow's BRAINALIVE_BOARD layout (17 rows: package 0, EEG
//! 1–8, accel 9–11, gyro 12–14, marker 15, timestamp 16). Accelerometer and
//! gyroscope rows are raw counts, as BrainFlow gives them.
//!
//! Two differences from BrainFlow 5.23, where we follow the device:
//! * a negative 16-bit value: BrainFlow subtracts 65535 instead of 65536
//!   (`if (v > 32767) v = v - 65535`), so it reads every negative accel or
//!   gyro count one too high (0xFFFF as 0, not −1); we read two's complement;
//! * before the configuration reply BrainFlow's scale is `0 / 0` (NaN); ours
//!   is NaN too, and the rows are counted ([`BrainAliveDecoder::unscaled`]).

use super::decoder::DecodeStats;
use super::rows::Rows;

/// Bytes of a data notification.
pub const PACKET_LEN: usize = 220;
/// Bytes of one record (one sample).
pub const RECORD_LEN: usize = 44;
/// Records per data notification.
pub const RECORDS: usize = PACKET_LEN / RECORD_LEN;
/// Bytes of the configuration reply.
pub const CONFIG_LEN: usize = 8;
/// Rows per sample (BrainFlow's description of board 40).
pub const NUM_ROWS: usize = 17;
/// Largest 24-bit count, BrainFlow's `FSR_Value`.
const FULL_SCALE: f64 = 8_388_607.0;

const ROW_EEG: usize = 1;
const ROW_ACCEL: usize = 9;
const ROW_GYRO: usize = 12;
const ROW_MARKER: usize = 15;
const AT_EEG: usize = 4;
const AT_ACCEL: usize = 28;
const AT_GYRO: usize = 34;
const AT_PACKAGE: usize = RECORD_LEN - 3;
const AT_MARKER: usize = RECORD_LEN - 2;

/// The device's analog settings, from its configuration reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnalogConfig {
    /// The ADC's programmable gain.
    pub internal_gain: u8,
    /// The front end's gain before it.
    pub external_gain: u8,
    /// The ADC's reference, in mV.
    pub vref_mv: u16,
}

impl AnalogConfig {
    /// Reads a configuration reply (BrainFlow's test: 8 bytes, `0A` first,
    /// `0D` last, command byte 7 at index 2).
    pub fn parse(value: &[u8]) -> Option<Self> {
        (value.len() == CONFIG_LEN && value[0] == 0x0A && value[7] == 0x0D && value[2] == 7).then(
            || AnalogConfig {
                internal_gain: value[3],
                external_gain: value[4],
                vref_mv: u16::from_be_bytes([value[5], value[6]]),
            },
        )
    }

    /// µV per EEG count (NaN or infinite for a gain of 0, as in BrainFlow).
    pub fn eeg_scale(&self) -> f64 {
        f64::from(self.vref_mv) * 1000.0
            / (f64::from(self.internal_gain) * f64::from(self.external_gain) * FULL_SCALE)
    }
}

/// Decodes BrainAlive notifications into rows, counting loss by the
/// package number (one per record, modulo 256).
#[derive(Debug, Default)]
pub struct BrainAliveDecoder {
    config: Option<AnalogConfig>,
    last_package: Option<u8>,
    stats: DecodeStats,
    unscaled: u64,
}

fn int24_be(b: &[u8]) -> i32 {
    let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    ((v << 8) as i32) >> 8
}

fn int16_be(b: &[u8]) -> f64 {
    f64::from(i16::from_be_bytes([b[0], b[1]]))
}

impl BrainAliveDecoder {
    /// A decoder with no configuration yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The configuration the device last reported.
    pub fn config(&self) -> Option<AnalogConfig> {
        self.config
    }

    /// Rows decoded before any configuration reply (their EEG is NaN).
    pub fn unscaled(&self) -> u64 {
        self.unscaled
    }

    /// Counters since the last [`BrainAliveDecoder::reset`]. Lost packets
    /// are whole notifications: the records missing by the package number,
    /// divided by the 5 a notification holds (a gap of 256 records or more
    /// is seen modulo 256).
    pub fn stats(&self) -> DecodeStats {
        self.stats.clone()
    }

    /// Forgets the stream (at start); the configuration stays.
    pub fn reset(&mut self) {
        self.last_package = None;
        self.stats = DecodeStats::default();
        self.unscaled = 0;
    }

    /// Takes `value` if it is a configuration reply (true then).
    pub fn config_reply(&mut self, value: &[u8]) -> bool {
        let c = AnalogConfig::parse(value);
        if c.is_some() {
            self.config = c;
        }
        c.is_some()
    }

    /// Decodes one notification, appending a row per record to `out` (which
    /// takes the width [`NUM_ROWS`], see [`Rows::set_width`]).
    pub fn decode(&mut self, value: &[u8], out: &mut Rows) {
        if self.config_reply(value) {
            return;
        }
        out.set_width(NUM_ROWS);
        if value.len() != PACKET_LEN {
            self.stats.garbage_bytes += value.len() as u64;
            return;
        }
        self.stats.packets += 1;
        let scale = self.config.map_or(f64::NAN, |c| c.eeg_scale());
        let mut missing = 0u64;
        for rec in value.chunks_exact(RECORD_LEN) {
            let package = rec[AT_PACKAGE];
            if let Some(last) = self.last_package {
                missing += u64::from(package.wrapping_sub(last).wrapping_sub(1));
            }
            self.last_package = Some(package);
            let row = out.push_zeroed_array::<NUM_ROWS>();
            row[0] = f64::from(package);
            for (k, v) in row[ROW_EEG..ROW_EEG + 8].iter_mut().enumerate() {
                *v = f64::from(int24_be(&rec[AT_EEG + 3 * k..])) * scale;
            }
            for k in 0..3 {
                row[ROW_ACCEL + k] = int16_be(&rec[AT_ACCEL + 2 * k..]);
                row[ROW_GYRO + k] = int16_be(&rec[AT_GYRO + 2 * k..]);
            }
            row[ROW_MARKER] = f64::from(rec[AT_MARKER]);
        }
        self.stats.rows += RECORDS as u64;
        if self.config.is_none() {
            self.unscaled += RECORDS as u64;
        }
        // Records are lost five at a time, with their notification.
        self.stats.lost_packets += missing.div_ceil(RECORDS as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: [u8; 8] = [0x0A, 0x06, 0x07, 12, 1, 0x11, 0x94, 0x0D];

    /// A data notification whose record `r` has package number `first + r`,
    /// EEG channel k = (k + 1) * sign * 1000 counts, accel/gyro k = -(k + 1).
    fn packet(first: u8, sign: i32) -> Vec<u8> {
        let mut v = vec![0u8; PACKET_LEN];
        for (r, rec) in v.chunks_exact_mut(RECORD_LEN).enumerate() {
            rec[0] = 0x0A;
            for k in 0..8 {
                let c = ((k as i32 + 1) * 1000 * sign).to_be_bytes();
                rec[AT_EEG + 3 * k..AT_EEG + 3 * k + 3].copy_from_slice(&c[1..]);
            }
            for k in 0..3 {
                let c = (-(k as i16) - 1).to_be_bytes();
                rec[AT_ACCEL + 2 * k..AT_ACCEL + 2 * k + 2].copy_from_slice(&c);
                rec[AT_GYRO + 2 * k..AT_GYRO + 2 * k + 2].copy_from_slice(&c);
            }
            rec[AT_PACKAGE] = first.wrapping_add(r as u8);
            rec[RECORD_LEN - 1] = 0x0D;
        }
        v
    }

    #[test]
    fn config_reply_sets_the_eeg_scale() {
        let c = AnalogConfig::parse(&CONFIG).unwrap();
        assert_eq!((c.internal_gain, c.external_gain, c.vref_mv), (12, 1, 4500));
        assert!((c.eeg_scale() - 4.5e6 / (12.0 * 8_388_607.0)).abs() < 1e-12);
        // Not a configuration reply: wrong length, ends or command byte.
        assert!(AnalogConfig::parse(&CONFIG[..7]).is_none());
        let mut bad = CONFIG;
        bad[2] = 8;
        assert!(AnalogConfig::parse(&bad).is_none());
    }

    #[test]
    fn five_rows_per_notification_signed_values() {
        let mut d = BrainAliveDecoder::new();
        let mut out = Rows::new(NUM_ROWS);
        d.decode(&CONFIG, &mut out);
        d.decode(&packet(254, -1), &mut out);
        assert_eq!(out.len(), 5);
        let scale = d.config().unwrap().eeg_scale();
        let row = out.row(2);
        assert_eq!(row[0], 0.0, "package number wraps 254, 255, 0");
        assert!((row[ROW_EEG + 7] - -8000.0 * scale).abs() < 1e-9);
        // Two's complement: 0xFFFF is -1 (BrainFlow reads 0).
        assert_eq!(
            &row[ROW_ACCEL..ROW_GYRO + 3],
            &[-1., -2., -3., -1., -2., -3.]
        );
        let s = d.stats();
        assert_eq!((s.packets, s.rows, s.lost_packets), (1, 5, 0));
        assert_eq!(d.unscaled(), 0);
    }

    #[test]
    fn a_lost_notification_counts_once_and_garbage_is_counted() {
        let mut d = BrainAliveDecoder::new();
        let mut out = Rows::new(NUM_ROWS);
        d.decode(&packet(0, 1), &mut out);
        // Packages 5..10 lost with their notification; a cut one is garbage.
        d.decode(&packet(10, 1)[..100], &mut out);
        d.decode(&packet(15, 1), &mut out);
        let s = d.stats();
        assert_eq!(
            (s.packets, s.rows, s.lost_packets, s.garbage_bytes),
            (2, 10, 2, 100)
        );
        // No configuration yet: EEG is NaN, and said.
        assert!(out.row(0)[ROW_EEG].is_nan());
        assert_eq!(d.unscaled(), 10);
        d.reset();
        assert_eq!(d.stats(), DecodeStats::default());
    }
}

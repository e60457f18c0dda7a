//! AAVAA v3 notification decoder (sans-IO), as BrainFlow's `AAVAAv3` reads
//! them (`src/board_controller/aavaa/aavaa_v3.cpp`, `read_data`).
//!
//! The device speaks Würth Elektronik's Proteus serial profile: every
//! notification starts with a header byte (`0x01`, data), three bytes for a
//! full 244-byte notification, which BrainFlow drops; what follows is a byte
//! stream of 47-byte frames that may span notifications (the common
//! `0xA0, counter, payload, 0xC0` framing of [`super::framed`]):
//! 8 EEG values as little-endian `float32` ADC counts (bytes 2..34), 3
//! rotation values as big-endian `int16` hundredths (34..40), battery (40),
//! IMU status (41), the device's clock as a little-endian `u32` of 10 µs
//! (42..46).
//!
//! Rows follow BrainFlow's AAVAA_V3_BOARD layout (17 rows: package 0, EEG
//! 1–8, rotation 9–11, battery 12, IMU status 13, device time in s 14,
//! timestamp 15, marker 16).
//!
//! Outside a stream, a notification whose byte 1 is `@` is the device's
//! status text (bytes 1.., what BrainFlow's `config_board("w")` returns).

use super::decoder::DecodeStats;
use super::framed::{FrameFormat, FramedDecoder};
use super::rows::Rows;

/// Bytes of a frame, start and end bytes included.
pub const FRAME_LEN: usize = 47;
/// Rows per sample (BrainFlow's description of board 53).
pub const NUM_ROWS: usize = 17;
/// A notification of this size carries 3 header bytes, any other 1.
pub const FULL_NOTIFICATION: usize = 244;
/// µV per ADC count, as BrainFlow computes it (in `double`): a 4.5 V
/// reference, gain 12, 24 bits.
pub const EEG_SCALE: f64 = 4.5 / 8_388_607.0 / 12.0 * 1_000_000.0;

/// The frame's payload (see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AavaaFrame;

impl FrameFormat for AavaaFrame {
    fn packet_len(&self) -> usize {
        FRAME_LEN
    }

    fn num_rows(&self) -> usize {
        NUM_ROWS
    }

    fn fill_row(&self, f: &[u8], row: &mut [f64]) {
        for ch in 0..8 {
            let at = 2 + 4 * ch;
            let v = f32::from_le_bytes([f[at], f[at + 1], f[at + 2], f[at + 3]]);
            row[1 + ch] = EEG_SCALE * f64::from(v);
        }
        for k in 0..3 {
            let at = 34 + 2 * k;
            row[9 + k] = 0.01 * f64::from(i16::from_be_bytes([f[at], f[at + 1]]));
        }
        row[12] = f64::from(f[40]);
        row[13] = f64::from(f[41]);
        // BrainFlow's TIMESTAMP_SCALE, `10. / 1000000.`.
        row[14] =
            f64::from(u32::from_le_bytes([f[42], f[43], f[44], f[45]])) * (10.0 / 1_000_000.0);
    }
}

/// Decodes AAVAA v3 notifications into rows.
#[derive(Clone, Debug)]
pub struct AavaaDecoder {
    frames: FramedDecoder<AavaaFrame>,
    status: String,
}

impl Default for AavaaDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// The frame bytes of a notification: without its header.
pub fn payload(value: &[u8]) -> &[u8] {
    match value.len() {
        FULL_NOTIFICATION => &value[3..],
        0 | 1 => &[],
        _ => &value[1..],
    }
}

impl AavaaDecoder {
    /// A decoder with no status yet.
    pub fn new() -> Self {
        AavaaDecoder {
            frames: FramedDecoder::with_format(AavaaFrame),
            status: String::new(),
        }
    }

    /// Decodes one notification's frames (and the part of one it ends or
    /// begins) into `out`.
    pub fn decode(&mut self, value: &[u8], out: &mut Rows) {
        self.frames.push(payload(value), out);
    }

    /// Takes a status notification (byte 1 `@`) received between streams;
    /// true if it was one.
    pub fn status_reply(&mut self, value: &[u8]) -> bool {
        let is = value.len() > 1 && value[1] == b'@';
        if is {
            self.status = String::from_utf8_lossy(&value[1..]).into_owned();
        }
        is
    }

    /// The last status text the device sent (empty if none).
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The last status text, forgotten once read (BrainFlow's `w`).
    pub fn take_status(&mut self) -> String {
        std::mem::take(&mut self.status)
    }

    /// Counters since the last [`AavaaDecoder::reset`].
    pub fn stats(&self) -> DecodeStats {
        self.frames.stats().clone()
    }

    /// Forgets the stream and its counters (at start); the status stays.
    pub fn reset(&mut self) {
        self.frames = FramedDecoder::with_format(AavaaFrame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(counter: u8, eeg: f32, rot: i16) -> Vec<u8> {
        let mut f = vec![0xA0, counter];
        for ch in 0..8 {
            f.extend((eeg * (ch as f32 + 1.0)).to_le_bytes());
        }
        for k in 0..3 {
            f.extend((rot - k).to_be_bytes());
        }
        f.extend([87, 3]);
        f.extend(250_000u32.to_le_bytes());
        f.push(0xC0);
        assert_eq!(f.len(), FRAME_LEN);
        f
    }

    #[test]
    fn frames_span_notifications_and_headers_are_dropped() {
        let mut bytes = Vec::new();
        for c in 0..10u8 {
            bytes.extend(frame(c, -1000.5, -150));
        }
        let mut d = AavaaDecoder::new();
        let mut out = Rows::new(NUM_ROWS);
        // A 244-byte notification (3 header bytes) then the rest in pieces of
        // 30 bytes behind one header byte each.
        let mut n = vec![0x01, 0x00, 0x00];
        n.extend(&bytes[..241]);
        d.decode(&n, &mut out);
        for piece in bytes[241..].chunks(30) {
            let mut n = vec![0x01];
            n.extend(piece);
            d.decode(&n, &mut out);
        }
        assert_eq!(out.len(), 10);
        let row = out.row(9);
        assert_eq!(row[0], 9.0);
        assert_eq!(row[8], EEG_SCALE * f64::from(-1000.5f32 * 8.0));
        assert_eq!(&row[9..12], &[0.01 * -150.0, 0.01 * -151.0, 0.01 * -152.0]);
        assert_eq!((row[12], row[13]), (87.0, 3.0));
        assert!((row[14] - 2.5).abs() < 1e-12);
        let s = d.stats();
        assert_eq!((s.packets, s.lost_packets, s.garbage_bytes), (10, 0, 0));
    }

    #[test]
    fn loss_by_counter_and_status_between_streams() {
        let mut d = AavaaDecoder::new();
        let mut out = Rows::new(NUM_ROWS);
        for c in [0u8, 1, 4] {
            let mut n = vec![0x01];
            n.extend(frame(c, 1.0, 0));
            d.decode(&n, &mut out);
        }
        assert_eq!(d.stats().lost_packets, 2);
        assert!(d.status_reply(b"\x01@ok,fw3"));
        assert!(!d.status_reply(b"\x01ok"));
        assert_eq!(d.status(), "@ok,fw3");
        d.reset();
        assert_eq!(d.stats().packets, 0);
        assert_eq!(d.status(), "@ok,fw3");
    }
}

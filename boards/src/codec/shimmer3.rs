//! Shimmer3 data packets (sans-IO), laid out by the device's inquiry
//! response, read as BrainFlow 5.23's `Shimmer3` class reads them
//! (`src/board_controller/shimmer/shimmer3.cpp`, `inc/shimmer3_defines.h`).
//!
//! * A data packet is `0x00` (`DATA_PACKET`) then `buffer_size` samples, each
//!   a 3-byte little-endian timestamp followed by the enabled channels in the
//!   order the inquiry response lists their ids (`build_packet_layout`); the
//!   width, signedness and byte order of each id are `format_for`'s.
//! * There is no end byte, checksum or packet counter. The timestamp counts
//!   the 32768 Hz clock the sampling rate divides (`CLOCK_HZ`, `f = 32768 /
//!   divider`), so consecutive samples are `divider` ticks apart: this
//!   decoder checks each packet's timestamp against the last one and counts
//!   `delta / divider − 1` lost samples. BrainFlow reads no timestamp (its
//!   package number is a host counter), so it neither counts loss nor
//!   notices garbage; see the protocol module.
//! * Garbage (a byte where a packet header should be, or a header whose
//!   timestamp is off the divider's grid) drops the decoder into a hunt: a
//!   candidate `0x00` is taken only when the byte one packet later is `0x00`
//!   too and its timestamp is on the grid.
//! * Rows follow BrainFlow's `route_field`: raw counts (no calibration; the
//!   calibration dump, `GET_ALL_CALIBRATION_COMMAND`, is never read) into
//!   accel 1–3, gyro 4–6, magnetometer 7–9, ExG 10–13, EDA 14 in µS
//!   (`convert_gsr_to_microsiemens`), temperature 15, battery 16, and the
//!   first channel with no row of its own into "other" 17 (later ones are
//!   dropped, as BrainFlow drops them).

use super::decoder::{DecodeStats, Decoder, Input, PresetRows};
use crate::ids::Preset;

/// BrainFlow's row count for Shimmer3.
pub const NUM_ROWS: usize = 20;
/// The clock the sampling divider divides (`shimmer3::CLOCK_HZ`).
pub const CLOCK_HZ: f64 = 32768.0;
/// `DATA_PACKET`: the byte before every data packet.
pub const DATA_PACKET: u8 = 0x00;
/// The timestamp wraps at 2^24 ticks (3 bytes, `TIMESTAMP_BYTES`).
const TS_MODULO: u32 = 1 << 24;
/// How many packets' worth of bytes after a doubtful packet are searched for
/// the next one before the doubtful one is taken as garbage.
const WINDOW: usize = 3;

/// Rows of the layout (BrainFlow's descr for id 68).
mod row {
    pub const ACCEL: usize = 1;
    pub const GYRO: usize = 4;
    pub const MAG: usize = 7;
    pub const ECG: usize = 10;
    pub const EDA: usize = 14;
    pub const TEMPERATURE: usize = 15;
    pub const BATTERY: usize = 16;
    pub const OTHER: usize = 17;
}

/// How one channel is sent (`shimmer3::FieldFormat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    /// Bytes: 1, 2 or 3.
    pub width: usize,
    /// Two's complement.
    pub signed: bool,
    /// Least significant byte first.
    pub little_endian: bool,
}

impl Format {
    /// The value of the field at the start of `b`.
    pub fn decode(self, b: &[u8]) -> i32 {
        let bytes = &b[..self.width];
        let mut raw: u32 = 0;
        for i in 0..self.width {
            let byte = if self.little_endian {
                bytes[self.width - 1 - i]
            } else {
                bytes[i]
            };
            raw = (raw << 8) | u32::from(byte);
        }
        let bits = 8 * self.width as u32;
        if self.signed && raw & (1 << (bits - 1)) != 0 {
            raw |= !((1u32 << bits) - 1);
        }
        raw as i32
    }
}

/// The wire format of channel `id` (`shimmer3::format_for`), or `None` for an
/// id BrainFlow does not know (it then refuses the whole layout).
pub fn format_for(id: u8) -> Option<Format> {
    let f = |width, signed, little_endian| {
        Some(Format {
            width,
            signed,
            little_endian,
        })
    };
    match id {
        // Low-noise accel, battery, ADCs, GSR, strain gauge: unsigned 16 LE.
        0x00..=0x03 | 0x0D..=0x13 | 0x1C | 0x27 | 0x28 => f(2, false, true),
        // Wide-range accel (LSM303): signed 16 LE.
        0x04..=0x06 => f(2, true, true),
        // LSM303 magnetometer, MPU9150 gyro and accel: signed 16 BE.
        0x07..=0x0C | 0x14..=0x16 => f(2, true, false),
        // MPU9150 magnetometer: signed 16 LE.
        0x17..=0x19 => f(2, true, true),
        // BMP temperature: unsigned 16 BE; pressure: unsigned 24 BE.
        0x1A => f(2, false, false),
        0x1B => f(3, false, false),
        // ExG status bytes; ExG channels signed 24 or 16 BE.
        0x1D | 0x20 => f(1, false, true),
        0x1E | 0x1F | 0x21 | 0x22 => f(3, true, false),
        0x23..=0x26 => f(2, true, false),
        _ => None,
    }
}

/// Where a channel's value goes (BrainFlow's `route_field`).
fn route(id: u8) -> Option<usize> {
    Some(match id {
        0x00 | 0x04 | 0x14 => row::ACCEL,
        0x01 | 0x05 | 0x15 => row::ACCEL + 1,
        0x02 | 0x06 | 0x16 => row::ACCEL + 2,
        0x0A..=0x0C => row::GYRO + usize::from(id - 0x0A),
        0x07..=0x09 => row::MAG + usize::from(id - 0x07),
        0x17..=0x19 => row::MAG + usize::from(id - 0x17),
        0x1E | 0x23 => row::ECG,
        0x1F | 0x24 => row::ECG + 1,
        0x21 | 0x25 => row::ECG + 2,
        0x22 | 0x26 => row::ECG + 3,
        0x1C => row::EDA,
        0x1A => row::TEMPERATURE,
        0x03 => row::BATTERY,
        _ => return None,
    })
}

/// Why an inquiry response cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InquiryError {
    /// Shorter than its header or its channel list.
    Short,
    /// A sampling divider of 0 or a buffer size of 0.
    Zero(&'static str),
    /// A channel id BrainFlow does not know.
    UnknownChannel(u8),
    /// Two accelerometers or two magnetometers, which would share rows.
    SharedRows,
}

impl std::fmt::Display for InquiryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InquiryError::Short => write!(f, "inquiry response is too short"),
            InquiryError::Zero(what) => write!(f, "inquiry response has {what} 0"),
            InquiryError::UnknownChannel(id) => write!(f, "unsupported signal 0x{id:02X}"),
            InquiryError::SharedRows => {
                write!(f, "multiple IMU sources use the same BrainFlow rows")
            }
        }
    }
}

/// What the inquiry response (after its `0x02` opcode) says about the
/// stream: `divider u16 LE, config u32 LE, channel count, buffer size,
/// channel ids` (BrainFlow's `cmd_inquiry`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inquiry {
    /// Sampling clock divider: the rate is `32768 / divider`.
    pub divider: u16,
    /// The four configuration bytes, little endian.
    pub config: u32,
    /// Samples per data packet.
    pub buffer_size: u8,
    /// Enabled channel ids in packet order.
    pub channels: Vec<u8>,
}

impl Inquiry {
    /// Bytes of the inquiry response after the opcode, before the channel ids.
    pub const HEADER: usize = 8;

    /// Parses the response body (`bytes` starts after the `0x02` opcode).
    pub fn parse(bytes: &[u8]) -> Result<Inquiry, InquiryError> {
        let h = bytes.get(..Self::HEADER).ok_or(InquiryError::Short)?;
        let n = usize::from(h[6]);
        let channels = bytes
            .get(Self::HEADER..Self::HEADER + n)
            .ok_or(InquiryError::Short)?
            .to_vec();
        let inq = Inquiry {
            divider: u16::from_le_bytes([h[0], h[1]]),
            config: u32::from_le_bytes([h[2], h[3], h[4], h[5]]),
            buffer_size: h[7],
            channels,
        };
        inq.check()?;
        Ok(inq)
    }

    fn check(&self) -> Result<(), InquiryError> {
        if self.divider == 0 {
            return Err(InquiryError::Zero("sampling divider"));
        }
        if self.buffer_size == 0 {
            return Err(InquiryError::Zero("buffer size"));
        }
        for id in &self.channels {
            format_for(*id).ok_or(InquiryError::UnknownChannel(*id))?;
        }
        // BrainFlow refuses two sources for one set of rows.
        let sources = |groups: &[std::ops::RangeInclusive<u8>]| {
            groups
                .iter()
                .filter(|g| self.channels.iter().any(|c| g.contains(c)))
                .count()
        };
        if sources(&[0x00..=0x02, 0x04..=0x06, 0x14..=0x16]) > 1
            || sources(&[0x07..=0x09, 0x17..=0x19]) > 1
        {
            return Err(InquiryError::SharedRows);
        }
        Ok(())
    }

    /// Samples per second (`divider_to_hz`).
    pub fn sampling_rate(&self) -> f64 {
        CLOCK_HZ / f64::from(self.divider)
    }

    /// Bytes of one sample: the timestamp and every channel.
    pub fn sample_len(&self) -> usize {
        3 + self
            .channels
            .iter()
            .map(|c| format_for(*c).map_or(0, |f| f.width))
            .sum::<usize>()
    }

    /// Bytes of one data packet, its header included.
    pub fn packet_len(&self) -> usize {
        1 + self.sample_len() * usize::from(self.buffer_size)
    }

    /// The GSR range from the configuration bytes (bits 25–27, as BrainFlow
    /// reads them; 4 means the device picks the range per sample).
    pub fn gsr_range(&self) -> u8 {
        ((self.config >> 25) & 0x07) as u8
    }
}

/// µS from a raw GSR word, BrainFlow's linear fit per range
/// (`convert_gsr_to_microsiemens`): the 12-bit ADC value times p1 plus p2,
/// with the range from the configuration or, for range 4, from the word's
/// top two bits; 0 for an unknown range or a result ≤ 0.
pub fn gsr_microsiemens(raw: i32, range: u8) -> f64 {
    const COEFFS: [(f64, f64); 4] = [
        (0.0373, -24.9915),
        (0.0054, -3.5194),
        (0.0015, -1.0163),
        (0.0004558, -0.3014),
    ];
    let raw = (raw & 0xFFFF) as u16;
    let range = if range == 4 {
        (raw >> 14) & 0x03
    } else {
        u16::from(range)
    };
    let Some((p1, p2)) = COEFFS.get(usize::from(range)) else {
        return 0.0;
    };
    let us = p1 * f64::from(raw & 0x0FFF) + p2;
    if us.is_finite() && us > 0.0 {
        us
    } else {
        0.0
    }
}

/// Streaming decoder of Shimmer3 data packets.
#[derive(Clone, Debug, Default)]
pub struct Shimmer3Decoder {
    layout: Option<Inquiry>,
    buf: Vec<u8>,
    /// Timestamp and sample index of the last sample accepted this stream.
    last: Option<(u32, u64)>,
    /// The last packet was accepted where the next one now starts.
    synced: bool,
    stats: DecodeStats,
}

impl Shimmer3Decoder {
    /// A decoder that knows no layout yet: until [`Self::set_layout`], every
    /// byte is garbage.
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder for the stream `inquiry` describes.
    pub fn with_layout(inquiry: Inquiry) -> Self {
        let mut d = Self::new();
        d.set_layout(inquiry);
        d
    }

    /// Takes the layout of a (new) inquiry response.
    pub fn set_layout(&mut self, inquiry: Inquiry) {
        self.layout = Some(inquiry);
        self.buf.clear();
        self.synced = false;
        self.last = None;
    }

    /// The layout in use.
    pub fn layout(&self) -> Option<&Inquiry> {
        self.layout.as_ref()
    }

    /// Bytes held back: a packet not decided yet (a packet waits for the
    /// next one's header and timestamp, which confirm it).
    pub fn pending_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Emits the rows of a whole packet; samples missing since the last one
    /// (by its first timestamp) are counted as lost.
    fn emit(&mut self, l: &Inquiry, packet: &[u8], out: &mut PresetRows) {
        let ts0 = u32::from_le_bytes([packet[1], packet[2], packet[3], 0]);
        let mut index = match self.last {
            Some((last, i)) => {
                let k = u64::from((ts0.wrapping_sub(last) % TS_MODULO) / u32::from(l.divider));
                let k = k.max(1);
                self.stats.lost_packets += k - 1;
                i + k
            }
            None => 0,
        };
        let range = l.gsr_range();
        let sample_len = l.sample_len();
        // A layout passed `Inquiry::check`, so every id has a format; were
        // one unknown, no row of the packet would be emitted (as before rows
        // were written in place, when the first sample's loop returned).
        if l.channels.iter().any(|id| format_for(*id).is_none()) {
            return;
        }
        let out = &mut out[Preset::Default as usize];
        out.set_width(NUM_ROWS);
        let mut ts = 0;
        for (s, sample) in packet[1..].chunks_exact(sample_len).enumerate() {
            if s > 0 {
                index += 1;
            }
            ts = u32::from_le_bytes([sample[0], sample[1], sample[2], 0]);
            let row = out.push_zeroed();
            row[0] = index as f64;
            let mut at = 3;
            let mut other_done = false;
            for id in &l.channels {
                let Some(f) = format_for(*id) else { continue };
                let raw = f.decode(&sample[at..]);
                at += f.width;
                match route(*id) {
                    Some(row::EDA) => row[row::EDA] = gsr_microsiemens(raw, range),
                    Some(r) => row[r] = f64::from(raw),
                    None if !other_done => {
                        row[row::OTHER] = f64::from(raw);
                        other_done = true;
                    }
                    None => {}
                }
            }
            self.stats.rows += 1;
        }
        self.stats.packets += 1;
        self.last = Some((ts, index));
    }
}

impl Shimmer3Decoder {
    /// Whether a sample stamped `ts` can follow one stamped `from`: a whole,
    /// non-zero number of sample periods later, and less than half the
    /// timestamp's range (2^23 ticks, 256 s): a stamp further on reads as one
    /// behind, so zero-filled data cannot pass for a header stamped 0.
    fn follows(from: u32, ts: u32, divider: u32) -> bool {
        let delta = ts.wrapping_sub(from) % TS_MODULO;
        delta != 0 && delta < TS_MODULO / 2 && delta % divider == 0
    }

    /// Whether `ts` is exactly the next sample period after `from`: how a
    /// packet is confirmed by the one behind it (a lost packet between them
    /// leaves the earlier one to be confirmed by where the later one starts).
    fn next_after(from: u32, ts: u32, divider: u32) -> bool {
        ts.wrapping_sub(from) % TS_MODULO == divider
    }

    /// The timestamp of the packet header at `at` (its first sample's).
    fn ts_at(buf: &[u8], at: usize) -> u32 {
        let b = &buf[at + 1..at + 4];
        u32::from_le_bytes([b[0], b[1], b[2], 0])
    }

    /// Where the packet after a candidate at `pos` stamped `ts` starts, if
    /// it is not right behind it: the first position within [`WINDOW`]
    /// packets holding a header stamped later on the divider's grid and
    /// confirmed by the header one packet further on (stamped later still),
    /// so data bytes that look like a header are passed over.
    /// `Err(())` while the bytes needed to decide have not all arrived, so
    /// the answer never depends on how the input was chunked.
    fn next_start(
        buf: &[u8],
        pos: usize,
        ts: u32,
        divider: u32,
        len: usize,
    ) -> Result<Option<usize>, ()> {
        for q in pos + 1..=pos + WINDOW * len {
            if q + 4 > buf.len() {
                return Err(());
            }
            if buf[q] != DATA_PACKET || !Self::follows(ts, Self::ts_at(buf, q), divider) {
                continue;
            }
            let next = q + len;
            if next + 4 > buf.len() {
                return Err(());
            }
            if buf[next] == DATA_PACKET
                && Self::next_after(Self::ts_at(buf, q), Self::ts_at(buf, next), divider)
            {
                return Ok(Some(q));
            }
        }
        Ok(None)
    }

    fn skip_garbage(&mut self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        if self.synced {
            self.synced = false;
            self.stats.resyncs += 1;
        }
        self.stats.garbage_bytes += bytes as u64;
    }
}

impl Shimmer3Decoder {
    /// Takes every packet the buffer decides. A packet is confirmed by the
    /// header and timestamp of the one behind it; when `idle` (the link has
    /// been quiet for a poll: nothing follows yet), a last packet in step
    /// with the stream is taken without.
    fn run(&mut self, idle: bool, out: &mut PresetRows) {
        // Taken for the call and put back at its end: cloning it (its channel
        // list) and each packet (`to_vec`, to release the borrow of `buf`)
        // were allocations per call and per packet.
        let Some(l) = self.layout.take() else { return };
        let buf = std::mem::take(&mut self.buf);
        let pos = self.run_on(&l, &buf, idle, out);
        self.layout = Some(l);
        self.buf = buf;
        self.buf.drain(..pos);
    }

    /// [`Shimmer3Decoder::run`] over `buf` (the decoder's own, taken out):
    /// returns how many bytes were decided.
    fn run_on(&mut self, l: &Inquiry, buf: &[u8], idle: bool, out: &mut PresetRows) -> usize {
        let len = l.packet_len();
        let divider = u32::from(l.divider);
        let mut pos = 0;
        while buf.len() - pos >= len {
            let ts = Self::ts_at(buf, pos);
            let on_grid = buf[pos] == DATA_PACKET
                && self
                    .last
                    .map_or(true, |(last, _)| Self::follows(last, ts, divider));
            if !on_grid {
                self.skip_garbage(1);
                pos += 1;
                continue;
            }
            let end = pos + len;
            if buf.len() == end {
                if idle && self.synced {
                    self.emit(l, &buf[pos..end], out);
                    pos = end;
                }
                break;
            }
            if end + 4 <= buf.len()
                && buf[end] == DATA_PACKET
                && Self::next_after(ts, Self::ts_at(buf, end), divider)
            {
                self.emit(l, &buf[pos..end], out);
                self.synced = true;
                pos = end;
                continue;
            }
            // The bytes after it are not the next packet: garbage follows a
            // whole packet, or this one was cut short and the next starts
            // inside its span, or it was never a packet. Where the next
            // packet starts tells which.
            match Self::next_start(buf, pos, ts, divider, len) {
                // Undecided; on a quiet link nothing more is coming for now,
                // so a packet in step with the stream is taken.
                Err(()) if idle && self.synced => {
                    self.emit(l, &buf[pos..end], out);
                    pos = end;
                }
                Err(()) => break,
                Ok(Some(q)) if q < end => {
                    self.skip_garbage(q - pos);
                    pos = q;
                }
                Ok(Some(q)) => {
                    self.emit(l, &buf[pos..end], out);
                    self.synced = true;
                    self.skip_garbage(q - end);
                    pos = q;
                }
                Ok(None) => {
                    self.skip_garbage(1);
                    pos += 1;
                }
            }
        }
        pos
    }
}

impl Decoder for Shimmer3Decoder {
    /// Bytes as they come; an empty input means the link was idle for a
    /// poll, so a last packet in step with the stream need not wait for the
    /// next one's header.
    fn decode(&mut self, input: Input<'_>, out: &mut PresetRows) {
        let Input::Bytes(bytes) = input else { return };
        if self.layout.is_none() {
            self.stats.garbage_bytes += bytes.len() as u64;
            return;
        }
        self.buf.extend_from_slice(bytes);
        self.run(bytes.is_empty(), out);
    }

    fn flush(&mut self, out: &mut PresetRows) {
        self.run(true, out);
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.last = None;
        self.synced = false;
        self.stats = DecodeStats::default();
    }

    fn stats(&self, preset: Preset) -> DecodeStats {
        match preset {
            Preset::Default => self.stats.clone(),
            _ => DecodeStats::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Rows;

    /// Battery, GSR, WR accel, mag, gyro, temperature, pressure, ExG1, ExG2:
    /// the emulator profile's layout.
    pub(crate) fn full_inquiry() -> Vec<u8> {
        let ids = [
            0x03, 0x1C, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x1A, 0x1B, 0x1D,
            0x1E, 0x1F, 0x20, 0x21, 0x22,
        ];
        let mut b = vec![64, 0, 0, 0, 0, 0, ids.len() as u8, 1];
        b.extend_from_slice(&ids);
        b
    }

    fn packet(ts: u32, vals: &[i64]) -> Vec<u8> {
        let inq = Inquiry::parse(&full_inquiry()).unwrap();
        let mut p = vec![0x00];
        p.extend_from_slice(&ts.to_le_bytes()[..3]);
        for (id, v) in inq.channels.iter().zip(vals) {
            let f = format_for(*id).unwrap();
            let b = (*v as u64).to_be_bytes();
            let mut field = b[8 - f.width..].to_vec();
            if f.little_endian {
                field.reverse();
            }
            p.extend_from_slice(&field);
        }
        p
    }

    const VALS: [i64; 19] = [
        2900, 1670, -1000, 2000, -32768, 300, -301, 32767, -5, 6, 7, 25000, 0x012345, 0x80,
        -8388608, 8388607, 0x41, 12345, -12345,
    ];

    fn decoder() -> Shimmer3Decoder {
        Shimmer3Decoder::with_layout(Inquiry::parse(&full_inquiry()).unwrap())
    }

    fn run(d: &mut Shimmer3Decoder, bytes: &[u8]) -> Rows {
        let mut out = PresetRows::default();
        d.decode(Input::Bytes(bytes), &mut out);
        std::mem::take(&mut out[0])
    }

    #[test]
    fn inquiry_is_parsed_and_checked() {
        let inq = Inquiry::parse(&full_inquiry()).unwrap();
        assert_eq!(inq.sampling_rate(), 512.0);
        assert_eq!(inq.sample_len(), 44);
        assert_eq!(inq.packet_len(), 45);
        assert_eq!(
            Inquiry::parse(&full_inquiry()[..10]),
            Err(InquiryError::Short)
        );
        let mut two_accels = vec![64, 0, 0, 0, 0, 0, 2, 1, 0x00, 0x04];
        assert_eq!(Inquiry::parse(&two_accels), Err(InquiryError::SharedRows));
        two_accels[9] = 0x40;
        assert_eq!(
            Inquiry::parse(&two_accels),
            Err(InquiryError::UnknownChannel(0x40))
        );
        assert_eq!(
            Inquiry::parse(&[0, 0, 0, 0, 0, 0, 0, 1]),
            Err(InquiryError::Zero("sampling divider"))
        );
        let gsr_auto = Inquiry::parse(&[64, 0, 0, 0, 0, 0x08, 0, 1]).unwrap();
        assert_eq!(gsr_auto.gsr_range(), 4);
    }

    #[test]
    fn every_channel_value_by_value() {
        let mut d = decoder();
        let mut bytes = packet(1000, &VALS);
        bytes.extend(packet(1064, &VALS));
        let rows = run(&mut d, &bytes);
        // The second packet is not confirmed yet: nothing follows it.
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r[0], 0.0);
        assert_eq!(r[16], 2900.0, "battery");
        assert!((r[14] - (0.0373 * 1670.0 - 24.9915)).abs() < 1e-12, "eda");
        assert_eq!(&r[1..4], [-1000.0, 2000.0, -32768.0], "accel");
        assert_eq!(&r[7..10], [300.0, -301.0, 32767.0], "mag");
        assert_eq!(&r[4..7], [-5.0, 6.0, 7.0], "gyro");
        assert_eq!(r[15], 25000.0, "temperature");
        assert_eq!(r[17], f64::from(0x012345), "pressure: the first other");
        assert_eq!(
            &r[10..14],
            [-8388608.0, 8388607.0, 12345.0, -12345.0],
            "exg"
        );
        // The next header confirms the second packet; the third waits for
        // its own confirmation, or for the link to go quiet.
        let rows = run(&mut d, &packet(1128, &VALS));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], 1.0);
        let rows = run(&mut d, &[]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], 2.0);
        assert_eq!(d.stats(Preset::Default).lost_packets, 0);
        assert_eq!(d.stats(Preset::Default).garbage_bytes, 0);
    }

    #[test]
    fn loss_is_counted_from_timestamps_across_the_wrap() {
        let mut d = decoder();
        let start = TS_MODULO - 64 * 3;
        let mut bytes = Vec::new();
        for i in [0u32, 1, 5, 6, 7, 10] {
            bytes.extend(packet(start.wrapping_add(64 * i) % TS_MODULO, &VALS));
        }
        let mut rows = run(&mut d, &bytes);
        let mut out = PresetRows::default();
        d.flush(&mut out);
        rows.append(&mut out[0]);
        let idx: Vec<f64> = rows.iter().map(|r| r[0]).collect();
        assert_eq!(idx, [0.0, 1.0, 5.0, 6.0, 7.0, 10.0]);
        assert_eq!(d.stats(Preset::Default).lost_packets, 5);
    }

    #[test]
    fn resyncs_after_garbage_and_counts_every_byte() {
        let mut d = decoder();
        let mut bytes = packet(0, &VALS);
        bytes.extend(packet(64, &VALS));
        // Garbage with stray headers, then the stream goes on.
        let garbage = [0x00, 0xFF, 0x00, 0x13, 0x8A, 0x00, 0x00];
        bytes.extend_from_slice(&garbage);
        for i in 2..6 {
            bytes.extend(packet(64 * i, &VALS));
        }
        // Fed one byte at a time, as a slow port would.
        let mut rows = Rows::default();
        for b in &bytes {
            rows.append(&mut run(&mut d, std::slice::from_ref(b)));
        }
        let idx: Vec<f64> = rows.iter().map(|r| r[0]).collect();
        assert_eq!(idx, [0.0, 1.0, 2.0, 3.0, 4.0]);
        let s = d.stats(Preset::Default);
        assert_eq!(s.garbage_bytes, garbage.len() as u64);
        assert_eq!(s.lost_packets, 0);
        assert_eq!(s.resyncs, 1);
    }

    #[test]
    fn gsr_ranges_follow_brainflow() {
        assert_eq!(gsr_microsiemens(100, 0), 0.0, "clamped at 0");
        assert!((gsr_microsiemens(2000, 3) - (0.0004558 * 2000.0 - 0.3014)).abs() < 1e-12);
        // Range 4: the word's top bits pick the range (here 1).
        let raw = (1 << 14) | 2000;
        assert!((gsr_microsiemens(raw, 4) - (0.0054 * 2000.0 - 3.5194)).abs() < 1e-12);
        assert_eq!(gsr_microsiemens(2000, 5), 0.0);
    }

    #[test]
    fn without_a_layout_everything_is_garbage() {
        let mut d = Shimmer3Decoder::new();
        assert!(run(&mut d, &[0, 1, 2]).is_empty());
        assert_eq!(d.stats(Preset::Default).garbage_bytes, 3);
    }
}

//! OpenBCI Cyton / Cyton+Daisy packet decoder (sans-IO).
//!
//! Packet: `0xA0, counter, 8 × int24 BE, 6 aux bytes, end byte 0xC0..=0xC6`
//! (33 bytes). Rows follow BrainFlow's layouts (see [`crate::descr`]); the
//! timestamp and marker rows are left at 0 for the driver to fill.

use super::decoder::DecodeStats;
use super::gain::GainTracker;
use super::resync::{self, Confirm, Framing};
use super::rows::Rows;

/// Packet start byte.
pub const START_BYTE: u8 = 0xA0;
/// Full packet length including start and end bytes.
pub const PACKET_LEN: usize = 33;
/// End byte of a standard packet (aux = accelerometer).
pub const END_STANDARD: u8 = 0xC0;
/// End byte of an analog-mode packet (aux = 3 × int16 analog reads).
pub const END_ANALOG: u8 = 0xC1;
/// Largest valid end byte.
pub const END_MAX: u8 = 0xC6;

/// ADS1299 reference voltage.
const VREF: f64 = 4.5;
/// Full-scale count of the 24-bit ADC (2^23 − 1).
const ADC_FULL_SCALE: f64 = 8_388_607.0;
/// LIS3DH scale: 2 mg per LSB on a left-justified 12-bit value.
pub const ACCEL_SCALE: f64 = 0.002 / 16.0;

/// Which board the packets come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CytonVariant {
    /// Cyton alone: one 24-row sample per packet (250 Hz).
    Cyton,
    /// Cyton + Daisy: one 32-row sample per (even, odd) packet pair (125 Hz).
    Daisy,
}

impl CytonVariant {
    /// Number of EEG channels.
    pub fn num_eeg(self) -> usize {
        match self {
            CytonVariant::Cyton => 8,
            CytonVariant::Daisy => 16,
        }
    }

    /// Rows per output sample, as in BrainFlow's description.
    pub fn num_rows(self) -> usize {
        match self {
            CytonVariant::Cyton => 24,
            CytonVariant::Daisy => 32,
        }
    }

    fn layout(self) -> Layout {
        let e = self.num_eeg();
        // BrainFlow: package, EEG, accel ×3, other ×7, analog ×3, timestamp, marker.
        Layout {
            accel: e + 1,
            other: e + 4,
            analog: e + 11,
        }
    }
}

/// How Daisy packets are paired into 16-channel rows. Both put odd-counter
/// packets (main board) in channels 1–8 and even-counter packets (Daisy) in
/// channels 9–16. Sample ids run 0, 1, 2, …: the even (Daisy) half of a sample
/// comes first, the odd (main board) half completes it, as BrainFlow's
/// `CytonDaisy::read_thread` reads them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DaisyPairing {
    /// A row is an even packet and the odd packet right after it;
    /// `package_num` is the even counter (as BrainFlow); accel/analog/aux are
    /// averaged over the pair; a packet without its partner is dropped and
    /// counted, so no row mixes halves of different samples (BrainFlow would
    /// emit such a row with stale values).
    #[default]
    EvenThenOdd,
    /// BrainFlow 5.23's `CytonDaisy::read_thread`, reproduced exactly: an
    /// even packet opens a row (`package_num` = even counter), every odd
    /// packet commits it, even without its partner; the row is never cleared,
    /// so stale values carry over, and accel/analog are averaged its way.
    /// Unpartnered packets are still counted in `unpaired`.
    BrainFlowCompat,
}

#[derive(Clone, Copy, Debug)]
struct Layout {
    accel: usize,
    other: usize,
    analog: usize,
}

/// One decoded packet before it becomes a row.
#[derive(Clone, Copy, Debug)]
struct Packet {
    counter: u8,
    eeg_raw: [i32; 8],
    end: u8,
    aux: [u8; 6],
    /// Accel in g as it should appear for this packet (held value for 0xC0,
    /// zeros otherwise, as BrainFlow fills only standard packets).
    accel: [f64; 3],
    /// Analog values: the last 0xC1 reading (held, as BrainFlow's row keeps it).
    analog: [f64; 3],
    /// The aux bytes as three int16 BE words.
    words: [i16; 3],
}

/// Streaming Cyton/Daisy decoder. Feed it bytes in any chunking with
/// [`CytonDecoder::push`]; partial packets are kept across calls.
#[derive(Clone, Debug)]
pub struct CytonDecoder {
    variant: CytonVariant,
    layout: Layout,
    gains: GainTracker,
    /// Unconsumed bytes: a partial packet, or while resynchronising a
    /// candidate plus up to `MAX_CONFIRM_GAP` + 33 bytes of look-ahead.
    buf: Vec<u8>,
    /// True while packets arrive back to back; false after garbage or a bad
    /// end byte, when a candidate must be confirmed by the next start byte.
    in_sync: bool,
    last_counter: Option<u8>,
    held_accel: [f64; 3],
    held_analog: [f64; 3],
    /// Daisy: the odd (main board) packet waiting for its even partner.
    pending_even: Option<Packet>,
    pairing: DaisyPairing,
    /// `BrainFlowCompat`: the persistent row, its accel and the open even counter.
    bf_row: Vec<f64>,
    bf_accel: [f64; 3],
    bf_even: Option<u8>,
    /// µV per count of each channel, `VREF / ADC_FULL_SCALE / gain * 1e6`,
    /// recomputed whenever a gain may have changed: BrainFlow's
    /// `eeg_scale`, computed once, times the count, where this decoder
    /// divided twice per channel and sample.
    scales: [f64; 16],
    stats: DecodeStats,
}

impl CytonDecoder {
    /// A decoder with all gains at 24.
    pub fn new(variant: CytonVariant) -> Self {
        CytonDecoder {
            variant,
            layout: variant.layout(),
            gains: GainTracker::new(variant.num_eeg()),
            buf: Vec::with_capacity(2 * PACKET_LEN),
            in_sync: true,
            last_counter: None,
            held_accel: [0.0; 3],
            held_analog: [0.0; 3],
            pending_even: None,
            pairing: DaisyPairing::default(),
            bf_row: vec![0.0; variant.num_rows()],
            bf_accel: [0.0; 3],
            bf_even: None,
            scales: [0.0; 16],
            stats: DecodeStats::default(),
        }
        .with_scales()
    }

    fn with_scales(mut self) -> Self {
        self.refresh_scales();
        self
    }

    /// Recomputes [`CytonDecoder::scales`] from the tracked gains.
    fn refresh_scales(&mut self) {
        for (ch, s) in self.scales.iter_mut().enumerate() {
            let gain = self.gains.gains().get(ch).copied().unwrap_or(24.0);
            *s = VREF / ADC_FULL_SCALE / gain * 1e6;
        }
    }

    /// The board variant.
    pub fn variant(&self) -> CytonVariant {
        self.variant
    }

    /// Rows per output sample.
    pub fn num_rows(&self) -> usize {
        self.variant.num_rows()
    }

    /// Chooses how Daisy packets are paired (ignored for the Cyton).
    pub fn set_daisy_pairing(&mut self, pairing: DaisyPairing) {
        self.pairing = pairing;
    }

    /// The Daisy pairing in use.
    pub fn daisy_pairing(&self) -> DaisyPairing {
        self.pairing
    }

    /// Sets channel gains directly (index 0 = channel 1).
    pub fn set_gains(&mut self, gains: &[f64]) {
        self.gains.set_gains(gains);
        self.refresh_scales();
    }

    /// Current channel gains.
    pub fn gains(&self) -> &[f64] {
        self.gains.gains()
    }

    /// Checks a configuration command as BrainFlow does before sending it
    /// (see [`GainTracker::check`]).
    pub fn check_config(&self, config: &str) -> Result<(), String> {
        self.gains.check(config)
    }

    /// Tracks gain changes in a configuration command sent to the board
    /// (BrainFlow's gain tracking). Returns true if a gain changed.
    pub fn apply_config(&mut self, cmd: &str) -> bool {
        let changed = self.gains.apply_config(cmd);
        self.refresh_scales();
        changed
    }

    /// Counters so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Bytes held back waiting for the rest of a packet.
    pub fn pending_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Starts a new stream: forgets the last counter (so the first packet
    /// counts no loss), partial bytes and any unpaired Daisy packet. Stats and
    /// gains are kept.
    pub fn reset_stream(&mut self) {
        self.buf.clear();
        self.in_sync = true;
        self.last_counter = None;
        self.pending_even = None;
        self.held_accel = [0.0; 3];
        self.held_analog = [0.0; 3];
        self.bf_row.fill(0.0);
        self.bf_accel = [0.0; 3];
        self.bf_even = None;
    }

    /// Consumes `bytes` and appends every completed row to `out` (which
    /// takes this variant's width, see [`Rows::set_width`]). Input is
    /// scanned in place; only a partial packet at its end is kept.
    pub fn push(&mut self, bytes: &[u8], out: &mut Rows) {
        out.set_width(self.num_rows());
        let mut pending = std::mem::take(&mut self.buf);
        resync::feed(&mut pending, bytes, PACKET_LEN, LOOKAHEAD, |b| {
            self.scan(b, out)
        });
        self.buf = pending;
    }

    /// Walks `buf`, returning how many bytes were consumed.
    fn scan(&mut self, buf: &[u8], out: &mut Rows) -> usize {
        let mut pos = 0;
        while pos < buf.len() {
            if buf[pos] != START_BYTE {
                if self.in_sync {
                    self.in_sync = false;
                    self.stats.resyncs += 1;
                }
                // Hunt for the next start byte.
                let skip = buf[pos..]
                    .iter()
                    .position(|&b| b == START_BYTE)
                    .unwrap_or(buf.len() - pos);
                self.stats.garbage_bytes += skip as u64;
                pos += skip;
                continue;
            }
            let Some(frame) = buf.get(pos..pos + PACKET_LEN) else {
                break; // wait for the rest
            };
            let end = frame[PACKET_LEN - 1];
            if !is_end_byte(end) {
                // Not a packet: rescan from the byte after this 0xA0 rather
                // than skipping 33 bytes, so a real packet starting inside
                // this bogus frame (e.g. after a truncated one) is found.
                self.stats.bad_end_bytes += 1;
                self.stats.garbage_bytes += 1;
                if self.in_sync {
                    self.in_sync = false;
                    self.stats.resyncs += 1;
                }
                pos += 1;
                continue;
            }
            if !self.in_sync {
                // After garbage, a 0xA0 inside packet data could pose as a
                // start byte: only accept a confirmed candidate.
                match self.confirm(buf, pos) {
                    Confirm::Wait => break,
                    Confirm::Accept => {}
                    Confirm::Reject => {
                        self.stats.garbage_bytes += 1;
                        pos += 1;
                        continue;
                    }
                }
            }
            self.in_sync = true;
            if let Ok(f) = <&[u8; PACKET_LEN]>::try_from(frame) {
                self.accept(f, out);
            }
            pos += PACKET_LEN;
        }
        pos
    }

    /// Decides whether the candidate frame at `pos` is real while
    /// resynchronising (see [`resync::confirm`]).
    fn confirm(&self, buf: &[u8], pos: usize) -> Confirm {
        resync::confirm(&FRAMING, self.last_counter, buf, pos)
    }

    fn accept(&mut self, f: &[u8; PACKET_LEN], out: &mut Rows) {
        let counter = f[1];
        if let Some(prev) = self.last_counter {
            self.stats.lost_packets += u64::from(counter.wrapping_sub(prev).wrapping_sub(1));
        }
        self.last_counter = Some(counter);
        self.stats.packets += 1;

        let aux = [f[26], f[27], f[28], f[29], f[30], f[31]];
        let end = f[32];
        let words = [
            int16_be(aux[0], aux[1]),
            int16_be(aux[2], aux[3]),
            int16_be(aux[4], aux[5]),
        ];
        // BrainFlow never clears its row between packets, so the last accel
        // and analog readings stay in every later row: hold both likewise.
        match end {
            // The accelerometer runs at 25 Hz; packets between its samples
            // carry zeros, so hold the last real reading.
            END_STANDARD if words[0] != 0 => {
                for (h, w) in self.held_accel.iter_mut().zip(words) {
                    *h = f64::from(w) * ACCEL_SCALE;
                }
            }
            END_ANALOG => {
                for (a, w) in self.held_analog.iter_mut().zip(words) {
                    *a = f64::from(w);
                }
            }
            _ => {}
        }
        if self.variant == CytonVariant::Cyton {
            return self.emit_cyton(f, out);
        }
        let mut eeg_raw = [0i32; 8];
        for (i, v) in eeg_raw.iter_mut().enumerate() {
            *v = int24_be(&f[2 + 3 * i..5 + 3 * i]);
        }
        let p = Packet {
            counter,
            eeg_raw,
            end,
            aux,
            accel: self.held_accel,
            analog: self.held_analog,
            words,
        };
        match self.pairing {
            DaisyPairing::EvenThenOdd => self.pair_daisy(p, out),
            DaisyPairing::BrainFlowCompat => self.brainflow_daisy(&p, out),
        }
    }

    fn scale(&self, ch: usize, raw: i32) -> f64 {
        self.scales[ch] * f64::from(raw)
    }

    /// The Cyton's row, straight from the frame at fixed offsets (the
    /// 24-value layout of [`CytonVariant::layout`]), so the compiler drops
    /// the bounds checks.
    #[inline]
    fn emit_cyton(&mut self, f: &[u8; PACKET_LEN], out: &mut Rows) {
        const ACCEL: usize = 9;
        const OTHER: usize = 12;
        const ANALOG: usize = 19;
        let row = out.push_zeroed_array::<24>();
        row[0] = f64::from(f[1]);
        for i in 0..8 {
            let raw = int24_be(&f[2 + 3 * i..5 + 3 * i]);
            row[1 + i] = self.scales[i] * f64::from(raw);
        }
        row[ACCEL..ACCEL + 3].copy_from_slice(&self.held_accel);
        row[OTHER] = f64::from(f[32]);
        for i in 0..6 {
            row[OTHER + 1 + i] = f64::from(f[26 + i]);
        }
        row[ANALOG..ANALOG + 3].copy_from_slice(&self.held_analog);
        self.stats.rows += 1;
    }

    /// Odd counters carry channels 1–8, even ones 9–16; a row needs an even
    /// packet immediately followed by the next odd one.
    fn pair_daisy(&mut self, p: Packet, out: &mut Rows) {
        if p.counter % 2 == 0 {
            if self.pending_even.replace(p).is_some() {
                // Its partner never came.
                self.stats.unpaired += 1;
            }
            return;
        }
        let (even, odd) = match self.pending_even.take() {
            Some(e) if e.counter.wrapping_add(1) == p.counter => (e, p),
            Some(_) => {
                // Both halves belong to different samples.
                self.stats.unpaired += 2;
                return;
            }
            None => {
                self.stats.unpaired += 1;
                return;
            }
        };
        let l = self.layout;
        let row = out.push_zeroed();
        row[0] = f64::from(even.counter);
        for i in 0..8 {
            row[1 + i] = self.scales[i] * f64::from(odd.eeg_raw[i]);
            row[9 + i] = self.scales[8 + i] * f64::from(even.eeg_raw[i]);
        }
        for i in 0..3 {
            row[l.accel + i] = (odd.accel[i] + even.accel[i]) / 2.0;
            row[l.analog + i] = (odd.analog[i] + even.analog[i]) / 2.0;
        }
        // End byte of the completing (main board) packet, raw aux bytes
        // averaged over the pair, as BrainFlow does.
        row[l.other] = f64::from(odd.end);
        for i in 0..6 {
            row[l.other + 1 + i] = (f64::from(odd.aux[i]) + f64::from(even.aux[i])) / 2.0;
        }
        self.stats.rows += 1;
    }
}

impl CytonDecoder {
    /// [`DaisyPairing::BrainFlowCompat`]: BrainFlow 5.23's Daisy assembly.
    fn brainflow_daisy(&mut self, p: &Packet, out: &mut Rows) {
        let l = self.layout;
        let even = p.counter % 2 == 0;
        let std_accel = p.end == END_STANDARD && p.words[0] != 0;
        let mut row = std::mem::take(&mut self.bf_row);
        if even {
            if self.bf_even.replace(p.counter).is_some() {
                self.stats.unpaired += 1;
            }
            row[0] = f64::from(p.counter);
            for i in 0..8 {
                row[9 + i] = self.scale(8 + i, p.eeg_raw[i]);
            }
            for i in 0..6 {
                row[l.other + 1 + i] = f64::from(p.aux[i]);
            }
            if std_accel {
                for i in 0..3 {
                    self.bf_accel[i] = f64::from(p.words[i]) * ACCEL_SCALE;
                }
            }
            if p.end == END_ANALOG {
                for i in 0..3 {
                    row[l.analog + i] = f64::from(p.words[i]);
                }
            }
        } else {
            if self.bf_even.take() != Some(p.counter.wrapping_sub(1)) {
                self.stats.unpaired += 1;
            }
            for i in 0..8 {
                row[1 + i] = self.scale(i, p.eeg_raw[i]);
            }
            for i in 0..6 {
                row[l.other + 1 + i] = (row[l.other + 1 + i] + f64::from(p.aux[i])) / 2.0;
            }
            row[l.other] = f64::from(p.end);
            if std_accel {
                for i in 0..3 {
                    self.bf_accel[i] =
                        (self.bf_accel[i] + f64::from(p.words[i]) * ACCEL_SCALE) / 2.0;
                }
            }
            if p.end == END_ANALOG {
                for i in 0..3 {
                    row[l.analog + i] = (row[l.analog + i] + f64::from(p.words[i])) / 2.0;
                }
            }
        }
        if p.end == END_STANDARD {
            row[l.accel..l.accel + 3].copy_from_slice(&self.bf_accel);
        }
        if !even {
            out.push_row(&row);
            self.stats.rows += 1;
        }
        self.bf_row = row;
    }
}

/// How far past a candidate to look for the next start byte when confirming
/// it; bounds the bytes held back while resynchronising.
const MAX_CONFIRM_GAP: usize = 256;

/// Input bytes appended to a pending tail before scanning the rest in place:
/// enough to decide any pending byte (a candidate, the gap and the frame
/// that confirms it), see [`resync::feed`].
const LOOKAHEAD: usize = 2 * PACKET_LEN + MAX_CONFIRM_GAP;

/// Cyton framing for resynchronisation: any of the aux end bytes is valid.
const FRAMING: Framing = Framing {
    start_byte: START_BYTE,
    packet_len: PACKET_LEN,
    is_end_byte,
    max_gap: MAX_CONFIRM_GAP,
};

fn is_end_byte(b: u8) -> bool {
    (END_STANDARD..=END_MAX).contains(&b)
}

/// Sign-extends a 24-bit big-endian two's-complement value.
fn int24_be(b: &[u8]) -> i32 {
    // Place the 24 bits at the top of an i32, then arithmetic-shift back.
    (i32::from_be_bytes([b[0], b[1], b[2], 0])) >> 8
}

fn int16_be(hi: u8, lo: u8) -> i16 {
    i16::from_be_bytes([hi, lo])
}

#[cfg(test)]
mod tests;

impl super::Decoder for CytonDecoder {
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
            crate::ids::Preset::Default => CytonDecoder::stats(self).clone(),
            _ => DecodeStats::default(),
        }
    }
}

//! One decoder for the fixed-length serial framings BrainFlow's simpler
//! serial boards share: `0xA0, counter, payload, 0xC0`, every packet the same
//! length, one row per packet (NeuroPawn Knight, FreeEEG32/128, IronBCI32).
//! What differs between those boards is only the payload, so a board supplies
//! a [`FrameFormat`] and this module does the scanning, resynchronising after
//! garbage, loss counting by the 8-bit counter, and the stats.

use super::decoder::DecodeStats;
use super::resync::{self, Confirm, Framing};
use super::rows::Rows;

/// Packet start byte of every framing here.
pub const START_BYTE: u8 = 0xA0;
/// Packet end byte of every framing here.
pub const END_BYTE: u8 = 0xC0;

/// How far past a candidate to look for the next start byte when confirming
/// it after garbage; bounds the bytes held back while resynchronising.
const MAX_CONFIRM_GAP: usize = 128;

fn is_end_byte(b: u8) -> bool {
    b == END_BYTE
}

/// What a board's packet looks like inside the common frame.
pub trait FrameFormat: Clone + Send + 'static {
    /// Full packet length, start and end bytes included.
    fn packet_len(&self) -> usize;
    /// Rows of the board's layout (BrainFlow's `num_rows`).
    fn num_rows(&self) -> usize;
    /// Fills `row` (zeroed, `num_rows` long) from the packet `frame` (start
    /// byte at 0, end byte last). Row 0 (the counter) is already set;
    /// timestamp and marker rows stay 0 for the session.
    fn fill_row(&self, frame: &[u8], row: &mut [f64]);
}

/// Streaming decoder of a [`FrameFormat`]. Feed it bytes in any chunking
/// with [`FramedDecoder::push`]; partial packets are kept across calls.
#[derive(Clone, Debug)]
pub struct FramedDecoder<F> {
    format: F,
    /// Unconsumed bytes: a partial packet or, while resynchronising, a
    /// candidate and its look-ahead.
    buf: Vec<u8>,
    /// True after garbage or a bad end byte: a candidate frame must then be
    /// confirmed, since 0xA0 also occurs inside packet data.
    out_of_sync: bool,
    last_counter: Option<u8>,
    stats: DecodeStats,
}

impl<F: FrameFormat> FramedDecoder<F> {
    /// A fresh decoder of `format`.
    pub fn with_format(format: F) -> Self {
        FramedDecoder {
            format,
            buf: Vec::new(),
            out_of_sync: false,
            last_counter: None,
            stats: DecodeStats::default(),
        }
    }

    /// The packet format.
    pub fn format(&self) -> &F {
        &self.format
    }

    /// Counters so far (`unpaired` is always 0: these packets stand alone).
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

    /// Consumes `bytes` and appends every completed row to `out` (which
    /// takes the format's width, see [`Rows::set_width`]). Input is scanned
    /// in place; only a partial packet at its end is kept.
    pub fn push(&mut self, bytes: &[u8], out: &mut Rows) {
        out.set_width(self.format.num_rows());
        // Enough to decide any pending byte: a candidate, the gap and the
        // frame that confirms it (see `resync::feed`).
        let len = self.format.packet_len();
        let lookahead = 2 * len + MAX_CONFIRM_GAP;
        let mut pending = std::mem::take(&mut self.buf);
        resync::feed(&mut pending, bytes, len, lookahead, |b| self.scan(b, out));
        self.buf = pending;
    }

    fn framing(&self) -> Framing {
        Framing {
            start_byte: START_BYTE,
            packet_len: self.format.packet_len(),
            is_end_byte,
            max_gap: MAX_CONFIRM_GAP,
        }
    }

    fn lose_sync(&mut self) {
        if !self.out_of_sync {
            self.out_of_sync = true;
            self.stats.resyncs += 1;
        }
    }

    fn scan(&mut self, buf: &[u8], out: &mut Rows) -> usize {
        let len = self.format.packet_len();
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
            if buf.len() - pos < len {
                break;
            }
            if buf[pos + len - 1] != END_BYTE {
                // Rescan from the next byte, not a packet further: a real
                // packet may start inside this bogus frame (after a truncated one).
                self.stats.bad_end_bytes += 1;
                self.stats.garbage_bytes += 1;
                self.lose_sync();
                pos += 1;
                continue;
            }
            if self.out_of_sync {
                match resync::confirm(&self.framing(), self.last_counter, buf, pos) {
                    Confirm::Wait => break,
                    Confirm::Reject => {
                        self.stats.garbage_bytes += 1;
                        pos += 1;
                        continue;
                    }
                    Confirm::Accept => self.out_of_sync = false,
                }
            }
            self.accept(&buf[pos..pos + len], out);
            pos += len;
        }
        pos
    }

    fn accept(&mut self, f: &[u8], out: &mut Rows) {
        let counter = f[1];
        if let Some(prev) = self.last_counter {
            self.stats.lost_packets += u64::from(counter.wrapping_sub(prev).wrapping_sub(1));
        }
        self.last_counter = Some(counter);
        self.stats.packets += 1;
        let row = out.push_zeroed();
        row[0] = f64::from(counter);
        self.format.fill_row(f, row);
        self.stats.rows += 1;
    }
}

impl<F: FrameFormat> super::Decoder for FramedDecoder<F> {
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
            crate::ids::Preset::Default => self.stats.clone(),
            _ => DecodeStats::default(),
        }
    }
}

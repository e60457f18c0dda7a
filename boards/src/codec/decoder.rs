//! What every decoder shares, whatever its transport: one trait the sessions
//! (serial and BLE), benches and fuzz targets drive, and the counters they
//! report.

use serde::Serialize;

use super::rows::Rows;
use crate::ble::Uuid;
use crate::ids::Preset;

/// Decoder counters, exposed so a harness can assert exact loss figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DecodeStats {
    /// Packets accepted.
    pub packets: u64,
    /// Rows emitted.
    pub rows: u64,
    /// Packets missing according to the sample counter.
    pub lost_packets: u64,
    /// Bytes discarded because they were not part of an accepted packet.
    pub garbage_bytes: u64,
    /// Candidate frames rejected for an end byte outside 0xC0..=0xC6.
    pub bad_end_bytes: u64,
    /// Times the decoder lost packet alignment and had to hunt for a start byte.
    pub resyncs: u64,
    /// Daisy packets dropped for lack of a partner (even without its odd one,
    /// or odd replaced by another odd).
    pub unpaired: u64,
}

/// Rows per preset, indexed by `Preset as usize` (default, auxiliary,
/// ancillary). Timestamp and marker rows are left 0 for the session to fill.
/// Each preset's rows sit in one flat [`Rows`] buffer that the session
/// clears and reuses, so decoding allocates nothing per row.
pub type PresetRows = [Rows; 3];

/// One unit of input.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// The next bytes of a serial stream, in any chunking (a packet may span
    /// two calls).
    Bytes(&'a [u8]),
    /// One BLE notification of a characteristic.
    Notification {
        /// The characteristic that notified.
        uuid: Uuid,
        /// Its value.
        value: &'a [u8],
    },
}

/// A sans-IO decoder: input in, rows (per preset) and counters out; it never
/// reads a port, sleeps or spawns.
pub trait Decoder: Send + 'static {
    /// Decodes `input`, appending complete rows to the presets they belong to.
    /// The serial session passes empty `Bytes` when a poll found the link
    /// quiet, which a decoder may take as "nothing follows yet".
    /// Input a decoder does not take (a notification of another
    /// characteristic, bytes to a BLE decoder) is ignored.
    fn decode(&mut self, input: Input<'_>, out: &mut PresetRows);
    /// Takes input that arrives outside a stream (before start, after
    /// stop), which makes no rows: a device's reply notified on its data
    /// characteristic (BrainAlive's configuration). Ignored by default.
    fn idle(&mut self, _input: Input<'_>) {}
    /// Emits rows still waiting for a join (at stop).
    fn flush(&mut self, _out: &mut PresetRows) {}
    /// Forgets partial packets, stream state and counters (at start).
    fn reset(&mut self);
    /// Counters of `preset` since the last [`Decoder::reset`].
    fn stats(&self, preset: Preset) -> DecodeStats;
}

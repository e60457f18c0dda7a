//! Muse 2 / Muse S / Muse 2016 notification decoder (sans-IO), after
//! BrainFlow's `src/board_controller/muse/muse.cpp` (`peripheral_on_eeg`,
//! `_on_accel`, `_on_gyro`, `_on_ppg`) and `inc/muse_constants.h`.
//!
//! Every notification is 20 bytes, starting with a u16 BE sequence number:
//! * EEG (TP9, AF7, AF8, TP10, right AUX): 12 × 12-bit samples, µV =
//!   (v − 0x800) × 125/256; 256 Hz. A batch of 12 rows is complete when every
//!   EEG characteristic has sent that sequence number ([`Lockstep`]); the AUX
//!   channel is optional (only some presets send it) and lands in the
//!   `other` row on Muse 2/S (the 2016 layout has no such row: dropped, as
//!   BrainFlow does).
//! * Accel / gyro: 3 samples × (x, y, z) int16 BE; accel / 16384 g, gyro ×
//!   0.007476 °/s; 52 Hz. As in BrainFlow, rows are emitted on each gyro
//!   notification with the latest accel samples (their sequence counters are
//!   not known to run in lockstep); accel not yet received is NaN.
//! * PPG (three characteristics, Muse 2/S): 6 × 24-bit BE; 64 Hz; joined by
//!   sequence number like EEG, all three optional (BrainFlow notes that only
//!   two of three stream). Values are sign-extended as BrainFlow does unless
//!   [`MuseDecoder::with_unsigned_ppg`] is chosen (the sensor's counts are
//!   unsigned; BrainFlow's reading goes negative above 0x7FFFFF).
//!
//! Differences from BrainFlow, on purpose: no batch is skipped at stream start
//! (BrainFlow drops the first to seed its timestamps); rows never mix values
//! of different sequence numbers (BrainFlow keeps stale values of a lost
//! notification; here they are NaN). Timestamp and marker rows are left at 0.

use serde::Serialize;

use super::decoder::{DecodeStats, PresetRows};
use super::lockstep::{Batch, Lockstep, SlotStats};
use super::rows::Rows;
use crate::ble::Uuid;

/// Notification length.
pub const PACKET_LEN: usize = 20;
/// EEG samples per notification.
pub const EEG_SAMPLES: usize = 12;
/// Accel/gyro samples per notification.
pub const IMU_SAMPLES: usize = 3;
/// PPG samples per notification.
pub const PPG_SAMPLES: usize = 6;
/// g per count of the accelerometer.
pub const ACCEL_SCALE: f64 = 1.0 / 16384.0;
/// °/s per count of the gyroscope (BrainFlow's `MUSE_GYRO_SCALE_FACTOR`).
pub const GYRO_SCALE: f64 = 0.007476;
/// Rows of the auxiliary preset: package, accel x/y/z, gyro x/y/z,
/// timestamp, marker.
const AUX_ROWS: usize = 9;
/// Rows of the ancillary preset: package, PPG 0–2, timestamp, marker.
const ANC_ROWS: usize = 6;
/// Batches a joiner lets wait before emitting incomplete ones. Eight (about
/// 375 ms of EEG, 750 ms of PPG): a loaded host delivers one characteristic's
/// notifications that far behind another's (seen in the BlueZ lab at load 4
/// with four, as NaN PPG values), and only a dead channel pays the wait.
const WINDOW: usize = 8;

/// Muse service (advertised).
pub const SERVICE: Uuid = Uuid::from_u16(0xFE8D);

/// `273e00XX-4c4d-454d-96be-f03bac821358`.
pub const fn muse_uuid(short: u16) -> Uuid {
    Uuid(0x273e_0000_4c4d_454d_96be_f03b_ac82_1358 | ((short as u128) << 96))
}

/// Control characteristic (commands, written without response).
pub const CONTROL: Uuid = muse_uuid(0x0001);

/// Which Muse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum MuseModel {
    /// Muse 2016 (no PPG, no AUX row).
    Muse2016,
    /// Muse 2.
    Muse2,
    /// Muse S.
    MuseS,
}

impl MuseModel {
    /// True if the model has PPG characteristics (ancillary preset).
    pub fn has_ppg(self) -> bool {
        !matches!(self, MuseModel::Muse2016)
    }

    /// Rows of the default preset (BrainFlow: 7 on the 2016, 8 with the
    /// `other` row for AUX on Muse 2/S).
    pub fn default_rows(self) -> usize {
        if self.has_ppg() {
            8
        } else {
            7
        }
    }

    /// Presets (`pNN`) the model accepts.
    pub fn presets(self) -> &'static [&'static str] {
        match self {
            MuseModel::Muse2016 => &["p20", "p21"],
            MuseModel::Muse2 => &["p20", "p21", "p50", "p51"],
            MuseModel::MuseS => &["p20", "p21", "p50", "p51", "p60", "p61"],
        }
    }
}

/// A Muse data characteristic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MuseChar {
    /// EEG channel: 0 TP9, 1 AF7, 2 AF8, 3 TP10, 4 right AUX.
    Eeg(u8),
    /// Accelerometer.
    Accel,
    /// Gyroscope.
    Gyro,
    /// PPG 0–2.
    Ppg(u8),
}

impl MuseChar {
    /// Every data characteristic.
    pub const ALL: [MuseChar; 10] = [
        MuseChar::Eeg(0),
        MuseChar::Eeg(1),
        MuseChar::Eeg(2),
        MuseChar::Eeg(3),
        MuseChar::Eeg(4),
        MuseChar::Gyro,
        MuseChar::Accel,
        MuseChar::Ppg(0),
        MuseChar::Ppg(1),
        MuseChar::Ppg(2),
    ];

    /// The characteristic's UUID.
    pub fn uuid(self) -> Uuid {
        muse_uuid(match self {
            MuseChar::Eeg(i) => 0x0003 + u16::from(i.min(4)),
            MuseChar::Gyro => 0x0009,
            MuseChar::Accel => 0x000a,
            MuseChar::Ppg(i) => 0x000f + u16::from(i.min(2)),
        })
    }

    /// The characteristic a UUID names, if it is a data one.
    pub fn from_uuid(u: Uuid) -> Option<MuseChar> {
        MuseChar::ALL.iter().copied().find(|c| c.uuid() == u)
    }

    /// Short name for stats and messages.
    pub fn name(self) -> &'static str {
        match self {
            MuseChar::Eeg(0) => "tp9",
            MuseChar::Eeg(1) => "af7",
            MuseChar::Eeg(2) => "af8",
            MuseChar::Eeg(3) => "tp10",
            MuseChar::Eeg(_) => "aux",
            MuseChar::Accel => "accel",
            MuseChar::Gyro => "gyro",
            MuseChar::Ppg(0) => "ppg0",
            MuseChar::Ppg(1) => "ppg1",
            MuseChar::Ppg(_) => "ppg2",
        }
    }
}

/// A control frame: `[len + 1, ascii…, 0x0A]` (`d` → `02 64 0A`).
pub fn control_frame(cmd: &str) -> Vec<u8> {
    let mut f = Vec::with_capacity(cmd.len() + 2);
    f.push((cmd.len() + 1) as u8);
    f.extend_from_slice(cmd.as_bytes());
    f.push(b'\n');
    f
}

/// Rows decoded from notifications, per BrainFlow preset.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MuseRows {
    /// Default preset (EEG).
    pub default: Rows,
    /// Auxiliary preset (accel + gyro).
    pub aux: Rows,
    /// Ancillary preset (PPG).
    pub anc: Rows,
}

/// Where one call's rows go: a [`MuseRows`] or a session's [`PresetRows`],
/// written in place either way.
struct Out<'a> {
    default: &'a mut Rows,
    aux: &'a mut Rows,
    anc: &'a mut Rows,
}

impl<'a> From<&'a mut MuseRows> for Out<'a> {
    fn from(r: &'a mut MuseRows) -> Self {
        Out {
            default: &mut r.default,
            aux: &mut r.aux,
            anc: &mut r.anc,
        }
    }
}

impl<'a> From<&'a mut PresetRows> for Out<'a> {
    fn from(r: &'a mut PresetRows) -> Self {
        // `Preset` order: default, auxiliary, ancillary.
        let [default, aux, anc] = r;
        Out { default, aux, anc }
    }
}

/// Counters of one characteristic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CharStats {
    /// Which characteristic.
    pub name: &'static str,
    /// Notifications accepted, lost (exact, from its sequence numbers), stale.
    #[serde(flatten)]
    pub slot: SlotStats,
}

/// Counters of the decoder.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MuseStats {
    /// Default preset: notifications, rows, lost notifications summed over
    /// the EEG characteristics, bytes of rejected notifications.
    pub default: DecodeStats,
    /// Auxiliary preset, the same for accel and gyro.
    pub aux: DecodeStats,
    /// Ancillary preset, the same for PPG.
    pub anc: DecodeStats,
    /// Per characteristic, in [`MuseChar::ALL`] order.
    pub chars: Vec<CharStats>,
    /// Default rows emitted with a required EEG channel missing (NaN).
    pub incomplete_rows: u64,
    /// Notifications of the wrong size.
    pub rejected: u64,
}

/// Streaming Muse decoder: one notification in, rows of any preset out.
pub struct MuseDecoder {
    model: MuseModel,
    unsigned_ppg: bool,
    eeg: Lockstep,
    /// AUX is required by the preset (see [`MuseDecoder::expect_aux`]).
    aux_expected: bool,
    ppg: Lockstep,
    accel_seq: Option<u16>,
    gyro_seq: Option<u16>,
    accel_stats: SlotStats,
    gyro_stats: SlotStats,
    accel: [[f64; 3]; IMU_SAMPLES],
    stats: MuseStats,
    batches: Vec<Batch>,
}

fn seq_of(d: &[u8]) -> u16 {
    u16::from_be_bytes([d[0], d[1]])
}

fn i16_be(d: &[u8]) -> f64 {
    f64::from(i16::from_be_bytes([d[0], d[1]]))
}

/// Counts a plain (not joined) characteristic's sequence: exact loss, stale.
fn track(last: &mut Option<u16>, st: &mut SlotStats, seq: u16) -> bool {
    if let Some(l) = *last {
        let d = seq.wrapping_sub(l);
        if d == 0 || d > 0x8000 {
            st.stale += 1;
            return false;
        }
        st.lost_packets += u64::from(d - 1);
    }
    *last = Some(seq);
    st.packets += 1;
    true
}

impl MuseDecoder {
    /// A decoder for `model`.
    pub fn new(model: MuseModel) -> Self {
        MuseDecoder {
            model,
            unsigned_ppg: false,
            eeg: Lockstep::new(5, EEG_SAMPLES, 0b1111, WINDOW),
            aux_expected: false,
            ppg: Lockstep::new(3, PPG_SAMPLES, 0, WINDOW),
            accel_seq: None,
            gyro_seq: None,
            accel_stats: SlotStats::default(),
            gyro_stats: SlotStats::default(),
            accel: [[f64::NAN; 3]; IMU_SAMPLES],
            stats: MuseStats::default(),
            batches: Vec::new(),
        }
    }

    /// Reads PPG as unsigned 24-bit (the sensor's counts) instead of
    /// BrainFlow's sign extension.
    pub fn with_unsigned_ppg(mut self) -> Self {
        self.unsigned_ppg = true;
        self
    }

    /// The model.
    pub fn model(&self) -> MuseModel {
        self.model
    }

    /// Forgets joins, held accel and counters (stream restart).
    pub fn reset(&mut self) {
        let unsigned = self.unsigned_ppg;
        let aux = self.aux_expected;
        *self = MuseDecoder::new(self.model);
        self.unsigned_ppg = unsigned;
        self.expect_aux(aux);
    }

    /// Counters, with the per-characteristic figures filled in.
    pub fn stats(&self) -> MuseStats {
        let mut s = self.stats.clone();
        s.chars = MuseChar::ALL
            .iter()
            .map(|c| CharStats {
                name: c.name(),
                slot: match *c {
                    MuseChar::Eeg(i) => self.eeg.slot_stats(usize::from(i)),
                    MuseChar::Ppg(i) => self.ppg.slot_stats(usize::from(i)),
                    MuseChar::Accel => self.accel_stats.clone(),
                    MuseChar::Gyro => self.gyro_stats.clone(),
                },
            })
            .collect();
        let sum = |f: &dyn Fn(&MuseChar) -> bool| -> u64 {
            s.chars
                .iter()
                .zip(MuseChar::ALL.iter())
                .filter(|(_, c)| f(c))
                .map(|(cs, _)| cs.slot.lost_packets)
                .sum()
        };
        s.default.lost_packets = sum(&|c| matches!(c, MuseChar::Eeg(_)));
        s.aux.lost_packets = sum(&|c| matches!(c, MuseChar::Accel | MuseChar::Gyro));
        s.anc.lost_packets = sum(&|c| matches!(c, MuseChar::Ppg(_)));
        s
    }

    /// Decodes one notification of `ch`, appending complete rows to `out`.
    /// Never panics.
    pub fn decode(&mut self, ch: MuseChar, data: &[u8], out: &mut MuseRows) {
        self.decode_to(ch, data, out.into());
    }

    /// [`MuseDecoder::decode`] into a session's rows, indexed by preset, so
    /// rows go straight from the decoder to the session with no copy between.
    pub fn decode_presets(&mut self, ch: MuseChar, data: &[u8], out: &mut PresetRows) {
        self.decode_to(ch, data, out.into());
    }

    fn decode_to(&mut self, ch: MuseChar, data: &[u8], out: Out<'_>) {
        if data.len() != PACKET_LEN {
            self.stats.rejected += 1;
            let st = match ch {
                MuseChar::Eeg(_) => &mut self.stats.default,
                MuseChar::Accel | MuseChar::Gyro => &mut self.stats.aux,
                MuseChar::Ppg(_) => &mut self.stats.anc,
            };
            st.garbage_bytes += data.len() as u64;
            return;
        }
        let seq = seq_of(data);
        match ch {
            MuseChar::Eeg(i) => {
                self.stats.default.packets += 1;
                let mut v = [0.0; EEG_SAMPLES];
                for (k, c) in data[2..].chunks_exact(3).enumerate() {
                    let a = (u16::from(c[0]) << 4) | u16::from(c[1] >> 4);
                    let b = (u16::from(c[1] & 0xF) << 8) | u16::from(c[2]);
                    v[2 * k] = (f64::from(a) - 2048.0) * 125.0 / 256.0;
                    v[2 * k + 1] = (f64::from(b) - 2048.0) * 125.0 / 256.0;
                }
                self.eeg
                    .push(usize::from(i.min(4)), seq, &v, &mut self.batches);
                self.emit_eeg(out.default);
            }
            MuseChar::Accel => {
                self.stats.aux.packets += 1;
                if track(&mut self.accel_seq, &mut self.accel_stats, seq) {
                    for (s, a) in self.accel.iter_mut().enumerate() {
                        for (ax, v) in a.iter_mut().enumerate() {
                            *v = i16_be(&data[2 + s * 6 + ax * 2..]) * ACCEL_SCALE;
                        }
                    }
                }
            }
            MuseChar::Gyro => {
                self.stats.aux.packets += 1;
                if track(&mut self.gyro_seq, &mut self.gyro_stats, seq) {
                    out.aux.set_width(AUX_ROWS);
                    for s in 0..IMU_SAMPLES {
                        let row = out.aux.push_zeroed_array::<AUX_ROWS>();
                        row[0] = f64::from(seq);
                        row[1..4].copy_from_slice(&self.accel[s]);
                        for ax in 0..3 {
                            row[4 + ax] = i16_be(&data[2 + s * 6 + ax * 2..]) * GYRO_SCALE;
                        }
                        self.stats.aux.rows += 1;
                    }
                }
            }
            MuseChar::Ppg(i) => {
                self.stats.anc.packets += 1;
                let mut v = [0.0; PPG_SAMPLES];
                for (k, c) in data[2..].chunks_exact(3).enumerate() {
                    let u = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
                    v[k] = if self.unsigned_ppg {
                        f64::from(u)
                    } else {
                        f64::from(((u << 8) as i32) >> 8)
                    };
                }
                self.ppg
                    .push(usize::from(i.min(2)), seq, &v, &mut self.batches);
                self.emit_ppg(out.anc);
            }
        }
    }

    fn emit_eeg(&mut self, out: &mut Rows) {
        let rows = self.model.default_rows();
        out.set_width(rows);
        for b in self.batches.drain(..) {
            if b.got & 0b1111 != 0b1111 {
                self.stats.incomplete_rows += EEG_SAMPLES as u64;
            }
            for s in 0..EEG_SAMPLES {
                let v = &b.values[s * 5..s * 5 + 5];
                // Fixed widths: a `memset` call per row was a fifth of
                // the decoder's time (see `Rows::push_zeroed_array`).
                if rows == 8 {
                    let row = out.push_zeroed_array::<8>();
                    row[0] = f64::from(b.seq);
                    row[1..6].copy_from_slice(v);
                } else {
                    let row = out.push_zeroed_array::<7>();
                    row[0] = f64::from(b.seq);
                    row[1..5].copy_from_slice(&v[..4]);
                }
            }
            self.stats.default.rows += EEG_SAMPLES as u64;
            self.eeg.recycle(b.values);
        }
    }

    fn emit_ppg(&mut self, out: &mut Rows) {
        if !self.model.has_ppg() {
            for b in self.batches.drain(..) {
                self.ppg.recycle(b.values);
            }
            return;
        }
        out.set_width(ANC_ROWS);
        for b in self.batches.drain(..) {
            for s in 0..PPG_SAMPLES {
                let row = out.push_zeroed_array::<ANC_ROWS>();
                row[0] = f64::from(b.seq);
                row[1..4].copy_from_slice(&b.values[s * 3..s * 3 + 3]);
            }
            self.stats.anc.rows += PPG_SAMPLES as u64;
            self.ppg.recycle(b.values);
        }
    }

    /// Whether the AUX channel is expected (presets p20, p50, p60 send it): then
    /// every batch waits for it from the first, instead of AUX joining once it
    /// has been seen.
    pub fn expect_aux(&mut self, on: bool) {
        self.aux_expected = on;
        self.eeg.set_required(if on { 0b1_1111 } else { 0b1111 });
    }

    /// Emits batches still waiting for a characteristic (at stream stop, so
    /// every received sample reaches the buffer).
    pub fn flush(&mut self, out: &mut MuseRows) {
        self.flush_to(out.into());
    }

    /// [`MuseDecoder::flush`] into a session's rows, indexed by preset.
    pub fn flush_presets(&mut self, out: &mut PresetRows) {
        self.flush_to(out.into());
    }

    fn flush_to(&mut self, out: Out<'_>) {
        self.eeg.flush(&mut self.batches);
        self.emit_eeg(out.default);
        self.ppg.flush(&mut self.batches);
        self.emit_ppg(out.anc);
    }
}

#[cfg(test)]
mod tests;

//! Joins notifications of several characteristics that share a sequence
//! number (e.g. Muse's EEG channels) into batches, sans-IO.
//!
//! Each slot (characteristic) sends notifications with a u16 sequence number
//! and `per` samples. A batch (one sequence number) is emitted once every
//! active slot has reached it (sent that number or a later one: BLE delivers
//! each characteristic's notifications in order, so a later number means the
//! earlier one was lost). Required slots are always active; optional slots
//! (Muse's AUX channel, PPG) become active when they first notify and drop
//! out after `window` batches of silence, so a channel that was never
//! enabled holds nothing up. Missing values stay NaN: a row never mixes
//! values of different sequence numbers. At most `window` batches wait; past
//! that the oldest is emitted incomplete, so a dead required channel delays
//! rows by `window` batches but never stops them.

use serde::Serialize;

/// Per-slot counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SlotStats {
    /// Notifications accepted.
    pub packets: u64,
    /// Notifications missing according to this slot's sequence numbers.
    pub lost_packets: u64,
    /// Notifications dropped as duplicates, out of order, or arriving after
    /// their batch was emitted.
    pub stale: u64,
}

/// One completed (or force-emitted) batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// The sequence number as sent (low 16 bits).
    pub seq: u16,
    /// Bit `s` set if slot `s` contributed.
    pub got: u32,
    /// `per × slots` values, sample-major: `values[i * slots + s]`; NaN where
    /// a slot did not contribute.
    pub values: Vec<f64>,
}

struct Pending {
    seq: i64,
    got: u32,
    values: Vec<f64>,
}

/// The joiner. See the module docs.
pub struct Lockstep {
    slots: usize,
    per: usize,
    required: u32,
    window: i64,
    newest: Option<i64>,
    last: Vec<Option<i64>>,
    /// Highest sequence number emitted; later notifications at or below it are stale.
    emitted: Option<i64>,
    pending: std::collections::VecDeque<Pending>,
    stats: Vec<SlotStats>,
    /// Value buffers of emitted batches, handed back by [`Lockstep::recycle`]
    /// for the next batches, so a steady stream allocates none.
    free: Vec<Vec<f64>>,
}

impl Lockstep {
    /// `slots` characteristics (≤ 32) of `per` samples each; bit `s` of
    /// `required` marks slot `s` as always active; `window` ≥ 1.
    pub fn new(slots: usize, per: usize, required: u32, window: usize) -> Self {
        let slots = slots.clamp(1, 32);
        Lockstep {
            slots,
            per,
            required,
            window: window.max(1) as i64,
            newest: None,
            last: vec![None; slots],
            emitted: None,
            pending: Default::default(),
            stats: vec![SlotStats::default(); slots],
            free: Vec::new(),
        }
    }

    /// Takes back the `values` of an emitted [`Batch`] once read, to be
    /// reused by a later batch (a Muse EEG batch is 60 values, allocated
    /// every fourth notification otherwise). Keeps at most `window + 1`.
    pub fn recycle(&mut self, values: Vec<f64>) {
        if self.free.len() <= self.window as usize {
            self.free.push(values);
        }
    }

    /// Marks slots as always active (bit `s` for slot `s`), e.g. a channel the
    /// configuration says will stream, so its first batch waits for it.
    pub fn set_required(&mut self, required: u32) {
        self.required = required;
    }

    /// Counters of slot `s` (default for a slot out of range).
    pub fn slot_stats(&self, s: usize) -> SlotStats {
        self.stats.get(s).cloned().unwrap_or_default()
    }

    /// Forgets everything (stream restart).
    pub fn reset(&mut self) {
        *self = Lockstep::new(self.slots, self.per, self.required, self.window as usize);
    }

    fn unwrap_seq(&self, seq: u16) -> i64 {
        match self.newest {
            None => i64::from(seq),
            Some(n) => n + i64::from(seq.wrapping_sub(n as u16) as i16),
        }
    }

    fn active(&self, s: usize, newest: i64) -> bool {
        self.required & (1 << s) != 0 || self.last[s].is_some_and(|l| newest - l <= self.window)
    }

    /// Adds slot `slot`'s notification `seq` with its `per` values (extra
    /// values are ignored, missing ones stay NaN); appends batches that
    /// became complete to `out`.
    pub fn push(&mut self, slot: usize, seq: u16, values: &[f64], out: &mut Vec<Batch>) {
        if slot >= self.slots {
            return;
        }
        let ext = self.unwrap_seq(seq);
        if let Some(l) = self.last[slot] {
            if ext <= l {
                self.stats[slot].stale += 1;
                return;
            }
            self.stats[slot].lost_packets += (ext - l - 1) as u64;
        }
        self.last[slot] = Some(ext);
        self.newest = Some(self.newest.map_or(ext, |n| n.max(ext)));
        if self.emitted.is_some_and(|e| ext <= e) {
            self.stats[slot].stale += 1;
            return;
        }
        self.stats[slot].packets += 1;
        let pos = self.pending.iter().position(|p| p.seq >= ext);
        let idx = match pos {
            Some(i) if self.pending[i].seq == ext => i,
            _ => {
                let i = pos.unwrap_or(self.pending.len());
                let mut values = self.free.pop().unwrap_or_default();
                values.clear();
                values.resize(self.per * self.slots, f64::NAN);
                self.pending.insert(
                    i,
                    Pending {
                        seq: ext,
                        got: 0,
                        values,
                    },
                );
                i
            }
        };
        let p = &mut self.pending[idx];
        p.got |= 1 << slot;
        for (i, v) in values.iter().take(self.per).enumerate() {
            p.values[i * self.slots + slot] = *v;
        }
        self.drain(out, false);
    }

    fn ready(&self, p: &Pending) -> bool {
        let newest = self.newest.unwrap_or(p.seq);
        let all_reached = (0..self.slots)
            .filter(|&s| self.active(s, newest))
            .all(|s| self.last[s].is_some_and(|l| l >= p.seq));
        let all_slots = if self.slots == 32 {
            u32::MAX
        } else {
            (1u32 << self.slots) - 1
        };
        // Without required slots, wait until the next batch has begun (or every
        // slot is in), so a first notification is not emitted on its own.
        all_reached && (self.required != 0 || p.got == all_slots || newest > p.seq)
    }

    fn drain(&mut self, out: &mut Vec<Batch>, all: bool) {
        while let Some(front) = self.pending.front() {
            let overflow = self.pending.len() as i64 > self.window;
            if !(all || overflow || self.ready(front)) {
                break;
            }
            if let Some(p) = self.pending.pop_front() {
                self.emitted = Some(p.seq);
                out.push(Batch {
                    seq: p.seq as u16,
                    got: p.got,
                    values: p.values,
                });
            }
        }
    }

    /// Emits every waiting batch, complete or not (end of stream).
    pub fn flush(&mut self, out: &mut Vec<Batch>) {
        self.drain(out, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(b: &[Batch]) -> Vec<u16> {
        b.iter().map(|b| b.seq).collect()
    }

    #[test]
    fn joins_in_lockstep_and_counts_loss() {
        let mut l = Lockstep::new(3, 2, 0b011, 4);
        let mut out = Vec::new();
        l.push(0, 10, &[1.0, 2.0], &mut out);
        assert!(out.is_empty());
        l.push(1, 10, &[3.0, 4.0], &mut out);
        // Slot 2 optional and never seen: batch 10 is complete.
        assert_eq!(seqs(&out), [10]);
        assert_eq!(out[0].values[..2], [1.0, 3.0]);
        assert!(out[0].values[2].is_nan());
        assert_eq!(out[0].values[3..5], [2.0, 4.0]);
        out.clear();
        // Slot 0 loses 11; slot 1 sends 11 and 12.
        l.push(1, 11, &[5.0, 6.0], &mut out);
        l.push(0, 12, &[7.0, 8.0], &mut out);
        assert_eq!(seqs(&out), [11]);
        assert!(out[0].values[0].is_nan());
        assert_eq!(out[0].values[1], 5.0);
        l.push(1, 12, &[9.0, 9.0], &mut out);
        assert_eq!(seqs(&out), [11, 12]);
        assert_eq!(l.slot_stats(0).lost_packets, 1);
        assert_eq!(l.slot_stats(1).lost_packets, 0);
        // Stale and duplicate.
        l.push(1, 12, &[0.0], &mut out);
        l.push(0, 5, &[0.0], &mut out);
        assert_eq!(l.slot_stats(1).stale, 1);
        assert_eq!(l.slot_stats(0).stale, 1);
    }

    #[test]
    fn optional_slot_activates_and_wraps() {
        let mut l = Lockstep::new(2, 1, 0b01, 2);
        let mut out = Vec::new();
        l.push(0, 65535, &[1.0], &mut out);
        l.push(1, 65535, &[2.0], &mut out);
        assert_eq!(seqs(&out), [65535]);
        out.clear();
        // Slot 1 active now: batch 0 waits for it across the wrap.
        l.push(0, 0, &[3.0], &mut out);
        assert!(out.is_empty());
        l.push(1, 0, &[4.0], &mut out);
        assert_eq!(out[0].values, vec![3.0, 4.0]);
        out.clear();
        // Slot 1 goes silent: after `window` batches it no longer holds rows.
        for s in 1..=6u16 {
            l.push(0, s, &[0.0], &mut out);
        }
        assert_eq!(seqs(&out), [1, 2, 3, 4, 5, 6]);
        assert_eq!(l.slot_stats(0).lost_packets, 0);
    }

    #[test]
    fn no_required_slots_waits_for_next_batch_and_flushes() {
        let mut l = Lockstep::new(3, 1, 0, 4);
        let mut out = Vec::new();
        l.push(0, 1, &[1.0], &mut out);
        l.push(1, 1, &[2.0], &mut out);
        assert!(out.is_empty());
        // The next batch has begun: batch 1 goes out without slot 2.
        l.push(0, 2, &[3.0], &mut out);
        assert_eq!(seqs(&out), [1]);
        l.push(1, 2, &[4.0], &mut out);
        assert_eq!(seqs(&out), [1]);
        l.flush(&mut out);
        assert_eq!(seqs(&out), [1, 2]);
    }
}

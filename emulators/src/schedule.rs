//! When an emulated device's next packet is due and what the scenario's faults
//! do to it: the one home of pacing and fault scheduling for every transport
//! (the serial emulator behind a pty, the BLE emulator behind a GATT peripheral).
//!
//! Sans-IO, as quinn-proto's connection state: time is an argument, nothing here
//! sleeps, reads a clock or touches a port, and the outcome is polled
//! ([`Schedule::poll`]). A transport asks, stream by stream, whether a packet is
//! due at `now`; the answer is a [`Step`]: a fault that acts on the link
//! (garbage, a stall, an unplug, going out of range) or the next packet with
//! the faults that fall on it (dropped, corrupted, truncated). Between polls
//! the transport waits until [`Schedule::next_due`]. What only one transport
//! needs (the serial port's flush handling and back-pressure, the BLE
//! emulator's interleaving of streams and its sleep out of range) stays in
//! that transport's file.

use crate::scenario::{FaultDecl, FaultKind, Pacing, Scenario};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far a stream may lag its pace before it resumes the pace from now
/// instead of catching up: a thread held back longer than this (a loaded
/// machine, a debugger) sends two packets, not a flood of them, when it runs
/// again; shorter hiccups are caught up packet by packet, as a device's own
/// buffer would deliver them.
pub const CATCH_UP_LIMIT: Duration = Duration::from_millis(500);

/// The pacing and fault schedule of one emulated device.
///
/// Packets are counted twice: per stream since that stream started (the
/// scenario's `packets` limit, and each stream's own clock), and across every
/// stream since the emulator started (the index a fault's `at_packet` names,
/// dropped packets included, not reset when the host starts the stream again;
/// see [`Schedule::restart`] for the one exception).
#[derive(Debug, Clone)]
pub struct Schedule {
    pacing: Pacing,
    limit: Option<u64>,
    /// Every fault of the scenario, sorted by packet (stably: file order among
    /// faults at the same packet), for [`Schedule::restart`].
    armed: Vec<(u64, FaultKind)>,
    /// The device clock's rate over the nominal one (`realistic.clock_ppm`).
    clock: f64,
    /// Faults not applied yet, in `armed` order.
    faults: VecDeque<(u64, FaultKind)>,
    /// Packets built across streams: the index of the next one.
    built: u64,
    /// Packets still to drop (a `drop: n` fault).
    drop_left: u64,
    /// Packets still to send back to back (a `burst: n` fault).
    burst_left: u64,
    /// One clock per stream, from the last [`Schedule::start`].
    clocks: Vec<Clock>,
    /// Faults on the packet at `built` met before a stall: the packet still
    /// carries them when the stall is over.
    pending: Packet,
}

/// One stream's pace.
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// Packets per second (the device's rate for this stream when it started).
    rate: f64,
    /// When its next packet is due.
    next_due: Instant,
    /// Packets built since it started.
    built: u64,
}

/// What a transport does next, as [`Schedule::poll`] says.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send these bytes before the next packet (a `garbage` fault); then poll
    /// again for the packet.
    Garbage(Vec<u8>),
    /// The device pauses (a `stall_ms` fault): every stream's next packet is
    /// now due this many milliseconds later. Nothing more is due this turn.
    Stall(u64),
    /// The device disappears before the next packet (`unplug: true`). The
    /// fault stays pending, so every later poll says so again: a transport
    /// that cannot unplug right now (the serial port while it replays what a
    /// host's flush discarded) unplugs at its next turn.
    Unplug,
    /// The device goes out of range for this many milliseconds before the
    /// next packet (BLE): the link drops and the device stops streaming.
    OutOfRange(u64),
    /// Build the next packet of the polled stream, and apply `Packet` to it.
    /// The schedule has counted it and moved the stream's clock on.
    Packet(Packet),
}

/// The faults that fall on one packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packet {
    /// Its index across streams (what `at_packet` counts).
    pub index: u64,
    /// Not sent at all (a `drop` fault covers it); the device's packet counter
    /// still moves on, so the host sees a gap.
    pub dropped: bool,
    /// (byte offset, mask) of each `corrupt` fault on it, in file order.
    pub corrupt: Vec<(usize, u8)>,
    /// The length a `truncate` fault cuts it to (the last such fault wins).
    pub truncate: Option<usize>,
}

impl Packet {
    /// Applies the corruption and truncation to the packet's bytes (a dropped
    /// packet is not sent, so there is nothing to apply it to).
    pub fn apply(&self, bytes: &mut Vec<u8>) {
        for &(offset, xor) in &self.corrupt {
            if let Some(b) = bytes.get_mut(offset) {
                *b ^= xor;
            }
        }
        if let Some(n) = self.truncate {
            bytes.truncate(n);
        }
    }
}

impl Schedule {
    /// The schedule of `faults` at `pacing`, at most `limit` packets per stream
    /// and start. Nothing is due until [`Schedule::start`].
    pub fn new(pacing: Pacing, limit: Option<u64>, faults: &[FaultDecl]) -> Schedule {
        let mut armed: Vec<(u64, FaultKind)> = faults
            .iter()
            .map(|f| (f.at_packet, f.kind.clone()))
            .collect();
        // Stable: faults at the same packet apply in file order.
        armed.sort_by_key(|f| f.0);
        Schedule {
            pacing,
            limit,
            faults: armed.clone().into(),
            armed,
            clock: 1.0,
            built: 0,
            drop_left: 0,
            burst_left: 0,
            clocks: Vec::new(),
            pending: Packet::default(),
        }
    }

    /// The schedule `scenario` declares; `pacing` overrides its pacing.
    pub fn for_scenario(scenario: &Scenario, pacing: Option<Pacing>) -> Schedule {
        let mut s = Schedule::new(
            pacing.unwrap_or(scenario.decl.pacing),
            scenario.decl.packets,
            &scenario.decl.faults,
        );
        if let Some(r) = &scenario.decl.realistic {
            s.clock = r.clock_factor();
        }
        s
    }

    /// The host started the stream: one clock per stream at `rates` packets/s
    /// (a stream that does not run still gets one, so indices match the
    /// device's), each with its first packet due at `first_due` and none built.
    /// Faults and their packet index go on where they were.
    pub fn start(&mut self, first_due: Instant, rates: impl IntoIterator<Item = f64>) {
        self.clocks = rates
            .into_iter()
            .map(|rate| Clock {
                // A drifting device clock: its packets come this much faster
                // or slower by the host's clock.
                rate: rate * self.clock,
                next_due: first_due,
                built: 0,
            })
            .collect();
    }

    /// The device replays the scenario from its first packet, faults included,
    /// as [`Schedule::start`] does otherwise: for a device that streams unasked
    /// (`autostart`) and starts over when the host discards everything so far.
    pub fn restart(&mut self, first_due: Instant, rates: impl IntoIterator<Item = f64>) {
        self.faults = self.armed.clone().into();
        self.built = 0;
        self.drop_left = 0;
        self.burst_left = 0;
        self.pending = Packet::default();
        self.start(first_due, rates);
    }

    /// How many streams the last [`Schedule::start`] gave clocks to (none
    /// before the first): the indices [`Schedule::poll`] takes.
    pub fn streams(&self) -> usize {
        self.clocks.len()
    }

    /// Whether packets follow the reader rather than a clock (`max` pacing):
    /// every packet is due at once, so only the transport's back-pressure
    /// bounds how many it builds.
    pub fn follows_reader(&self) -> bool {
        self.pacing == Pacing::Max
    }

    /// When the next packet of any stream that `running` says runs is due,
    /// `None` when none runs or all have reached the packet limit. A burst
    /// is not counted: it sends within the turn that starts it.
    pub fn next_due(&self, running: impl Fn(usize) -> bool) -> Option<Instant> {
        (0..self.clocks.len())
            .filter(|&i| running(i) && self.below_limit(i))
            .map(|i| self.clocks[i].next_due)
            .min()
    }

    /// What stream `stream` does at `now`: `None` when it is not running
    /// (`running`, by stream index), has reached the packet limit, or its
    /// next packet is not due yet; otherwise the next [`Step`]. Poll again
    /// after a step (the faults at one packet come one step each, the packet
    /// last), until `None` or a step that ends the turn.
    pub fn poll(
        &mut self,
        stream: usize,
        now: Instant,
        running: impl Fn(usize) -> bool,
    ) -> Option<Step> {
        let clock = self.clocks.get(stream)?;
        if !running(stream)
            || !self.below_limit(stream)
            || (self.burst_left == 0 && now < clock.next_due)
        {
            return None;
        }
        // A link-dropping fault waits for the first running stream's turn,
        // so streams that run in lockstep (Muse's EEG channels, one
        // notification each per round) end on a complete round whatever the
        // interleaving. A device with one stream is always at its turn.
        let first = (0..self.clocks.len()).find(|&j| running(j)) == Some(stream);
        while let Some((at, kind)) = self.faults.front() {
            if *at > self.built {
                break;
            }
            match kind {
                FaultKind::Unplug(true) | FaultKind::OutOfRangeMs(_) if !first => break,
                // Stays pending: see `Step::Unplug`.
                FaultKind::Unplug(true) => return Some(Step::Unplug),
                _ => {}
            }
            let (_, kind) = self.faults.pop_front().expect("checked");
            match kind {
                FaultKind::Drop(n) => self.drop_left += n,
                FaultKind::Burst(n) => self.burst_left += n,
                FaultKind::Garbage(g) => return Some(Step::Garbage(g)),
                FaultKind::Corrupt { offset, xor } => self.pending.corrupt.push((offset, xor)),
                FaultKind::Truncate(n) => self.pending.truncate = Some(n),
                FaultKind::StallMs(ms) => {
                    // From now if the stream was already late: a stall is a
                    // pause the host sees, not one that a backlog absorbs.
                    let pause = Duration::from_millis(ms);
                    for c in &mut self.clocks {
                        c.next_due = c.next_due.max(now) + pause;
                    }
                    return Some(Step::Stall(ms));
                }
                FaultKind::OutOfRangeMs(ms) => return Some(Step::OutOfRange(ms)),
                // Applied elsewhere (mute, late advertising) or not at all.
                FaultKind::Unplug(_) | FaultKind::Mute(_) | FaultKind::AdvertiseAfterMs(_) => {}
            }
        }
        let mut packet = std::mem::take(&mut self.pending);
        packet.index = self.built;
        self.built += 1;
        let interval = self.pacing.interval(self.clocks[stream].rate);
        let clock = &mut self.clocks[stream];
        clock.built += 1;
        if self.burst_left > 0 {
            // Back to back: the clock stands still, so the pace resumes after
            // the burst as if the burst had taken no time.
            self.burst_left -= 1;
        } else if interval == 0.0 {
            clock.next_due = now;
        } else {
            clock.next_due += Duration::from_secs_f64(interval);
            if now.saturating_duration_since(clock.next_due) > CATCH_UP_LIMIT {
                clock.next_due = now;
            }
        }
        if self.drop_left > 0 {
            self.drop_left -= 1;
            packet.dropped = true;
        }
        Some(Step::Packet(packet))
    }

    fn below_limit(&self, stream: usize) -> bool {
        self.limit.is_none_or(|l| self.clocks[stream].built < l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn fault(at_packet: u64, kind: FaultKind) -> FaultDecl {
        FaultDecl { at_packet, kind }
    }

    /// A Cyton's one stream (250 packets/s) started at `t0`.
    fn cyton(pacing: Pacing, limit: Option<u64>, faults: &[FaultDecl], t0: Instant) -> Schedule {
        let mut s = Schedule::new(pacing, limit, faults);
        s.start(t0, [250.0]);
        s
    }

    fn on(_: usize) -> bool {
        true
    }

    /// Every step stream 0 takes at `now`, until nothing more is due or a
    /// step ends the turn.
    fn turn(s: &mut Schedule, now: Instant) -> Vec<Step> {
        let mut steps = Vec::new();
        while let Some(step) = s.poll(0, now, on) {
            let end = matches!(step, Step::Stall(_) | Step::Unplug);
            steps.push(step);
            if end {
                break;
            }
        }
        steps
    }

    /// The packets among `steps`.
    fn packets(steps: &[Step]) -> Vec<Packet> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Packet(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// Runs stream 0 with a turn every millisecond from `t0` to `t0 + ms`;
    /// the packets built at each turn's time (ms since `t0`).
    fn run_ms(s: &mut Schedule, t0: Instant, ms: u64) -> Vec<(u64, Packet)> {
        let mut out = Vec::new();
        for t in 0..=ms {
            for p in packets(&turn(s, t0 + MS * t as u32)) {
                out.push((t, p));
            }
        }
        out
    }

    fn clean(index: u64) -> Packet {
        Packet {
            index,
            ..Packet::default()
        }
    }

    #[test]
    fn nothing_is_due_before_the_stream_starts() {
        let t0 = Instant::now();
        let mut s = Schedule::new(Pacing::Realtime, None, &[]);
        assert_eq!(s.poll(0, t0, on), None);
        assert_eq!(s.next_due(on), None);
    }

    #[test]
    fn realtime_sends_at_the_device_rate() {
        let t0 = Instant::now();
        let mut s = cyton(Pacing::Realtime, None, &[], t0);
        let got = run_ms(&mut s, t0, 1000);
        // 250/s: one every 4 ms, the first at once; 0..=1000 ms holds 251.
        assert_eq!(got.len(), 251);
        assert!(got
            .iter()
            .enumerate()
            .all(|(k, (t, p))| *t == 4 * k as u64 && p.index == k as u64));
        assert_eq!(s.next_due(on), Some(t0 + MS * 1004));
    }

    #[test]
    fn speed_multiplies_the_rate() {
        let t0 = Instant::now();
        let mut s = cyton(Pacing::Speed(8.0), None, &[], t0);
        // 2000/s: two per millisecond.
        assert_eq!(run_ms(&mut s, t0, 100).len(), 201);
        assert_eq!(s.next_due(on), Some(t0 + Duration::from_micros(100_500)));
    }

    #[test]
    fn max_follows_the_reader() {
        let t0 = Instant::now();
        let mut s = cyton(Pacing::Max, Some(1000), &[], t0);
        assert!(s.follows_reader());
        // Every poll is due; the limit alone ends it.
        assert_eq!(packets(&turn(&mut s, t0)).len(), 1000);
        assert_eq!(s.next_due(on), None);
    }

    #[test]
    fn the_limit_counts_per_start() {
        let t0 = Instant::now();
        let mut s = cyton(Pacing::Realtime, Some(10), &[], t0);
        assert_eq!(run_ms(&mut s, t0, 100).len(), 10);
        assert_eq!(s.poll(0, t0 + MS * 200, on), None);
        // The host starts the stream again: 10 more, their index goes on.
        s.start(t0 + MS * 200, [250.0]);
        let again = packets(&turn(&mut s, t0 + MS * 300));
        assert_eq!(again.len(), 10);
        assert_eq!(again[0].index, 10);
    }

    #[test]
    fn a_hiccup_shorter_than_the_bound_is_caught_up() {
        let t0 = Instant::now();
        let mut s = cyton(Pacing::Realtime, None, &[], t0);
        assert_eq!(packets(&turn(&mut s, t0)).len(), 1);
        // Held back 400 ms: the 100 packets due at 4..=400 ms come at once.
        assert_eq!(packets(&turn(&mut s, t0 + MS * 400)).len(), 100);
        assert_eq!(s.next_due(on), Some(t0 + MS * 404));
    }

    #[test]
    fn a_hiccup_longer_than_the_bound_resumes_the_pace() {
        let t0 = Instant::now();
        let mut s = cyton(Pacing::Realtime, None, &[], t0);
        assert_eq!(packets(&turn(&mut s, t0)).len(), 1);
        // Held back 2 s: the overdue packet, then one more as the pace restarts
        // from now, not the 500 a catch-up would flood.
        let now = t0 + MS * 2000;
        assert_eq!(packets(&turn(&mut s, now)).len(), 2);
        assert_eq!(s.next_due(on), Some(now + MS * 4));
    }

    #[test]
    fn drop_covers_n_packets_from_its_index() {
        let t0 = Instant::now();
        let faults = [fault(5, FaultKind::Drop(3)), fault(20, FaultKind::Drop(1))];
        let mut s = cyton(Pacing::Max, Some(30), &faults, t0);
        let got = packets(&turn(&mut s, t0));
        assert_eq!(got.len(), 30);
        let dropped: Vec<u64> = got.iter().filter(|p| p.dropped).map(|p| p.index).collect();
        assert_eq!(dropped, [5, 6, 7, 20]);
    }

    #[test]
    fn garbage_comes_before_its_packet_in_file_order() {
        let t0 = Instant::now();
        let faults = [
            fault(3, FaultKind::Garbage(vec![1])),
            fault(1, FaultKind::Garbage(vec![9])),
            fault(3, FaultKind::Garbage(vec![2, 2])),
        ];
        let mut s = cyton(Pacing::Max, Some(5), &faults, t0);
        let steps = turn(&mut s, t0);
        assert_eq!(
            steps,
            [
                Step::Packet(clean(0)),
                Step::Garbage(vec![9]),
                Step::Packet(clean(1)),
                Step::Packet(clean(2)),
                Step::Garbage(vec![1]),
                Step::Garbage(vec![2, 2]),
                Step::Packet(clean(3)),
                Step::Packet(clean(4)),
            ]
        );
    }

    #[test]
    fn corrupt_and_truncate_fall_on_their_packet() {
        let t0 = Instant::now();
        let faults = [
            fault(
                2,
                FaultKind::Corrupt {
                    offset: 1,
                    xor: 0xFF,
                },
            ),
            fault(
                2,
                FaultKind::Corrupt {
                    offset: 9,
                    xor: 0x01,
                },
            ),
            fault(4, FaultKind::Truncate(2)),
        ];
        let mut s = cyton(Pacing::Max, Some(6), &faults, t0);
        let got = packets(&turn(&mut s, t0));
        let changed: Vec<&Packet> = got.iter().filter(|p| **p != clean(p.index)).collect();
        assert_eq!(changed.len(), 2);
        assert_eq!(changed[0].index, 2);
        assert_eq!(changed[0].corrupt, [(1, 0xFF), (9, 0x01)]);
        assert_eq!(changed[1].index, 4);
        assert_eq!(changed[1].truncate, Some(2));
        // Offsets past the end are ignored; truncation after corruption.
        let mut bytes = vec![0xA0, 0x0F, 0x33];
        changed[0].apply(&mut bytes);
        assert_eq!(bytes, [0xA0, 0xF0, 0x33]);
        changed[1].apply(&mut bytes);
        assert_eq!(bytes, [0xA0, 0xF0]);
    }

    #[test]
    fn a_stall_delays_its_packet_which_keeps_its_faults() {
        let t0 = Instant::now();
        let faults = [
            fault(3, FaultKind::Corrupt { offset: 0, xor: 1 }),
            fault(3, FaultKind::StallMs(400)),
            fault(3, FaultKind::Truncate(5)),
        ];
        let mut s = cyton(Pacing::Realtime, None, &faults, t0);
        // Packets 0..=2 at 0, 4, 8 ms; packet 3 is due at 12 ms and stalls
        // there until 412 ms.
        let before = run_ms(&mut s, t0, 11);
        assert_eq!(before.len(), 3);
        assert_eq!(turn(&mut s, t0 + MS * 12), [Step::Stall(400)]);
        assert_eq!(s.next_due(on), Some(t0 + MS * 412));
        assert_eq!(s.poll(0, t0 + MS * 411, on), None);
        let p = packets(&turn(&mut s, t0 + MS * 412));
        assert_eq!(
            p,
            [Packet {
                index: 3,
                dropped: false,
                corrupt: vec![(0, 1)],
                truncate: Some(5),
            }]
        );
    }

    #[test]
    fn a_late_stall_counts_from_now() {
        let t0 = Instant::now();
        let mut s = cyton(
            Pacing::Realtime,
            None,
            &[fault(1, FaultKind::StallMs(100))],
            t0,
        );
        turn(&mut s, t0);
        // Packet 1 was due at 4 ms; the thread runs at 50 ms.
        assert_eq!(turn(&mut s, t0 + MS * 50), [Step::Stall(100)]);
        assert_eq!(s.next_due(on), Some(t0 + MS * 150));
    }

    #[test]
    fn a_burst_sends_n_extra_packets_at_once() {
        let t0 = Instant::now();
        let mut s = cyton(Pacing::Realtime, None, &[fault(4, FaultKind::Burst(3))], t0);
        // Packets 0..=3 at 0..=12 ms; at 16 ms packet 4 starts the burst:
        // 4, 5 and 6 back to back, then 7 at the same time (due at 16 ms, as
        // the clock stood still), 8 at 20 ms.
        let got = run_ms(&mut s, t0, 20);
        let times: Vec<u64> = got.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [0, 4, 8, 12, 16, 16, 16, 16, 20]);
        // Over a second, exactly 3 more than the rate gives.
        let mut s = cyton(Pacing::Realtime, None, &[fault(4, FaultKind::Burst(3))], t0);
        assert_eq!(run_ms(&mut s, t0, 1000).len(), 251 + 3);
    }

    #[test]
    fn an_unplug_stays_pending_until_the_device_is_gone() {
        let t0 = Instant::now();
        let faults = [
            fault(3, FaultKind::Garbage(vec![7])),
            fault(3, FaultKind::Unplug(true)),
        ];
        let mut s = cyton(Pacing::Max, None, &faults, t0);
        let steps = turn(&mut s, t0);
        assert_eq!(packets(&steps).len(), 3);
        assert_eq!(&steps[3..], [Step::Garbage(vec![7]), Step::Unplug]);
        // Asked again (a transport that could not unplug then), it still is.
        assert_eq!(s.poll(0, t0 + MS, on), Some(Step::Unplug));
    }

    #[test]
    fn faults_that_are_not_the_schedules_do_nothing() {
        let t0 = Instant::now();
        let faults = [
            fault(0, FaultKind::Mute(true)),
            fault(1, FaultKind::AdvertiseAfterMs(400)),
            fault(2, FaultKind::Unplug(false)),
        ];
        let mut s = cyton(Pacing::Max, Some(4), &faults, t0);
        let steps = turn(&mut s, t0);
        assert_eq!(
            steps,
            (0..4).map(|i| Step::Packet(clean(i))).collect::<Vec<_>>()
        );
    }

    #[test]
    fn restart_replays_the_faults_from_packet_zero() {
        let t0 = Instant::now();
        let mut s = cyton(Pacing::Realtime, None, &[fault(2, FaultKind::Drop(3))], t0);
        let got = run_ms(&mut s, t0, 12);
        assert_eq!(got.iter().filter(|(_, p)| p.dropped).count(), 2);
        // Mid-drop the device starts over, its first packet 250 ms later.
        s.restart(t0 + MS * 262, [250.0]);
        assert_eq!(s.poll(0, t0 + MS * 261, on), None);
        let again: Vec<Packet> = run_ms(&mut s, t0 + MS * 262, 16)
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let indices: Vec<u64> = again.iter().map(|p| p.index).collect();
        assert_eq!(indices, [0, 1, 2, 3, 4]);
        let dropped: Vec<u64> = again
            .iter()
            .filter(|p| p.dropped)
            .map(|p| p.index)
            .collect();
        assert_eq!(dropped, [2, 3, 4]);
    }

    /// Muse-like: streams 0 and 1 in lockstep at 10/s, stream 2 at 5/s.
    fn muse(faults: &[FaultDecl], t0: Instant) -> Schedule {
        let mut s = Schedule::new(Pacing::Realtime, None, faults);
        s.start(t0, [10.0, 10.0, 5.0]);
        s
    }

    /// One round over every stream at `now`, one packet each at the most, as
    /// the BLE emulator interleaves them: (stream, step). A stream's turn ends
    /// with any step but garbage.
    fn round(s: &mut Schedule, now: Instant, running: &[bool]) -> Vec<(usize, Step)> {
        let mut out = Vec::new();
        for i in 0..running.len() {
            while let Some(step) = s.poll(i, now, |j| running[j]) {
                let more = matches!(step, Step::Garbage(_));
                out.push((i, step));
                if !more {
                    break;
                }
            }
        }
        out
    }

    fn index(step: &Step) -> u64 {
        match step {
            Step::Packet(p) => p.index,
            other => panic!("not a packet: {other:?}"),
        }
    }

    #[test]
    fn streams_keep_their_own_pace_and_share_the_fault_index() {
        let t0 = Instant::now();
        let mut s = muse(&[fault(3, FaultKind::Drop(1))], t0);
        let all = [true; 3];
        let first = round(&mut s, t0, &all);
        assert_eq!(first.len(), 3);
        // At 100 ms the two fast streams are due again, the slow one is not.
        assert_eq!(s.poll(2, t0 + MS * 100, |_| true), None);
        let second = round(&mut s, t0 + MS * 100, &all);
        let who: Vec<(usize, u64, bool)> = second
            .iter()
            .map(|(i, st)| match st {
                Step::Packet(p) => (*i, p.index, p.dropped),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(who, [(0, 3, true), (1, 4, false)]);
        assert_eq!(s.next_due(|_| true), Some(t0 + MS * 200));
        // A stream that does not run is neither due nor waited for.
        assert_eq!(s.next_due(|j| j == 2), Some(t0 + MS * 200));
        assert_eq!(s.next_due(|j| j == 5), None);
        assert_eq!(s.poll(0, t0 + MS * 300, |j| j == 2), None);
    }

    #[test]
    fn a_link_fault_waits_for_the_first_running_streams_turn() {
        let t0 = Instant::now();
        // Index 1 is stream 1's packet in the first round: the link stays up
        // for it and for stream 2's, and drops before stream 0's next packet.
        let mut s = muse(
            &[
                fault(1, FaultKind::OutOfRangeMs(500)),
                fault(6, FaultKind::Unplug(true)),
            ],
            t0,
        );
        let all = [true; 3];
        let first = round(&mut s, t0, &all);
        let indices: Vec<u64> = first.iter().map(|(_, st)| index(st)).collect();
        assert_eq!(indices, [0, 1, 2]);
        let second = round(&mut s, t0 + MS * 100, &all);
        assert_eq!(second[0], (0, Step::OutOfRange(500)));
        assert_eq!(index(&second[1].1), 3);
        // Going out of range happens once.
        assert_eq!(index(&s.poll(0, t0 + MS * 100, on).unwrap()), 4);
        // With stream 0 stopped, stream 1 runs first: the unplug (at index 6)
        // passes stream 2's turn and falls on stream 1's.
        let run = [false, true, true];
        let third: Vec<u64> = round(&mut s, t0 + MS * 200, &run)
            .iter()
            .map(|(_, st)| index(st))
            .collect();
        assert_eq!(third, [5, 6]);
        assert_eq!(round(&mut s, t0 + MS * 300, &run), [(1, Step::Unplug)]);
    }
}

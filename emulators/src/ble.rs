//! A virtual BLE device: the engine behind a GATT peripheral, with per-stream
//! pacing and the scenario's faults. The peripheral itself is a trait: an
//! in-memory one for fast tests, BlueZ (bluer) for the real daemon.

use crate::commands::render;
use crate::device::{CommandRecord, Device, Output};
use crate::profile::{full_uuid, BleDecl};
use crate::scenario::{FaultKind, Pacing, Scenario};
use crate::serial::EmulatorStats;
use crate::state::State;
use crate::transcript::{Dir, Transcript};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the emulator needs from a GATT peripheral. UUIDs are full 128-bit text,
/// lower case (see [`full_uuid`]).
pub trait Peripheral: Send + Sync {
    /// Sets what a read of `uuid` returns.
    fn set_value(&self, uuid: &str, value: &[u8]);
    /// Notifies `value` on `uuid`; false when no central is subscribed.
    fn notify(&self, uuid: &str, value: &[u8]) -> bool;
    /// The next write from the central (characteristic UUID, bytes), waiting up to
    /// `timeout`.
    fn recv_write(&self, timeout: Duration) -> Option<(String, Vec<u8>)>;
    /// Drops the connection as a device going out of range does.
    fn drop_link(&self);
    /// How many writes centrals have made so far, where the transport knows
    /// it exactly once the host's write calls have returned (the in-memory
    /// link). `None` where writes may still be crossing a stack (BlueZ):
    /// [`BleEmulator::settle`] then waits for a quiet gap instead.
    fn writes_received(&self) -> Option<u64> {
        None
    }
}

/// Options that are not part of a scenario.
#[derive(Debug, Clone, Default)]
pub struct BleOptions {
    /// Overrides the scenario's pacing.
    pub pacing: Option<Pacing>,
}

#[derive(Debug)]
struct Inner {
    stats: EmulatorStats,
    commands: Vec<CommandRecord>,
    state: State,
    transcript: Transcript,
    unsubscribed: u64,
    /// When the host's last write was handled.
    last_write: Option<Instant>,
    /// Writes handled (every write, command or not).
    writes_handled: u64,
}

/// A running virtual BLE device.
pub struct BleEmulator {
    stop: Arc<AtomicBool>,
    inner: Arc<Mutex<Inner>>,
    peripheral: Arc<dyn Peripheral>,
    thread: Option<JoinHandle<()>>,
}

impl BleEmulator {
    /// Starts playing `scenario`'s device on `peripheral`.
    pub fn spawn(
        scenario: &Scenario,
        peripheral: Arc<dyn Peripheral>,
        opts: BleOptions,
    ) -> std::io::Result<BleEmulator> {
        let ble = scenario.profile.ble.clone().ok_or_else(|| {
            std::io::Error::other(format!(
                "`{}` is not a BLE device",
                scenario.profile.decl.name
            ))
        })?;
        let device = Device::new(
            scenario.profile.clone(),
            scenario.signals.clone(),
            scenario.initial_state.clone(),
        );
        let inner = Arc::new(Mutex::new(Inner {
            stats: EmulatorStats::default(),
            commands: Vec::new(),
            state: device.state().clone(),
            transcript: Transcript::new(256 * 1024),
            unsubscribed: 0,
            last_write: None,
            writes_handled: 0,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mut faults: Vec<(u64, FaultKind)> = scenario
            .decl
            .faults
            .iter()
            .map(|f| (f.at_packet, f.kind.clone()))
            .collect();
        faults.sort_by_key(|f| f.0);
        let worker = Worker {
            uuids: uuid_map(&ble),
            command_uuids: ble
                .services
                .iter()
                .flat_map(|s| s.characteristics.iter())
                .filter(|c| c.commands)
                .map(|c| full_uuid(&c.uuid))
                .collect(),
            ble,
            device,
            peripheral: peripheral.clone(),
            inner: inner.clone(),
            stop: stop.clone(),
            pacing: opts.pacing.unwrap_or(scenario.decl.pacing),
            limit: scenario.decl.packets,
            muted: scenario.muted(),
            faults: faults.into(),
            started: Instant::now(),
        };
        // Read values exist before any central can connect and read them.
        worker.publish_values();
        let thread = std::thread::Builder::new()
            .name(format!("emulate-ble {}", scenario.name))
            .spawn(move || worker.run())?;
        Ok(BleEmulator {
            stop,
            inner,
            peripheral,
            thread: Some(thread),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counters so far.
    pub fn stats(&self) -> EmulatorStats {
        self.lock().stats.clone()
    }

    /// Notifications built while no central was subscribed (not delivered).
    pub fn unsubscribed(&self) -> u64 {
        self.lock().unsubscribed
    }

    /// Commands received so far.
    pub fn commands(&self) -> Vec<CommandRecord> {
        self.lock().commands.clone()
    }

    /// Device state now.
    pub fn state(&self) -> State {
        self.lock().state.clone()
    }

    /// The transcript so far, rendered.
    pub fn transcript(&self) -> String {
        self.lock().transcript.render()
    }

    /// Waits until the writes the host made so far have been handled.
    ///
    /// Where the peripheral counts writes exactly
    /// ([`Peripheral::writes_received`], the in-memory link), until the
    /// emulator has handled that many: an event, whatever the load (a
    /// descheduled emulator thread once missed a final `stop` that a
    /// 200-ms quiet gap had declared settled). Otherwise (BlueZ) until no
    /// write has arrived for 200 ms (at most 1 s): a write without response
    /// the host made just before releasing is still crossing the stack
    /// (two bluetoothd and btvirt in the lab VM, over 30 ms under load).
    pub fn settle(&self) {
        if let Some(sent) = self.peripheral.writes_received() {
            // Bounded only so a wedged emulator cannot hang a trial; the
            // count is reached as soon as the emulator thread runs.
            let give_up = Instant::now() + Duration::from_secs(10);
            while self.lock().writes_handled < sent {
                if Instant::now() >= give_up || self.thread.as_ref().is_none_or(|t| t.is_finished())
                {
                    tracing::warn!(
                        "emulator handled {} of {sent} writes",
                        self.lock().writes_handled
                    );
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            return;
        }
        let start = Instant::now();
        let quiet = Duration::from_millis(200);
        std::thread::sleep(Duration::from_millis(30));
        while start.elapsed() < Duration::from_secs(1) {
            let since = self
                .lock()
                .last_write
                .map_or(start.elapsed(), |t| t.elapsed());
            if since >= quiet {
                break;
            }
            std::thread::sleep(quiet - since);
        }
    }

    /// Stops the emulator.
    pub fn stop(mut self) -> EmulatorStats {
        self.halt();
        self.stats()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for BleEmulator {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Characteristic name → full UUID.
fn uuid_map(ble: &BleDecl) -> BTreeMap<String, String> {
    ble.services
        .iter()
        .flat_map(|s| s.characteristics.iter())
        .map(|c| (c.name.clone(), full_uuid(&c.uuid)))
        .collect()
}

struct Worker {
    ble: BleDecl,
    uuids: BTreeMap<String, String>,
    command_uuids: Vec<String>,
    device: Device,
    peripheral: Arc<dyn Peripheral>,
    inner: Arc<Mutex<Inner>>,
    stop: Arc<AtomicBool>,
    pacing: Pacing,
    limit: Option<u64>,
    muted: bool,
    faults: VecDeque<(u64, FaultKind)>,
    started: Instant,
}

/// Per-stream schedule.
#[derive(Clone, Copy)]
struct Schedule {
    next_due: Instant,
    built: u64,
}

impl Worker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note(&self, dir: Dir, bytes: &[u8], note: Option<&str>) {
        let at = self.started.elapsed();
        self.lock().transcript.record(at, dir, bytes, note);
    }

    /// Read values are templates over state (`{firmware}.0.0`): refresh them.
    fn publish_values(&self) {
        for c in self
            .ble
            .services
            .iter()
            .flat_map(|s| s.characteristics.iter())
        {
            if let Some(t) = &c.value {
                let text = render(t, &[], self.device.state());
                self.peripheral
                    .set_value(&full_uuid(&c.uuid), text.as_bytes());
            }
        }
    }

    fn run(mut self) {
        let mut schedules: Vec<Schedule> = Vec::new();
        let mut total: u64 = 0;
        let mut burst_left: u64 = 0;
        let mut drop_left: u64 = 0;
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let wait = schedules
                .iter()
                .zip(0..)
                .filter(|(s, i)| {
                    self.device.runs_stream(*i) && self.limit.is_none_or(|l| s.built < l)
                })
                .map(|(s, _)| s.next_due.saturating_duration_since(now))
                .min()
                .unwrap_or(Duration::from_millis(20))
                .min(Duration::from_millis(20));
            if let Some((uuid, bytes)) = self.peripheral.recv_write(wait) {
                self.write(&uuid, &bytes, &mut schedules);
                continue;
            }
            // Streams due now, one packet each per pass, so characteristics that
            // stream together (Muse's EEG) interleave as on the device, even at
            // `max` pacing.
            let now = Instant::now();
            let mut sent_any = true;
            while sent_any {
                sent_any = false;
                // Writes that came while this thread was not running go first,
                // before the notifications that fell due meanwhile, so a host's
                // stop is seen before a catch-up burst could reach the next
                // central (as the serial emulator reads the host's flushes and
                // bytes before writing overdue packets).
                if let Some((uuid, bytes)) = self.peripheral.recv_write(Duration::ZERO) {
                    self.write(&uuid, &bytes, &mut schedules);
                    break;
                }
                for i in 0..schedules.len() {
                    if self.device.runs_stream(i)
                        && self.limit.is_none_or(|l| schedules[i].built < l)
                        && (burst_left > 0 || schedules[i].next_due <= now)
                    {
                        sent_any = true;
                        match self.fault_at(
                            total,
                            &mut schedules,
                            i,
                            &mut drop_left,
                            &mut burst_left,
                        ) {
                            FaultStep::Continue => {}
                            FaultStep::Wait => {
                                sent_any = false;
                                break;
                            }
                            FaultStep::Unplugged => return,
                        }
                        let Some((ch, mut bytes)) = self.device.next_packet_of(i) else {
                            continue;
                        };
                        total += 1;
                        let rate = self.device.stream_packet_rate(i);
                        let interval = self.pacing.interval(rate);
                        let s = &mut schedules[i];
                        s.built += 1;
                        if burst_left > 0 {
                            burst_left -= 1;
                        } else if interval == 0.0 {
                            s.next_due = now;
                        } else {
                            s.next_due += Duration::from_secs_f64(interval);
                            if now.saturating_duration_since(s.next_due)
                                > Duration::from_millis(500)
                            {
                                s.next_due = now;
                            }
                        }
                        self.lock().stats.packets_built += 1;
                        if drop_left > 0 {
                            drop_left -= 1;
                            self.note(Dir::ToHost, &bytes, Some("dropped"));
                            self.lock().stats.packets_dropped += 1;
                            continue;
                        }
                        self.apply_packet_faults(total - 1, &mut bytes);
                        let uuid = ch
                            .as_ref()
                            .and_then(|n| self.uuids.get(n))
                            .cloned()
                            .unwrap_or_default();
                        self.note(Dir::ToHost, &bytes, None);
                        let delivered = self.peripheral.notify(&uuid, &bytes);
                        let mut g = self.lock();
                        if delivered {
                            g.stats.packets_sent += 1;
                            g.stats.bytes_to_host += bytes.len() as u64;
                        } else {
                            g.unsubscribed += 1;
                        }
                    }
                }
                // Writes that came during the pass, before the next one: a
                // stream that has fallen behind its pacing (BlueZ takes Muse's
                // ~175 notifications/s no faster) keeps this loop going for
                // seconds, and in the lab VM under load the 16 commands of
                // muse_2's command_burst sent while streaming, and its stop,
                // were still queued when the trial ended. Between passes, so
                // streams in lockstep still end on a complete batch.
                while let Some((uuid, bytes)) = self.peripheral.recv_write(Duration::ZERO) {
                    self.write(&uuid, &bytes, &mut schedules);
                }
            }
        }
    }

    /// Handles one write, then counts it (see [`BleEmulator::settle`]: a
    /// counted write's commands are recorded).
    fn write(&mut self, uuid: &str, bytes: &[u8], schedules: &mut Vec<Schedule>) {
        self.handle_write(uuid, bytes, schedules);
        let mut g = self.lock();
        g.last_write = Some(Instant::now());
        g.writes_handled += 1;
    }

    fn handle_write(&mut self, uuid: &str, bytes: &[u8], schedules: &mut Vec<Schedule>) {
        self.note(Dir::ToDevice, bytes, None);
        self.lock().stats.bytes_from_host += bytes.len() as u64;
        if self.muted || !self.command_uuids.iter().any(|u| u == uuid) {
            return;
        }
        let now = self.started.elapsed();
        for o in self.device.feed_at(bytes, Some(now)) {
            match o {
                // A BLE device of these kinds answers nothing on the command
                // characteristic; replies would go on a notify characteristic.
                Output::Reply(_) => {}
                Output::StreamStarted => {
                    let start = Instant::now();
                    *schedules = vec![
                        Schedule {
                            next_due: start,
                            built: 0,
                        };
                        self.device.profile().streams.len()
                    ];
                    self.lock().stats.streams += 1;
                }
                Output::StreamStopped => {}
            }
        }
        self.publish_values();
        let mut g = self.lock();
        g.commands = self.device.commands().to_vec();
        g.state = self.device.state().clone();
    }

    /// Faults scheduled at notification `total` that change the schedule.
    fn fault_at(
        &mut self,
        total: u64,
        schedules: &mut [Schedule],
        i: usize,
        drop_left: &mut u64,
        burst_left: &mut u64,
    ) -> FaultStep {
        while let Some((at, _)) = self.faults.front() {
            if *at > total {
                break;
            }
            match &self.faults[0].1 {
                FaultKind::Drop(n) => *drop_left += n,
                FaultKind::Burst(n) => *burst_left += n,
                FaultKind::StallMs(ms) => {
                    let ms = *ms;
                    self.faults.pop_front();
                    self.note(Dir::ToHost, &[], Some(&format!("stall {ms} ms")));
                    for s in schedules.iter_mut() {
                        s.next_due = s.next_due.max(Instant::now()) + Duration::from_millis(ms);
                    }
                    return FaultStep::Wait;
                }
                // A link-dropping fault waits for the start of a pass (the
                // first running stream's turn), so streams that run in lockstep, like
                // Muse's EEG channels, end on a complete batch whatever the
                // interleaving of the other streams.
                FaultKind::Unplug(true) | FaultKind::OutOfRangeMs(_)
                    if (0..schedules.len()).find(|&j| self.device.runs_stream(j)) != Some(i) =>
                {
                    return FaultStep::Continue;
                }
                FaultKind::Unplug(true) => {
                    self.note(Dir::ToHost, &[], Some("link lost"));
                    self.peripheral.drop_link();
                    self.lock().stats.unplugged = true;
                    return FaultStep::Unplugged;
                }
                FaultKind::Garbage(g) => {
                    // A malformed notification on the same characteristic.
                    let ch = self.device.profile().streams[i].characteristics[0].clone();
                    let uuid = ch
                        .and_then(|n| self.uuids.get(&n).cloned())
                        .unwrap_or_default();
                    let g = g.clone();
                    self.note(Dir::ToHost, &g, Some("garbage"));
                    self.lock().stats.garbage_bytes += g.len() as u64;
                    self.peripheral.notify(&uuid, &g);
                }
                // Applied to the packet itself.
                FaultKind::Corrupt { .. } | FaultKind::Truncate(_) => return FaultStep::Continue,
                FaultKind::OutOfRangeMs(ms) => {
                    let ms = *ms;
                    self.faults.pop_front();
                    self.note(
                        Dir::ToHost,
                        &[],
                        Some(&format!("link lost (out of range for {ms} ms)")),
                    );
                    self.peripheral.drop_link();
                    // A device that loses its central stops streaming; the
                    // host starts it again after reconnecting.
                    self.device.stop_streaming();
                    let state = self.device.state().clone();
                    self.lock().state = state;
                    // Out of range: nothing to send, nobody to hear it.
                    std::thread::sleep(Duration::from_millis(ms));
                    self.note(Dir::ToHost, &[], Some("back in range"));
                    return FaultStep::Wait;
                }
                FaultKind::Unplug(false) | FaultKind::Mute(_) | FaultKind::AdvertiseAfterMs(_) => {}
            }
            self.faults.pop_front();
        }
        FaultStep::Continue
    }

    fn apply_packet_faults(&mut self, index: u64, bytes: &mut Vec<u8>) {
        while let Some((at, kind)) = self.faults.front() {
            if *at != index {
                break;
            }
            match kind {
                FaultKind::Corrupt { offset, xor } => {
                    if let Some(b) = bytes.get_mut(*offset) {
                        *b ^= xor;
                    }
                }
                FaultKind::Truncate(n) => bytes.truncate(*n),
                _ => break,
            }
            self.faults.pop_front();
        }
    }
}

enum FaultStep {
    Continue,
    Wait,
    Unplugged,
}

//! A virtual BLE device: the engine behind a GATT peripheral, with per-stream
//! pacing and the scenario's faults. The peripheral itself is a trait: an
//! in-memory one for fast tests, BlueZ (bluer) for the real daemon.

use crate::commands::render;
use crate::device::{CommandRecord, Device, Output};
use crate::join::{Joiner, Notification};
use crate::notify_frames::NotifyFramer;
use crate::profile::{full_uuid, BleDecl};
use crate::scenario::{Pacing, Scenario};
use crate::schedule::{Packet, Schedule, Step};
use crate::serial::EmulatorStats;
use crate::state::State;
use crate::transcript::{Dir, Transcript};
use std::collections::BTreeMap;
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
    /// The longest notification value the current link carries (its ATT
    /// MTU - 3), where the transport knows it; `None` otherwise. The
    /// emulator sends nothing longer (see [`BleEmulator::too_long`]).
    fn max_notify_len(&self) -> Option<usize> {
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
    /// Notifications not sent for being longer than the link carries, and
    /// the first of them described.
    too_long: (u64, Option<String>),
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
            scenario.device_signals.clone(),
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
            too_long: (0, None),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            uuids: uuid_map(&ble),
            command_uuids: ble
                .services
                .iter()
                .flat_map(|s| s.characteristics.iter())
                .filter(|c| c.commands)
                .map(|c| full_uuid(&c.uuid))
                .collect(),
            replies: ble
                .services
                .iter()
                .flat_map(|s| s.characteristics.iter())
                .find_map(|c| Some((full_uuid(&c.uuid), NotifyFramer::new(c.replies.as_ref()?)))),
            ble,
            device,
            peripheral: peripheral.clone(),
            inner: inner.clone(),
            stop: stop.clone(),
            schedule: Schedule::for_scenario(scenario, opts.pacing),
            joiner: Joiner::new(),
            muted: scenario.muted(),
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

    /// Notifications (replies and garbage included) not sent because the
    /// link's MTU cannot carry them, and the first one described. A real
    /// device cannot send them either, and BlueZ would cut each to fit
    /// without a word, so a trial fails on any.
    pub fn too_long(&self) -> (u64, Option<String>) {
        self.lock().too_long.clone()
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
    /// The characteristic replies are notified on, and how they are cut.
    replies: Option<(String, NotifyFramer)>,
    device: Device,
    peripheral: Arc<dyn Peripheral>,
    inner: Arc<Mutex<Inner>>,
    stop: Arc<AtomicBool>,
    /// When each stream's next notification is due and the faults on them.
    schedule: Schedule,
    /// Packets waiting to be joined into a notification, with their faults.
    joiner: Joiner<Packet>,
    muted: bool,
    started: Instant,
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
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let device = &self.device;
            let wait = self
                .schedule
                .next_due(|i| device.runs_stream(i))
                .map_or(Duration::from_millis(20), |d| {
                    d.saturating_duration_since(now)
                })
                .min(Duration::from_millis(20));
            if let Some((uuid, bytes)) = self.peripheral.recv_write(wait) {
                self.write(&uuid, &bytes);
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
                    self.write(&uuid, &bytes);
                    break;
                }
                'streams: for i in 0..self.schedule.streams() {
                    // The faults before this stream's packet, then the packet.
                    loop {
                        let device = &self.device;
                        let Some(step) = self.schedule.poll(i, now, |j| device.runs_stream(j))
                        else {
                            break;
                        };
                        sent_any = true;
                        match step {
                            Step::Garbage(g) => self.garbage(i, &g),
                            Step::Stall(ms) => {
                                self.note(Dir::ToHost, &[], Some(&format!("stall {ms} ms")));
                                sent_any = false;
                                break 'streams;
                            }
                            Step::Unplug => {
                                self.note(Dir::ToHost, &[], Some("link lost"));
                                self.peripheral.drop_link();
                                self.lock().stats.unplugged = true;
                                return;
                            }
                            Step::OutOfRange(ms) => {
                                self.out_of_range(ms);
                                sent_any = false;
                                break 'streams;
                            }
                            Step::Packet(faults) => {
                                self.send(i, faults);
                                break;
                            }
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
                    self.write(&uuid, &bytes);
                }
            }
        }
    }

    /// Builds stream `i`'s next packet and sends what it completes: the
    /// packet as a notification, or on a characteristic that joins packets
    /// (see [`crate::join`]) the notification it did not fit beside.
    fn send(&mut self, i: usize, faults: Packet) {
        let link_max = self.peripheral.max_notify_len();
        let Some(out) = self.joiner.next_of(&mut self.device, i, link_max, faults) else {
            return;
        };
        self.lock().stats.packets_built += 1;
        for n in out {
            self.send_notification(n);
        }
    }

    /// Sends a notification unless a fault on one of its packets drops it
    /// (a notification is what is lost in the air: all of it); the faults'
    /// corruption and truncation count from its first byte.
    fn send_notification(&mut self, n: Notification<Packet>) {
        let packets = n.tags.len() as u64;
        let mut bytes = n.bytes;
        if n.tags.iter().any(|f| f.dropped) {
            self.note(Dir::ToHost, &bytes, Some("dropped"));
            self.lock().stats.packets_dropped += packets;
            return;
        }
        for f in &n.tags {
            f.apply(&mut bytes);
        }
        let uuid =
            n.ch.as_ref()
                .and_then(|c| self.uuids.get(c))
                .cloned()
                .unwrap_or_default();
        self.note(Dir::ToHost, &bytes, None);
        let Some(delivered) = self.notify(&uuid, &bytes) else {
            return;
        };
        let mut g = self.lock();
        if delivered {
            g.stats.packets_sent += packets;
            g.stats.bytes_to_host += bytes.len() as u64;
        } else {
            g.unsubscribed += 1;
        }
    }

    /// Notifies `reply` as the profile's `replies` framing cuts it.
    fn reply(&mut self, reply: &[u8]) {
        let Some((uuid, framer)) = self.replies.as_mut() else {
            return;
        };
        let uuid = uuid.clone();
        for n in framer.frame(reply) {
            self.note(Dir::ToHost, &n, Some("reply"));
            // A host that never subscribed to the replies (BrainFlow does
            // not) misses them as it would a real device's: not a stream
            // notification lost, so not counted in `unsubscribed`.
            if self.notify(&uuid, &n) == Some(true) {
                self.lock().stats.bytes_to_host += n.len() as u64;
            }
        }
    }

    /// A malformed notification on stream `i`'s characteristic.
    fn garbage(&mut self, i: usize, g: &[u8]) {
        let ch = self.device.profile().streams[i].characteristics[0].clone();
        let uuid = ch
            .and_then(|n| self.uuids.get(&n).cloned())
            .unwrap_or_default();
        self.note(Dir::ToHost, g, Some("garbage"));
        self.lock().stats.garbage_bytes += g.len() as u64;
        self.notify(&uuid, g);
    }

    /// Notifies `value` on `uuid` if the link can carry it: whether a
    /// subscribed central gets it, or `None` if it is too long (not sent;
    /// counted in `too_long`).
    fn notify(&mut self, uuid: &str, value: &[u8]) -> Option<bool> {
        if let Some(max) = self.peripheral.max_notify_len() {
            if value.len() > max {
                let mut g = self.lock();
                g.too_long.0 += 1;
                g.too_long.1.get_or_insert_with(|| {
                    format!(
                        "a notification of {} bytes on {uuid}, where the link's MTU \
                         carries at most {max}: a real device cannot send it",
                        value.len()
                    )
                });
                return None;
            }
        }
        Some(self.peripheral.notify(uuid, value))
    }

    /// The device goes out of range for `ms` milliseconds.
    fn out_of_range(&mut self, ms: u64) {
        self.note(
            Dir::ToHost,
            &[],
            Some(&format!("link lost (out of range for {ms} ms)")),
        );
        self.peripheral.drop_link();
        // A device that loses its central stops streaming; the host starts it
        // again after reconnecting.
        self.device.stop_streaming();
        self.joiner.clear();
        let state = self.device.state().clone();
        self.lock().state = state;
        // Out of range: nothing to send, nobody to hear it.
        std::thread::sleep(Duration::from_millis(ms));
        self.note(Dir::ToHost, &[], Some("back in range"));
    }

    /// Handles one write, then counts it (see [`BleEmulator::settle`]: a
    /// counted write's commands are recorded).
    fn write(&mut self, uuid: &str, bytes: &[u8]) {
        self.handle_write(uuid, bytes);
        let mut g = self.lock();
        g.last_write = Some(Instant::now());
        g.writes_handled += 1;
    }

    fn handle_write(&mut self, uuid: &str, bytes: &[u8]) {
        self.note(Dir::ToDevice, bytes, None);
        self.lock().stats.bytes_from_host += bytes.len() as u64;
        if self.muted || !self.command_uuids.iter().any(|u| u == uuid) {
            return;
        }
        let now = self.started.elapsed();
        for o in self.device.feed_at(bytes, Some(now)) {
            match o {
                // Replies go out on the characteristic that declares
                // `replies`; a device without one answers nothing.
                Output::Reply(reply) => self.reply(&reply),
                Output::StreamStarted => {
                    let device = &self.device;
                    let rates =
                        (0..device.profile().streams.len()).map(|i| device.stream_packet_rate(i));
                    self.schedule.start(Instant::now(), rates);
                    // Counts from 0 again, as the device's packet index does.
                    self.joiner.clear();
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
}

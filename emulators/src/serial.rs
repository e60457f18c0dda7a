//! A virtual serial device: the engine behind a pseudo-terminal, with pacing and
//! the scenario's faults.

use crate::device::{CommandRecord, Device, Output};
use crate::pty::Pty;
use crate::pty::{FLUSHREAD, FLUSHWRITE};
use crate::scenario::{Pacing, Scenario};
use crate::schedule::{Schedule, Step};
use crate::state::State;
use crate::transcript::{Dir, Transcript};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Options that are not part of a scenario.
#[derive(Debug, Clone)]
pub struct SerialOptions {
    /// Overrides the scenario's pacing.
    pub pacing: Option<Pacing>,
    /// Device bytes kept in the transcript.
    pub transcript_limit: usize,
    /// Record when each packet was written (for latency benchmarks).
    pub record_write_times: bool,
}

impl Default for SerialOptions {
    fn default() -> Self {
        SerialOptions {
            pacing: None,
            transcript_limit: 256 * 1024,
            record_write_times: false,
        }
    }
}

/// Counters of what the emulator did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmulatorStats {
    /// Packets built (sent or dropped).
    pub packets_built: u64,
    /// Packets whose last byte has been written to the host.
    pub packets_sent: u64,
    /// Packets dropped by faults.
    pub packets_dropped: u64,
    /// Packets discarded by a flush of the host's input queue (`tcflush`):
    /// they fell due before the emulator saw the flush, so a real device had
    /// sent them and the flush discarded them (see [`SerialEmulator`]).
    pub packets_flushed: u64,
    /// Garbage bytes injected.
    pub garbage_bytes: u64,
    /// Bytes written to the host.
    pub bytes_to_host: u64,
    /// Bytes read from the host.
    pub bytes_from_host: u64,
    /// Streams started.
    pub streams: u64,
    /// The device was unplugged.
    pub unplugged: bool,
}

#[derive(Debug)]
struct Shared {
    stop: AtomicBool,
    /// Loop turns completed; each turn reads everything the host has written.
    turns: std::sync::atomic::AtomicU64,
    inner: Mutex<Inner>,
    hold: Mutex<HoldState>,
    held: Condvar,
}

/// Where [`SerialEmulator::hold_after_next_input`] stops the emulator's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldAt {
    /// Before it builds packets: what fell due before the host's bytes is
    /// written, nothing due later is built.
    BeforeBuild,
    /// After its last look at the host, before it writes what it built: the
    /// one gap no pty call closes (see [`SerialEmulator`]).
    BeforeWrite,
}

/// Where [`SerialEmulator::hold_after_next_input`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HoldState {
    Off,
    /// Waiting for bytes from the host.
    Armed(HoldAt),
    /// The thread has handled bytes from the host since it was armed, and
    /// stops at its next hold point of this kind.
    InputSeen(HoldAt),
    /// The thread is stopped until the [`Hold`] is dropped.
    Held,
}

#[derive(Debug)]
struct Inner {
    stats: EmulatorStats,
    commands: Vec<CommandRecord>,
    state: State,
    transcript: Transcript,
    write_times: Vec<(u64, Instant)>,
    error: Option<String>,
}

/// A running virtual serial device.
///
/// Its timeline follows a real device behind a USB dongle, although its thread
/// only learns what the host did when it runs: before it writes packets that
/// fell due while it was not running (a busy machine can hold it back for
/// several milliseconds), it reads what the host did meanwhile. Packets due
/// before a flush of the host's input queue (`tcflush`, seen through the
/// pty's packet mode) are discarded with it, as the real port discards what
/// the device had sent, so no catch-up burst reaches a host that flushed (or
/// released, reopened and flushed) in the meantime.
///
/// One gap is left between the thread's last look at the host and its write
/// (no pty call writes only if the other side has not flushed): a host that
/// flushes inside it receives bytes that were due before its flush. The
/// thread sees that flush on its next look, before it reads what the host
/// sent after it, and then flushes the host's input queue itself: everything
/// still there was due before the flush, so a real port would have discarded
/// it. (At max pacing this gap held 2 KiB of packets, which pushed a
/// reopened host's banner past BrainFlow's 500-byte handshake window.)
pub struct SerialEmulator {
    path: PathBuf,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SerialEmulator {
    /// Opens a pseudo-terminal and starts playing `scenario`'s device on it.
    pub fn spawn(scenario: &Scenario, opts: SerialOptions) -> io::Result<SerialEmulator> {
        let pty = Pty::open()?;
        let path = pty.path.clone();
        // Every device needs to see the host's flushes: an autostart device
        // (re)starts its stream there, and any device's output due before a
        // flush is discarded by it.
        pty.packet_mode()?;
        let device = Device::new(
            scenario.profile.clone(),
            scenario.device_signals.clone(),
            scenario.initial_state.clone(),
        );
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            turns: std::sync::atomic::AtomicU64::new(0),
            inner: Mutex::new(Inner {
                stats: EmulatorStats::default(),
                commands: Vec::new(),
                state: device.state().clone(),
                transcript: Transcript::new(opts.transcript_limit),
                write_times: Vec::new(),
                error: None,
            }),
            hold: Mutex::new(HoldState::Off),
            held: Condvar::new(),
        });
        let worker = Worker {
            pty: Some(pty),
            device,
            shared: shared.clone(),
            schedule: Schedule::for_scenario(scenario, opts.pacing),
            muted: scenario.muted(),
            own_flush: false,
            record_write_times: opts.record_write_times,
            started: Instant::now(),
            packet: Vec::new(),
            delivery: scenario
                .decl
                .realistic
                .as_ref()
                .and_then(|r| r.delivery_ms)
                .map(|ms| (Duration::from_millis(ms), Instant::now())),
        };
        let thread = std::thread::Builder::new()
            .name(format!("emulate {}", scenario.name))
            .spawn(move || worker.run())?;
        Ok(SerialEmulator {
            path,
            shared,
            thread: Some(thread),
        })
    }

    /// The port path programs open.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters so far.
    pub fn stats(&self) -> EmulatorStats {
        self.lock().stats.clone()
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

    /// (stream packet index, time its last byte was written) of each packet, if
    /// recorded.
    pub fn take_write_times(&self) -> Vec<(u64, Instant)> {
        std::mem::take(&mut self.lock().write_times)
    }

    /// An I/O error that ended the emulator, if any.
    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }

    /// Whether the emulator has ended (unplugged or failed).
    pub fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Waits until the emulator has read everything the host wrote so far (two
    /// loop turns), so commands and state can be inspected without racing it.
    pub fn settle(&self) {
        let start = self.shared.turns.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(1);
        while self.shared.turns.load(Ordering::SeqCst) < start + 2
            && !self.finished()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Stops the emulator's thread once it has handled bytes the host writes
    /// after this call, at its next point `at`, until the returned [`Hold`]
    /// is dropped: what a busy machine's scheduler does to it at random, made
    /// deterministic, so tests can place host actions (stop, reopen, flush)
    /// inside that gap and check what the host receives afterwards.
    pub fn hold_after_next_input(&self, at: HoldAt) -> Hold<'_> {
        *lock_hold(&self.shared) = HoldState::Armed(at);
        Hold {
            shared: &self.shared,
        }
    }

    /// Stops the emulator and removes the port.
    pub fn stop(mut self) -> EmulatorStats {
        self.halt();
        self.stats()
    }

    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic in the worker must not hide the data gathered so far.
        self.shared.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for SerialEmulator {
    fn drop(&mut self) {
        self.halt();
    }
}

fn lock_hold(shared: &Shared) -> std::sync::MutexGuard<'_, HoldState> {
    shared.hold.lock().unwrap_or_else(|p| p.into_inner())
}

/// The emulator's thread held by [`SerialEmulator::hold_after_next_input`];
/// dropping it lets the thread go on. It borrows the emulator, so the
/// emulator cannot be stopped (joined) while its thread is held.
pub struct Hold<'a> {
    shared: &'a Shared,
}

impl Hold<'_> {
    /// Waits until the thread has stopped at the hold point (it has handled
    /// the host's bytes); false if that did not happen within `timeout`.
    pub fn wait_held(&self, timeout: Duration) -> bool {
        let g = lock_hold(self.shared);
        let (g, _) = self
            .shared
            .held
            .wait_timeout_while(g, timeout, |s| *s != HoldState::Held)
            .unwrap_or_else(|p| p.into_inner());
        *g == HoldState::Held
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        *lock_hold(self.shared) = HoldState::Off;
        self.shared.held.notify_all();
    }
}

struct Worker {
    pty: Option<Pty>,
    device: Device,
    shared: Arc<Shared>,
    /// When packets are due and the faults on them (the device's one stream
    /// is stream 0).
    schedule: Schedule,
    muted: bool,
    /// This thread flushed the host's input queue; the status that flush
    /// sets is not the host's.
    own_flush: bool,
    record_write_times: bool,
    started: Instant,
    /// The packet being built, reused.
    packet: Vec<u8>,
    /// `realistic.delivery_ms`: the period at which bytes reach the host, and
    /// when they next do (an FTDI adapter's latency timer: the host gets what
    /// gathered since the last tick, at once).
    delivery: Option<(Duration, Instant)>,
}

/// Bytes waiting for the host, and where the packets among them end: a packet
/// counts as sent (and is time-stamped) when its last byte has been written,
/// not when it is queued.
#[derive(Default)]
struct Outbox {
    bytes: VecDeque<u8>,
    queued: u64,
    written: u64,
    /// (`queued` just after a packet's last byte, stream packet index)
    marks: VecDeque<(u64, u64)>,
}

impl Outbox {
    fn push(&mut self, b: &[u8]) {
        self.bytes.extend(b);
        self.queued += b.len() as u64;
    }

    fn push_packet(&mut self, b: &[u8], index: u64) {
        self.push(b);
        self.marks.push_back((self.queued, index));
    }

    fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Forgets the bytes not written yet; returns how many packets ended
    /// among them.
    fn discard(&mut self) -> u64 {
        let packets = self.marks.len() as u64;
        self.bytes.clear();
        self.marks.clear();
        self.queued = self.written;
        packets
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Bytes queued for the host before the engine stops building packets, so that
/// `max` pacing follows the reader and commands are still read while it lags.
const HIGH_WATER: usize = 2048;

/// Bytes written between two looks at the host: what a host that flushes in
/// the gap before a write (see [`SerialEmulator`]) can receive after its flush
/// if it reads before the next look. A real device has about as much in
/// flight (a Cyton's dongle holds 16 ms of packets, 132 bytes, for the FTDI
/// latency timer); a whole `HIGH_WATER` queue written at once put 2 KiB there,
/// past BrainFlow's 500-byte handshake window for `$$$` (2 of 30 runs of the
/// timeline test, with the emulator's own flush already in place).
const WRITE_CHUNK: usize = 256;

impl Worker {
    fn run(mut self) {
        if let Err(e) = self.serve() {
            self.lock().error = Some(e.to_string());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note(&self, dir: Dir, bytes: &[u8], note: Option<&str>) {
        let at = self.started.elapsed();
        self.lock().transcript.record(at, dir, bytes, note);
    }

    fn serve(&mut self) -> io::Result<()> {
        let mut out = Outbox::default();
        while !self.shared.stop.load(Ordering::Relaxed) {
            let Some(pty) = self.pty.as_mut() else {
                return Ok(());
            };
            // When the next packet is due, unless none is (not streaming, or
            // the limit reached) or the host's queue is full.
            let due = self
                .schedule
                .next_due(|i| self.device.runs_stream(i))
                .filter(|_| out.len() < HIGH_WATER);
            let now = Instant::now();
            // Bytes waiting for the adapter's next tick (`delivery_ms`).
            let held = self
                .delivery
                .filter(|(_, at)| !out.is_empty() && now < *at)
                .map(|(_, at)| at);
            let wait = due
                .into_iter()
                .chain(held)
                .min()
                .map_or(Duration::from_millis(20), |d| {
                    d.saturating_duration_since(now)
                });
            let mut flags = PollFlags::POLLIN;
            if !out.is_empty() && held.is_none() {
                flags |= PollFlags::POLLOUT;
            }
            if (out.is_empty() || held.is_some())
                && (due.is_some() || held.is_some())
                && !wait.is_zero()
                && wait < Duration::from_millis(1)
            {
                // poll() counts whole milliseconds; sleeping the last fraction keeps
                // the pace exact without spinning on poll(0).
                std::thread::sleep(wait);
                continue;
            }
            {
                let mut fds = [PollFd::new(pty.master.as_fd(), flags)];
                let ms = wait.as_millis().min(20) as u16;
                match poll(&mut fds, PollTimeout::from(ms)) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            // What the host did while this thread waited or was not running
            // comes first: a flush discards what fell due before it.
            self.take_host_events(&mut out)?;
            self.hold_point(HoldAt::BeforeBuild);
            self.produce(&mut out, None)?;
            // And once more right before writing, for what the host did while
            // the packets were built, so that only the write itself is left
            // between seeing no flush and the bytes reaching the host's queue.
            // A flush inside that gap is undone on the next look (see
            // `host_flushed`).
            // The queue goes out a chunk at a time, each after its own look,
            // without a poll between chunks while the pty takes them; with
            // `delivery_ms`, only at the adapter's ticks.
            if !self.delivery_tick() {
                self.shared.turns.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            loop {
                self.take_host_events(&mut out)?;
                self.hold_point(HoldAt::BeforeWrite);
                if !self.write_out(&mut out)? || out.is_empty() {
                    break;
                }
            }
            self.shared.turns.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Whether bytes may go to the host now: always, unless `delivery_ms`
    /// holds them until the adapter's next tick; at a tick, the next one is
    /// set (ticks keep their period whether or not bytes were waiting).
    fn delivery_tick(&mut self) -> bool {
        let Some((period, at)) = self.delivery.as_mut() else {
            return true;
        };
        let now = Instant::now();
        if now < *at {
            return false;
        }
        while *at <= now {
            *at += *period;
        }
        true
    }

    /// Handles everything the host has written or done so far.
    fn take_host_events(&mut self, out: &mut Outbox) -> io::Result<()> {
        loop {
            let (mut flags, bytes) = self.read_host()?;
            if std::mem::take(&mut self.own_flush) {
                // The status of our own flush, set before it returned, so it
                // is in this read; a host flush merged into it came after
                // ours, when nothing of ours was left in its queue to discard.
                flags &= !FLUSHREAD;
            }
            if flags == 0 && bytes.is_empty() {
                return Ok(());
            }
            // The kernel does not order a flush against the host's bytes: a read
            // that waits for bytes still in the tty's flip buffer returns those
            // written after a flush whose status only the next read reports (a
            // stress run read `bsv`, then the flush made before that `v`). A
            // host flushes before it writes a command, never between a command
            // and its reply, and on a real link a reply comes after any flush
            // made while the command was on its way (a USB frame alone takes
            // 1 ms), so the flush is applied first.
            if flags != 0 {
                self.host_flushed(flags, out)?;
            }
            if !bytes.is_empty() {
                self.host_bytes(&bytes, out);
                let mut hold = lock_hold(&self.shared);
                if let HoldState::Armed(at) = *hold {
                    *hold = HoldState::InputSeen(at);
                }
            }
        }
    }

    /// Reads what is readable now: the host's flushes (the pty is in packet
    /// mode: a read returns either a status byte or 0 and data) and its bytes.
    fn read_host(&mut self) -> io::Result<(u8, Vec<u8>)> {
        let mut buf = [0u8; 4096];
        let mut flags = 0u8;
        let mut bytes = Vec::new();
        while let Some(pty) = self.pty.as_mut() {
            match pty.master.read(&mut buf) {
                Ok(0) => break,
                Ok(_) if buf[0] != 0 => flags |= buf[0],
                Ok(n) => bytes.extend_from_slice(&buf[1..n]),
                Err(e) if would_block(&e) => break,
                Err(e) => return Err(e),
            }
        }
        Ok((flags, bytes))
    }

    /// Stops here while a test holds the thread at `at` (see
    /// [`SerialEmulator::hold_after_next_input`]).
    fn hold_point(&self, at: HoldAt) {
        let mut g = lock_hold(&self.shared);
        if *g != HoldState::InputSeen(at) {
            return;
        }
        *g = HoldState::Held;
        self.shared.held.notify_all();
        while *g == HoldState::Held {
            g = self.shared.held.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The host flushed its input or output queue (packet-mode status `flags`).
    fn host_flushed(&mut self, flags: u8, out: &mut Outbox) -> io::Result<()> {
        if flags & (FLUSHREAD | FLUSHWRITE) == 0 || self.muted {
            return Ok(());
        }
        if flags & FLUSHREAD != 0 {
            // Whatever of ours is still in the host's queue was written
            // before this look, so it was due before this flush, which the
            // last look did not see yet: a real port discarded it. What the
            // host sent after its flush is handled after this (see
            // `take_host_events`), so no reply is lost.
            if let Some(pty) = self.pty.as_ref() {
                pty.discard_unread()?;
                self.own_flush = true;
            }
        }
        if self.device.autostart() {
            self.note(Dir::ToDevice, &[], Some("host flushed: stream (re)starts"));
            // Bytes not yet written would reach the host after its flush:
            // they belong to the discarded stream.
            out.discard();
            // The host discarded everything so far: replay the scenario from
            // its first packet, faults included. BrainFlow flushes at prepare
            // and again at start, often within a millisecond; packets written
            // in between land after the host's second flush (it notices before
            // we do). A short quiet start lets both flushes arrive first
            // (250 ms covers a loaded machine), so the host counts from packet 0.
            let first_due = Instant::now() + Duration::from_millis(250);
            self.schedule
                .restart(first_due, [self.device.packet_rate()]);
            let mut g = self.lock();
            g.stats.streams += 1;
            g.state = self.device.state().clone();
            return Ok(());
        }
        if flags & FLUSHREAD == 0 {
            // Only the host's own unsent bytes were discarded.
            return Ok(());
        }
        // The flush happened at some moment since this thread last looked, and
        // discards every byte the device had sent by then. Queued bytes were
        // sent already (they wait here only while the host's queue is full),
        // and so were the packets that fell due before this thread saw the
        // flush: a real device sent them on time, this thread was just not
        // running. In a failing stress run it was held back 45 ms after a `b`
        // (at 2000 packets/s, 63 packets queued) while the host stopped,
        // reopened, flushed and sent `v`; written after the flush, they pushed
        // the banner past BrainFlow's 500-byte handshake window.
        let queued = out.discard();
        let mut void = Outbox::default();
        self.produce(&mut void, Some(Instant::now()))?;
        let n = queued + void.discard();
        let note = if n == 0 {
            "host flushed its input".to_string()
        } else {
            format!("host flushed its input: {n} packets sent before it discarded")
        };
        self.note(Dir::ToDevice, &[], Some(&note));
        self.lock().stats.packets_flushed += n;
        Ok(())
    }

    fn host_bytes(&mut self, bytes: &[u8], out: &mut Outbox) {
        self.note(Dir::ToDevice, bytes, None);
        let inner_stats = |s: &mut EmulatorStats| s.bytes_from_host += bytes.len() as u64;
        inner_stats(&mut self.lock().stats);
        if self.muted {
            return;
        }
        let now = self.started.elapsed();
        for o in self.device.feed_at(bytes, Some(now)) {
            match o {
                Output::Reply(r) => {
                    self.note(Dir::ToHost, &r, Some("reply"));
                    out.push(&r);
                }
                Output::StreamStarted => {
                    self.schedule
                        .start(Instant::now(), [self.device.packet_rate()]);
                    self.lock().stats.streams += 1;
                }
                Output::StreamStopped => {}
            }
        }
        let mut g = self.lock();
        g.commands = self.device.commands().to_vec();
        g.state = self.device.state().clone();
    }

    /// Writes up to [`WRITE_CHUNK`] bytes of `out`; false if the pty took
    /// less (it is full, or gone).
    fn write_out(&mut self, out: &mut Outbox) -> io::Result<bool> {
        let Some(pty) = self.pty.as_mut() else {
            *out = Outbox::default();
            return Ok(false);
        };
        let mut chunk_left = WRITE_CHUNK;
        let mut took_all = true;
        while !out.is_empty() && chunk_left > 0 {
            let (a, _) = out.bytes.as_slices();
            let a = &a[..a.len().min(chunk_left)];
            match pty.master.write(a) {
                Ok(0) => {
                    took_all = false;
                    break;
                }
                Ok(n) => {
                    out.bytes.drain(..n);
                    out.written += n as u64;
                    chunk_left -= n;
                }
                Err(e) if would_block(&e) => {
                    took_all = false;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let now = Instant::now();
        let mut g = self.shared.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.stats.bytes_to_host = out.written;
        while out.marks.front().is_some_and(|m| m.0 <= out.written) {
            let (_, index) = out.marks.pop_front().expect("checked");
            g.stats.packets_sent += 1;
            if self.record_write_times {
                g.write_times.push((index, now));
            }
        }
        Ok(took_all)
    }

    /// Writes what is queued and waits (up to 2 s) until the host has read it, so
    /// the device vanishes after exactly the packets before the fault; a real
    /// unplug would lose what was in flight, which no test can count on.
    fn drain_before_unplug(&mut self, out: &mut Outbox) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(2);
        // FIONREAD counts only the line discipline's buffer (at most 4095 bytes), not
        // bytes still in the tty layer's flip buffer waiting for room, which a
        // kernel worker moves over later (measured: 0 right after a write, 4095
        // once pushed). So "nothing unread" must hold for a while; 200 ms covers
        // a loaded machine.
        let mut empty_since: Option<Instant> = None;
        while Instant::now() < deadline && !self.shared.stop.load(Ordering::Relaxed) {
            self.write_out(out)?;
            let unread = self.pty.as_ref().map_or(Ok(0), |p| p.unread())?;
            if out.is_empty() && unread == 0 {
                let since = *empty_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= Duration::from_millis(200) {
                    break;
                }
            } else {
                empty_since = None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }

    /// Builds the packets that are due into `out`. With `flushed_at`, builds
    /// those due by then as the host's flush discards them: the stream and its
    /// faults advance as on the device, and nothing is written.
    fn produce(&mut self, out: &mut Outbox, flushed_at: Option<Instant>) -> io::Result<()> {
        let mut tally = Tally::default();
        let res = self.build(out, flushed_at, &mut tally);
        self.publish(&mut tally);
        res
    }

    /// Adds `tally` to the stats (counted per turn rather than under the lock
    /// per packet) and zeroes it.
    fn publish(&self, tally: &mut Tally) {
        let t = std::mem::take(tally);
        let mut g = self.lock();
        g.stats.packets_built += t.built;
        g.stats.packets_dropped += t.dropped;
    }

    fn build(
        &mut self,
        out: &mut Outbox,
        flushed_at: Option<Instant>,
        tally: &mut Tally,
    ) -> io::Result<()> {
        loop {
            if (flushed_at.is_none() && out.len() >= HIGH_WATER) || self.pty.is_none() {
                return Ok(());
            }
            if flushed_at.is_some() && self.schedule.follows_reader() {
                // `max` pacing has no due times: packets follow the reader.
                return Ok(());
            }
            let now = flushed_at.unwrap_or_else(Instant::now);
            let device = &self.device;
            let Some(step) = self.schedule.poll(0, now, |i| device.runs_stream(i)) else {
                return Ok(());
            };
            match step {
                Step::Garbage(g) => {
                    let note = match flushed_at {
                        Some(_) => "garbage, flushed by host",
                        None => "garbage",
                    };
                    self.note(Dir::ToHost, &g, Some(note));
                    self.lock().stats.garbage_bytes += g.len() as u64;
                    out.push(&g);
                }
                Step::Stall(ms) => {
                    self.note(Dir::ToHost, &[], Some(&format!("stall {ms} ms")));
                    return Ok(());
                }
                Step::Unplug if flushed_at.is_some() => {
                    // The unplug waits for the host to read what came before
                    // it: the schedule keeps it for the next turn.
                    return Ok(());
                }
                Step::Unplug => {
                    self.note(Dir::ToHost, &[], Some("unplug"));
                    // Counted before the port vanishes, as a host sees it.
                    self.publish(tally);
                    self.drain_before_unplug(out)?;
                    // Closing both sides makes the port vanish: the host's next read fails.
                    self.pty = None;
                    self.lock().stats.unplugged = true;
                    return Ok(());
                }
                // A BLE fault (refused at load for serial devices).
                Step::OutOfRange(_) => {}
                Step::Packet(faults) => {
                    let index = self.device.packet_index();
                    // One buffer for every packet: building one allocates nothing.
                    let mut pkt = std::mem::take(&mut self.packet);
                    pkt.clear();
                    if self.device.next_packet_into(0, &mut pkt).is_none() {
                        self.packet = pkt;
                        return Ok(());
                    }
                    if faults.dropped {
                        self.note(Dir::ToHost, &pkt, Some("dropped"));
                    } else {
                        faults.apply(&mut pkt);
                        let note = match (faults.corrupt.is_empty(), faults.truncate, flushed_at) {
                            (false, _, _) => Some("corrupted"),
                            (_, Some(_), _) => Some("truncated"),
                            (_, _, Some(_)) => Some("flushed by host"),
                            _ => None,
                        };
                        self.note(Dir::ToHost, &pkt, note);
                        out.push_packet(&pkt, index);
                    }
                    self.packet = pkt;
                    tally.built += 1;
                    tally.dropped += u64::from(faults.dropped);
                }
            }
        }
    }
}

/// Packets built and dropped during one [`Worker::produce`].
#[derive(Default)]
struct Tally {
    built: u64,
    dropped: u64,
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

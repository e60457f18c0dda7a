//! Replaying a serial recording as a device: a pseudo-terminal that answers
//! the host's writes as recorded, keeps the recorded timing (or a multiple of
//! it), and reports where the host deviates from the recording.
//!
//! Timing: the device's transfers are due at their recorded offset from the
//! host write before them, measured from when that write reaches the replay
//! (divided by the speed). The host sets the pace of a session (when it
//! starts and stops a stream); the recording sets the device's pace within
//! it, with no drift accumulating over a long stream.
//!
//! A recorded flush (`f`) is a host action too: the replay waits for the
//! host's flush there, and times the device's transfers after it from it.
//!
//! Matching: the host's bytes are matched against the recorded writes as one
//! byte stream, so a write the host splits or merges differently from the
//! recording still matches. A host that writes the next recorded command
//! before the device transfers recorded ahead of it were sent (it stops a
//! stream sooner than in the recording) skips those transfers: the device
//! would not have sent them after the command. Bytes that match no recorded
//! write are a deviation: reported, and the replay resumes at the next
//! recorded write they match, if any.

use crate::pty::Pty;
use crate::recording::{Op, Recording};
use nix::poll::{ppoll, PollFd, PollFlags};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a recording is played back.
#[derive(Debug, Clone, Copy)]
pub struct ReplayOptions {
    /// Multiple of the recorded speed: 1 keeps the recorded timing, 10 plays
    /// ten times faster, infinity as fast as the host reads.
    pub speed: f64,
}

impl ReplayOptions {
    /// An error unless the speed is above 0 (NaN is not).
    pub fn check(&self) -> io::Result<()> {
        if self.speed.is_nan() || self.speed <= 0.0 {
            return Err(io::Error::other(format!(
                "speed {}: must be above 0",
                self.speed
            )));
        }
        Ok(())
    }
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions { speed: 1.0 }
    }
}

/// What a replay did so far.
#[derive(Debug, Clone, Default)]
pub struct ReplayStats {
    /// Device transfers sent.
    pub sent: u64,
    /// Device transfers not sent because the host wrote the next recorded
    /// command before they were due.
    pub skipped: u64,
    /// Recorded host writes matched.
    pub matched_writes: u64,
    /// BLE: notifications not delivered because the host was not
    /// subscribed.
    pub undelivered: u64,
    /// Per sent transfer: microseconds between when it was due and when the
    /// host's port took it.
    pub late_us: Vec<u32>,
    /// Where the host deviated from the recording, in order.
    pub deviations: Vec<String>,
    /// Whether every transfer of the recording has been played.
    pub at_end: bool,
    /// The error that ended the replay, if one did.
    pub error: Option<String>,
}

impl ReplayStats {
    /// The `q` quantile (0..=1) of [`ReplayStats::late_us`], in µs.
    pub fn late_quantile(&self, q: f64) -> Option<u32> {
        crate::running::quantile_us(&self.late_us, q)
    }
}

/// A replay's thread, serial or BLE.
pub(crate) type Running = crate::running::Running<ReplayStats>;

impl Running {
    /// One line saying what the replay did (`sent`: what its device
    /// transfers are), for a trial's artifacts.
    pub(crate) fn summary(&self, sent: &str) -> String {
        let s = self.stats();
        let undelivered = match s.undelivered {
            0 => String::new(),
            n => format!(", {n} undelivered"),
        };
        format!(
            "replay: {} {sent} sent{undelivered}, {} skipped, {} host writes matched, late p50 {} µs p99 {} µs, {} deviations\n",
            s.sent,
            s.skipped,
            s.matched_writes,
            s.late_quantile(0.5).unwrap_or(0),
            s.late_quantile(0.99).unwrap_or(0),
            s.deviations.len()
        )
    }
}

/// A recording played as a device on a pseudo-terminal; dropping it stops it.
pub struct ReplayEmulator {
    path: PathBuf,
    run: Running,
}

impl ReplayEmulator {
    /// Opens a pseudo-terminal and starts playing `rec` on it. Only serial
    /// recordings (`@transport serial`, or none) can be replayed this way.
    pub fn spawn(rec: Recording, opts: ReplayOptions) -> io::Result<ReplayEmulator> {
        if let Some(t) = rec.get("transport").filter(|t| *t != "serial") {
            return Err(io::Error::other(format!(
                "a `{t}` recording cannot be replayed on a serial port"
            )));
        }
        opts.check()?;
        let pty = Pty::open()?;
        // To see the host's flushes (recorded as `f`).
        pty.packet_mode()?;
        let path = pty.path.clone();
        let run = Running::spawn("replay", move |stop, stats| {
            let mut p = Player::new(pty, rec, opts, stats.clone());
            if let Err(e) = p.run(stop) {
                lock(&stats).error = Some(e.to_string());
            }
        })?;
        Ok(ReplayEmulator { path, run })
    }

    /// Loads a recording file and plays it (see [`ReplayEmulator::spawn`]).
    pub fn load(path: &Path, opts: ReplayOptions) -> io::Result<ReplayEmulator> {
        let rec = Recording::load(path).map_err(|e| io::Error::other(e.to_string()))?;
        ReplayEmulator::spawn(rec, opts)
    }

    /// The port path programs open.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the replay did so far.
    pub fn stats(&self) -> ReplayStats {
        self.run.stats()
    }

    /// One line saying what the replay did, for a trial's artifacts.
    pub fn summary(&self) -> String {
        self.run.summary("transfers")
    }

    /// Stops the replay and removes the port.
    pub fn stop(mut self) -> ReplayStats {
        self.run.halt()
    }
}

pub(crate) use crate::running::lock;

/// Bytes shown of a write in a deviation message.
fn show(bytes: &[u8]) -> String {
    let s: String = bytes
        .iter()
        .take(40)
        .flat_map(|b| b.escape_ascii())
        .map(char::from)
        .collect();
    if bytes.len() > 40 {
        format!("\"{s}…\" ({} bytes)", bytes.len())
    } else {
        format!("\"{s}\"")
    }
}

/// The transport-independent part of a replay: where the recording stands,
/// when its device events are due, and how the host's writes match the
/// recorded ones (serial: as one byte stream; BLE: write by write, on the
/// characteristic recorded). The serial and BLE players drive it.
pub(crate) struct Script {
    pub(crate) rec: Recording,
    speed: f64,
    pub(crate) stats: Arc<Mutex<ReplayStats>>,
    /// The GATT table's names (BLE), for deviation messages.
    names: Vec<String>,
    /// The next event to play or match.
    next: usize,
    /// (recorded time, real time) the device's events are timed from.
    anchor: (Duration, Instant),
}

impl Script {
    pub(crate) fn new(rec: Recording, opts: ReplayOptions, stats: Arc<Mutex<ReplayStats>>) -> Self {
        let names = rec
            .gatt()
            .map(|t| t.into_iter().map(|c| c.name).collect())
            .unwrap_or_default();
        Script {
            rec,
            speed: opts.speed,
            stats,
            names,
            next: 0,
            anchor: (Duration::ZERO, Instant::now()),
        }
    }

    fn due(&self, at: Duration) -> Instant {
        let rel = at.saturating_sub(self.anchor.0).as_secs_f64() / self.speed;
        if rel.is_finite() {
            self.anchor.1 + Duration::from_secs_f64(rel)
        } else {
            self.anchor.1
        }
    }

    /// The next event if the device plays it (not a host write), and when
    /// it is due.
    pub(crate) fn upcoming(&self) -> Option<(usize, Instant)> {
        let ev = self.rec.events.get(self.next)?;
        // A recorded flush is the host's to make, as a write is.
        (!ev.op.is_host_write() && ev.op != Op::Flush).then(|| (self.next, self.due(ev.at)))
    }

    /// The next event if it is due by `now` (see [`Script::upcoming`]);
    /// taking it moves past it.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(usize, Instant)> {
        let (i, due) = self.upcoming().filter(|(_, due)| *due <= now)?;
        self.next += 1;
        Some((i, due))
    }

    /// How long until the next device event is due, at most `cap`.
    pub(crate) fn wait(&self, cap: Duration) -> Duration {
        self.upcoming().map_or(cap, |(_, due)| {
            cap.min(due.saturating_duration_since(Instant::now()))
        })
    }

    /// Whether every event has been played or matched.
    pub(crate) fn played_all(&self) -> bool {
        self.next >= self.rec.events.len()
    }

    /// The index of the next event (to play or match).
    pub(crate) fn position(&self) -> usize {
        self.next
    }

    /// Counts a device transfer sent, `due` when it was due.
    pub(crate) fn sent(&self, due: Instant) {
        let late = Instant::now().saturating_duration_since(due);
        let mut s = lock(&self.stats);
        s.sent += 1;
        s.late_us
            .push(late.as_micros().min(u32::MAX as u128) as u32);
    }

    /// The host flushed its serial port. If the recording has that flush
    /// before its next write, it is matched there (a device that streams on
    /// its own started at it) and times what follows; true then. A flush the
    /// recording does not have changes nothing a device sends, so it is no
    /// deviation.
    pub(crate) fn host_flushed(&mut self, now: Instant) -> bool {
        let upto = self.next_write(self.next).unwrap_or(self.rec.events.len());
        match (self.next..upto).find(|&j| self.rec.events[j].op == Op::Flush) {
            Some(j) => {
                self.take(j, now);
                true
            }
            None => false,
        }
    }

    /// The next recorded write at or after `from`.
    fn next_write(&self, from: usize) -> Option<usize> {
        (from..self.rec.events.len()).find(|&j| self.rec.events[j].op.is_host_write())
    }

    /// ` to `NAME`` for a BLE characteristic, nothing for serial.
    fn to(&self, c: Option<u16>) -> String {
        c.map(|c| {
            let name = self.names.get(c as usize).cloned();
            format!(" to `{}`", name.unwrap_or_else(|| format!("#{c}")))
        })
        .unwrap_or_default()
    }

    /// Matches the host's writes so far against the recorded ones. Serial
    /// (`on` is `None`): `host` is a byte stream, a recorded write matched
    /// by its bytes wherever the host's writes were cut, and an incomplete
    /// write waits in `host` for the rest. BLE: `host` is one write to
    /// characteristic `on`, matched whole.
    pub(crate) fn match_host(&mut self, host: &mut Vec<u8>, on: Option<u16>, now: Instant) {
        let stream = on.is_none();
        let fits = |e: &crate::recording::Event, host: &[u8]| {
            e.op.characteristic() == on
                && if stream {
                    host.starts_with(&e.bytes)
                } else {
                    host == e.bytes.as_slice()
                }
        };
        // A BLE write is matched once, even when empty.
        while !stream || !host.is_empty() {
            let Some(j) = self.next_write(self.next) else {
                let msg = format!(
                    "the host wrote {}{} after the recording's last write",
                    show(host),
                    self.to(on)
                );
                self.deviate(msg);
                host.clear();
                return;
            };
            let exp = &self.rec.events[j];
            if fits(exp, host) {
                let n = exp.bytes.len();
                self.take(j, now);
                host.drain(..n);
                if !stream {
                    return;
                }
                continue;
            }
            if stream && exp.bytes.starts_with(host) {
                // The rest of the recorded write is still on its way.
                return;
            }
            // A deviation: resume at a later recorded write the host's bytes
            // begin with (serial) or equal (BLE), if there is one.
            let (line, shown) = (
                exp.line,
                format!("{}{}", show(&exp.bytes), self.to(exp.op.characteristic())),
            );
            let later = (j + 1..self.rec.events.len()).find(|&k| {
                let e = &self.rec.events[k];
                e.op.is_host_write() && (!stream || !e.bytes.is_empty()) && fits(e, host)
            });
            match later {
                Some(k) => {
                    let msg = format!(
                        "the host wrote {}{} where the recording has {shown} (line {line}); \
                         resuming at line {}",
                        show(host),
                        self.to(on),
                        self.rec.events[k].line
                    );
                    self.deviate(msg);
                    let n = self.rec.events[k].bytes.len();
                    self.take(k, now);
                    host.drain(..n);
                    if !stream {
                        return;
                    }
                }
                None => {
                    let msg = format!(
                        "the host wrote {}{} where the recording has {shown} (line {line}); \
                         no later recorded write matches, ignored",
                        show(host),
                        self.to(on),
                    );
                    self.deviate(msg);
                    host.clear();
                    return;
                }
            }
        }
    }

    /// Takes recorded write (or flush) `j` as matched at `now`: the device transfers
    /// before it that were not sent are skipped, and the ones after it are
    /// timed from it.
    fn take(&mut self, j: usize, now: Instant) {
        let skipped = self.rec.events[self.next..j]
            .iter()
            .filter(|e| e.op.is_device_transfer())
            .count() as u64;
        let mut s = lock(&self.stats);
        s.skipped += skipped;
        if self.rec.events[j].op.is_host_write() {
            s.matched_writes += 1;
        }
        s.at_end = false;
        drop(s);
        self.anchor = (self.rec.events[j].at, now);
        self.next = j + 1;
    }

    fn deviate(&self, msg: String) {
        tracing::warn!("replay: {msg}");
        lock(&self.stats).deviations.push(msg);
    }
}

struct Player {
    pty: Pty,
    script: Script,
    /// Host bytes not matched yet.
    host: Vec<u8>,
    /// Device bytes the host's port did not take yet, and when they were due.
    pending: Vec<u8>,
    pending_due: Option<Instant>,
}

impl Player {
    fn new(pty: Pty, rec: Recording, opts: ReplayOptions, stats: Arc<Mutex<ReplayStats>>) -> Self {
        Player {
            pty,
            script: Script::new(rec, opts, stats),
            host: Vec::new(),
            pending: Vec::new(),
            pending_due: None,
        }
    }

    fn run(&mut self, stop: &AtomicBool) -> io::Result<()> {
        let mut buf = vec![0u8; 4096];
        while !stop.load(Ordering::SeqCst) {
            // Send every device transfer that is due (in order).
            while self.pending.is_empty() {
                let Some((i, due)) = self.script.pop_due(Instant::now()) else {
                    break;
                };
                self.pending = self.script.rec.events[i].bytes.clone();
                self.pending_due = Some(due);
                self.flush_pending()?;
            }
            if self.script.played_all() && self.pending.is_empty() {
                lock(&self.script.stats).at_end = true;
            }
            // Wait for the host, or until the next transfer is due; 50 ms
            // bounds how long a stop request waits.
            let mut wait = Duration::from_millis(50);
            if self.pending.is_empty() {
                wait = self.script.wait(wait);
            }
            let (readable, writable) = {
                let mut flags = PollFlags::POLLIN;
                if !self.pending.is_empty() {
                    flags |= PollFlags::POLLOUT;
                }
                let mut fds = [PollFd::new(self.pty.master.as_fd(), flags)];
                // ppoll, not poll: poll's whole milliseconds sent each
                // transfer up to 1 ms late (measured p50 0.6-0.7 ms).
                let ts = nix::sys::time::TimeSpec::from_duration(wait);
                match ppoll(&mut fds, Some(ts), None) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(e.into()),
                }
                let r = fds[0].revents().unwrap_or(PollFlags::empty());
                (
                    r.contains(PollFlags::POLLIN),
                    r.contains(PollFlags::POLLOUT),
                )
            };
            if writable {
                self.flush_pending()?;
            }
            if readable {
                // Packet mode: a read is a status byte, or 0 and data.
                match self.pty.master.read(&mut buf) {
                    Ok(n) if n > 0 && buf[0] != 0 => {
                        if buf[0] & crate::pty::FLUSHREAD != 0 {
                            self.host_flushed(Instant::now());
                        }
                    }
                    Ok(n) if n > 1 => {
                        let now = Instant::now();
                        self.host.extend_from_slice(&buf[1..n]);
                        self.script.match_host(&mut self.host, None, now);
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Writes what the host's port takes of the pending transfer.
    fn flush_pending(&mut self) -> io::Result<()> {
        while !self.pending.is_empty() {
            match self.pty.master.write(&self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        if let Some(due) = self.pending_due.take() {
            self.script.sent(due);
        }
        Ok(())
    }

    /// The host flushed its input (see [`Script::host_flushed`]): bytes not
    /// sent yet that were due before it stay unsent, as the flush would
    /// have discarded them.
    fn host_flushed(&mut self, now: Instant) {
        if self.script.host_flushed(now) {
            self.pending.clear();
            self.pending_due = None;
        }
    }
}

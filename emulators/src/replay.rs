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
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How a recording is played back.
#[derive(Debug, Clone, Copy)]
pub struct ReplayOptions {
    /// Multiple of the recorded speed: 1 keeps the recorded timing, 10 plays
    /// ten times faster, infinity as fast as the host reads.
    pub speed: f64,
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
        let mut v = self.late_us.clone();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        Some(v[((v.len() - 1) as f64 * q).round() as usize])
    }
}

/// A recording played as a device on a pseudo-terminal; dropping it stops it.
pub struct ReplayEmulator {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<ReplayStats>>,
    thread: Option<JoinHandle<()>>,
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
        if !(opts.speed > 0.0) {
            return Err(io::Error::other(format!(
                "speed {}: must be above 0",
                opts.speed
            )));
        }
        let pty = Pty::open()?;
        // To see the host's flushes (recorded as `f`).
        pty.packet_mode()?;
        let path = pty.path.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(ReplayStats::default()));
        let (s2, st2) = (stop.clone(), stats.clone());
        let thread = std::thread::Builder::new()
            .name("replay".into())
            .spawn(move || {
                let mut p = Player::new(pty, rec, opts, st2.clone());
                if let Err(e) = p.run(&s2) {
                    lock(&st2).error = Some(e.to_string());
                }
            })?;
        Ok(ReplayEmulator {
            path,
            stop,
            stats,
            thread: Some(thread),
        })
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
        lock(&self.stats).clone()
    }

    /// One line saying what the replay did, for a trial's artifacts.
    pub fn summary(&self) -> String {
        let s = self.stats();
        format!(
            "replay: {} transfers sent, {} skipped, {} host writes matched, late p50 {} µs p99 {} µs, {} deviations\n",
            s.sent,
            s.skipped,
            s.matched_writes,
            s.late_quantile(0.5).unwrap_or(0),
            s.late_quantile(0.99).unwrap_or(0),
            s.deviations.len()
        )
    }

    /// Stops the replay and removes the port.
    pub fn stop(mut self) -> ReplayStats {
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

impl Drop for ReplayEmulator {
    fn drop(&mut self) {
        self.halt();
    }
}

fn lock(m: &Mutex<ReplayStats>) -> std::sync::MutexGuard<'_, ReplayStats> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

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

struct Player {
    pty: Pty,
    rec: Recording,
    speed: f64,
    stats: Arc<Mutex<ReplayStats>>,
    /// The next event to play or match.
    next: usize,
    /// (recorded time, real time) the device's transfers are timed from.
    anchor: (Duration, Instant),
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
            rec,
            speed: opts.speed,
            stats,
            next: 0,
            anchor: (Duration::ZERO, Instant::now()),
            host: Vec::new(),
            pending: Vec::new(),
            pending_due: None,
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

    fn run(&mut self, stop: &AtomicBool) -> io::Result<()> {
        let mut buf = vec![0u8; 4096];
        while !stop.load(Ordering::SeqCst) {
            // Send every device transfer that is due (in order).
            while self.pending.is_empty() {
                let Some(ev) = self.rec.events.get(self.next) else {
                    break;
                };
                if ev.op != Op::Read {
                    break;
                }
                let due = self.due(ev.at);
                if Instant::now() < due {
                    break;
                }
                self.pending = ev.bytes.clone();
                self.pending_due = Some(due);
                self.next += 1;
                self.flush_pending()?;
            }
            let at_end = self.next >= self.rec.events.len() && self.pending.is_empty();
            if at_end {
                lock(&self.stats).at_end = true;
            }
            // Wait for the host, or until the next transfer is due; 50 ms
            // bounds how long a stop request waits.
            let mut wait = Duration::from_millis(50);
            if self.pending.is_empty() {
                if let Some(ev) = self.rec.events.get(self.next).filter(|e| e.op == Op::Read) {
                    wait = wait.min(self.due(ev.at).saturating_duration_since(Instant::now()));
                }
            }
            let (readable, writable) = {
                let mut flags = PollFlags::POLLIN;
                if !self.pending.is_empty() {
                    flags |= PollFlags::POLLOUT;
                }
                let mut fds = [PollFd::new(self.pty.master.as_fd(), flags)];
                // Rounded up: waking before a transfer is due would spin.
                let ms = wait.as_micros().div_ceil(1000).min(u16::MAX as u128) as u16;
                match poll(&mut fds, PollTimeout::from(ms)) {
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
                        self.match_host(now);
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
            let late = Instant::now().saturating_duration_since(due);
            let mut s = lock(&self.stats);
            s.sent += 1;
            s.late_us
                .push(late.as_micros().min(u32::MAX as u128) as u32);
        }
        Ok(())
    }

    /// The host flushed its input. If the recording has that flush before
    /// its next write, the replay waits there for it (a device that streams
    /// on its own started at it): matched, it times what follows. A flush
    /// the recording does not have changes nothing a device sends, so it is
    /// no deviation. Bytes not sent yet that were due before it stay unsent,
    /// as the flush would have discarded them.
    fn host_flushed(&mut self, now: Instant) {
        let upto = self.next_write(self.next).unwrap_or(self.rec.events.len());
        if let Some(j) = (self.next..upto).find(|&j| self.rec.events[j].op == Op::Flush) {
            self.pending.clear();
            self.pending_due = None;
            self.take(j, now);
        }
    }

    /// The next recorded write at or after `from`.
    fn next_write(&self, from: usize) -> Option<usize> {
        (from..self.rec.events.len()).find(|&j| self.rec.events[j].op == Op::Write)
    }

    /// Matches the host's bytes so far against the recorded writes.
    fn match_host(&mut self, now: Instant) {
        while !self.host.is_empty() {
            let Some(j) = self.next_write(self.next) else {
                let msg = format!(
                    "the host wrote {} after the recording's last write",
                    show(&self.host)
                );
                self.deviate(msg);
                self.host.clear();
                return;
            };
            let exp = &self.rec.events[j].bytes;
            if self.host.starts_with(exp) {
                let n = exp.len();
                self.take(j, now);
                self.host.drain(..n);
                continue;
            }
            if exp.starts_with(&self.host) {
                // The rest of the recorded write is still on its way.
                return;
            }
            // A deviation: resume at a later recorded write the host's bytes
            // begin with, if there is one.
            let line = self.rec.events[j].line;
            let later = (j + 1..self.rec.events.len()).find(|&k| {
                let e = &self.rec.events[k];
                e.op == Op::Write && !e.bytes.is_empty() && self.host.starts_with(&e.bytes)
            });
            match later {
                Some(k) => {
                    let msg = format!(
                        "the host wrote {} where the recording has {} (line {line}); \
                         resuming at line {}",
                        show(&self.host),
                        show(exp),
                        self.rec.events[k].line
                    );
                    self.deviate(msg);
                    let n = self.rec.events[k].bytes.len();
                    self.take(k, now);
                    self.host.drain(..n);
                }
                None => {
                    let msg = format!(
                        "the host wrote {} where the recording has {} (line {line}); \
                         no later recorded write matches, ignored",
                        show(&self.host),
                        show(exp)
                    );
                    self.deviate(msg);
                    self.host.clear();
                    return;
                }
            }
        }
    }

    /// Takes recorded write `j` as matched at `now`: the device transfers
    /// before it that were not sent are skipped, and the ones after it are
    /// timed from it.
    fn take(&mut self, j: usize, now: Instant) {
        let skipped = self.rec.events[self.next..j]
            .iter()
            .filter(|e| e.op == Op::Read)
            .count() as u64;
        let mut s = lock(&self.stats);
        s.skipped += skipped;
        if self.rec.events[j].op == Op::Write {
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

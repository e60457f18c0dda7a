//! Recording a serial device's link: a proxy that puts a pseudo-terminal in
//! front of the device's port, passes every byte through both ways, and
//! writes each transfer to a [`crate::recording`] file as it happens.
//!
//! The host opens the proxy's port instead of the device's. The device may be
//! a physical board on a rig (`/dev/ttyUSB0`) or a `boardloop emulate`
//! process: the recording is the same either way, which is what lets
//! `boardloop diff` compare them.

use crate::pty::Pty;
use crate::recording::{Op, RecordingWriter};
use crate::running::{lock, Running};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a recording proxy did.
#[derive(Debug, Clone, Default)]
pub struct RecordStats {
    /// Transfers written (host writes and device reads).
    pub events: u64,
    /// Bytes the host wrote.
    pub host_bytes: u64,
    /// Bytes the device sent.
    pub device_bytes: u64,
    /// Per device read: microseconds from the read's return to the bytes
    /// having been written both to the host's port and to the recording
    /// (the delay the proxy adds to the device's stream).
    pub forward_us: Vec<u32>,
    /// The error that ended the proxy, if one did.
    pub error: Option<String>,
}

impl RecordStats {
    /// The `q` quantile (0..=1) of [`RecordStats::forward_us`], in µs.
    pub fn forward_quantile(&self, q: f64) -> Option<u32> {
        crate::running::quantile_us(&self.forward_us, q)
    }
}

/// A running recording proxy; dropping it stops it.
pub struct RecordProxy {
    path: PathBuf,
    run: Running<RecordStats>,
}

impl RecordProxy {
    /// Opens `device` at `baud`, creates the port the host opens instead
    /// ([`RecordProxy::path`]) and records into `out`, which starts with
    /// `header` (`transport serial`, `source` and `baud` are added unless
    /// `header` has them).
    pub fn spawn(
        device: &str,
        baud: u32,
        out: &Path,
        header: &[(String, String)],
    ) -> io::Result<RecordProxy> {
        let port = serialport::new(device, baud)
            .timeout(Duration::from_millis(0))
            .open_native()
            .map_err(|e| io::Error::other(format!("cannot open {device}: {e}")))?;
        // `header` may say better where the bytes come from (`source`).
        let mut head: Vec<(String, String)> = [
            ("transport", "serial".to_string()),
            ("source", device.to_string()),
            ("baud", baud.to_string()),
        ]
        .into_iter()
        .filter(|(k, _)| !header.iter().any(|(h, _)| h == k))
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        head.extend(header.iter().cloned());
        let writer = RecordingWriter::create(out, &head)?;
        let pty = Pty::open()?;
        // The host's flushes reach the device: an autostart device (FreeEEG,
        // Knight) starts streaming at them, and the recording marks them.
        pty.packet_mode()?;
        let path = pty.path.clone();
        let run = Running::spawn("record", move |stop, stats| {
            let mut w = Proxy {
                pty,
                port,
                writer,
                started: Instant::now(),
                stats: stats.clone(),
                to_host: Vec::new(),
            };
            if let Err(e) = w.run(stop) {
                lock(&stats).error = Some(e.to_string());
            }
        })?;
        Ok(RecordProxy { path, run })
    }

    /// The port the host opens instead of the device's.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the proxy has done so far.
    pub fn stats(&self) -> RecordStats {
        self.run.stats()
    }

    /// Whether the proxy has ended (on an error: the device went away).
    pub fn finished(&self) -> bool {
        self.run.is_finished()
    }

    /// Stops recording (everything read so far is in the file) and removes
    /// the host's port.
    pub fn stop(mut self) -> RecordStats {
        self.run.halt()
    }
}

struct Proxy {
    pty: Pty,
    port: serialport::TTYPort,
    writer: RecordingWriter,
    started: Instant,
    stats: Arc<Mutex<RecordStats>>,
    /// Device bytes the host's port did not take yet (its queue was full).
    to_host: Vec<u8>,
}

impl Proxy {
    fn run(&mut self, stop: &AtomicBool) -> io::Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        while !stop.load(Ordering::SeqCst) {
            // One thread and one poll over both sides: the file's order is the
            // order the proxy saw the transfers in.
            let (host_ready, dev_ready, host_writable) = {
                let master = self.pty.master.as_fd();
                // SAFETY: the port's fd stays open for this borrow's lifetime.
                let dev = unsafe { BorrowedFd::borrow_raw(self.port.as_raw_fd()) };
                let mut out = PollFlags::POLLIN;
                if !self.to_host.is_empty() {
                    out |= PollFlags::POLLOUT;
                }
                let mut fds = [
                    PollFd::new(master, out),
                    PollFd::new(dev, PollFlags::POLLIN),
                ];
                // 50 ms bounds how long a stop request waits.
                match poll(&mut fds, PollTimeout::from(50u16)) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(e.into()),
                }
                let r0 = fds[0].revents().unwrap_or(PollFlags::empty());
                let r1 = fds[1].revents().unwrap_or(PollFlags::empty());
                if r1.intersects(PollFlags::POLLERR | PollFlags::POLLNVAL)
                    || (r1.contains(PollFlags::POLLHUP) && !r1.contains(PollFlags::POLLIN))
                {
                    return Err(io::Error::other("the device's port hung up"));
                }
                (
                    r0.contains(PollFlags::POLLIN),
                    r1.contains(PollFlags::POLLIN),
                    r0.contains(PollFlags::POLLOUT),
                )
            };
            if host_writable {
                self.flush_to_host()?;
            }
            if host_ready {
                // Packet mode: a read is a status byte, or 0 and data.
                match self.pty.master.read(&mut buf) {
                    Ok(0) => {}
                    Ok(_) if buf[0] != 0 => self.host_flushed(buf[0])?,
                    Ok(1) => {}
                    Ok(n) => {
                        let at = self.started.elapsed();
                        let data = &buf[1..n];
                        self.port.write_all(data)?;
                        self.writer.event(at, Op::Write, data)?;
                        let mut s = lock(&self.stats);
                        s.events += 1;
                        s.host_bytes += data.len() as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    // The host's side is closed between its sessions.
                    Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => {}
                    Err(e) => return Err(e),
                }
            }
            if dev_ready {
                match self.port.read(&mut buf) {
                    Ok(0) => {}
                    Ok(n) => {
                        let t0 = Instant::now();
                        let at = t0 - self.started;
                        self.to_host.extend_from_slice(&buf[..n]);
                        self.flush_to_host()?;
                        self.writer.event(at, Op::Read, &buf[..n])?;
                        let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
                        let mut s = lock(&self.stats);
                        s.events += 1;
                        s.device_bytes += n as u64;
                        s.forward_us.push(us);
                    }
                    Err(e)
                        if e.kind() == io::ErrorKind::WouldBlock
                            || e.kind() == io::ErrorKind::TimedOut => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// The host flushed its port (packet-mode status `flags`): the same
    /// flush on the device's port, where a real host's flush would have
    /// acted, and the device bytes the host's port had not taken yet are
    /// dropped as the flush would have dropped them.
    fn host_flushed(&mut self, flags: u8) -> io::Result<()> {
        use crate::pty::{FLUSHREAD, FLUSHWRITE};
        use serialport::{ClearBuffer, SerialPort as _};
        let which = match (flags & FLUSHREAD != 0, flags & FLUSHWRITE != 0) {
            (true, true) => ClearBuffer::All,
            (true, false) => ClearBuffer::Input,
            (false, true) => ClearBuffer::Output,
            (false, false) => return Ok(()),
        };
        let at = self.started.elapsed();
        if flags & FLUSHREAD != 0 {
            self.to_host.clear();
        }
        self.port
            .clear(which)
            .map_err(|e| io::Error::other(format!("flush: {e}")))?;
        self.writer.event(at, Op::Flush, &[])?;
        lock(&self.stats).events += 1;
        Ok(())
    }

    /// Writes what the host's port takes; the rest waits for POLLOUT.
    fn flush_to_host(&mut self) -> io::Result<()> {
        while !self.to_host.is_empty() {
            match self.pty.master.write(&self.to_host) {
                Ok(n) => {
                    self.to_host.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

//! The transport seam: drivers talk to a [`SerialLink`], so the same driver
//! code runs over a real serial port, a pty to an emulator, or memory.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{BoardError, ExitCode, Result};

/// A byte pipe to a device.
pub trait SerialLink: Send {
    /// Writes all bytes (and flushes them to the device).
    fn write_all(&mut self, b: &[u8]) -> io::Result<()>;
    /// Reads whatever is available, waiting up to `timeout` for the first
    /// byte. `Ok(0)` means the timeout expired; errors mean the link is gone.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// Discards bytes received but not yet read.
    fn clear_input(&mut self) -> io::Result<()>;
}

/// A real serial port (115200 8N1, no flow control) via the `serialport` crate.
pub struct SerialPortLink {
    port: Box<dyn serialport::SerialPort>,
    path: String,
    timeout: Duration,
}

impl SerialPortLink {
    /// Baud rate of the OpenBCI dongle (and of most boards BrainFlow reads).
    pub const OPENBCI_BAUD: u32 = 115_200;

    /// Opens `path` at `baud` 8N1 (a pseudo-terminal ignores the rate; a
    /// USB-serial bridge needs the device's). Fails with `UnableToOpenPort`
    /// naming the path.
    pub fn open(path: &str, baud: u32) -> Result<Self> {
        if path.is_empty() {
            return Err(BoardError::new(
                ExitCode::UnableToOpenPort,
                "no serial port given (params.serial_port is empty)",
            ));
        }
        let timeout = Duration::from_millis(100);
        // BrainFlow's OpenBCISerialBoard::open_port logs these two lines; the
        // reason (the OS error) is in the returned error, which the C library
        // logs as well.
        tracing::info!("opening port {path}");
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(timeout)
            .open()
            .map_err(|e| {
                tracing::error!(
                    "Make sure you provided correct port name and have permissions to open \
                     it(run with sudo/admin). Also, close all other apps using this port."
                );
                BoardError::new(
                    ExitCode::UnableToOpenPort,
                    format!("unable to open serial port {path}: {e}"),
                )
            })?;
        tracing::trace!("port {path} is open");
        Ok(SerialPortLink {
            port,
            path: path.to_string(),
            timeout,
        })
    }

    /// Wraps an already-open port (e.g. one end of `serialport::TTYPort::pair`);
    /// `name` is used in messages.
    pub fn from_port(port: Box<dyn serialport::SerialPort>, name: impl Into<String>) -> Self {
        let timeout = port.timeout();
        SerialPortLink {
            port,
            path: name.into(),
            timeout,
        }
    }

    /// The device path this link was opened on.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl SerialLink for SerialPortLink {
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        Write::write_all(&mut self.port, b)?;
        self.port.flush()
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if timeout != self.timeout {
            self.port.set_timeout(timeout).map_err(io::Error::from)?;
            self.timeout = timeout;
        }
        match Read::read(&mut self.port, buf) {
            Ok(0) => {
                // The port reported readable yet gave nothing: the tty hung up.
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("serial port {} hung up", self.path),
                ))
            }
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn clear_input(&mut self) -> io::Result<()> {
        self.port
            .clear(serialport::ClearBuffer::Input)
            .map_err(io::Error::from)
    }
}

/// One direction of a [`MemoryLink`] pair.
#[derive(Default)]
struct Pipe {
    data: VecDeque<u8>,
    /// The writing end is gone: readers get an error once drained.
    closed: bool,
}

#[derive(Default)]
struct Channel {
    pipe: Mutex<Pipe>,
    ready: Condvar,
}

impl Channel {
    fn lock(&self) -> MutexGuard<'_, Pipe> {
        // A panicking peer must not take the other end down with it.
        self.pipe.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// An in-memory, thread-safe link pair for tests: bytes written on one end are
/// read on the other. Dropping (or [`MemoryLink::close`]-ing) an end makes the
/// other end's reads fail with `BrokenPipe` once buffered bytes are drained,
/// like a device disappearing.
pub struct MemoryLink {
    rx: Arc<Channel>,
    tx: Arc<Channel>,
}

impl MemoryLink {
    /// Returns `(host_end, device_end)`.
    pub fn pair() -> (MemoryLink, MemoryLink) {
        let a = Arc::new(Channel::default());
        let b = Arc::new(Channel::default());
        (
            MemoryLink {
                rx: a.clone(),
                tx: b.clone(),
            },
            MemoryLink { rx: b, tx: a },
        )
    }

    /// Closes both directions, as if the cable were pulled.
    pub fn close(&self) {
        self.tx.close();
        self.rx.close();
    }

    /// Bytes waiting to be read on this end.
    pub fn available(&self) -> usize {
        self.rx.lock().data.len()
    }
}

impl Drop for MemoryLink {
    fn drop(&mut self) {
        self.close();
    }
}

fn broken() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "memory link closed")
}

impl SerialLink for MemoryLink {
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        let mut p = self.tx.lock();
        if p.closed {
            return Err(broken());
        }
        p.data.extend(b);
        drop(p);
        self.tx.ready.notify_all();
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let deadline = Instant::now() + timeout;
        let mut p = self.rx.lock();
        loop {
            if !p.data.is_empty() {
                let n = buf.len().min(p.data.len());
                for (dst, src) in buf.iter_mut().zip(p.data.drain(..n)) {
                    *dst = src;
                }
                return Ok(n);
            }
            if p.closed {
                return Err(broken());
            }
            let now = Instant::now();
            if now >= deadline || buf.is_empty() {
                return Ok(0);
            }
            p = self
                .rx
                .ready
                .wait_timeout(p, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn clear_input(&mut self) -> io::Result<()> {
        self.rx.lock().data.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_pair_round_trip_timeout_and_close() {
        let (mut host, mut dev) = MemoryLink::pair();
        let mut buf = [0u8; 8];
        let t = Instant::now();
        assert_eq!(host.read(&mut buf, Duration::from_millis(30)).unwrap(), 0);
        assert!(t.elapsed() >= Duration::from_millis(25));
        dev.write_all(b"hello").unwrap();
        assert_eq!(host.available(), 5);
        assert_eq!(host.read(&mut buf[..3], Duration::ZERO).unwrap(), 3);
        assert_eq!(&buf[..3], b"hel");
        host.clear_input().unwrap();
        assert_eq!(host.read(&mut buf, Duration::ZERO).unwrap(), 0);
        host.write_all(b"v").unwrap();
        assert_eq!(dev.read(&mut buf, Duration::ZERO).unwrap(), 1);
        dev.write_all(b"tail").unwrap();
        drop(dev);
        assert_eq!(host.read(&mut buf, Duration::ZERO).unwrap(), 4);
        assert_eq!(
            host.read(&mut buf, Duration::ZERO).unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
        assert!(host.write_all(b"x").is_err());
    }

    #[test]
    fn read_wakes_on_write_from_other_thread() {
        let (mut host, mut dev) = MemoryLink::pair();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            dev.write_all(b"x").unwrap();
            dev
        });
        let mut buf = [0u8; 4];
        assert_eq!(host.read(&mut buf, Duration::from_secs(5)).unwrap(), 1);
        drop(t.join().unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn pty_round_trip_and_hangup() {
        let (mut master, slave) = serialport::TTYPort::pair().expect("pty pair");
        let name = serialport::SerialPort::name(&slave).unwrap_or_default();
        let mut link = SerialPortLink::from_port(Box::new(slave), name);
        let mut buf = [0u8; 16];
        assert_eq!(link.read(&mut buf, Duration::from_millis(20)).unwrap(), 0);
        link.write_all(b"v").unwrap();
        let mut one = [0u8; 1];
        Read::read_exact(&mut master, &mut one).unwrap();
        assert_eq!(&one, b"v");
        Write::write_all(&mut master, b"$$$").unwrap();
        let mut got = Vec::new();
        while got.len() < 3 {
            let n = link.read(&mut buf, Duration::from_millis(500)).unwrap();
            assert!(n > 0, "timed out");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"$$$");
        link.clear_input().unwrap();
        // The device vanishing must surface as an error, not as timeouts.
        drop(master);
        let t = Instant::now();
        let err = loop {
            match link.read(&mut buf, Duration::from_millis(20)) {
                Err(e) => break e,
                Ok(_) => assert!(
                    t.elapsed() < Duration::from_secs(2),
                    "no error after hangup"
                ),
            }
        };
        assert!(!err.to_string().is_empty());
    }

    #[test]
    fn serial_open_failure_names_path() {
        let e = SerialPortLink::open("/nonexistent/ttyFOO", SerialPortLink::OPENBCI_BAUD)
            .err()
            .unwrap();
        assert_eq!(e.code, ExitCode::UnableToOpenPort);
        assert!(e.message.contains("/nonexistent/ttyFOO"));
        assert_eq!(
            SerialPortLink::open("", SerialPortLink::OPENBCI_BAUD)
                .err()
                .unwrap()
                .code,
            ExitCode::UnableToOpenPort
        );
    }
}

//! Pseudo-terminals: the serial device any program opens like `/dev/ttyUSB0`.

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::pty::openpty;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

/// A pseudo-terminal pair. The emulator owns the master; programs open `path`.
#[derive(Debug)]
pub struct Pty {
    /// Master side, non-blocking.
    pub master: File,
    /// Slave side, held open so the master never sees a hang-up while the program
    /// under test closes and reopens the port (BrainFlow does).
    pub slave: OwnedFd,
    /// Path of the slave, e.g. `/dev/pts/3`.
    pub path: PathBuf,
}

/// `TIOCPKT_FLUSHREAD`: a packet-mode status bit, the host discarded its
/// unread input (<linux/tty.h>; not in libc).
pub const FLUSHREAD: u8 = 0x01;
/// `TIOCPKT_FLUSHWRITE`: the host discarded its unsent output.
pub const FLUSHWRITE: u8 = 0x02;

nix::ioctl_read_bad!(fionread, nix::libc::FIONREAD, nix::libc::c_int);

impl Pty {
    /// Bytes written by the emulator that the program has not read yet (the
    /// slave's input queue). Closing the master discards them, so an unplug
    /// waits for this to reach 0 when exact counts matter.
    pub fn unread(&self) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        let mut n: nix::libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int through the pointer, which is valid.
        unsafe { fionread(self.slave.as_raw_fd(), &mut n) }.map_err(io::Error::from)?;
        Ok(n.max(0) as usize)
    }

    /// Discards what the host has not read yet (`tcflush(TCIFLUSH)` on the
    /// slave, the host's own call): bytes the emulator wrote after a flush of
    /// the host's that it had not seen yet. In packet mode the master then
    /// reads a `TIOCPKT_FLUSHREAD` status of its own, set before this returns.
    pub fn discard_unread(&self) -> io::Result<()> {
        nix::sys::termios::tcflush(&self.slave, nix::sys::termios::FlushArg::TCIFLUSH)
            .map_err(io::Error::from)
    }

    /// Opens a pair in raw mode: no echo, no line editing, no CR/LF translation,
    /// no flow-control or signal characters, so every byte passes unchanged
    /// (0x03, 0x11, 0x13 and 0x0D occur in packets).
    pub fn open() -> io::Result<Pty> {
        let pair = openpty(None, None).map_err(io::Error::from)?;
        let mut t = tcgetattr(&pair.slave).map_err(io::Error::from)?;
        cfmakeraw(&mut t);
        tcsetattr(&pair.slave, SetArg::TCSANOW, &t).map_err(io::Error::from)?;
        let flags = fcntl(&pair.master, FcntlArg::F_GETFL).map_err(io::Error::from)?;
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        fcntl(&pair.master, FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
        let path = nix::unistd::ttyname(&pair.slave).map_err(io::Error::from)?;
        Ok(Pty {
            master: File::from(pair.master),
            slave: pair.slave,
            path,
        })
    }

    /// Puts the master in packet mode (`TIOCPKT`): reads then start with a
    /// status byte that reports the slave side's `tcflush` calls, which is
    /// how an emulator notices a host that sends nothing.
    pub fn packet_mode(&self) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let on: nix::libc::c_int = 1;
        // SAFETY: TIOCPKT takes a pointer to an int on a pty master we own.
        let r = unsafe { nix::libc::ioctl(self.master.as_raw_fd(), nix::libc::TIOCPKT, &on) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn bytes_pass_unchanged_both_ways() {
        let mut pty = Pty::open().unwrap();
        let mut client = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&pty.path)
            .unwrap();
        let all: Vec<u8> = (0..=255u8).collect();
        pty.master.write_all(&all).unwrap();
        let mut got = vec![0u8; 256];
        client.read_exact(&mut got).unwrap();
        assert_eq!(got, all);
        client.write_all(b"\r\n\x03\x11").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut back = [0u8; 16];
        let n = pty.master.read(&mut back).unwrap();
        assert_eq!(&back[..n], b"\r\n\x03\x11");
    }
}

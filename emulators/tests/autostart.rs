//! `stream.autostart`: a device that streams without a command begins its
//! stream (packet 0) at the host's flush, and every later flush restarts it.

use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Profile, Scenario, SerialEmulator, SerialOptions};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{cfmakeraw, tcflush, tcgetattr, tcsetattr, FlushArg, SetArg};
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn knight(packets: u64) -> Scenario {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&devices.join("neuropawn_knight.yaml")).unwrap());
    let text = format!("device: neuropawn_knight\nsteps: []\npacing: max\npackets: {packets}\n");
    let path = Path::new("/virtual/neuropawn_knight/autostart.yaml");
    let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, &text).unwrap();
    Scenario::with_profile(path, &text, decl, profile).unwrap()
}

/// Reads until exactly `n` bytes have arrived, waiting on the port's
/// readiness (the stream starts 250 ms after a flush, later on a loaded
/// machine); the 10-s bound only turns a hang into a failure.
fn read_n(port: &mut std::fs::File, n: usize) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "only {} of {n} bytes", got.len());
        let mut fds = [PollFd::new(port.as_fd(), PollFlags::POLLIN)];
        let ms = left.as_millis().min(1000) as u16;
        poll(&mut fds, PollTimeout::from(ms)).unwrap();
        match port.read(&mut buf[..n - got.len()]) {
            Ok(k) => got.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    got
}

/// Bytes waiting in the host's input queue. Checked only once the emulator
/// has written its last byte and the host has read that many, so nothing is
/// still on its way through the tty's flip buffer.
fn unread(port: &std::fs::File) -> usize {
    nix::ioctl_read_bad!(fionread, nix::libc::FIONREAD, nix::libc::c_int);
    let mut n: nix::libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through a valid pointer.
    unsafe { fionread(port.as_raw_fd(), &mut n) }.unwrap();
    n as usize
}

#[test]
fn stream_starts_and_restarts_at_host_flush() {
    let emu = SerialEmulator::spawn(&knight(10), SerialOptions::default()).unwrap();
    let mut port = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(emu.path())
        .unwrap();
    let mut t = tcgetattr(&port).unwrap();
    cfmakeraw(&mut t);
    tcsetattr(&port, SetArg::TCSANOW, &t).unwrap();
    // Open and configured, no flush yet: once the emulator has caught up with
    // all of that, no stream has started.
    emu.settle();
    assert_eq!(emu.stats().streams, 0, "{:?}", emu.stats());
    tcflush(&port, FlushArg::TCIFLUSH).unwrap();
    let first = read_n(&mut port, 10 * 21);
    let counters: Vec<u8> = first.chunks(21).map(|p| p[1]).collect();
    assert_eq!(counters, (0..10).collect::<Vec<u8>>());
    // The whole limited stream and nothing more: the emulator built exactly
    // those 10 packets and wrote exactly those bytes, all of them read.
    emu.settle();
    let s = emu.stats();
    assert_eq!(
        (s.streams, s.packets_built, s.packets_sent),
        (1, 10, 10),
        "{s:?}"
    );
    assert_eq!(s.bytes_to_host, 10 * 21, "{s:?}");
    assert_eq!(unread(&port), 0);
    // A second flush replays the stream from packet 0.
    tcflush(&port, FlushArg::TCIFLUSH).unwrap();
    let again = read_n(&mut port, 10 * 21);
    assert_eq!(again, first);
    emu.settle();
    let s = emu.stats();
    assert_eq!(
        (s.streams, s.packets_built, s.packets_sent),
        (2, 20, 20),
        "{s:?}"
    );
    assert_eq!(s.bytes_to_host, 2 * 10 * 21, "{s:?}");
    assert_eq!(unread(&port), 0);
}

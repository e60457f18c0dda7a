//! The serial emulator's timeline when its thread is held back, as a busy
//! machine's scheduler holds it: packets that fell due meanwhile were sent by
//! the device on time, so a flush of the host's input that the emulator sees
//! later discards them, and none of them reaches the host after its flush.
//! The hold is placed deterministically (`hold_after_next_input`), so these
//! tests fail on every run without that rule, not 1 run in 10 under load.

use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{HoldAt, Profile, Scenario, SerialEmulator, SerialOptions};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{cfmakeraw, tcflush, tcgetattr, tcsetattr, FlushArg, SetArg};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BANNER: &[u8] =
    b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\nLIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$";

/// A Cyton at 8 times real time (2000 packets/s), as the C ABI stress test runs it.
fn cyton() -> Scenario {
    cyton_paced("{ speed: 8 }")
}

/// A Cyton at `pacing` (YAML).
fn cyton_paced(pacing: &str) -> Scenario {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&devices.join("cyton.yaml")).unwrap());
    let text = format!("device: cyton\nsteps: []\npacing: {pacing}\n");
    let path = Path::new("/virtual/cyton/timeline.yaml");
    let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, &text).unwrap();
    Scenario::with_profile(path, &text, decl, profile).unwrap()
}

/// Opens the port as a host does: raw, then its input flushed.
fn open(emu: &SerialEmulator) -> File {
    let port = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(emu.path())
        .unwrap();
    let mut t = tcgetattr(&port).unwrap();
    cfmakeraw(&mut t);
    tcsetattr(&port, SetArg::TCSANOW, &t).unwrap();
    tcflush(&port, FlushArg::TCIFLUSH).unwrap();
    port
}

/// Reads until `n` bytes have arrived, waiting on the port's readiness; the
/// 10-s bound only turns a hang into a failure.
fn read_exact(port: &mut File, n: usize) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "only {} of {n} bytes: {got:02x?}",
            got.len()
        );
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

/// `v` answered with the banner and nothing else, as BrainFlow's handshake needs.
fn handshake(port: &mut File) {
    port.write_all(b"v").unwrap();
    assert_eq!(read_exact(port, BANNER.len()), BANNER);
}

#[test]
fn packets_due_while_held_do_not_reach_a_host_that_reopened_and_flushed() {
    let emu = SerialEmulator::spawn(&cyton(), SerialOptions::default()).unwrap();
    let mut port = open(&emu);
    handshake(&mut port);
    // `b`: the stream is due at once, and the thread is held once it has
    // read it, before it builds a packet.
    let hold = emu.hold_after_next_input(HoldAt::BeforeBuild);
    port.write_all(b"b").unwrap();
    assert!(hold.wait_held(Duration::from_secs(10)), "never held");
    // Meanwhile the host stops, releases, opens the port again (flushing its
    // input) and asks for the banner, as a new session's prepare does.
    port.write_all(b"s").unwrap();
    drop(port);
    let mut port = open(&emu);
    port.write_all(b"v").unwrap();
    // Held at least 20 ms, so packets fall due before the emulator runs again
    // (40 at 2000/s; fewer only if it is away over 500 ms, when it resumes the
    // pace instead of catching up).
    std::thread::sleep(Duration::from_millis(20));
    drop(hold);
    // The first bytes the new session reads are the banner, not packets of a
    // stream that a real device had sent before the flush.
    assert_eq!(read_exact(&mut port, BANNER.len()), BANNER);
    emu.settle();
    let s = emu.stats();
    assert_eq!(s.packets_sent, 0, "{s:?}");
    assert!(s.packets_built > 0, "{s:?}");
    assert_eq!(s.packets_flushed, s.packets_built, "{s:?}");
}

#[test]
fn a_flush_mid_stream_discards_what_fell_due_before_it() {
    let emu = SerialEmulator::spawn(&cyton(), SerialOptions::default()).unwrap();
    let mut port = open(&emu);
    handshake(&mut port);
    port.write_all(b"b").unwrap();
    // Streaming: read a few packets.
    let first = read_exact(&mut port, 33 * 4);
    assert_eq!(first[0], 0xA0);
    // `!` (channel 1 on, already on; no reply while streaming) makes the
    // thread stop once it has read it and written what was due before; then
    // the host flushes its input.
    let hold = emu.hold_after_next_input(HoldAt::BeforeBuild);
    port.write_all(b"!").unwrap();
    assert!(hold.wait_held(Duration::from_secs(10)), "never held");
    let built = emu.stats().packets_built;
    tcflush(&port, FlushArg::TCIFLUSH).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    drop(hold);
    // The flush took every byte written before the hold; the packets that
    // fell due during it are discarded too: the first packet the host reads
    // is the first one due after the emulator saw the flush.
    let next = read_exact(&mut port, 33);
    assert_eq!(next[0], 0xA0, "{next:02x?}");
    let s = emu.stats();
    assert!(s.packets_flushed > 0, "{s:?}");
    assert_eq!(
        u64::from(next[1]),
        (built + s.packets_flushed) % 256,
        "packet {} after {built} built before the hold and {} flushed",
        next[1],
        s.packets_flushed
    );
}

#[test]
fn bytes_written_after_a_flush_the_emulator_had_not_seen_are_bounded_and_flushed() {
    // At max pacing the emulator keeps 2 KiB queued behind a host that does
    // not read, and writes as soon as there is room.
    let emu = SerialEmulator::spawn(&cyton_paced("max"), SerialOptions::default()).unwrap();
    let mut port = open(&emu);
    handshake(&mut port);
    port.write_all(b"b").unwrap();
    let first = read_exact(&mut port, 33);
    assert_eq!(first[0], 0xA0);
    // The host stops reading. Wait until the pty is full and the emulator's
    // own queue is backing up (packets built but not written), so the gap
    // below has bytes to write: under load the emulator may not have got
    // that far before `s` stopped the stream (then nothing was queued, and
    // this test failed 2 runs in 150 with two busy loops on the host).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = emu.stats();
        if s.packets_built >= s.packets_sent + 16 {
            break;
        }
        assert!(Instant::now() < deadline, "no backlog after 10 s: {s:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
    // The thread is held once it has read `s`, after
    // its last look at the host and before it writes its queue: the gap.
    let hold = emu.hold_after_next_input(HoldAt::BeforeWrite);
    port.write_all(b"s").unwrap();
    assert!(hold.wait_held(Duration::from_secs(10)), "never held");
    let sent_before_gap = emu.stats().packets_sent;
    // Inside the gap the host releases the port, opens it again (flushing
    // its input) and asks for the banner, as a new session's prepare does.
    drop(port);
    let mut port = open(&emu);
    port.write_all(b"v").unwrap();
    drop(hold);
    // The thread now writes packets that were due before that flush: one
    // write of at most 256 bytes (about what a real dongle has in flight),
    // not its 2 KiB queue. It sees the flush on its next look and discards
    // what the host has not read yet, as the real port would have. Whatever
    // the host read first, the banner follows well inside BrainFlow's
    // 500-byte handshake window.
    let mut got = Vec::new();
    while !got.ends_with(b"$$$") {
        got.extend(read_exact(&mut port, 1));
        assert!(
            got.len() <= 256 + BANNER.len(),
            "{} bytes: {got:02x?}",
            got.len()
        );
    }
    let stale = got.len() - BANNER.len();
    assert_eq!(&got[stale..], BANNER);
    emu.settle();
    let s = emu.stats();
    assert!(
        s.packets_sent > sent_before_gap,
        "nothing was written in the gap: {s:?}"
    );
    // Nothing more: the rest of the queue went with the flush. The emulator
    // has settled (two turns after the banner), so a byte it wrote would make
    // the port readable at once; 50 ms bounds the wait for one.
    let mut fds = [PollFd::new(port.as_fd(), PollFlags::POLLIN)];
    let ready = poll(&mut fds, PollTimeout::from(50u16)).unwrap();
    let mut rest = [0u8; 64];
    let n = if ready > 0 {
        port.read(&mut rest).unwrap_or(0)
    } else {
        0
    };
    assert_eq!(n, 0, "bytes after the banner: {:02x?}", &rest[..n]);
}

//! `stream.autostart`: a device that streams without a command begins its
//! stream (packet 0) at the host's flush, and every later flush restarts it.

use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Profile, Scenario, SerialEmulator, SerialOptions};
use nix::sys::termios::{cfmakeraw, tcflush, tcgetattr, tcsetattr, FlushArg, SetArg};
use std::io::Read;
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

/// Reads whatever arrives within `wait`, in non-blocking polls.
fn drain(port: &mut std::fs::File, wait: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let end = Instant::now() + wait;
    let mut buf = [0u8; 4096];
    while Instant::now() < end {
        match port.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    got
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
    // Open and configured, no flush yet: silence.
    assert!(drain(&mut port, Duration::from_millis(150)).is_empty());
    tcflush(&port, FlushArg::TCIFLUSH).unwrap();
    let first = drain(&mut port, Duration::from_millis(300));
    assert_eq!(first.len(), 10 * 21, "the whole limited stream");
    let counters: Vec<u8> = first.chunks(21).map(|p| p[1]).collect();
    assert_eq!(counters, (0..10).collect::<Vec<u8>>());
    // A second flush replays the stream from packet 0.
    tcflush(&port, FlushArg::TCIFLUSH).unwrap();
    let again = drain(&mut port, Duration::from_millis(300));
    assert_eq!(again, first);
}

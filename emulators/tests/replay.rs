//! A recording replayed on a pseudo-terminal: recorded replies to the
//! host's writes, writes split or merged differently from the recording
//! still match, a host that stops early skips what was due after, and a
//! host that writes what the recording does not have is reported.

use boardloop_emulators::recording::Recording;
use boardloop_emulators::replay::{ReplayEmulator, ReplayOptions};
use std::io::Write;
use std::time::Duration;

const REC: &str = "# boardloop recording 1
@transport serial
w 5.000 \"v\"
r 1.000 \"banner$$$\"
w 3.000 \"x1060110X\"
r 1.000 \"Success$$$\"
w 2.000 \"b\"
r 4.000 a0 00 01 c0
r 4.000 a0 01 02 c0
r 4.000 a0 02 03 c0
r 10000.000 a0 03 04 c0
w 1.000 \"s\"
";

fn open(path: &std::path::Path) -> Box<dyn serialport::SerialPort> {
    serialport::new(path.to_string_lossy(), 115_200)
        .timeout(Duration::from_secs(5))
        .open()
        .expect("the replay's port opens")
}

fn read_n(port: &mut dyn serialport::SerialPort, n: usize) -> Vec<u8> {
    let mut got = vec![0u8; n];
    port.read_exact(&mut got)
        .expect("the replay sends what was recorded");
    got
}

#[test]
fn replies_follow_the_recording_and_deviations_are_reported() {
    let rec = Recording::parse(REC).unwrap();
    let replay = ReplayEmulator::spawn(rec, ReplayOptions { speed: 1.0 }).unwrap();
    let mut port = open(replay.path());
    port.write_all(b"v").unwrap();
    assert_eq!(read_n(port.as_mut(), 9), b"banner$$$");
    // One recorded write, sent in two pieces.
    port.write_all(b"x106").unwrap();
    port.flush().unwrap();
    port.write_all(b"0110X").unwrap();
    assert_eq!(read_n(port.as_mut(), 10), b"Success$$$");
    port.write_all(b"b").unwrap();
    assert_eq!(
        read_n(port.as_mut(), 12),
        [0xa0, 0, 1, 0xc0, 0xa0, 1, 2, 0xc0, 0xa0, 2, 3, 0xc0]
    );
    // The host stops before the last packet (due 10 s later) was sent.
    port.write_all(b"s").unwrap();
    // Then writes what the recording does not have.
    port.write_all(b"?").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let stats = loop {
        let s = replay.stats();
        if !s.deviations.is_empty() || std::time::Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(stats.matched_writes, 4, "{stats:?}");
    assert_eq!(stats.skipped, 1, "the packet due after `s` is not sent");
    assert_eq!(stats.sent, 5);
    assert_eq!(
        stats.deviations,
        ["the host wrote \"?\" after the recording's last write"]
    );
}

#[test]
fn a_wrong_command_is_reported_with_its_line_and_the_replay_resumes() {
    let rec = Recording::parse(REC).unwrap();
    let replay = ReplayEmulator::spawn(
        rec,
        ReplayOptions {
            speed: f64::INFINITY,
        },
    )
    .unwrap();
    let mut port = open(replay.path());
    port.write_all(b"v").unwrap();
    assert_eq!(read_n(port.as_mut(), 9), b"banner$$$");
    // The config command is left out: the host starts the stream at once.
    port.write_all(b"b").unwrap();
    assert_eq!(read_n(port.as_mut(), 16)[..4], [0xa0, 0, 1, 0xc0]);
    let s = replay.stop();
    assert_eq!(
        s.deviations,
        ["the host wrote \"b\" where the recording has \"x1060110X\" (line 5); resuming at line 7"]
    );
    assert_eq!(s.skipped, 1, "the config reply was not sent");
}

#[test]
fn a_ble_recording_is_refused_with_a_reason() {
    let rec = Recording::parse("# boardloop recording 1\n@transport ble\n").unwrap();
    let err = ReplayEmulator::spawn(rec, ReplayOptions::default())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "a `ble` recording cannot be replayed on a serial port"
    );
}

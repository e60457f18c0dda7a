//! Driver tests against a tiny scripted fake Cyton on a [`MemoryLink`].

use super::*;
use crate::board::Board;
use crate::link::MemoryLink;
use crate::params::InputParams;
use crate::serial_session::unix_now;
use std::thread;
use std::time::{Duration, Instant};

const BANNER: &[u8] =
    b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\nLIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$";
const UV_G24: f64 = 4.5 / 8_388_607.0 / 24.0 * 1e6;

#[derive(Clone, Default)]
struct Script {
    /// Packets to stream after `b` (counter starts at 1).
    packets: usize,
    /// Packet indices (0-based) not sent, though their counter is used.
    skip: Vec<usize>,
    /// Close the link after streaming.
    drop_after_stream: bool,
    /// Wait this long before closing: a pty hangup discards bytes the host
    /// has not read yet (Linux flushes the slave's input on master close).
    linger_before_drop: Duration,
    /// Never answer anything.
    silent: bool,
    /// Answer `d` with a failure.
    fail_defaults: bool,
}

fn raw(counter: u8, ch: usize) -> i32 {
    (counter as i32 * 1000 + ch as i32) * if ch % 2 == 0 { 1 } else { -1 }
}

/// Independent little encoder.
fn packet(counter: u8) -> Vec<u8> {
    let mut p = vec![0xA0, counter];
    for ch in 0..8 {
        let v = (raw(counter, ch) as u32) & 0xFF_FFFF;
        p.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
    }
    if counter % 10 == 1 {
        p.extend_from_slice(&[0x00, 0x10, 0xFF, 0xF0, 0x01, 0x00]);
    } else {
        p.extend_from_slice(&[0; 6]);
    }
    p.push(0xC0);
    p
}

/// Runs the fake device; returns every byte the host sent.
fn spawn_device(mut link: Box<dyn SerialLink>, s: Script) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut received = Vec::new();
        let mut acc: Vec<u8> = Vec::new();
        let mut streaming = false;
        let mut buf = [0u8; 64];
        loop {
            let n = match link.read(&mut buf, Duration::from_millis(5)) {
                Ok(n) => n,
                Err(_) => return received,
            };
            received.extend_from_slice(&buf[..n]);
            if s.silent {
                continue;
            }
            for &b in &buf[..n] {
                if acc.is_empty() && b != b'x' {
                    match b {
                        b'v' => link.write_all(BANNER).unwrap(),
                        b'd' if s.fail_defaults => link.write_all(b"Failure: nope$$$").unwrap(),
                        b'd' => link
                            .write_all(b"updating channel settings to default$$$")
                            .unwrap(),
                        b'b' => {
                            streaming = true;
                            let mut sent = 0;
                            for i in 0..s.packets {
                                if !s.skip.contains(&i) {
                                    let _ = link.write_all(&packet((i + 1) as u8));
                                    sent += 1;
                                    if sent % 25 == 0 {
                                        thread::sleep(Duration::from_millis(1));
                                    }
                                }
                            }
                            if s.drop_after_stream {
                                // Dropping the device end closes the link.
                                thread::sleep(s.linger_before_drop);
                                return received;
                            }
                        }
                        b's' => streaming = false,
                        _ => link.write_all(b"Failure: unknown command$$$").unwrap(),
                    }
                } else {
                    acc.push(b);
                    if b == b'X' || acc.len() == 9 {
                        let reply = if acc.len() == 9 && b == b'X' {
                            format!("Success: Channel set for {}$$$", acc[1] as char)
                        } else {
                            "Failure: Err: 9th char not X$$$".to_string()
                        };
                        // The firmware echoes nothing while streaming.
                        if !streaming {
                            let _ = link.write_all(reply.as_bytes());
                        }
                        acc.clear();
                    }
                }
            }
        }
    })
}

fn fast_timing() -> Timing {
    Timing {
        read_timeout: Duration::from_millis(300),
        max_empty_reads: 3,
        total_timeout: None,
        idle_gap: Duration::from_millis(40),
        poll_interval: Duration::from_millis(5),
    }
}

fn board_with(variant: CytonVariant, s: Script) -> (CytonBoard, thread::JoinHandle<Vec<u8>>) {
    let (host, dev) = MemoryLink::pair();
    let dev = spawn_device(Box::new(dev), s);
    let board = CytonBoard::with_link(variant, Box::new(host), fast_timing()).named("mem0");
    (board, dev)
}

/// The same fake device behind a real pseudo-terminal, driven through
/// [`crate::link::SerialPortLink`].
#[cfg(unix)]
fn board_over_pty(variant: CytonVariant, s: Script) -> (CytonBoard, thread::JoinHandle<Vec<u8>>) {
    use crate::link::SerialPortLink;
    let (master, slave) = serialport::TTYPort::pair().expect("pty pair");
    let name = serialport::SerialPort::name(&slave).unwrap_or_else(|| "pty".into());
    let dev = spawn_device(
        Box::new(SerialPortLink::from_port(Box::new(master), "master")),
        s,
    );
    let host = SerialPortLink::from_port(Box::new(slave), name.clone());
    let board = CytonBoard::with_link(variant, Box::new(host), fast_timing()).named(name);
    (board, dev)
}

#[cfg(unix)]
#[test]
fn session_over_pty_with_hangup() {
    let script = Script {
        packets: 256,
        skip: vec![7],
        drop_after_stream: true,
        linger_before_drop: Duration::from_millis(200),
        ..Default::default()
    };
    let (mut b, dev) = board_over_pty(CytonVariant::Cyton, script);
    b.prepare_session().unwrap();
    assert_eq!(
        b.config_board("x4020000X").unwrap(),
        "Success: Channel set for 4$$$"
    );
    b.start_stream(1000).unwrap();
    dev.join().unwrap();
    wait_for(&b, |b| b.stream_stats().link_error.is_some());
    assert_eq!(b.stop_stream().unwrap_err().code, ExitCode::IncommingMsg);
    let st = b.stream_stats();
    assert_eq!((st.decode.packets, st.decode.lost_packets), (255, 1));
    assert_eq!(
        st.decode.garbage_bytes, 0,
        "pty must pass binary bytes unchanged"
    );
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.num_samples, 255);
    let last = d.sample(254);
    assert_eq!(last[0], 0.0, "counter 256 wraps to 0");
    assert!(
        (last[4] - raw(0, 3) as f64 * UV_G24 * 6.0).abs() < 1e-9,
        "gain 4 on ch 4"
    );
}

fn wait_for(board: &CytonBoard, pred: impl Fn(&CytonBoard) -> bool) {
    let t = Instant::now();
    while !pred(board) {
        assert!(t.elapsed() < Duration::from_secs(5), "timed out waiting");
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn full_session() {
    let script = Script {
        packets: 300,
        skip: vec![50, 51, 200],
        ..Default::default()
    };
    let (mut b, dev) = board_with(CytonVariant::Cyton, script);
    assert_eq!(b.board_id(), BoardId::Cyton);
    b.prepare_session().unwrap();
    assert!(b.is_prepared());
    b.prepare_session().unwrap(); // idempotent
    assert_eq!(
        b.get_board_data_count(Preset::Default).unwrap_err().code,
        ExitCode::InvalidArguments
    );

    // Config while idle: reply collected, gain tracked.
    let reply = b.config_board("x2010000X").unwrap();
    assert_eq!(reply, "Success: Channel set for 2$$$");
    assert_eq!(b.gains()[1], 2.0);
    let reply = b.config_board("x3010000Y").unwrap();
    assert!(reply.starts_with("Failure"));
    assert_eq!(b.gains()[2], 24.0);

    b.insert_marker(7.5, Preset::Default).unwrap();
    let before = unix_now();
    b.start_stream(10_000).unwrap();
    assert_eq!(
        b.start_stream(10).unwrap_err().code,
        ExitCode::StreamAlreadyRun
    );
    wait_for(&b, |b| {
        b.get_board_data_count(Preset::Default).unwrap() >= 297
    });
    // Config while streaming: empty reply, gain applied to the decoder.
    assert_eq!(b.config_board("x1000000X").unwrap(), "");
    assert_eq!(b.gains()[0], 1.0);
    b.stop_stream().unwrap();
    assert_eq!(
        b.stop_stream().unwrap_err().code,
        ExitCode::StreamThreadIsNotRunning
    );

    let stats = b.stream_stats();
    assert_eq!(stats.decode.packets, 297);
    assert_eq!(stats.decode.lost_packets, 3);
    assert_eq!(stats.decode.garbage_bytes, 0);
    assert_eq!(stats.bytes_read, 297 * 33);
    assert_eq!(stats.link_error, None);

    let cur = b.get_current_board_data(5, Preset::Default).unwrap();
    assert_eq!(
        cur.row(0),
        &[296.0, 297.0, 298.0, 299.0, 300.0].map(|c: f64| c % 256.0)
    );
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(b.get_board_data_count(Preset::Default).unwrap(), 0);
    assert_eq!((d.num_rows, d.num_samples), (24, 297));
    let first = d.sample(0);
    assert_eq!(first[0], 1.0);
    assert!((first[1] - raw(1, 0) as f64 * UV_G24).abs() < 1e-9);
    assert!(
        (first[2] - raw(1, 1) as f64 * UV_G24 * 12.0).abs() < 1e-9,
        "gain 2 on ch 2"
    );
    assert!((first[9] - 16.0 * 0.002 / 16.0).abs() < 1e-12);
    assert!((first[10] + 16.0 * 0.002 / 16.0).abs() < 1e-12);
    let second = d.sample(1);
    assert_eq!(second[9], first[9], "accel held");
    // Marker on exactly the first row, timestamps are host Unix seconds.
    assert_eq!(first[23], 7.5);
    assert!(d.row(23)[1..].iter().all(|m| *m == 0.0));
    let ts = d.row(22);
    assert!(ts
        .iter()
        .all(|t| *t >= before - 1.0 && *t <= unix_now() + 1.0));
    assert!(ts.windows(2).all(|w| w[1] >= w[0]));
    // Counter row skips the lost packets.
    let counters: Vec<u32> = d.row(0).iter().map(|c| *c as u32).collect();
    assert!(!counters.contains(&51) && !counters.contains(&52) && counters.contains(&53));

    b.release_session().unwrap();
    assert!(!b.is_prepared());
    drop(b);
    let sent = dev.join().unwrap();
    assert!(sent.starts_with(b"vd"));
    assert!(sent.ends_with(b"bx1000000Xs"));
}

#[test]
fn session_state_errors() {
    let (mut b, dev) = board_with(CytonVariant::Cyton, Script::default());
    assert_eq!(
        b.start_stream(10).unwrap_err().code,
        ExitCode::BoardNotCreated
    );
    assert_eq!(
        b.config_board("x").unwrap_err().code,
        ExitCode::BoardNotReady
    );
    assert_eq!(
        b.stop_stream().unwrap_err().code,
        ExitCode::StreamThreadIsNotRunning
    );
    assert_eq!(
        b.get_board_data(None, Preset::Default).unwrap_err().code,
        ExitCode::BoardNotCreated
    );
    assert_eq!(
        b.release_session().unwrap_err().code,
        ExitCode::BoardNotCreated
    );
    assert_eq!(
        b.insert_marker(1.0, Preset::Default).unwrap_err().code,
        ExitCode::BoardNotCreated
    );
    b.prepare_session().unwrap();
    assert_eq!(
        b.start_stream(0).unwrap_err().code,
        ExitCode::InvalidBufferSize
    );
    assert_eq!(
        b.insert_marker(0.0, Preset::Default).unwrap_err().code,
        ExitCode::InvalidArguments
    );
    assert_eq!(
        b.insert_marker(1.0, Preset::Auxiliary).unwrap_err().code,
        ExitCode::InvalidArguments
    );
    assert_eq!(
        b.get_board_data_count(Preset::Ancillary).unwrap_err().code,
        ExitCode::InvalidArguments
    );
    b.start_stream(5).unwrap();
    assert_eq!(
        b.get_board_data(Some(0), Preset::Default).unwrap_err().code,
        ExitCode::InvalidArguments
    );
    assert_eq!(
        b.get_current_board_data(3, Preset::Default)
            .unwrap()
            .num_samples,
        0
    );
    b.release_session().unwrap(); // stops the stream too
    assert!(!b.is_streaming());
    // A released session over a given link can be prepared again.
    b.prepare_session().unwrap();
    drop(b);
    dev.join().unwrap();
}

#[test]
fn link_drop_keeps_data_and_reports() {
    let script = Script {
        packets: 120,
        drop_after_stream: true,
        ..Default::default()
    };
    let (mut b, dev) = board_with(CytonVariant::Cyton, script);
    b.prepare_session().unwrap();
    b.start_stream(1000).unwrap();
    wait_for(&b, |b| b.stream_stats().link_error.is_some());
    dev.join().unwrap();
    let e = b.config_board("x1000000X").unwrap_err();
    assert_eq!(e.code, ExitCode::BoardWrite);
    assert!(e.message.contains("lost"), "{e}");
    let e = b.stop_stream().unwrap_err();
    assert_eq!(e.code, ExitCode::IncommingMsg);
    assert!(e.message.contains("mem0"), "{e}");
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.num_samples, 120);
    let st = b.stream_stats();
    assert_eq!(st.decode.lost_packets, 0);
    assert!(st.link_error.unwrap().contains("lost"));
    b.release_session().unwrap();
    assert_eq!(
        b.release_session().unwrap_err().code,
        ExitCode::BoardNotCreated
    );
}

#[test]
fn silent_device_is_not_ready_quickly() {
    let (mut b, dev) = board_with(
        CytonVariant::Cyton,
        Script {
            silent: true,
            ..Default::default()
        },
    );
    b.timing.read_timeout = Duration::from_millis(100);
    let t = Instant::now();
    let e = b.prepare_session().unwrap_err();
    // 4 empty reads of 100 ms (more than max_empty_reads = 3).
    assert!(
        t.elapsed() < Duration::from_millis(1000),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(e.code, ExitCode::BoardNotReady);
    assert!(
        e.message.contains("mem0") && e.message.contains("received 0 bytes"),
        "{e}"
    );
    assert!(!b.is_prepared());

    // With a total timeout instead of the empty-read count.
    b.timing.read_timeout = Duration::from_secs(1);
    b.timing.total_timeout = Some(Duration::from_millis(250));
    let t = Instant::now();
    assert_eq!(
        b.prepare_session().unwrap_err().code,
        ExitCode::BoardNotReady
    );
    let el = t.elapsed();
    assert!(
        el >= Duration::from_millis(240) && el < Duration::from_millis(800),
        "{el:?}"
    );
    drop(b);
    assert_eq!(dev.join().unwrap(), b"vv");
}

#[test]
fn failure_to_defaults_is_not_ready() {
    let (mut b, dev) = board_with(
        CytonVariant::Cyton,
        Script {
            fail_defaults: true,
            ..Default::default()
        },
    );
    let e = b.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReady);
    assert!(e.message.contains("Failure"));
    drop(b);
    dev.join().unwrap();
}

#[test]
fn daisy_session_pairs_rows() {
    let script = Script {
        packets: 200,
        // Counters start at 1: the leading odd packet has no partner; counter 11
        // (odd) is lost, so counter 10 has none either.
        skip: vec![10],
        ..Default::default()
    };
    let (mut b, dev) = board_with(CytonVariant::Daisy, script);
    assert_eq!(b.board_id(), BoardId::CytonDaisy);
    b.prepare_session().unwrap();
    b.start_stream(1000).unwrap();
    wait_for(&b, |b| b.stream_stats().decode.packets >= 199);
    b.stop_stream().unwrap();
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!((d.num_rows, d.num_samples), (32, 98));
    let st = b.stream_stats();
    assert_eq!((st.decode.lost_packets, st.decode.unpaired), (1, 2));
    let s0 = d.sample(0);
    assert_eq!(s0[0], 2.0);
    assert!((s0[9] - raw(2, 0) as f64 * UV_G24).abs() < 1e-9);
    // Accel sample on counter 1 only (discarded half): both halves hold it.
    assert!((s0[17] - 16.0 * 0.002 / 16.0).abs() < 1e-12);
    drop(b);
    dev.join().unwrap();
}

#[test]
fn timing_from_params() {
    let mut p = InputParams::default();
    assert_eq!(Timing::from_params(&p), Timing::default());
    p.timeout = 3;
    assert_eq!(
        Timing::from_params(&p).total_timeout,
        Some(Duration::from_secs(3))
    );
}

// The protocol's steps alone: no threads, no ports, fake time.

mod steps {
    use super::super::*;
    use crate::steps::fake::{self, FakeSerial};
    use crate::steps::SerialIo;
    use std::time::Duration;

    fn handshake(t: &Timing, dev: FakeSerial) -> (Result<String>, fake::Trace<SerialIo>) {
        fake::serial(&mut Handshake::new("ttyC", t), dev)
    }

    #[test]
    fn handshake_finds_split_banner_then_sends_defaults() {
        let dev = FakeSerial::script(&[
            Some(b"OpenBCI V3 $"),
            None,
            Some(b"$"),
            Some(b"$"),
            Some(b"updating channel settings to default$$$"),
        ]);
        let (r, t) = handshake(&Timing::default(), dev);
        assert_eq!(r.unwrap(), "updating channel settings to default$$$");
        assert_eq!(t.actions[0], SerialIo::ClearInput);
        assert_eq!(t.writes(), ["v", "d"]);
    }

    #[test]
    fn handshake_gives_up_after_500_bytes_without_dollars() {
        let dev = FakeSerial::script(&[Some(&[b'a'; 600])]);
        let e = handshake(&Timing::default(), dev).0.unwrap_err();
        assert_eq!(e.code, ExitCode::BoardNotReady);
        assert!(e.message.contains("first 500 bytes"), "{e}");
        assert!(e.message.contains("received 500 bytes"), "{e}");
    }

    #[test]
    fn handshake_gives_up_after_empty_reads_or_total_timeout() {
        // Default: more than 5 empty reads of 1 s each.
        let (r, t) = handshake(&Timing::default(), FakeSerial::default());
        let e = r.unwrap_err();
        assert_eq!(e.code, ExitCode::BoardNotReady);
        assert!(e.message.contains("no '$$$' after 6.0 s"), "{e}");
        assert_eq!(t.elapsed, Duration::from_secs(6));
        assert_eq!(t.writes(), ["v"]);
        // A total timeout instead: the last read waits only for what is left.
        let timing = Timing {
            total_timeout: Some(Duration::from_millis(2500)),
            ..Timing::default()
        };
        let (r, t) = handshake(&timing, FakeSerial::default());
        assert!(r.unwrap_err().message.contains("(timeout)"));
        assert_eq!(t.elapsed, Duration::from_millis(2500));
        assert_eq!(
            t.actions.last(),
            Some(&SerialIo::Read {
                max: 64,
                timeout: Duration::from_millis(500)
            })
        );
    }

    #[test]
    fn handshake_errors_carry_brainflow_codes() {
        let dev = FakeSerial {
            fail_writes: Some(std::io::ErrorKind::BrokenPipe),
            ..FakeSerial::default()
        };
        let e = handshake(&Timing::default(), dev).0.unwrap_err();
        assert_eq!(e.code, ExitCode::BoardWrite);
        let dev = FakeSerial::script(&[Some(b"$$$"), Some(b"Failure: no$$$")]);
        let e = handshake(&Timing::default(), dev).0.unwrap_err();
        assert_eq!(e.code, ExitCode::BoardNotReady);
        assert!(e.message.contains("refused defaults"), "{e}");
        let mut dev = FakeSerial::script(&[Some(b"xx")]);
        dev.fail_reads_after_script = Some(std::io::ErrorKind::NotConnected);
        let e = handshake(&Timing::default(), dev).0.unwrap_err();
        assert_eq!(e.code, ExitCode::BoardNotReady);
        assert!(e.message.contains("read failed"), "{e}");
    }

    #[test]
    fn start_stop_and_config_steps() {
        let p = CytonProtocol::new(CytonVariant::Cyton);
        let t = Timing::default();
        let (r, tr) = fake::serial(p.start("c", &t).as_mut(), FakeSerial::default());
        r.unwrap();
        assert_eq!(
            tr.actions,
            [SerialIo::ClearInput, SerialIo::Write(b"b".to_vec())]
        );
        let (_, tr) = fake::serial(p.stop("c", &t).unwrap().as_mut(), FakeSerial::default());
        assert_eq!(tr.writes(), ["s"]);
        // Not streaming: the reply ends at `$$$`.
        let dev = FakeSerial::script(&[Some(b"Success: Channel set for 1$$$"), Some(b"rest")]);
        let (r, _) = fake::serial(p.config("x1060110X", false, "c", &t).as_mut(), dev);
        assert_eq!(r.unwrap(), "Success: Channel set for 1$$$");
        // Streaming: written, nothing read.
        let (r, tr) = fake::serial(
            p.config("x1060110X", true, "c", &t).as_mut(),
            FakeSerial::script(&[Some(b"packets")]),
        );
        assert_eq!(r.unwrap(), "");
        assert_eq!(tr.actions, [SerialIo::Write(b"x1060110X".to_vec())]);
        // Gains follow the reply.
        let mut d = p.decoder();
        p.config_done(&mut d, "x2010000X", "Failure: no$$$");
        assert_eq!(d.gains()[1], 24.0);
        p.config_done(&mut d, "x2010000X", "Success$$$");
        assert_eq!(d.gains()[1], 2.0);
    }
}

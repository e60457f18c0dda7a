//! Driver tests against a scripted fake Knight on a [`MemoryLink`].

use super::*;
use crate::board::Board;
use crate::codec::knight::exg_microvolts;
use crate::error::BoardError;
use crate::link::{MemoryLink, SerialLink};
use std::time::{Duration, Instant};

fn packet(counter: u8) -> Vec<u8> {
    let mut p = vec![0xA0, counter];
    for ch in 0..8i16 {
        p.extend_from_slice(&(i16::from(counter) * 10 - ch).to_be_bytes());
    }
    p.extend_from_slice(&[3, 4, 0xC0]);
    p
}

fn fast() -> Timing {
    Timing {
        read_timeout: Duration::from_millis(200),
        idle_gap: Duration::from_millis(30),
        ..Timing::default()
    }
}

fn board() -> (KnightBoard, MemoryLink) {
    let (host, dev) = MemoryLink::pair();
    let mut slot = Some(host);
    let opener: LinkOpener = Box::new(move || {
        slot.take()
            .map(|l| Box::new(l) as Box<dyn SerialLink>)
            .ok_or_else(|| BoardError::new(ExitCode::UnableToOpenPort, "gone"))
    });
    (KnightBoard::with_opener("mem".into(), opener, fast()), dev)
}

fn wait_rows(b: &KnightBoard, n: usize) {
    let t = Instant::now();
    while b.get_board_data_count(Preset::Default).unwrap() < n {
        assert!(t.elapsed() < Duration::from_secs(5), "rows never came");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn lifecycle_data_markers_and_loss() {
    let (mut b, mut dev) = board();
    assert_eq!(
        b.start_stream(10).unwrap_err().code,
        ExitCode::BoardNotCreated
    );
    b.prepare_session().unwrap();
    // No handshake: the device has received nothing.
    let mut got = [0u8; 8];
    assert_eq!(dev.read(&mut got, Duration::from_millis(20)).unwrap(), 0);
    // Stale bytes before the stream are discarded by start_stream.
    dev.write_all(&packet(99)).unwrap();
    assert_eq!(
        b.start_stream(0).unwrap_err().code,
        ExitCode::InvalidBufferSize
    );
    b.start_stream(100).unwrap();
    assert_eq!(
        b.start_stream(100).unwrap_err().code,
        ExitCode::StreamAlreadyRun
    );
    b.insert_marker(2.5, Preset::Default).unwrap();
    for c in [0u8, 1, 2, 5, 6] {
        dev.write_all(&packet(c)).unwrap();
    }
    wait_rows(&b, 5);
    b.stop_stream().unwrap();
    assert_eq!(
        b.stop_stream().unwrap_err().code,
        ExitCode::StreamThreadIsNotRunning
    );
    let s = b.stream_stats();
    assert_eq!((s.decode.rows, s.decode.lost_packets), (5, 2));
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.num_rows, 13);
    assert_eq!(d.row(0), &[0.0, 1.0, 2.0, 5.0, 6.0]);
    assert_eq!(d.row(2)[3], exg_microvolts(49));
    assert_eq!(d.row(9)[0], 3.0);
    assert_eq!(d.row(12), &[2.5, 0.0, 0.0, 0.0, 0.0]);
    assert!(d.row(11)[0] > 1.6e9);
    b.release_session().unwrap();
    assert_eq!(
        b.release_session().unwrap_err().code,
        ExitCode::BoardNotCreated
    );
}

#[test]
fn config_reply_and_lost_link() {
    let (mut b, dev) = board();
    assert_eq!(
        b.config_board("x").unwrap_err().code,
        ExitCode::BoardNotReady
    );
    b.prepare_session().unwrap();
    let echo = std::thread::spawn(move || {
        let mut dev = dev;
        let mut buf = [0u8; 64];
        let mut cmd = Vec::new();
        while cmd.len() < 9 {
            let n = dev.read(&mut buf, Duration::from_secs(2)).unwrap();
            cmd.extend_from_slice(&buf[..n]);
        }
        dev.write_all(b"ok ").unwrap();
        dev.write_all(&cmd).unwrap();
        dev
    });
    assert_eq!(b.config_board("chon_1_12").unwrap(), "ok chon_1_12");
    let dev = echo.join().unwrap();
    b.start_stream(10).unwrap();
    dev.close();
    drop(dev);
    let t = Instant::now();
    while b.stream_stats().link_error.is_none() {
        assert!(t.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(b.stop_stream().unwrap_err().code, ExitCode::IncommingMsg);
    b.release_session().unwrap();
}

#[test]
fn empty_port_is_invalid_arguments() {
    let opener: LinkOpener = Box::new(|| unreachable!("never opened"));
    let mut b = KnightBoard::with_opener(String::new(), opener, fast());
    assert_eq!(
        b.prepare_session().unwrap_err().code,
        ExitCode::InvalidArguments
    );
}

// The protocol's steps alone: no threads, no ports, fake time.

#[test]
fn config_reply_is_cut_at_4096_bytes() {
    use crate::steps::fake::{self, FakeSerial};
    let t = fast();
    let p = KnightProtocol::default();
    let (long, rest) = (vec![b'k'; 5000], vec![b'z'; 10]);
    let dev = FakeSerial::script(&[Some(b"12345"), Some(&long), Some(&rest)]);
    let (r, tr) = fake::serial(p.config("chon_1_12", false, "k", &t).as_mut(), dev);
    let r = r.unwrap();
    assert_eq!(r.len(), 4096);
    assert!(r.starts_with("12345k"));
    assert_eq!(tr.writes(), ["chon_1_12"]);
    // Idle ends a short reply; a reply read failing is BoardWrite.
    let dev = FakeSerial::script(&[Some(b"ok"), None, Some(b"late")]);
    let (r, _) = fake::serial(p.config("x", false, "k", &t).as_mut(), dev);
    assert_eq!(r.unwrap(), "ok");
    let dev = FakeSerial {
        fail_reads_after_script: Some(std::io::ErrorKind::NotConnected),
        ..FakeSerial::default()
    };
    let (r, _) = fake::serial(p.config("x", false, "k", &t).as_mut(), dev);
    assert_eq!(r.unwrap_err().code, ExitCode::BoardWrite);
}

#[test]
fn start_only_clears_input_and_a_failed_clear_is_incomming_msg() {
    use crate::steps::fake::{self, FakeSerial};
    use crate::steps::SerialIo;
    let p = KnightProtocol::default();
    let (r, tr) = fake::serial(p.start("k", &fast()).as_mut(), FakeSerial::default());
    r.unwrap();
    assert_eq!(tr.actions, [SerialIo::ClearInput]);
    let dev = FakeSerial {
        fail_clear: Some(std::io::ErrorKind::NotConnected),
        ..FakeSerial::default()
    };
    let e = fake::serial(p.start("k", &fast()).as_mut(), dev)
        .0
        .unwrap_err();
    assert_eq!(e.code, ExitCode::IncommingMsg);
    assert!(p.stop("k", &fast()).is_none());
    assert!(p.handshake("k", &fast()).is_none());
}

#[test]
fn imu_board_streams_its_57_byte_packets_into_22_rows() {
    let (host, mut dev) = MemoryLink::pair();
    let mut slot = Some(host);
    let opener: LinkOpener = Box::new(move || {
        slot.take()
            .map(|l| Box::new(l) as Box<dyn SerialLink>)
            .ok_or_else(|| BoardError::new(ExitCode::UnableToOpenPort, "gone"))
    });
    let mut b = KnightBoard::with_frame(KnightFrame::Imu, "mem".into(), opener, fast());
    assert_eq!(b.board_id(), BoardId::NeuropawnKnightImu);
    b.prepare_session().unwrap();
    b.start_stream(100).unwrap();
    for c in [0u8, 1, 3] {
        let mut p = packet(c);
        p.pop();
        for k in 0..9u8 {
            p.extend_from_slice(&(f32::from(c) + f32::from(k) / 4.0).to_le_bytes());
        }
        p.push(0xC0);
        dev.write_all(&p).unwrap();
    }
    wait_rows(&b, 3);
    b.stop_stream().unwrap();
    assert_eq!(b.stream_stats().decode.lost_packets, 1);
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.num_rows, 22);
    assert_eq!(d.row(0), &[0.0, 1.0, 3.0]);
    assert_eq!(d.row(2)[2], exg_microvolts(29));
    assert_eq!((d.row(9)[0], d.row(10)[0]), (3.0, 4.0));
    assert_eq!(d.row(11), &[0.0, 1.0, 3.0]);
    assert_eq!(d.row(19), &[2.0, 3.0, 5.0]);
    assert!(d.row(20)[0] > 1.6e9);
    b.release_session().unwrap();
}

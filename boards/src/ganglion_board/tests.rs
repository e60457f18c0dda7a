use std::time::{Duration, Instant};

use super::*;
use crate::ble::{CharProps, MemoryBle, MemoryPeripheral};
use crate::board::Board;

fn fake(revision: &[u8]) -> (MemoryBle, MemoryPeripheral) {
    let p = MemoryPeripheral::new("Ganglion-1a2b", "C0:FF:EE:00:00:01")
        .with_characteristic(SERVICE, NOTIFY_CHAR, CharProps::NOTIFY)
        .with_characteristic(
            SERVICE,
            WRITE_CHAR,
            CharProps {
                write_without_response: true,
                write: true,
                ..CharProps::default()
            },
        )
        .with_characteristic(SERVICE, DISCONNECT_CHAR, CharProps::WRITE)
        .with_characteristic(Uuid::from_u16(0x180A), SOFTWARE_REVISION, CharProps::READ);
    p.set_value(SOFTWARE_REVISION, revision);
    let ble = MemoryBle::new();
    ble.add(&p);
    (ble, p)
}

fn board(ble: &MemoryBle) -> GanglionBoard {
    GanglionBoard::with_connector(Box::new(ble.clone()), &InputParams::default())
        .with_timeout(Duration::from_millis(200))
}

/// An 18-bit packet with every field = `v` (MSB-first, as the firmware packs).
fn fw3(id: u8, v: u32) -> Vec<u8> {
    let mut p = vec![0u8; 20];
    p[0] = id;
    for k in 0..8 * 18 {
        let bit = (v >> (17 - k % 18)) & 1;
        p[1 + k / 8] |= (bit as u8) << (7 - k % 8);
    }
    p
}

fn wait_count(b: &dyn Board, preset: Preset, n: usize) {
    let t = Instant::now();
    while b.get_board_data_count(preset).unwrap_or(0) < n {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "timed out waiting for {n} rows"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn cmds(p: &MemoryPeripheral) -> Vec<String> {
    p.take_writes()
        .into_iter()
        .map(|w| {
            assert_eq!(w.uuid, WRITE_CHAR);
            assert!(!w.with_response, "commands go without response");
            String::from_utf8(w.value).unwrap()
        })
        .collect()
}

#[test]
fn stream_commands_markers_and_loss() {
    let (ble, p) = fake(b"3.1.0");
    let mut b = board(&ble);
    assert_eq!(
        b.config_board("n").unwrap_err().code,
        ExitCode::BoardNotCreated
    );
    b.prepare_session().unwrap();
    assert_eq!(b.firmware(), Some(GanglionFirmware::V3));
    assert_eq!(b.device().unwrap().name, "Ganglion-1a2b");
    assert!(p.is_subscribed(NOTIFY_CHAR));
    assert_eq!(b.config_board("get_firmware_version").unwrap(), "3");
    assert_eq!(
        b.get_board_data_count(Preset::Default).unwrap_err().code,
        ExitCode::InvalidArguments
    );
    assert_eq!(
        b.start_stream(0).unwrap_err().code,
        ExitCode::InvalidBufferSize
    );
    b.start_stream(1000).unwrap();
    assert_eq!(
        b.start_stream(1000).unwrap_err().code,
        ExitCode::StreamAlreadyRun
    );
    b.insert_marker(7.0, Preset::Default).unwrap();
    assert_eq!(
        b.insert_marker(1.0, Preset::Auxiliary).unwrap_err().code,
        ExitCode::InvalidArguments
    );
    for id in [0u8, 1, 2, 4, 5] {
        assert!(p.notify(NOTIFY_CHAR, &fw3(id, 1000)));
    }
    wait_count(&b, Preset::Default, 10);
    b.config_board("n").unwrap();
    b.config_board("~4").unwrap();
    b.stop_stream().unwrap();
    assert_eq!(
        b.stop_stream().unwrap_err().code,
        ExitCode::StreamThreadIsNotRunning
    );
    assert_eq!(cmds(&p), ["b", "n", "~4", "s"]);
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.num_samples, 10);
    assert_eq!(d.row(0)[..4], [0.0, 0.0, 1.0, 1.0]);
    assert_eq!(
        d.row(1)[0],
        1000.0 * 64.0 * crate::codec::ganglion::EEG_SCALE
    );
    assert_eq!(d.row(14)[0], 7.0, "marker on the first row");
    assert!(d.row(14)[1..].iter().all(|m| *m == 0.0));
    assert!(d.row(13).iter().all(|t| *t > 1.6e9));
    let s = b.stream_stats();
    assert_eq!(s.decode.lost_packets, 1);
    assert_eq!(s.decode.packets, 5);
    assert_eq!(s.decode.rows, 10);
    b.release_session().unwrap();
    assert!(!p.is_connected());
    assert_eq!(
        b.release_session().unwrap_err().code,
        ExitCode::BoardNotCreated
    );
}

#[test]
fn impedance_mode_swaps_start_and_stop() {
    let (ble, p) = fake(b"3.1.0");
    let mut b = board(&ble);
    b.prepare_session().unwrap();
    b.config_board("z").unwrap();
    assert!(b.impedance_mode());
    b.start_stream(100).unwrap();
    p.notify(NOTIFY_CHAR, b"\xC9512Z");
    p.notify(NOTIFY_CHAR, b"\xCD20Z");
    wait_count(&b, Preset::Default, 2);
    b.config_board("Z").unwrap();
    assert!(!b.impedance_mode());
    b.stop_stream().unwrap();
    assert_eq!(cmds(&p), ["z", "Z", "b", "s"]);
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.sample(1)[8..13], [512.0, 0.0, 0.0, 0.0, 20.0]);
    assert_eq!(b.ganglion_stats().impedance_packets, 2);
    assert_eq!(
        b.config_board("").unwrap_err().code,
        ExitCode::InvalidArguments
    );
}

#[test]
fn firmware_2_detected_and_decoded() {
    let (ble, p) = fake(b"2.0.0");
    let mut b = board(&ble);
    b.prepare_session().unwrap();
    assert_eq!(b.firmware(), Some(GanglionFirmware::V2));
    assert_eq!(b.config_board("get_firmware_version").unwrap(), "2");
    b.start_stream(100).unwrap();
    let mut raw = vec![0u8; 20];
    raw[1..4].copy_from_slice(&[0, 0x10, 0]);
    p.notify(NOTIFY_CHAR, &raw);
    // Deltas of 1: each sample is one count lower.
    p.notify(NOTIFY_CHAR, &fw3(1, 1));
    wait_count(&b, Preset::Default, 3);
    let d = b.get_board_data(None, Preset::Default).unwrap();
    let s = crate::codec::ganglion::EEG_SCALE;
    assert_eq!(d.row(1), [4096.0 * s, 4095.0 * s, 4094.0 * s]);
    b.release_session().unwrap();
}

#[test]
fn other_info_names_the_firmware_over_the_revision_else_the_revision_decides() {
    for (other_info, revision, expected) in [
        ("fw:2", &b"3.0.0"[..], GanglionFirmware::V2),
        ("fw:3", b"2.0.0", GanglionFirmware::V3),
        ("fw:auto", b"2.0.0", GanglionFirmware::V2),
        ("fw:auto", b"3.1.0", GanglionFirmware::V3),
        // BrainFlow 5.21+ assumes firmware 3 here; we read the revision.
        ("", b"2.0.0", GanglionFirmware::V2),
        ("something else", b"3.0.0", GanglionFirmware::V3),
    ] {
        let (ble, _p) = fake(revision);
        let params = InputParams {
            other_info: other_info.into(),
            ..InputParams::default()
        };
        let mut b = GanglionBoard::with_connector(Box::new(ble.clone()), &params)
            .with_timeout(Duration::from_millis(200));
        b.prepare_session().unwrap();
        assert_eq!(
            b.firmware(),
            Some(expected),
            "other_info {other_info:?}, revision {:?}",
            String::from_utf8_lossy(revision)
        );
        b.release_session().unwrap();
    }
}

#[test]
fn link_drop_keeps_rows_and_errors_next_call() {
    let (ble, p) = fake(b"3.1.0");
    let mut b = board(&ble);
    b.prepare_session().unwrap();
    b.start_stream(100).unwrap();
    for id in 0..4u8 {
        p.notify(NOTIFY_CHAR, &fw3(id, 5));
    }
    p.drop_link();
    let t = Instant::now();
    while b.stream_stats().link_error.is_none() {
        assert!(t.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(b.get_board_data_count(Preset::Default).unwrap(), 8);
    let e = b.config_board("n").unwrap_err();
    assert_eq!(e.code, ExitCode::BoardWrite);
    assert!(e.message.contains("lost"), "{}", e.message);
    let e = b.stop_stream().unwrap_err();
    assert_eq!(e.code, ExitCode::IncommingMsg);
    assert_eq!(
        b.get_board_data(None, Preset::Default).unwrap().num_samples,
        8
    );
    b.release_session().unwrap();
}

#[test]
fn device_never_found_names_the_search() {
    let ble = MemoryBle::new();
    let mut b = board(&ble);
    let e = b.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReady);
    assert!(
        e.message.contains("\"Ganglion\" or \"Simblee\""),
        "{}",
        e.message
    );
    assert!(!b.is_prepared());
    let params = InputParams {
        mac_address: "AA:BB:CC:DD:EE:FF".into(),
        ..InputParams::default()
    };
    let (ble, _p) = fake(b"3");
    let mut b = GanglionBoard::with_connector(Box::new(ble), &params)
        .with_timeout(Duration::from_millis(30));
    let e = b.prepare_session().unwrap_err();
    assert!(e.message.contains("AA:BB:CC:DD:EE:FF"), "{}", e.message);
    assert!(e.message.contains("Ganglion-1a2b"), "{}", e.message);
}

// The protocol's steps alone: no threads, no link.

mod steps {
    use super::super::*;
    use crate::steps::fake;
    use crate::steps::BleIo;

    fn writes(step: BleStep) -> Vec<String> {
        let mut step = step;
        let (r, t) = fake::ble(step.as_mut(), None, None);
        r.unwrap();
        for a in &t.actions {
            assert!(
                matches!(a, BleIo::Write { uuid, with_response: false, .. } if *uuid == WRITE_CHAR),
                "{a:?}"
            );
        }
        t.writes()
    }

    fn send(p: &GanglionProtocol, config: &str, streaming: bool) -> BleStep {
        match p.config(config, streaming).unwrap() {
            BleConfig::Send(s) => s,
            BleConfig::Reply(r) => panic!("answered locally: {r}"),
            BleConfig::FromDecoder => panic!("answered from the decoder"),
        }
    }

    #[test]
    fn setup_reads_firmware_and_subscribes() {
        let mut p = GanglionProtocol::default();
        let e = p.setup(&[NOTIFY_CHAR]).err().unwrap();
        assert_eq!(e.code, ExitCode::BoardNotReady);
        assert!(e.message.contains("command characteristic"), "{e}");
        let mut step = p.setup(&[NOTIFY_CHAR, WRITE_CHAR]).unwrap();
        let (r, t) = fake::ble(step.as_mut(), Some(b"3.1.0"), None);
        let rev = r.unwrap();
        assert_eq!(
            t.actions,
            [
                BleIo::Read(SOFTWARE_REVISION),
                BleIo::Subscribe(NOTIFY_CHAR)
            ]
        );
        let mut d = p.decoder();
        p.setup_done(&mut d, &rev);
        assert_eq!(p.firmware, Some(GanglionFirmware::V3));
        // No revision: firmware 2, as BrainFlow assumes.
        let mut step = p.setup(&[NOTIFY_CHAR, WRITE_CHAR]).unwrap();
        let rev = fake::ble(step.as_mut(), None, None).0.unwrap();
        p.setup_done(&mut d, &rev);
        assert_eq!(p.firmware, Some(GanglionFirmware::V2));
        let mut step = p.setup(&[NOTIFY_CHAR, WRITE_CHAR]).unwrap();
        let e = fake::ble(step.as_mut(), Some(b"3"), Some(NOTIFY_CHAR))
            .0
            .unwrap_err();
        assert_eq!(e.code, ExitCode::GeneralError);
    }

    #[test]
    fn impedance_mode_swaps_commands_and_restarts_a_stream() {
        let mut p = GanglionProtocol::default();
        let mut d = p.decoder();
        assert_eq!(writes(p.start()), ["b"]);
        assert_eq!(writes(send(&p, "z", true)), ["s", "z"]);
        p.config_done(&mut d, "z");
        assert_eq!(
            (writes(p.start()), writes(p.stop())),
            (vec!["z".into()], vec!["Z".into()])
        );
        assert_eq!(writes(send(&p, "Z", true)), ["Z", "b"]);
        p.config_done(&mut d, "Z");
        assert_eq!(writes(p.stop()), ["s"]);
        // Not streaming: only the mode changes.
        assert!(writes(send(&p, "z", false)).is_empty());
        assert_eq!(writes(send(&p, "~4", true)), ["~4"]);
        p.config_done(&mut d, "z");
        p.released();
        assert_eq!(writes(p.start()), ["b"]);
    }

    #[test]
    fn config_answered_locally_or_refused() {
        let p = GanglionProtocol::default();
        match p.config("get_firmware_version", false).unwrap() {
            BleConfig::Reply(r) => assert_eq!(r, "2"),
            BleConfig::Send(_) | BleConfig::FromDecoder => panic!("not answered locally"),
        }
        assert_eq!(
            p.config("", false).err().unwrap().code,
            ExitCode::InvalidArguments
        );
        let mut step = send(&p, "n", false);
        let e = fake::ble(step.as_mut(), None, Some(WRITE_CHAR))
            .0
            .unwrap_err();
        assert_eq!(e.code, ExitCode::BoardWrite);
    }
}

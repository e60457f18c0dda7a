use std::time::{Duration, Instant};

use super::*;
use crate::ble::{CharProps, MemoryBle, MemoryPeripheral};
use crate::board::Board;
use crate::codec::muse::SERVICE;

/// The Muse control characteristic's properties (every Muse, the Athena's
/// included): written with or without response, notifying replies.
pub(crate) fn control_props() -> CharProps {
    CharProps {
        write_without_response: true,
        write: true,
        notify: true,
        ..CharProps::default()
    }
}

fn fake(model: MuseModel) -> (MemoryBle, MemoryPeripheral) {
    let name = match model {
        MuseModel::Muse2016 => "Muse-1234",
        MuseModel::Muse2 => "Muse-2A2B",
        MuseModel::MuseS => "MuseS-5C5D",
    };
    let mut p = MemoryPeripheral::new(name, "00:55:DA:00:00:01").with_characteristic(
        SERVICE,
        CONTROL,
        control_props(),
    );
    for ch in MuseChar::ALL {
        if matches!(ch, MuseChar::Ppg(_)) && !model.has_ppg() {
            continue;
        }
        p = p.with_characteristic(SERVICE, ch.uuid(), CharProps::NOTIFY);
    }
    let ble = MemoryBle::new();
    ble.add(&p);
    (ble, p)
}

fn board(model: MuseModel, ble: &MemoryBle) -> MuseBoard {
    MuseBoard::with_connector(model, Box::new(ble.clone()), &InputParams::default())
        .with_timeout(Duration::from_millis(200))
}

fn eeg(seq: u16, raw: u16) -> Vec<u8> {
    let mut p = seq.to_be_bytes().to_vec();
    for _ in 0..6 {
        let v = (u32::from(raw) << 12) | u32::from(raw);
        p.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    p
}

fn imu(seq: u16, v: i16) -> Vec<u8> {
    let mut p = seq.to_be_bytes().to_vec();
    for _ in 0..9 {
        p.extend_from_slice(&v.to_be_bytes());
    }
    p
}

fn ppg(seq: u16, v: u32) -> Vec<u8> {
    let mut p = seq.to_be_bytes().to_vec();
    for _ in 0..6 {
        p.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    p
}

/// The control frames written since the last call, as text (each checked
/// as a Muse frame written without response; the Athena's tests use it too).
pub(crate) fn frames(p: &MemoryPeripheral) -> Vec<String> {
    p.take_writes()
        .into_iter()
        .map(|w| {
            assert_eq!(w.uuid, CONTROL);
            assert!(!w.with_response);
            let v = w.value;
            assert_eq!(
                usize::from(v[0]),
                v.len() - 1,
                "length byte counts the 0x0A"
            );
            assert_eq!(v.last(), Some(&b'\n'));
            String::from_utf8(v[1..v.len() - 1].to_vec()).unwrap()
        })
        .collect()
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

#[test]
fn three_presets_stream_with_exact_loss() {
    let (ble, p) = fake(MuseModel::Muse2);
    let mut b = board(MuseModel::Muse2, &ble);
    b.prepare_session().unwrap();
    assert_eq!(frames(&p), ["v1", "p21"]);
    for ch in MuseChar::ALL {
        assert!(p.is_subscribed(ch.uuid()), "{}", ch.name());
    }
    b.start_stream(5000).unwrap();
    b.insert_marker(3.0, Preset::Auxiliary).unwrap();
    b.insert_marker(4.0, Preset::Default).unwrap();
    // EEG: seqs 10..=13, TP10 loses 12.
    for seq in 10..=13u16 {
        for ch in 0..4u8 {
            if !(ch == 3 && seq == 12) {
                assert!(p.notify(MuseChar::Eeg(ch).uuid(), &eeg(seq, 0x800 + seq)));
            }
        }
    }
    // IMU: accel then gyro, gyro loses seq 2.
    for seq in [0u16, 1, 3] {
        p.notify(MuseChar::Accel.uuid(), &imu(seq, 16384));
        p.notify(MuseChar::Gyro.uuid(), &imu(seq, 1000));
    }
    // PPG: two of three characteristics stream.
    for seq in 0..3u16 {
        p.notify(MuseChar::Ppg(0).uuid(), &ppg(seq, 100));
        p.notify(MuseChar::Ppg(1).uuid(), &ppg(seq, 200));
    }
    wait_count(&b, Preset::Default, 48);
    wait_count(&b, Preset::Auxiliary, 9);
    wait_count(&b, Preset::Ancillary, 12);
    b.stop_stream().unwrap();
    assert_eq!(frames(&p), ["d", "h"]);
    // The PPG batch still waiting was flushed at stop.
    assert_eq!(b.get_board_data_count(Preset::Ancillary).unwrap(), 18);

    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.num_rows, 8);
    assert_eq!(d.num_samples, 48);
    assert_eq!(d.row(0)[0], 10.0);
    assert_eq!(
        d.row(1)[12],
        (f64::from(0x800 + 11) - 2048.0) * 125.0 / 256.0
    );
    assert!(d.row(4)[24].is_nan(), "TP10 lost seq 12");
    assert_eq!(d.row(7)[0], 4.0);
    let ts = d.row(6);
    assert!(
        ts.windows(2).take(11).all(|w| w[1] > w[0]),
        "spread by 1/256 s"
    );
    let a = b.get_board_data(None, Preset::Auxiliary).unwrap();
    assert_eq!(a.num_rows, 9);
    assert_eq!(a.row(1)[0], 1.0, "accel x in g");
    assert_eq!(a.row(4)[0], 1000.0 * crate::codec::muse::GYRO_SCALE);
    assert_eq!(a.row(8)[0], 3.0);
    let c = b.get_board_data(None, Preset::Ancillary).unwrap();
    assert_eq!(c.row(1)[0], 100.0);
    assert_eq!(c.row(2)[0], 200.0);
    assert!(c.row(3)[0].is_nan());

    assert_eq!(
        b.preset_stats(Preset::Default).unwrap().decode.lost_packets,
        1
    );
    // Accel and gyro both lost seq 2.
    assert_eq!(
        b.preset_stats(Preset::Auxiliary)
            .unwrap()
            .decode
            .lost_packets,
        2
    );
    assert_eq!(
        b.preset_stats(Preset::Ancillary)
            .unwrap()
            .decode
            .lost_packets,
        0
    );
    assert_eq!(b.stream_stats().decode.lost_packets, 3);
    let ms = b.muse_stats();
    assert_eq!(ms.chars[3].name, "tp10");
    assert_eq!(ms.chars[3].slot.lost_packets, 1);
    assert_eq!(ms.chars[5].name, "gyro");
    assert_eq!(ms.chars[5].slot.lost_packets, 1);
    b.release_session().unwrap();
    assert!(!p.is_connected());
}

#[test]
fn presets_per_model() {
    for (model, ok, bad) in [
        (
            MuseModel::Muse2016,
            &["p20", "p21"][..],
            &["p50", "p51", "p60", "p61", "p99"][..],
        ),
        (
            MuseModel::Muse2,
            &["p20", "p50", "p51"],
            &["p60", "p61", "p22"],
        ),
        (
            MuseModel::MuseS,
            &["p21", "p50", "p60", "p61"],
            &["p63", "p"],
        ),
    ] {
        let (ble, p) = fake(model);
        let mut b = board(model, &ble);
        assert_eq!(
            b.config_board("p21").unwrap_err().code,
            ExitCode::BoardNotCreated
        );
        b.prepare_session().unwrap();
        p.take_writes();
        for c in ok {
            b.config_board(c).unwrap();
            assert_eq!(b.preset(), *c);
        }
        for c in bad {
            let e = b.config_board(c).unwrap_err();
            assert_eq!(e.code, ExitCode::InvalidArguments, "{model:?} {c}");
        }
        assert_eq!(
            frames(&p),
            ok.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        );
        assert_eq!(
            b.config_board("").unwrap_err().code,
            ExitCode::InvalidArguments
        );
        assert_eq!(
            b.config_board("abcdefghijklmno").unwrap_err().code,
            ExitCode::InvalidArguments
        );
        b.start_stream(10).unwrap();
        let anc = b.get_board_data_count(Preset::Ancillary);
        if model.has_ppg() {
            assert_eq!(anc.unwrap(), 0);
        } else {
            assert_eq!(anc.unwrap_err().code, ExitCode::InvalidArguments);
        }
        b.release_session().unwrap();
    }
}

#[test]
fn link_drop_keeps_rows_and_errors_next_call() {
    let (ble, p) = fake(MuseModel::MuseS);
    let mut b = board(MuseModel::MuseS, &ble);
    b.prepare_session().unwrap();
    b.start_stream(100).unwrap();
    for ch in 0..4u8 {
        p.notify(MuseChar::Eeg(ch).uuid(), &eeg(1, 0x900));
    }
    p.notify(MuseChar::Accel.uuid(), &imu(1, 1));
    p.notify(MuseChar::Gyro.uuid(), &imu(1, 1));
    p.drop_link();
    let t = Instant::now();
    while b.stream_stats().link_error.is_none() {
        assert!(t.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(b.get_board_data_count(Preset::Default).unwrap(), 12);
    assert_eq!(b.get_board_data_count(Preset::Auxiliary).unwrap(), 3);
    assert_eq!(
        b.config_board("p21").unwrap_err().code,
        ExitCode::BoardWrite
    );
    assert_eq!(b.stop_stream().unwrap_err().code, ExitCode::IncommingMsg);
    assert_eq!(
        b.get_current_board_data(5, Preset::Default)
            .unwrap()
            .num_samples,
        5
    );
    b.release_session().unwrap();
}

#[test]
fn device_never_found_names_the_search() {
    let ble = MemoryBle::new();
    let mut b = MuseBoard::with_connector(
        MuseModel::Muse2,
        Box::new(ble),
        &InputParams {
            serial_number: "Muse-XYZ".into(),
            ..InputParams::default()
        },
    )
    .with_timeout(Duration::from_millis(20));
    let e = b.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReady);
    assert!(e.message.contains("named \"Muse-XYZ\""), "{}", e.message);
}

// The protocol's steps alone: no threads, no link.

mod steps {
    use super::super::*;
    use crate::steps::fake;
    use crate::steps::BleIo;

    fn frames(step: BleStep) -> Vec<String> {
        let mut step = step;
        let (r, t) = fake::ble(step.as_mut(), None, None);
        r.unwrap();
        t.writes()
            .into_iter()
            .map(|f| f[1..f.len() - 1].to_string())
            .collect()
    }

    #[test]
    fn setup_subscribes_what_the_model_has_then_v1_and_p21() {
        let mut p = MuseProtocol::new(MuseModel::Muse2016);
        assert_eq!(p.setup(&[]).err().unwrap().code, ExitCode::BoardNotReady);
        let all: Vec<Uuid> = std::iter::once(CONTROL)
            .chain(MuseChar::ALL.iter().map(|c| c.uuid()))
            .collect();
        let mut step = p.setup(&all).unwrap();
        let (r, t) = fake::ble(step.as_mut(), None, None);
        r.unwrap();
        let subscribed: Vec<Uuid> = t
            .actions
            .iter()
            .filter_map(|a| match a {
                BleIo::Subscribe(u) => Some(*u),
                _ => None,
            })
            .collect();
        let expected: Vec<Uuid> = MuseChar::ALL
            .iter()
            .filter(|c| !matches!(c, MuseChar::Ppg(_)))
            .map(|c| c.uuid())
            .collect();
        assert_eq!(subscribed, expected);
        assert_eq!(t.writes(), ["\x03v1\n", "\x04p21\n"]);
        p.preset = "p20".into();
        p.setup_done(&mut p.decoder(), "");
        assert_eq!(p.preset, "p21");
        // A failed subscription stops the setup before any command.
        let mut step = p.setup(&all).unwrap();
        let (r, t) = fake::ble(step.as_mut(), None, Some(MuseChar::Accel.uuid()));
        assert_eq!(r.unwrap_err().code, ExitCode::GeneralError);
        assert!(t.writes().is_empty());
    }

    #[test]
    fn start_stop_and_presets() {
        let mut p = MuseProtocol::new(MuseModel::Muse2);
        assert_eq!(frames(p.start()), ["d"]);
        assert_eq!(frames(p.stop()), ["h"]);
        let BleConfig::Send(step) = p.config("p50", true).unwrap() else {
            panic!("answered locally")
        };
        assert_eq!(frames(step), ["p50"]);
        p.config_done(&mut p.decoder(), "p50");
        assert_eq!(p.preset, "p50");
        for bad in ["p61", "", "abcdefghijklmno"] {
            assert_eq!(
                p.config(bad, false).err().unwrap().code,
                ExitCode::InvalidArguments,
                "{bad}"
            );
        }
        let BleConfig::Send(mut step) = p.config("v1", false).unwrap() else {
            panic!("answered locally")
        };
        let e = fake::ble(step.as_mut(), None, Some(CONTROL)).0.unwrap_err();
        assert_eq!(e.code, ExitCode::BoardWrite);
    }
}

#[test]
fn streamers_get_the_rows_of_their_preset() {
    use crate::streamer::Streamer;
    let dir = std::env::temp_dir().join(format!("boardloop-muse-streamers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = |name: &str| Streamer::File {
        path: dir.join(name).to_string_lossy().into_owned(),
        append: false,
    };
    let (ble, p) = fake(MuseModel::Muse2);
    let mut b = board(MuseModel::Muse2, &ble);
    assert_eq!(
        b.add_streamer(&spec("eeg.csv"), Preset::Default)
            .unwrap_err()
            .code,
        ExitCode::BoardNotCreated
    );
    b.prepare_session().unwrap();
    b.add_streamer(&spec("eeg.csv"), Preset::Default).unwrap();
    b.add_streamer(&spec("ppg.csv"), Preset::Ancillary).unwrap();
    b.start_stream(5000).unwrap();
    // TP10 loses seq 12: a NaN in the file as in the buffer.
    for seq in 10..=13u16 {
        for ch in 0..4u8 {
            if !(ch == 3 && seq == 12) {
                p.notify(MuseChar::Eeg(ch).uuid(), &eeg(seq, 0x800 + seq));
            }
        }
    }
    for seq in 0..3u16 {
        p.notify(MuseChar::Ppg(0).uuid(), &ppg(seq, 100));
        p.notify(MuseChar::Ppg(1).uuid(), &ppg(seq, 200));
    }
    wait_count(&b, Preset::Default, 48);
    wait_count(&b, Preset::Ancillary, 12);
    b.stop_stream().unwrap();
    let stats = b.stream_stats().streamers;
    assert_eq!(stats.len(), 2, "{stats:?}");
    for (name, preset) in [("eeg.csv", Preset::Default), ("ppg.csv", Preset::Ancillary)] {
        b.delete_streamer(&spec(name), preset).unwrap();
        let d = b.get_board_data(None, preset).unwrap();
        let mut want = String::new();
        for s in 0..d.num_samples {
            let row: Vec<f64> = (0..d.num_rows).map(|r| d.row(r)[s]).collect();
            crate::outlet::format_row(&row, &mut want);
        }
        assert_eq!(
            std::fs::read_to_string(dir.join(name)).unwrap(),
            want,
            "{name}"
        );
    }
    assert!(std::fs::read_to_string(dir.join("eeg.csv"))
        .unwrap()
        .contains("\tnan\t"));
    assert_eq!(
        b.delete_streamer(&spec("eeg.csv"), Preset::Default)
            .unwrap_err()
            .code,
        ExitCode::InvalidArguments
    );
    b.release_session().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

use std::time::Duration;

use super::*;
use crate::ble::{CharProps, MemoryBle, MemoryPeripheral};
use crate::board::Board;
use crate::codec::muse::SERVICE;
use crate::codec::muse_athena::{EEG_MIDPOINT, EEG_SCALE, HEADER_LEN};
use crate::host_session::wait_rows;
use crate::muse_board::tests::{control_props, frames};

fn fake(name: &str, with_data_2: bool) -> (MemoryBle, MemoryPeripheral) {
    let mut p = MemoryPeripheral::new(name, "00:55:DA:00:00:67")
        .with_characteristic(SERVICE, CONTROL, control_props())
        .with_characteristic(SERVICE, DATA_1, CharProps::NOTIFY);
    if with_data_2 {
        p = p.with_characteristic(SERVICE, DATA_2, CharProps::NOTIFY);
    }
    let ble = MemoryBle::new();
    ble.add(&p);
    (ble, p)
}

fn board(ble: &MemoryBle, other_info: &str) -> MuseAthenaBoard {
    let params = InputParams {
        other_info: other_info.into(),
        ..InputParams::default()
    };
    MuseAthenaBoard::with_connector(Box::new(ble.clone()), &params)
        .with_timeout(Duration::from_millis(200))
}

/// A packet of one EEG8 block (every value `raw`) and one IMU sub-packet.
fn packet(index: u16, block: u8, raw: u16) -> Vec<u8> {
    let mut p = vec![0u8; HEADER_LEN];
    p[1..3].copy_from_slice(&index.to_le_bytes());
    p[9] = 0x12;
    p[10] = block;
    let mut bits = vec![0u8; 28];
    for i in 0..16 {
        for b in 0..14 {
            if (raw >> b) & 1 == 1 {
                let at = i * 14 + b;
                bits[at / 8] |= 1 << (at % 8);
            }
        }
    }
    p.extend_from_slice(&bits);
    p.extend_from_slice(&[0x47, block, 0, 0, 0]);
    for _ in 0..3 {
        for v in [16384i16, 0, 0, 100, 0, 0] {
            p.extend_from_slice(&v.to_le_bytes());
        }
    }
    p[0] = p.len() as u8;
    p
}

#[test]
fn streams_eeg_and_imu_with_exact_loss() {
    let (ble, p) = fake("MuseS-1A2B", true);
    let mut b = board(&ble, "");
    b.prepare_session().unwrap();
    assert_eq!(frames(&p), ["v6", "s", "h", "p1041", "s"]);
    for u in [CONTROL, DATA_1, DATA_2] {
        assert!(p.is_subscribed(u), "{u}");
    }
    b.start_stream(1000).unwrap();
    assert_eq!(frames(&p), ["dc001", "dc001", "L1", "s"]);
    // Packet 2 is lost.
    for (idx, raw) in [(0u16, 8192u16), (1, 8292), (3, 8092)] {
        assert!(p.notify(DATA_1, &packet(idx, idx as u8, raw)));
    }
    wait_rows(&b, Preset::Default, 6);
    wait_rows(&b, Preset::Auxiliary, 9);
    b.stop_stream().unwrap();
    assert_eq!(frames(&p), ["h"]);
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!((d.num_rows, d.num_samples), (11, 6));
    assert_eq!(d.row(0), [0.0, 0.0, 257.0, 257.0, 771.0, 771.0]);
    assert_eq!(d.row(1)[2], (8292.0 - EEG_MIDPOINT) * EEG_SCALE);
    assert_eq!(d.row(5)[4], (8092.0 - EEG_MIDPOINT) * EEG_SCALE);
    assert_eq!(d.row(8)[4], (8092.0 - EEG_MIDPOINT) * EEG_SCALE, "AUX 4");
    let a = b.get_board_data(None, Preset::Auxiliary).unwrap();
    assert_eq!(a.row(1)[0], 1.0, "accel x in g");
    assert_eq!(a.row(4)[0], 100.0 * crate::codec::muse_athena::GYRO_SCALE);
    let st = b.preset_stats(Preset::Default).unwrap().decode;
    assert_eq!((st.packets, st.lost_packets, st.garbage_bytes), (3, 1, 0));
    assert_eq!(b.athena_stats().block_gaps, [0, 0, 0]);
    b.release_session().unwrap();
}

#[test]
fn other_info_chooses_preset_and_low_latency() {
    let (ble, p) = fake("Muse Athena 01", false);
    let mut b = board(&ble, " preset=P1045; low_latency=false ");
    b.prepare_session().unwrap();
    assert_eq!(frames(&p), ["v6", "s", "h", "p1045", "s"]);
    assert!(p.is_subscribed(DATA_1));
    b.start_stream(100).unwrap();
    assert_eq!(frames(&p), ["dc001", "dc001", "s"]);
    b.release_session().unwrap();

    let (ble, p) = fake("MuseAthena-7", false);
    let mut b = board(&ble, "p21");
    b.prepare_session().unwrap();
    assert_eq!(frames(&p)[3], "p21");
    b.release_session().unwrap();
}

#[test]
fn options_parse_as_brainflows_muse_options() {
    let ok = |s: &str| AthenaOptions::parse(s).unwrap();
    assert_eq!(ok(""), AthenaOptions::default());
    assert_eq!(ok("P1034").preset, "p1034");
    assert_eq!(
        ok("low_latency=FALSE;"),
        AthenaOptions {
            preset: "p1041".into(),
            low_latency: false
        }
    );
    for (bad, why) in [
        ("p1040", "invalid Muse preset"),
        ("preset=p99", "invalid Muse preset"),
        ("preset", "invalid Muse preset"),
        ("preset==p21", "Expected key=value"),
        ("preset=", "Empty key or value"),
        ("low_latency=yes", "low_latency value"),
        ("gain=2", "unknown Muse other_info option"),
        (";;", "empty Muse other_info"),
    ] {
        let e = AthenaOptions::parse(bad).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
}

#[test]
fn bad_other_info_fails_prepare_with_invalid_arguments() {
    let (ble, _p) = fake("MuseS-1", false);
    let mut b = board(&ble, "preset=p9");
    let e = b.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::InvalidArguments);
    assert!(e.message.contains("p9"), "{}", e.message);
}

#[test]
fn a_device_without_control_or_data_is_refused() {
    let p = MuseAthenaProtocol::new("");
    assert_eq!(
        p.setup(&[DATA_1]).err().unwrap().code,
        ExitCode::BoardNotReady
    );
    assert_eq!(
        p.setup(&[CONTROL]).err().unwrap().code,
        ExitCode::BoardNotReady
    );
    assert!(p.setup(&[CONTROL, DATA_2]).is_ok());
    for bad in ["", "abcdefghijklmn", "é"] {
        assert_eq!(
            p.config(bad, false).err().unwrap().code,
            ExitCode::InvalidArguments,
            "{bad:?}"
        );
    }
    assert!(p.config("abcdefghijklm", false).is_ok());
}

#[test]
fn a_data_characteristic_that_cannot_notify_is_skipped() {
    let p = MemoryPeripheral::new("MuseS-2", "00:55:DA:00:00:68")
        .with_characteristic(SERVICE, CONTROL, control_props())
        .with_characteristic(SERVICE, DATA_1, CharProps::NOTIFY)
        .with_characteristic(
            SERVICE,
            DATA_2,
            CharProps {
                read: true,
                ..CharProps::default()
            },
        );
    let ble = MemoryBle::new();
    ble.add(&p);
    let mut b = board(&ble, "");
    b.prepare_session().unwrap();
    assert!(p.is_subscribed(DATA_1));
    assert!(!p.is_subscribed(DATA_2));
    b.release_session().unwrap();
}

//! Our decoders on byte-level captures from real devices (`tests/captures/`, each
//! folder's README gives the source, commit and licence): every capture decodes
//! with no loss and no rejected byte, to the values the capture's own tests assert.

use boardloop_boards::codec::ganglion::{GanglionDecoder, GanglionFirmware, EEG_SCALE};
use boardloop_boards::codec::muse::{MuseChar, MuseDecoder, MuseModel, MuseRows};
use boardloop_boards::codec::muse_athena::{self, AthenaDecoder, DATA_1, EEG_MIDPOINT};
use boardloop_boards::codec::Rows;
use std::path::Path;

/// The notifications of a capture file: one per line, bytes in hex, `#` comments.
fn capture(name: &str) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/captures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|e| panic!("{name}: {b}: {e}")))
                .collect()
        })
        .collect()
}

fn one(name: &str) -> Vec<u8> {
    let mut all = capture(name);
    assert_eq!(all.len(), 1, "{name}: one notification");
    all.remove(0)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn muse_eeg_samples_decode_to_muse_js_values() {
    // muse-parse.spec.ts l.72-89 asserts these 12-bit values; decodeEEGSamples
    // (muse-parse.ts l.46-48) makes them µV as 0.48828125 * (n - 0x800), as BrainFlow
    // (muse.cpp l.670) and we do. The capture has no sequence number: we give it 7.
    let payload = one("muse-js/eeg_samples_12bit.hex");
    let raw = [
        1394, 448, 1316, 2310, 1711, 561, 1029, 2201, 2052, 766, 711, 1949,
    ];
    let mut notification = vec![0, 7];
    notification.extend(&payload);
    let mut d = MuseDecoder::new(MuseModel::Muse2016);
    let mut out = MuseRows::default();
    for ch in 0..4 {
        d.decode(MuseChar::Eeg(ch), &notification, &mut out);
    }
    assert_eq!(out.default.len(), 12);
    for (i, row) in out.default.iter().enumerate() {
        assert_eq!(row[0], 7.0, "sequence");
        let want = 0.48828125 * (f64::from(raw[i]) - 2048.0);
        assert_eq!(row[1..5], [want; 4], "sample {i}");
    }
    let st = d.stats();
    assert_eq!(
        (st.rejected, st.default.lost_packets, st.incomplete_rows),
        (0, 0, 0)
    );
}

#[test]
fn muse_eeg_notification_decodes_to_muse_js_values() {
    // muse.spec.ts l.141-166: index 1, samples alternating -687.5 and -562.5 µV.
    let n = one("muse-js/eeg_notification.hex");
    let mut d = MuseDecoder::new(MuseModel::Muse2016);
    let mut out = MuseRows::default();
    for ch in 0..4 {
        d.decode(MuseChar::Eeg(ch), &n, &mut out);
    }
    let af8: Vec<f64> = out.default.iter().map(|r| r[3]).collect();
    let want: Vec<f64> = (0..12).map(|i| [-687.5, -562.5][i % 2]).collect();
    assert_eq!(af8, want);
    assert!(out.default.iter().all(|r| r[0] == 1.0));
    assert_eq!((d.stats().rejected, d.stats().default.lost_packets), (0, 0));
}

#[test]
fn muse_accelerometer_and_gyroscope_decode_to_muse_js_values() {
    // muse-parse.spec.ts l.113-147 and l.150-163. Our rows pair each gyroscope
    // notification with the last accelerometer one (as BrainFlow does), so the two
    // captures make one batch of three rows.
    let accel = one("muse-js/accelerometer.hex");
    let gyro = one("muse-js/gyroscope.hex");
    let mut d = MuseDecoder::new(MuseModel::Muse2016);
    let mut out = MuseRows::default();
    d.decode(MuseChar::Accel, &accel, &mut out);
    d.decode(MuseChar::Gyro, &gyro, &mut out);
    assert_eq!(out.aux.len(), 3);
    let accel_g = [
        [0.2139894112, 0.21270767200000001, 0.9445197200000001],
        [0.2815553776, 0.20758071520000002, 0.9407355376000001],
        [0.276794632, 0.27948018080000003, 0.9462287056],
    ];
    // muse-js scales the gyroscope by 0.0074768 deg/s; BrainFlow (muse_constants.h
    // MUSE_GYRO_SCALE_FACTOR) and we by 0.007476, so our values are muse-js's times
    // 0.007476 / 0.0074768 (0.011 % lower).
    let gyro_dps = [
        [9.660025599999999, 1.1738575999999998, 0.8598319999999999],
        [9.607688, 0.5458064, 0.39627039999999997],
        [10.9385584, 1.6972336, 1.0691823999999999],
    ];
    for (s, row) in out.aux.iter().enumerate() {
        assert_eq!(row[0], 365.0, "the gyroscope's sequence");
        for ax in 0..3 {
            // muse-js scales by 0.0000610352 (1/16384 rounded to 6 significant
            // digits), we by 1/16384: equal to 1e-6 relative.
            let a = row[1 + ax];
            assert!(
                (a - accel_g[s][ax]).abs() <= 1e-6 * accel_g[s][ax].abs(),
                "accel {s} {ax}: {a}"
            );
            let g = row[4 + ax];
            assert!(
                close(g, gyro_dps[s][ax] * 0.007476 / 0.0074768),
                "gyro {s} {ax}: {g}"
            );
        }
    }
    let st = d.stats();
    assert_eq!((st.rejected, st.aux.lost_packets), (0, 0));
}

#[test]
fn muse_telemetry_capture_is_the_documented_layout() {
    // muse-parse.spec.ts l.99-111: sequence 330, battery 90.859375 % (u16 / 512),
    // fuel gauge 4083.2 mV (u16 * 2.2), temperature 27. Neither BrainFlow nor our
    // decoder reads telemetry; this pins the bytes the Muse profiles must send.
    let t = one("muse-js/telemetry.hex");
    let u16_at = |i: usize| f64::from(u16::from_be_bytes([t[i], t[i + 1]]));
    assert_eq!(t.len(), 20);
    assert_eq!(u16_at(0), 330.0);
    assert_eq!(u16_at(2) / 512.0, 90.859375);
    assert!(close(u16_at(4) * 2.2, 4083.2000000000003));
    assert_eq!(u16_at(8), 27.0);
}

/// A BLED112 attribute-value event (BGAPI class 4, event 5): connection, handle,
/// type and value, as OpenBCI_NodeJS_Ganglion's `_bled112AttributeValue` reads it.
fn bled112_value(frame: &[u8]) -> (u8, u16, u8, &[u8]) {
    assert_eq!(frame[..1], [0x80], "event");
    assert_eq!(usize::from(frame[1]), frame.len() - 4, "payload length");
    assert_eq!(frame[2..4], [0x04, 0x05], "attclient attribute_value");
    let len = usize::from(frame[8]);
    assert_eq!(frame.len(), 9 + len);
    let handle = u16::from_le_bytes([frame[5], frame[6]]);
    (frame[4], handle, frame[7], &frame[9..])
}

/// Field `k` of a 19-bit delta packet (eight fields after the id byte, MSB
/// first), read through a 32-bit window and with BrainFlow's sign convention
/// (negatives one below two's complement).
fn delta19(packet: &[u8], k: usize) -> i64 {
    let at = 19 * k;
    let mut window = [0u8; 4];
    for (w, b) in window.iter_mut().zip(&packet[1 + at / 8..]) {
        *w = *b;
    }
    let v = i64::from((u32::from_be_bytes(window) << (at % 8)) >> 13);
    if v >= 1 << 18 {
        v - (1 << 19) - 1
    } else {
        v
    }
}

#[test]
fn ganglion_firmware_2_delta_packet_decodes_without_loss() {
    // openBCIGanglion-test.js l.94-114: connection 0, handle 25, type 1, these 20 bytes.
    let frame = one("openbci-nodejs-ganglion/bled112_delta_fw2.hex");
    let (conn, handle, kind, value) = bled112_value(&frame);
    assert_eq!((conn, handle, kind, value.len()), (0, 25, 1, 20));
    assert_eq!(value[0], 106, "firmware 2: ids 101-200 are 19-bit deltas");
    let deltas: Vec<i64> = (0..8).map(|k| delta19(value, k)).collect();
    let mut d = GanglionDecoder::new(GanglionFirmware::V2);
    let mut rows = Rows::new(0);
    d.decode(value, &mut rows);
    assert_eq!(rows.len(), 2, "two samples per packet");
    // From zero, each sample is the previous minus its delta.
    let first: Vec<i64> = deltas[..4].iter().map(|x| -x).collect();
    let second: Vec<i64> = (0..4).map(|i| first[i] - deltas[4 + i]).collect();
    for (row, want) in rows.iter().zip([&first, &second]) {
        assert_eq!(row[0], 106.0);
        let got: Vec<f64> = row[1..5].to_vec();
        let want: Vec<f64> = want.iter().map(|&c| EEG_SCALE * c as f64).collect();
        assert_eq!(got, want);
    }
    let st = d.stats();
    assert_eq!(
        (st.rejected, st.decode.lost_packets, st.decode.garbage_bytes),
        (0, 0, 0)
    );
}

#[test]
fn ganglion_impedance_packet_decodes_to_its_ascii_value() {
    // openBCIGanglion-test.js l.115-135: handle 25, value CA "1207" Z.
    let frame = one("openbci-nodejs-ganglion/bled112_impedance.hex");
    let (conn, handle, kind, value) = bled112_value(&frame);
    assert_eq!((conn, handle, kind), (0, 25, 1));
    assert_eq!(value, b"\xCA1207Z");
    let mut d = GanglionDecoder::new(GanglionFirmware::V2);
    let mut rows = Rows::new(0);
    d.decode(value, &mut rows);
    assert_eq!(rows.len(), 1);
    let row = rows.row(0);
    assert_eq!(row[0], 202.0);
    // Resistance rows 8-12 hold channels 1-4 and the reference; id 202 is channel 2.
    assert_eq!(row[8..13], [0.0, 1207.0, 0.0, 0.0, 0.0]);
    assert_eq!((d.stats().rejected, d.stats().impedance_packets), (0, 1));
}

/// A Muse S Athena capture decoded whole: its rows per preset and the first
/// battery level reported.
struct Athena {
    rows: [Rows; 3],
    first_battery: Option<f64>,
    decoder: AthenaDecoder,
}

fn athena(name: &str) -> Athena {
    let mut d = AthenaDecoder::new();
    let mut rows = [Rows::default(), Rows::default(), Rows::default()];
    let mut first_battery = None;
    let notifications = capture(name);
    for n in &notifications {
        d.decode(DATA_1, n, &mut rows);
        if first_battery.is_none() && d.battery() != 0.0 {
            first_battery = Some(d.battery());
        }
    }
    let st = d.stats();
    assert_eq!(st.default.packets, notifications.len() as u64, "{name}");
    assert_eq!(
        (
            st.default.lost_packets,
            st.default.garbage_bytes,
            st.default.resyncs,
            st.stale
        ),
        (0, 0, 0, 0),
        "{name}: no loss, no rejected byte"
    );
    assert_eq!(
        st.block_gaps,
        [0, 0, 0],
        "{name}: every tag's block index +1"
    );
    Athena {
        rows,
        first_battery,
        decoder: d,
    }
}

#[test]
fn athena_captures_decode_without_loss_to_every_block() {
    // Rows per preset (EEG, accel/gyro, optics) and the first battery level
    // (u16 LE / 256 %), as an independent reading of the same bytes gives
    // them (blocks walked to the packet's exact end, `0x88` 20 bytes).
    for (name, rows, battery) in [
        ("muse-jsx/log_p21.hex", [464, 96, 0], 100.046875),
        ("muse-jsx/log_p1034.hex", [316, 60, 78], 99.71875),
        ("muse-jsx/log_p1035.hex", [384, 78, 84], 98.99609375),
        ("muse-jsx/log_p1041.hex", [168, 39, 45], 22.04296875),
        ("muse-jsx/log_p1045.hex", [238, 51, 63], 98.6796875),
        ("openmuse/new_firmware.hex", [224, 48, 48], 84.99609375),
        (
            "openmuse/new_firmware_anomalous.hex",
            [132, 30, 39],
            76.79296875,
        ),
        ("openmuse/p1045.hex", [610, 126, 144], 78.7109375),
    ] {
        let a = athena(name);
        assert_eq!(a.rows.each_ref().map(Rows::len), rows, "{name}");
        assert_eq!(a.first_battery, Some(battery), "{name}");
        assert_eq!(a.rows[0].width(), 11);
        if rows[2] > 0 {
            assert_eq!(a.rows[2].width(), 20);
        }
    }
}

#[test]
fn athena_battery_captures_read_their_recorded_levels() {
    // OpenMuse's test_battery_known_levels (tests/test_decode.py): the first
    // battery value of each file within 0.5 of the level in its name. Read as
    // BrainFlow 5.23 does (u16 / 512) they would be half.
    for (name, level) in [
        ("openmuse/battery_16_80.hex", 16.80),
        ("openmuse/battery_58_27.hex", 58.27),
        ("openmuse/battery_90_40.hex", 90.40),
    ] {
        let a = athena(name);
        let got = a.first_battery.expect(name);
        assert!((got - level).abs() < 0.5, "{name}: {got}");
        // The ancillary rows carry it once reported.
        if let Some(last) = a.rows[2].last() {
            assert_eq!(last[17], a.decoder.battery(), "{name}");
        }
    }
}

#[test]
fn athena_new_firmware_capture_is_eeg8_optics16_with_0x88_battery() {
    // OpenMuse's TestNewFirmware: EEG with 8 channels (0x12), 16 optical
    // channels (0x36), battery from 0x88 within 0-100 %.
    let a = athena("openmuse/new_firmware.hex");
    let eeg = &a.rows[0];
    assert!(
        eeg.iter().any(|r| r[5..9].iter().all(|v| *v != 0.0)),
        "AUX rows filled"
    );
    let optics = &a.rows[2];
    assert!(
        optics.iter().any(|r| r[1..17].iter().all(|v| *v > 0.0)),
        "16 optics"
    );
    let b = a.decoder.battery();
    assert!((0.0..=100.0).contains(&b), "{b}");
    // Offset binary around 8192: the capture's EEG is centred near 0 µV
    // (its raw median is 8116, with electrodes off reading 0 and 16383).
    let mut tp9: Vec<f64> = eeg.iter().map(|r| r[1]).collect();
    tp9.sort_by(f64::total_cmp);
    let median = tp9[tp9.len() / 2];
    assert!(median.abs() < 1450.0 / 4.0, "{median}");
    assert!(eeg
        .iter()
        .flat_map(|r| r[1..9].iter())
        .all(|v| (-EEG_MIDPOINT * muse_athena::EEG_SCALE
            ..=(16383.0 - EEG_MIDPOINT) * muse_athena::EEG_SCALE)
            .contains(v)));
}

#[test]
fn athena_anomalous_capture_has_no_eeg4_block() {
    // OpenMuse's test_anomalous_eeg4_packet finds a 0x11 (EEG4) block in this
    // file because it reads the 0x88 block of notification 7 as 188 bytes;
    // read as 20 bytes (BrainFlow, us), the blocks after it continue their
    // tags' block indices and no 0x11 exists: every EEG block is 0x12, 2 rows.
    let a = athena("openmuse/new_firmware_anomalous.hex");
    assert_eq!(a.rows[0].len() % 2, 0);
    let n = capture("openmuse/new_firmware_anomalous.hex");
    assert_eq!(
        (n[6].len(), n[6][9]),
        (243, 0x88),
        "notification 7: an 0x88 packet"
    );
}

#[test]
fn athena_muse_jsx_parser_samples_decode_to_their_blocks() {
    // muse-jsx's test/test-athena-parser.ts (removed after 1cbaaa0d) prints
    // its two samples, lines 1-2 of OpenMuse's data_p1045.txt: a 215-byte
    // 0x47 packet (one IMU block, five EEG8 blocks 0-4) and a 240-byte 0x12
    // packet (EEG8 blocks 5-11).
    let n = capture("openmuse/p1045.hex");
    assert_eq!(
        (n[0].len(), n[0][9], n[1].len(), n[1][9]),
        (215, 0x47, 240, 0x12)
    );
    let mut d = AthenaDecoder::new();
    let mut rows = [Rows::default(), Rows::default(), Rows::default()];
    d.decode(DATA_1, &n[0], &mut rows);
    assert_eq!((rows[0].len(), rows[1].len()), (10, 3));
    d.decode(DATA_1, &n[1], &mut rows);
    assert_eq!(rows[0].len(), 24);
    let packages: Vec<f64> = rows[0].iter().step_by(2).map(|r| r[0]).collect();
    let want: Vec<f64> = (0..5).chain(256 + 5..256 + 12).map(f64::from).collect();
    assert_eq!(packages, want, "(packet index << 8) | block index");
}

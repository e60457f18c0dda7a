use proptest::prelude::*;

use super::*;

/// An independent little encoder: packs values MSB-first, as the firmware does.
struct BitWriter {
    out: Vec<u8>,
    bit: usize,
}

impl BitWriter {
    fn new(id: u8) -> Self {
        BitWriter {
            out: {
                let mut v = vec![0u8; PACKET_LEN];
                v[0] = id;
                v
            },
            bit: 8,
        }
    }

    fn put(&mut self, value: i32, n: usize) {
        let u = (value as u32) & ((1u32 << n) - 1);
        for k in (0..n).rev() {
            if (u >> k) & 1 == 1 {
                self.out[self.bit / 8] |= 0x80 >> (self.bit % 8);
            }
            self.bit += 1;
        }
    }
}

/// Firmware-3 packet carrying 8 values (two's complement fields).
fn fw3_packet(id: u8, vals: &[i32; 8], accel: i8) -> Vec<u8> {
    let n = if id < 100 { 18 } else { 19 };
    let mut w = BitWriter::new(id);
    for v in vals {
        w.put(*v, n);
    }
    if n == 18 {
        w.out[19] = accel as u8;
    }
    w.out
}

fn eeg(row: &[f64]) -> Vec<f64> {
    row[1..5].to_vec()
}

fn scaled(raw: &[i32]) -> Vec<f64> {
    raw.iter().map(|v| f64::from(*v) * EEG_SCALE).collect()
}

#[test]
fn brainflow_sign_quirk() {
    let bf = SignConvention::BrainFlow;
    let tc = SignConvention::TwosComplement;
    assert_eq!(bf.extend(0x3FFFF, 18), -2);
    assert_eq!(tc.extend(0x3FFFF, 18), -1);
    assert_eq!(bf.extend(0x20000, 18), -131_073);
    assert_eq!(tc.extend(0x20000, 18), -131_072);
    assert_eq!(bf.extend(0x1FFFF, 18), 131_071);
    assert_eq!(bf.extend(0x7FFFF, 19), -2);
    // All-ones 18-bit field in a firmware-3 packet: BrainFlow gives -2 << 6.
    let mut p = vec![0u8; 20];
    p[0] = 5;
    p[1] = 0xFF;
    p[2] = 0xFF;
    p[3] = 0xC0;
    let mut rows = Rows::default();
    GanglionDecoder::new(GanglionFirmware::V3).decode(&p, &mut rows);
    assert_eq!(rows[0][1], -128.0 * EEG_SCALE);
    rows.clear();
    GanglionDecoder::new(GanglionFirmware::V3)
        .with_sign(SignConvention::TwosComplement)
        .decode(&p, &mut rows);
    assert_eq!(rows[0][1], -64.0 * EEG_SCALE);
}

#[test]
fn fw3_values_accel_and_layout() {
    let mut d =
        GanglionDecoder::new(GanglionFirmware::V3).with_sign(SignConvention::TwosComplement);
    let vals = [1, -1, 131_071, -131_072, 0, 7, -7, 100];
    let mut rows = Rows::default();
    d.decode(&fw3_packet(10, &vals, -5), &mut rows);
    d.decode(&fw3_packet(11, &vals, 3), &mut rows);
    d.decode(&fw3_packet(12, &vals, 2), &mut rows);
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.len() == NUM_ROWS));
    let raw: Vec<i32> = vals.iter().map(|v| v << 6).collect();
    assert_eq!(eeg(&rows[0]), scaled(&raw[..4]));
    assert_eq!(eeg(&rows[1]), scaled(&raw[4..]));
    assert_eq!(rows[0][0], 10.0);
    assert_eq!(rows[1][0], 10.0);
    // id%10 = 0 → z negated, 1 → y, 2 → x (BrainFlow's mapping).
    assert_eq!(rows[0][5..8], [0.0, 0.0, 5.0 * ACCEL_SCALE]);
    assert_eq!(
        rows[5][5..8],
        [2.0 * ACCEL_SCALE, 3.0 * ACCEL_SCALE, 5.0 * ACCEL_SCALE]
    );
    // 19-bit packets: shifted by 5, accel held.
    rows.clear();
    let big = [262_143, -262_144, 5, -5, 0, 0, 1, -1];
    d.decode(&fw3_packet(150, &big, 0), &mut rows);
    let raw: Vec<i32> = big.iter().map(|v| v << 5).collect();
    assert_eq!(eeg(&rows[0]), scaled(&raw[..4]));
    assert_eq!(eeg(&rows[1]), scaled(&raw[4..]));
    assert_eq!(rows[0][5], 2.0 * ACCEL_SCALE);
    assert_eq!(d.stats().decode.lost_packets, 0);
    assert_eq!(d.stats().range_switches, 1);
}

#[test]
fn fw2_raw_then_deltas() {
    let mut d =
        GanglionDecoder::new(GanglionFirmware::V2).with_sign(SignConvention::TwosComplement);
    let mut raw = vec![0u8; 20];
    let start = [1000i32, -2000, 8_388_607, -8_388_608];
    for (i, v) in start.iter().enumerate() {
        raw[1 + 3 * i..4 + 3 * i].copy_from_slice(&v.to_be_bytes()[1..]);
    }
    let mut rows = Rows::default();
    d.decode(&raw, &mut rows);
    assert_eq!(rows.len(), 1);
    assert_eq!(eeg(&rows[0]), scaled(&start));
    assert_eq!(rows[0][0], 0.0);
    // Deltas: sample1 = start - d[0..4]; sample2 = sample1 - d[4..8].
    let deltas = [10, -10, 1, -1, 3, 3, -3, -3];
    let mut w = BitWriter::new(1);
    for v in deltas {
        w.put(v, 18);
    }
    w.out[19] = 0x10;
    rows.clear();
    d.decode(&w.out, &mut rows);
    let s1: Vec<i32> = (0..4).map(|i| start[i] - deltas[i]).collect();
    let s2: Vec<i32> = (0..4).map(|i| s1[i] - deltas[4 + i]).collect();
    assert_eq!(eeg(&rows[0]), scaled(&s1));
    assert_eq!(eeg(&rows[1]), scaled(&s2));
    assert_eq!(rows[0][6], 16.0 * ACCEL_SCALE, "id 1 → y");
    // A 19-bit delta packet after id 1 is a range switch, not a loss.
    let mut w = BitWriter::new(101);
    for _ in 0..8 {
        w.put(-2, 19);
    }
    rows.clear();
    d.decode(&w.out, &mut rows);
    let s3: Vec<i32> = (0..4).map(|i| s2[i] + 2).collect();
    assert_eq!(eeg(&rows[0]), scaled(&s3));
    assert_eq!(d.stats().decode.packets, 3);
    assert_eq!(d.stats().decode.rows, 5);
}

#[test]
fn fw2_brainflow_convention_matches_brainflow_arithmetic() {
    // With BrainFlow's convention a field of all ones is -2, so the sample rises by 2.
    let mut d = GanglionDecoder::new(GanglionFirmware::V2);
    let mut w = BitWriter::new(7);
    for _ in 0..8 {
        w.put(-1, 18);
    }
    let mut rows = Rows::default();
    d.decode(&w.out, &mut rows);
    assert_eq!(eeg(&rows[0]), scaled(&[2, 2, 2, 2]));
    assert_eq!(eeg(&rows[1]), scaled(&[4, 4, 4, 4]));
}

#[test]
fn exact_loss_and_wrap() {
    let mut d = GanglionDecoder::new(GanglionFirmware::V3);
    let mut rows = Rows::default();
    for id in [97u8, 98, 0, 1, 5, 6] {
        d.decode(&fw3_packet(id, &[0; 8], 0), &mut rows);
    }
    // 99 lost at the wrap, 2..=4 lost later.
    assert_eq!(d.stats().decode.lost_packets, 4);
    let mut d = GanglionDecoder::new(GanglionFirmware::V2);
    for id in [99u8, 100, 2, 101, 103] {
        let mut p = vec![0u8; 20];
        p[0] = id;
        d.decode(&p, &mut rows);
    }
    // 1 lost at the wrap (100 → 2), 102 lost.
    assert_eq!(d.stats().decode.lost_packets, 2);
    assert_eq!(d.stats().range_switches, 1);
}

#[test]
fn impedance_and_rejects() {
    let mut d = GanglionDecoder::new(GanglionFirmware::V3);
    let mut rows = Rows::default();
    d.decode(b"\xC9123Z", &mut rows);
    d.decode(b"\xCD45Z\0\0\0", &mut rows);
    d.decode(b"\xCA7", &mut rows);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][0], 201.0);
    assert_eq!(rows[0][8..13], [123.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(rows[2][8..13], [123.0, 7.0, 0.0, 0.0, 45.0]);
    assert_eq!(eeg(&rows[2]), vec![0.0; 4]);
    assert_eq!(d.stats().impedance_packets, 3);
    // Unparsable impedance, short, wrong size, unknown ids.
    for bad in [
        &b"\xCBZ"[..],
        b"\xCBabcZ",
        b"\x05",
        b"",
        &[5u8; 19],
        &[206u8; 20],
        &[200u8; 20],
    ] {
        d.decode(bad, &mut rows);
    }
    assert_eq!(rows.len(), 3);
    assert_eq!(d.stats().rejected, 7);
    assert_eq!(d.stats().decode.packets, 3);
}

#[test]
fn firmware_from_revision() {
    assert_eq!(
        GanglionFirmware::from_revision(b"3.1.0"),
        GanglionFirmware::V3
    );
    assert_eq!(
        GanglionFirmware::from_revision(b"2.0.1"),
        GanglionFirmware::V2
    );
    assert_eq!(GanglionFirmware::from_revision(b""), GanglionFirmware::V2);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), 0..40),
        v3 in any::<bool>(),
        bf in any::<bool>(),
    ) {
        let fw = if v3 { GanglionFirmware::V3 } else { GanglionFirmware::V2 };
        let sign = if bf { SignConvention::BrainFlow } else { SignConvention::TwosComplement };
        let mut d = GanglionDecoder::new(fw).with_sign(sign);
        let mut rows = Rows::default();
        for c in &chunks {
            d.decode(c, &mut rows);
        }
        prop_assert!(rows.iter().all(|r| r.len() == NUM_ROWS));
        prop_assert_eq!(d.stats().decode.rows as usize, rows.len());
    }

    #[test]
    fn fw3_encoded_packets_decode_to_their_values(
        samples in proptest::collection::vec(
            (proptest::array::uniform8(-(1i32 << 17)..(1i32 << 17)), any::<bool>(), any::<i8>()), 1..30),
    ) {
        let mut d = GanglionDecoder::new(GanglionFirmware::V3).with_sign(SignConvention::TwosComplement);
        let mut rows = Rows::default();
        for (k, (vals, wide, acc)) in samples.iter().enumerate() {
            let id = (k % 100) as u8 + if *wide { 100 } else { 0 };
            rows.clear();
            d.decode(&fw3_packet(id, vals, *acc), &mut rows);
            let shift = if *wide { 5 } else { 6 };
            let raw: Vec<i32> = vals.iter().map(|v| v << shift).collect();
            prop_assert_eq!(eeg(&rows[0]), scaled(&raw[..4]));
            prop_assert_eq!(eeg(&rows[1]), scaled(&raw[4..]));
        }
    }

    #[test]
    fn fw2_encoded_deltas_decode_to_their_samples(
        start in proptest::array::uniform4(-(1i32 << 20)..(1i32 << 20)),
        deltas in proptest::collection::vec(proptest::array::uniform8(-(1i32 << 17)..(1i32 << 17)), 1..30),
        lose in proptest::collection::vec(any::<bool>(), 30),
    ) {
        let mut d = GanglionDecoder::new(GanglionFirmware::V2).with_sign(SignConvention::TwosComplement);
        let mut raw = vec![0u8; 20];
        for (i, v) in start.iter().enumerate() {
            raw[1 + 3 * i..4 + 3 * i].copy_from_slice(&v.to_be_bytes()[1..]);
        }
        let mut rows = Rows::default();
        d.decode(&raw, &mut rows);
        let mut cur = start;
        let mut lost = 0u64;
        for (k, ds) in deltas.iter().enumerate() {
            let mut w = BitWriter::new((k % 100) as u8 + 1);
            for v in ds {
                w.put(*v, 18);
            }
            let s1: Vec<i32> = (0..4).map(|i| cur[i] - ds[i]).collect();
            let s2: Vec<i32> = (0..4).map(|i| s1[i] - ds[4 + i]).collect();
            cur = [s2[0], s2[1], s2[2], s2[3]];
            if lose[k] && k + 1 < deltas.len() {
                // A lost packet breaks the deltas, so only count it here.
                lost += 1;
                continue;
            }
            rows.clear();
            d.decode(&w.out, &mut rows);
            if lost == 0 {
                prop_assert_eq!(eeg(&rows[0]), scaled(&s1));
                prop_assert_eq!(eeg(&rows[1]), scaled(&s2));
            }
        }
        prop_assert_eq!(d.stats().decode.lost_packets, lost);
    }
}

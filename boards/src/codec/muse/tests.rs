use proptest::prelude::*;

use super::*;

/// Independent encoder: 12 × 12-bit values packed two per three bytes.
fn eeg_packet(seq: u16, raw: &[u16; 12]) -> Vec<u8> {
    let mut p = seq.to_be_bytes().to_vec();
    for pair in raw.chunks(2) {
        let (a, b) = (u32::from(pair[0] & 0xFFF), u32::from(pair[1] & 0xFFF));
        let v = (a << 12) | b;
        p.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    p
}

fn imu_packet(seq: u16, v: &[[i16; 3]; 3]) -> Vec<u8> {
    let mut p = seq.to_be_bytes().to_vec();
    for s in v {
        for a in s {
            p.extend_from_slice(&a.to_be_bytes());
        }
    }
    p
}

fn ppg_packet(seq: u16, v: &[u32; 6]) -> Vec<u8> {
    let mut p = seq.to_be_bytes().to_vec();
    for x in v {
        p.extend_from_slice(&x.to_be_bytes()[1..]);
    }
    p
}

fn uv(raw: u16) -> f64 {
    (f64::from(raw) - 2048.0) * 125.0 / 256.0
}

#[test]
fn control_frames_and_uuids() {
    assert_eq!(control_frame("d"), vec![0x02, 0x64, 0x0A]);
    assert_eq!(control_frame("p21"), vec![0x04, b'p', b'2', b'1', 0x0A]);
    assert_eq!(
        MuseChar::Eeg(0).uuid().to_string(),
        "273e0003-4c4d-454d-96be-f03bac821358"
    );
    assert_eq!(CONTROL.to_string(), "273e0001-4c4d-454d-96be-f03bac821358");
    assert_eq!(
        MuseChar::Accel.uuid().to_string(),
        "273e000a-4c4d-454d-96be-f03bac821358"
    );
    assert_eq!(
        MuseChar::Ppg(2).uuid().to_string(),
        "273e0011-4c4d-454d-96be-f03bac821358"
    );
    for c in MuseChar::ALL {
        assert_eq!(MuseChar::from_uuid(c.uuid()), Some(c));
    }
    assert_eq!(MuseChar::from_uuid(CONTROL), None);
}

#[test]
fn eeg_rows_complete_when_all_channels_arrive() {
    let mut d = MuseDecoder::new(MuseModel::Muse2);
    let mut out = MuseRows::default();
    let raw: [u16; 12] = [0, 0x800, 0xFFF, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    for ch in 0..3 {
        d.decode(MuseChar::Eeg(ch), &eeg_packet(7, &raw), &mut out);
        assert!(out.default.is_empty());
    }
    d.decode(MuseChar::Eeg(3), &eeg_packet(7, &raw), &mut out);
    assert_eq!(out.default.len(), 12);
    assert_eq!(out.default[0].len(), 8);
    assert_eq!(out.default[0][0], 7.0);
    assert_eq!(out.default[0][1], -1000.0);
    assert_eq!(out.default[1][2], 0.0);
    assert_eq!(out.default[2][4], uv(0xFFF));
    assert!(out.default[0][5].is_nan(), "no AUX in this batch");
    assert_eq!(d.stats().default.rows, 12);
}

#[test]
fn aux_channel_joins_when_present_and_2016_layout() {
    let mut d = MuseDecoder::new(MuseModel::MuseS);
    let mut out = MuseRows::default();
    let raw = [100u16; 12];
    for ch in [4u8, 0, 1, 2, 3] {
        d.decode(MuseChar::Eeg(ch), &eeg_packet(1, &raw), &mut out);
    }
    assert_eq!(out.default.len(), 12);
    assert_eq!(out.default[3][5], uv(100));
    // Now AUX is active: batch 2 waits for it.
    out.default.clear();
    for ch in 0..4u8 {
        d.decode(MuseChar::Eeg(ch), &eeg_packet(2, &raw), &mut out);
    }
    assert!(out.default.is_empty());
    d.decode(MuseChar::Eeg(4), &eeg_packet(2, &raw), &mut out);
    assert_eq!(out.default.len(), 12);

    let mut d = MuseDecoder::new(MuseModel::Muse2016);
    let mut out = MuseRows::default();
    for ch in 0..5u8 {
        d.decode(MuseChar::Eeg(ch), &eeg_packet(9, &raw), &mut out);
    }
    assert_eq!(out.default.len(), 12);
    assert_eq!(out.default[0].len(), 7);
}

#[test]
fn exact_loss_per_characteristic_and_nan_for_missing() {
    let mut d = MuseDecoder::new(MuseModel::Muse2);
    let mut out = MuseRows::default();
    let raw = [0x900u16; 12];
    for seq in [65534u16, 65535, 0, 1, 2] {
        for ch in 0..4u8 {
            // AF7 loses 65535 and 1.
            if ch == 1 && (seq == 65535 || seq == 1) {
                continue;
            }
            d.decode(MuseChar::Eeg(ch), &eeg_packet(seq, &raw), &mut out);
        }
    }
    let s = d.stats();
    assert_eq!(s.chars[1].name, "af7");
    assert_eq!(s.chars[1].slot.lost_packets, 2);
    assert_eq!(s.chars[0].slot.lost_packets, 0);
    assert_eq!(s.default.lost_packets, 2);
    // Every batch emitted: 5 × 12 rows; the two with AF7 missing have NaN there.
    assert_eq!(out.default.len(), 60);
    assert!(out.default[12][2].is_nan());
    assert_eq!(out.default[12][1], uv(0x900));
    assert_eq!(out.default[12][0], 65535.0);
    assert!(out.default[36][2].is_nan());
    assert_eq!(s.incomplete_rows, 24);
}

#[test]
fn imu_rows_on_gyro_with_latest_accel() {
    let mut d = MuseDecoder::new(MuseModel::Muse2);
    let mut out = MuseRows::default();
    let acc = [[16384, -16384, 0], [1, 2, 3], [-1, -2, -3]];
    let gyr = [[100, 0, -100], [0, 0, 0], [i16::MAX, i16::MIN, 1]];
    d.decode(MuseChar::Accel, &imu_packet(3, &acc), &mut out);
    d.decode(MuseChar::Gyro, &imu_packet(40, &gyr), &mut out);
    assert_eq!(out.aux.len(), 3);
    assert_eq!(
        out.aux[0],
        vec![
            40.0,
            1.0,
            -1.0,
            0.0,
            100.0 * GYRO_SCALE,
            0.0,
            -100.0 * GYRO_SCALE,
            0.0,
            0.0
        ]
    );
    assert_eq!(out.aux[2][5], f64::from(i16::MIN) * GYRO_SCALE);
    assert_eq!(out.aux[1][3], 3.0 * ACCEL_SCALE);
    d.decode(MuseChar::Gyro, &imu_packet(43, &gyr), &mut out);
    d.decode(MuseChar::Accel, &imu_packet(5, &acc), &mut out);
    let s = d.stats();
    assert_eq!(s.aux.lost_packets, 3);
    assert_eq!(s.aux.rows, 6);
}

#[test]
fn ppg_join_signedness_and_2016_has_none() {
    let vals = [1u32, 0x7F_FFFF, 0x80_0000, 0xFF_FFFF, 0, 42];
    for unsigned in [false, true] {
        let mut d = MuseDecoder::new(MuseModel::Muse2);
        if unsigned {
            d = d.with_unsigned_ppg();
        }
        let mut out = MuseRows::default();
        d.decode(MuseChar::Ppg(0), &ppg_packet(1, &vals), &mut out);
        d.decode(MuseChar::Ppg(1), &ppg_packet(1, &vals), &mut out);
        assert!(out.anc.is_empty());
        d.decode(MuseChar::Ppg(0), &ppg_packet(2, &vals), &mut out);
        assert_eq!(out.anc.len(), 6);
        assert_eq!(out.anc[0][0], 1.0);
        assert_eq!(out.anc[1][1], 8_388_607.0);
        assert!(out.anc[1][3].is_nan(), "ppg2 never streamed");
        let expect = if unsigned { 8_388_608.0 } else { -8_388_608.0 };
        assert_eq!(out.anc[2][2], expect);
        d.flush(&mut out);
        assert_eq!(out.anc.len(), 12);
    }
    let mut d = MuseDecoder::new(MuseModel::Muse2016);
    let mut out = MuseRows::default();
    for s in 0..3 {
        d.decode(MuseChar::Ppg(0), &ppg_packet(s, &vals), &mut out);
    }
    d.flush(&mut out);
    assert!(out.anc.is_empty());
}

#[test]
fn wrong_sizes_rejected() {
    let mut d = MuseDecoder::new(MuseModel::MuseS);
    let mut out = MuseRows::default();
    d.decode(MuseChar::Eeg(0), &[0; 19], &mut out);
    d.decode(MuseChar::Gyro, &[], &mut out);
    d.decode(MuseChar::Ppg(1), &[0; 21], &mut out);
    let s = d.stats();
    assert_eq!(s.rejected, 3);
    assert_eq!(s.default.garbage_bytes, 19);
    assert_eq!(s.anc.garbage_bytes, 21);
}

proptest! {
    #[test]
    fn arbitrary_notifications_never_panic(
        items in proptest::collection::vec((0usize..10, proptest::collection::vec(any::<u8>(), 0..24)), 0..80),
        model in 0u8..3,
    ) {
        let model = [MuseModel::Muse2016, MuseModel::Muse2, MuseModel::MuseS][usize::from(model)];
        let mut d = MuseDecoder::new(model);
        let mut out = MuseRows::default();
        for (c, bytes) in &items {
            d.decode(MuseChar::ALL[*c], bytes, &mut out);
        }
        d.flush(&mut out);
        prop_assert!(out.default.iter().all(|r| r.len() == model.default_rows()));
        prop_assert!(out.aux.iter().all(|r| r.len() == 9));
        prop_assert!(out.anc.iter().all(|r| r.len() == 6));
    }

    #[test]
    fn encoded_eeg_decodes_to_its_values(
        start in any::<u16>(),
        batches in proptest::collection::vec(proptest::array::uniform4(proptest::array::uniform12(0u16..4096)), 1..20),
    ) {
        let mut d = MuseDecoder::new(MuseModel::Muse2);
        let mut out = MuseRows::default();
        for (k, b) in batches.iter().enumerate() {
            let seq = start.wrapping_add(k as u16);
            for (ch, raw) in b.iter().enumerate() {
                d.decode(MuseChar::Eeg(ch as u8), &eeg_packet(seq, raw), &mut out);
            }
        }
        prop_assert_eq!(out.default.len(), batches.len() * 12);
        for (k, b) in batches.iter().enumerate() {
            for s in 0..12 {
                let row = &out.default[k * 12 + s];
                prop_assert_eq!(row[0], f64::from(start.wrapping_add(k as u16)));
                for (ch, chan) in b.iter().enumerate() {
                    prop_assert_eq!(row[1 + ch], uv(chan[s]));
                }
            }
        }
        prop_assert_eq!(d.stats().default.lost_packets, 0);
    }
}

use super::*;
use crate::codec::rows::Rows;

/// Packs `values` `width` bits each, LSB-first (muse-jsx's spec helper).
fn pack(values: &[u32], width: usize) -> Vec<u8> {
    let mut out = vec![0u8; (values.len() * width).div_ceil(8)];
    for (i, v) in values.iter().enumerate() {
        for bit in 0..width {
            if (v >> bit) & 1 == 1 {
                let at = i * width + bit;
                out[at / 8] |= 1 << (at % 8);
            }
        }
    }
    out
}

/// A packet: header with `index`, primary `tag`/`block` and `data`, then
/// sub-packets `(tag, block, data)`.
fn packet(index: u16, tag: u8, block: u8, data: &[u8], subs: &[(u8, u8, Vec<u8>)]) -> Vec<u8> {
    let mut p = vec![0u8; HEADER_LEN];
    p[1..3].copy_from_slice(&index.to_le_bytes());
    p[3..9].copy_from_slice(&[0xf3, 0x49, 0xe5, 0x89, 0x93, 0x01]);
    p[9] = tag;
    p[10] = block;
    p.extend_from_slice(data);
    for (t, b, d) in subs {
        p.extend_from_slice(&[*t, *b, 0xAA, 0xBB, 0xCC]);
        p.extend_from_slice(d);
    }
    p[0] = p.len() as u8;
    p
}

fn rows() -> PresetRows {
    [Rows::default(), Rows::default(), Rows::default()]
}

fn eeg(raw: u32) -> f64 {
    (f64::from(raw) - 8192.0) * (1450.0 / 16383.0)
}

#[test]
fn lsb_bits_reads_values_across_bytes() {
    let vals = [0x3FFF, 1, 0x2000, 0x1234, 8192, 0, 77, 16000];
    let b = pack(&vals, 14);
    for (i, v) in vals.iter().enumerate() {
        assert_eq!(lsb_bits(&b, i * 14, 14), *v);
    }
    let o = [0xFFFFF, 0x12345, 1, 0x80000];
    let b = pack(&o, 20);
    for (i, v) in o.iter().enumerate() {
        assert_eq!(lsb_bits(&b, i * 20, 20), *v);
    }
}

#[test]
fn eeg8_block_fills_eeg_and_other_rows() {
    // muse-jsx's spec: 16 values 1..=16, 8 channels × 2 samples; 8192 is 0 µV.
    let vals: Vec<u32> = (1..=16).collect();
    let mut d = AthenaDecoder::new();
    let mut out = rows();
    d.decode(DATA_1, &packet(3, 0x12, 9, &pack(&vals, 14), &[]), &mut out);
    assert_eq!(out[0].len(), 2);
    for s in 0..2 {
        let r = out[0].row(s);
        assert_eq!(r[0], f64::from((3u32 << 8) | 9));
        for c in 0..8 {
            assert_eq!(r[1 + c], eeg(vals[s * 8 + c]), "sample {s} channel {c}");
        }
        assert_eq!(r[9..], [0.0, 0.0]);
    }
    let mid = pack(&[8192; 16], 14);
    d.decode(DATA_1, &packet(4, 0x12, 10, &mid, &[]), &mut out);
    assert!(out[0].row(2)[1..9].iter().all(|v| *v == 0.0));
}

#[test]
fn eeg4_block_leaves_the_other_rows_zero() {
    let vals: Vec<u32> = (0..16).map(|i| 8000 + i * 10).collect();
    let mut d = AthenaDecoder::new();
    let mut out = rows();
    d.decode(DATA_1, &packet(0, 0x11, 0, &pack(&vals, 14), &[]), &mut out);
    assert_eq!(out[0].len(), 4);
    for s in 0..4 {
        let r = out[0].row(s);
        for c in 0..4 {
            assert_eq!(r[1 + c], eeg(vals[s * 4 + c]));
        }
        assert_eq!(r[5..9], [0.0; 4]);
    }
}

#[test]
fn imu_block_is_int16_le_accel_then_gyro() {
    let samples: [[i16; 6]; 3] = [
        [16384, -16384, 1, 100, -100, 0],
        [0, 2, -2, i16::MAX, i16::MIN, 7],
        [-1, 0, 8192, 1, 2, 3],
    ];
    let bytes: Vec<u8> = samples
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut d = AthenaDecoder::new();
    let mut out = rows();
    d.decode(DATA_1, &packet(1, 0x47, 5, &bytes, &[]), &mut out);
    assert_eq!(out[1].len(), 3);
    for (s, v) in samples.iter().enumerate() {
        let r = out[1].row(s);
        assert_eq!(r[0], f64::from((1u32 << 8) | 5));
        for c in 0..3 {
            assert_eq!(r[1 + c], f64::from(v[c]) / 16384.0);
            assert_eq!(r[4 + c], f64::from(v[3 + c]) * -0.007476806640625);
        }
    }
    assert_eq!(out[1].row(0)[1], 1.0, "16384 counts are 1 g");
}

#[test]
fn optics_blocks_of_every_width_and_battery_fill_the_ancillary_rows() {
    let o4: Vec<u32> = (0..12).map(|i| 1000 * i + 1).collect();
    let o8: Vec<u32> = (0..16).map(|i| 0xFFFFF - i).collect();
    let o16: Vec<u32> = (0..16).map(|i| i * 65536 + 3).collect();
    let mut battery = vec![0u8; 20];
    battery[..2].copy_from_slice(&0x62aeu16.to_le_bytes());
    let mut d = AthenaDecoder::new();
    let mut out = rows();
    // The battery comes after the first optics block: that block's rows read 0.
    let p = packet(
        7,
        0x34,
        1,
        &pack(&o4, 20),
        &[(0x98, 0, battery), (0x35, 4, pack(&o8, 20))],
    );
    d.decode(DATA_1, &p, &mut out);
    d.decode(DATA_1, &packet(8, 0x36, 2, &pack(&o16, 20), &[]), &mut out);
    let anc = &out[2];
    assert_eq!(anc.len(), 3 + 2 + 1);
    let level = f64::from(0x62aeu16) / 256.0;
    for s in 0..3 {
        let r = anc.row(s);
        assert_eq!(r[0], f64::from((7u32 << 8) | 1));
        let want: Vec<f64> = o4[s * 4..s * 4 + 4].iter().map(|v| f64::from(*v)).collect();
        assert_eq!(r[1..5], want[..]);
        assert_eq!(r[5..17], [0.0; 12]);
        assert_eq!(r[17], 0.0, "no battery report yet");
    }
    for s in 0..2 {
        let r = anc.row(3 + s);
        assert_eq!(r[0], f64::from((7u32 << 8) | 4));
        let want: Vec<f64> = o8[s * 8..s * 8 + 8].iter().map(|v| f64::from(*v)).collect();
        assert_eq!(r[1..9], want[..]);
        assert_eq!(r[17], level);
    }
    let r = anc.row(5);
    let want: Vec<f64> = o16.iter().map(|v| f64::from(*v)).collect();
    assert_eq!(r[1..17], want[..]);
    assert_eq!(r[17], level);
    assert_eq!(d.battery(), level);
    assert_eq!(d.stats().anc.packets, 3);
    assert_eq!(d.stats().default.garbage_bytes, 0);
}

#[test]
fn battery_block_0x88_is_20_bytes_and_blocks_follow_it() {
    // muse-jsx's spec: battery = first two bytes / 256 (0x62ae: 98.68 %).
    // The captures show real blocks after its 20 bytes (their block
    // indices continue), as BrainFlow reads it.
    let mut status = vec![0u8; 20];
    status[..2].copy_from_slice(&[0xae, 0x62]);
    let eeg_data = pack(&[8192; 16], 14);
    let imu = vec![0u8; 36];
    let mut d = AthenaDecoder::new();
    let mut out = rows();
    let p = packet(0, 0x12, 0, &eeg_data, &[(0x88, 0, status), (0x47, 4, imu)]);
    d.decode(DATA_1, &p, &mut out);
    assert_eq!(d.battery(), f64::from(0x62aeu16) / 256.0);
    assert_eq!(out[1].len(), 3, "the IMU block after the battery");
    assert_eq!(d.stats().default.garbage_bytes, 0);
    // As the primary block too.
    let mut status = vec![0u8; 20];
    status[..2].copy_from_slice(&(90u16 * 256).to_le_bytes());
    let p = packet(1, 0x88, 0, &status, &[(0x12, 1, eeg_data)]);
    d.decode(DATA_1, &p, &mut out);
    assert_eq!(d.battery(), 90.0);
    assert_eq!(out[0].len(), 4);
    assert_eq!(d.stats().default.garbage_bytes, 0);
}

#[test]
fn drl_ref_blocks_are_skipped_and_sub_packets_carry_their_own_index() {
    let e: Vec<u8> = pack(&[8192 + 100; 16], 14);
    let imu = vec![0u8; 36];
    let mut d = AthenaDecoder::new();
    let mut out = rows();
    let p = packet(
        0x0102,
        0x12,
        0xFE,
        &e,
        &[
            (0x53, 3, vec![9; 24]),
            (0x12, 0xFF, e.clone()),
            (0x47, 8, imu),
        ],
    );
    d.decode(DATA_1, &p, &mut out);
    let pk: Vec<f64> = out[0].iter().map(|r| r[0]).collect();
    let base = 0x0102u32 << 8;
    assert_eq!(
        pk,
        [0xFE, 0xFE, 0xFF, 0xFF]
            .map(|b| f64::from(base | b))
            .to_vec()
    );
    assert_eq!(out[1].len(), 3);
    assert_eq!(out[1].row(0)[0], f64::from(base | 8));
    let st = d.stats();
    assert_eq!(
        (st.default.packets, st.default.rows, st.aux.rows),
        (1, 4, 3)
    );
    assert_eq!(st.default.garbage_bytes, 0);
    assert_eq!(st.block_gaps, [0, 0, 0]);
}

#[test]
fn loss_is_counted_by_the_packet_index_across_its_wrap() {
    let e = pack(&[8192; 16], 14);
    let mut d = AthenaDecoder::new();
    let mut out = rows();
    for (i, idx) in [65533u16, 65534, 1, 2, 6].iter().enumerate() {
        d.decode(DATA_1, &packet(*idx, 0x12, i as u8, &e, &[]), &mut out);
    }
    // 65535 and 0 lost, then 3, 4, 5.
    assert_eq!(d.stats().default.lost_packets, 5);
    assert_eq!(d.stats().default.packets, 5);
    // A repeat is dropped, not counted as loss.
    d.decode(DATA_1, &packet(6, 0x12, 9, &e, &[]), &mut out);
    assert_eq!((d.stats().stale, d.stats().default.lost_packets), (1, 5));
    assert_eq!(out[0].len(), 10);
    // The second characteristic counts on its own.
    d.decode(DATA_2, &packet(100, 0x12, 0, &e, &[]), &mut out);
    d.decode(DATA_2, &packet(101, 0x12, 1, &e, &[]), &mut out);
    assert_eq!(d.stats().default.lost_packets, 5);
    // Another characteristic is not data.
    d.decode(muse_uuid(0x0001), &packet(0, 0x12, 0, &e, &[]), &mut out);
    assert_eq!(d.stats().default.packets, 7);
    d.reset();
    assert_eq!(d.stats(), &AthenaStats::default());
}

#[test]
fn block_index_gaps_without_packet_loss_are_counted_apart() {
    let e = pack(&[8192; 16], 14);
    let imu = vec![0u8; 36];
    let mut d = AthenaDecoder::new();
    let mut out = rows();
    d.decode(
        DATA_1,
        &packet(0, 0x12, 254, &e, &[(0x47, 10, imu.clone())]),
        &mut out,
    );
    // EEG block 254 -> 1 skips 255 and 0; IMU 10 -> 11 none.
    d.decode(
        DATA_1,
        &packet(1, 0x12, 1, &e, &[(0x47, 11, imu.clone())]),
        &mut out,
    );
    // After a lost packet the block gap is the loss's, not the device's.
    d.decode(
        DATA_1,
        &packet(3, 0x12, 9, &e, &[(0x47, 13, imu)]),
        &mut out,
    );
    let st = d.stats();
    assert_eq!(st.block_gaps, [2, 0, 0]);
    assert_eq!(st.default.lost_packets, 1);
}

#[test]
fn a_bad_length_byte_drops_the_rest_of_its_notification() {
    let e = pack(&[8192; 16], 14);
    let good = packet(0, 0x12, 0, &e, &[]);
    let mut n = good.clone();
    let mut bad = packet(1, 0x12, 1, &e, &[]);
    bad[0] = 200; // past the notification's end
    n.extend_from_slice(&bad);
    let mut d = AthenaDecoder::new();
    let mut out = rows();
    d.decode(DATA_1, &n, &mut out);
    assert_eq!(out[0].len(), 2);
    let st = d.stats();
    assert_eq!(
        (st.default.garbage_bytes, st.default.resyncs),
        (bad.len() as u64, 1)
    );
    // The next notification decodes.
    d.decode(DATA_1, &packet(1, 0x12, 1, &e, &[]), &mut out);
    assert_eq!(out[0].len(), 4);
    assert_eq!(d.stats().default.lost_packets, 0);
    // A length below the header's.
    let mut tiny = good.clone();
    tiny[0] = 5;
    d.decode(DATA_1, &tiny, &mut out);
    assert_eq!(d.stats().default.resyncs, 2);
}

#[test]
fn a_short_tail_and_unknown_tags_are_garbage() {
    let e = pack(&[8192; 16], 14);
    let mut n = packet(0, 0x12, 0, &e, &[]);
    n.extend_from_slice(&[0x10, 1, 2, 3, 4, 5]); // 6 bytes: no header
    let mut d = AthenaDecoder::new();
    let mut out = rows();
    d.decode(DATA_1, &n, &mut out);
    assert_eq!(d.stats().default.garbage_bytes, 6);
    // An unknown sub-packet tag ends the packet; its bytes are garbage.
    let p = packet(1, 0x12, 1, &e, &[(0x77, 0, vec![1, 2, 3])]);
    d.decode(DATA_1, &p, &mut out);
    assert_eq!(d.stats().default.garbage_bytes, 6 + 8);
    // A truncated sub-packet too.
    let p = packet(2, 0x12, 2, &e, &[(0x47, 0, vec![0; 10])]);
    d.decode(DATA_1, &p, &mut out);
    assert_eq!(d.stats().default.garbage_bytes, 6 + 8 + 15);
    // An unknown primary tag: the whole payload.
    d.decode(DATA_1, &packet(3, 0x01, 0, &[1, 2, 3, 4], &[]), &mut out);
    assert_eq!(d.stats().default.garbage_bytes, 6 + 8 + 15 + 4);
    assert_eq!(out[0].len(), 6);
    assert!(out[1].is_empty());
    assert_eq!(d.stats().default.lost_packets, 0);
}

//! Decoder unit tests. Frames are built by a tiny independent encoder here,
//! not by the decoder's own helpers.

use super::*;

const UV_PER_COUNT_G24: f64 = 4.5 / 8_388_607.0 / 24.0 * 1e6;

fn frame(counter: u8, eeg: [i32; 8], aux: [u8; 6], end: u8) -> Vec<u8> {
    let mut f = vec![0xA0, counter];
    for v in eeg {
        let u = (v as u32) & 0x00FF_FFFF;
        f.extend_from_slice(&[(u >> 16) as u8, (u >> 8) as u8, u as u8]);
    }
    f.extend_from_slice(&aux);
    f.push(end);
    assert_eq!(f.len(), 33);
    f
}

fn accel_aux(x: i16, y: i16, z: i16) -> [u8; 6] {
    let (x, y, z) = (x.to_be_bytes(), y.to_be_bytes(), z.to_be_bytes());
    [x[0], x[1], y[0], y[1], z[0], z[1]]
}

fn simple(counter: u8) -> Vec<u8> {
    frame(counter, [counter as i32; 8], [0; 6], 0xC0)
}

fn decode(variant: CytonVariant, bytes: &[u8]) -> (Rows, DecodeStats) {
    let mut d = CytonDecoder::new(variant);
    let mut out = Rows::default();
    d.push(bytes, &mut out);
    (out, d.stats().clone())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * (1.0 + b.abs())
}

#[test]
fn decodes_eeg_and_scales() {
    let eeg = [1, -1, 8_388_607, -8_388_608, 0, 1000, -1000, 42];
    let (rows, st) = decode(CytonVariant::Cyton, &frame(7, eeg, [0; 6], 0xC0));
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r.len(), 24);
    assert_eq!(r[0], 7.0);
    for i in 0..8 {
        assert!(close(r[1 + i], eeg[i] as f64 * UV_PER_COUNT_G24), "ch {i}");
    }
    assert_eq!(r[22], 0.0);
    assert_eq!(r[23], 0.0);
    assert_eq!(st.packets, 1);
    assert_eq!(st.rows, 1);
    assert_eq!(st.garbage_bytes, 0);
}

#[test]
fn every_end_byte_variant() {
    let aux = [0x01, 0x02, 0xFF, 0xFE, 0x80, 0x00];
    for end in 0xC0..=0xC6u8 {
        let (rows, st) = decode(CytonVariant::Cyton, &frame(1, [0; 8], aux, end));
        assert_eq!(rows.len(), 1, "end {end:#x}");
        let r = &rows[0];
        assert_eq!(r[12], end as f64);
        for i in 0..6 {
            assert_eq!(r[13 + i], aux[i] as f64);
        }
        let words = [0x0102 as f64, -2.0, -32768.0];
        match end {
            0xC0 => {
                for i in 0..3 {
                    assert!(close(r[9 + i], words[i] * 0.002 / 16.0));
                    assert_eq!(r[19 + i], 0.0);
                }
            }
            0xC1 => {
                for i in 0..3 {
                    assert_eq!(r[9 + i], 0.0);
                    assert_eq!(r[19 + i], words[i]);
                }
            }
            _ => {
                assert!(r[9..12].iter().all(|v| *v == 0.0));
                assert!(r[19..22].iter().all(|v| *v == 0.0));
            }
        }
        assert_eq!(st.bad_end_bytes, 0);
    }
}

#[test]
fn accel_is_held_between_samples() {
    let mut bytes = frame(1, [0; 8], accel_aux(160, -320, 16), 0xC0);
    bytes.extend(frame(2, [0; 8], [0; 6], 0xC0));
    bytes.extend(frame(3, [0; 8], accel_aux(0, 5, 5), 0xC0)); // X zero: held
    bytes.extend(frame(4, [0; 8], accel_aux(-16, 0, 0), 0xC0));
    let (rows, _) = decode(CytonVariant::Cyton, &bytes);
    let acc: Vec<_> = rows.iter().map(|r| [r[9], r[10], r[11]]).collect();
    let a = |v: f64| v * 0.002 / 16.0;
    assert_eq!(acc[0], [a(160.0), a(-320.0), a(16.0)]);
    assert_eq!(acc[1], acc[0]);
    assert_eq!(acc[2], acc[0]);
    assert_eq!(acc[3], [a(-16.0), 0.0, 0.0]);
}

#[test]
fn loss_counted_across_wrap() {
    let mut bytes = Vec::new();
    for c in [253u8, 254, 255, 0, 1, 2] {
        bytes.extend(simple(c));
    }
    let (rows, st) = decode(CytonVariant::Cyton, &bytes);
    assert_eq!(rows.len(), 6);
    assert_eq!(st.lost_packets, 0);

    let mut bytes = Vec::new();
    for c in [250u8, 2, 3, 10] {
        bytes.extend(simple(c));
    }
    let (_, st) = decode(CytonVariant::Cyton, &bytes);
    assert_eq!(st.lost_packets, 7 + 6);
}

#[test]
fn reset_stream_forgets_counter() {
    let mut d = CytonDecoder::new(CytonVariant::Cyton);
    let mut out = Rows::default();
    d.push(&simple(10), &mut out);
    d.reset_stream();
    d.push(&simple(200), &mut out);
    assert_eq!(d.stats().lost_packets, 0);
    assert_eq!(out.len(), 2);
}

#[test]
fn truncated_packet_loses_exactly_one() {
    let mut bytes = simple(1);
    bytes.extend(&simple(2)[..15]); // truncated
    bytes.extend(simple(3));
    bytes.extend(simple(4));
    let (rows, st) = decode(CytonVariant::Cyton, &bytes);
    let counters: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(counters, vec![1.0, 3.0, 4.0]);
    assert_eq!(st.lost_packets, 1);
    assert_eq!(st.garbage_bytes, 15);
    assert_eq!(st.bad_end_bytes, 1);
    assert_eq!(st.resyncs, 1);
}

#[test]
fn garbage_then_resync_ignores_false_start_in_data() {
    // Garbage, then a packet whose data contains 0xA0 bytes.
    let mut bytes = vec![0x11, 0x22, 0x33];
    let tricky = frame(5, [0xA0A0A0, 0, 0xA0, 0, 0, 0, 0, 0], [0xA0; 6], 0xC0);
    bytes.extend(&tricky[5..]); // tail of a packet: has 0xA0s inside
    bytes.extend(&tricky);
    bytes.extend(simple(6));
    bytes.extend(simple(7));
    let (rows, st) = decode(CytonVariant::Cyton, &bytes);
    let counters: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(counters, vec![5.0, 6.0, 7.0]);
    assert_eq!(st.lost_packets, 0);
    assert_eq!(st.garbage_bytes, 3 + 28);
    assert_eq!(st.packets * 33 + st.garbage_bytes, bytes.len() as u64);
}

#[test]
fn invalid_end_byte_rejected() {
    let mut bytes = simple(1);
    bytes.extend(frame(2, [0; 8], [0; 6], 0xC7));
    bytes.extend(simple(3));
    bytes.extend(simple(4));
    let (rows, st) = decode(CytonVariant::Cyton, &bytes);
    assert_eq!(
        rows.iter().map(|r| r[0]).collect::<Vec<_>>(),
        vec![1.0, 3.0, 4.0]
    );
    assert_eq!(st.bad_end_bytes, 1);
    assert_eq!(st.lost_packets, 1);
    assert_eq!(st.garbage_bytes, 33);
}

#[test]
fn resync_waits_for_confirming_start_byte() {
    let mut d = CytonDecoder::new(CytonVariant::Cyton);
    let mut out = Rows::default();
    d.push(&[0x42], &mut out); // garbage: now resyncing
    d.push(&simple(1), &mut out);
    assert!(out.is_empty(), "needs the next start byte to confirm");
    d.push(&simple(2)[..1], &mut out);
    assert_eq!(out.len(), 1);
    d.push(&simple(2)[1..], &mut out);
    assert_eq!(out.len(), 2, "back in sync: no look-ahead needed");
}

#[test]
fn partial_packets_across_pushes() {
    let mut bytes = Vec::new();
    for c in 0..20u8 {
        bytes.extend(simple(c));
    }
    let mut d = CytonDecoder::new(CytonVariant::Cyton);
    let mut out = Rows::default();
    for chunk in bytes.chunks(7) {
        d.push(chunk, &mut out);
    }
    assert_eq!(out.len(), 20);
    assert_eq!(d.stats().lost_packets, 0);
    assert_eq!(d.stats().garbage_bytes, 0);
    assert_eq!(d.pending_bytes(), 0);
}

#[test]
fn gain_tracking_changes_scaling() {
    let mut d = CytonDecoder::new(CytonVariant::Cyton);
    assert!(d.apply_config("x2010000X")); // channel 2 gain index 1 -> 2
    let mut out = Rows::default();
    d.push(&frame(1, [1000; 8], [0; 6], 0xC0), &mut out);
    assert!(close(out[0][1], 1000.0 * UV_PER_COUNT_G24));
    assert!(close(out[0][2], 1000.0 * 4.5 / 8_388_607.0 / 2.0 * 1e6));
    d.apply_config("d");
    d.push(&frame(2, [1000; 8], [0; 6], 0xC0), &mut out);
    assert!(close(out[1][2], 1000.0 * UV_PER_COUNT_G24));
    d.set_gains(&[1.0; 8]);
    d.push(&frame(3, [1000; 8], [0; 6], 0xC0), &mut out);
    assert!(close(out[2][8], 1000.0 * 4.5 / 8_388_607.0 * 1e6));
}

#[test]
fn daisy_pairs_and_averages() {
    let mut bytes = Vec::new();
    // Even: Daisy channels (first half of a sample); odd: main board channels.
    bytes.extend(frame(0, [200; 8], accel_aux(160, 160, 160), 0xC0));
    bytes.extend(frame(1, [100; 8], accel_aux(320, 0, 480), 0xC0));
    bytes.extend(frame(2, [400; 8], [0; 6], 0xC0)); // holds (320, 0, 480)
    bytes.extend(frame(3, [300; 8], [0; 6], 0xC0));
    bytes.extend(frame(4, [0; 8], [2, 4, 6, 8, 10, 12], 0xC2));
    bytes.extend(frame(5, [0; 8], [4, 4, 4, 4, 4, 4], 0xC1));
    let mut d = CytonDecoder::new(CytonVariant::Daisy);
    d.apply_config("xQ000000X"); // Daisy channel 9: gain 1
    let mut out = Rows::default();
    d.push(&bytes, &mut out);
    assert_eq!(out.len(), 3);
    let a = |v: f64| v * 0.002 / 16.0;
    let r = &out[0];
    assert_eq!(r.len(), 32);
    assert_eq!(
        r[0], 0.0,
        "package_num is the even (first) counter, as BrainFlow"
    );
    assert!(close(r[1], 100.0 * UV_PER_COUNT_G24));
    assert!(close(r[9], 200.0 * 4.5 / 8_388_607.0 * 1e6));
    assert!(close(r[10], 200.0 * UV_PER_COUNT_G24));
    assert!(close(r[17], (a(160.0) + a(320.0)) / 2.0));
    assert!(close(r[18], a(160.0) / 2.0));
    assert!(close(r[19], (a(160.0) + a(480.0)) / 2.0));
    assert_eq!(r[20], 0xC0 as f64);
    let r = &out[1];
    assert_eq!(r[0], 2.0);
    assert!(close(r[1], 300.0 * UV_PER_COUNT_G24));
    assert!(close(r[17], a(320.0)));
    assert!(close(r[19], a(480.0)));
    let r = &out[2];
    assert_eq!(r[0], 4.0);
    assert_eq!(
        r[20], 0xC1 as f64,
        "end byte of the completing (odd) packet"
    );
    assert_eq!(&r[21..27], &[3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert_eq!(&r[27..30], &[0x0404 as f64 / 2.0; 3]);
    assert_eq!(d.stats().packets, 6);
    assert_eq!(d.stats().rows, 3);
    assert_eq!(d.stats().unpaired, 0);
}

#[test]
fn daisy_discards_unpaired() {
    let mut bytes = Vec::new();
    bytes.extend(simple(1)); // odd first: no partner
    bytes.extend(simple(2));
    bytes.extend(simple(3)); // pair (2,3)
    bytes.extend(simple(4)); // even whose partner is lost
    bytes.extend(simple(6));
    bytes.extend(simple(7)); // pair (6,7)
    let (rows, st) = decode(CytonVariant::Daisy, &bytes);
    assert_eq!(
        rows.iter().map(|r| r[0]).collect::<Vec<_>>(),
        vec![2.0, 6.0]
    );
    assert_eq!(st.unpaired, 2);
    assert_eq!(st.lost_packets, 1);
    // Pairs on both sides of the counter wrap.
    let mut bytes = simple(254);
    bytes.extend(simple(255));
    bytes.extend(simple(0));
    bytes.extend(simple(1));
    let (rows, st) = decode(CytonVariant::Daisy, &bytes);
    assert_eq!(
        rows.iter().map(|r| r[0]).collect::<Vec<_>>(),
        vec![254.0, 0.0]
    );
    assert_eq!((st.lost_packets, st.unpaired), (0, 0));
}

#[test]
fn never_panics_on_nasty_input() {
    let mut d = CytonDecoder::new(CytonVariant::Daisy);
    let mut out = Rows::default();
    d.push(&[], &mut out);
    d.push(&[0xA0; 100], &mut out);
    d.push(&[0xC0; 100], &mut out);
    let mut x = 1u32;
    let noise: Vec<u8> = (0..5000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    d.push(&noise, &mut out);
    assert!(d.pending_bytes() <= 33);
}

#[test]
fn frames_separated_by_junk_are_confirmed_by_counter() {
    // Junk before and after a frame: confirmed by the next frame's counter.
    let mut bytes = vec![0x01];
    bytes.extend(simple(10));
    bytes.extend([0x02, 0x03]);
    bytes.extend(simple(11));
    bytes.extend([0x04]);
    bytes.extend(simple(12)); // continues 11: accepted without look-ahead
    let (rows, st) = decode(CytonVariant::Cyton, &bytes);
    assert_eq!(
        rows.iter().map(|r| r[0]).collect::<Vec<_>>(),
        vec![10.0, 11.0, 12.0]
    );
    assert_eq!(st.garbage_bytes, 4);
    assert_eq!(st.lost_packets, 0);
}

#[test]
fn false_start_in_data_rejected_when_next_counter_mismatches() {
    // Junk, then the tail of a packet holding a fake frame: 0xA0, "counter"
    // 0x50, ..., a valid end byte, then junk and a real packet whose counter
    // does not follow 0x50.
    let mut bytes = vec![0x01];
    let mut fake = vec![0xA0, 0x50];
    fake.extend([0u8; 30]);
    fake.push(0xC0);
    bytes.extend(&fake);
    bytes.push(0x07);
    bytes.extend(simple(3));
    bytes.extend(simple(4));
    let (rows, st) = decode(CytonVariant::Cyton, &bytes);
    assert_eq!(
        rows.iter().map(|r| r[0]).collect::<Vec<_>>(),
        vec![3.0, 4.0]
    );
    assert_eq!(st.garbage_bytes, 1 + 33 + 1);
}

#[test]
fn accel_and_analog_held_across_end_bytes_like_brainflow() {
    let mut bytes = frame(1, [0; 8], accel_aux(160, 32, -16), 0xC0);
    bytes.extend(frame(2, [0; 8], accel_aux(100, 200, -300), 0xC1));
    bytes.extend(frame(3, [0; 8], [9; 6], 0xC4));
    bytes.extend(frame(4, [0; 8], [0; 6], 0xC0));
    let (rows, _) = decode(CytonVariant::Cyton, &bytes);
    let a = |v: f64| v * 0.002 / 16.0;
    for r in &rows {
        assert_eq!(&r[9..12], &[a(160.0), a(32.0), a(-16.0)]);
    }
    assert_eq!(&rows[0][19..22], &[0.0; 3]);
    for r in rows.iter().skip(1) {
        assert_eq!(&r[19..22], &[100.0, 200.0, -300.0]);
    }
}

#[test]
fn brainflow_compat_daisy_pairing() {
    let mut bytes = Vec::new();
    for c in 1..=6u8 {
        bytes.extend(frame(c, [c as i32 * 10; 8], [c; 6], 0xC2));
    }
    let mut d = CytonDecoder::new(CytonVariant::Daisy);
    d.set_daisy_pairing(DaisyPairing::BrainFlowCompat);
    assert_eq!(d.daisy_pairing(), DaisyPairing::BrainFlowCompat);
    let mut out = Rows::default();
    d.push(&bytes, &mut out);
    // Rows commit on odd packets; the first has no Daisy half yet.
    let pk: Vec<f64> = out.iter().map(|r| r[0]).collect();
    assert_eq!(pk, vec![0.0, 2.0, 4.0]);
    assert!(close(out[0][1], 10.0 * UV_PER_COUNT_G24));
    assert_eq!(out[0][9], 0.0);
    assert!(close(out[1][1], 30.0 * UV_PER_COUNT_G24));
    assert!(close(out[1][9], 20.0 * UV_PER_COUNT_G24));
    // Other rows: odd end byte, aux bytes averaged with the even packet's.
    assert_eq!(out[1][20], 0xC2 as f64);
    assert_eq!(out[1][21], 2.5);
    assert_eq!(out[0][21], 0.5, "averaged with the never-set (zero) row");
    assert_eq!(d.stats().unpaired, 1);
}

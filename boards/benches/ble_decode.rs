//! BLE decoder throughput: Ganglion firmware 2 and 3, Muse EEG, over 10,000
//! notifications each (the decoders are fed one notification at a time, as
//! the drivers do), in bytes of notification values per second: every
//! notification is 20 bytes, so notifications/s = bytes/s ÷ 20 (criterion
//! prints MiB/s: 300 MB/s = 286 MiB/s); BrainAlive's are 220 bytes (five
//! rows each) and AAVAA v3's 48 (a header byte and one 47-byte frame), each
//! in a group of its own; the Muse S Athena's are the 25 notifications of
//! the committed capture `muse-jsx/log_p1041.hex` (p1041: EEG8, 16 optics,
//! IMU, DRL/REF, battery; 188 to 243 bytes) cycled to 10,000 with their
//! packet index renumbered. Rows go into reused buffers, as the BLE
//! session's do.

use std::time::Duration;

use boardloop_boards::codec::aavaa::{self, AavaaDecoder};
use boardloop_boards::codec::brainalive::{self, BrainAliveDecoder};
use boardloop_boards::codec::muse::{MuseChar, MuseRows};
use boardloop_boards::codec::muse_athena::{AthenaDecoder, DATA_1};
use boardloop_boards::{GanglionDecoder, GanglionFirmware, MuseDecoder, MuseModel, Rows};
use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};

mod cpu_time;

const N: usize = 10_000;
/// Bytes of every notification here.
const LEN: usize = 20;

/// 18-bit Ganglion packets with varying fields (valid for both firmwares).
fn ganglion_packets(first_id: u8) -> Vec<[u8; LEN]> {
    (0..N)
        .map(|k| {
            let mut p = [0u8; LEN];
            p[0] = first_id + (k % 100) as u8;
            for (i, b) in p[1..].iter_mut().enumerate() {
                *b = (k * 31 + i * 7) as u8;
            }
            p
        })
        .collect()
}

/// Muse EEG notifications: four channels per sequence number.
fn muse_packets() -> Vec<(MuseChar, [u8; LEN])> {
    (0..N)
        .map(|k| {
            let seq = (k / 4) as u16;
            let mut p = [0u8; LEN];
            p[..2].copy_from_slice(&seq.to_be_bytes());
            for (i, b) in p[2..].iter_mut().enumerate() {
                *b = (k * 13 + i) as u8;
            }
            (MuseChar::Eeg((k % 4) as u8), p)
        })
        .collect()
}

/// A group of this bench's settings, its throughput `bytes` per iteration.
fn group<'a, M: Measurement>(
    c: &'a mut Criterion<M>,
    name: &str,
    bytes: usize,
) -> criterion::BenchmarkGroup<'a, M> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Bytes(bytes as u64));
    g
}

fn bench<M: Measurement>(c: &mut Criterion<M>) {
    let mut g = group(c, "ble_decode", N * LEN);
    for (name, fw, first) in [
        ("ganglion_fw3_10k", GanglionFirmware::V3, 0u8),
        ("ganglion_fw2_10k", GanglionFirmware::V2, 1u8),
    ] {
        let packets = ganglion_packets(first);
        g.bench_function(name, |b| {
            let mut rows = Rows::with_capacity(15, 2 * N);
            b.iter(|| {
                let mut d = GanglionDecoder::new(fw);
                rows.clear();
                for p in &packets {
                    d.decode(p, &mut rows);
                }
                rows.len()
            })
        });
    }
    let packets = muse_packets();
    g.bench_function("muse_eeg_10k", |b| {
        let mut out = MuseRows::default();
        b.iter(|| {
            let mut d = MuseDecoder::new(MuseModel::Muse2);
            out.default.clear();
            for (ch, p) in &packets {
                d.decode(*ch, p, &mut out);
            }
            out.default.len()
        })
    });
    g.finish();

    // BrainAlive: the configuration reply, then 220-byte notifications.
    let config = [0x0A, 0x05, 0x07, 12, 1, 0x11, 0x94, 0x0D];
    let packets: Vec<Vec<u8>> = (0..N)
        .map(|k| {
            let mut p: Vec<u8> = (0..brainalive::PACKET_LEN)
                .map(|i| (k * 29 + i * 11) as u8)
                .collect();
            for r in 0..brainalive::RECORDS {
                p[r * brainalive::RECORD_LEN + 41] = (k * 5 + r) as u8;
            }
            p
        })
        .collect();
    let mut g = group(c, "ble_decode_brainalive", N * brainalive::PACKET_LEN);
    g.bench_function("brainalive_10k", |b| {
        let mut rows = Rows::with_capacity(brainalive::NUM_ROWS, brainalive::RECORDS * N);
        b.iter(|| {
            let mut d = BrainAliveDecoder::new();
            d.decode(&config, &mut rows);
            rows.clear();
            for p in &packets {
                d.decode(p, &mut rows);
            }
            assert_eq!(d.stats().lost_packets, 0);
            rows.len()
        })
    });
    g.finish();

    // AAVAA v3: one frame behind the Proteus header byte per notification.
    let packets: Vec<Vec<u8>> = (0..N)
        .map(|k| {
            let mut p = vec![0x01, 0xA0, k as u8];
            p.extend((0..8).flat_map(|ch| ((k * 8 + ch) as f32 * 0.5).to_le_bytes()));
            p.extend((0..12).map(|i| (k * 7 + i) as u8));
            p.push(0xC0);
            p
        })
        .collect();
    let mut g = group(c, "ble_decode_aavaa", N * (aavaa::FRAME_LEN + 1));
    g.bench_function("aavaa_v3_10k", |b| {
        let mut rows = Rows::with_capacity(aavaa::NUM_ROWS, N);
        b.iter(|| {
            let mut d = AavaaDecoder::new();
            rows.clear();
            for p in &packets {
                d.decode(p, &mut rows);
            }
            assert_eq!(d.stats().lost_packets, 0);
            rows.len()
        })
    });
    g.finish();

    // Muse S Athena: a real p1041 capture, renumbered so nothing is lost.
    let capture: Vec<Vec<u8>> = include_str!("../tests/captures/muse-jsx/log_p1041.hex")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            l.split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).expect("hex"))
                .collect()
        })
        .collect();
    let packets: Vec<Vec<u8>> = (0..N)
        .map(|k| {
            let mut p = capture[k % capture.len()].clone();
            p[1..3].copy_from_slice(&(k as u16).to_le_bytes());
            p
        })
        .collect();
    let bytes = packets.iter().map(Vec::len).sum();
    let mut g = group(c, "ble_decode_athena", bytes);
    g.bench_function("athena_p1041_10k", |b| {
        let mut rows = [Rows::default(), Rows::default(), Rows::default()];
        b.iter(|| {
            let mut d = AthenaDecoder::new();
            for r in &mut rows {
                r.clear();
            }
            for p in &packets {
                d.decode(DATA_1, p, &mut rows);
            }
            let st = d.stats();
            assert_eq!((st.default.lost_packets, st.default.garbage_bytes), (0, 0));
            rows[0].len()
        })
    });
    g.finish();
}

main_with_clock!(bench);

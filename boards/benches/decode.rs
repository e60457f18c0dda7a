//! Cyton decoder throughput over 1 MiB of packets, in bytes of input per
//! second (criterion prints MiB/s or GiB/s: 1 GB/s = 954 MiB/s). Rows go
//! into one reused [`Rows`] buffer, as the serial session's are.

use std::time::Duration;

use boardloop_boards::{CytonDecoder, CytonVariant, Rows};
use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};

mod cpu_time;

fn packets(total: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(total + 33);
    let mut counter = 0u8;
    while out.len() + 33 <= total {
        out.push(0xA0);
        out.push(counter);
        for ch in 0..8u32 {
            let v = (u32::from(counter) * 997 + ch * 31) & 0xFF_FFFF;
            out.extend_from_slice(&v.to_be_bytes()[1..]);
        }
        let accel = if counter % 10 == 0 { 0x10 } else { 0 };
        out.extend_from_slice(&[0, accel, 0, 0, 0, 0]);
        out.push(0xC0);
        counter = counter.wrapping_add(1);
    }
    out
}

fn bench<M: Measurement>(c: &mut Criterion<M>) {
    let data = packets(1 << 20);
    let mut g = c.benchmark_group("cyton_decode");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Bytes(data.len() as u64));
    for (name, chunk) in [("1MiB_chunks_4096", 4096usize), ("1MiB_chunks_64", 64)] {
        g.bench_function(name, |b| {
            let mut rows = Rows::with_capacity(24, data.len() / 33 + 1);
            b.iter(|| {
                let mut d = CytonDecoder::new(CytonVariant::Cyton);
                rows.clear();
                for c in data.chunks(chunk) {
                    d.push(c, &mut rows);
                }
                assert_eq!(d.stats().lost_packets, 0);
                rows.len()
            })
        });
    }
    g.finish();
}

main_with_clock!(bench);

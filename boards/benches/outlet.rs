//! What a streamer costs the reading thread, and how fast its own thread
//! writes: Cyton-wide rows (24 values) pushed into a preset's [`Outlet`]
//! with only its ring buffer, then with a `file://` streamer beside it, then
//! with a `streaming_board://` one (to a local UDP socket nobody reads). The
//! last group adds a file streamer, pushes 8,000 rows (fewer than its queue
//! holds) and waits until they are written: the writer's rows per second.
//! Rows a full queue dropped are printed after each group (none expected).

use std::net::UdpSocket;
use std::time::Duration;

use boardloop_boards::outlet::Outlet;
use boardloop_boards::streamer::Streamer;
use boardloop_boards::{board_descr, BoardId, Preset, RingBuffer};
use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};

mod cpu_time;

const WIDTH: usize = 24;
const ROWS: usize = 4096;

fn rows() -> Vec<Vec<f64>> {
    (0..ROWS)
        .map(|i| {
            (0..WIDTH)
                .map(|j| (i * WIDTH + j) as f64 * 0.017 - 1234.5)
                .collect()
        })
        .collect()
}

fn temp_file(name: &str) -> Streamer {
    let p = std::env::temp_dir().join(format!("boardloop-bench-{}-{name}", std::process::id()));
    Streamer::File {
        path: p.to_string_lossy().into_owned(),
        append: false,
    }
}

fn bench<M: Measurement>(c: &mut Criterion<M>) {
    let data = rows();
    let descr = board_descr(BoardId::Cyton, Preset::Default).unwrap();
    assert_eq!(descr.num_rows, WIDTH);
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp = Streamer::StreamingBoard {
        ip: "127.0.0.1".into(),
        port: sink.local_addr().unwrap().port(),
    };
    let mut g = c.benchmark_group("outlet_push");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(ROWS as u64));
    for (name, spec) in [
        ("ring_only", None),
        ("ring_and_file", Some(temp_file("push.csv"))),
        ("ring_and_multicast", Some(udp)),
    ] {
        let mut o = Outlet::default();
        o.ring = Some(RingBuffer::new(45_000, WIDTH));
        if let Some(s) = &spec {
            o.add(s, &descr).unwrap();
        }
        g.bench_function(name, |b| {
            b.iter(|| {
                for r in &data {
                    o.push(r);
                }
            })
        });
        for s in o.take_streamers() {
            let st = s.finish();
            eprintln!("{name}: {st:?}");
        }
    }
    g.finish();

    let mut g = c.benchmark_group("file_streamer");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(8000));
    let spec = temp_file("writer.csv");
    g.bench_function("write_8000_rows", |b| {
        b.iter(|| {
            let mut o = Outlet::default();
            o.add(&spec, &descr).unwrap();
            for r in data.iter().cycle().take(8000) {
                o.push(r);
            }
            let st = o.take_streamers().remove(0).finish();
            assert_eq!(st.rows_out, 8000, "{st:?}");
        })
    });
    g.finish();
}

main_with_clock!(bench);

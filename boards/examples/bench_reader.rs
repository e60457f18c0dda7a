//! The Rust-API reader of `ci/bench-vs-brainflow.sh`: the same work and the
//! same JSON line as `ci/bench_reader.py`, through `create_board` directly.
//!
//! `cargo run --release -p boardloop-boards --example bench_reader -- PORT PACKETS SECONDS`
//! streams until PACKETS rows are in (or 1.5 × SECONDS + 5 s have passed),
//! draining the buffer every 10 ms, and prints rows, lost (package-number
//! gaps), seconds, cpu_s (user + system of the whole process over the
//! stream) and cpu_us_per_packet. `… -- PORT --calls N` prints the cost of
//! one `get_board_data_count` and one `get_board_data(1)` in µs.

use std::time::{Duration, Instant};

use boardloop_boards::{create_board, Board, BoardId, InputParams, Preset};
use nix::sys::resource::{getrusage, UsageWho};

/// Row of the package number in the Cyton's layout.
const COUNTER_ROW: usize = 0;

fn cpu() -> f64 {
    let r = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let s = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
    s(r.user_time()) + s(r.system_time())
}

fn open(port: &str) -> Box<dyn Board> {
    let mut board =
        create_board(BoardId::Cyton, InputParams::with_serial_port(port)).expect("cyton board");
    board.prepare_session().expect("prepare_session");
    board
}

fn stream(port: &str, packets: usize, seconds: f64) -> String {
    let mut board = open(port);
    let mut rows = 0usize;
    let mut lost = 0u64;
    let mut prev: Option<u64> = None;
    let c0 = cpu();
    let t0 = Instant::now();
    board
        // The buffer covers half a second at the top step; it is drained every 10 ms.
        .start_stream(packets.min(1_000_000) + 100_000)
        .expect("start_stream");
    let deadline = t0 + Duration::from_secs_f64(seconds * 1.5 + 5.0);
    while rows < packets && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        let data = board
            .get_board_data(None, Preset::Default)
            .expect("get_board_data");
        for &c in data.row(COUNTER_ROW) {
            let c = c as u64;
            if let Some(p) = prev {
                lost += (c + 256 - p - 1) % 256;
            }
            prev = Some(c);
        }
        rows += data.num_samples;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let used = cpu() - c0;
    board.stop_stream().expect("stop_stream");
    board.release_session().expect("release_session");
    let per = if rows > 0 {
        format!("{:.3}", used / rows as f64 * 1e6)
    } else {
        "null".into()
    };
    format!(
        r#"{{"rows": {rows}, "lost": {lost}, "seconds": {elapsed:.3}, "cpu_s": {used:.3}, "cpu_us_per_packet": {per}}}"#
    )
}

fn calls(port: &str, n: usize) -> String {
    let mut board = open(port);
    board.start_stream(4 * n).expect("start_stream");
    while board.get_board_data_count(Preset::Default).expect("count") < 2 * n {
        std::thread::sleep(Duration::from_millis(10));
    }
    board.stop_stream().expect("stop_stream");
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(board.get_board_data_count(Preset::Default).expect("count"));
    }
    let count_us = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(
            board
                .get_board_data(Some(1), Preset::Default)
                .expect("data"),
        );
    }
    let data_us = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    board.release_session().expect("release_session");
    format!(r#"{{"count_us": {count_us:.3}, "data_us": {data_us:.3}}}"#)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_reader PORT PACKETS SECONDS | PORT --calls N";
    let port = args.first().expect(usage);
    let line = match args.get(1).map(String::as_str) {
        Some("--calls") => calls(port, args.get(2).expect(usage).parse().expect(usage)),
        Some(n) => stream(
            port,
            n.parse().expect(usage),
            args.get(2).expect(usage).parse().expect(usage),
        ),
        None => panic!("{usage}"),
    };
    println!("{line}");
}

//! The NeuroPawn Knight's two implementations on the same workload: the Rust
//! `KnightBoard` (through `create_board`) and the C++ plugin (through
//! `PluginBoard`), each reading the Knight emulator's `long_run` stream at
//! `max` pacing on a real pseudo-terminal.
//!
//! Prints, per implementation: rows/s (start_stream to the last row) and CPU
//! per row of every thread of this process except the emulator's (the board's
//! reader plus the host loop draining it), from `/proc/self/task/*/stat`.
//! Asserts only that every row arrived with nothing lost.
//!
//! Run: `bash ci/build-plugins.sh && cargo bench -p boardloop-harness --bench knight_impls`;
//! `BOARDLOOP_BENCH_PACKETS` (default 200000) sets the stream length.

use boardloop_boards::{create_board, Board, BoardId, InputParams, PluginBoard, Preset};
use boardloop_emulators::{Pacing, Scenario, SerialEmulator, SerialOptions};
use boardloop_harness::plan::cpp_plugin;
use std::path::Path;
use std::time::{Duration, Instant};

/// CPU seconds used so far by this process's threads, the emulator's excluded.
fn host_cpu_seconds() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc_sysconf_clk_tck() };
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: comm may hold spaces, so split after ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if stat[open + 1..close].starts_with("emulate") {
            continue;
        }
        let f: Vec<&str> = stat[close + 2..].split(' ').collect();
        // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after comm.
        let ut: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
        let st: u64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
        total += ut + st;
    }
    total as f64 / ticks
}

extern "C" {
    fn sysconf(name: i32) -> i64;
}

/// `sysconf(_SC_CLK_TCK)` (name 2 on Linux).
unsafe fn libc_sysconf_clk_tck() -> f64 {
    sysconf(2) as f64
}

fn scenario(packets: u64) -> Scenario {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut sc = Scenario::load(
        &root.join("neuropawn_knight/long_run.yaml"),
        &root.join("devices"),
    )
    .expect("long_run scenario loads");
    sc.decl.packets = Some(packets);
    sc
}

struct Figures {
    rows: usize,
    secs: f64,
    cpu: f64,
    lost: u64,
}

fn run(label: &str, packets: u64, make: &dyn Fn(&str) -> Box<dyn Board>) -> Figures {
    let opts = SerialOptions {
        pacing: Some(Pacing::Max),
        transcript_limit: 0,
        record_write_times: false,
    };
    let emu = SerialEmulator::spawn(&scenario(packets), opts).expect("emulator starts");
    let mut b = make(&emu.path().display().to_string());
    b.prepare_session().expect("prepare");
    let cpu0 = host_cpu_seconds();
    let t0 = Instant::now();
    b.start_stream(1_000_000).expect("start");
    let mut rows = 0usize;
    let mut last_change = Instant::now();
    while rows < packets as usize {
        let n = b.get_board_data_count(Preset::Default).expect("count");
        if n > 0 {
            rows += b
                .get_board_data(Some(n), Preset::Default)
                .expect("data")
                .num_samples;
            last_change = Instant::now();
        } else if last_change.elapsed() > Duration::from_secs(5) {
            panic!("{label}: stalled at {rows} rows");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let secs = t0.elapsed().as_secs_f64();
    // Before stop: a joined reader thread leaves /proc/self/task.
    let cpu = host_cpu_seconds() - cpu0;
    let lost = b.stream_stats().decode.lost_packets;
    b.stop_stream().expect("stop");
    b.release_session().expect("release");
    Figures {
        rows,
        secs,
        cpu,
        lost,
    }
}

fn main() {
    let packets: u64 = std::env::var("BOARDLOOP_BENCH_PACKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let plugin = cpp_plugin("neuropawn_knight").expect("the Knight has a C++ plugin");
    let rust = |port: &str| {
        create_board(
            BoardId::NeuropawnKnight,
            InputParams::with_serial_port(port),
        )
        .expect("rust board")
    };
    let cpp = |port: &str| -> Box<dyn Board> {
        Box::new(
            PluginBoard::load(&plugin, &InputParams::with_serial_port(port))
                .unwrap_or_else(|e| panic!("{e}: run `bash ci/build-plugins.sh` first")),
        )
    };
    println!(
        "NeuroPawn Knight, long_run at max pacing, {packets} packets of 21 bytes per implementation"
    );
    println!(
        "{:<6} {:>10} {:>12} {:>10} {:>14}",
        "impl", "rows", "rows/s", "cpu s", "cpu µs/row"
    );
    // Alternate twice so neither side always runs on a cold machine.
    for round in 0..2 {
        for (label, make) in [
            ("rust", &rust as &dyn Fn(&str) -> Box<dyn Board>),
            ("cpp", &cpp),
        ] {
            let f = run(label, packets, make);
            assert_eq!(f.rows as u64, packets, "{label}: rows");
            assert_eq!(f.lost, 0, "{label}: lost packets");
            println!(
                "{:<6} {:>10} {:>12.0} {:>10.3} {:>14.3}   (round {})",
                label,
                f.rows,
                f.rows as f64 / f.secs,
                f.cpu,
                f.cpu * 1e6 / f.rows as f64,
                round + 1
            );
        }
    }
}

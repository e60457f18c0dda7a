//! End-to-end benchmark of the serial path: the Cyton emulator on a real
//! pseudo-terminal, read by the real Rust Cyton driver through `create_board`.
//!
//! Prints three figures and exits 0; nothing here asserts a timing, because the
//! numbers depend on the machine and on whatever else it is running.
//!
//! 1. Throughput: the highest packet rate held for N seconds with zero loss.
//! 2. Latency from the emulator writing a packet to `get_board_data` returning it.
//! 3. The emulator's pacing jitter at the Cyton's real-time 250 Hz.
//!
//! Run with `cargo bench -p boardloop-harness --bench pty`; set
//! `BOARDLOOP_BENCH_SECONDS` (default 10) to change N.

use boardloop_boards::{create_board, Board, BoardId, InputParams, Preset};
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Pacing, Profile, Scenario, SerialEmulator, SerialOptions};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes in one Cyton packet on the wire (0xA0, counter, 24 EEG, 6 aux, end).
const PACKET_BYTES: f64 = 33.0;
/// The Cyton's own packet rate (packets/s).
const CYTON_RATE: f64 = 250.0;
/// Row of the packet counter in BrainFlow's Cyton layout.
const COUNTER_ROW: usize = 0;
/// Ring buffer passed to `start_stream`. The bench drains it every few ms, so
/// this only has to cover a scheduling hiccup at the highest rates; overflow
/// would drop the oldest rows silently and show up as rows < sent.
const RING_SAMPLES: usize = 2_000_000;
/// Speed factors tried in order (250 × f packets/s); the sweep stops at the
/// first step that loses data, finishes late or falls short of its rate.
const SPEEDS: [f64; 12] = [
    4.0, 16.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0, 32768.0,
];

/// Builds a Cyton scenario in code, as `emulators/tests/openbci_profiles.rs` does;
/// `packets` bounds the stream so the device falls silent by itself.
fn cyton_scenario(packets: u64) -> Scenario {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&devices.join("cyton.yaml")).expect("cyton profile"));
    // A live signal rather than zeros, so every packet goes through the full
    // layout engine as it does in the scenario matrix.
    let text = format!(
        "device: cyton\nsteps: []\npackets: {packets}\n\
         signals:\n  eeg*: {{ sine: {{ hz: 10, amplitude: 100 }} }}\n"
    );
    let path = Path::new("/virtual/cyton/bench.yaml");
    let decl: ScenarioDecl =
        boardloop_emulators::load::parse_yaml(path, &text).expect("bench scenario parses");
    Scenario::with_profile(path, &text, decl, profile).expect("bench scenario is valid")
}

/// Starts an emulator and a prepared, streaming Cyton session on its pty.
fn open(
    packets: u64,
    pacing: Pacing,
    record_write_times: bool,
) -> Result<(SerialEmulator, Box<dyn Board>), String> {
    let opts = SerialOptions {
        pacing: Some(pacing),
        // The transcript is for debugging failed trials; keeping none keeps
        // its copies out of the measurement.
        transcript_limit: 0,
        record_write_times,
    };
    let emu = SerialEmulator::spawn(&cyton_scenario(packets), opts).map_err(|e| e.to_string())?;
    let params = InputParams {
        serial_port: emu.path().display().to_string(),
        ..Default::default()
    };
    let mut board = create_board(BoardId::Cyton, params).map_err(|e| e.to_string())?;
    board.prepare_session().map_err(|e| e.to_string())?;
    board
        .start_stream(RING_SAMPLES)
        .map_err(|e| e.to_string())?;
    Ok((emu, board))
}

/// Stops the session and the emulator, ignoring errors: the figures are taken.
fn close(emu: SerialEmulator, mut board: Box<dyn Board>) {
    let _ = board.stop_stream();
    let _ = board.release_session();
    drop(board);
    emu.stop();
}

/// One throughput step.
struct Step {
    /// Pacing label, e.g. `speed x64` or `max`.
    label: String,
    /// Nominal packet rate, `None` for max pacing.
    nominal: Option<f64>,
    /// Packets the emulator sent.
    sent: u64,
    /// Rows the driver returned.
    rows: u64,
    /// Lost packets the driver reported (counter gaps).
    lost: u64,
    /// Start of stream to the last row returned.
    elapsed: Duration,
    /// Bytes the driver read.
    bytes: u64,
    /// The step did not complete: cut off at its deadline, or failed to start.
    timed_out: bool,
}

impl Step {
    /// Rows per second actually delivered.
    fn rate(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Delivered at least 95% of the nominal rate over the step, i.e. held it;
    /// the slack covers session start-up and the 2 ms drain granularity.
    /// Max pacing has no rate to miss.
    fn keeps_up(&self) -> bool {
        self.nominal.is_none_or(|r| self.rate() >= 0.95 * r)
    }

    /// Zero loss: every packet sent came out as a row and no gap was reported.
    fn clean(&self) -> bool {
        !self.timed_out && self.lost == 0 && self.rows == self.sent
    }
}

/// Streams `packets` packets at `pacing`, draining the driver as an
/// application would, until every row is in, rows stop coming, or `deadline`.
fn throughput(label: String, pacing: Pacing, packets: u64, deadline: Duration) -> Step {
    let nominal = match pacing {
        Pacing::Realtime => Some(CYTON_RATE),
        Pacing::Speed(f) => Some(CYTON_RATE * f),
        Pacing::Max => None,
    };
    let mut step = Step {
        label,
        nominal,
        sent: 0,
        rows: 0,
        lost: 0,
        elapsed: Duration::ZERO,
        bytes: 0,
        timed_out: false,
    };
    let (emu, mut board) = match open(packets, pacing, false) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{}: could not start: {e}", step.label);
            step.timed_out = true;
            return step;
        }
    };
    let t0 = Instant::now();
    let mut last_row = t0;
    loop {
        // Short enough that the ring never fills, long enough to leave the two
        // cores to the emulator and the driver's reader.
        std::thread::sleep(Duration::from_millis(2));
        let n = board
            .get_board_data(None, Preset::Default)
            .map_or(0, |d| d.num_samples as u64);
        let now = Instant::now();
        if n > 0 {
            step.rows += n;
            last_row = now;
        }
        step.sent = emu.stats().packets_sent;
        let all_sent = step.sent >= packets;
        // Rows lost in transit never arrive: once the device is done, a quiet
        // half second means the driver has everything it will get.
        if all_sent && (step.rows >= step.sent || now - last_row > Duration::from_millis(500)) {
            break;
        }
        if now - t0 > deadline {
            step.timed_out = true;
            break;
        }
    }
    let stats = board.stream_stats();
    step.lost = stats.decode.lost_packets;
    step.bytes = stats.bytes_read;
    step.elapsed = last_row - t0;
    close(emu, board);
    step
}

/// Value at quantile `q` (nearest rank) of the sorted `v`; NaN if empty.
fn pct(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

/// Sorts durations in ms for [`pct`].
fn sorted_ms(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Streams at 250 Hz for `seconds`, polling `get_board_data` in a tight loop;
/// prints latency (figure 2) and the emulator's pacing jitter (figure 3).
fn latency_and_jitter(seconds: u64) {
    let packets = (CYTON_RATE as u64) * seconds;
    let (emu, mut board) = match open(packets, Pacing::Realtime, true) {
        Ok(x) => x,
        Err(e) => {
            println!("could not start the latency run: {e}");
            return;
        }
    };
    // (stream packet index, when get_board_data returned it)
    let mut seen: Vec<(u64, Instant)> = Vec::with_capacity(packets as usize);
    // The counter is a u8: unwrap it into the stream index by adding the
    // forward distance from the previous one (0 for the first packet).
    let mut last: Option<(u8, u64)> = None;
    let t0 = Instant::now();
    let mut last_row = t0;
    loop {
        std::thread::sleep(Duration::from_micros(200));
        let d = match board.get_board_data(None, Preset::Default) {
            Ok(d) => d,
            Err(_) => break,
        };
        let now = Instant::now();
        for &c in d.row(COUNTER_ROW) {
            let c = c as u8;
            let idx = match last {
                None => u64::from(c),
                Some((pc, pi)) => pi + u64::from(c.wrapping_sub(pc)),
            };
            last = Some((c, idx));
            seen.push((idx, now));
        }
        if !d.is_empty() {
            last_row = now;
        }
        let done = emu.stats().packets_sent >= packets;
        if (done && (seen.len() as u64 >= packets || now - last_row > Duration::from_millis(500)))
            || now - t0 > Duration::from_secs(seconds * 2 + 5)
        {
            break;
        }
    }
    let lost = board.stream_stats().decode.lost_packets;
    let writes = emu.take_write_times();
    close(emu, board);

    let written: HashMap<u64, Instant> = writes.iter().copied().collect();
    let lat = sorted_ms(
        seen.iter()
            .filter_map(|(i, at)| written.get(i).map(|w| (*at - *w).as_secs_f64() * 1e3))
            .collect(),
    );
    println!(
        "2. Latency, emulator write -> get_board_data (250 Hz, {seconds} s, poll every 200 us)"
    );
    println!(
        "   rows {} matched {} lost {lost}   p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms",
        seen.len(),
        lat.len(),
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    println!();

    let nominal_ms = 1e3 / CYTON_RATE;
    let mut times: Vec<(u64, Instant)> = writes;
    times.sort_by_key(|w| w.0);
    let dev = sorted_ms(
        times
            .windows(2)
            .map(|w| ((w[1].1 - w[0].1).as_secs_f64() * 1e3 - nominal_ms).abs())
            .collect(),
    );
    let rate = match (times.first(), times.last()) {
        (Some(a), Some(b)) if times.len() > 1 => {
            (times.len() - 1) as f64 / (b.1 - a.1).as_secs_f64()
        }
        _ => f64::NAN,
    };
    println!(
        "3. Emulator pacing jitter at 250 Hz: |interval - 4 ms| over {} intervals",
        dev.len()
    );
    println!(
        "   p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms   achieved {rate:.2} packets/s",
        pct(&dev, 0.5),
        pct(&dev, 0.99),
        dev.last().copied().unwrap_or(f64::NAN)
    );
}

/// Prints one row of the throughput table.
fn print_step(s: &Step) {
    let nominal = s.nominal.map_or("-".to_string(), |r| format!("{r:.0}"));
    let verdict = if s.timed_out {
        "late"
    } else if !s.clean() {
        "LOSS"
    } else if !s.keeps_up() {
        "short"
    } else {
        "ok"
    };
    println!(
        "   {:<12} {:>10} {:>10} {:>10} {:>6} {:>8.2} {:>11.0} {:>7.2}  {verdict}",
        s.label,
        nominal,
        s.sent,
        s.rows,
        s.lost,
        s.elapsed.as_secs_f64(),
        s.rate(),
        s.bytes as f64 / s.elapsed.as_secs_f64().max(1e-9) / 1e6,
    );
}

/// The output of `nproc`, or what the standard library thinks it would be.
fn nproc() -> String {
    std::process::Command::new("nproc")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            std::thread::available_parallelism().map_or("?".into(), |n| n.to_string())
        })
}

/// Runs the three measurements and prints them.
fn main() {
    let seconds: u64 = std::env::var("BOARDLOOP_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(10);
    println!(
        "command: BOARDLOOP_BENCH_SECONDS={seconds} cargo bench -p boardloop-harness --bench pty"
    );
    println!(
        "binary:  {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!("nproc:   {}", nproc());
    println!();

    println!("1. Throughput, Cyton over a pty into the Rust driver, {seconds} s per step");
    println!(
        "   {:<12} {:>10} {:>10} {:>10} {:>6} {:>8} {:>11} {:>7}",
        "pacing", "nominal/s", "sent", "rows", "lost", "time s", "achieved/s", "MB/s"
    );
    // A step that cannot keep up takes longer than N s; past this it is cut off.
    let deadline = Duration::from_secs_f64(seconds as f64 * 1.5 + 2.0);
    let mut best: Option<Step> = None;
    let mut fastest = 0.0f64;
    for f in SPEEDS {
        let rate = CYTON_RATE * f;
        let s = throughput(
            format!("speed x{f}"),
            Pacing::Speed(f),
            (rate * seconds as f64) as u64,
            deadline,
        );
        print_step(&s);
        fastest = fastest.max(s.rate());
        // Falling short of the nominal rate means the path is saturated:
        // faster steps would only take longer to say the same.
        if !(s.clean() && s.keeps_up()) {
            break;
        }
        best = Some(s);
    }
    // Max pacing has no rate to size its packet limit from; use the fastest
    // rate seen so it streams for about N s (less if it outruns the sweep).
    let max_packets = ((fastest.max(CYTON_RATE)) * seconds as f64) as u64;
    let m = throughput("max".into(), Pacing::Max, max_packets, deadline);
    print_step(&m);
    match &best {
        Some(b) => println!(
            "   highest rate held {seconds} s with zero loss: {:.0} packets/s ({}: achieved {:.0}/s, {:.2} MB/s)",
            b.nominal.unwrap_or(0.0),
            b.label,
            b.rate(),
            b.bytes as f64 / b.elapsed.as_secs_f64().max(1e-9) / 1e6
        ),
        None => println!("   no step held its rate with zero loss"),
    }
    println!(
        "   max pacing: {:.0} packets/s, {:.2} MB/s ({} of {} packets, lost {})",
        m.rate(),
        m.bytes as f64 / m.elapsed.as_secs_f64().max(1e-9) / 1e6,
        m.rows,
        m.sent,
        m.lost
    );
    println!(
        "   ({PACKET_BYTES} bytes per packet; the real dongle at 115200 baud carries at most {:.0} packets/s)",
        115_200.0 / 10.0 / PACKET_BYTES
    );
    println!();

    latency_and_jitter(seconds);
}

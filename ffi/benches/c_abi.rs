//! Cost per sample of `get_board_data` through the C ABI (the `extern "C"`
//! function called through the rlib, as a C caller sees it: JSON params
//! parsed, session looked up, values written into a reused caller buffer)
//! versus the Rust API (`Board::get_board_data`, returning an owned `Data`),
//! for batches of 1, 250 and 10 000 samples.
//!
//! Both sessions read an OpenBCI Cyton emulated on a pty at `pacing: max`.
//! `get_board_data` removes what it returns, so the ring buffer must be
//! refilled: between timed runs the stream is started, waited for until
//! `FILL` samples are buffered, and stopped. Only the calls are timed, and
//! with the stream stopped, so no reader thread competes for the session
//! lock or a core during the measurement.
//!
//! `cargo bench -p boardloop-ffi --bench c_abi`; criterion's time per
//! iteration divided by the batch size is the cost per sample (its
//! "thrpt" line gives samples/s directly).

use std::ffi::{c_int, CString};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use boardloop_boards::{create_board, Board, BoardId, InputParams, Preset};
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Profile, Scenario, SerialEmulator, SerialOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use BoardController as ffi;

const CYTON: c_int = 0;
const ROWS: usize = 24;
/// Samples buffered by each refill: enough for many calls of the largest
/// batch, small enough to refill in well under a second.
const FILL: usize = 100_000;
const BATCHES: [usize; 3] = [1, 250, 10_000];

/// A Cyton emulated on a fresh pty, sending packets as fast as they are read.
fn emulator() -> SerialEmulator {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&devices.join("cyton.yaml")).unwrap());
    let text = "device: cyton\nsteps: []\npacing: max\nsignals:\n  eeg1: { constant: 10 }\n";
    let path = Path::new("/virtual/ffi/bench.yaml");
    let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, text).unwrap();
    let scenario = Scenario::with_profile(path, text, decl, profile).unwrap();
    SerialEmulator::spawn(&scenario, SerialOptions::default()).unwrap()
}

/// A session whose buffered samples the bench drains.
trait Session {
    /// Samples buffered.
    fn count(&self) -> usize;
    /// Streams until at least `FILL` samples are buffered, then stops.
    fn refill(&mut self);
    /// Removes the oldest `n` samples (the measured call).
    fn take(&mut self, n: usize);
}

/// Waits until `count()` reaches `FILL` (panics after 60 s).
fn wait_filled(count: impl Fn() -> usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while count() < FILL {
        assert!(
            Instant::now() < deadline,
            "only {} samples after 60 s",
            count()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Through the C ABI, with BrainFlow's full JSON params on every call.
struct CSession {
    json: CString,
    buf: Vec<f64>,
}

impl CSession {
    fn new(port: &str) -> Self {
        let json = CString::new(format!(
            r#"{{"file": "", "file_anc": "", "file_aux": "", "ip_address": "", "ip_address_anc": "", "ip_address_aux": "", "ip_port": 0, "ip_port_anc": 0, "ip_port_aux": 0, "ip_protocol": 0, "mac_address": "", "master_board": -100, "other_info": "", "serial_number": "", "serial_port": "{port}", "timeout": 0}}"#
        ))
        .unwrap();
        assert_eq!(unsafe { ffi::prepare_session(CYTON, json.as_ptr()) }, 0);
        let buf = vec![0.0; BATCHES.iter().max().unwrap() * ROWS];
        CSession { json, buf }
    }
}

impl Session for CSession {
    fn count(&self) -> usize {
        let mut n: c_int = 0;
        let code = unsafe { ffi::get_board_data_count(0, &mut n, CYTON, self.json.as_ptr()) };
        assert_eq!(code, 0);
        n as usize
    }

    fn refill(&mut self) {
        let size = (FILL * 2) as c_int;
        let code = unsafe { ffi::start_stream(size, std::ptr::null(), CYTON, self.json.as_ptr()) };
        assert_eq!(code, 0);
        wait_filled(|| self.count());
        assert_eq!(unsafe { ffi::stop_stream(CYTON, self.json.as_ptr()) }, 0);
    }

    fn take(&mut self, n: usize) {
        let code = unsafe {
            ffi::get_board_data(
                n as c_int,
                0,
                self.buf.as_mut_ptr(),
                CYTON,
                self.json.as_ptr(),
            )
        };
        assert_eq!(code, 0);
        black_box(&self.buf);
    }
}

impl Drop for CSession {
    fn drop(&mut self) {
        unsafe { ffi::release_session(CYTON, self.json.as_ptr()) };
    }
}

/// Through the Rust `Board` trait object, as the harness uses it.
struct RustSession(Box<dyn Board>);

impl RustSession {
    fn new(port: &str) -> Self {
        let mut board = create_board(BoardId::Cyton, InputParams::with_serial_port(port)).unwrap();
        board.prepare_session().unwrap();
        RustSession(board)
    }
}

impl Session for RustSession {
    fn count(&self) -> usize {
        self.0.get_board_data_count(Preset::Default).unwrap()
    }

    fn refill(&mut self) {
        self.0.start_stream(FILL * 2).unwrap();
        wait_filled(|| self.count());
        self.0.stop_stream().unwrap();
    }

    fn take(&mut self, n: usize) {
        black_box(self.0.get_board_data(Some(n), Preset::Default).unwrap());
    }
}

impl Drop for RustSession {
    fn drop(&mut self) {
        let _ = self.0.release_session();
    }
}

/// Times `iters` calls of `take(batch)`, refilling (untimed) whenever fewer
/// than `batch` samples are left.
fn timed(session: &mut dyn Session, batch: usize, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    let mut available = session.count();
    while left > 0 {
        if available < batch {
            session.refill();
            available = session.count();
        }
        let k = left.min((available / batch) as u64);
        let start = Instant::now();
        for _ in 0..k {
            session.take(batch);
        }
        total += start.elapsed();
        left -= k;
        available -= k as usize * batch;
    }
    total
}

fn bench(c: &mut Criterion) {
    ffi::set_log_level_board_controller(6);
    let emu_c = emulator();
    let emu_rust = emulator();
    let mut c_session = CSession::new(emu_c.path().to_str().unwrap());
    let mut rust_session = RustSession::new(emu_rust.path().to_str().unwrap());
    // There is no buffer (count fails) before the first start_stream.
    let t = Instant::now();
    c_session.refill();
    eprintln!(
        "one refill of {FILL} samples at max pacing: {:?}",
        t.elapsed()
    );
    rust_session.refill();

    let mut g = c.benchmark_group("get_board_data");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for batch in BATCHES {
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_with_input(BenchmarkId::new("c_abi", batch), &batch, |b, &n| {
            b.iter_custom(|iters| timed(&mut c_session, n, iters))
        });
        g.bench_with_input(BenchmarkId::new("rust", batch), &batch, |b, &n| {
            b.iter_custom(|iters| timed(&mut rust_session, n, iters))
        });
    }
    g.finish();

    // One call for one sample's count, as a polling loop makes it: BrainFlow's
    // own library spends 4.5 µs here (issue #15).
    let mut g = c.benchmark_group("get_board_data_count");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(1));
    g.bench_function("c_abi", |b| b.iter(|| black_box(c_session.count())));
    g.bench_function("rust", |b| b.iter(|| black_box(rust_session.count())));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

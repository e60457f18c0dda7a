//! Record and replay, measured: what the recording proxy adds to a device's
//! stream, and how closely a replay keeps the recorded timing.
//!
//! `cargo bench -p boardloop-harness --bench record_replay [-- SECONDS]`
//!
//! The realistic Cyton (slow test signal, FTDI-like 16-ms bursts) streams for
//! SECONDS (default 10) to our driver through a recording proxy (recording A).
//! A is replayed at the recorded speed to the same driver through a second
//! proxy (recording B). Printed:
//! * the proxy's delay per device read (read returned → bytes written to the
//!   host's port and to the file);
//! * the replay's lateness per transfer (due → written to the port);
//! * the timing as the host sees it: for every device transfer of A, when its
//!   first byte arrived in B, both measured from the host's start command
//!   (`b`) in their own recording; p50, p99 and max of |B − A|.

use boardloop_boards::{create_board, BoardId, InputParams};
use boardloop_emulators::record::RecordProxy;
use boardloop_emulators::recording::{Op, Recording};
use boardloop_emulators::replay::{ReplayEmulator, ReplayOptions};
use boardloop_emulators::{Scenario, SerialEmulator, SerialOptions};
use boardloop_harness::catalog::scenarios_dir;
use boardloop_harness::host::{Host, RustHost};
use std::path::Path;
use std::time::{Duration, Instant};

fn session(port: &Path, secs: f64) {
    let params = InputParams {
        serial_port: port.display().to_string(),
        ..Default::default()
    };
    let mut h = RustHost(create_board(BoardId::Cyton, params).expect("cyton"));
    h.prepare().expect("prepare");
    h.config("[").expect("config");
    h.start(450_000).expect("start");
    std::thread::sleep(Duration::from_secs_f64(secs));
    h.stop().expect("stop");
    let _ = h.data();
    h.release().expect("release");
}

/// (offset of each device transfer's first byte, its time after the host's
/// `b`), from the `b` on.
fn stream_times(rec: &Recording) -> Vec<(usize, f64)> {
    let b = rec
        .events
        .iter()
        .position(|e| e.op == Op::Write && e.bytes == b"b")
        .expect("the recording has the host's start");
    let t0 = rec.events[b].at.as_secs_f64();
    let mut off = 0;
    let mut out = Vec::new();
    for e in &rec.events[b..] {
        if e.op == Op::Read {
            out.push((off, e.at.as_secs_f64() - t0));
            off += e.bytes.len();
        }
    }
    out
}

fn q(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let secs: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10.0);
    let dir = std::env::temp_dir().join(format!("boardloop-rr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.rec"), dir.join("b.rec"));
    let sc = Scenario::load(
        &scenarios_dir().join("cyton/test_signal_slow.yaml"),
        &scenarios_dir().join("devices"),
    )
    .unwrap();
    let emu = SerialEmulator::spawn(&sc, SerialOptions::default()).unwrap();
    let proxy = RecordProxy::spawn(&emu.path().display().to_string(), 115_200, &a, &[]).unwrap();
    let t = Instant::now();
    session(proxy.path(), secs);
    let st = proxy.stop();
    drop(emu);
    println!(
        "record: {} transfers, {} device bytes in {:.1} s; proxy delay per read p50 {} µs, p99 {} µs, max {} µs",
        st.events,
        st.device_bytes,
        t.elapsed().as_secs_f64(),
        st.forward_quantile(0.5).unwrap(),
        st.forward_quantile(0.99).unwrap(),
        st.forward_quantile(1.0).unwrap()
    );
    let replay = ReplayEmulator::load(&a, ReplayOptions::default()).unwrap();
    let proxy = RecordProxy::spawn(&replay.path().display().to_string(), 115_200, &b, &[]).unwrap();
    session(proxy.path(), secs);
    drop(proxy);
    let rs = replay.stop();
    println!(
        "replay: {} transfers sent, {} skipped, {} deviations; late p50 {} µs, p99 {} µs, max {} µs",
        rs.sent,
        rs.skipped,
        rs.deviations.len(),
        rs.late_quantile(0.5).unwrap(),
        rs.late_quantile(0.99).unwrap(),
        rs.late_quantile(1.0).unwrap()
    );
    let (ra, rb) = (Recording::load(&a).unwrap(), Recording::load(&b).unwrap());
    let (ta, tb) = (stream_times(&ra), stream_times(&rb));
    // When the byte at each of A's offsets reached B's host.
    let mut dev: Vec<f64> = Vec::new();
    let mut j = 0;
    for &(off, t) in &ta {
        while j + 1 < tb.len() && tb[j + 1].0 <= off {
            j += 1;
        }
        if j < tb.len() && tb[j].0 <= off {
            dev.push((tb[j].1 - t).abs() * 1e6);
        }
    }
    println!(
        "as the host sees it ({} transfers): |replayed - recorded| p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        dev.len(),
        q(&mut dev, 0.5),
        q(&mut dev, 0.99),
        q(&mut dev, 1.0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

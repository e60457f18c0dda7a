//! Record and replay, proven end to end on real pseudo-terminals: the
//! realistic Cyton emulator (noise, hum, offsets, clock drift, FTDI-like
//! bursts) plays the rig's device; a host reads it through `RecordProxy`;
//! the recording is then replayed as the device, at the recorded speed and
//! ten times faster, and the same host reads the same values from it, row by
//! row, with no deviation. The host is our Rust driver, and BrainFlow's own
//! driver through its Python binding (ignored, with the reason, where
//! BrainFlow's package is missing).

use boardloop_boards::{create_board, BoardId, Data, InputParams};
use boardloop_emulators::record::RecordProxy;
use boardloop_emulators::replay::{ReplayEmulator, ReplayOptions};
use boardloop_emulators::{Scenario, SerialEmulator, SerialOptions};
use boardloop_harness::brainflow::{find_python, Connect, PythonHost};
use boardloop_harness::catalog::scenarios_dir;
use boardloop_harness::check::values_without_timestamps;
use boardloop_harness::host::{Host, RustHost};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Rows each session reads: 1.2 s of the 250-Hz stream.
const ROWS: usize = 300;

/// One session as the rig's scenario runs it: the slow test signal on, a
/// stream of `ROWS` rows; returns the rows and how long the stream took.
fn session(host: &mut dyn Host) -> Result<(Data, f64), String> {
    host.prepare().map_err(|e| format!("prepare: {e}"))?;
    host.config("[").map_err(|e| format!("config: {e}"))?;
    host.start(45_000).map_err(|e| format!("start: {e}"))?;
    let t0 = Instant::now();
    // Polls the host's count: the rows arrive on their own clock.
    while host.count().map_err(|e| format!("count: {e}"))? < ROWS {
        if t0.elapsed().as_secs() > 20 {
            return Err("fewer rows than expected within 20 s".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let took = t0.elapsed().as_secs_f64();
    host.stop().map_err(|e| format!("stop: {e}"))?;
    let data = host.data().map_err(|e| format!("data: {e}"))?;
    host.release().map_err(|e| format!("release: {e}"))?;
    Ok((data, took))
}

/// The first `ROWS` samples without the timestamp column (the host's clock).
fn values(d: &Data) -> Vec<Vec<f64>> {
    values_without_timestamps(BoardId::Cyton, d, ROWS)
}

/// `make` builds the host on a port: ours, or BrainFlow's.
fn prove(make: &dyn Fn(&str) -> Box<dyn Host>, dir: &Path) -> Result<(), Failed> {
    let sc = Scenario::load(
        &scenarios_dir().join("cyton/test_signal_slow.yaml"),
        &scenarios_dir().join("devices"),
    )
    .map_err(|e| e.to_string())?;
    let emu = SerialEmulator::spawn(&sc, SerialOptions::default())?;
    let rec = dir.join("rig.rec");
    let header = [("profile".to_string(), "cyton".to_string())];
    let proxy = RecordProxy::spawn(&emu.path().display().to_string(), 115_200, &rec, &header)?;
    let (recorded, t_rec) = session(make(&proxy.path().display().to_string()).as_mut())?;
    let st = proxy.stop();
    drop(emu);
    if let Some(e) = st.error {
        return Err(format!("recording failed: {e}").into());
    }
    let want = values(&recorded);
    if want.len() < ROWS {
        return Err(format!("the recorded session read {} rows", want.len()).into());
    }
    eprintln!(
        "recorded {} transfers; proxy delay p50 {} µs p99 {} µs",
        st.events,
        st.forward_quantile(0.5).unwrap_or(0),
        st.forward_quantile(0.99).unwrap_or(0)
    );
    for speed in [1.0, 10.0] {
        let replay = ReplayEmulator::load(&rec, ReplayOptions { speed })?;
        let (got, t) = session(make(&replay.path().display().to_string()).as_mut())?;
        let s = replay.stop();
        if !s.deviations.is_empty() {
            return Err(format!("at {speed}×, the host deviated: {:?}", s.deviations).into());
        }
        let got = values(&got);
        if let Some(i) = (0..ROWS).find(|&i| got.get(i) != want.get(i)) {
            return Err(format!(
                "at {speed}×, row {i} differs: recorded {:?}, replayed {:?}",
                want.get(i),
                got.get(i)
            )
            .into());
        }
        eprintln!(
            "replay at {speed}×: {ROWS} rows equal; stream {t:.3} s (recorded {t_rec:.3} s); \
             sent late p50 {} µs p99 {} µs",
            s.late_quantile(0.5).unwrap_or(0),
            s.late_quantile(0.99).unwrap_or(0)
        );
    }
    Ok(())
}

/// The committed Cyton recording replayed to a driver that sends another
/// test-signal command than it did when recorded: the `replay` trial fails
/// and names the recording's line (the unchanged scenario passes on it in
/// the matrix: `cyton::test_signal_slow::replay`).
fn deviation_fails_the_trial(dir: &Path) -> Result<(), Failed> {
    use boardloop_harness::binding::board;
    use boardloop_harness::targets::{Replay, ReplayHost};
    use boardloop_harness::{run, Trial as MatrixTrial};
    use std::sync::Arc;
    let committed = scenarios_dir().join("cyton/recordings/test_signal_slow.rec");
    let text = std::fs::read_to_string(&committed)?;
    let sc_path = scenarios_dir().join("cyton/test_signal_slow.yaml");
    // The recording answers `[`; the scenario now sends `]` (the fast signal).
    let edited = dir.join("test_signal_slow.rec");
    let line = text
        .lines()
        .position(|l| l.starts_with("w ") && l.ends_with(" \"[\""))
        .ok_or("the recording has no `[` write")?
        + 1;
    std::fs::write(&edited, &text)?;
    let sc_text = std::fs::read_to_string(&sc_path)?.replace("send: \"[\"", "send: \"]\"");
    let sc_edit = dir.join("test_signal_slow.yaml");
    std::fs::write(&sc_edit, sc_text)?;
    let deviant = Arc::new(
        Scenario::load(&sc_edit, &scenarios_dir().join("devices")).map_err(|e| e.to_string())?,
    );
    let trial = |scenario: Arc<Scenario>| MatrixTrial {
        board: board("cyton").expect("cyton is bound"),
        scenario,
        target: Arc::new(Replay {
            recording: edited.clone(),
            host: ReplayHost::Rust,
            exact: false,
        }),
    };
    let bad = run(&trial(deviant));
    if bad.passed() {
        return Err("the deviating host passed".into());
    }
    let want = format!(
        "the host deviated: the host wrote \"]\" where the recording has \"[\" (line {line})"
    );
    if !bad.failures.iter().any(|f| f.contains(&want)) {
        return Err(format!("expected a failure with `{want}`, got {:?}", bad.failures).into());
    }
    Ok(())
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("boardloop-rr-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn main() {
    let args = Arguments::from_args();
    let rust = Trial::test("record_replay::rust_driver", || {
        let dir = temp("rust");
        let make = |port: &str| -> Box<dyn Host> {
            let params = InputParams {
                serial_port: port.to_string(),
                ..Default::default()
            };
            Box::new(RustHost(
                create_board(BoardId::Cyton, params).expect("cyton is registered"),
            ))
        };
        let r = prove(&make, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        r
    });
    let python = find_python();
    let ignored = python.as_ref().err().cloned();
    let bf = Trial::test("record_replay::brainflow_driver", move || {
        let python = python.clone().map_err(Failed::from)?;
        let dir = temp("brainflow");
        let make = |port: &str| -> Box<dyn Host> {
            Box::new(
                PythonHost::spawn(&python, BoardId::Cyton as i32, Connect::Serial(port), 0)
                    .expect("BrainFlow's Python host starts"),
            )
        };
        let r = prove(&make, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        r
    })
    .with_ignored_flag(ignored.is_some());
    // libtest-mimic prints no reason; say it where the listing shows.
    if let Some(why) = ignored {
        eprintln!("record_replay::brainflow_driver ignored: {why}");
    }
    let deviation = Trial::test("record_replay::deviation_fails_the_trial", || {
        let dir = temp("deviation");
        let r = deviation_fails_the_trial(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        r
    });
    libtest_mimic::run(&args, vec![rust, bf, deviation]).exit();
}

//! `boardloop record` and `boardloop emulate --replay`: a device's link
//! recorded through a proxy port, and a recording played back as the device.

use boardloop_emulators::record::RecordProxy;
use boardloop_emulators::recording::Recording;
use boardloop_emulators::replay::{ReplayEmulator, ReplayOptions, ReplayStats};
use boardloop_emulators::Profile;
use boardloop_harness::bluez_ble::{serve_replay, ServedReplay};
use boardloop_harness::catalog::scenarios_dir;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set by SIGINT or SIGTERM: the commands end cleanly (the recording's last
/// transfer written, the figures printed) instead of dying mid-write.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: nix::libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn catch_stop_signals() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let act = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let _ = unsafe { sigaction(sig, &act) };
    }
}

/// `boardloop record`'s arguments.
pub struct RecordArgs {
    /// The device's port.
    pub port: String,
    /// Its baud rate.
    pub baud: u32,
    /// The recording to write.
    pub out: PathBuf,
    /// The device's profile name, for the header.
    pub profile: Option<String>,
    /// The scenario played, for the header.
    pub scenario: Option<String>,
    /// Stop after this many seconds.
    pub duration: Option<f64>,
}

/// `boardloop record`: prints `serial: PTY` first, records until stopped,
/// then prints what it recorded and the delay it added.
pub fn cmd_record(a: RecordArgs) -> ExitCode {
    catch_stop_signals();
    let mut header = Vec::new();
    if let Some(p) = &a.profile {
        header.push(("profile".to_string(), p.clone()));
    }
    if let Some(s) = &a.scenario {
        header.push(("scenario".to_string(), s.clone()));
    }
    let proxy = match RecordProxy::spawn(&a.port, a.baud, &a.out, &header) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot record {}: {e}", a.port);
            return ExitCode::FAILURE;
        }
    };
    // The first line is the contract with scripts and rig files.
    println!("serial: {}", proxy.path().display());
    let _ = std::io::stdout().flush();
    eprintln!(
        "recording {} into {}; Ctrl-C to stop",
        a.port,
        a.out.display()
    );
    let end = a
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    while !STOP.load(Ordering::SeqCst)
        && !proxy.finished()
        && end.is_none_or(|e| Instant::now() < e)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let s = proxy.stop();
    eprintln!(
        "recorded {} transfers: host {} B, device {} B; delay added to the device's bytes p50 {} µs, p99 {} µs, max {} µs",
        s.events,
        s.host_bytes,
        s.device_bytes,
        s.forward_quantile(0.5).unwrap_or(0),
        s.forward_quantile(0.99).unwrap_or(0),
        s.forward_quantile(1.0).unwrap_or(0),
    );
    match s.error {
        Some(e) => {
            eprintln!("recording ended: {e}");
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}

/// `boardloop emulate --replay REC`: prints `serial: PTY` first (a BLE
/// recording, served on `adapter`: `ble: ADDRESS NAME`), plays until
/// stopped, reporting each deviation as it happens; exits 1 if the host
/// deviated from the recording.
pub fn cmd_replay(rec: &Path, max: bool, speed: Option<f64>, adapter: Option<&str>) -> ExitCode {
    catch_stop_signals();
    let speed = if max {
        f64::INFINITY
    } else {
        speed.unwrap_or(1.0)
    };
    let opts = ReplayOptions { speed };
    let recording = match Recording::load(rec) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let (player, first) = match (recording.is_ble(), adapter) {
        (true, None) => {
            eprintln!(
                "{} is a BLE recording: give the BlueZ adapter to serve it on (--adapter hci1)",
                rec.display()
            );
            return ExitCode::from(2);
        }
        (false, Some(_)) => {
            eprintln!(
                "--adapter is for BLE recordings; {} is a serial one",
                rec.display()
            );
            return ExitCode::from(2);
        }
        (true, Some(adapter)) => match serve_ble(rec, &recording, adapter, opts) {
            Ok(s) => {
                let first = format!("ble: {} {}", s.address, s.name);
                (Player::Ble(s), first)
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        (false, None) => match ReplayEmulator::load(rec, opts) {
            Ok(r) => {
                let first = format!("serial: {}", r.path().display());
                (Player::Serial(r), first)
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
    };
    // The first line is the contract with scripts: flush it at once.
    println!("{first}");
    let _ = std::io::stdout().flush();
    eprintln!(
        "replaying {} at {speed}× the recorded speed; Ctrl-C to stop",
        rec.display()
    );
    let mut shown = 0;
    let mut at_end = false;
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
        let s = player.stats();
        for d in &s.deviations[shown..] {
            eprintln!("deviation: {d}");
        }
        shown = s.deviations.len();
        if s.at_end && !at_end {
            eprintln!("end of the recording ({} transfers sent)", s.sent);
        }
        at_end = s.at_end;
        if let Some(e) = &s.error {
            eprintln!("replay stopped: {e}");
            return ExitCode::FAILURE;
        }
    }
    let (summary, s) = player.stop();
    eprint!("{summary}");
    if s.deviations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A recording being played, on a pty or through BlueZ.
enum Player {
    Serial(ReplayEmulator),
    Ble(ServedReplay),
}

impl Player {
    fn stats(&self) -> ReplayStats {
        match self {
            Player::Serial(r) => r.stats(),
            Player::Ble(s) => s.replay.stats(),
        }
    }

    /// Stops playing: the summary and the final figures.
    fn stop(self) -> (String, ReplayStats) {
        match self {
            Player::Serial(r) => (r.summary(), r.stop()),
            Player::Ble(s) => {
                let summary = s.replay.summary();
                // The replay first, then the guard cuts the links.
                let st = s.replay.stop();
                drop(s.guard);
                (summary, st)
            }
        }
    }
}

/// A BLE recording served through BlueZ on `adapter` as the device of the
/// profile its `@profile` names (in the scenarios' `devices`).
fn serve_ble(
    path: &Path,
    rec: &Recording,
    adapter: &str,
    opts: ReplayOptions,
) -> Result<ServedReplay, String> {
    let name = rec.get("profile").ok_or_else(|| {
        format!(
            "{}: the recording names no profile (`@profile NAME`)",
            path.display()
        )
    })?;
    let file = scenarios_dir().join("devices").join(format!("{name}.yaml"));
    let profile = Profile::load(&file).map_err(|e| e.to_string())?;
    serve_replay(path, &profile, adapter, None, opts)
}

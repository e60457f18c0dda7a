//! `boardloop`: run the scenario matrix, emulate a device, list boards, check files.

use boardloop_emulators::limits::SPEED_RANGE;
use boardloop_emulators::{Pacing, Scenario, SerialEmulator, SerialOptions};
use boardloop_harness::catalog::{check_files, scenarios_dir};
use boardloop_harness::rig::Rig;
use boardloop_harness::{describe_failure, plan, run, PlanOptions};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Hardware-in-the-loop testing and emulation for biosensor boards.
#[derive(Parser)]
#[command(name = "boardloop", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run every scenario against every board on every available target.
    Run {
        /// Only trials whose name contains this (`cyton::`, `::emulated`, …).
        filter: Option<String>,
        /// A rig file mapping boards to physical devices (enables `::device`).
        #[arg(long)]
        rig: Option<PathBuf>,
        /// The scenarios folder.
        #[arg(long)]
        scenarios: Option<PathBuf>,
        /// Trials run at once.
        #[arg(long, short = 'j', default_value_t = 2)]
        jobs: usize,
    },
    /// Make a scenario's device appear on this machine until Ctrl-C.
    Emulate {
        /// The scenario to play.
        scenario: PathBuf,
        /// Stream as fast as the reader takes packets.
        #[arg(long, conflicts_with = "speed")]
        max: bool,
        /// Stream at this multiple of the device's rate.
        #[arg(long)]
        speed: Option<f64>,
        /// For BLE devices: the BlueZ adapter to serve the device on (e.g.
        /// hci1); the first stdout line is then `ble: <address> <name>`.
        #[arg(long)]
        adapter: Option<String>,
        /// For BLE devices: lift the emulator's notification rate caps (175/s
        /// in total, 100/s per characteristic: btvirt once stalled for good
        /// at 200/s), so a benchmark can find where notifications get lost.
        #[arg(long, requires = "adapter")]
        uncapped: bool,
    },
    /// List the boards, their BrainFlow ids and data layouts.
    Boards,
    /// Validate device profiles and scenarios.
    Check {
        /// Files to check (default: everything under scenarios/).
        files: Vec<PathBuf>,
        /// Let scenarios name device profiles and CSV files outside their
        /// scenarios folder (refused by default: files from a pull request
        /// could read anything on the machine). BOARDLOOP_ALLOW_OUTSIDE_PATHS=1
        /// does the same for every command.
        #[arg(long)]
        allow_outside_paths: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().cmd {
        Cmd::Run {
            filter,
            rig,
            scenarios,
            jobs,
        } => cmd_run(filter, rig, scenarios, jobs),
        Cmd::Emulate {
            scenario,
            max,
            speed,
            adapter,
            uncapped,
        } => cmd_emulate(scenario, max, speed, adapter, uncapped),
        Cmd::Boards => cmd_boards(),
        Cmd::Check {
            files,
            allow_outside_paths,
        } => {
            boardloop_emulators::load::allow_outside_paths(allow_outside_paths);
            cmd_check(files)
        }
    }
}

fn cmd_run(
    filter: Option<String>,
    rig: Option<PathBuf>,
    scenarios: Option<PathBuf>,
    jobs: usize,
) -> ExitCode {
    let mut opts = PlanOptions::from_env();
    if let Some(s) = scenarios {
        opts.scenarios = s;
    }
    if let Some(r) = rig {
        opts.rig = Some(Rig::load(&r).map_err(|e| e.to_string()));
    }
    let all = plan(&opts);
    let selected: Vec<_> = all
        .into_iter()
        .filter(|p| filter.as_deref().is_none_or(|f| p.name.contains(f)))
        .collect();
    if selected.is_empty() {
        eprintln!("no trial matches");
        return ExitCode::FAILURE;
    }
    let started = Instant::now();
    let total = selected.len();
    let queue = std::sync::Mutex::new(selected.into_iter().enumerate());
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let next = queue.lock().unwrap().next();
                let Some((i, p)) = next else { break };
                let row = match (&p.ignored, p.trial) {
                    (Some(why), _) => Row::new(&p.name, "IGNORED", Duration::ZERO, why.clone()),
                    (None, Err(e)) => Row::new(&p.name, "FAIL", Duration::ZERO, e),
                    (None, Ok(t)) => {
                        let o = run(&t);
                        let detail = match &o.stats {
                            Some(st) => format!(
                                "rows {} values {} lost {} garbage {}",
                                o.rows,
                                o.values_checked,
                                st.decode.lost_packets,
                                st.decode.garbage_bytes
                            ),
                            None => format!("rows {} values {}", o.rows, o.values_checked),
                        };
                        if o.passed() {
                            Row::new(&p.name, "PASS", o.elapsed, detail)
                        } else {
                            eprint!("{}", describe_failure(&t, &o));
                            Row::new(&p.name, "FAIL", o.elapsed, detail)
                        }
                    }
                };
                println!(
                    "[{:>3}/{total}] {:<7} {:<55} {:>6.2} s  {}",
                    i + 1,
                    row.status,
                    row.name,
                    row.elapsed.as_secs_f64(),
                    row.detail
                );
                results.lock().unwrap().push((i, row));
            });
        }
    });
    let mut rows = results.into_inner().unwrap();
    rows.sort_by_key(|r| r.0);
    let count = |s: &str| rows.iter().filter(|r| r.1.status == s).count();
    let (pass, fail, ign) = (count("PASS"), count("FAIL"), count("IGNORED"));
    println!("\n{:<7} {:<55} {:>8}  detail", "status", "trial", "time");
    for (_, r) in &rows {
        println!(
            "{:<7} {:<55} {:>6.2} s  {}",
            r.status,
            r.name,
            r.elapsed.as_secs_f64(),
            r.detail
        );
    }
    println!(
        "\n{pass} passed, {fail} failed, {ign} ignored in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if fail > 0 {
        println!(
            "failure artifacts: {}",
            boardloop_harness::catalog::artifacts_dir().display()
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

struct Row {
    name: String,
    status: &'static str,
    elapsed: Duration,
    detail: String,
}

impl Row {
    fn new(name: &str, status: &'static str, elapsed: Duration, detail: String) -> Row {
        Row {
            name: name.to_string(),
            status,
            elapsed,
            detail,
        }
    }
}

fn cmd_emulate(
    path: PathBuf,
    max: bool,
    speed: Option<f64>,
    adapter: Option<String>,
    uncapped: bool,
) -> ExitCode {
    let devices = path
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("devices"))
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| scenarios_dir().join("devices"));
    let scenario = match Scenario::load(&path, &devices) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let pacing = match (max, speed) {
        (true, _) => Some(Pacing::Max),
        // The same range a scenario's `pacing: { speed }` is held to.
        (_, Some(s)) if SPEED_RANGE.contains(&s) => Some(Pacing::Speed(s)),
        (_, Some(_)) => {
            eprintln!(
                "--speed must be {}..={}",
                SPEED_RANGE.start(),
                SPEED_RANGE.end()
            );
            return ExitCode::FAILURE;
        }
        _ => None,
    };
    if let Some(ble) = &scenario.profile.ble {
        let Some(adapter) = adapter else {
            eprintln!(
                "`{}` is a BLE device: give the BlueZ adapter to serve it on (--adapter hci1)",
                scenario.profile.decl.name
            );
            return ExitCode::FAILURE;
        };
        return emulate_ble(&scenario, ble, &adapter, pacing, uncapped);
    }
    if adapter.is_some() {
        eprintln!(
            "--adapter is for BLE devices; `{}` is a serial device",
            scenario.profile.decl.name
        );
        return ExitCode::FAILURE;
    }
    let emu = match SerialEmulator::spawn(
        &scenario,
        SerialOptions {
            pacing,
            ..Default::default()
        },
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot create a pseudo-terminal: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The first line is the contract with scripts and rig files: flush it at once.
    println!("serial: {}", emu.path().display());
    let _ = std::io::stdout().flush();
    eprintln!(
        "emulating `{}` ({}) for scenario `{}`; Ctrl-C to stop",
        scenario.profile.decl.name, scenario.profile.decl.description, scenario.name
    );
    let mut last = emu.stats();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let s = emu.stats();
        if s.streams != last.streams || s.unplugged != last.unplugged {
            eprintln!(
                "streams {}  packets sent {}  dropped {}  unplugged {}",
                s.streams, s.packets_sent, s.packets_dropped, s.unplugged
            );
        }
        last = s;
        if emu.finished() {
            if let Some(e) = emu.error() {
                eprintln!("emulator stopped: {e}");
                return ExitCode::FAILURE;
            }
            eprintln!("device unplugged; exiting");
            return ExitCode::SUCCESS;
        }
    }
}

/// `boardloop emulate --adapter hciN` for a BLE profile: the device served by
/// bluetoothd (bluer) until the process is stopped (Ctrl-C, SIGTERM; bluetoothd
/// drops the advertisement and the GATT application when the process's D-Bus
/// connection goes away).
fn emulate_ble(
    scenario: &Scenario,
    ble: &boardloop_emulators::profile::BleDecl,
    adapter: &str,
    pacing: Option<Pacing>,
    uncapped: bool,
) -> ExitCode {
    let name = boardloop_emulators::commands::render(&ble.name, &[], &scenario.initial_state);
    let periph = match boardloop_bluez::BluerPeripheral::new(adapter, &name, ble) {
        Ok(p) => std::sync::Arc::new(p),
        Err(e) => {
            eprintln!("cannot serve the device on {adapter}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if uncapped {
        periph.uncap();
    }
    let dynp: std::sync::Arc<dyn boardloop_emulators::Peripheral> = periph.clone();
    let emu = match boardloop_emulators::BleEmulator::spawn(
        scenario,
        dynp,
        boardloop_emulators::BleOptions { pacing },
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot start the BLE emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = periph.advertise() {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    // The first line is the contract with scripts: flush it at once.
    println!("ble: {} {}", periph.address(), periph.name());
    let _ = std::io::stdout().flush();
    eprintln!(
        "emulating `{}` ({}) for scenario `{}` on {adapter}; Ctrl-C to stop",
        scenario.profile.decl.name, scenario.profile.decl.description, scenario.name
    );
    let mut last = emu.stats();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let s = emu.stats();
        if s.streams != last.streams {
            eprintln!(
                "streams {}  packets sent {}  dropped {}  unsubscribed {}",
                s.streams,
                s.packets_sent,
                s.packets_dropped,
                emu.unsubscribed()
            );
        }
        last = s;
    }
}

fn cmd_boards() -> ExitCode {
    println!(
        "{:<17} {:>4}  {:<6}  {:<9} {:>5}  layout (rows)",
        "board", "id", "link", "preset", "rate"
    );
    // Every board of the registry, each preset with BrainFlow's layout.
    for decl in boardloop_boards::registry::BOARDS {
        let link = decl.transport().map_or("none", |t| t.name());
        for preset in decl.presets() {
            let Ok(d) = decl.layout(preset) else { continue };
            println!(
                "{:<17} {:>4}  {:<6}  {:<9} {:>3} Hz  {} rows: package {} | eeg {:?} | accel {:?} | gyro {:?} | ppg {:?} | analog {:?} | other {:?} | timestamp {} | marker {}",
                decl.name,
                decl.id.id(),
                link,
                boardloop_boards::registry::preset_key(preset),
                d.sampling_rate,
                d.num_rows,
                d.package_num_channel,
                d.eeg_channels,
                d.accel_channels,
                d.gyro_channels,
                d.ppg_channels,
                d.analog_channels,
                d.other_channels,
                d.timestamp_channel,
                d.marker_channel
            );
        }
    }
    println!("\nBrainFlow's JSON: `get_board_descr(id, preset)` through libBoardController, or BoardShim.");
    ExitCode::SUCCESS
}

fn cmd_check(files: Vec<PathBuf>) -> ExitCode {
    let files = if files.is_empty() {
        let root = scenarios_dir();
        let mut v: Vec<PathBuf> = walk(&root);
        v.sort();
        v
    } else {
        files
    };
    let mut bad = 0;
    for (f, r) in check_files(&files) {
        match r {
            Ok(s) => println!("ok    {}: {s}", f.display()),
            Err(e) => {
                bad += 1;
                println!("error {e}");
            }
        }
    }
    if bad > 0 {
        eprintln!("{bad} of {} files have errors", files.len());
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
    out
}

//! `boardloop`: run the scenario matrix, emulate a device, compare recordings,
//! list boards, check files.

mod recorder;

use boardloop_emulators::limits::SPEED_RANGE;
use boardloop_emulators::recording::Recording;
use boardloop_emulators::schema::Language;
use boardloop_emulators::{Pacing, Scenario, SerialEmulator, SerialOptions};
use boardloop_harness::catalog::shown;
use boardloop_harness::catalog::{check_files, scenarios_dir};
use boardloop_harness::console::{summary, Progress, Status, TrialResult};
use boardloop_harness::diff::{self, DiffOptions};
use boardloop_harness::html::Evidence;
use boardloop_harness::junit::junit;
use boardloop_harness::rig::Rig;
use boardloop_harness::{describe_failure, plan, run, PlanOptions};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
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
        /// List every ignored trial, not only the count per reason.
        #[arg(long, short = 'v')]
        verbose: bool,
        /// Also write the results as JUnit XML to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write the HTML report here (default: target/boardloop/report.html).
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Record every serial trial's link into
        /// DIR/<board>/recordings/<scenario>[.<target>].rec, where the
        /// `replay` targets find them (`--record scenarios` adds them to the
        /// matrix); the same as BOARDLOOP_RECORD=DIR.
        #[arg(long, value_name = "DIR")]
        record: Option<PathBuf>,
    },
    /// Make a scenario's device appear on this machine until Ctrl-C, or play
    /// back a recording as the device (`--replay REC`).
    Emulate {
        /// The scenario to play.
        #[arg(required_unless_present = "replay")]
        scenario: Option<PathBuf>,
        /// Play this recording (`boardloop record`) as the device instead: it
        /// answers the host's writes as recorded, in the recorded timing
        /// (`--speed`, `--max`), and reports where the host deviates.
        /// A BLE recording is served through BlueZ on `--adapter`.
        #[arg(long, value_name = "REC", conflicts_with = "scenario")]
        replay: Option<PathBuf>,
        /// Stream as fast as the reader takes packets.
        #[arg(long, conflicts_with = "speed")]
        max: bool,
        /// Stream at this multiple of the device's rate (of the recorded
        /// timing, with --replay).
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
    /// Compare two recordings of one scenario (our emulator against a
    /// device), serial or BLE: commands and replies, packet framing, rates
    /// and value ranges, and a BLE recording's GATT table. Exits 1 on any
    /// disagreement, 2 when a recording or the profile cannot be read.
    Diff {
        /// Recording A (typically the emulator's).
        a: PathBuf,
        /// Recording B (typically the device's).
        b: PathBuf,
        /// The device profile: a name in scenarios/devices or a .yaml file
        /// (default: the recordings' `@profile`).
        #[arg(long)]
        profile: Option<String>,
        /// Largest accepted difference of the packet rates, in percent of B's.
        #[arg(long, default_value_t = 1.0)]
        rate_tolerance: f64,
        /// Largest accepted ratio between two channels' ranges of raw counts.
        #[arg(long, default_value_t = DiffOptions::default().span_factor)]
        span_factor: f64,
    },
    /// Record everything that crosses a serial device's link: the host opens
    /// the port printed on the first stdout line (`serial: /dev/pts/N`)
    /// instead of the device's, until Ctrl-C, SIGTERM or --duration.
    Record {
        /// The device's serial port (a rig's board, or a `boardloop emulate`
        /// port).
        #[arg(long)]
        port: String,
        /// The device's baud rate.
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
        /// The recording to write.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: PathBuf,
        /// The device's profile (`cyton`), written into the recording for
        /// `boardloop diff`.
        #[arg(long)]
        profile: Option<String>,
        /// The scenario being played, written into the recording.
        #[arg(long)]
        scenario: Option<String>,
        /// Stop after this many seconds.
        #[arg(long)]
        duration: Option<f64>,
    },
    /// List the boards, their BrainFlow ids and data layouts.
    Boards,
    /// Write nextest test groups for a rig: one per device, one trial at a
    /// time (`cargo nextest run --tool-config-file boardloop:$PWD/FILE`).
    RigGroups {
        /// The rig file.
        rig: PathBuf,
        /// Write here instead of to stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
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
    /// Print the JSON Schema of device profiles or of scenarios (for editors
    /// and validators), or write both into a folder with --out.
    Schema {
        /// The schema to print.
        #[arg(value_enum, required_unless_present = "out")]
        language: Option<SchemaLanguage>,
        /// Write every schema into this folder (`profile.schema.json`,
        /// `scenario.schema.json`); the repository's are in scenarios/schema.
        #[arg(long, value_name = "DIR", conflicts_with = "language")]
        out: Option<PathBuf>,
    },
}

/// The YAML languages `boardloop schema` describes.
#[derive(Clone, Copy, clap::ValueEnum)]
enum SchemaLanguage {
    /// Device profiles (scenarios/devices/*.yaml).
    Profile,
    /// Scenarios (scenarios/<board>/*.yaml).
    Scenario,
}

impl From<SchemaLanguage> for Language {
    fn from(l: SchemaLanguage) -> Language {
        match l {
            SchemaLanguage::Profile => Language::Profile,
            SchemaLanguage::Scenario => Language::Scenario,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `run` reports what each trial saw in its own result; the drivers' own
    // log lines (an unplug trial's "link lost" is expected) would only land
    // between the progress lines, unattributed. RUST_LOG=warn shows them.
    let default_filter = match cli.cmd {
        Cmd::Run { .. } => "off",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        // Escapes only for a person at a terminal, never into a CI log or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli.cmd {
        Cmd::Run {
            filter,
            rig,
            scenarios,
            jobs,
            verbose,
            junit,
            html,
            record,
        } => {
            if let Some(dir) = record {
                // Read by the targets, in this process and in nextest's.
                std::env::set_var("BOARDLOOP_RECORD", dir);
            }
            cmd_run(RunArgs {
                filter,
                rig,
                scenarios,
                jobs,
                verbose,
                junit,
                html,
            })
        }
        Cmd::Emulate {
            replay: Some(rec),
            max,
            speed,
            adapter,
            ..
        } => recorder::cmd_replay(&rec, max, speed, adapter.as_deref()),
        Cmd::Emulate {
            scenario,
            max,
            speed,
            adapter,
            uncapped,
            ..
        } => cmd_emulate(
            scenario.expect("clap requires a scenario without --replay"),
            max,
            speed,
            adapter,
            uncapped,
        ),
        Cmd::Record {
            port,
            baud,
            out,
            profile,
            scenario,
            duration,
        } => recorder::cmd_record(recorder::RecordArgs {
            port,
            baud,
            out,
            profile,
            scenario,
            duration,
        }),
        Cmd::Diff {
            a,
            b,
            profile,
            rate_tolerance,
            span_factor,
        } => cmd_diff(
            &a,
            &b,
            profile.as_deref(),
            DiffOptions {
                rate_tolerance: rate_tolerance / 100.0,
                span_factor,
            },
        ),
        Cmd::Boards => cmd_boards(),
        Cmd::RigGroups { rig, output } => cmd_rig_groups(rig, output),
        Cmd::Check {
            files,
            allow_outside_paths,
        } => {
            boardloop_emulators::load::allow_outside_paths(allow_outside_paths);
            cmd_check(files)
        }
        Cmd::Schema { language, out } => cmd_schema(language.map(Language::from), out),
    }
}

fn cmd_schema(language: Option<Language>, out: Option<PathBuf>) -> ExitCode {
    let written = match (language, out) {
        (Some(l), _) => std::io::stdout().write_all(l.schema_text().as_bytes()),
        (None, Some(dir)) => std::fs::create_dir_all(&dir).and_then(|()| {
            Language::ALL.iter().try_for_each(|l| {
                let path = dir.join(l.file_name());
                std::fs::write(&path, l.schema_text())?;
                eprintln!("wrote {}", path.display());
                Ok(())
            })
        }),
        // clap requires one of the two.
        (None, None) => unreachable!("clap requires a language or --out"),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write the schema: {e}");
            ExitCode::FAILURE
        }
    }
}

fn cmd_diff(
    a: &std::path::Path,
    b: &std::path::Path,
    profile: Option<&str>,
    opts: DiffOptions,
) -> ExitCode {
    let loaded = Recording::load(a)
        .and_then(|ra| Ok((ra, Recording::load(b)?)))
        .map_err(|e| e.to_string())
        .and_then(|(ra, rb)| {
            let devices = scenarios_dir().join("devices");
            let p = diff::profile_for(&ra, &rb, profile, &devices)?;
            Ok((ra, rb, p))
        });
    let (ra, rb, profile) = match loaded {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!("A: {}", a.display());
    println!("B: {}", b.display());
    println!("profile: {}", shown(&profile.path));
    println!();
    let report = diff::diff(&ra, &rb, &profile, &opts);
    print!("{}", report.text);
    if report.agrees() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn cmd_rig_groups(rig: PathBuf, output: Option<PathBuf>) -> ExitCode {
    let rig = match Rig::load(&rig) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let toml = rig.nextest_groups();
    let written = match &output {
        Some(path) => std::fs::write(path, toml),
        None => std::io::stdout().write_all(toml.as_bytes()),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write the groups: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What `boardloop run` was asked for.
struct RunArgs {
    filter: Option<String>,
    rig: Option<PathBuf>,
    scenarios: Option<PathBuf>,
    jobs: usize,
    verbose: bool,
    junit: Option<PathBuf>,
    html: Option<PathBuf>,
}

fn cmd_run(a: RunArgs) -> ExitCode {
    let mut opts = PlanOptions::from_env();
    if let Some(s) = a.scenarios {
        opts.scenarios = s;
    }
    if let Some(r) = a.rig {
        opts.rig = Some(Rig::load(&r).map_err(|e| e.to_string()));
    }
    let all = plan(&opts);
    let selected: Vec<_> = all
        .into_iter()
        .filter(|p| a.filter.as_deref().is_none_or(|f| p.name.contains(f)))
        .collect();
    if selected.is_empty() {
        eprintln!("no trial matches");
        return ExitCode::FAILURE;
    }
    let started = Instant::now();
    // Ignored trials are not run: their reasons are summed up at the end
    // (each one listed with --verbose), and the progress counts the rest.
    let mut results: Vec<Option<TrialResult>> = Vec::new();
    let mut to_run = Vec::new();
    for p in selected {
        match (&p.ignored, p.trial) {
            (Some(why), _) => results.push(Some(TrialResult {
                name: p.name,
                status: Status::Ignored,
                elapsed: Duration::ZERO,
                detail: why.clone(),
                failures: Vec::new(),
                description: String::new(),
                evidence: None,
            })),
            (None, trial) => {
                to_run.push((results.len(), p.name, trial));
                results.push(None);
            }
        }
    }
    let ignored = results.len() - to_run.len();
    println!(
        "boardloop: {} trials to run, {} at once; {ignored} ignored here",
        to_run.len(),
        a.jobs.max(1)
    );
    let progress = Progress::new(to_run.len(), std::io::stdout().is_terminal());
    let queue = std::sync::Mutex::new(to_run.into_iter().enumerate());
    let done = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..a.jobs.max(1) {
            s.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                let Some((k, (slot, name, trial))) = next else {
                    break;
                };
                progress.started(k, &name);
                let result = run_one(name, trial);
                progress.finished(k, &result);
                done.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((slot, result));
            });
        }
    });
    progress.finish();
    for (slot, r) in done.into_inner().unwrap_or_else(|p| p.into_inner()) {
        results[slot] = Some(r);
    }
    let results: Vec<TrialResult> = results.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    print!("{}", summary(&results, elapsed, a.verbose));
    if let Some(path) = &a.junit {
        if let Err(e) = std::fs::write(path, junit(&results, elapsed)) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("JUnit: {}", shown(path));
    }
    let html = a
        .html
        .unwrap_or_else(|| boardloop_harness::catalog::artifacts_dir().join("report.html"));
    let made = Instant::now();
    let page = boardloop_harness::html::report(&results, elapsed, &html);
    // Written whole, then renamed: two runs at once (two rigs) leave one
    // complete report, never a mix of both.
    let partial = html.with_extension(format!("html.{}.partial", std::process::id()));
    let written = html
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|_| std::fs::write(&partial, &page))
        .and_then(|_| std::fs::rename(&partial, &html));
    match written {
        Ok(()) => println!(
            "report: {} ({} KiB, made in {} ms)",
            shown(&html),
            page.len().div_ceil(1024),
            made.elapsed().as_millis()
        ),
        Err(e) => {
            eprintln!("cannot write {}: {e}", html.display());
            return ExitCode::FAILURE;
        }
    }
    if results.iter().any(|r| r.status == Status::Fail) {
        println!(
            "failure artifacts: {}",
            shown(&boardloop_harness::catalog::artifacts_dir())
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs one planned trial (or reports why it could not be built).
fn run_one(name: String, trial: Result<boardloop_harness::Trial, String>) -> TrialResult {
    let t = match trial {
        Ok(t) => t,
        Err(e) => {
            return TrialResult {
                description: format!("{name} failed:\n  - {e}\n"),
                name,
                status: Status::Fail,
                elapsed: Duration::ZERO,
                detail: "not built".to_string(),
                failures: vec![e],
                evidence: None,
            }
        }
    };
    let o = run(&t);
    let detail = match &o.stats {
        Some(st) => format!(
            "rows {} values {} lost {} garbage {}",
            o.rows, o.values_checked, st.decode.lost_packets, st.decode.garbage_bytes
        ),
        None => format!("rows {} values {}", o.rows, o.values_checked),
    };
    // Never silent: a trial that left exact checks out says which.
    let detail = if o.skipped.is_empty() {
        detail
    } else {
        format!("{detail}  skipped (exact): {}", o.skipped.join(", "))
    };
    let passed = o.passed();
    let description = if passed {
        String::new()
    } else {
        describe_failure(&t, &o)
    };
    TrialResult {
        name,
        status: if passed { Status::Pass } else { Status::Fail },
        elapsed: o.elapsed,
        detail,
        description,
        failures: o.failures,
        evidence: Some(Box::new(Evidence {
            scenario: shown(&t.scenario.path),
            steps: o.log,
            artifacts: o.artifacts,
            plots: o.plots,
            timeline: o.timeline,
        })),
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
        let link = match decl.driver {
            boardloop_boards::registry::Driver::Host(_) => "host",
            boardloop_boards::registry::Driver::Master(_) => {
                println!(
                    "{:<17} {:>4}  {:<6}  {:<9} {:>6}  the layout of master_board (a file or a streaming_board:// stream)",
                    decl.name,
                    decl.id.id(),
                    "host",
                    "all",
                    ""
                );
                continue;
            }
            _ => decl.transport().map_or("none", |t| t.name()),
        };
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

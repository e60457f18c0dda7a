//! The `boardloop` command as users and CI call it: the `device` target against a
//! separate `boardloop emulate` process through a rig file, `check` on bad files,
//! `boards`, `schema`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_boardloop")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("boardloop-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A `boardloop emulate` process and the port it printed first.
struct Emulate {
    child: Child,
    port: String,
}

impl Emulate {
    fn start(scenario: &str) -> Emulate {
        Emulate::spawn(&["emulate", scenario], Stdio::null())
    }

    /// Any command whose first stdout line is `serial: PATH`.
    fn spawn(args: &[&str], stderr: Stdio) -> Emulate {
        let mut child = Command::new(exe())
            .current_dir(root())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first
            .trim()
            .strip_prefix("serial: ")
            .unwrap_or_else(|| panic!("first line must be `serial: PATH`, got {first:?}"))
            .to_string();
        assert!(Path::new(&port).exists(), "{port} does not exist");
        Emulate { child, port }
    }
}

impl Drop for Emulate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(exe())
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Stops a `record` or `emulate --replay` process as Ctrl-C would, and
/// returns whether it succeeded and what it printed on stderr.
fn interrupt(mut p: Emulate) -> (bool, String) {
    use std::io::Read;
    let pid = nix::unistd::Pid::from_raw(p.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = p.child.wait().unwrap();
    let mut err = String::new();
    p.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.success(), err)
}

fn rig_on(dir: &Path, port: &str) -> PathBuf {
    let rig = dir.join("rig.yaml");
    let text =
        format!("rig: rec\nboards:\n  cyton: {{ serial_port: {port}, scenarios: [markers] }}\n");
    std::fs::write(&rig, text).unwrap();
    rig
}

#[test]
fn a_rig_session_is_recorded_then_replayed_as_the_device() {
    let dir = scratch("record");
    let rec = dir.join("markers.rec");
    let emu = Emulate::start("scenarios/cyton/markers.yaml");
    let proxy = Emulate::spawn(
        &[
            "record",
            "--port",
            &emu.port,
            "--profile",
            "cyton",
            "-o",
            rec.to_str().unwrap(),
        ],
        Stdio::piped(),
    );
    let rig = rig_on(&dir, &proxy.port);
    let (ok, text) = run(&[
        "run",
        "cyton::markers::device",
        "--rig",
        rig.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    let (ok, err) = interrupt(proxy);
    assert!(ok, "{err}");
    assert!(err.contains("recorded "), "{err}");
    drop(emu);
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        text.starts_with("# boardloop recording 1\n@transport serial\n"),
        "{text}"
    );
    assert!(
        text.contains("\n@profile cyton\n") && text.contains(" \"b\"\n"),
        "{text}"
    );
    // The device is gone; its recording plays it, exact checks and all.
    let replay = Emulate::spawn(
        &["emulate", "--replay", rec.to_str().unwrap()],
        Stdio::piped(),
    );
    let rig = rig_on(&dir, &replay.port);
    let (ok, text) = run(&[
        "run",
        "cyton::markers::device",
        "--rig",
        rig.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    let (ok, err) = interrupt(replay);
    assert!(ok && err.contains(" 0 deviations"), "{err}");
    // A recording that cannot be read: file, line and what is wrong.
    let bad = dir.join("bad.rec");
    std::fs::write(&bad, "# boardloop recording 1\nr 1.0 zz\n").unwrap();
    let out = Command::new(exe())
        .args(["emulate", "--replay", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.rec:2: data: `zz` is not a hex byte"),
        "{err}"
    );
}

#[test]
fn device_target_runs_against_an_external_emulator_through_a_rig_file() {
    let emu = Emulate::start("scenarios/cyton/markers.yaml");
    let dir = scratch("rig");
    let rig = dir.join("rig.yaml");
    std::fs::write(
        &rig,
        format!(
            "rig: cli-test\nboards:\n  cyton: {{ serial_port: {}, scenarios: [markers] }}\n",
            emu.port
        ),
    )
    .unwrap();
    let (ok, text) = run(&[
        "run",
        "cyton::markers::device",
        "--rig",
        rig.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("PASS    cyton::markers::device"), "{text}");
    assert!(text.contains("1 passed, 0 failed, 0 ignored"), "{text}");
    // Boards the rig lacks, and fault scenarios, are ignored with the reason.
    let (_, text) = run(&["run", "fault_drop::device", "--rig", rig.to_str().unwrap()]);
    assert!(
        text.contains("the rig `cli-test` has no `cyton_daisy`"),
        "{text}"
    );
    assert!(text.contains("not in the rig's scenario list"), "{text}");
}

#[test]
fn a_portable_scenario_runs_on_an_unlisted_rig_device_with_its_exact_checks_listed_as_skipped() {
    // The realistic emulator plays the physical Cyton: noise, hum, offsets,
    // drift and FTDI bursts, and the internal test signal on command.
    let emu = Emulate::start("scenarios/cyton/test_signal_fast.yaml");
    let dir = scratch("portable-rig");
    let rig = dir.join("rig.yaml");
    std::fs::write(
        &rig,
        format!(
            "rig: bench\nboards:\n  cyton: {{ serial_port: {} }}\n",
            emu.port
        ),
    )
    .unwrap();
    let rig = rig.to_str().unwrap();
    let (ok, text) = run(&["run", "cyton::test_signal_fast::device", "--rig", rig]);
    assert!(ok, "{text}");
    // Only portable scenarios run on a device the rig does not list them for;
    // the exact check (`commands`: only our emulator reports what it
    // received) is named in the trial's line.
    assert!(
        text.contains("PASS    cyton::test_signal_fast::device"),
        "{text}"
    );
    assert!(text.contains("skipped (exact): commands"), "{text}");
    let (_, text) = run(&[
        "run",
        "cyton::known_signal::device",
        "--rig",
        rig,
        "--verbose",
    ]);
    assert!(
        text.contains("`known_signal` is not portable (no `expect.portable`)"),
        "{text}"
    );
}

#[test]
fn device_target_fails_clearly_when_the_device_is_not_there() {
    let dir = scratch("norig");
    let rig = dir.join("rig.yaml");
    std::fs::write(
        &rig,
        "boards:\n  cyton: { serial_port: /dev/does-not-exist, scenarios: [known_signal] }\n",
    )
    .unwrap();
    let (ok, text) = run(&[
        "run",
        "cyton::known_signal::device",
        "--rig",
        rig.to_str().unwrap(),
    ]);
    assert!(!ok, "{text}");
    assert!(text.contains("/dev/does-not-exist"), "{text}");
    assert!(text.contains("UNABLE_TO_OPEN_PORT_ERROR"), "{text}");
}

#[test]
fn check_names_file_line_and_field() {
    let dir = scratch("check");
    let devices = dir.join("devices");
    std::fs::create_dir_all(dir.join("cyton")).unwrap();
    std::fs::create_dir_all(&devices).unwrap();
    std::fs::copy(
        root().join("scenarios/devices/cyton.yaml"),
        devices.join("cyton.yaml"),
    )
    .unwrap();
    let bad = dir.join("cyton/bad.yaml");
    std::fs::write(
        &bad,
        "device: cyton\nsteps:\n  - prepare\n  - config: { send: \"v\", reply: \"x\", colour: red }\n",
    )
    .unwrap();
    let (ok, text) = run(&["check", bad.to_str().unwrap()]);
    assert!(!ok, "{text}");
    assert!(text.contains(&format!("{}:4:", bad.display())), "{text}");
    assert!(text.contains("unknown field `colour`"), "{text}");
    std::fs::write(
        &bad,
        "device: cyton\nsteps: []\nfaults:\n  - { at_packet: 3, drop: 0 }\n",
    )
    .unwrap();
    let (ok, text) = run(&["check", bad.to_str().unwrap()]);
    assert!(
        !ok && text.contains("faults[0]") && text.contains("at least 1"),
        "{text}"
    );
    let (ok, text) = run(&["check"]);
    assert!(ok, "every shipped file is valid: {text}");
    assert!(text.contains("profile `cyton`"), "{text}");
}

#[test]
fn boards_lists_brainflow_ids_and_layouts() {
    let (ok, text) = run(&["boards"]);
    assert!(ok, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("cyton ") && l.contains(" 0 ") && l.contains("250 Hz")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("cyton_daisy") && l.contains("125 Hz")),
        "{text}"
    );
}

#[test]
fn schema_prints_one_language_or_writes_both_as_committed() {
    for language in ["profile", "scenario"] {
        let out = Command::new(exe())
            .current_dir(root())
            .args(["schema", language])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let committed =
            std::fs::read(root().join(format!("scenarios/schema/{language}.schema.json"))).unwrap();
        assert!(
            out.stdout == committed,
            "`schema {language}` differs from the committed file"
        );
    }
    let dir = scratch("schema");
    let (ok, text) = run(&["schema", "--out", dir.to_str().unwrap()]);
    assert!(ok, "{text}");
    for file in ["profile.schema.json", "scenario.schema.json"] {
        assert_eq!(
            std::fs::read(dir.join(file)).unwrap(),
            std::fs::read(root().join("scenarios/schema").join(file)).unwrap(),
            "{file}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
    // Neither a language nor a folder: clap says what is missing.
    let (ok, text) = run(&["schema"]);
    assert!(!ok && text.contains("<LANGUAGE>"), "{text}");
}

/// A scenarios folder of two Cyton scenarios, one that passes and one whose
/// expectation cannot hold, beside a copy of the Cyton profile.
fn two_cyton_scenarios() -> PathBuf {
    let dir = scratch("run-report");
    std::fs::create_dir_all(dir.join("devices")).unwrap();
    std::fs::create_dir_all(dir.join("cyton")).unwrap();
    std::fs::copy(
        root().join("scenarios/devices/cyton.yaml"),
        dir.join("devices/cyton.yaml"),
    )
    .unwrap();
    let scenario = |lost: u32| {
        format!(
            "device: cyton\npacing: max\npackets: 300\nsignals:\n  eeg*: {{ sine: {{ hz: 4, amplitude: 90 }} }}\n\
             steps: [prepare, start, {{ wait_samples: {} }}, stop, release]\n\
             expect:\n  lost_packets: {lost}\n",
            300 - lost
        )
    };
    std::fs::write(dir.join("cyton/a_pass.yaml"), scenario(0)).unwrap();
    // Nothing is dropped, so 5 lost packets never show.
    std::fs::write(dir.join("cyton/b_fail.yaml"), scenario(5)).unwrap();
    dir
}

#[test]
fn run_prints_in_order_sums_up_and_writes_junit() {
    let dir = two_cyton_scenarios();
    let junit = dir.join("junit.xml");
    let html = dir.join("report.html");
    let out = Command::new(exe())
        .current_dir(root())
        .env_remove("BOARDLOOP_RIG")
        .env_remove("BOARDLOOP_SCENARIOS")
        .args(["run", "--scenarios"])
        .arg(&dir)
        .arg("--junit")
        .arg(&junit)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let all = format!("{stdout}{stderr}");
    assert!(!out.status.success(), "one trial fails: {all}");
    // Piped: plain lines, no escapes, no `harness/..` in a path.
    assert!(
        !all.contains('\x1b'),
        "ANSI escape in piped output: {all:?}"
    );
    assert!(!all.contains("harness/.."), "{all}");
    // Progress counts the trials that run, in the plan's order, although two
    // run at once and either may finish first; ignored trials are not listed.
    let progress: Vec<&str> = stdout.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(progress.len(), 2, "{stdout}");
    assert!(
        progress[0].starts_with("[1/2] PASS    cyton::a_pass::emulated "),
        "{stdout}"
    );
    assert!(
        progress[1].starts_with("[2/2] FAIL    cyton::b_fail::emulated "),
        "{stdout}"
    );
    assert!(!stdout.contains("IGNORED"), "{stdout}");
    // Ignored trials: one line per reason with its count.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("     2  no rig: set BOARDLOOP_RIG")),
        "{stdout}"
    );
    // The board × target table.
    let row = |target: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().take(2).eq(["cyton", target]))
            .map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>())
    };
    assert_eq!(row("emulated"), Some(vec!["1", "1", "0"]), "{stdout}");
    assert_eq!(row("device"), Some(vec!["0", "0", "2"]), "{stdout}");
    // The failure again at the end, with its first difference.
    let failures = stdout.split("\nfailures:\n").nth(1).expect(&stdout);
    assert!(
        failures.starts_with("  cyton::b_fail::emulated\n    first difference: "),
        "{failures}"
    );
    assert!(failures.contains("lost"), "{failures}");
    assert!(
        stdout.contains("\n1 passed, 1 failed, 2 ignored in "),
        "{stdout}"
    );
    // JUnit: every trial a test case, each with its status.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    for name in [
        "cyton::a_pass::emulated",
        "cyton::a_pass::device",
        "cyton::b_fail::emulated",
        "cyton::b_fail::device",
    ] {
        assert!(xml.contains(&format!("name=\"{name}\"")), "{name}: {xml}");
    }
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert_eq!(xml.matches("<skipped ").count(), 2, "{xml}");
    assert!(xml.contains("tests=\"4\" failures=\"1\""), "{xml}");
    // The HTML report: both trials that ran, the failed one open and marked,
    // the ignored ones as one reason line; no partial file left beside it.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(stdout.contains("report: "), "{stdout}");
    assert!(
        page.contains("<section class=\"trial pass\" id=\"cyton--a_pass--emulated\"")
            && page.contains("<section class=\"trial fail\" id=\"cyton--b_fail--emulated\""),
        "{page}"
    );
    assert!(page.contains("<tr><td>2</td><td>no rig"), "{page}");
    assert_eq!(
        std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("partial"))
            .count(),
        0
    );

    // --verbose lists each ignored trial with its reason.
    let verbose = Command::new(exe())
        .current_dir(root())
        .env_remove("BOARDLOOP_RIG")
        .args(["run", "::device", "--verbose", "--scenarios"])
        .arg(&dir)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&verbose.stdout);
    assert!(
        verbose.status.success(),
        "only ignored trials: nothing fails: {out}"
    );
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("cyton::a_pass::device") && l.contains("no rig")),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The flock(2) locks on `file` in /proc/locks: (pid, blocked waiter?).
fn flocks_on(file: &Path) -> Vec<(u32, bool)> {
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata(file).unwrap().ino().to_string();
    let table = std::fs::read_to_string("/proc/locks").unwrap();
    table
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let waiter = f.get(1) == Some(&"->");
            let f = if waiter { &f[2..] } else { &f[1..] };
            // FLOCK ADVISORY WRITE pid maj:min:ino start end
            (f.first() == Some(&"FLOCK") && f.get(4)?.rsplit(':').next()? == ino)
                .then(|| (f[3].parse().unwrap(), waiter))
        })
        .collect()
}

/// Waits (bounded) until the locks on `file` are as `want` says.
fn until_flocks(file: &Path, what: &str, want: impl Fn(&[(u32, bool)]) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let locks = flocks_on(file);
        if want(&locks) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never saw {what}: {locks:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn two_runs_on_one_rig_take_turns_at_the_device() {
    use boardloop_harness::device_lock;
    let emu = Emulate::start("scenarios/cyton/markers.yaml");
    let dir = scratch("lock");
    let locks = dir.join("locks");
    let rig = dir.join("rig.yaml");
    std::fs::write(
        &rig,
        format!(
            "rig: shared\nboards:\n  cyton: {{ serial_port: {}, scenarios: [markers] }}\n",
            emu.port
        ),
    )
    .unwrap();
    let device = &boardloop_harness::rig::Rig::load(&rig).unwrap().boards["cyton"];
    // The test holds the device first, so both runs are surely under way and
    // waiting before either can have it.
    let held = device_lock::acquire_in(&locks, device, "the test", &mut Vec::new()).unwrap();
    let file = held.path.clone();
    let spawn = || {
        Command::new(exe())
            .current_dir(root())
            .env("BOARDLOOP_LOCK_DIR", &locks)
            .args(["run", "cyton::markers::device", "--rig"])
            .arg(&rig)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let runs = [a.id(), b.id()];
    until_flocks(&file, "both runs waiting", |l| {
        runs.iter().all(|p| l.contains(&(*p, true)))
    });
    drop(held);
    // One run has the device and the other still waits for it: they take
    // turns, never both at once.
    until_flocks(&file, "one run holding, the other waiting", |l| {
        let holding: Vec<u32> = l.iter().filter(|x| !x.1).map(|x| x.0).collect();
        holding.len() == 1
            && runs.contains(&holding[0])
            && runs
                .iter()
                .filter(|p| **p != holding[0])
                .all(|p| l.contains(&(*p, true)))
    });
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed, 0 failed, 0 ignored"), "{text}");
        assert!(
            text.contains("cyton::markers::device: waiting for ")
                && text.contains(&format!("in use by pid {} (the test)", std::process::id())),
            "{text}"
        );
    }
    assert!(flocks_on(&file).is_empty());
}

#[test]
fn rig_groups_give_each_device_a_one_thread_nextest_group() {
    let dir = scratch("groups");
    let rig = dir.join("rig.yaml");
    std::fs::write(
        &rig,
        "rig: bench-3\nboards:\n  cyton: { serial_port: /dev/ttyS0 }\n  \
         freeeeg32: { serial_port: /dev/ttyS1 }\n  ironbci32: { serial_port: /dev/ttyS1 }\n  \
         muse_2: { mac_address: \"00:55:DA:B0:06:D6\", adapter: hci0 }\n",
    )
    .unwrap();
    let (ok, toml) = run(&["rig-groups", rig.to_str().unwrap()]);
    assert!(ok, "{toml}");
    // One group per device: two boards on one port share theirs.
    assert_eq!(toml.matches("max-threads = 1").count(), 3, "{toml}");
    for (group, filter) in [
        ("dev_ttyS0", "(cyton)"),
        ("dev_ttyS1", "(freeeeg32|ironbci32)"),
        ("ble-00_55_DA_B0_06_D6-on-hci0", "(muse_2)"),
    ] {
        let block = format!(
            "[test-groups.\"@tool:boardloop:{group}\"]\nmax-threads = 1\n\n\
             [[profile.default.overrides]]\n\
             filter = 'binary(matrix) & test(/^{filter}::[^:]+::device$/)'\n\
             test-group = \"@tool:boardloop:{group}\"\n"
        );
        assert!(toml.contains(&block), "{block}\nnot in\n{toml}");
    }
}

/// A Cyton session as a recording: `v` and its banner, `b`, 100 packets at
/// 250/s (one read each; channel k carries a triangle of amplitude 1000·k),
/// `s`; packets from `bad_from` on end in `end`.
fn cyton_session(bad_from: usize, end: u8) -> String {
    use boardloop_emulators::recording::{Event, Op, Recording};
    use std::time::Duration;
    let mut rec = Recording::default();
    rec.set("transport", "serial");
    rec.set("profile", "cyton");
    let mut at = Duration::ZERO;
    let mut push = |rec: &mut Recording, ms: u64, op: Op, bytes: Vec<u8>| {
        at += Duration::from_millis(ms);
        rec.events.push(Event {
            at,
            op,
            bytes,
            line: 0,
        });
    };
    push(&mut rec, 1, Op::Write, b"v".to_vec());
    let banner = "OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\nLIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$";
    push(&mut rec, 2, Op::Read, banner.as_bytes().to_vec());
    push(&mut rec, 1, Op::Write, b"b".to_vec());
    for k in 0..100usize {
        let mut p = vec![0xA0, k as u8];
        for ch in 1..=8i32 {
            let v = ((k as i32 % 20) - 10) * 100 * ch;
            p.extend_from_slice(&v.to_be_bytes()[1..]);
        }
        p.extend_from_slice(&[0; 6]);
        p.push(if k >= bad_from { end } else { 0xC0 });
        push(&mut rec, 4, Op::Read, p);
    }
    push(&mut rec, 1, Op::Write, b"s".to_vec());
    rec.render()
}

#[test]
fn diff_exits_0_when_recordings_agree_1_on_a_disagreement_2_on_bad_input() {
    let dir = scratch("diff");
    let file = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let a = file("a.rec", &cyton_session(usize::MAX, 0xC0));
    let same = file("same.rec", &cyton_session(usize::MAX, 0xC0));
    let end = file("end.rec", &cyton_session(5, 0xC4));
    let diff = |args: &[&str]| {
        let out = Command::new(exe())
            .current_dir(root())
            .env_remove("BOARDLOOP_SCENARIOS")
            .arg("diff")
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let (code, text) = diff(&[&a, &same]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("scenarios/devices/cyton.yaml"), "{text}");
    assert!(
        text.contains("2 replies outside streaming, the same"),
        "{text}"
    );
    assert!(text.contains("the first 100 packets agree"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().eq(["packets/s", "250.00", "250.00"])),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l
            .split_whitespace()
            .eq(["eeg8", "-8000", "7200", "-8000", "7200"])),
        "{text}"
    );
    assert!(text.contains("A and B agree"), "{text}");

    // Packet 5's end byte, the stream's byte 5 × 33 + 32, on line 12 (magic,
    // two header lines, w, r, w, then one line per packet).
    let (code, text) = diff(&[&a, &end]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "DIFFERS: stream 1 packet 5 (stream byte 197; A line 12, B line 12): \
             end byte 0xc0 in A, 0xc4 in B"
        ),
        "{text}"
    );
    assert!(text.contains("1 disagreement(s)"), "{text}");

    // Unreadable input: the file and line, exit 2.
    let bad = file(
        "bad.rec",
        "# boardloop recording 1\n@profile cyton\nw 1 \"v\"\nx 2 ab\n",
    );
    let (code, text) = diff(&[&a, &bad]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains(&format!("{bad}:4: unknown operation `x`")),
        "{text}"
    );
    // The committed recordings: the Cyton's session as our driver and as
    // BrainFlow's played it agree; a FreeEEG32 recording (99-byte packets,
    // streaming unasked from the host's flush) is framed whole.
    let (code, text) = diff(&[
        "scenarios/cyton/recordings/test_signal_slow.rec",
        "scenarios/cyton/recordings/test_signal_slow.brainflow.rec",
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("the first 757 packets agree"), "{text}");
    let free = "scenarios/freeeeg32/recordings/generator_sine.rec";
    let (code, text) = diff(&[free, free]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("packets of 99 bytes, header 0xa0"), "{text}");
    assert!(
        text.contains("stream 1: 544 packets in A, 544 in B"),
        "{text}"
    );
    let (code, text) = diff(&[&a, &same, "--profile", "nosuch"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("nosuch.yaml"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

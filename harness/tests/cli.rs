//! The `boardloop` command as users and CI call it: the `device` target against a
//! separate `boardloop emulate` process through a rig file, `check` on bad files,
//! `boards`.

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
        let mut child = Command::new(exe())
            .current_dir(root())
            .args(["emulate", scenario])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
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

#[test]
fn device_target_runs_against_an_external_emulator_through_a_rig_file() {
    let emu = Emulate::start("scenarios/cyton/markers.yaml");
    let dir = scratch("rig");
    let rig = dir.join("rig.yaml");
    std::fs::write(
        &rig,
        format!(
            "rig: cli-test\nboards:\n  cyton: {{ serial_port: {} }}\n",
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
    assert!(text.contains("injects faults"), "{text}");
}

#[test]
fn device_target_fails_clearly_when_the_device_is_not_there() {
    let dir = scratch("norig");
    let rig = dir.join("rig.yaml");
    std::fs::write(
        &rig,
        "boards:\n  cyton: { serial_port: /dev/does-not-exist }\n",
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

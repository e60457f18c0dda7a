//! Malformed profiles and scenarios, as they may arrive in a pull request: each
//! once overflowed the stack, panicked, exhausted memory, read outside the tree
//! or took seconds. Each must now be refused with its file, line and field, in
//! well under a second; the memory stays bounded because the error is the limit
//! that stops the load before it grows (see `limits.rs`).

use boardloop_emulators::{LoadError, Profile, Scenario};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long one load may take: "well under a second", with room for a loaded
/// CI machine and an unoptimized build.
const TIME_BOUND: Duration = Duration::from_millis(500);

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/untrusted")
}

/// Loads `file` (a profile if it is under `devices/`) on its own thread, so
/// a stack overflow or a hang would show as this test failing, not as the
/// whole binary aborting or stalling.
fn load(file: &str) -> (LoadError, Duration) {
    let path = dir().join(file);
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let t = Instant::now();
        let r = if path.parent().is_some_and(|p| p.ends_with("devices")) {
            Profile::load(&path).map(drop)
        } else {
            Scenario::load(&path, &devices).map(drop)
        };
        let _ = tx.send((r, t.elapsed()));
    });
    let (r, took) = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{file}: no answer in 10 s (hang or crash)"));
    (r.expect_err(file), took)
}

#[test]
fn every_malformed_file_gets_a_clear_error_quickly() {
    // The 65th level, the 64th `[` after `state`.
    let deep = format!("state{}", "[0]".repeat(63));
    // file, line, field, words of the message
    let cases: &[(&str, usize, Option<&str>, &str)] = &[
        (
            "devices/expr_deep.yaml",
            11,
            Some("stream.packets[0].fields[1].scale"),
            "nested more than 256 levels deep",
        ),
        (
            "devices/expr_long.yaml",
            11,
            Some("stream.packets[0].fields[1].value"),
            "more than 1024 numbers, names and operators",
        ),
        (
            "devices/ascii_digits.yaml",
            11,
            Some("stream.packets[0].fields[1].ascii_digits"),
            "must be 1..=8",
        ),
        (
            "devices/bits_sum.yaml",
            11,
            Some("stream.packets[0].fields[1].bits"),
            "`bits` must be 1..=32768",
        ),
        (
            "devices/one_of_empty.yaml",
            11,
            Some("stream.packets[0].fields[1].one_of"),
            "needs 1..=64 alternatives",
        ),
        (
            "devices/repeat_from.yaml",
            12,
            Some("stream.packets[0].fields[1].from"),
            "past the largest integer",
        ),
        (
            "devices/state_size.yaml",
            5,
            Some("state.gain.size"),
            "must be at most 1024",
        ),
        (
            "devices/repeat_nested.yaml",
            14,
            Some("stream.packets[0].fields[1].fields[0].fields[0].value"),
            "more than 65536",
        ),
        (
            "devices/counter_start.yaml",
            8,
            Some("stream.counter.start"),
            "must be below `modulo`",
        ),
        ("device_absolute.yaml", 2, Some("device"), "is outside"),
        ("device_parent.yaml", 2, Some("device"), "is outside"),
        (
            "csv_dev_zero.yaml",
            5,
            Some("signals.eeg1.csv"),
            "is outside",
        ),
        (
            "yaml_deep.yaml",
            4,
            Some(&deep),
            "nested more than 64 levels deep",
        ),
        (
            "alias_bomb.yaml",
            9,
            Some("a4[7]"),
            "more than 100000 YAML nodes",
        ),
        (
            "alias_self.yaml",
            3,
            Some("steps[0]"),
            "an alias inside the node it names",
        ),
        ("not_utf8.yaml", 3, None, "not UTF-8"),
        (
            "speed_inf.yaml",
            3,
            Some("pacing.speed"),
            "must be 0.001..=1000",
        ),
        ("packets_max.yaml", 3, Some("packets"), "at most 100000000"),
        (
            "buffer_size_max.yaml",
            3,
            Some("buffer_size"),
            "at most 21600000",
        ),
        ("wait_ms_max.yaml", 4, Some("steps[0]"), "at most 3600000"),
        ("burst_max.yaml", 5, Some("faults[0]"), "at most 1000000"),
    ];
    let mut failures = Vec::new();
    for &(file, line, field, words) in cases {
        let (e, took) = load(file);
        println!("{took:>10.1?}  {e}");
        let ok = e.file.ends_with(file)
            && e.line == Some(line)
            && e.field.as_deref() == field
            && e.message.contains(words)
            && took < TIME_BOUND;
        if !ok {
            failures.push(format!(
                "{file}: want line {line}, field {field:?}, `{words}`, under {TIME_BOUND:?}; \
                 got {e:?} in {took:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_file_here_is_a_case() {
    // A file added here without a case in the table above tests nothing.
    let mut n = 0;
    for d in [dir(), dir().join("devices")] {
        n += std::fs::read_dir(d)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "yaml")
            })
            .count();
    }
    assert_eq!(n, 21);
}

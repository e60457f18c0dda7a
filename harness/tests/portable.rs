//! Both sides of the portable checks, on the Cyton's test-signal scenario:
//! they pass on the realistic emulator (the matrix runs that) and fail when
//! the device misbehaves (a wrong rate, a lost packet, a wrong frequency),
//! while the exact comparison fails on the realistic emulator, as it does on
//! hardware, and holds on the ideal one.

use boardloop_emulators::load::parse_yaml;
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Profile, Scenario};
use boardloop_harness::binding::board;
use boardloop_harness::targets::Emulated;
use boardloop_harness::{run, Outcome, Trial};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// `cyton/test_signal_fast.yaml` with each (from, to) replacement made in
/// its text (each must apply), on the Cyton profile with those made in its.
fn variant(edits: &[(&str, &str)], profile_edits: &[(&str, &str)]) -> Scenario {
    let path = scenarios().join("cyton/test_signal_fast.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    // One second of stream is enough for every check here.
    let mut all = vec![("wait_samples: 500", "wait_samples: 250")];
    all.extend_from_slice(edits);
    for (from, to) in all {
        assert!(text.contains(from), "no `{from}` in the scenario");
        text = text.replace(from, to);
    }
    let ppath = scenarios().join("devices/cyton.yaml");
    let mut ptext = std::fs::read_to_string(&ppath).unwrap();
    for (from, to) in profile_edits {
        assert!(ptext.contains(from), "no `{from}` in the profile");
        ptext = ptext.replace(from, to);
    }
    let pdecl = parse_yaml(&ppath, &ptext).unwrap();
    let profile = Arc::new(Profile::from_decl(&ppath, &ptext, pdecl).unwrap());
    let decl: ScenarioDecl = parse_yaml(&path, &text).unwrap();
    Scenario::with_profile(&path, &text, decl, profile).unwrap()
}

/// Runs every scenario on the `emulated` target at once (each trial is a
/// second of real-time stream).
fn run_all(scenarios: Vec<Scenario>) -> Vec<Outcome> {
    let handles: Vec<_> = scenarios
        .into_iter()
        .map(|sc| {
            let trial = Trial {
                board: board("cyton").unwrap(),
                scenario: Arc::new(sc),
                target: Arc::new(Emulated),
            };
            std::thread::spawn(move || run(&trial))
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn failures(o: &Outcome) -> String {
    o.failures.join("\n")
}

#[test]
fn portable_checks_pass_on_a_realistic_device_and_fail_on_a_misbehaving_one() {
    let out = run_all(vec![
        variant(&[], &[]),
        // Wrong rate: the device's clock is 3 % fast.
        variant(&[("clock_ppm: 40", "clock_ppm: 30000")], &[]),
        // A lost packet.
        variant(
            &[("steps:", "faults: [{ at_packet: 100, drop: 1 }]\nsteps:")],
            &[],
        ),
        // A stall: the device pauses for 1.5 s.
        variant(
            &[(
                "steps:",
                "faults: [{ at_packet: 100, stall_ms: 1500 }]\nsteps:",
            )],
            &[],
        ),
        // A wrong frequency: firmware whose fast test signal runs at 2.5 Hz.
        variant(
            &[],
            &[(
                "square: { hz: 1.953125, amplitude: 1875 }",
                "square: { hz: 2.5, amplitude: 1875 }",
            )],
        ),
    ]);
    assert!(out[0].passed(), "{}", failures(&out[0]));
    assert!(
        out[0].values_checked == 0,
        "no exact comparison was asked for"
    );
    let rate = failures(&out[1]);
    // 3 % fast, measured over a second of 16 ms bursts: 2.5-3.5 %.
    assert!(rate.contains("stream: rate 25"), "{rate}");
    assert!(rate.contains("beyond ±10000 ppm"), "{rate}");
    assert!(!rate.contains("spectral"), "{rate}");
    let lost = failures(&out[2]);
    assert!(
        lost.contains("stream: 1 packets lost (from the rows' counters), expected 0"),
        "{lost}"
    );
    let stall = failures(&out[3]);
    assert!(stall.contains("stream: longest gap 1"), "{stall}");
    assert!(stall.contains("above 1000 ms"), "{stall}");
    let freq = failures(&out[4]);
    assert!(
        freq.contains("eeg1 in stream 1: dominant frequency 2.49"),
        "{freq}"
    );
    assert!(freq.contains("expected 1.953125 ± 0.1 Hz"), "{freq}");
    assert!(!freq.contains("stream:"), "{freq}");
}

#[test]
fn the_exact_check_fails_on_the_realistic_device_and_holds_on_the_ideal_one() {
    let exact = ("  portable:", "  signal: { tolerance_lsb: 1 }\n  portable:");
    // Without its `realistic` block the device plays the declared signals
    // (here the profile's test signal) to the LSB.
    let ideal = (
        "realistic:\n  seed: 11\n  analog:\n    eeg*: { noise_rms: 1.5, mains: { hz: 50, amplitude: 12 }, offset: 150 }\n    eeg3: { noise_rms: 3, mains: { hz: 50, amplitude: 25 }, offset: -900 }\n  clock_ppm: 40\n  delivery_ms: 16\n",
        "",
    );
    let out = run_all(vec![variant(&[exact], &[]), variant(&[exact, ideal], &[])]);
    let real = failures(&out[0]);
    assert!(real.contains("signal: "), "{real}");
    assert!(real.contains("values outside 1 LSB"), "{real}");
    assert!(out[1].passed(), "{}", failures(&out[1]));
    // 250 rows of 8 channels and 3 accel axes, each compared.
    assert!(
        out[1].values_checked >= 250 * 8,
        "{}",
        out[1].values_checked
    );
}

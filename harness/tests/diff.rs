//! `boardloop diff` catching seeded profile mistakes: the Cyton emulator
//! plays one scenario with the shipped profile and with mutated copies (a
//! wrong `v` reply, end byte, rate, scale), each session recorded through a
//! `RecordProxy` as a physical board's would be. Every mistake is found as
//! exactly one disagreement, named by its pair, packet and byte; two
//! recordings of the correct profile agree.

use boardloop_emulators::load::parse_yaml;
use boardloop_emulators::record::RecordProxy;
use boardloop_emulators::recording::{Op, Recording};
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Profile, Scenario, SerialEmulator, SerialOptions};
use boardloop_harness::diff::rates::STALL_MS;
use boardloop_harness::diff::{diff, DiffOptions, Report};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Packets each session waits for: a second at 250 packets/s, enough for a
/// rate within 0.01 % (see `DiffOptions::rate_tolerance`).
const PACKETS: usize = 250;

fn shipped_profile() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices/cyton.yaml");
    std::fs::read_to_string(p).unwrap()
}

/// The shipped Cyton profile with `from` replaced by `to` (once, and it must
/// be there).
fn mutated(from: &str, to: &str) -> String {
    let text = shipped_profile();
    assert_eq!(text.matches(from).count(), 1, "`{from}` in cyton.yaml");
    text.replace(from, to)
}

/// Opens the proxy's port as a host does: raw, non-blocking.
fn open(path: &Path) -> File {
    let port = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)
        .unwrap();
    let mut t = tcgetattr(&port).unwrap();
    cfmakeraw(&mut t);
    tcsetattr(&port, SetArg::TCSANOW, &t).unwrap();
    port
}

/// Reads into `got` until `done` holds, waiting on the port's readiness; the
/// 20-s bound only turns a hang into a failure.
fn read_until(port: &mut File, got: &mut Vec<u8>, done: impl Fn(&[u8]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    while !done(got) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "stuck after {} bytes", got.len());
        let mut fds = [PollFd::new(port.as_fd(), PollFlags::POLLIN)];
        poll(
            &mut fds,
            PollTimeout::from(left.as_millis().min(1000) as u16),
        )
        .unwrap();
        match port.read(&mut buf) {
            Ok(k) => got.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Plays the scenario on the emulator with `profile` (YAML text) behind a
/// recording proxy: `v` (read the banner), `b`, PACKETS packets, `s`, and
/// every byte the emulator sent after that; returns the recording.
fn record(tag: &str, profile: &str) -> Recording {
    let dir = std::env::temp_dir().join(format!("boardloop-diff-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(dir.join("devices")).unwrap();
    let profile_path = dir.join("devices/cyton.yaml");
    std::fs::write(&profile_path, profile).unwrap();
    let profile = Arc::new(Profile::load(&profile_path).unwrap());
    let text = "device: cyton\nsignals:\n  eeg*: { sine: { hz: 10, amplitude: 100 } }\nsteps: []\n";
    let path = dir.join("scenario.yaml");
    let decl: ScenarioDecl = parse_yaml(&path, text).unwrap();
    let scenario = Scenario::with_profile(&path, text, decl, profile).unwrap();
    let emu = SerialEmulator::spawn(&scenario, SerialOptions::default()).unwrap();
    let out: PathBuf = dir.join("session.rec");
    let header = [("profile".to_string(), "cyton".to_string())];
    let proxy = RecordProxy::spawn(emu.path().to_str().unwrap(), 115200, &out, &header).unwrap();
    let mut port = open(proxy.path());
    let mut got = Vec::new();
    port.write_all(b"v").unwrap();
    read_until(&mut port, &mut got, |g| g.ends_with(b"$$$"));
    let banner = got.len();
    port.write_all(b"b").unwrap();
    read_until(&mut port, &mut got, |g| g.len() >= banner + PACKETS * 33);
    port.write_all(b"s").unwrap();
    // Once the proxy has passed `s` on and the emulator has read it, the
    // emulator's byte count is final: read up to it, so the recording holds
    // every packet that was on its way (and no later write can take them).
    read_until(&mut port, &mut got, |_| proxy.stats().host_bytes == 3);
    loop {
        emu.settle();
        let sent = emu.stats().bytes_to_host as usize;
        read_until(&mut port, &mut got, |g| g.len() >= sent);
        emu.settle();
        if emu.stats().bytes_to_host as usize == got.len() {
            break;
        }
    }
    let stats = proxy.stop();
    assert_eq!(stats.error, None);
    assert_eq!(stats.device_bytes as usize, got.len());
    let rec = Recording::load(&out).unwrap();
    // DIFF_KEEP=DIR keeps each session's recording there, to look at.
    if let Some(d) = std::env::var_os("DIFF_KEEP") {
        std::fs::copy(&out, Path::new(&d).join(format!("{tag}.rec"))).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
    rec
}

fn compare(a: &Recording, b: &Recording) -> Report {
    let profile = Arc::new(
        Profile::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices/cyton.yaml"),
        )
        .unwrap(),
    );
    diff(a, b, &profile, &DiffOptions::default())
}

#[test]
fn seeded_profile_mistakes_are_each_found_where_they_are_and_nowhere_else() {
    // The sessions run at once: a second of streaming each.
    let sessions = [
        ("good", shipped_profile()),
        ("again", shipped_profile()),
        ("reply", mutated("Device ID: 0x3E", "Device ID: 0x3F")),
        ("end", mutated("  end_byte: 0xC0\n", "  end_byte: 0xC1\n")),
        (
            "rate",
            mutated("  sample_rate: 250\n", "  sample_rate: 200\n"),
        ),
        (
            "scale",
            mutated(
                "scale: \"4500000 / 8388607 / gain[i]\"",
                "scale: \"4500000 / 8388607 / gain[i] / 2\"",
            ),
        ),
    ];
    let recs: Vec<(&str, Recording)> = std::thread::scope(|s| {
        let handles: Vec<_> = sessions
            .iter()
            .map(|(tag, yaml)| s.spawn(move || (*tag, record(tag, yaml))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let rec = |tag: &str| &recs.iter().find(|(t, _)| *t == tag).unwrap().1;
    let good = rec("good");

    let same = compare(rec("again"), good);
    assert!(same.agrees(), "{}", same.text);
    assert!(same.text.contains("A and B agree"), "{}", same.text);

    // The banner differs at its 'E' (pair 1 is the write of `v`).
    let banner = b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3";
    let r = compare(good, rec("reply"));
    assert_eq!(r.disagreements.len(), 1, "{}", r.text);
    assert!(
        r.disagreements[0].starts_with(&format!(
            "reply write 1 \"v\" (A line 7, B line 7) differs at byte {}",
            banner.len()
        )),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("    A: …\"") && r.text.contains("ID: 0x3E\\n"),
        "{}",
        r.text
    );
    assert!(r.text.contains("ID: 0x3F\\n"), "{}", r.text);

    // The first packet's last byte.
    let r = compare(good, rec("end"));
    assert_eq!(r.disagreements.len(), 1, "{}", r.text);
    assert!(
        r.disagreements[0].starts_with("stream 1 packet 0 (stream byte 32; A line "),
        "{}",
        r.text
    );
    assert!(
        r.disagreements[0].ends_with("end byte 0xc0 in A, 0xc1 in B"),
        "{}",
        r.text
    );

    // 250 against 200 packets/s: 25 % apart from B's (24.6-25.5 % measured
    // with two busy loops on a 2-core host) unless a recording's reads
    // stalled, which the report says.
    let r = compare(good, rec("rate"));
    if r.text.contains("rates not compared: ") {
        assert!(r.agrees(), "{}", r.text);
        assert!(r.text.contains("reads stalled"), "{}", r.text);
        let stalled = |rec: &Recording| {
            let reads: Vec<_> = rec.events.iter().filter(|e| e.op == Op::Read).collect();
            reads
                .windows(2)
                .any(|w| (w[1].at - w[0].at).as_secs_f64() * 1e3 > STALL_MS)
        };
        assert!(stalled(good) || stalled(rec("rate")), "{}", r.text);
    } else {
        assert_eq!(r.disagreements.len(), 1, "{}", r.text);
        let apart: f64 = r.disagreements[0]
            .split_once(" in B (")
            .and_then(|(_, rest)| rest.split_once(" % apart, tolerance 1 %)"))
            .and_then(|(p, _)| p.parse().ok())
            .unwrap_or_else(|| panic!("{}", r.text));
        assert!((24.0..26.0).contains(&apart), "{}", r.text);
    }

    // Twice the counts on every channel.
    let r = compare(good, rec("scale"));
    assert_eq!(r.disagreements.len(), 8, "{}", r.text);
    for (i, d) in r.disagreements.iter().enumerate() {
        assert!(
            d.starts_with(&format!("eeg{}: span ", i + 1)) && d.contains("(2.00x apart"),
            "{}",
            r.text
        );
    }
}

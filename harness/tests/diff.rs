//! `boardloop diff` catching seeded profile mistakes, on a serial and a BLE
//! board. The Cyton emulator plays one scenario with the shipped profile and
//! with mutated copies (a wrong `v` reply, end byte, rate, scale), each
//! session recorded through a `RecordProxy` as a physical board's would be.
//! The Muse 2 emulator plays on the in-memory link with mutated copies too (a
//! wrong `v1` reply, a wrong rate of one EEG characteristic, a wrong first
//! counter, a characteristic's properties), recorded through a
//! `RecordingConnector`; its host is written here, not a board driver, so
//! that it subscribes to the control characteristic (BrainFlow's Muse driver
//! and ours do not, so their recordings hold no replies). Every mistake is
//! found as exactly one disagreement, named by its pair, packet and byte (or
//! characteristic); two recordings of the shipped profile agree.

use boardloop_boards::ble::{BleConnector, DeviceFilter, Notification, NotificationStream, Uuid};
use boardloop_boards::MemoryBle;
use boardloop_emulators::load::parse_yaml;
use boardloop_emulators::record::RecordProxy;
use boardloop_emulators::recording::{Op, Recording};
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{
    BleEmulator, BleOptions, Profile, Scenario, SerialEmulator, SerialOptions,
};
use boardloop_harness::ble_record::RecordingConnector;
use boardloop_harness::diff::rates::STALL_MS;
use boardloop_harness::diff::{diff, DiffOptions, Report};
use boardloop_harness::memory_ble::{peripheral, MemoryAdapter};
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

fn profile_path(device: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../scenarios/devices/{device}.yaml"))
}

fn shipped_profile(device: &str) -> String {
    std::fs::read_to_string(profile_path(device)).unwrap()
}

/// The shipped profile of `device` with `from` replaced by `to` (once, and
/// it must be there).
fn mutated(device: &str, from: &str, to: &str) -> String {
    let text = shipped_profile(device);
    assert_eq!(text.matches(from).count(), 1, "`{from}` in {device}.yaml");
    text.replace(from, to)
}

/// Records every session at once (`record(tag, profile YAML)`): a few
/// seconds of streaming each.
fn record_all<'a>(
    sessions: &'a [(&'a str, String)],
    record: fn(&str, &str) -> Recording,
) -> Vec<(&'a str, Recording)> {
    std::thread::scope(|s| {
        let handles: Vec<_> = sessions
            .iter()
            .map(|(tag, yaml)| s.spawn(move || (*tag, record(tag, yaml))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// A scenario of `device` with `profile` (YAML text), in a fresh directory
/// `dir` (which the caller removes).
fn scenario(dir: &Path, device: &str, profile: &str) -> Scenario {
    std::fs::create_dir_all(dir.join("devices")).unwrap();
    let profile_path = dir.join(format!("devices/{device}.yaml"));
    std::fs::write(&profile_path, profile).unwrap();
    let profile = Arc::new(Profile::load(&profile_path).unwrap());
    let text = format!(
        "device: {device}\nsignals:\n  eeg*: {{ sine: {{ hz: 10, amplitude: 100 }} }}\nsteps: []\n"
    );
    let path = dir.join("scenario.yaml");
    let decl: ScenarioDecl = parse_yaml(&path, &text).unwrap();
    Scenario::with_profile(&path, &text, decl, profile).unwrap()
}

/// Checks the report on a seeded rate mistake: one disagreement, `label`'s
/// rates `apart` (percent of B's), unless the device bytes of a recording
/// (`op`) stalled, which the report must then say.
fn assert_rate_found(
    r: &Report,
    recs: [&Recording; 2],
    op: fn(Op) -> bool,
    label: &str,
    apart: std::ops::Range<f64>,
) {
    if r.text.contains("rates not compared: ") {
        assert!(r.agrees(), "{}", r.text);
        assert!(r.text.contains("stalled"), "{}", r.text);
        let stalled = |rec: &Recording| {
            let at: Vec<Duration> = rec
                .events
                .iter()
                .filter(|e| op(e.op))
                .map(|e| e.at)
                .collect();
            at.windows(2)
                .any(|w| (w[1] - w[0]).as_secs_f64() * 1e3 > STALL_MS)
        };
        assert!(recs.iter().any(|r| stalled(r)), "{}", r.text);
    } else {
        assert_eq!(r.disagreements.len(), 1, "{}", r.text);
        let measured: f64 = r.disagreements[0]
            .strip_prefix(&format!("{label}: "))
            .and_then(|d| d.split_once(" in B ("))
            .and_then(|(_, rest)| rest.split_once(" % apart, tolerance 1 %)"))
            .and_then(|(p, _)| p.parse().ok())
            .unwrap_or_else(|| panic!("{}", r.text));
        assert!(apart.contains(&measured), "{}", r.text);
    }
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
    let scenario = scenario(&dir, "cyton", profile);
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

fn compare(device: &str, a: &Recording, b: &Recording) -> Report {
    let profile = Arc::new(Profile::load(&profile_path(device)).unwrap());
    diff(a, b, &profile, &DiffOptions::default())
}

#[test]
fn seeded_profile_mistakes_are_each_found_where_they_are_and_nowhere_else() {
    let sessions = [
        ("good", shipped_profile("cyton")),
        ("again", shipped_profile("cyton")),
        (
            "reply",
            mutated("cyton", "Device ID: 0x3E", "Device ID: 0x3F"),
        ),
        (
            "end",
            mutated("cyton", "  end_byte: 0xC0\n", "  end_byte: 0xC1\n"),
        ),
        (
            "rate",
            mutated("cyton", "  sample_rate: 250\n", "  sample_rate: 200\n"),
        ),
        (
            "scale",
            mutated(
                "cyton",
                "scale: \"4500000 / 8388607 / gain[i]\"",
                "scale: \"4500000 / 8388607 / gain[i] / 2\"",
            ),
        ),
    ];
    let recs = record_all(&sessions, record);
    let rec = |tag: &str| &recs.iter().find(|(t, _)| *t == tag).unwrap().1;
    let good = rec("good");

    let same = compare("cyton", rec("again"), good);
    assert!(same.agrees(), "{}", same.text);
    assert!(same.text.contains("A and B agree"), "{}", same.text);

    // The banner differs at its 'E' (pair 1 is the write of `v`).
    let banner = b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3";
    let r = compare("cyton", good, rec("reply"));
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
    let r = compare("cyton", good, rec("end"));
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
    let r = compare("cyton", good, rec("rate"));
    let read = |op| op == Op::Read;
    assert_rate_found(&r, [good, rec("rate")], read, "stream 1", 24.0..26.0);

    // Twice the counts on every channel.
    let r = compare("cyton", good, rec("scale"));
    assert_eq!(r.disagreements.len(), 8, "{}", r.text);
    for (i, d) in r.disagreements.iter().enumerate() {
        assert!(
            d.starts_with(&format!("eeg{}: span ", i + 1)) && d.contains("(2.00x apart"),
            "{}",
            r.text
        );
    }
}

/// tp9 notifications each Muse session waits for: 3 s of the 21.33-packet/s
/// stream. Six sessions at once on the memory link measured 21.33 packets/s
/// each, well within the 1 % of `DiffOptions::rate_tolerance`.
const PACKETS_BLE: usize = 64;

const CONTROL: &str = "273e0001-4c4d-454d-96be-f03bac821358";
const TP9: &str = "273e0003-4c4d-454d-96be-f03bac821358";
const AF7: &str = "273e0004-4c4d-454d-96be-f03bac821358";

fn uuid(s: &str) -> Uuid {
    Uuid::parse(s).unwrap()
}

/// Waits for notifications until `done` says the ones seen so far suffice;
/// the 20-s bound only turns a hang into a failure.
fn wait(
    stream: &mut dyn NotificationStream,
    seen: &mut Vec<Notification>,
    done: impl Fn(&[Notification]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(seen) {
        assert!(Instant::now() < deadline, "the device went quiet");
        if let Some(n) = stream.recv(Duration::from_millis(100)).unwrap() {
            seen.push(n);
        }
    }
}

/// Plays a session on the Muse 2 emulator with `profile` (YAML text) on the
/// in-memory link through a recording connector: subscribe to control, tp9
/// and af7; `v1` and its whole reply; `d`; `PACKETS_BLE` tp9 notifications;
/// `h` and its reply.
fn record_muse(tag: &str, profile: &str) -> Recording {
    let dir = std::env::temp_dir().join(format!("boardloop-blediff-{}-{tag}", std::process::id()));
    let sc = scenario(&dir, "muse_2", profile);
    let periph = peripheral(&sc).unwrap();
    let emu = BleEmulator::spawn(
        &sc,
        Arc::new(MemoryAdapter(periph.clone())),
        BleOptions::default(),
    )
    .unwrap();
    let mem = MemoryBle::new();
    mem.add(&periph);
    let out = dir.join("session.rec");
    let header = [("profile".to_string(), "muse_2".to_string())];
    let (mut conn, recorder) =
        RecordingConnector::new(Box::new(mem), &out, &header, sc.profile.ble.as_ref());
    let filter = DeviceFilter::NamePrefix(vec!["Muse".into()]);
    let (_, mut link) = conn
        .find_and_connect(&filter, Duration::from_secs(5))
        .unwrap();
    for u in [CONTROL, TP9, AF7] {
        link.subscribe(uuid(u)).unwrap();
    }
    let mut stream = link.notifications().unwrap();
    let control = uuid(CONTROL);
    // A reply's last piece ends in `}` (its length byte says where).
    let replies_done = |k: usize| {
        move |seen: &[Notification]| {
            seen.iter()
                .filter(|n| n.uuid == control)
                .filter(|n| n.value.get(n.value[0] as usize) == Some(&b'}'))
                .count()
                >= k
        }
    };
    let mut seen = Vec::new();
    link.write(control, b"\x03v1\n", false).unwrap();
    wait(stream.as_mut(), &mut seen, replies_done(1));
    link.write(control, b"\x02d\n", false).unwrap();
    let tp9 = uuid(TP9);
    wait(stream.as_mut(), &mut seen, |s| {
        s.iter().filter(|n| n.uuid == tp9).count() >= PACKETS_BLE
    });
    link.write(control, b"\x02h\n", false).unwrap();
    wait(stream.as_mut(), &mut seen, replies_done(3));
    link.disconnect().unwrap();
    drop(link);
    drop(emu);
    let stats = recorder.stats();
    assert_eq!(stats.error, None);
    let rec = Recording::load(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    rec
}

#[test]
fn seeded_ble_profile_mistakes_are_each_found_where_they_are_and_nowhere_else() {
    let tp9_rate = "- name: tp9\n    characteristic: tp9\n    rate: \"256 / 12\"";
    let tp9_counter = "characteristic: tp9\n    rate: \"256 / 12\"\n    sample_rate: \"256\"\n    first_sample: \"packet * 12\"\n    counter: { start: 0,";
    let ppg3 = "{ name: ppg3, uuid: 273e0011-4c4d-454d-96be-f03bac821358, properties: [notify]";
    let sessions = [
        ("good", shipped_profile("muse_2")),
        ("again", shipped_profile("muse_2")),
        (
            "reply",
            mutated("muse_2", "\"fw\":\"1.0.17\"", "\"fw\":\"1.0.18\""),
        ),
        (
            "rate",
            mutated(
                "muse_2",
                tp9_rate,
                &tp9_rate.replace("256 / 12", "256 / 11"),
            ),
        ),
        (
            "counter",
            mutated(
                "muse_2",
                tp9_counter,
                &tp9_counter.replace("start: 0,", "start: 1,"),
            ),
        ),
        (
            "gatt",
            mutated("muse_2", ppg3, &ppg3.replace("[notify]", "[read, notify]")),
        ),
    ];
    let recs = record_all(&sessions, record_muse);
    let rec = |tag: &str| &recs.iter().find(|(t, _)| *t == tag).unwrap().1;
    let good = rec("good");

    let same = compare("muse_2", rec("again"), good);
    assert!(same.agrees(), "{}", same.text);
    assert!(same.text.contains("tp9 1: "), "{}", same.text);
    assert!(same.text.contains("af7 1: "), "{}", same.text);

    // The `v1` reply's piece that holds the firmware version.
    let r = compare("muse_2", good, rec("reply"));
    assert_eq!(r.disagreements.len(), 1, "{}", r.text);
    assert!(
        r.disagreements[0].starts_with("reply write 1 \"\\x03v1\\n\""),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("1.0.17") && r.text.contains("1.0.18"),
        "{}",
        r.text
    );

    // 256/12 against 256/11 packets/s: 8.3 % apart from B's.
    let r = compare("muse_2", good, rec("rate"));
    let notify = |op| matches!(op, Op::Notify(_));
    assert_rate_found(&r, [good, rec("rate")], notify, "tp9 1", 7.0..9.5);

    let r = compare("muse_2", good, rec("counter"));
    assert_eq!(r.disagreements.len(), 1, "{}", r.text);
    assert!(
        r.disagreements[0].starts_with("tp9 1 packet 0 (stream byte 0; A line "),
        "{}",
        r.text
    );
    assert!(
        r.disagreements[0].ends_with("first counter 0 in A, 1 in B"),
        "{}",
        r.text
    );

    let r = compare("muse_2", good, rec("gatt"));
    assert_eq!(r.disagreements.len(), 1, "{}", r.text);
    assert_eq!(
        r.disagreements[0],
        "characteristic 273e0011-4c4d-454d-96be-f03bac821358 (ppg3): properties `notify` in A, `read,notify` in B",
        "{}",
        r.text
    );
}

//! BLE record and replay, proven end to end on the in-memory link: the
//! realistic Ganglion emulator (noise, hum, offsets, clock drift) plays the
//! device; our driver reads it through a `RecordingConnector`; the recording
//! is then replayed on an in-memory peripheral with the profile's GATT
//! table, at the recorded speed and ten times faster, and the driver reads
//! the same values from it, row by row, with no deviation; in the lab VM the
//! same runs through BlueZ (an ignored test elsewhere). Hand-written
//! recordings check that a deviating write is reported with its line, that
//! reads return the recorded values, and that a recorded GATT table the
//! profile does not have is refused.

use boardloop_boards::ble::{BleConnector, DeviceFilter, Uuid};
use boardloop_boards::{BoardId, Data, InputParams, MemoryBle};
use boardloop_emulators::record_ble::RecordingPeripheral;
use boardloop_emulators::recording::{Op, Recording};
use boardloop_emulators::replay::{ReplayOptions, ReplayStats};
use boardloop_emulators::replay_ble::BleReplay;
use boardloop_emulators::{BleEmulator, BleOptions, Peripheral, Scenario};
use boardloop_harness::ble_record::RecordingConnector;
use boardloop_harness::bluez_ble::{
    adapters_from_env, board_on as bluez_board, serve, serve_replay,
};
use boardloop_harness::catalog::scenarios_dir;
use boardloop_harness::check::values_without_timestamps;
use boardloop_harness::host::{Host, RustHost};
use boardloop_harness::memory_ble::{board_on, peripheral, MemoryAdapter};
use boardloop_harness::targets::plays_scenario;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Rows each session reads: 1 s of the 200-Hz stream.
const ROWS: usize = 200;

fn scenario() -> Scenario {
    Scenario::load(
        &scenarios_dir().join("ganglion/generator_sine.yaml"),
        &scenarios_dir().join("devices"),
    )
    .expect("the scenario loads")
}

/// The scenario's steps: prepare, start, `ROWS` rows, stop, release.
fn session(host: &mut dyn Host) -> Data {
    session_of(host, ROWS)
}

/// Prepare, start, `rows` rows, stop, release.
fn session_of(host: &mut dyn Host, rows: usize) -> Data {
    host.prepare().expect("prepare");
    host.start(45_000).expect("start");
    let t0 = Instant::now();
    // Polls the host's count: the rows arrive on the device's clock.
    while host.count().expect("count") < rows {
        assert!(
            t0.elapsed().as_secs() < 20,
            "fewer rows than expected within 20 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    host.stop().expect("stop");
    let data = host.data().expect("data");
    host.release().expect("release");
    data
}

/// The first `ROWS` samples without the timestamp column (the host's clock).
fn values(d: &Data) -> Vec<Vec<f64>> {
    values_without_timestamps(BoardId::GanglionNative, d, ROWS)
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("boardloop-blerr-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn ganglion(link: MemoryBle) -> RustHost {
    RustHost(
        board_on(
            BoardId::GanglionNative,
            Box::new(link),
            &InputParams::default(),
        )
        .unwrap(),
    )
}

#[test]
fn a_recorded_session_replays_value_by_value_at_1x_and_10x() {
    let sc = scenario();
    let dir = temp("session");
    let rec = dir.join("rig.rec");
    // Record: the emulator on a memory peripheral, our driver through the
    // recording connector.
    let periph = peripheral(&sc).expect("a GATT table");
    let emu = BleEmulator::spawn(
        &sc,
        Arc::new(MemoryAdapter(periph.clone())),
        BleOptions::default(),
    )
    .unwrap();
    let link = MemoryBle::new();
    link.add(&periph);
    let header = [
        ("profile".to_string(), "ganglion".to_string()),
        ("scenario".to_string(), sc.name.clone()),
    ];
    let (conn, recorder) =
        RecordingConnector::new(Box::new(link), &rec, &header, sc.profile.ble.as_ref());
    let mut host = RustHost(
        board_on(
            BoardId::GanglionNative,
            Box::new(conn),
            &InputParams::default(),
        )
        .unwrap(),
    );
    let want = values(&session(&mut host));
    drop(host);
    drop(emu);
    let st = recorder.stats();
    assert_eq!(st.error, None);
    let recording = recorded(&want, &rec);
    let ops = |f: fn(Op) -> bool| recording.events.iter().filter(|e| f(e.op)).count();
    // The driver read the firmware, subscribed, started and stopped.
    assert_eq!(
        ops(|o| matches!(o, Op::GattRead(_))),
        1,
        "{}",
        recording.render()
    );
    assert!(ops(|o| matches!(o, Op::Subscribe(_))) >= 1);
    assert!(ops(|o| matches!(o, Op::GattWrite { .. })) >= 2);
    assert_eq!(st.events as usize, recording.events.len());
    for speed in [1.0, 10.0] {
        let periph = peripheral(&sc).unwrap();
        let replay = BleReplay::load(
            &rec,
            "ganglion",
            sc.profile.ble.as_ref().unwrap(),
            Arc::new(MemoryAdapter(periph.clone())),
            ReplayOptions { speed },
        )
        .unwrap();
        let link = MemoryBle::new();
        link.add(&periph);
        let t0 = Instant::now();
        let got = values(&session(&mut ganglion(link)));
        let took = t0.elapsed();
        assert_replayed(speed, &want, &got, replay.stop(), took);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The recording `rec` of a session that read `want`: every row read, and
/// at least a notification per two rows (the Ganglion's) in the file.
fn recorded(want: &[Vec<f64>], rec: &std::path::Path) -> Recording {
    assert_eq!(
        want.len(),
        ROWS,
        "the recorded session read {} rows",
        want.len()
    );
    let recording = Recording::load(rec).unwrap();
    assert!(recording.is_ble());
    let notified = recording
        .events
        .iter()
        .filter(|e| matches!(e.op, Op::Notify(_)))
        .count();
    assert!(notified >= ROWS / 2, "{notified} notifications recorded");
    recording
}

/// The replay at `speed` gave the host the recorded session's rows, with
/// no deviation; prints its timing.
fn assert_replayed(
    speed: f64,
    want: &[Vec<f64>],
    got: &[Vec<f64>],
    s: ReplayStats,
    took: Duration,
) {
    assert!(s.deviations.is_empty(), "at {speed}×: {:?}", s.deviations);
    assert!(s.matched_writes >= 2, "at {speed}×: {s:?}");
    if let Some(i) = (0..ROWS).find(|&i| got.get(i) != want.get(i)) {
        panic!(
            "at {speed}×, row {i} differs: recorded {:?}, replayed {:?}",
            want.get(i),
            got.get(i)
        );
    }
    eprintln!(
        "replay at {speed}×: {ROWS} rows equal in {:.3} s; {} notifications sent late p50 {} µs p99 {} µs",
        took.as_secs_f64(),
        s.sent,
        s.late_quantile(0.5).unwrap_or(0),
        s.late_quantile(0.99).unwrap_or(0)
    );
}

/// A Muse 2 session recorded on both sides at once: on the device's side by
/// a `RecordingPeripheral` between the emulator and its memory peripheral
/// (what records BrainFlow's sessions, whose host we cannot wrap), on the
/// host's by a `RecordingConnector`. The two agree, modulo what each side
/// can see: the same GATT table, the same writes in order, and the host's
/// notifications the first of the device's (the device's last ones may
/// still have been on their way when the host let go); reads and
/// subscriptions only on the host's side. Then the device's recording is
/// replayed to the same driver: the same rows, no deviation.
#[test]
fn a_session_recorded_on_the_device_side_agrees_with_the_host_side_and_replays() {
    const MUSE_ROWS: usize = 600;
    let sc = Scenario::load(
        &scenarios_dir().join("muse_2/known_signal.yaml"),
        &scenarios_dir().join("devices"),
    )
    .expect("the scenario loads");
    let ble = sc.profile.ble.as_ref().unwrap();
    let dir = temp("device-side");
    let (dev_rec, host_rec) = (dir.join("device.rec"), dir.join("host.rec"));
    let header = [("profile".to_string(), "muse_2".to_string())];
    let periph = peripheral(&sc).expect("a GATT table");
    let recorder = Arc::new(
        RecordingPeripheral::create(
            Arc::new(MemoryAdapter(periph.clone())),
            ble,
            &dev_rec,
            &header,
        )
        .unwrap(),
    );
    let emu = BleEmulator::spawn(&sc, recorder.clone(), BleOptions::default()).unwrap();
    let link = MemoryBle::new();
    link.add(&periph);
    let (conn, host_side) = RecordingConnector::new(Box::new(link), &host_rec, &header, Some(ble));
    let muse = |c: Box<dyn BleConnector>| {
        RustHost(board_on(BoardId::Muse2, c, &InputParams::default()).unwrap())
    };
    let read = |host: &mut RustHost| {
        let d = session_of(host, MUSE_ROWS);
        values_without_timestamps(BoardId::Muse2, &d, MUSE_ROWS)
    };
    let want = read(&mut muse(Box::new(conn)));
    drop(emu);
    assert_eq!(want.len(), MUSE_ROWS);
    assert_eq!((recorder.error(), host_side.stats().error), (None, None));
    let (dev, host) = (
        Recording::load(&dev_rec).unwrap(),
        Recording::load(&host_rec).unwrap(),
    );
    assert_eq!(dev.get("side"), Some("device"));
    assert_eq!(recorder.events() as usize, dev.events.len());
    assert_eq!(dev.gatt().unwrap(), host.gatt().unwrap());
    // (characteristic name, bytes) of the events `f` keeps, in order.
    let named = |r: &Recording, f: fn(Op) -> bool| -> Vec<(String, Vec<u8>)> {
        let table = r.gatt().unwrap();
        r.events
            .iter()
            .filter(|e| f(e.op))
            .map(|e| {
                let c = e.op.characteristic().unwrap() as usize;
                (table[c].name.clone(), e.bytes.clone())
            })
            .collect()
    };
    let writes = |o: Op| o.is_host_write();
    let notes = |o: Op| matches!(o, Op::Notify(_));
    let host_writes = named(&host, writes);
    assert!(host_writes.len() >= 3, "{}", host.render());
    assert_eq!(named(&dev, writes), host_writes);
    let (dev_notes, host_notes) = (named(&dev, notes), named(&host, notes));
    // 12 rows a notification on each of the four EEG characteristics.
    assert!(
        host_notes.len() >= 4 * MUSE_ROWS / 12,
        "{}",
        host_notes.len()
    );
    assert!(dev_notes.len() >= host_notes.len());
    if let Some(i) = (0..host_notes.len()).find(|&i| dev_notes[i] != host_notes[i]) {
        panic!(
            "notification {i} differs: device side {:?}, host side {:?}",
            dev_notes[i], host_notes[i]
        );
    }
    // What only the host's side sees.
    let seen_by = |r: &Recording| {
        r.events
            .iter()
            .filter(|e| matches!(e.op, Op::Subscribe(_) | Op::GattRead(_)))
            .count()
    };
    assert_eq!(seen_by(&dev), 0);
    assert!(seen_by(&host) >= 4, "{}", host.render());
    // The device's recording replays to the same driver, row for row.
    let periph = peripheral(&sc).unwrap();
    let replay = BleReplay::load(
        &dev_rec,
        "muse_2",
        ble,
        Arc::new(MemoryAdapter(periph.clone())),
        ReplayOptions { speed: 10.0 },
    )
    .unwrap();
    let link = MemoryBle::new();
    link.add(&periph);
    let got = read(&mut muse(Box::new(link)));
    let s = replay.stop();
    assert!(s.deviations.is_empty(), "{:?}", s.deviations);
    assert_eq!(s.matched_writes as usize, host_writes.len(), "{s:?}");
    // The Muse's rows hold NaN where a row has no value (NaN != NaN).
    let same = |a: &Vec<f64>, b: &Vec<f64>| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
    };
    assert_eq!(got.len(), MUSE_ROWS);
    if let Some(i) = (0..MUSE_ROWS).find(|&i| !same(&got[i], &want[i])) {
        panic!(
            "row {i} differs: recorded {:?}, replayed {:?}",
            want.get(i),
            got.get(i)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same through the real BlueZ of the lab VM: the emulator served by
/// bluetoothd on one adapter, our driver through btleplug on the other,
/// its link recorded by a `RecordingConnector`; then the recording served
/// by bluetoothd (`serve_replay`, what `boardloop emulate --replay REC
/// --adapter hci1` runs) at 1× and 10×, read again by our driver.
#[test]
#[ignore = "needs BlueZ with two adapters (BOARDLOOP_BLUEZ=hci1,hci0): bash ci/ble-test.sh runs it in the lab VM"]
fn over_bluez_a_recorded_session_replays_value_by_value() {
    let (emu, board) = adapters_from_env().unwrap();
    let sc = scenario();
    let ble = sc.profile.ble.as_ref();
    let dir = temp("bluez");
    let rec = dir.join("rig.rec");
    let header = vec![
        ("profile".to_string(), "ganglion".to_string()),
        ("scenario".to_string(), sc.name.clone()),
    ];
    let params = InputParams::default();
    let served = serve(&sc, &emu, &board, None).unwrap();
    let id = BoardId::GanglionNative;
    let board_rec = bluez_board(id, &board, &params, Some((rec.clone(), header)), ble).unwrap();
    let want = values(&session(&mut RustHost(board_rec)));
    drop(served);
    recorded(&want, &rec);
    for speed in [1.0, 10.0] {
        let opts = ReplayOptions { speed };
        let served = serve_replay(&rec, &sc.profile, &emu, Some(&board), opts).unwrap();
        let host = bluez_board(id, &board, &params, None, ble).unwrap();
        let t0 = Instant::now();
        let got = values(&session(&mut RustHost(host)));
        let took = t0.elapsed();
        let stats = served.replay.stop();
        drop(served.guard);
        assert_replayed(speed, &want, &got, stats, took);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ganglion's table as a recorder names it from the profile.
const REC: &str = "# boardloop recording 1
@transport ble
@profile ganglion
@gatt data fe84 2d30c082-f39f-4ce6-923f-3484ea480596 notify
@gatt command fe84 2d30c083-f39f-4ce6-923f-3484ea480596 write,write_without_response
@gatt disconnect fe84 2d30c084-f39f-4ce6-923f-3484ea480596 write,write_without_response
@gatt software_revision 180a 2a28 read
r 1.000 software_revision \"3.0.0\"
s 1.000 data
wn 1.000 command \"b\"
n 5.000 data 01 02 03
n 5.000 data 04 05 06
wn 1.000 command \"s\"
";

const DATA: Uuid = Uuid(0x2d30c082_f39f_4ce6_923f_3484ea480596);
const COMMAND: Uuid = Uuid(0x2d30c083_f39f_4ce6_923f_3484ea480596);

/// Plays `text` as fast as possible; returns the replay and a raw link to it.
fn replay(text: &str) -> (BleReplay, Box<dyn boardloop_boards::ble::BleLink>) {
    let sc = scenario();
    let periph = peripheral(&sc).unwrap();
    let adapter: Arc<dyn Peripheral> = Arc::new(MemoryAdapter(periph.clone()));
    let r = BleReplay::spawn(
        Recording::parse(text).unwrap(),
        "ganglion",
        sc.profile.ble.as_ref().unwrap(),
        adapter,
        ReplayOptions {
            speed: f64::INFINITY,
        },
    )
    .unwrap();
    let mut ble = MemoryBle::new();
    ble.add(&periph);
    let filter = DeviceFilter::NamePrefix(vec!["Ganglion".into()]);
    let (_, link) = ble
        .find_and_connect(&filter, Duration::from_secs(1))
        .unwrap();
    (r, link)
}

#[test]
fn a_wrong_write_is_reported_with_its_line_and_reads_are_the_recorded_values() {
    let (r, mut link) = replay(REC);
    assert_eq!(link.read(Uuid::from_u16(0x2a28)).unwrap(), b"3.0.0");
    let mut stream = link.notifications().unwrap();
    link.subscribe(DATA).unwrap();
    link.write(COMMAND, b"x", false).unwrap();
    link.write(COMMAND, b"b", false).unwrap();
    // Waits on the notifications themselves.
    let n1 = stream.recv(Duration::from_secs(5)).unwrap().unwrap();
    let n2 = stream.recv(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!((n1.value, n2.value), (vec![1, 2, 3], vec![4, 5, 6]));
    link.write(COMMAND, b"s", true).unwrap();
    let s = r.stop();
    assert_eq!(
        s.deviations,
        [
            "the host wrote \"x\" to `command` where the recording has \"b\" to `command` \
          (line 10); no later recorded write matches, ignored"
        ]
    );
    assert_eq!((s.matched_writes, s.sent, s.skipped), (2, 2, 0), "{s:?}");
    assert!(s.at_end);
}

#[test]
fn a_host_that_skips_a_write_resumes_at_the_next_matching_line() {
    let (r, mut link) = replay(REC);
    // The stream is never started: the host stops at once, on another
    // characteristic first.
    link.write(Uuid(0x2d30c084_f39f_4ce6_923f_3484ea480596), b"q", true)
        .unwrap();
    link.write(COMMAND, b"s", false).unwrap();
    let s = r.stop();
    assert_eq!(
        s.deviations,
        [
            "the host wrote \"q\" to `disconnect` where the recording has \"b\" to `command` \
             (line 10); no later recorded write matches, ignored",
            "the host wrote \"s\" to `command` where the recording has \"b\" to `command` \
             (line 10); resuming at line 13"
        ]
    );
    assert_eq!((s.matched_writes, s.skipped), (1, 2), "{s:?}");
}

#[test]
fn a_recorded_table_the_profile_lacks_is_refused_with_the_reason() {
    let sc = scenario();
    let bad = REC.replace(
        "@gatt data fe84 2d30c082-f39f-4ce6-923f-3484ea480596 notify",
        "@gatt data fe84 2d30c082-f39f-4ce6-923f-3484ea480596 read,notify",
    );
    let periph = peripheral(&sc).unwrap();
    let err = BleReplay::spawn(
        Recording::parse(&bad).unwrap(),
        "ganglion",
        sc.profile.ble.as_ref().unwrap(),
        Arc::new(MemoryAdapter(periph)),
        ReplayOptions::default(),
    )
    .err()
    .expect("refused");
    assert_eq!(
        err.to_string(),
        "the recording's GATT table differs from profile `ganglion`'s: `data` \
         (2d30c082-f39f-4ce6-923f-3484ea480596) is recorded as `data \
         0000fe84-0000-1000-8000-00805f9b34fb 2d30c082-f39f-4ce6-923f-3484ea480596 read,notify`, \
         the profile has service 0000fe84-0000-1000-8000-00805f9b34fb and [Notify]"
    );
}

#[test]
fn only_our_emulators_recording_of_the_same_scenario_is_held_to_the_exact_checks() {
    let load = |path: &str| {
        let dir = scenarios_dir();
        Scenario::load(&dir.join(path), &dir.join("devices")).expect("the scenario loads")
    };
    let rec = scenarios_dir().join("muse_2/recordings/generator_sine.rec");
    assert!(plays_scenario(&rec, &load("muse_2/generator_sine.yaml")));
    // Another scenario of the same device.
    assert!(!plays_scenario(&rec, &load("muse_2/known_signal.yaml")));
    // The same recording, said to come from a physical device.
    let text = std::fs::read_to_string(&rec).unwrap();
    let dir = temp("plays");
    let device = dir.join("generator_sine.rec");
    let from = "@source boardloop's emulator playing scenarios/muse_2/generator_sine.yaml";
    assert!(text.contains(from), "{}", &text[..300]);
    std::fs::write(&device, text.replace(from, "@source 00:55:DA:B0:06:D6")).unwrap();
    assert!(!plays_scenario(
        &device,
        &load("muse_2/generator_sine.yaml")
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

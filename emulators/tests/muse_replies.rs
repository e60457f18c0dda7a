//! The Muse's control replies, byte for byte as public captures of real
//! devices show them: muse-js's `src/muse.spec.ts` (`deviceInfo`: the nine
//! 20-byte notifications of a `v1` reply, stale tails included) and
//! `src/lib/muse-parse.spec.ts` (`parseControl`: the pieces of an `s` reply).

use boardloop_emulators::profile::full_uuid;
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{BleEmulator, BleOptions, Peripheral, Profile, Scenario};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

const CONTROL: &str = "273e0001-4c4d-454d-96be-f03bac821358";

/// A central subscribed to everything: writes queued by the test, every
/// notification recorded with its characteristic.
#[derive(Default)]
struct Recorder {
    writes: Mutex<VecDeque<(String, Vec<u8>)>>,
    written: Mutex<u64>,
    notified: Mutex<Vec<(String, Vec<u8>)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Recorder {
    fn write(&self, bytes: &[u8]) {
        lock(&self.writes).push_back((CONTROL.into(), bytes.to_vec()));
        *lock(&self.written) += 1;
    }

    /// The notifications on `control`, taken.
    fn control(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *lock(&self.notified))
            .into_iter()
            .filter(|(u, _)| u == CONTROL)
            .map(|(_, b)| b)
            .collect()
    }
}

impl Peripheral for Recorder {
    fn set_value(&self, _uuid: &str, _value: &[u8]) {}
    fn notify(&self, uuid: &str, value: &[u8]) -> bool {
        lock(&self.notified).push((full_uuid(uuid), value.to_vec()));
        true
    }
    fn recv_write(&self, timeout: Duration) -> Option<(String, Vec<u8>)> {
        let w = lock(&self.writes).pop_front();
        if w.is_none() {
            // Nothing queued: the emulator's idle wait, kept short.
            std::thread::sleep(timeout.min(Duration::from_millis(1)));
        }
        w
    }
    fn drop_link(&self) {}
    fn writes_received(&self) -> Option<u64> {
        Some(*lock(&self.written))
    }
}

fn scenario(device: &str, state: &str) -> Scenario {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&devices.join(format!("{device}.yaml"))).unwrap());
    let text = format!("device: {device}\nstate: {{{state}}}\nsteps: []\n");
    let path = Path::new("/virtual/muse/replies.yaml");
    let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, &text).unwrap();
    Scenario::with_profile(path, &text, decl, profile).unwrap()
}

/// Sends `command` as a control frame and returns the notifications it got.
fn ask(emu: &BleEmulator, rec: &Recorder, command: &str) -> Vec<Vec<u8>> {
    let mut frame = vec![command.len() as u8 + 1];
    frame.extend(command.bytes());
    frame.push(b'\n');
    rec.write(&frame);
    emu.settle();
    rec.control()
}

/// The payloads of `notifications` (after the length byte), as text.
fn pieces(notifications: &[Vec<u8>]) -> Vec<String> {
    notifications
        .iter()
        .map(|n| {
            assert_eq!(n.len(), 20, "{n:?}");
            String::from_utf8_lossy(&n[1..1 + n[0] as usize]).into_owned()
        })
        .collect()
}

#[test]
fn muse_2016_answers_s_and_v1_as_muse_js_captured_them() {
    let rec = Arc::new(Recorder::default());
    let sc = scenario("muse_2016", "serial: 1324, battery: 82");
    let emu = BleEmulator::spawn(&sc, rec.clone(), BleOptions::default()).unwrap();

    // The capture's `s` reply says "ps":32: preset p20.
    assert_eq!(pieces(&ask(&emu, &rec, "p20")), [r#"{"rc":0}"#]);
    // muse-parse.spec.ts, `parseControl`, the `s` reply's pieces.
    let s = ask(&emu, &rec, "s");
    assert_eq!(
        pieces(&s),
        [
            r#"{"hn":"Muse-1324","#,
            r#""sn":"2031-TZRW-132"#,
            r#"4","#,
            r#""ma":"00-55-da-b0-1"#,
            r#"3-24","#,
            r#""id":"07473435 3231"#,
            r#"3630 004f003a","#,
            r#""bp":82,"#,
            r#""ts":0,"#,
            r#""ps":32,"#,
            r#""rc":0}"#,
        ]
    );
    // muse.spec.ts, `deviceInfo`: the device's notifications exactly, tails
    // included. Their first tail ("231") is what the `s` reply's "id" piece
    // left in bytes 17..19: this capture followed such an `s`.
    let want: [[u8; 20]; 9] = [
        [
            16, 123, 34, 97, 112, 34, 58, 34, 104, 101, 97, 100, 115, 101, 116, 34, 44, 50, 51, 49,
        ],
        [
            12, 34, 115, 112, 34, 58, 34, 82, 101, 118, 69, 34, 44, 101, 116, 34, 44, 50, 51, 49,
        ],
        [
            16, 34, 116, 112, 34, 58, 34, 99, 111, 110, 115, 117, 109, 101, 114, 34, 44, 50, 51, 49,
        ],
        [
            11, 34, 104, 119, 34, 58, 34, 51, 46, 49, 34, 44, 109, 101, 114, 34, 44, 50, 51, 49,
        ],
        [
            8, 34, 98, 110, 34, 58, 50, 55, 44, 49, 34, 44, 109, 101, 114, 34, 44, 50, 51, 49,
        ],
        [
            14, 34, 102, 119, 34, 58, 34, 49, 46, 50, 46, 49, 51, 34, 44, 34, 44, 50, 51, 49,
        ],
        [
            13, 34, 98, 108, 34, 58, 34, 49, 46, 50, 46, 51, 34, 44, 44, 34, 44, 50, 51, 49,
        ],
        [
            7, 34, 112, 118, 34, 58, 49, 44, 46, 50, 46, 51, 34, 44, 44, 34, 44, 50, 51, 49,
        ],
        [
            7, 34, 114, 99, 34, 58, 48, 125, 46, 50, 46, 51, 34, 44, 44, 34, 44, 50, 51, 49,
        ],
    ];
    assert_eq!(ask(&emu, &rec, "v1"), want.map(|n| n.to_vec()));
    // Start and stop are acknowledged, on top of the buffer `v1` left.
    let d = ask(&emu, &rec, "d");
    assert_eq!(d.len(), 1);
    assert_eq!(&d[0][..9], b"\x08{\"rc\":0}");
    assert_eq!(&d[0][9..], &want[8][9..]);
    emu.stop();
}

#[test]
fn each_model_answers_v1_with_its_own_versions() {
    for (device, board) in [
        ("muse_2016", r#""sp":"RevE","#),
        ("muse_2", r#""sp":"Blackcomb_revB","#),
        ("muse_s", r#""sp":"Letto_revX","#),
    ] {
        let rec = Arc::new(Recorder::default());
        let sc = scenario(device, "serial: 4242");
        let emu = BleEmulator::spawn(&sc, rec.clone(), BleOptions::default()).unwrap();
        let v1 = pieces(&ask(&emu, &rec, "v1")).concat();
        assert!(v1.starts_with(r#"{"ap":"headset","#), "{device}: {v1}");
        assert!(v1.contains(board), "{device}: {v1}");
        assert!(v1.ends_with(r#""rc":0}"#), "{device}: {v1}");
        let s = pieces(&ask(&emu, &rec, "s")).concat();
        assert!(s.starts_with(r#"{"hn":"Muse-4242","#), "{device}: {s}");
        // Power-on preset p21: "ps" is 0x21.
        assert!(s.contains(r#""ps":33,"#), "{device}: {s}");
        emu.stop();
    }
}

/// The GATT tables list the real device's characteristics in its handle
/// order, each with its value handle (muse-lsl's constants).
#[test]
fn gatt_tables_follow_the_real_devices_handles() {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let muse_2 = [
        ("0001", 0x0e),
        ("0008", 0x11),
        ("0009", 0x14),
        ("000a", 0x17),
        ("000b", 0x1a),
        ("0002", 0x1d),
        ("0003", 0x20),
        ("0004", 0x23),
        ("0005", 0x26),
        ("0006", 0x29),
        ("0007", 0x2c),
        ("000c", 0x2f),
        ("000d", 0x32),
        ("000e", 0x35),
        ("000f", 0x38),
        ("0010", 0x3b),
        ("0011", 0x3e),
    ];
    let muse_s: Vec<_> = muse_2.iter().copied().chain([("0012", 0x41)]).collect();
    for (device, want) in [
        ("muse_2016", &muse_2[..11]),
        ("muse_2", &muse_2[..]),
        ("muse_s", &muse_s[..]),
    ] {
        let p = Profile::load(&devices.join(format!("{device}.yaml"))).unwrap();
        let service = &p.ble.as_ref().unwrap().services[0];
        assert_eq!(service.handle, Some(0x0c), "{device}");
        let got: Vec<(String, Option<u16>)> = service
            .characteristics
            .iter()
            .map(|c| (c.uuid.clone(), c.handle))
            .collect();
        let want: Vec<(String, Option<u16>)> = want
            .iter()
            .map(|(u, h)| (format!("273e{u}-4c4d-454d-96be-f03bac821358"), Some(*h)))
            .collect();
        assert_eq!(got, want, "{device}");
    }
}

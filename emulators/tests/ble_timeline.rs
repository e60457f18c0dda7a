//! The BLE emulator's timeline when its thread is held back: a host's stop
//! written meanwhile is handled before the notifications that fell due, so no
//! catch-up burst of the old stream reaches the central that connects next.
//! The hold is placed deterministically by a scripted peripheral that stops the
//! emulator's thread inside `recv_write`, right after it found no write.

use boardloop_emulators::profile::full_uuid;
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{BleEmulator, BleOptions, Peripheral, Profile, Scenario};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A Ganglion at 8 times real time (800 notifications/s).
fn ganglion() -> Scenario {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&devices.join("ganglion.yaml")).unwrap());
    let text = "device: ganglion\nsteps: []\npacing: { speed: 8 }\n";
    let path = Path::new("/virtual/ganglion/timeline.yaml");
    let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, text).unwrap();
    Scenario::with_profile(path, text, decl, profile).unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hold {
    Off,
    Armed,
    Held,
}

#[derive(Default)]
struct State {
    writes: VecDeque<(String, Vec<u8>)>,
    /// The central now subscribed (0: none); notifications are kept with it.
    central: u32,
    notified: Vec<u32>,
    hold: Option<Hold>,
}

/// A peripheral the test scripts: writes are queued by the test, notifications
/// recorded with the central that was subscribed when they were sent.
#[derive(Default)]
struct Scripted {
    state: Mutex<State>,
    changed: Condvar,
}

impl Scripted {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self, uuid: &str, bytes: &[u8]) {
        self.lock().writes.push_back((uuid.into(), bytes.to_vec()));
        self.changed.notify_all();
    }

    /// The next `recv_write` that finds no write stops the emulator's thread
    /// until [`Scripted::release`].
    fn arm(&self) {
        self.lock().hold = Some(Hold::Armed);
    }

    fn wait_held(&self) {
        let g = self.lock();
        let (g, _) = self
            .changed
            .wait_timeout_while(g, Duration::from_secs(10), |s| s.hold != Some(Hold::Held))
            .unwrap();
        assert!(g.hold == Some(Hold::Held), "never held");
    }

    fn release(&self) {
        self.lock().hold = Some(Hold::Off);
        self.changed.notify_all();
    }
}

impl Peripheral for Scripted {
    fn set_value(&self, _uuid: &str, _value: &[u8]) {}

    fn notify(&self, _uuid: &str, _value: &[u8]) -> bool {
        let mut g = self.lock();
        let central = g.central;
        if central == 0 {
            return false;
        }
        g.notified.push(central);
        true
    }

    fn recv_write(&self, timeout: Duration) -> Option<(String, Vec<u8>)> {
        let deadline = Instant::now() + timeout;
        let mut g = self.lock();
        loop {
            if let Some(w) = g.writes.pop_front() {
                return Some(w);
            }
            if g.hold == Some(Hold::Armed) {
                // Found nothing, then held back, as a descheduled thread is.
                g.hold = Some(Hold::Held);
                self.changed.notify_all();
                while g.hold == Some(Hold::Held) {
                    g = self.changed.wait(g).unwrap();
                }
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            g = self.changed.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    fn drop_link(&self) {}
}

#[test]
fn a_stop_written_while_held_comes_before_the_overdue_notifications() {
    let sc = ganglion();
    let command = full_uuid("2d30c083-f39f-4ce6-923f-3484ea480596");
    let p = Arc::new(Scripted::default());
    let emu = BleEmulator::spawn(&sc, p.clone(), BleOptions::default()).unwrap();
    // The first central subscribes and starts the stream; the emulator's
    // thread is held as soon as it has handled that (the stream is due at once).
    p.lock().central = 1;
    p.arm();
    p.write(&command, b"b");
    p.wait_held();
    // Meanwhile the host stops and leaves, and the next central subscribes.
    p.write(&command, b"s");
    p.lock().central = 2;
    // Held at least 20 ms: notifications fall due (16 at 800/s).
    std::thread::sleep(Duration::from_millis(20));
    p.release();
    emu.settle();
    let to_next: usize = p.lock().notified.iter().filter(|c| **c == 2).count();
    assert_eq!(to_next, 0, "the next central got the old stream's catch-up");
    let s = emu.stop();
    assert_eq!(s.streams, 1, "{s:?}");
}

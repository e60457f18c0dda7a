//! Through a real BlueZ, the emulated device makes no D-Bus call to
//! bluetoothd while a central is connected (`bluez/src/links.rs` says why:
//! a reply bluetoothd sends while the central resolves services reorders its
//! signals, and BrainFlow's Ganglion driver then prepares without its
//! characteristics). Before any central connects, its advertising refresher
//! does call bluetoothd, which shows the monitor sees such calls.
//!
//! Needs bluetoothd with two adapters that hear each other, named by
//! `BOARDLOOP_BLUEZ=EMULATOR,BOARD` (e.g. `hci1,hci0`), and the right to
//! monitor the system bus (root), i.e. the lab VM: `bash ci/ble-test.sh` runs
//! it there with `--ignored`.

mod lab;

use boardloop_bluez::{cut_links, forget_each_other, BluerPeripheral};
use dbus::blocking::Connection;
use dbus::message::MessageType;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longer than two periods of the advertising refresher (1 s): the code
/// before `links.rs` polled bluetoothd once a period.
const WATCH: Duration = Duration::from_millis(2500);

/// One method call to bluetoothd: when, on which object, which member.
#[derive(Debug, Clone)]
struct Call {
    at: Instant,
    path: String,
    member: String,
}

/// Every method call to `org.bluez` on the system bus, as a D-Bus monitor
/// (`BecomeMonitor`) sees it, until `stop`.
fn monitor(calls: Arc<Mutex<Vec<Call>>>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let conn = Connection::new_system().expect("system bus");
    let proxy = conn.with_proxy(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        Duration::from_secs(5),
    );
    let rules = vec!["type='method_call',destination='org.bluez'"];
    let () = proxy
        .method_call(
            "org.freedesktop.DBus.Monitoring",
            "BecomeMonitor",
            (rules, 0u32),
        )
        .expect("BecomeMonitor (needs root)");
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            let Ok(Some(m)) = conn
                .channel()
                .blocking_pop_message(Duration::from_millis(50))
            else {
                continue;
            };
            if m.msg_type() != MessageType::MethodCall {
                continue;
            }
            let call = Call {
                at: Instant::now(),
                path: m.path().map(|p| p.to_string()).unwrap_or_default(),
                member: m.member().map(|p| p.to_string()).unwrap_or_default(),
            };
            calls.lock().unwrap_or_else(|p| p.into_inner()).push(call);
        }
    })
}

#[test]
#[ignore = "needs bluetoothd with two adapters that hear each other (BOARDLOOP_BLUEZ=hci1,hci0) \
            and root to monitor the bus: `bash ci/ble-test.sh` runs it in the BlueZ VM"]
fn the_emulated_device_asks_bluetoothd_nothing_while_connected() {
    let (emu, board) = lab::adapters();
    let decl = lab::ganglion();
    forget_each_other(&emu, &board).expect("adapters forget each other");

    let calls = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = monitor(calls.clone(), stop.clone());
    // Only the emulator's side calls on its adapter's objects; the central
    // (btleplug) works on the other adapter's.
    let emu_root = format!("/org/bluez/{emu}");
    let on_emu = |from: Instant, to: Instant| -> Vec<Call> {
        calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|c| c.at >= from && c.at <= to)
            .filter(|c| c.path == emu_root || c.path.starts_with(&format!("{emu_root}/")))
            .cloned()
            .collect()
    };

    let p = BluerPeripheral::new(&emu, "Ganglion-quiet", &decl).expect("peripheral serves");
    p.advertise().expect("advertising starts");
    let t0 = Instant::now();
    std::thread::sleep(WATCH);
    let before = on_emu(t0, Instant::now());
    assert!(
        before.iter().any(|c| c.member == "RegisterAdvertisement"),
        "unconnected, the refresher re-registers the advertisement; the monitor saw {before:#?}"
    );

    let (c, link) = lab::connect(&board, &p);
    // `connect` returns with the services resolved, well after the link came
    // up and the emulator's link watch saw it.
    let t1 = Instant::now();
    std::thread::sleep(WATCH);
    let t2 = Instant::now();
    let during = on_emu(t1, t2);
    drop(link);
    drop(c);
    stop.store(true, Ordering::SeqCst);
    watcher.join().expect("monitor thread");
    cut_links(&emu).expect("links cut");
    drop(p);
    assert!(
        during.is_empty(),
        "while a central was connected, the emulated device called bluetoothd: {during:#?}"
    );
    println!(
        "unconnected: {} call(s) on {emu_root} in {WATCH:?}; connected: none in {WATCH:?}",
        before.len()
    );
}

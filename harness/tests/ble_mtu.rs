//! The MTU over the in-memory link: both ends offer one, the link takes the
//! smaller, and the emulator sends nothing the link cannot carry: a
//! BrainAlive's 220-byte notifications over a link left at ATT's minimum
//! (23) are refused with a clear error, and none reaches the board cut.

use boardloop_boards::{InputParams, MemoryBle, Preset};
use boardloop_emulators::{BleEmulator, BleOptions, Scenario};
use boardloop_harness::catalog::scenarios_dir;
use boardloop_harness::memory_ble::{board, peripheral, MemoryAdapter};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn brainalive() -> Scenario {
    let dir = scenarios_dir();
    Scenario::load(
        &dir.join("brainalive/known_signal.yaml"),
        &dir.join("devices"),
    )
    .unwrap()
}

/// Streams a BrainAlive over a memory link whose central offers `mtu` until
/// the emulator has built 20 notifications and the board holds `rows` rows;
/// returns the emulator and the rows the board got.
fn stream(mtu: u16, rows: usize) -> (BleEmulator, usize) {
    let scenario = brainalive();
    let p = peripheral(&scenario).unwrap();
    let emu = BleEmulator::spawn(
        &scenario,
        Arc::new(MemoryAdapter(p.clone())),
        BleOptions::default(),
    )
    .unwrap();
    let ble = MemoryBle::new().with_mtu(mtu);
    ble.add(&p);
    let id = boardloop_boards::BoardId::BrainAlive;
    let mut b = board(id, ble, &InputParams::default()).unwrap();
    b.prepare_session().unwrap();
    b.start_stream(45_000).unwrap();
    // Until both have happened: events, not a time (the deadline only
    // bounds a failure).
    let deadline = Instant::now() + Duration::from_secs(20);
    while emu.stats().packets_built < 20 || b.get_board_data_count(Preset::Default).unwrap() < rows
    {
        assert!(Instant::now() < deadline, "no stream within 20 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    b.stop_stream().unwrap();
    let rows = b.get_board_data_count(Preset::Default).unwrap();
    b.release_session().unwrap();
    (emu, rows)
}

#[test]
fn notifications_longer_than_the_link_carries_are_refused_and_said() {
    let (emu, rows) = stream(23, 0);
    let (n, first) = emu.too_long();
    assert!(n >= 20, "{n} refused");
    let first = first.unwrap();
    assert!(
        first.contains("220 bytes") && first.contains("at most 20"),
        "{first}"
    );
    assert_eq!(emu.stats().packets_sent, 0);
    assert_eq!(rows, 0, "a cut notification reached the board");
}

#[test]
fn a_link_at_the_default_mtu_carries_them() {
    let (emu, rows) = stream(boardloop_boards::ble::DEFAULT_ATT_MTU, 100);
    assert_eq!(emu.too_long(), (0, None));
    assert!(emu.stats().packets_sent >= 20);
    assert!(rows >= 100, "{rows} rows");
}

//! Where no BlueZ runs (the build machines and CI outside the lab VM), a BLE
//! board made by the registry fails `prepare_session` with BrainFlow's code
//! and a message that says what was searched for and where.

use boardloop_boards::{BoardId, ExitCode, InputParams};
use std::path::Path;

#[test]
fn prepare_without_bluez_says_why() {
    let params = InputParams {
        timeout: 1,
        ..Default::default()
    };
    let mut b = boardloop_bluez::create_board_on_adapter(BoardId::Muse2, params, None).unwrap();
    let e = b.prepare_session().unwrap_err();
    assert!(!b.is_prepared());
    if !Path::new("/run/dbus/system_bus_socket").exists() {
        // No system bus: BrainFlow's "No BLE adapters found" code.
        assert_eq!(e.code, ExitCode::UnableToOpenPort, "{e}");
        assert!(e.message.contains("D-Bus"), "{e}");
        assert!(e.message.contains("BLE adapter: the first one"), "{e}");
    } else {
        // A bus: bluetoothd may be missing (same code) or present with no
        // Muse in range (BOARD_NOT_READY, naming what was searched for).
        match e.code {
            ExitCode::UnableToOpenPort => assert!(e.message.contains("BLE adapter"), "{e}"),
            ExitCode::BoardNotReady => assert!(e.message.contains("\"Muse\""), "{e}"),
            _ => panic!("unexpected {e}"),
        }
    }
}

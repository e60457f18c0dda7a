//! BLE boards through the C ABI where no BlueZ runs (the build machines and
//! CI outside the lab VM): every registered BLE board is created from the
//! registry and fails in `prepare_session` with BrainFlow's code, in bounded
//! time, without a panic. The same boards stream from the BlueZ-served
//! emulator in the VM (`brainflow_dropin_bluez` trials, `ci/ble-test.sh`).

#![cfg(feature = "ble")]

mod common;

use std::ffi::CString;
use std::path::Path;

use common::*;

const BOARD_NOT_READY: std::ffi::c_int = 7;

#[test]
fn ble_boards_fail_prepare_with_brainflows_code_without_bluez() {
    quiet();
    // No system bus at all: the code is exactly BrainFlow's "No BLE adapters
    // found" (UNABLE_TO_OPEN_PORT). With a bus, bluetoothd may still be
    // missing (same code) or present without the device (BOARD_NOT_READY).
    let no_bus = !Path::new("/run/dbus/system_bus_socket").exists();
    for (id, name) in [
        (46, "GANGLION_NATIVE"),
        (38, "MUSE_2"),
        (39, "MUSE_S"),
        (41, "MUSE_2016"),
    ] {
        // BrainFlow's bindings send every key.
        let p = boardloop_boards::InputParams {
            timeout: 1,
            mac_address: "00:AA:01:01:00:01".into(),
            ..Default::default()
        };
        let j = CString::new(p.to_json()).unwrap();
        let code = prepare(id, &j);
        assert_ne!(
            code, UNSUPPORTED_BOARD,
            "{name}: the registry opens BLE boards"
        );
        if no_bus {
            assert_eq!(code, UNABLE_TO_OPEN_PORT, "{name}");
        } else {
            assert!(
                code == UNABLE_TO_OPEN_PORT || code == BOARD_NOT_READY,
                "{name}: code {code}"
            );
        }
        // A failed prepare leaves no session behind, as in BrainFlow.
        assert_eq!(is_prepared(id, &j), (OK, 0), "{name}");
        assert_eq!(release(id, &j), BOARD_NOT_CREATED, "{name}");
    }
}

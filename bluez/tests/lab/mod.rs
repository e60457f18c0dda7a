//! What the lab tests of `bluez/tests` share: the adapters, a profile's GATT
//! table, and a central connected to a served peripheral.

use boardloop_bluez::{BluerPeripheral, BtleplugConnector};
use boardloop_boards::ble::{BleConnector, BleLink, DeviceFilter};
use boardloop_emulators::profile::{BleDecl, Profile};
use std::path::Path;
use std::time::Duration;

/// `BOARDLOOP_BLUEZ=EMULATOR,BOARD`: the emulator's adapter and the board's.
pub fn adapters() -> (String, String) {
    let v = std::env::var("BOARDLOOP_BLUEZ")
        .expect("BOARDLOOP_BLUEZ=EMULATOR,BOARD (run by `bash ci/ble-test.sh`)");
    let (e, b) = v.split_once(',').expect("BOARDLOOP_BLUEZ=EMULATOR,BOARD");
    (e.trim().to_string(), b.trim().to_string())
}

/// The Ganglion profile's GATT table.
#[allow(dead_code)] // not every lab test serves a Ganglion
pub fn ganglion() -> BleDecl {
    profile("ganglion")
}

/// The GATT table of `scenarios/devices/NAME.yaml`.
pub fn profile(name: &str) -> BleDecl {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/devices")
        .join(format!("{name}.yaml"));
    let profile = Profile::load(&path).unwrap_or_else(|e| panic!("{name} loads: {e}"));
    profile
        .ble
        .unwrap_or_else(|| panic!("{name} is a BLE device"))
}

/// A central on `board` that has found and connected to `p`.
pub fn connect(board: &str, p: &BluerPeripheral) -> (BtleplugConnector, Box<dyn BleLink>) {
    let mut c = BtleplugConnector::new(board).expect("central opens its adapter");
    let info = c
        .find(
            &DeviceFilter::Address(p.address().to_string()),
            Duration::from_secs(20),
        )
        .expect("the peripheral is found");
    let link = c.connect(&info).expect("connects");
    (c, link)
}

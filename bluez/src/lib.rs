//! Real BLE through BlueZ for boardloop.
//!
//! * [`create_board`]: every board of the registry from BrainFlow's params,
//!   BLE boards through btleplug on the machine's adapter (what
//!   `libBoardController.so` calls).
//! * [`BtleplugConnector`] (btleplug 0.13): the boards' [`BleConnector`]
//!   (`boardloop_boards::ble`) on one adapter, so `GanglionBoard` and
//!   `MuseBoard` talk to a real bluetoothd.
//! * `BluerPeripheral` (bluer 0.17, feature `peripheral`, on by default): the emulator's [`Peripheral`]
//!   (`boardloop_emulators::Peripheral`) as an LE advertisement and a GATT
//!   application on one adapter, built from a device profile's `BleDecl`.
//!
//! On the build machines BlueZ runs only inside the lab VM (`ci/ble-vm.sh`;
//! `bluez/README.md` for the lab, its gotchas and the ones these adapters
//! work around). The examples `ble-peripheral` and `ble-central` are the lab's
//! reference programs (`ci/ble-smoke.sh`).
//!
//! Two dependencies are vendored with one fix each (`BOARDLOOP-PATCH.md` in
//! `third_party/bluer` and `third_party/bluez-async`): bluer calls GATT write
//! handlers in the order the writes arrive (see [`BluerPeripheral`]), and
//! bluez-async (inside btleplug) no longer panics when an event stream is
//! dropped.
//!
//! Measured in the lab VM (btvirt, BlueZ 5.66, software emulation, 2 cores;
//! `RUST_LOG=boardloop_bluez=info bash ci/ble-test.sh`): scan-to-found
//! 0.1-1.1 s, connect 90-430 ms, discovery 110-520 ms, MTU 517; Ganglion
//! 98-99.5 notifications/s with zero loss (its real-time rate), Muse 2
//! 117-174/s over five characteristics with zero loss.
//!
//! Link loss: the emulator cuts the link through the kernel's management
//! interface (`cut_links`), because bluetoothd's `Disconnect` and
//! `RemoveDevice` first wait out a 2-s timer; the central then sees the loss
//! 80-150 ms later.
//!
//! [`BleConnector`]: boardloop_boards::ble::BleConnector
//! [`Peripheral`]: boardloop_emulators::Peripheral

#![warn(missing_docs)]

mod boards;
mod central;
#[cfg(feature = "peripheral")]
mod links;
#[cfg(feature = "peripheral")]
mod mgmt;
#[cfg(feature = "peripheral")]
mod peripheral;
mod rt;

pub use boards::{connector, create_board, create_board_on_adapter, ADAPTER_ENV};
pub use central::{BtleplugConnector, OP_TIMEOUT, RESCAN_EVERY};
#[cfg(feature = "peripheral")]
pub use peripheral::{
    cut_links, forget_each_other, BluerPeripheral, MAX_NOTIFY_RATE,
    MAX_NOTIFY_RATE_PER_CHARACTERISTIC,
};

//! Real BLE through BlueZ for boardloop.
//!
//! * [`BtleplugConnector`] (btleplug 0.13): the boards' [`BleConnector`]
//!   (`boardloop_boards::ble`) on one adapter, so `GanglionBoard` and
//!   `MuseBoard` talk to a real bluetoothd.
//! * [`BluerPeripheral`] (bluer 0.17): the emulator's [`Peripheral`]
//!   (`boardloop_emulators::Peripheral`) as an LE advertisement and a GATT
//!   application on one adapter, built from a device profile's `BleDecl`.
//!
//! On the build machines BlueZ runs only inside the lab VM (`ci/ble-vm.sh`,
//! `/work/shared/BLE-LAB.md`, `blelab/README.md` for the gotchas these
//! adapters work around).
//!
//! [`BleConnector`]: boardloop_boards::ble::BleConnector
//! [`Peripheral`]: boardloop_emulators::Peripheral

#![warn(missing_docs)]

mod central;
mod peripheral;
mod rt;

pub use central::{BtleplugConnector, OP_TIMEOUT, RESCAN_EVERY};
pub use peripheral::{
    forget_each_other, remove_device, BluerPeripheral, MAX_NOTIFY_RATE,
    MAX_NOTIFY_RATE_PER_CHARACTERISTIC,
};

//! The in-memory BLE target: a device profile's GATT table as a
//! `MemoryPeripheral`, played by the emulator and reached by the Rust BLE boards
//! through `MemoryBle`, with no radio and no BlueZ.

use boardloop_boards::ble::{BleConnector, CharProps, Uuid};
use boardloop_boards::registry::{create_board_on, Connection};
use boardloop_boards::{Board, BoardId, InputParams, MemoryBle, MemoryPeripheral};
use boardloop_emulators::commands::render;
use boardloop_emulators::profile::{full_uuid, CharProperty};
use boardloop_emulators::{Peripheral, Scenario};
use std::time::Duration;

/// The emulator's view of a memory peripheral.
pub struct MemoryAdapter(pub MemoryPeripheral);

impl Peripheral for MemoryAdapter {
    fn set_value(&self, uuid: &str, value: &[u8]) {
        if let Some(u) = Uuid::parse(uuid) {
            self.0.set_value(u, value);
        }
    }
    fn notify(&self, uuid: &str, value: &[u8]) -> bool {
        Uuid::parse(uuid).is_some_and(|u| self.0.notify(u, value))
    }
    fn recv_write(&self, timeout: Duration) -> Option<(String, Vec<u8>)> {
        self.0
            .recv_write(timeout)
            .map(|w| (w.uuid.to_string(), w.value))
    }
    fn drop_link(&self) {
        self.0.drop_link();
    }
    fn writes_received(&self) -> Option<u64> {
        Some(self.0.writes_received())
    }
    fn max_notify_len(&self) -> Option<usize> {
        self.0.max_notify_len()
    }
}

/// A memory peripheral with the profile's advertised name and GATT table.
pub fn peripheral(scenario: &Scenario) -> Option<MemoryPeripheral> {
    let ble = scenario.profile.ble.as_ref()?;
    let name = render(&ble.name, &[], &scenario.initial_state);
    let mut p = MemoryPeripheral::new(name, "00:AA:01:01:00:01");
    for s in &ble.services {
        let service = Uuid::parse(&full_uuid(&s.uuid))?;
        for c in &s.characteristics {
            let props = CharProps {
                read: c.properties.contains(&CharProperty::Read),
                write: c.properties.contains(&CharProperty::Write),
                write_without_response: c.properties.contains(&CharProperty::WriteWithoutResponse),
                notify: c.properties.contains(&CharProperty::Notify),
            };
            p = p.with_characteristic(service, Uuid::parse(&full_uuid(&c.uuid))?, props);
        }
    }
    Some(p)
}

/// The Rust BLE board for `id`, connecting through `ble`.
pub fn board(id: BoardId, ble: MemoryBle, params: &InputParams) -> Result<Box<dyn Board>, String> {
    board_on(id, Box::new(ble), params)
}

/// The Rust BLE board for `id` on any connector (memory, BlueZ), built as
/// its registry declaration says.
pub fn board_on(
    id: BoardId,
    ble: Box<dyn BleConnector>,
    params: &InputParams,
) -> Result<Box<dyn Board>, String> {
    create_board_on(id, params, Connection::Ble(ble)).map_err(|e| e.to_string())
}

//! The in-memory BLE target: a device profile's GATT table as a
//! `MemoryPeripheral`, played by the emulator and reached by the Rust BLE boards
//! through `MemoryBle`, with no radio and no BlueZ.

use boardloop_boards::ble::{BleConnector, CharProps, Uuid};
use boardloop_boards::{
    Board, BoardId, GanglionBoard, InputParams, MemoryBle, MemoryPeripheral, MuseBoard, MuseModel,
};
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
pub fn board(id: BoardId, ble: MemoryBle, params: &InputParams) -> Option<Box<dyn Board>> {
    board_on(id, Box::new(ble), params)
}

/// The Rust BLE board for `id` on any connector (memory, BlueZ).
pub fn board_on(
    id: BoardId,
    ble: Box<dyn BleConnector>,
    params: &InputParams,
) -> Option<Box<dyn Board>> {
    let model = match id {
        BoardId::GanglionNative => {
            return Some(Box::new(GanglionBoard::with_connector(ble, params)))
        }
        BoardId::Muse2 => MuseModel::Muse2,
        BoardId::MuseS => MuseModel::MuseS,
        BoardId::Muse2016 => MuseModel::Muse2016,
        _ => return None,
    };
    Some(Box::new(MuseBoard::with_connector(model, ble, params)))
}

//! Every registered board from BrainFlow's params, BLE boards included: the
//! factory `libBoardController.so` and Rust users call. Serial boards come
//! from `boardloop_boards::create_board`; BLE boards get a btleplug
//! connector on the machine's adapter.

use crate::central::BtleplugConnector;
use boardloop_boards::ble::{BleConnector, BleLink, DeviceFilter, DeviceInfo};
use boardloop_boards::error::Result;
use boardloop_boards::registry::{self, Connection, Transport};
use boardloop_boards::{Board, BoardId, InputParams};
use std::time::Duration;

/// Environment variable naming the adapter BLE boards use (`hci1`, or an
/// address). BrainFlow has no such parameter (SimpleBLE takes the first
/// adapter); without it the first adapter by name is used.
pub const ADAPTER_ENV: &str = "BOARDLOOP_BLE_ADAPTER";

/// Creates an (unprepared) session for `id`, as BrainFlow's `BoardShim`
/// constructor does. BLE boards find their device on `prepare_session` with
/// BrainFlow's params: `mac_address` (that device only), else
/// `serial_number` (the advertised name), else the board's name prefixes,
/// scanning for `timeout` seconds; the adapter is `$BOARDLOOP_BLE_ADAPTER`,
/// else the first one.
pub fn create_board(id: BoardId, params: InputParams) -> Result<Box<dyn Board>> {
    let adapter = std::env::var(ADAPTER_ENV)
        .ok()
        .filter(|a| !a.trim().is_empty());
    create_board_on_adapter(id, params, adapter)
}

/// [`create_board`] with the BLE adapter given (`None`: the first one).
pub fn create_board_on_adapter(
    id: BoardId,
    params: InputParams,
    adapter: Option<String>,
) -> Result<Box<dyn Board>> {
    let decl = registry::by_id(id)?;
    match decl.transport() {
        Some(Transport::Ble) => {
            registry::create_board_on(id, &params, Connection::Ble(connector(adapter)))
        }
        _ => boardloop_boards::create_board(id, params),
    }
}

/// A btleplug connector on `adapter` (`None`: the first one), opened at the
/// first scan, so that creating a board needs no adapter yet (BrainFlow's
/// `BoardShim` constructor does not either). For a caller that wraps it (a
/// recorder) before [`registry::create_board_on`].
pub fn connector(adapter: Option<String>) -> Box<dyn BleConnector> {
    Box::new(LazyConnector {
        adapter,
        inner: None,
    })
}

/// Opens the adapter on first use, so a missing bluetoothd shows where
/// BrainFlow shows it: as `prepare_session`'s error (UNABLE_TO_OPEN_PORT),
/// not when the board object is made.
struct LazyConnector {
    adapter: Option<String>,
    inner: Option<BtleplugConnector>,
}

impl LazyConnector {
    fn inner(&mut self) -> Result<&mut BtleplugConnector> {
        if self.inner.is_none() {
            let c = BtleplugConnector::open(self.adapter.as_deref()).map_err(|mut e| {
                e.message = format!(
                    "{} (BLE adapter: {})",
                    e.message,
                    self.adapter.as_deref().unwrap_or("the first one")
                );
                e
            })?;
            tracing::info!("using BLE adapter {}", c.adapter_name());
            self.inner = Some(c);
        }
        Ok(self.inner.as_mut().expect("set above"))
    }
}

impl BleConnector for LazyConnector {
    fn find(&mut self, filter: &DeviceFilter, timeout: Duration) -> Result<DeviceInfo> {
        self.inner()?.find(filter, timeout)
    }

    fn connect(&mut self, device: &DeviceInfo) -> Result<Box<dyn BleLink>> {
        self.inner()?.connect(device)
    }
}

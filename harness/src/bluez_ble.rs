//! The `bluez` target: the scenario's device served by bluetoothd on one
//! adapter (`BluerPeripheral`, played by `BleEmulator`), the Rust BLE board
//! connecting through btleplug on another (`BtleplugConnector`). Runs only
//! next to a real BlueZ with two adapters that hear each other, i.e. in the
//! lab VM (`bash ci/ble-test.sh`).

use boardloop_bluez::{cut_links, forget_each_other, BluerPeripheral, BtleplugConnector};
use boardloop_boards::{Board, BoardId, InputParams};
use boardloop_emulators::commands::render;
use boardloop_emulators::{BleEmulator, BleOptions, Peripheral, Scenario};
use std::sync::Arc;

/// `BOARDLOOP_BLUEZ=EMULATOR,BOARD` (e.g. `hci1,hci0`): the adapters of the
/// `bluez` target, or why it cannot run here.
pub fn adapters_from_env() -> Result<(String, String), String> {
    let v = std::env::var("BOARDLOOP_BLUEZ").map_err(|_| {
        "no BlueZ here: set BOARDLOOP_BLUEZ=hci1,hci0 (emulator adapter, board adapter) \
         next to a running bluetoothd; `bash ci/ble-test.sh` runs these in the BlueZ VM"
            .to_string()
    })?;
    match v.split_once(',') {
        Some((e, b)) if !e.trim().is_empty() && !b.trim().is_empty() && e != b => {
            Ok((e.trim().to_string(), b.trim().to_string()))
        }
        _ => Err(format!(
            "BOARDLOOP_BLUEZ={v:?}: expected two different adapters, EMULATOR,BOARD (e.g. hci1,hci0)"
        )),
    }
}

/// Everything a `bluez` trial holds until it ends. Dropping it stops a
/// pending late advertisement and makes both adapters forget each other,
/// so no connection or cached state leaks into the next trial.
pub struct Guard {
    emu_adapter: String,
    board_adapter: String,
    _advertising: crate::advertise::Pending,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Cut the link from the emulator's side first: a link the board
        // asked to close is otherwise up until bluetoothd's 2-s disconnect
        // timer runs out, and forgetting a connected device waits for it.
        if let Err(e) = cut_links(&self.emu_adapter) {
            tracing::warn!("cutting the links of {}: {e}", self.emu_adapter);
        }
        if let Err(e) = forget_each_other(&self.emu_adapter, &self.board_adapter) {
            tracing::warn!(
                "forgetting {} and {}: {e}",
                self.emu_adapter,
                self.board_adapter
            );
        }
    }
}

/// The pieces of a running `bluez` trial.
pub struct Started {
    /// The emulator playing the device.
    pub emulator: BleEmulator,
    /// The board under test, not yet prepared.
    pub board: Box<dyn Board>,
    /// Dropped after the emulator (see [`Guard`]).
    pub guard: Guard,
    /// For the trial log.
    pub log: String,
}

/// The scenario's device served by BlueZ, before any host connects.
pub struct Served {
    /// The emulator playing the device.
    pub emulator: BleEmulator,
    /// Dropped after the emulator (see [`Guard`]).
    pub guard: Guard,
    /// The adapter address the device is served from.
    pub address: String,
    /// For the trial log.
    pub log: String,
}

/// Serves `sc`'s device on `emu_adapter` for a host on `board_adapter`.
/// Honours the `advertise_after_ms` fault like the memory target
/// (advertising starts that late; the trial's end cancels it).
pub fn serve(sc: &Scenario, emu_adapter: &str, board_adapter: &str) -> Result<Served, String> {
    let ble = sc
        .profile
        .ble
        .as_ref()
        .ok_or_else(|| format!("`{}` is not a BLE device", sc.profile.decl.name))?;
    let name = render(&ble.name, &[], &sc.initial_state);
    let periph = Arc::new(
        BluerPeripheral::new(emu_adapter, &name, ble)
            .map_err(|e| format!("cannot serve the device on {emu_adapter}: {e}"))?,
    );
    let address = periph.address().to_string();
    // A device left over from an earlier trial would be "found" from BlueZ's
    // cache before it advertises, or still be connected. One bluetoothd
    // cannot forget is wedged (see `forget_each_other`): the trial says so
    // at once instead of timing out in `prepare`.
    forget_each_other(emu_adapter, board_adapter).map_err(|e| {
        format!(
            "the lab's bluetoothd kept a device from an earlier connection: {e}; \
             connections to it would wait for services that never come"
        )
    })?;
    let dynp: Arc<dyn Peripheral> = periph.clone();
    // The scenario's own pacing: BluerPeripheral caps the notification rate
    // at what bluetoothd carries over btvirt (its MAX_NOTIFY_RATE), which the
    // emulator sees as a slower reader.
    let opts = BleOptions::default();
    let emulator = BleEmulator::spawn(sc, dynp, opts)
        .map_err(|e| format!("cannot start the BLE emulator: {e}"))?;
    let p = periph.clone();
    let pending =
        crate::advertise::advertise(sc, move || p.advertise().map_err(|e| e.to_string()))?;
    drop(periph);
    let guard = Guard {
        emu_adapter: emu_adapter.to_string(),
        board_adapter: board_adapter.to_string(),
        _advertising: pending,
    };
    Ok(Served {
        emulator,
        guard,
        log: format!("bluez: {name:?} at {address} on {emu_adapter}"),
        address,
    })
}

/// Serves `sc`'s device on `emu_adapter` (see [`serve`]) and builds board
/// `id` on `board_adapter`.
pub fn start(
    sc: &Scenario,
    id: BoardId,
    emu_adapter: &str,
    board_adapter: &str,
    params: &InputParams,
) -> Result<Started, String> {
    let served = serve(sc, emu_adapter, board_adapter)?;
    let connector = BtleplugConnector::new(board_adapter).map_err(|e| e.to_string())?;
    let board = crate::memory_ble::board_on(id, Box::new(connector), params)?;
    Ok(Started {
        emulator: served.emulator,
        board,
        guard: served.guard,
        log: format!("{}, board on {board_adapter}", served.log),
    })
}

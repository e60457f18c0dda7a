//! The `bluez` target: the scenario's device served by bluetoothd on one
//! adapter (`BluerPeripheral`, played by `BleEmulator`), the Rust BLE board
//! connecting through btleplug on another (`BtleplugConnector`). Runs only
//! next to a real BlueZ with two adapters that hear each other, i.e. in the
//! lab VM (`bash ci/ble-test.sh`).

use crate::ble_record::RecordingConnector;
use boardloop_bluez::{cut_links, forget_each_other, BluerPeripheral, BtleplugConnector};
use boardloop_boards::{Board, BoardId, InputParams};
use boardloop_emulators::commands::render;
use boardloop_emulators::profile::BleDecl;
use boardloop_emulators::record_ble::RecordingPeripheral;
use boardloop_emulators::replay::ReplayOptions;
use boardloop_emulators::replay_ble::BleReplay;
use boardloop_emulators::{BleEmulator, BleOptions, Peripheral, Profile, Scenario};
use std::path::{Path, PathBuf};
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
    /// The host's adapter, when the host is on this machine.
    board_adapter: Option<String>,
    /// A late advertisement not started yet (the emulator's
    /// `advertise_after_ms`); none for a replay.
    _advertising: Option<crate::advertise::Pending>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Cut the link from the emulator's side first: a link the board
        // asked to close is otherwise up until bluetoothd's 2-s disconnect
        // timer runs out, and forgetting a connected device waits for it.
        if let Err(e) = cut_links(&self.emu_adapter) {
            tracing::warn!("cutting the links of {}: {e}", self.emu_adapter);
        }
        let Some(board) = &self.board_adapter else {
            return;
        };
        if let Err(e) = forget_each_other(&self.emu_adapter, board) {
            tracing::warn!("forgetting {} and {board}: {e}", self.emu_adapter);
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
/// (advertising starts that late; the trial's end cancels it). With
/// `record` (a path and the recording's header), the link is recorded on
/// the device's side ([`RecordingPeripheral`]): the one place that sees a
/// session of a host that talks to BlueZ itself (BrainFlow's SimpleBLE).
pub fn serve(
    sc: &Scenario,
    emu_adapter: &str,
    board_adapter: &str,
    record: Option<(PathBuf, Vec<(String, String)>)>,
) -> Result<Served, String> {
    let ble = sc
        .profile
        .ble
        .as_ref()
        .ok_or_else(|| format!("`{}` is not a BLE device", sc.profile.decl.name))?;
    let name = render(&ble.name, &[], &sc.initial_state);
    let periph = fresh_peripheral(ble, &name, emu_adapter, Some(board_adapter))?;
    let address = periph.address().to_string();
    let dynp: Arc<dyn Peripheral> = match record {
        None => periph.clone(),
        Some((path, header)) => Arc::new(
            RecordingPeripheral::create(periph.clone(), ble, &path, &header)
                .map_err(|e| format!("cannot record into {}: {e}", path.display()))?,
        ),
    };
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
        board_adapter: Some(board_adapter.to_string()),
        _advertising: Some(pending),
    };
    Ok(Served {
        emulator,
        guard,
        log: format!("bluez: {name:?} at {address} on {emu_adapter}"),
        address,
    })
}

/// GATT table `ble` served by bluetoothd on `emu_adapter` as `name`, not
/// yet advertising, with neither adapter remembering the other (when the
/// host's adapter is known: a host on another machine is not).
fn fresh_peripheral(
    ble: &BleDecl,
    name: &str,
    emu_adapter: &str,
    board_adapter: Option<&str>,
) -> Result<Arc<BluerPeripheral>, String> {
    let periph = Arc::new(
        BluerPeripheral::new(emu_adapter, name, ble)
            .map_err(|e| format!("cannot serve the device on {emu_adapter}: {e}"))?,
    );
    // A device left over from an earlier trial would be "found" from BlueZ's
    // cache before it advertises, or still be connected. One bluetoothd
    // cannot forget is wedged (see `forget_each_other`): the trial says so
    // at once instead of timing out in `prepare`.
    if let Some(board_adapter) = board_adapter {
        forget_each_other(emu_adapter, board_adapter).map_err(|e| {
            format!(
                "the lab's bluetoothd kept a device from an earlier connection: {e}; \
                 connections to it would wait for services that never come"
            )
        })?;
    }
    Ok(periph)
}

/// A recording played as the device through BlueZ (see [`serve_replay`]).
pub struct ServedReplay {
    /// The replay.
    pub replay: BleReplay,
    /// Dropped after the replay (see [`Guard`]).
    pub guard: Guard,
    /// The adapter address the device is served from.
    pub address: String,
    /// The advertised name.
    pub name: String,
}

/// Plays BLE recording `rec` as `profile`'s device on `emu_adapter`, for a
/// host on `board_adapter` (if on this machine): the profile's GATT table
/// (the recorded one must match it, [`BleReplay`]), advertised at once.
pub fn serve_replay(
    rec: &Path,
    profile: &Profile,
    emu_adapter: &str,
    board_adapter: Option<&str>,
    opts: ReplayOptions,
) -> Result<ServedReplay, String> {
    let ble = profile
        .ble
        .as_ref()
        .ok_or_else(|| format!("`{}` is not a BLE device", profile.decl.name))?;
    let name = render(&ble.name, &[], &profile.initial_state);
    let periph = fresh_peripheral(ble, &name, emu_adapter, board_adapter)?;
    let dynp: Arc<dyn Peripheral> = periph.clone();
    let replay = BleReplay::load(rec, &profile.decl.name, ble, dynp, opts)
        .map_err(|e| format!("cannot replay {}: {e}", rec.display()))?;
    periph.advertise().map_err(|e| e.to_string())?;
    Ok(ServedReplay {
        replay,
        guard: Guard {
            emu_adapter: emu_adapter.to_string(),
            board_adapter: board_adapter.map(str::to_string),
            _advertising: None,
        },
        address: periph.address().to_string(),
        name: periph.name().to_string(),
    })
}

/// Serves `sc`'s device on `emu_adapter` (see [`serve`]) and builds board
/// `id` on `board_adapter`, its link recorded into `record` (a path and the
/// recording's header) if given.
pub fn start(
    sc: &Scenario,
    id: BoardId,
    emu_adapter: &str,
    board_adapter: &str,
    params: &InputParams,
    record: Option<(PathBuf, Vec<(String, String)>)>,
) -> Result<Started, String> {
    let served = serve(sc, emu_adapter, board_adapter, None)?;
    let board = board_on(id, board_adapter, params, record, sc.profile.ble.as_ref())?;
    Ok(Started {
        emulator: served.emulator,
        board,
        guard: served.guard,
        log: format!("{}, board on {board_adapter}", served.log),
    })
}

/// Board `id` connecting through btleplug on `board_adapter`, its link
/// recorded into `record` (a path and the recording's header) if given, the
/// characteristics named as `ble` names them.
pub fn board_on(
    id: BoardId,
    board_adapter: &str,
    params: &InputParams,
    record: Option<(PathBuf, Vec<(String, String)>)>,
    ble: Option<&BleDecl>,
) -> Result<Box<dyn Board>, String> {
    let connector = BtleplugConnector::new(board_adapter).map_err(|e| e.to_string())?;
    let connector = RecordingConnector::wrap(Box::new(connector), record, ble);
    crate::memory_ble::board_on(id, connector, params)
}

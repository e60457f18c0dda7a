//! Lab rigs: which physical device (or external emulator) stands behind each board.

use boardloop_emulators::load::read_yaml;
use boardloop_emulators::LoadError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A rig file.
///
/// ```yaml
/// rig: bench-3
/// boards:
///   cyton: { serial_port: /dev/ttyUSB0 }
///   cyton_daisy: { serial_port: /dev/ttyUSB1, scenarios: [basic_signal] }
///   muse_2: { mac_address: "00:55:DA:B0:06:D6", adapter: hci0 }
///   ganglion: { name: Ganglion-1a2b }
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rig {
    /// The rig's name, for reports.
    #[serde(default)]
    pub rig: String,
    /// Boards present on the rig.
    #[serde(default)]
    pub boards: BTreeMap<String, RigBoard>,
}

/// One device on a rig: a serial board's port, or how to find a BLE board
/// (BrainFlow's `mac_address`, else its advertised name, on `adapter`).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RigBoard {
    /// The serial port the device is on (serial boards).
    pub serial_port: Option<String>,
    /// The BLE device's address (BLE boards; BrainFlow's `mac_address`).
    pub mac_address: Option<String>,
    /// The BLE device's advertised name (BLE boards; BrainFlow's
    /// `serial_number`), when no address is given.
    pub name: Option<String>,
    /// The host's BLE adapter (`hci0`, or an address); default: the first.
    pub adapter: Option<String>,
    /// Only these scenarios run here, whole (the device is a `boardloop
    /// emulate` process playing them). Without the list, every portable
    /// scenario (`expect.portable`) that needs no injected fault runs, held
    /// to its portable checks only (a physical device cannot drop packets on
    /// request, nor send the declared signal to the LSB).
    pub scenarios: Option<Vec<String>>,
}

impl RigBoard {
    /// Where the device is, for messages and trial logs.
    pub fn describe(&self) -> String {
        let at = match (&self.serial_port, &self.mac_address, &self.name) {
            (Some(p), _, _) => p.clone(),
            (None, Some(m), _) => format!("BLE {m}"),
            (None, None, Some(n)) => format!("BLE {n:?}"),
            (None, None, None) => "nowhere".into(),
        };
        match &self.adapter {
            Some(a) => format!("{at} on {a}"),
            None => at,
        }
    }
}

impl Rig {
    /// Loads a rig file.
    pub fn load(path: &Path) -> Result<Rig, LoadError> {
        read_yaml(path).map(|(r, _)| r)
    }

    /// Why `scenario` cannot run on `board` (a `ble` board or not) here, or
    /// the rig's entry for it and whether the rig lists the scenario. A
    /// scenario the rig does not list runs only if it is `portable` (says
    /// which of its checks hold on hardware) and injects no fault; then only
    /// those checks apply. A listed one runs whole: the rig says the device
    /// is a `boardloop emulate` process playing it.
    pub fn device_for(
        &self,
        board: &str,
        ble: bool,
        scenario: &str,
        has_faults: bool,
        portable: bool,
    ) -> Result<(&RigBoard, bool), String> {
        let Some(b) = self.boards.get(board) else {
            return Err(format!("the rig `{}` has no `{board}`", self.rig));
        };
        match (ble, &b.serial_port, &b.mac_address, &b.name) {
            (false, None, _, _) => {
                return Err(format!(
                    "the rig's `{board}` is a serial board: give its `serial_port`"
                ))
            }
            (true, _, None, None) => {
                return Err(format!(
                    "the rig's `{board}` is a BLE board: give its `mac_address` or `name`"
                ))
            }
            _ => {}
        }
        match &b.scenarios {
            Some(list) if list.iter().any(|s| s == scenario) => Ok((b, true)),
            Some(_) => Err(format!(
                "`{scenario}` is not in the rig's scenario list for `{board}`"
            )),
            None if has_faults => Err(format!(
                "`{scenario}` injects faults, which a physical device cannot; list it under \
                 `scenarios:` if this device is a `boardloop emulate` process playing it"
            )),
            None if !portable => Err(format!(
                "`{scenario}` is not portable (no `expect.portable`): its checks hold only \
                 against our emulator; list it under `scenarios:` if this device is a \
                 `boardloop emulate` process playing it"
            )),
            None => Ok((b, false)),
        }
    }

    /// nextest's view of the rig: one test group per device, of one thread,
    /// holding the `::device` trials of every board on it, as a nextest tool
    /// config (`cargo nextest run --tool-config-file boardloop:FILE`). So
    /// nextest never runs two trials on one device at once, and no test slot
    /// sits waiting on a device lock ([`crate::device_lock`], which still
    /// holds between separate runs).
    pub fn nextest_groups(&self) -> String {
        let mut devices: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (board, dev) in &self.boards {
            // Board names are the registry's (`cyton_daisy`); anything else
            // names no trial and could not sit in the filter unescaped.
            if board.is_empty() || !board.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let key = crate::device_lock::device_key(dev);
            devices.entry(key).or_default().push(board);
        }
        let rig = if self.rig.is_empty() { "" } else { " " };
        let mut toml = format!(
            "# nextest test groups for the rig{rig}{}: one device, one trial at a time.\n\
             # Made by `boardloop rig-groups`; use with\n\
             # cargo nextest run --tool-config-file boardloop:$PWD/<this file>\n",
            self.rig
        );
        for (key, boards) in devices {
            let file = crate::device_lock::lock_file_name(&key);
            let group = format!("@tool:boardloop:{}", file.trim_end_matches(".lock"));
            toml.push_str(&format!(
                "\n# {key}\n[test-groups.\"{group}\"]\nmax-threads = 1\n\n\
                 [[profile.default.overrides]]\n\
                 filter = 'binary(matrix) & test(/^({})::[^:]+::device$/)'\n\
                 test-group = \"{group}\"\n",
                boards.join("|")
            ));
        }
        toml
    }
}

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

/// One device on a rig.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RigBoard {
    /// The serial port the device is on.
    pub serial_port: String,
    /// Only these scenarios run here. Without the list, every scenario that needs
    /// no injected fault runs (a physical device cannot drop packets on request).
    pub scenarios: Option<Vec<String>>,
}

impl Rig {
    /// Loads a rig file.
    pub fn load(path: &Path) -> Result<Rig, LoadError> {
        read_yaml(path).map(|(r, _)| r)
    }

    /// Why `scenario` cannot run on `board` here, or the port it runs on.
    pub fn port_for(&self, board: &str, scenario: &str, has_faults: bool) -> Result<&str, String> {
        let Some(b) = self.boards.get(board) else {
            return Err(format!("the rig `{}` has no `{board}`", self.rig));
        };
        match &b.scenarios {
            Some(list) if !list.iter().any(|s| s == scenario) => Err(format!(
                "`{scenario}` is not in the rig's scenario list for `{board}`"
            )),
            None if has_faults => Err(format!(
                "`{scenario}` injects faults, which a physical device cannot; list it under \
                 `scenarios:` if this port is a `boardloop emulate` process playing it"
            )),
            _ => Ok(&b.serial_port),
        }
    }
}

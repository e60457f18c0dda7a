//! BrainFlow's board descriptions (row layouts), checked against
//! `BoardShim.get_board_descr` from the `brainflow` PyPI package.

use serde::{Deserialize, Serialize};

use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::registry;

/// One board/preset row layout. Fields are declared in alphabetical order so
/// `serde_json` output has the same key order as BrainFlow's (nlohmann::json
/// sorts keys); empty channel lists and absent battery channels are omitted,
/// as BrainFlow omits them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct BoardDescr {
    /// Accelerometer rows (g).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accel_channels: Vec<usize>,
    /// Analog rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub analog_channels: Vec<usize>,
    /// Battery row, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery_channel: Option<usize>,
    /// ECG rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ecg_channels: Vec<usize>,
    /// EDA rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eda_channels: Vec<usize>,
    /// EEG rows (µV).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eeg_channels: Vec<usize>,
    /// Comma-separated electrode names for the EEG rows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub eeg_names: String,
    /// EMG rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emg_channels: Vec<usize>,
    /// EOG rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eog_channels: Vec<usize>,
    /// Gyroscope rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gyro_channels: Vec<usize>,
    /// Magnetometer rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub magnetometer_channels: Vec<usize>,
    /// Marker row (always the last row).
    pub marker_channel: usize,
    /// Device name.
    pub name: String,
    /// Rows per sample.
    pub num_rows: usize,
    /// Optical (PPG sensor) rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optical_channels: Vec<usize>,
    /// Other (raw) rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_channels: Vec<usize>,
    /// Row holding the device's packet counter.
    pub package_num_channel: usize,
    /// PPG rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ppg_channels: Vec<usize>,
    /// Resistance rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resistance_channels: Vec<usize>,
    /// Rotation rows (AAVAA v3: three angles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotation_channels: Vec<usize>,
    /// Samples per second.
    pub sampling_rate: u32,
    /// Temperature rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub temperature_channels: Vec<usize>,
    /// Row holding host Unix time in seconds.
    pub timestamp_channel: usize,
}

impl BoardDescr {
    /// The description as BrainFlow-style JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Number of EEG rows.
    pub fn num_eeg(&self) -> usize {
        self.eeg_channels.len()
    }
}

/// The presets a board has, in BrainFlow's order (`get_board_presets`).
/// `UnsupportedBoard` for boards the registry does not declare.
pub fn board_presets(id: BoardId) -> Result<Vec<Preset>> {
    Ok(registry::by_id(id).map_err(|_| unsupported(id))?.presets())
}

fn unsupported(id: BoardId) -> BoardError {
    BoardError::new(
        ExitCode::UnsupportedBoard,
        format!("no description for board {} ({})", id.name(), id.id()),
    )
}

/// The row layout of `id` in `preset` (from the board's declaration in the
/// [`registry`]): `UnsupportedBoard` for boards not declared yet,
/// `InvalidArguments` for a preset the board lacks.
pub fn board_descr(id: BoardId, preset: Preset) -> Result<BoardDescr> {
    registry::by_id(id)
        .map_err(|_| unsupported(id))?
        .layout(preset)
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The layouts themselves are checked in `registry` (each is BrainFlow's
    // JSON verbatim and re-serialises to the same text).
    #[test]
    fn absent_boards_and_presets() {
        assert_eq!(
            board_descr(BoardId::BrainBit, Preset::Default)
                .unwrap_err()
                .code,
            ExitCode::UnsupportedBoard
        );
        assert_eq!(
            board_descr(BoardId::Cyton, Preset::Auxiliary)
                .unwrap_err()
                .code,
            ExitCode::InvalidArguments
        );
        assert_eq!(
            board_presets(BoardId::GanglionNative).unwrap(),
            vec![Preset::Default]
        );
        assert_eq!(board_presets(BoardId::Muse2016).unwrap().len(), 2);
        assert_eq!(board_presets(BoardId::MuseS).unwrap().len(), 3);
        let back: BoardDescr = serde_json::from_str(
            &board_descr(BoardId::Cyton, Preset::Default)
                .unwrap()
                .to_json(),
        )
        .unwrap();
        assert_eq!(back.num_rows, 24);
    }
}

//! BrainFlow's board descriptions (row layouts), checked against
//! `BoardShim.get_board_descr` from the `brainflow` PyPI package.

use serde::{Deserialize, Serialize};

use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};

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
    /// Marker row (always the last row).
    pub marker_channel: usize,
    /// Device name.
    pub name: String,
    /// Rows per sample.
    pub num_rows: usize,
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

fn range(a: usize, b: usize) -> Vec<usize> {
    (a..=b).collect()
}

fn cyton() -> BoardDescr {
    let exg = range(1, 8);
    BoardDescr {
        accel_channels: range(9, 11),
        analog_channels: range(19, 21),
        ecg_channels: exg.clone(),
        eeg_channels: exg.clone(),
        eeg_names: "Fp1,Fp2,C3,C4,P7,P8,O1,O2".into(),
        emg_channels: exg.clone(),
        eog_channels: exg,
        marker_channel: 23,
        name: "Cyton".into(),
        num_rows: 24,
        other_channels: range(12, 18),
        package_num_channel: 0,
        sampling_rate: 250,
        timestamp_channel: 22,
        ..Default::default()
    }
}

fn cyton_daisy() -> BoardDescr {
    let exg = range(1, 16);
    BoardDescr {
        accel_channels: range(17, 19),
        analog_channels: range(27, 29),
        ecg_channels: exg.clone(),
        eeg_channels: exg.clone(),
        eeg_names: "Fp1,Fp2,C3,C4,P7,P8,O1,O2,F7,F8,F3,F4,T7,T8,P3,P4".into(),
        emg_channels: exg.clone(),
        eog_channels: exg,
        marker_channel: 31,
        name: "CytonDaisy".into(),
        num_rows: 32,
        other_channels: range(20, 26),
        package_num_channel: 0,
        sampling_rate: 125,
        timestamp_channel: 30,
        ..Default::default()
    }
}

fn synthetic() -> BoardDescr {
    let exg = range(1, 16);
    BoardDescr {
        accel_channels: range(17, 19),
        battery_channel: Some(29),
        ecg_channels: exg.clone(),
        eda_channels: vec![23],
        eeg_channels: exg.clone(),
        eeg_names: "Fz,C3,Cz,C4,Pz,PO7,Oz,PO8,F5,F7,F3,F1,F2,F4,F6,F8".into(),
        emg_channels: exg.clone(),
        eog_channels: exg,
        gyro_channels: range(20, 22),
        marker_channel: 31,
        name: "Synthetic".into(),
        num_rows: 32,
        package_num_channel: 0,
        ppg_channels: vec![24, 25],
        resistance_channels: vec![27, 28],
        sampling_rate: 250,
        temperature_channels: vec![26],
        timestamp_channel: 30,
        ..Default::default()
    }
}

/// NeuroPawn Knight: BrainFlow's `brainflow_boards.cpp` entry (id 57).
fn knight() -> BoardDescr {
    BoardDescr {
        eeg_channels: range(1, 8),
        marker_channel: 12,
        name: "Knight".into(),
        num_rows: 13,
        other_channels: vec![9, 10],
        package_num_channel: 0,
        sampling_rate: 125,
        timestamp_channel: 11,
        ..Default::default()
    }
}

fn synthetic_aux() -> BoardDescr {
    BoardDescr {
        accel_channels: range(2, 4),
        battery_channel: Some(1),
        eda_channels: vec![8],
        gyro_channels: range(5, 7),
        marker_channel: 19,
        name: "SyntheticAux".into(),
        num_rows: 20,
        other_channels: range(14, 17),
        package_num_channel: 0,
        ppg_channels: vec![9, 10],
        resistance_channels: vec![12, 13],
        sampling_rate: 250,
        temperature_channels: vec![11],
        timestamp_channel: 18,
        ..Default::default()
    }
}

/// The presets a board has (BrainFlow's `get_board_presets`), for the boards
/// this crate describes.
pub fn board_presets(id: BoardId) -> Result<Vec<Preset>> {
    match id {
        BoardId::Cyton | BoardId::CytonDaisy | BoardId::NeuropawnKnight => {
            Ok(vec![Preset::Default])
        }
        BoardId::Synthetic => Ok(vec![Preset::Auxiliary, Preset::Default]),
        _ => Err(unsupported(id)),
    }
}

fn unsupported(id: BoardId) -> BoardError {
    BoardError::new(
        ExitCode::UnsupportedBoard,
        format!("no description for board {} ({})", id.name(), id.id()),
    )
}

/// The row layout of `id` in `preset`: `UnsupportedBoard` for boards this
/// crate does not describe yet, `InvalidArguments` for a preset the board
/// lacks.
pub fn board_descr(id: BoardId, preset: Preset) -> Result<BoardDescr> {
    let d = match (id, preset) {
        (BoardId::Cyton, Preset::Default) => cyton(),
        (BoardId::CytonDaisy, Preset::Default) => cyton_daisy(),
        (BoardId::NeuropawnKnight, Preset::Default) => knight(),
        (BoardId::Synthetic, Preset::Default) => synthetic(),
        (BoardId::Synthetic, Preset::Auxiliary) => synthetic_aux(),
        (
            BoardId::Cyton | BoardId::CytonDaisy | BoardId::NeuropawnKnight | BoardId::Synthetic,
            p,
        ) => {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                format!("board {} has no preset {:?}", id.name(), p),
            ))
        }
        _ => return Err(unsupported(id)),
    };
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Verbatim output of `json.dumps(BoardShim.get_board_descr(id))` from
    // brainflow on PyPI (separators tightened).
    const CYTON_JSON: &str = r#"{"accel_channels":[9,10,11],"analog_channels":[19,20,21],"ecg_channels":[1,2,3,4,5,6,7,8],"eeg_channels":[1,2,3,4,5,6,7,8],"eeg_names":"Fp1,Fp2,C3,C4,P7,P8,O1,O2","emg_channels":[1,2,3,4,5,6,7,8],"eog_channels":[1,2,3,4,5,6,7,8],"marker_channel":23,"name":"Cyton","num_rows":24,"other_channels":[12,13,14,15,16,17,18],"package_num_channel":0,"sampling_rate":250,"timestamp_channel":22}"#;
    const DAISY_JSON: &str = r#"{"accel_channels":[17,18,19],"analog_channels":[27,28,29],"ecg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eeg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eeg_names":"Fp1,Fp2,C3,C4,P7,P8,O1,O2,F7,F8,F3,F4,T7,T8,P3,P4","emg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eog_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"marker_channel":31,"name":"CytonDaisy","num_rows":32,"other_channels":[20,21,22,23,24,25,26],"package_num_channel":0,"sampling_rate":125,"timestamp_channel":30}"#;
    const KNIGHT_JSON: &str = r#"{"eeg_channels":[1,2,3,4,5,6,7,8],"marker_channel":12,"name":"Knight","num_rows":13,"other_channels":[9,10],"package_num_channel":0,"sampling_rate":125,"timestamp_channel":11}"#;
    const SYNTH_AUX_JSON: &str = r#"{"accel_channels":[2,3,4],"battery_channel":1,"eda_channels":[8],"gyro_channels":[5,6,7],"marker_channel":19,"name":"SyntheticAux","num_rows":20,"other_channels":[14,15,16,17],"package_num_channel":0,"ppg_channels":[9,10],"resistance_channels":[12,13],"sampling_rate":250,"temperature_channels":[11],"timestamp_channel":18}"#;

    #[test]
    fn json_matches_brainflow() {
        assert_eq!(
            board_descr(BoardId::Cyton, Preset::Default)
                .unwrap()
                .to_json(),
            CYTON_JSON
        );
        assert_eq!(
            board_descr(BoardId::CytonDaisy, Preset::Default)
                .unwrap()
                .to_json(),
            DAISY_JSON
        );
        assert_eq!(
            board_descr(BoardId::NeuropawnKnight, Preset::Default)
                .unwrap()
                .to_json(),
            KNIGHT_JSON
        );
        assert_eq!(
            board_descr(BoardId::Synthetic, Preset::Auxiliary)
                .unwrap()
                .to_json(),
            SYNTH_AUX_JSON
        );
        let back: BoardDescr = serde_json::from_str(CYTON_JSON).unwrap();
        assert_eq!(back, board_descr(BoardId::Cyton, Preset::Default).unwrap());
    }

    #[test]
    fn layouts_are_consistent() {
        for id in [
            BoardId::Cyton,
            BoardId::CytonDaisy,
            BoardId::NeuropawnKnight,
            BoardId::Synthetic,
        ] {
            for p in board_presets(id).unwrap() {
                let d = board_descr(id, p).unwrap();
                assert_eq!(d.marker_channel, d.num_rows - 1);
                assert!(d.timestamp_channel < d.num_rows);
            }
        }
    }

    #[test]
    fn absent_boards_and_presets() {
        assert_eq!(
            board_descr(BoardId::Muse2, Preset::Default)
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
    }
}

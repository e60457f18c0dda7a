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

fn ganglion_native() -> BoardDescr {
    let exg = range(1, 4);
    BoardDescr {
        accel_channels: range(5, 7),
        ecg_channels: exg.clone(),
        eeg_channels: exg.clone(),
        emg_channels: exg.clone(),
        eog_channels: exg,
        marker_channel: 14,
        name: "Ganglion".into(),
        num_rows: 15,
        package_num_channel: 0,
        resistance_channels: range(8, 12),
        sampling_rate: 200,
        timestamp_channel: 13,
        ..Default::default()
    }
}

/// Muse default preset: EEG (+ the AUX channel as `other` on Muse 2/S).
fn muse_eeg(name: &str, with_other: bool) -> BoardDescr {
    let n = if with_other { 8 } else { 7 };
    BoardDescr {
        eeg_channels: range(1, 4),
        eeg_names: "TP9,AF7,AF8,TP10".into(),
        marker_channel: n - 1,
        name: name.into(),
        num_rows: n,
        other_channels: if with_other { vec![5] } else { Vec::new() },
        package_num_channel: 0,
        sampling_rate: 256,
        timestamp_channel: n - 2,
        ..Default::default()
    }
}

fn muse_aux(name: &str) -> BoardDescr {
    BoardDescr {
        accel_channels: range(1, 3),
        gyro_channels: range(4, 6),
        marker_channel: 8,
        name: format!("{name}Aux"),
        num_rows: 9,
        package_num_channel: 0,
        sampling_rate: 52,
        timestamp_channel: 7,
        ..Default::default()
    }
}

fn muse_anc(name: &str) -> BoardDescr {
    BoardDescr {
        marker_channel: 5,
        name: format!("{name}Anc"),
        num_rows: 6,
        optical_channels: range(1, 3),
        package_num_channel: 0,
        ppg_channels: range(1, 3),
        sampling_rate: 64,
        timestamp_channel: 4,
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
        BoardId::Synthetic | BoardId::Muse2016 => Ok(vec![Preset::Auxiliary, Preset::Default]),
        BoardId::GanglionNative => Ok(vec![Preset::Default]),
        BoardId::Muse2 | BoardId::MuseS => {
            Ok(vec![Preset::Ancillary, Preset::Auxiliary, Preset::Default])
        }
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
        (BoardId::GanglionNative, Preset::Default) => ganglion_native(),
        (BoardId::Muse2, Preset::Default) => muse_eeg("Muse2", true),
        (BoardId::Muse2, Preset::Auxiliary) => muse_aux("Muse2"),
        (BoardId::Muse2, Preset::Ancillary) => muse_anc("Muse2"),
        (BoardId::MuseS, Preset::Default) => muse_eeg("MuseS", true),
        (BoardId::MuseS, Preset::Auxiliary) => muse_aux("MuseS"),
        (BoardId::MuseS, Preset::Ancillary) => muse_anc("MuseS"),
        (BoardId::Muse2016, Preset::Default) => muse_eeg("Muse2016", false),
        (BoardId::Muse2016, Preset::Auxiliary) => muse_aux("Muse2016"),
        (
            BoardId::Cyton
            | BoardId::CytonDaisy
            | BoardId::NeuropawnKnight
            | BoardId::Synthetic
            | BoardId::GanglionNative
            | BoardId::Muse2016,
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

    // `json.dumps(BoardShim.get_board_descr(id, preset), sort_keys=True)` from
    // pip brainflow (separators tightened); presets 1/2 of 46 and 2 of 41 are
    // UNSUPPORTED_BOARD there.
    const BLE_JSON: &[(BoardId, Preset, &str)] = &[
        (
            BoardId::GanglionNative,
            Preset::Default,
            r#"{"accel_channels":[5,6,7],"ecg_channels":[1,2,3,4],"eeg_channels":[1,2,3,4],"emg_channels":[1,2,3,4],"eog_channels":[1,2,3,4],"marker_channel":14,"name":"Ganglion","num_rows":15,"package_num_channel":0,"resistance_channels":[8,9,10,11,12],"sampling_rate":200,"timestamp_channel":13}"#,
        ),
        (
            BoardId::Muse2,
            Preset::Default,
            r#"{"eeg_channels":[1,2,3,4],"eeg_names":"TP9,AF7,AF8,TP10","marker_channel":7,"name":"Muse2","num_rows":8,"other_channels":[5],"package_num_channel":0,"sampling_rate":256,"timestamp_channel":6}"#,
        ),
        (
            BoardId::Muse2,
            Preset::Auxiliary,
            r#"{"accel_channels":[1,2,3],"gyro_channels":[4,5,6],"marker_channel":8,"name":"Muse2Aux","num_rows":9,"package_num_channel":0,"sampling_rate":52,"timestamp_channel":7}"#,
        ),
        (
            BoardId::Muse2,
            Preset::Ancillary,
            r#"{"marker_channel":5,"name":"Muse2Anc","num_rows":6,"optical_channels":[1,2,3],"package_num_channel":0,"ppg_channels":[1,2,3],"sampling_rate":64,"timestamp_channel":4}"#,
        ),
        (
            BoardId::MuseS,
            Preset::Default,
            r#"{"eeg_channels":[1,2,3,4],"eeg_names":"TP9,AF7,AF8,TP10","marker_channel":7,"name":"MuseS","num_rows":8,"other_channels":[5],"package_num_channel":0,"sampling_rate":256,"timestamp_channel":6}"#,
        ),
        (
            BoardId::MuseS,
            Preset::Auxiliary,
            r#"{"accel_channels":[1,2,3],"gyro_channels":[4,5,6],"marker_channel":8,"name":"MuseSAux","num_rows":9,"package_num_channel":0,"sampling_rate":52,"timestamp_channel":7}"#,
        ),
        (
            BoardId::MuseS,
            Preset::Ancillary,
            r#"{"marker_channel":5,"name":"MuseSAnc","num_rows":6,"optical_channels":[1,2,3],"package_num_channel":0,"ppg_channels":[1,2,3],"sampling_rate":64,"timestamp_channel":4}"#,
        ),
        (
            BoardId::Muse2016,
            Preset::Default,
            r#"{"eeg_channels":[1,2,3,4],"eeg_names":"TP9,AF7,AF8,TP10","marker_channel":6,"name":"Muse2016","num_rows":7,"package_num_channel":0,"sampling_rate":256,"timestamp_channel":5}"#,
        ),
        (
            BoardId::Muse2016,
            Preset::Auxiliary,
            r#"{"accel_channels":[1,2,3],"gyro_channels":[4,5,6],"marker_channel":8,"name":"Muse2016Aux","num_rows":9,"package_num_channel":0,"sampling_rate":52,"timestamp_channel":7}"#,
        ),
    ];

    #[test]
    fn ble_boards_match_brainflow() {
        for (id, p, json) in BLE_JSON {
            assert_eq!(board_descr(*id, *p).unwrap().to_json(), *json, "{id} {p:?}");
        }
        for (id, p) in [
            (BoardId::GanglionNative, Preset::Auxiliary),
            (BoardId::GanglionNative, Preset::Ancillary),
            (BoardId::Muse2016, Preset::Ancillary),
        ] {
            assert_eq!(
                board_descr(id, p).unwrap_err().code,
                ExitCode::InvalidArguments
            );
        }
        assert_eq!(
            board_presets(BoardId::GanglionNative).unwrap(),
            vec![Preset::Default]
        );
        assert_eq!(board_presets(BoardId::Muse2016).unwrap().len(), 2);
        assert_eq!(board_presets(BoardId::MuseS).unwrap().len(), 3);
    }

    #[test]
    fn layouts_are_consistent() {
        for id in [
            BoardId::Cyton,
            BoardId::CytonDaisy,
            BoardId::NeuropawnKnight,
            BoardId::Synthetic,
            BoardId::GanglionNative,
            BoardId::Muse2,
            BoardId::MuseS,
            BoardId::Muse2016,
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
    }
}

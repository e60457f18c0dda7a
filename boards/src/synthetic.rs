//! BrainFlow's synthetic board (id -1): described (its layouts, for
//! `get_board_descr`), with no driver yet.

use crate::ids::{BoardId, Preset};
use crate::registry::{BoardDecl, Driver, PresetLayout};

/// BrainFlow's SYNTHETIC_BOARD.
pub static SYNTHETIC: BoardDecl = BoardDecl {
    id: BoardId::Synthetic,
    name: "synthetic",
    layouts: &[
        PresetLayout {
            preset: Preset::Default,
            json: r#"{"accel_channels":[17,18,19],"battery_channel":29,"ecg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eda_channels":[23],"eeg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eeg_names":"Fz,C3,Cz,C4,Pz,PO7,Oz,PO8,F5,F7,F3,F1,F2,F4,F6,F8","emg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eog_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"gyro_channels":[20,21,22],"marker_channel":31,"name":"Synthetic","num_rows":32,"package_num_channel":0,"ppg_channels":[24,25],"resistance_channels":[27,28],"sampling_rate":250,"temperature_channels":[26],"timestamp_channel":30}"#,
        },
        PresetLayout {
            preset: Preset::Auxiliary,
            json: r#"{"accel_channels":[2,3,4],"battery_channel":1,"eda_channels":[8],"gyro_channels":[5,6,7],"marker_channel":19,"name":"SyntheticAux","num_rows":20,"other_channels":[14,15,16,17],"package_num_channel":0,"ppg_channels":[9,10],"resistance_channels":[12,13],"sampling_rate":250,"temperature_channels":[11],"timestamp_channel":18}"#,
        },
    ],
    other_rows: &[],
    brainflow_withheld_rows: [0; 3],
    driver: Driver::None,
    cpp_plugin: None,
};

//! Which board answers to which harness name, and which row of its data holds
//! each signal of a device profile.

use boardloop_boards::{board_descr, BoardDescr, BoardId, Preset};

/// How a channel is compared with its declared signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckMode {
    /// Every row: the encoded value, or 0 where the device sent none (channel off).
    Exact,
    /// Rows between device samples hold the last value (accelerometer at 25 Hz).
    Hold,
    /// Only rows where the device sent the field (analog aux in analog mode).
    WhenPresent,
}

/// One signal and the data row that carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelBinding {
    /// Signal (or named field) in the device profile: `eeg3`, `accel_x`, `end_byte`.
    pub signal: String,
    /// Row in the board's data.
    pub row: usize,
    /// Comparison rule.
    pub mode: CheckMode,
    /// Checked unless the scenario lists channels explicitly.
    pub default_checked: bool,
}

/// A board under test as the harness knows it.
#[derive(Debug, Clone)]
pub struct BoardBinding {
    /// Harness name (`cyton`), the first part of every trial name.
    pub name: &'static str,
    /// BrainFlow board id.
    pub id: BoardId,
    /// Its data layout.
    pub descr: BoardDescr,
    /// Signal-to-row map.
    pub channels: Vec<ChannelBinding>,
    /// Rows of each stream that BrainFlow's own driver keeps back: its Muse
    /// driver uses the first EEG batch (12 rows) only to set up its timestamp
    /// correction ("skip one package to setup timestamp correction",
    /// `muse.cpp`), so it returns 12 rows fewer than the device sent.
    pub brainflow_withheld_rows: usize,
}

/// Every board the harness can test.
pub fn all_boards() -> Vec<BoardBinding> {
    [
        ("cyton", BoardId::Cyton),
        ("cyton_daisy", BoardId::CytonDaisy),
        ("ganglion", BoardId::GanglionNative),
        ("muse_2", BoardId::Muse2),
        ("muse_s", BoardId::MuseS),
        ("muse_2016", BoardId::Muse2016),
        ("neuropawn_knight", BoardId::NeuropawnKnight),
    ]
    .into_iter()
    .filter_map(|(name, id)| binding(name, id))
    .collect()
}

/// The binding for a harness board name.
pub fn board(name: &str) -> Option<BoardBinding> {
    all_boards().into_iter().find(|b| b.name == name)
}

fn binding(name: &'static str, id: BoardId) -> Option<BoardBinding> {
    let descr = board_descr(id, Preset::Default).ok()?;
    let mut channels = Vec::new();
    let mut add = |signal: String, row: usize, mode, default_checked| {
        channels.push(ChannelBinding {
            signal,
            row,
            mode,
            default_checked,
        })
    };
    for (i, row) in descr.eeg_channels.iter().enumerate() {
        add(format!("eeg{}", i + 1), *row, CheckMode::Exact, true);
    }
    for (axis, row) in ["x", "y", "z"].iter().zip(&descr.accel_channels) {
        add(format!("accel_{axis}"), *row, CheckMode::Hold, true);
    }
    for (i, row) in descr.analog_channels.iter().enumerate() {
        add(
            format!("analog{}", i + 1),
            *row,
            CheckMode::WhenPresent,
            true,
        );
    }
    if id == BoardId::NeuropawnKnight {
        // Knight: the two lead-off status bytes, raw (BrainFlow's other rows).
        for (name, row) in ["loff_statp", "loff_statn"]
            .iter()
            .zip(&descr.other_channels)
        {
            add(name.to_string(), *row, CheckMode::Exact, true);
        }
    } else if let Some(row) = descr.other_channels.first() {
        // OpenBCI boards put the packet's end byte there; Muse 2/S the AUX electrode.
        let name = match id {
            BoardId::Muse2 | BoardId::MuseS => "aux",
            _ => "end_byte",
        };
        add(name.into(), *row, CheckMode::Exact, false);
    }
    let brainflow_withheld_rows = match id {
        BoardId::Muse2 | BoardId::MuseS | BoardId::Muse2016 => 12,
        _ => 0,
    };
    Some(BoardBinding {
        name,
        id,
        descr,
        channels,
        brainflow_withheld_rows,
    })
}

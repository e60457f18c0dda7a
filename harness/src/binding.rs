//! Which board answers to which harness name, and which row of its data holds
//! each signal of a device profile.

use boardloop_boards::descr::board_presets;
use boardloop_boards::registry::{self, BoardDecl};
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
    /// Its declaration in the board registry.
    pub decl: &'static BoardDecl,
    /// Its data layout.
    pub descr: BoardDescr,
    /// The board's other presets (auxiliary, ancillary), in BrainFlow's order.
    pub other_presets: Vec<PresetBinding>,
    /// Signal-to-row map.
    pub channels: Vec<ChannelBinding>,
    /// Rows of each stream that BrainFlow's own driver keeps back, by preset
    /// (default, auxiliary, ancillary), from the board's declaration.
    pub brainflow_withheld_rows: [usize; 3],
}

/// A preset other than the default one: its own layout and signal-to-row map.
#[derive(Debug, Clone)]
pub struct PresetBinding {
    /// Which preset.
    pub preset: Preset,
    /// Its data layout.
    pub descr: BoardDescr,
    /// Signal-to-row map.
    pub channels: Vec<ChannelBinding>,
}

impl BoardBinding {
    /// The layout and signal-to-row map of `preset`, if the board has it.
    pub fn layout(&self, preset: Preset) -> Option<(&BoardDescr, &[ChannelBinding])> {
        if preset == Preset::Default {
            return Some((&self.descr, &self.channels));
        }
        self.other_presets
            .iter()
            .find(|p| p.preset == preset)
            .map(|p| (&p.descr, p.channels.as_slice()))
    }
}

pub use boardloop_boards::registry::{preset_by_key, preset_key};

/// Every board the harness can test: each board of the registry that has a
/// driver, in the registry's order.
pub fn all_boards() -> Vec<BoardBinding> {
    registry::BOARDS
        .iter()
        .filter(|d| d.transport().is_some())
        .filter_map(|d| binding(d))
        .collect()
}

/// The binding for a harness board name.
pub fn board(name: &str) -> Option<BoardBinding> {
    registry::by_name(name)
        .filter(|d| d.transport().is_some())
        .and_then(binding)
}

fn binding(decl: &'static BoardDecl) -> Option<BoardBinding> {
    let id = decl.id;
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
    // Sensor rows, named after BrainFlow's channel kinds; a row already
    // bound (FreeEEG's ECG rows are its EEG rows) keeps its first name, and
    // a name the device profile does not send is skipped by the checks.
    let mut sensors: Vec<(String, usize)> = Vec::new();
    for (kind, rows) in [
        ("gyro", &descr.gyro_channels),
        ("mag", &descr.magnetometer_channels),
        ("rotation", &descr.rotation_channels),
    ] {
        for (axis, row) in ["x", "y", "z"].iter().zip(rows) {
            sensors.push((format!("{kind}_{axis}"), *row));
        }
    }
    for (kind, rows) in [
        ("ecg", &descr.ecg_channels),
        ("eda", &descr.eda_channels),
        ("temperature", &descr.temperature_channels),
    ] {
        for (i, row) in rows.iter().enumerate() {
            sensors.push((format!("{kind}{}", i + 1), *row));
        }
    }
    if let Some(row) = descr.battery_channel {
        sensors.push(("battery".into(), row));
    }
    let bound: Vec<usize> = [
        &descr.eeg_channels,
        &descr.accel_channels,
        &descr.analog_channels,
    ]
    .into_iter()
    .flatten()
    .copied()
    .collect();
    for (signal, row) in sensors {
        if !bound.contains(&row) {
            add(signal, row, CheckMode::Exact, true);
        }
    }
    for (other, row) in decl.other_rows.iter().zip(&descr.other_channels) {
        add(
            other.signal.to_string(),
            *row,
            CheckMode::Exact,
            other.checked_by_default,
        );
    }
    Some(BoardBinding {
        name: decl.name,
        id,
        decl,
        descr,
        other_presets: other_presets(id),
        channels,
        brainflow_withheld_rows: decl.brainflow_withheld_rows,
    })
}

/// The signal-to-row maps of the board's presets other than the default one.
/// They carry only sensor channels (no `other` rows), one sample per row.
fn other_presets(id: BoardId) -> Vec<PresetBinding> {
    board_presets(id)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| *p != Preset::Default)
        .filter_map(|preset| {
            let descr = board_descr(id, preset).ok()?;
            let mut channels = Vec::new();
            let mut add = |signal: String, row: &usize| {
                channels.push(ChannelBinding {
                    signal,
                    row: *row,
                    // Every row has its own sample of each channel (Muse:
                    // accel and gyro at 52 Hz, PPG at 64 Hz in their rows).
                    mode: CheckMode::Exact,
                    default_checked: true,
                })
            };
            for (axis, row) in ["x", "y", "z"].iter().zip(&descr.accel_channels) {
                add(format!("accel_{axis}"), row);
            }
            for (axis, row) in ["x", "y", "z"].iter().zip(&descr.gyro_channels) {
                add(format!("gyro_{axis}"), row);
            }
            for (i, row) in descr.ppg_channels.iter().enumerate() {
                add(format!("ppg{}", i + 1), row);
            }
            // The Muse S Athena's optics (its ancillary preset); the Muse 2's
            // and S's optical rows are their PPG rows, bound above.
            for (i, row) in descr.optical_channels.iter().enumerate() {
                if !descr.ppg_channels.contains(row) {
                    add(format!("optics{}", i + 1), row);
                }
            }
            Some(PresetBinding {
                preset,
                descr,
                channels,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn muse_presets_map_their_rows() {
        let b = board("muse_2").unwrap();
        let (d, ch) = b.layout(Preset::Auxiliary).unwrap();
        assert_eq!(d.name, "Muse2Aux");
        let row = |n: &str| ch.iter().find(|c| c.signal == n).map(|c| c.row);
        assert_eq!(row("accel_x"), Some(1));
        assert_eq!(row("gyro_z"), Some(6));
        let (_, ch) = b.layout(Preset::Ancillary).unwrap();
        assert_eq!(
            ch.iter()
                .map(|c| (c.signal.as_str(), c.row))
                .collect::<Vec<_>>(),
            [("ppg1", 1), ("ppg2", 2), ("ppg3", 3)]
        );
        // The Athena's 16 optical rows, rows 1-16 of its ancillary preset.
        let b = board("muse_s_athena").unwrap();
        let (_, ch) = b.layout(Preset::Ancillary).unwrap();
        let optics: Vec<_> = ch
            .iter()
            .filter(|c| c.signal.starts_with("optics"))
            .collect();
        assert_eq!(optics.len(), 16);
        assert_eq!((optics[0].row, optics[15].row), (1, 16));
        // The 2016 has no PPG, hence no ancillary preset.
        let b = board("muse_2016").unwrap();
        assert!(b.layout(Preset::Auxiliary).is_some());
        assert!(b.layout(Preset::Ancillary).is_none());
        // Boards with one preset keep their default map only.
        assert!(board("cyton").unwrap().other_presets.is_empty());
    }
}

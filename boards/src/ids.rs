//! BrainFlow's board ids and presets.

use crate::error::{BoardError, ExitCode, Result};

/// Board ids, numbered as in BrainFlow's `BoardIds`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BoardId {
    /// BrainFlow's synthetic board.
    Synthetic = -1,
    /// OpenBCI Cyton (serial dongle).
    Cyton = 0,
    /// OpenBCI Ganglion over the BLED112 dongle.
    Ganglion = 1,
    /// OpenBCI Cyton with the Daisy module.
    CytonDaisy = 2,
    /// BrainBit.
    BrainBit = 7,
    /// FreeEEG32.
    FreeEeg32 = 17,
    /// BrainBit over the BLED112 dongle.
    BrainBitBled = 18,
    /// Muse 2.
    Muse2 = 38,
    /// Muse S.
    MuseS = 39,
    /// BrainAlive.
    BrainAlive = 40,
    /// Muse 2016.
    Muse2016 = 41,
    /// Ganglion over the host's native BLE stack.
    GanglionNative = 46,
    /// FreeEEG128.
    FreeEeg128 = 52,
    /// NeuroPawn Knight.
    NeuropawnKnight = 57,
    /// IronBCI 32.
    IronBci32 = 65,
    /// Muse S Athena.
    MuseSAthena = 67,
}

impl BoardId {
    /// Every id this crate knows, in numeric order.
    pub const ALL: [BoardId; 16] = [
        BoardId::Synthetic,
        BoardId::Cyton,
        BoardId::Ganglion,
        BoardId::CytonDaisy,
        BoardId::BrainBit,
        BoardId::FreeEeg32,
        BoardId::BrainBitBled,
        BoardId::Muse2,
        BoardId::MuseS,
        BoardId::BrainAlive,
        BoardId::Muse2016,
        BoardId::GanglionNative,
        BoardId::FreeEeg128,
        BoardId::NeuropawnKnight,
        BoardId::IronBci32,
        BoardId::MuseSAthena,
    ];

    /// BrainFlow's numeric id.
    pub fn id(self) -> i32 {
        self as i32
    }

    /// BrainFlow's enum name (as in its Python `BoardIds`).
    pub fn name(self) -> &'static str {
        match self {
            BoardId::Synthetic => "SYNTHETIC_BOARD",
            BoardId::Cyton => "CYTON_BOARD",
            BoardId::Ganglion => "GANGLION_BOARD",
            BoardId::CytonDaisy => "CYTON_DAISY_BOARD",
            BoardId::BrainBit => "BRAINBIT_BOARD",
            BoardId::FreeEeg32 => "FREEEEG32_BOARD",
            BoardId::BrainBitBled => "BRAINBIT_BLED_BOARD",
            BoardId::Muse2 => "MUSE_2_BOARD",
            BoardId::MuseS => "MUSE_S_BOARD",
            BoardId::BrainAlive => "BRAINALIVE_BOARD",
            BoardId::Muse2016 => "MUSE_2016_BOARD",
            BoardId::GanglionNative => "GANGLION_NATIVE_BOARD",
            BoardId::FreeEeg128 => "FREEEEG128_BOARD",
            BoardId::NeuropawnKnight => "NEUROPAWN_KNIGHT_BOARD",
            BoardId::IronBci32 => "IRONBCI_32_BOARD",
            BoardId::MuseSAthena => "MUSE_S_ATHENA_BOARD",
        }
    }
}

impl TryFrom<i32> for BoardId {
    type Error = BoardError;

    fn try_from(v: i32) -> Result<Self> {
        BoardId::ALL
            .iter()
            .copied()
            .find(|b| b.id() == v)
            .ok_or_else(|| {
                BoardError::new(ExitCode::UnsupportedBoard, format!("unknown board id {v}"))
            })
    }
}

impl std::fmt::Display for BoardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// BrainFlow's presets: each has its own rate, row layout and ring buffer.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Preset {
    /// The main data stream (EXG).
    Default = 0,
    /// Auxiliary stream (e.g. accel/gyro on Muse).
    Auxiliary = 1,
    /// Ancillary stream (e.g. PPG on Muse).
    Ancillary = 2,
}

impl TryFrom<i32> for Preset {
    type Error = BoardError;

    fn try_from(v: i32) -> Result<Self> {
        match v {
            0 => Ok(Preset::Default),
            1 => Ok(Preset::Auxiliary),
            2 => Ok(Preset::Ancillary),
            _ => Err(BoardError::new(
                ExitCode::InvalidArguments,
                format!("unknown preset {v}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for b in BoardId::ALL {
            assert_eq!(BoardId::try_from(b.id()).unwrap(), b);
        }
        assert_eq!(BoardId::try_from(2).unwrap().name(), "CYTON_DAISY_BOARD");
        assert_eq!(
            BoardId::try_from(3).unwrap_err().code,
            ExitCode::UnsupportedBoard
        );
        assert_eq!(Preset::try_from(1).unwrap(), Preset::Auxiliary);
        assert!(Preset::try_from(3).is_err());
    }
}

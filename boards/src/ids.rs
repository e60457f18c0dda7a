//! BrainFlow's board ids and presets.

use crate::error::{BoardError, ExitCode, Result};

/// Declares [`BoardId`] from one table: variant, BrainFlow's number and
/// BrainFlow's enum name, so the three never disagree.
macro_rules! board_ids {
    ($($(#[$doc:meta])* $variant:ident = $num:literal => $name:literal,)*) => {
        /// Board ids, numbered and named as in BrainFlow's `BoardIds` (every id
        /// of BrainFlow 5.23, so adding a board never touches this file; which
        /// of them boardloop implements is in [`crate::registry`]).
        #[repr(i32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum BoardId {
            $($(#[$doc])* #[doc = $name] $variant = $num,)*
        }

        impl BoardId {
            /// Every id BrainFlow defines, in numeric order.
            pub const ALL: &'static [BoardId] = &[$(BoardId::$variant,)*];

            /// BrainFlow's enum name (as in its Python `BoardIds`).
            pub fn name(self) -> &'static str {
                match self {
                    $(BoardId::$variant => $name,)*
                }
            }
        }
    };
}

// Generated from pip brainflow 5.23's `BoardIds` (NO_BOARD, -100, left out).
board_ids! {
    PlaybackFile = -3 => "PLAYBACK_FILE_BOARD",
    Streaming = -2 => "STREAMING_BOARD",
    Synthetic = -1 => "SYNTHETIC_BOARD",
    Cyton = 0 => "CYTON_BOARD",
    Ganglion = 1 => "GANGLION_BOARD",
    CytonDaisy = 2 => "CYTON_DAISY_BOARD",
    Galea = 3 => "GALEA_BOARD",
    GanglionWifi = 4 => "GANGLION_WIFI_BOARD",
    CytonWifi = 5 => "CYTON_WIFI_BOARD",
    CytonDaisyWifi = 6 => "CYTON_DAISY_WIFI_BOARD",
    BrainBit = 7 => "BRAINBIT_BOARD",
    Unicorn = 8 => "UNICORN_BOARD",
    CallibriEeg = 9 => "CALLIBRI_EEG_BOARD",
    CallibriEmg = 10 => "CALLIBRI_EMG_BOARD",
    CallibriEcg = 11 => "CALLIBRI_ECG_BOARD",
    Notion1 = 13 => "NOTION_1_BOARD",
    Notion2 = 14 => "NOTION_2_BOARD",
    GforcePro = 16 => "GFORCE_PRO_BOARD",
    FreeEeg32 = 17 => "FREEEEG32_BOARD",
    BrainBitBled = 18 => "BRAINBIT_BLED_BOARD",
    GforceDual = 19 => "GFORCE_DUAL_BOARD",
    MuseSBled = 21 => "MUSE_S_BLED_BOARD",
    Muse2Bled = 22 => "MUSE_2_BLED_BOARD",
    Crown = 23 => "CROWN_BOARD",
    AntNeuroEe410 = 24 => "ANT_NEURO_EE_410_BOARD",
    AntNeuroEe411 = 25 => "ANT_NEURO_EE_411_BOARD",
    AntNeuroEe430 = 26 => "ANT_NEURO_EE_430_BOARD",
    AntNeuroEe211 = 27 => "ANT_NEURO_EE_211_BOARD",
    AntNeuroEe212 = 28 => "ANT_NEURO_EE_212_BOARD",
    AntNeuroEe213 = 29 => "ANT_NEURO_EE_213_BOARD",
    AntNeuroEe214 = 30 => "ANT_NEURO_EE_214_BOARD",
    AntNeuroEe215 = 31 => "ANT_NEURO_EE_215_BOARD",
    AntNeuroEe221 = 32 => "ANT_NEURO_EE_221_BOARD",
    AntNeuroEe222 = 33 => "ANT_NEURO_EE_222_BOARD",
    AntNeuroEe223 = 34 => "ANT_NEURO_EE_223_BOARD",
    AntNeuroEe224 = 35 => "ANT_NEURO_EE_224_BOARD",
    AntNeuroEe225 = 36 => "ANT_NEURO_EE_225_BOARD",
    Enophone = 37 => "ENOPHONE_BOARD",
    Muse2 = 38 => "MUSE_2_BOARD",
    MuseS = 39 => "MUSE_S_BOARD",
    BrainAlive = 40 => "BRAINALIVE_BOARD",
    Muse2016 = 41 => "MUSE_2016_BOARD",
    Muse2016Bled = 42 => "MUSE_2016_BLED_BOARD",
    Explore4Chan = 44 => "EXPLORE_4_CHAN_BOARD",
    Explore8Chan = 45 => "EXPLORE_8_CHAN_BOARD",
    GanglionNative = 46 => "GANGLION_NATIVE_BOARD",
    Emotibit = 47 => "EMOTIBIT_BOARD",
    NtlWifi = 50 => "NTL_WIFI_BOARD",
    AntNeuroEe511 = 51 => "ANT_NEURO_EE_511_BOARD",
    FreeEeg128 = 52 => "FREEEEG128_BOARD",
    AavaaV3 = 53 => "AAVAA_V3_BOARD",
    ExplorePlus8Chan = 54 => "EXPLORE_PLUS_8_CHAN_BOARD",
    ExplorePlus32Chan = 55 => "EXPLORE_PLUS_32_CHAN_BOARD",
    Pieeg = 56 => "PIEEG_BOARD",
    NeuropawnKnight = 57 => "NEUROPAWN_KNIGHT_BOARD",
    SynchroniTrio3Channels = 58 => "SYNCHRONI_TRIO_3_CHANNELS_BOARD",
    SynchroniOcto8Channels = 59 => "SYNCHRONI_OCTO_8_CHANNELS_BOARD",
    Ob50008Channels = 60 => "OB5000_8_CHANNELS_BOARD",
    SynchroniPento8Channels = 61 => "SYNCHRONI_PENTO_8_CHANNELS_BOARD",
    SynchroniUno1Channels = 62 => "SYNCHRONI_UNO_1_CHANNELS_BOARD",
    Ob300024Channels = 63 => "OB3000_24_CHANNELS_BOARD",
    Biolistener = 64 => "BIOLISTENER_BOARD",
    IronBci32 = 65 => "IRONBCI_32_BOARD",
    NeuropawnKnightImu = 66 => "NEUROPAWN_KNIGHT_BOARD_IMU",
    MuseSAthena = 67 => "MUSE_S_ATHENA_BOARD",
    Shimmer3 = 68 => "SHIMMER3_BOARD",
}

impl BoardId {
    /// BrainFlow's numeric id.
    pub fn id(self) -> i32 {
        self as i32
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
        for &b in BoardId::ALL {
            assert_eq!(BoardId::try_from(b.id()).unwrap(), b);
        }
        assert_eq!(BoardId::try_from(2).unwrap().name(), "CYTON_DAISY_BOARD");
        assert_eq!(
            BoardId::try_from(66).unwrap().name(),
            "NEUROPAWN_KNIGHT_BOARD_IMU"
        );
        assert_eq!(
            BoardId::try_from(12).unwrap_err().code,
            ExitCode::UnsupportedBoard
        );
        assert_eq!(Preset::try_from(1).unwrap(), Preset::Auxiliary);
        assert!(Preset::try_from(3).is_err());
    }
}

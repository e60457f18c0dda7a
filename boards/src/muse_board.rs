//! The Muse 2 (38), Muse S (39) and Muse 2016 (41) protocol over the host's
//! BLE stack, run by the generic [`BleBoard`], following
//! `src/board_controller/muse/muse.cpp`: find by name prefix
//! `Muse` (or `mac_address`, or `serial_number` as the exact name), subscribe
//! to every data characteristic present, then `v1` and preset `p21`; `d`
//! starts, `h` stops. Control frames are `[len + 1, ascii…, 0x0A]`, written
//! without response (BrainFlow 5.x's `simpleble_peripheral_write_command`).
//! Presets: default (EEG, 256 Hz), auxiliary (accel + gyro, 52 Hz),
//! ancillary (PPG, 64 Hz; Muse 2/S), each with its own ring buffer.

use crate::ble::{BleConnector, Uuid};
use crate::ble_board::{BleBoard, BleConfig, BleProtocol};
use crate::codec::muse::{control_frame, MuseChar, MuseDecoder, MuseModel, MuseStats, CONTROL};
use crate::codec::DecodeStats;
use crate::codec::{Decoder, Input, PresetRows};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::steps::{BleSequence, BleStep};

use crate::registry::{BoardDecl, Driver, OtherRow, PresetLayout};

/// Rows BrainFlow's Muse driver keeps back per stream: it uses the first
/// batch of each preset only to set up its timestamp correction ("skip one
/// package to setup timestamp correction", `muse.cpp`): 12 EEG rows, 3
/// accel/gyro rows, 6 PPG rows.
const BRAINFLOW_WITHHELD: [usize; 3] = [12, 3, 6];

/// Muse 2 (BrainFlow id 38).
pub static MUSE_2: BoardDecl = BoardDecl {
    id: BoardId::Muse2,
    name: "muse_2",
    layouts: &[
        PresetLayout {
            preset: Preset::Default,
            json: r#"{"eeg_channels":[1,2,3,4],"eeg_names":"TP9,AF7,AF8,TP10","marker_channel":7,"name":"Muse2","num_rows":8,"other_channels":[5],"package_num_channel":0,"sampling_rate":256,"timestamp_channel":6}"#,
        },
        PresetLayout {
            preset: Preset::Auxiliary,
            json: r#"{"accel_channels":[1,2,3],"gyro_channels":[4,5,6],"marker_channel":8,"name":"Muse2Aux","num_rows":9,"package_num_channel":0,"sampling_rate":52,"timestamp_channel":7}"#,
        },
        PresetLayout {
            preset: Preset::Ancillary,
            json: r#"{"marker_channel":5,"name":"Muse2Anc","num_rows":6,"optical_channels":[1,2,3],"package_num_channel":0,"ppg_channels":[1,2,3],"sampling_rate":64,"timestamp_channel":4}"#,
        },
    ],
    other_rows: &[OtherRow {
        signal: "aux",
        checked_by_default: false,
    }],
    brainflow_withheld_rows: BRAINFLOW_WITHHELD,
    brainflow_command_overrun: 0,
    driver: Driver::Ble(|params, connector| {
        Box::new(MuseBoard::with_connector(
            MuseModel::Muse2,
            connector,
            params,
        ))
    }),
    cpp_plugin: None,
};

/// Muse S (BrainFlow id 39).
pub static MUSE_S: BoardDecl = BoardDecl {
    id: BoardId::MuseS,
    name: "muse_s",
    layouts: &[
        PresetLayout {
            preset: Preset::Default,
            json: r#"{"eeg_channels":[1,2,3,4],"eeg_names":"TP9,AF7,AF8,TP10","marker_channel":7,"name":"MuseS","num_rows":8,"other_channels":[5],"package_num_channel":0,"sampling_rate":256,"timestamp_channel":6}"#,
        },
        PresetLayout {
            preset: Preset::Auxiliary,
            json: r#"{"accel_channels":[1,2,3],"gyro_channels":[4,5,6],"marker_channel":8,"name":"MuseSAux","num_rows":9,"package_num_channel":0,"sampling_rate":52,"timestamp_channel":7}"#,
        },
        PresetLayout {
            preset: Preset::Ancillary,
            json: r#"{"marker_channel":5,"name":"MuseSAnc","num_rows":6,"optical_channels":[1,2,3],"package_num_channel":0,"ppg_channels":[1,2,3],"sampling_rate":64,"timestamp_channel":4}"#,
        },
    ],
    other_rows: &[OtherRow {
        signal: "aux",
        checked_by_default: false,
    }],
    brainflow_withheld_rows: BRAINFLOW_WITHHELD,
    brainflow_command_overrun: 0,
    driver: Driver::Ble(|params, connector| {
        Box::new(MuseBoard::with_connector(
            MuseModel::MuseS,
            connector,
            params,
        ))
    }),
    cpp_plugin: None,
};

/// Muse 2016 (BrainFlow id 41).
pub static MUSE_2016: BoardDecl = BoardDecl {
    id: BoardId::Muse2016,
    name: "muse_2016",
    layouts: &[
        PresetLayout {
            preset: Preset::Default,
            json: r#"{"eeg_channels":[1,2,3,4],"eeg_names":"TP9,AF7,AF8,TP10","marker_channel":6,"name":"Muse2016","num_rows":7,"package_num_channel":0,"sampling_rate":256,"timestamp_channel":5}"#,
        },
        PresetLayout {
            preset: Preset::Auxiliary,
            json: r#"{"accel_channels":[1,2,3],"gyro_channels":[4,5,6],"marker_channel":8,"name":"Muse2016Aux","num_rows":9,"package_num_channel":0,"sampling_rate":52,"timestamp_channel":7}"#,
        },
    ],
    other_rows: &[],
    brainflow_withheld_rows: BRAINFLOW_WITHHELD,
    brainflow_command_overrun: 0,
    driver: Driver::Ble(|params, connector| {
        Box::new(MuseBoard::with_connector(
            MuseModel::Muse2016,
            connector,
            params,
        ))
    }),
    cpp_plugin: None,
};

/// Advertised-name prefix BrainFlow accepts.
pub const NAME_PREFIX: &str = "Muse";
/// Preset sent by `prepare_session` (BrainFlow's default).
pub const DEFAULT_PRESET: &str = "p21";
/// Longest command BrainFlow's 16-byte frame buffer holds.
const MAX_COMMAND_LEN: usize = 14;

/// The session's decoder: it writes rows straight into the session's
/// per-preset buffers ([`MuseDecoder::decode_presets`]).
pub struct MuseSessionDecoder {
    inner: MuseDecoder,
}

impl Decoder for MuseSessionDecoder {
    fn decode(&mut self, input: Input<'_>, out: &mut PresetRows) {
        if let Input::Notification { uuid, value } = input {
            if let Some(ch) = MuseChar::from_uuid(uuid) {
                self.inner.decode_presets(ch, value, out);
            }
        }
    }

    fn flush(&mut self, out: &mut PresetRows) {
        self.inner.flush_presets(out);
    }

    fn reset(&mut self) {
        self.inner.reset();
    }

    fn stats(&self, preset: Preset) -> DecodeStats {
        let s = self.inner.stats();
        match preset {
            Preset::Default => s.default,
            Preset::Auxiliary => s.aux,
            Preset::Ancillary => s.anc,
        }
    }
}

/// The Muse protocol of one model, and the last preset sent.
pub struct MuseProtocol {
    model: MuseModel,
    preset: String,
}

impl MuseProtocol {
    /// The protocol of `model`.
    pub fn new(model: MuseModel) -> Self {
        MuseProtocol {
            model,
            preset: DEFAULT_PRESET.into(),
        }
    }

    /// Checks a command: presets the model lacks and frames too long for
    /// BrainFlow's buffer are `InvalidArguments`.
    fn check_command(&self, config: &str) -> Result<()> {
        let bad = |why: String| Err(BoardError::new(ExitCode::InvalidArguments, why));
        if config.is_empty() || config.len() > MAX_COMMAND_LEN || !config.is_ascii() {
            return bad(format!(
                "command {config:?} must be 1..={MAX_COMMAND_LEN} ASCII characters"
            ));
        }
        // `p` followed only by digits (none included) names a preset.
        let is_preset = config.starts_with('p') && config[1..].bytes().all(|b| b.is_ascii_digit());
        if is_preset && !self.model.presets().contains(&config) {
            return bad(format!(
                "preset {config} is not supported by {}; supported: {}",
                MuseBoard::id_of(self.model).name(),
                self.model.presets().join(" ")
            ));
        }
        Ok(())
    }
}

/// `seq`, then control frames written without response (BrainFlow 5.x;
/// the Muse S Athena's too).
pub(crate) fn commands(seq: BleSequence, cmds: &[&str]) -> BleSequence {
    cmds.iter()
        .fold(seq, |s, c| s.write(CONTROL, &control_frame(c), false))
}

impl BleProtocol for MuseProtocol {
    type Decoder = MuseSessionDecoder;

    fn board_id(&self) -> BoardId {
        MuseBoard::id_of(self.model)
    }

    fn presets(&self) -> &'static [Preset] {
        if self.model.has_ppg() {
            &[Preset::Default, Preset::Auxiliary, Preset::Ancillary]
        } else {
            &[Preset::Default, Preset::Auxiliary]
        }
    }

    fn name_prefixes(&self) -> &'static [&'static str] {
        &[NAME_PREFIX]
    }

    fn decoder(&self) -> MuseSessionDecoder {
        MuseSessionDecoder {
            inner: MuseDecoder::new(self.model),
        }
    }

    fn setup(&self, characteristics: &[Uuid]) -> Result<BleStep> {
        if !characteristics.contains(&CONTROL) {
            return Err(BoardError::new(
                ExitCode::BoardNotReady,
                format!("device has no Muse control characteristic {CONTROL}"),
            ));
        }
        // Every data characteristic the device has (PPG only on models with
        // it), then the protocol version and BrainFlow's default preset.
        let mut seq = BleSequence::new();
        for ch in MuseChar::ALL {
            if matches!(ch, MuseChar::Ppg(_)) && !self.model.has_ppg() {
                continue;
            }
            if characteristics.contains(&ch.uuid()) {
                seq = seq.subscribe(ch.uuid(), format!("{} ({})", ch.name(), ch.uuid()));
            }
        }
        Ok(Box::new(commands(seq, &["v1", DEFAULT_PRESET])))
    }

    fn setup_done(&mut self, _decoder: &mut MuseSessionDecoder, _reply: &str) {
        self.preset = DEFAULT_PRESET.into();
    }

    fn start(&self) -> BleStep {
        Box::new(commands(BleSequence::new(), &["d"]))
    }

    fn stop(&self) -> BleStep {
        Box::new(commands(BleSequence::new(), &["h"]))
    }

    fn config(&self, config: &str, _streaming: bool) -> Result<BleConfig> {
        self.check_command(config)?;
        Ok(BleConfig::Send(Box::new(commands(
            BleSequence::new(),
            &[config],
        ))))
    }

    fn config_done(&mut self, decoder: &mut MuseSessionDecoder, config: &str) {
        if config.starts_with('p') {
            self.preset = config.into();
            // Presets ending in 0 (p20, p50, p60) stream the AUX electrode.
            decoder.inner.expect_aux(config.ends_with('0'));
        }
    }
}

/// A Muse session over any [`BleConnector`].
pub type MuseBoard = BleBoard<MuseProtocol>;

impl MuseBoard {
    /// A session for `model` that finds its device through `connector` as
    /// BrainFlow does with `params` (`mac_address`, `serial_number`, `timeout`).
    pub fn with_connector(
        model: MuseModel,
        connector: Box<dyn BleConnector>,
        params: &InputParams,
    ) -> Self {
        Self::new(MuseProtocol::new(model), connector, params)
    }

    /// The board id of `model`.
    pub fn id_of(model: MuseModel) -> BoardId {
        match model {
            MuseModel::Muse2016 => BoardId::Muse2016,
            MuseModel::Muse2 => BoardId::Muse2,
            MuseModel::MuseS => BoardId::MuseS,
        }
    }

    /// The model for a Muse board id.
    pub fn model_of(id: BoardId) -> Option<MuseModel> {
        match id {
            BoardId::Muse2016 => Some(MuseModel::Muse2016),
            BoardId::Muse2 => Some(MuseModel::Muse2),
            BoardId::MuseS => Some(MuseModel::MuseS),
            _ => None,
        }
    }

    /// The last preset (`pNN`) sent.
    pub fn preset(&self) -> &str {
        &self.protocol().preset
    }

    /// Decoder counters, per characteristic included.
    pub fn muse_stats(&self) -> MuseStats {
        self.with_decoder(|d| d.inner.stats())
    }
}

#[cfg(test)]
pub(crate) mod tests;

//! Muse 2 (38), Muse S (39) and Muse 2016 (41) over the host's BLE stack,
//! following `src/board_controller/muse/muse.cpp`: find by name prefix
//! `Muse` (or `mac_address`, or `serial_number` as the exact name), subscribe
//! to every data characteristic present, then `v1` and preset `p21`; `d`
//! starts, `h` stops. Control frames are `[len + 1, ascii…, 0x0A]`, written
//! without response (BrainFlow 5.x's `simpleble_peripheral_write_command`).
//! Presets: default (EEG, 256 Hz), auxiliary (accel + gyro, 52 Hz),
//! ancillary (PPG, 64 Hz; Muse 2/S), each with its own ring buffer.

use std::time::Duration;

use crate::ble::{BleConnector, DeviceFilter, DeviceInfo};
use crate::ble_session::BleSession;
use crate::board::{Board, StreamStats};
use crate::codec::muse::{
    control_frame, MuseChar, MuseDecoder, MuseModel, MuseRows, MuseStats, CONTROL,
};
use crate::codec::DecodeStats;
use crate::codec::{Decoder, Input, PresetRows};
use crate::data::Data;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;

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

/// The session's decoder plus the scratch rows it fills.
struct MuseSessionDecoder {
    inner: MuseDecoder,
    rows: MuseRows,
}

impl MuseSessionDecoder {
    fn move_rows(&mut self, out: &mut PresetRows) {
        out[Preset::Default as usize].append(&mut self.rows.default);
        out[Preset::Auxiliary as usize].append(&mut self.rows.aux);
        out[Preset::Ancillary as usize].append(&mut self.rows.anc);
    }
}

impl Decoder for MuseSessionDecoder {
    fn decode(&mut self, input: Input<'_>, out: &mut PresetRows) {
        if let Input::Notification { uuid, value } = input {
            if let Some(ch) = MuseChar::from_uuid(uuid) {
                self.inner.decode(ch, value, &mut self.rows);
                self.move_rows(out);
            }
        }
    }

    fn flush(&mut self, out: &mut PresetRows) {
        self.inner.flush(&mut self.rows);
        self.move_rows(out);
    }

    fn reset(&mut self) {
        self.inner.reset();
        self.rows = MuseRows::default();
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

/// A Muse session over any [`BleConnector`].
pub struct MuseBoard {
    model: MuseModel,
    session: BleSession<MuseSessionDecoder>,
    preset: String,
}

impl MuseBoard {
    /// A session for `model` that finds its device through `connector` as
    /// BrainFlow does with `params` (`mac_address`, `serial_number`, `timeout`).
    pub fn with_connector(
        model: MuseModel,
        connector: Box<dyn BleConnector>,
        params: &InputParams,
    ) -> Self {
        let filter =
            DeviceFilter::from_params(&params.mac_address, &params.serial_number, &[NAME_PREFIX]);
        let presets: &[Preset] = if model.has_ppg() {
            &[Preset::Default, Preset::Auxiliary, Preset::Ancillary]
        } else {
            &[Preset::Default, Preset::Auxiliary]
        };
        MuseBoard {
            model,
            session: BleSession::new(
                Self::id_of(model),
                presets,
                connector,
                filter,
                params,
                MuseSessionDecoder {
                    inner: MuseDecoder::new(model),
                    rows: MuseRows::default(),
                },
            ),
            preset: DEFAULT_PRESET.into(),
        }
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

    /// Overrides the discovery timeout (BrainFlow: `params.timeout`, else 5 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.session.set_timeout(timeout);
        self
    }

    /// The last preset (`pNN`) sent.
    pub fn preset(&self) -> &str {
        &self.preset
    }

    /// Decoder counters, per characteristic included.
    pub fn muse_stats(&self) -> MuseStats {
        self.session.with_decoder(|d| d.inner.stats())
    }

    /// Counters of one BrainFlow preset (exact loss summed over its
    /// characteristics).
    pub fn preset_stats(&self, preset: Preset) -> Result<StreamStats> {
        self.session.descr(preset)?;
        Ok(self.session.preset_stats(preset))
    }

    /// The device connected to by `prepare_session`.
    pub fn device(&self) -> Option<&DeviceInfo> {
        self.session.device()
    }

    fn send(&mut self, cmd: &str) -> Result<()> {
        self.session.write(CONTROL, &control_frame(cmd), false)
    }

    fn setup(&mut self) -> Result<()> {
        let model = self.model;
        let link = self.session.connect()?;
        if !link.has_characteristic(CONTROL) {
            return Err(BoardError::new(
                ExitCode::BoardNotReady,
                format!("device has no Muse control characteristic {CONTROL}"),
            ));
        }
        let mut subscribed = 0;
        for ch in MuseChar::ALL {
            if matches!(ch, MuseChar::Ppg(_)) && !model.has_ppg() {
                continue;
            }
            if link.has_characteristic(ch.uuid()) {
                link.subscribe(ch.uuid()).map_err(|e| {
                    BoardError::new(
                        ExitCode::GeneralError,
                        format!("unable to subscribe to {} ({}): {e}", ch.name(), ch.uuid()),
                    )
                })?;
                subscribed += 1;
            }
        }
        tracing::debug!(subscribed, "Muse characteristics subscribed");
        self.send("v1")?;
        self.send(DEFAULT_PRESET)?;
        self.preset = DEFAULT_PRESET.into();
        Ok(())
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
                Self::id_of(self.model).name(),
                self.model.presets().join(" ")
            ));
        }
        Ok(())
    }
}

impl Board for MuseBoard {
    fn board_id(&self) -> BoardId {
        Self::id_of(self.model)
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.session.is_connected() {
            tracing::info!("session already prepared");
            return Ok(());
        }
        let r = self.setup();
        if r.is_err() {
            self.session.release();
        }
        r
    }

    fn is_prepared(&self) -> bool {
        self.session.is_connected()
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        self.session.begin_stream(buffer_size)?;
        if let Err(e) = self.send("d") {
            self.session.abort_stream();
            return Err(e);
        }
        Ok(())
    }

    fn stop_stream(&mut self) -> Result<()> {
        self.session.end_stream()?;
        if let Some(e) = self.session.link_lost() {
            return Err(BoardError::new(ExitCode::IncommingMsg, e));
        }
        self.send("h")
    }

    fn release_session(&mut self) -> Result<()> {
        if !self.session.is_connected() {
            return Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            ));
        }
        if self.session.is_streaming() {
            let _ = self.stop_stream();
        }
        self.session.release();
        Ok(())
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        if !self.session.is_connected() {
            return Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            ));
        }
        self.check_command(config)?;
        if let Some(e) = self.session.link_lost() {
            return Err(BoardError::new(ExitCode::BoardWrite, e));
        }
        self.send(config)?;
        if config.starts_with('p') {
            self.preset = config.into();
            // Presets ending in 0 (p20, p50, p60) stream the AUX electrode.
            let aux = config.ends_with('0');
            self.session.with_decoder(|d| d.inner.expect_aux(aux));
        }
        Ok(String::new())
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        self.session.insert_marker(value, preset)
    }

    fn get_board_data_count(&self, preset: Preset) -> Result<usize> {
        self.session.data_count(preset)
    }

    fn get_board_data(&mut self, n: Option<usize>, preset: Preset) -> Result<Data> {
        self.session.pop_data(n, preset)
    }

    fn get_current_board_data(&self, n: usize, preset: Preset) -> Result<Data> {
        self.session.peek_data(n, preset)
    }

    fn stream_stats(&self) -> StreamStats {
        self.session.total_stats()
    }
}

#[cfg(test)]
mod tests;

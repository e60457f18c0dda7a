//! The Muse S Athena protocol (BrainFlow's MUSE_S_ATHENA_BOARD, id 67) over
//! the host's BLE stack, following `src/board_controller/muse/muse_athena.cpp`
//! and `inc/muse_options.h`: find by name prefix `MuseS`, `MuseAthena` or
//! `Muse Athena` (or `mac_address`, or `serial_number` as the exact name);
//! subscribe to the control characteristic (status) and the data ones
//! (`273e0013`, `273e0014` where present), then `v6`, `s`, `h`, the preset,
//! `s`. `dc001` twice, `L1` (low latency), `s` start; `h` stops. Commands are
//! the Muse frames `[len + 1, ascii…, 0x0A]` written without response.
//!
//! `other_info` chooses the preset and low latency as BrainFlow's
//! `MuseOptions` does: empty (p1041, low latency on), a bare preset
//! (`p1045`), or `preset=p1035; low_latency=false`; anything else fails
//! `prepare_session` with `INVALID_ARGUMENTS_ERROR`. BrainFlow pauses 200 ms
//! between the prepare commands and 50–300 ms between the start commands;
//! we send them back to back, as for the other Muse boards.

use crate::ble::{BleConnector, CharacteristicInfo, Uuid};
use crate::ble_board::{require_characteristics, BleBoard, BleConfig, BleProtocol};
use crate::codec::muse::CONTROL;
use crate::codec::muse_athena::{AthenaDecoder, AthenaStats, DATA_1, DATA_2};
use crate::codec::{DecodeStats, Decoder, Input, PresetRows};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::muse_board::commands;
use crate::params::InputParams;
use crate::registry::{BoardDecl, Driver, OtherRow, PresetLayout};
use crate::steps::{BleSequence, BleStep};

/// Muse S Athena (BrainFlow id 67).
pub static MUSE_S_ATHENA: BoardDecl = BoardDecl {
    id: BoardId::MuseSAthena,
    name: "muse_s_athena",
    layouts: &[
        PresetLayout {
            preset: Preset::Default,
            json: r#"{"eeg_channels":[1,2,3,4],"eeg_names":"TP9,AF7,AF8,TP10","marker_channel":10,"name":"MuseAthena","num_rows":11,"other_channels":[5,6,7,8],"package_num_channel":0,"sampling_rate":256,"timestamp_channel":9}"#,
        },
        PresetLayout {
            preset: Preset::Auxiliary,
            json: r#"{"accel_channels":[1,2,3],"gyro_channels":[4,5,6],"marker_channel":8,"name":"MuseAthenaAux","num_rows":9,"package_num_channel":0,"sampling_rate":52,"timestamp_channel":7}"#,
        },
        PresetLayout {
            preset: Preset::Ancillary,
            json: r#"{"battery_channel":17,"marker_channel":19,"name":"MuseAthenaAnc","num_rows":20,"optical_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"package_num_channel":0,"sampling_rate":64,"timestamp_channel":18}"#,
        },
    ],
    // The four AUX channels of the 8-channel presets (tag 0x12); 0 under
    // the 4-channel ones (0x11), as in BrainFlow.
    other_rows: &[
        OtherRow {
            signal: "aux_1",
            checked_by_default: false,
        },
        OtherRow {
            signal: "aux_2",
            checked_by_default: false,
        },
        OtherRow {
            signal: "aux_3",
            checked_by_default: false,
        },
        OtherRow {
            signal: "aux_4",
            checked_by_default: false,
        },
    ],
    // BrainFlow's Athena driver keeps every row (no batch spent on its
    // timestamps, unlike `muse.cpp`).
    brainflow_withheld_rows: [0; 3],
    brainflow_command_overrun: 0,
    driver: Driver::Ble(|params, connector| {
        Box::new(MuseAthenaBoard::with_connector(connector, params))
    }),
    cpp_plugin: None,
};

/// Advertised-name prefixes BrainFlow accepts.
pub const NAME_PREFIXES: [&str; 3] = ["MuseS", "MuseAthena", "Muse Athena"];
/// Preset sent by `prepare_session` unless `other_info` names another.
pub const DEFAULT_PRESET: &str = "p1041";
/// Presets BrainFlow accepts for the Athena (`is_valid_athena_preset`).
pub const PRESETS: [&str; 15] = [
    "p20", "p21", "p50", "p51", "p60", "p61", "p1034", "p1035", "p1041", "p1042", "p1043", "p1044",
    "p1045", "p1046", "p4129",
];
/// Longest command BrainFlow's 16-byte frame buffer takes (`len + 2 < 16`).
const MAX_COMMAND_LEN: usize = 13;

/// The session's choices from `other_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AthenaOptions {
    /// Preset sent at prepare.
    pub preset: String,
    /// `L1` is sent at start.
    pub low_latency: bool,
}

impl Default for AthenaOptions {
    fn default() -> Self {
        AthenaOptions {
            preset: DEFAULT_PRESET.into(),
            low_latency: true,
        }
    }
}

impl AthenaOptions {
    /// Reads `other_info` as BrainFlow's `MuseOptions::parse_preset_options`
    /// does (Athena family, low latency allowed); the error says why not.
    pub fn parse(other_info: &str) -> std::result::Result<Self, String> {
        let mut o = AthenaOptions::default();
        let trimmed = other_info.trim();
        if trimmed.is_empty() {
            return Ok(o);
        }
        let preset = |v: &str| {
            let p = v.to_ascii_lowercase();
            if PRESETS.contains(&p.as_str()) {
                Ok(p)
            } else {
                Err(format!("invalid Muse preset: {v}"))
            }
        };
        if !trimmed.contains(['=', ';']) {
            o.preset = preset(trimmed)?;
            return Ok(o);
        }
        let mut any = false;
        for token in trimmed.split(';').map(str::trim).filter(|t| !t.is_empty()) {
            let Some((key, value)) = token.split_once('=').filter(|(_, v)| !v.contains('=')) else {
                return Err(format!(
                    "invalid Muse other_info option: {token}. Expected key=value"
                ));
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            if key.is_empty() || value.is_empty() {
                return Err(format!(
                    "invalid Muse other_info option: {token}. Empty key or value"
                ));
            }
            match key.as_str() {
                "preset" => o.preset = preset(value)?,
                "low_latency" => {
                    o.low_latency = match value.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(format!("invalid Muse low_latency value: {value}")),
                    }
                }
                _ => return Err(format!("unknown Muse other_info option: {key}")),
            }
            any = true;
        }
        if any {
            Ok(o)
        } else {
            Err("empty Muse other_info".into())
        }
    }
}

impl Decoder for AthenaDecoder {
    fn decode(&mut self, input: Input<'_>, out: &mut PresetRows) {
        if let Input::Notification { uuid, value } = input {
            AthenaDecoder::decode(self, uuid, value, out);
        }
    }

    fn reset(&mut self) {
        AthenaDecoder::reset(self);
    }

    fn stats(&self, preset: Preset) -> DecodeStats {
        let s = AthenaDecoder::stats(self);
        match preset {
            Preset::Default => s.default.clone(),
            Preset::Auxiliary => s.aux.clone(),
            Preset::Ancillary => s.anc.clone(),
        }
    }
}

/// The Athena protocol and the options of the session.
pub struct MuseAthenaProtocol {
    options: std::result::Result<AthenaOptions, String>,
}

impl MuseAthenaProtocol {
    /// The protocol with `other_info`'s options (an invalid one fails
    /// `prepare_session`).
    pub fn new(other_info: &str) -> Self {
        MuseAthenaProtocol {
            options: AthenaOptions::parse(other_info),
        }
    }

    fn options(&self) -> Result<&AthenaOptions> {
        self.options.as_ref().map_err(|e| {
            BoardError::new(
                ExitCode::InvalidArguments,
                format!("invalid MuseAthena other_info: {e}"),
            )
        })
    }
}

impl BleProtocol for MuseAthenaProtocol {
    type Decoder = AthenaDecoder;

    fn board_id(&self) -> BoardId {
        BoardId::MuseSAthena
    }

    fn presets(&self) -> &'static [Preset] {
        &[Preset::Default, Preset::Auxiliary, Preset::Ancillary]
    }

    fn name_prefixes(&self) -> &'static [&'static str] {
        &NAME_PREFIXES
    }

    fn decoder(&self) -> AthenaDecoder {
        AthenaDecoder::new()
    }

    fn setup(&self, characteristics: &[Uuid]) -> Result<BleStep> {
        let o = self.options()?;
        require_characteristics(characteristics, &[(CONTROL, "control")], "Muse S Athena")?;
        let data: Vec<Uuid> = [DATA_1, DATA_2]
            .into_iter()
            .filter(|u| characteristics.contains(u))
            .collect();
        if data.is_empty() {
            require_characteristics(characteristics, &[(DATA_1, "data")], "Muse S Athena")?;
        }
        let mut seq = BleSequence::new().subscribe(CONTROL, format!("control ({CONTROL})"));
        for u in data {
            seq = seq.subscribe(u, format!("data ({u})"));
        }
        Ok(Box::new(commands(seq, &["v6", "s", "h", &o.preset, "s"])))
    }

    fn setup_characteristics(&self, characteristics: &[CharacteristicInfo]) -> Result<BleStep> {
        // "Not all firmware exposes both as notify-capable" (muse_athena.cpp):
        // a data characteristic that cannot notify is left out.
        let usable: Vec<Uuid> = characteristics
            .iter()
            .filter(|c| c.props.notify || (c.uuid != DATA_1 && c.uuid != DATA_2))
            .map(|c| c.uuid)
            .collect();
        self.setup(&usable)
    }

    fn start(&self) -> BleStep {
        let low_latency = self.options.as_ref().is_ok_and(|o| o.low_latency);
        let cmds: &[&str] = if low_latency {
            &["dc001", "dc001", "L1", "s"]
        } else {
            &["dc001", "dc001", "s"]
        };
        Box::new(commands(BleSequence::new(), cmds))
    }

    fn stop(&self) -> BleStep {
        Box::new(commands(BleSequence::new(), &["h"]))
    }

    fn config(&self, config: &str, _streaming: bool) -> Result<BleConfig> {
        if config.is_empty() || config.len() > MAX_COMMAND_LEN || !config.is_ascii() {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                format!("command {config:?} must be 1..={MAX_COMMAND_LEN} ASCII characters"),
            ));
        }
        Ok(BleConfig::Send(Box::new(commands(
            BleSequence::new(),
            &[config],
        ))))
    }
}

/// A Muse S Athena session over any [`BleConnector`].
pub type MuseAthenaBoard = BleBoard<MuseAthenaProtocol>;

impl MuseAthenaBoard {
    /// A session that finds its device through `connector` as BrainFlow
    /// does with `params` (`mac_address`, `serial_number`, `timeout`,
    /// `other_info`).
    pub fn with_connector(connector: Box<dyn BleConnector>, params: &InputParams) -> Self {
        Self::new(
            MuseAthenaProtocol::new(&params.other_info),
            connector,
            params,
        )
    }

    /// Decoder counters (block-index gaps and repeats included).
    pub fn athena_stats(&self) -> AthenaStats {
        self.with_decoder(|d| d.stats().clone())
    }
}

#[cfg(test)]
mod tests;

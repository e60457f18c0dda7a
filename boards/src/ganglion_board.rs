//! The OpenBCI Ganglion protocol over the host's BLE stack (BrainFlow's
//! GANGLION_NATIVE, id 46), following
//! `src/board_controller/openbci/ganglion_native.cpp`: find by name prefix
//! `Ganglion`/`Simblee` (or `mac_address`, or `serial_number` as the exact
//! name), read the firmware from 0x2A28, subscribe to the data
//! characteristic, commands written without response. Run by the generic
//! [`BleBoard`]; the decoder is [`GanglionDecoder`].

use crate::ble::{BleConnector, Uuid};
use crate::ble_board::{BleBoard, BleConfig, BleProtocol};
use crate::codec::ganglion::{GanglionDecoder, GanglionFirmware, GanglionStats, SignConvention};
use crate::codec::DecodeStats;
use crate::codec::{Decoder, Input, PresetRows};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::steps::{BleSequence, BleStep};

use crate::registry::{BoardDecl, Driver, PresetLayout};

/// OpenBCI Ganglion over the host's BLE stack (BrainFlow's GANGLION_NATIVE, id 46).
pub static GANGLION_NATIVE: BoardDecl = BoardDecl {
    id: BoardId::GanglionNative,
    name: "ganglion",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"accel_channels":[5,6,7],"ecg_channels":[1,2,3,4],"eeg_channels":[1,2,3,4],"emg_channels":[1,2,3,4],"eog_channels":[1,2,3,4],"marker_channel":14,"name":"Ganglion","num_rows":15,"package_num_channel":0,"resistance_channels":[8,9,10,11,12],"sampling_rate":200,"timestamp_channel":13}"#,
    }],
    other_rows: &[],
    brainflow_withheld_rows: [0; 3],
    brainflow_command_overrun: 0,
    driver: Driver::Ble(|params, connector| {
        Box::new(GanglionBoard::with_connector(connector, params))
    }),
    cpp_plugin: None,
};

/// Ganglion service (advertised).
pub const SERVICE: Uuid = Uuid::from_u16(0xFE84);
/// Data notifications.
pub const NOTIFY_CHAR: Uuid = Uuid(0x2d30c082_f39f_4ce6_923f_3484ea480596);
/// Commands (write without response).
pub const WRITE_CHAR: Uuid = Uuid(0x2d30c083_f39f_4ce6_923f_3484ea480596);
/// Disconnect characteristic.
pub const DISCONNECT_CHAR: Uuid = Uuid(0x2d30c084_f39f_4ce6_923f_3484ea480596);
/// Software revision string (`3.x.y` on firmware 3).
pub const SOFTWARE_REVISION: Uuid = Uuid::from_u16(0x2A28);
/// Advertised-name prefixes BrainFlow accepts.
pub const NAME_PREFIXES: [&str; 2] = ["Ganglion", "Simblee"];

impl Decoder for GanglionDecoder {
    fn decode(&mut self, input: Input<'_>, out: &mut PresetRows) {
        if let Input::Notification { uuid, value } = input {
            if uuid == NOTIFY_CHAR {
                GanglionDecoder::decode(self, value, &mut out[Preset::Default as usize]);
            }
        }
    }

    fn reset(&mut self) {
        GanglionDecoder::reset(self);
    }

    fn stats(&self, preset: Preset) -> DecodeStats {
        match preset {
            Preset::Default => GanglionDecoder::stats(self).decode.clone(),
            _ => DecodeStats::default(),
        }
    }
}

/// The Ganglion protocol and what a session learns: firmware, mode.
pub struct GanglionProtocol {
    firmware: Option<GanglionFirmware>,
    /// The firmware `other_info` names (`fw:2`, `fw:3`), which the revision
    /// read does not override; `None` detects it (see [`firmware_hint`]).
    forced: Option<GanglionFirmware>,
    sign: SignConvention,
    /// `b`/`s`, or `z`/`Z` in impedance mode (BrainFlow swaps them).
    start_cmd: &'static str,
    stop_cmd: &'static str,
}

impl Default for GanglionProtocol {
    fn default() -> Self {
        GanglionProtocol {
            firmware: None,
            forced: None,
            sign: SignConvention::default(),
            start_cmd: "b",
            stop_cmd: "s",
        }
    }
}

/// A command, written without response as BrainFlow does.
fn command(cmds: &[&str]) -> BleSequence {
    cmds.iter().fold(BleSequence::new(), |s, c| {
        s.write(WRITE_CHAR, c.as_bytes(), false)
    })
}

impl BleProtocol for GanglionProtocol {
    type Decoder = GanglionDecoder;

    fn board_id(&self) -> BoardId {
        BoardId::GanglionNative
    }

    fn presets(&self) -> &'static [Preset] {
        &[Preset::Default]
    }

    fn name_prefixes(&self) -> &'static [&'static str] {
        &NAME_PREFIXES
    }

    fn decoder(&self) -> GanglionDecoder {
        GanglionDecoder::new(GanglionFirmware::V3)
    }

    fn setup(&self, characteristics: &[Uuid]) -> Result<BleStep> {
        for (uuid, what) in [(NOTIFY_CHAR, "data"), (WRITE_CHAR, "command")] {
            if !characteristics.contains(&uuid) {
                return Err(BoardError::new(
                    ExitCode::BoardNotReady,
                    format!("device has no Ganglion {what} characteristic {uuid}"),
                ));
            }
        }
        // The revision read becomes the step's reply; a failed read gives ""
        // (firmware 2, as BrainFlow assumes).
        Ok(Box::new(
            BleSequence::new()
                .read_or_empty(SOFTWARE_REVISION)
                .subscribe(NOTIFY_CHAR, NOTIFY_CHAR.to_string()),
        ))
    }

    fn setup_done(&mut self, decoder: &mut GanglionDecoder, revision: &str) {
        // BrainFlow: first byte '3' → firmware 3, anything else → 2.
        let fw = match self.forced {
            Some(fw) => {
                tracing::info!(?fw, revision, "Ganglion firmware as other_info names it");
                fw
            }
            None => {
                let fw = GanglionFirmware::from_revision(revision.as_bytes());
                tracing::info!(?fw, "Ganglion firmware detected");
                fw
            }
        };
        *decoder = GanglionDecoder::new(fw).with_sign(self.sign);
        self.firmware = Some(fw);
    }

    fn start(&self) -> BleStep {
        Box::new(command(&[self.start_cmd]))
    }

    fn stop(&self) -> BleStep {
        Box::new(command(&[self.stop_cmd]))
    }

    fn config(&self, config: &str, streaming: bool) -> Result<BleConfig> {
        if config == "get_firmware_version" {
            let v = match self.firmware {
                Some(GanglionFirmware::V3) => "3",
                _ => "2",
            };
            return Ok(BleConfig::Reply(v.into()));
        }
        Ok(BleConfig::Send(Box::new(match config.as_bytes() {
            [] => return Err(BoardError::new(ExitCode::InvalidArguments, "empty command")),
            // Impedance mode swaps the start/stop commands; a running stream
            // is stopped and restarted in the other mode, as BrainFlow does.
            [c @ (b'z' | b'Z'), ..] if streaming => {
                let start = if *c == b'z' { "z" } else { "b" };
                command(&[self.stop_cmd, start])
            }
            [b'z' | b'Z', ..] => BleSequence::new(),
            _ => command(&[config]),
        })))
    }

    fn config_done(&mut self, _decoder: &mut GanglionDecoder, config: &str) {
        match config.as_bytes().first() {
            Some(b'z') => (self.start_cmd, self.stop_cmd) = ("z", "Z"),
            Some(b'Z') => (self.start_cmd, self.stop_cmd) = ("b", "s"),
            _ => {}
        }
    }

    fn released(&mut self) {
        *self = GanglionProtocol {
            sign: self.sign,
            ..GanglionProtocol::default()
        };
    }
}

/// A Ganglion session over any [`BleConnector`].
pub type GanglionBoard = BleBoard<GanglionProtocol>;

/// The firmware `other_info` names, as BrainFlow 5.21+ reads it (`fw:2`,
/// `fw:3`; `fw:auto` reads the software revision). BrainFlow takes anything
/// else, an empty `other_info` included, as firmware 3 and misreads a
/// firmware-2 device; we read the revision then, as `fw:auto` does, which
/// gives the same result on every firmware-3 device (README, conventions).
pub fn firmware_hint(other_info: &str) -> Option<GanglionFirmware> {
    match other_info.trim() {
        "fw:2" => Some(GanglionFirmware::V2),
        "fw:3" => Some(GanglionFirmware::V3),
        _ => None,
    }
}

impl GanglionBoard {
    /// A session that finds its device through `connector` as BrainFlow does
    /// with `params` (`mac_address`, `serial_number`, `timeout`).
    /// `other_info` may name the firmware ([`firmware_hint`]).
    pub fn with_connector(connector: Box<dyn BleConnector>, params: &InputParams) -> Self {
        let protocol = GanglionProtocol {
            forced: firmware_hint(&params.other_info),
            ..GanglionProtocol::default()
        };
        Self::new(protocol, connector, params)
    }

    /// Chooses the sign convention of 18/19-bit fields (BrainFlow's by default).
    pub fn with_sign(mut self, sign: SignConvention) -> Self {
        self.protocol_mut().sign = sign;
        self
    }

    /// The firmware detected by `prepare_session`.
    pub fn firmware(&self) -> Option<GanglionFirmware> {
        self.protocol().firmware
    }

    /// True while in impedance mode (`z` sent, `Z` not yet).
    pub fn impedance_mode(&self) -> bool {
        self.protocol().start_cmd == "z"
    }

    /// Decoder counters (impedance packets, rejects, range switches too).
    pub fn ganglion_stats(&self) -> GanglionStats {
        self.with_decoder(|d| d.stats().clone())
    }
}

#[cfg(test)]
mod tests;

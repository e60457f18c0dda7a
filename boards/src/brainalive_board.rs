//! The BrainAlive protocol over the host's BLE stack (BrainFlow's
//! BRAINALIVE_BOARD, id 40), following
//! `src/board_controller/brainalive/brainalive.cpp`: find by name prefix
//! `BA_FLEX` (or `mac_address`, or `serial_number` as the exact name),
//! subscribe to the notify characteristic, then write the configuration
//! request; `0A 03 81 00 00 0D` starts streaming at 250 Hz, `0A 03 40 00 00
//! 0D` stops. Commands are frames `0A len cmd p1 p2 0D`, written without
//! response. `config_board` takes a command as hex text, as BrainFlow's does.
//!
//! One difference from BrainFlow 5.23, where we follow the protocol:
//! BrainFlow's `config_board` writes `sizeof (std::vector<uint8_t>)` bytes
//! from the command's buffer (24 on 64-bit Linux), so every command it sends
//! carries 18 bytes read past the 6 it means. We write the command's bytes.

use crate::ble::{BleConnector, Uuid};
use crate::ble_board::{require_characteristics, write_command, BleBoard, BleConfig, BleProtocol};
use crate::codec::brainalive::{AnalogConfig, BrainAliveDecoder};
use crate::codec::{DecodeStats, Decoder, Input, PresetRows};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::registry::{BoardDecl, Driver, PresetLayout};
use crate::steps::{BleSequence, BleStep};

/// BrainAlive (BrainFlow id 40).
pub static BRAINALIVE: BoardDecl = BoardDecl {
    id: BoardId::BrainAlive,
    name: "brainalive",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"accel_channels":[9,10,11],"eeg_channels":[1,2,3,4,5,6,7,8],"eeg_names":"F7,FT7,T7,CP5,CZ,C6,FC6,F4","gyro_channels":[12,13,14],"marker_channel":15,"name":"BrainAlive","num_rows":17,"package_num_channel":0,"sampling_rate":250,"timestamp_channel":16}"#,
    }],
    other_rows: &[],
    brainflow_withheld_rows: [0; 3],
    // 24 bytes written for each 6-byte command (64-bit Linux).
    brainflow_command_overrun: 18,
    driver: Driver::Ble(|params, connector| {
        Box::new(BrainAliveBoard::with_connector(connector, params))
    }),
    cpp_plugin: None,
};

/// Commands are written here (BrainFlow's `BRAINALIVE_WRITE_CHAR`).
pub const WRITE_CHAR: Uuid = Uuid(0x0000fe41_8e22_4541_9d4c_21edae82ed19);
/// Data and the configuration reply are notified here.
pub const NOTIFY_CHAR: Uuid = Uuid(0x0000fe42_8e22_4541_9d4c_21edae82ed19);
/// Advertised-name prefix BrainFlow accepts.
pub const NAME_PREFIX: &str = "BA_FLEX";
/// Asks the device for its gains and reference (sent by prepare).
pub const GET_CONFIG: [u8; 6] = [0x0A, 0x03, 0x60, 0x07, 0x00, 0x0D];
/// Starts streaming at 250 Hz.
pub const START: [u8; 6] = [0x0A, 0x03, 0x81, 0x00, 0x00, 0x0D];
/// Stops streaming.
pub const STOP: [u8; 6] = [0x0A, 0x03, 0x40, 0x00, 0x00, 0x0D];

impl Decoder for BrainAliveDecoder {
    fn decode(&mut self, input: Input<'_>, out: &mut PresetRows) {
        if let Input::Notification { uuid, value } = input {
            if uuid == NOTIFY_CHAR {
                BrainAliveDecoder::decode(self, value, &mut out[Preset::Default as usize]);
            }
        }
    }

    fn idle(&mut self, input: Input<'_>) {
        if let Input::Notification { uuid, value } = input {
            if uuid == NOTIFY_CHAR {
                // Only the configuration reply means anything between streams.
                self.config_reply(value);
            }
        }
    }

    fn reset(&mut self) {
        BrainAliveDecoder::reset(self);
    }

    fn stats(&self, preset: Preset) -> DecodeStats {
        match preset {
            Preset::Default => BrainAliveDecoder::stats(self),
            _ => DecodeStats::default(),
        }
    }
}

/// The bytes of a command given as hex text (`"0a038100000d"`), as
/// BrainFlow's `config_board` reads it; anything else is refused.
pub fn parse_hex(config: &str) -> Result<Vec<u8>> {
    let bad = || {
        BoardError::new(
            ExitCode::InvalidArguments,
            format!("command {config:?} must be hex bytes, e.g. \"0a038100000d\""),
        )
    };
    if config.is_empty() || config.len() % 2 != 0 || !config.is_ascii() {
        return Err(bad());
    }
    (0..config.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&config[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

/// The BrainAlive protocol (no state beyond the decoder's).
#[derive(Debug, Default)]
pub struct BrainAliveProtocol;

fn write(bytes: &[u8]) -> BleStep {
    write_command(WRITE_CHAR, bytes)
}

impl BleProtocol for BrainAliveProtocol {
    type Decoder = BrainAliveDecoder;

    fn board_id(&self) -> BoardId {
        BoardId::BrainAlive
    }

    fn presets(&self) -> &'static [Preset] {
        &[Preset::Default]
    }

    fn name_prefixes(&self) -> &'static [&'static str] {
        &[NAME_PREFIX]
    }

    fn decoder(&self) -> BrainAliveDecoder {
        BrainAliveDecoder::new()
    }

    fn setup(&self, characteristics: &[Uuid]) -> Result<BleStep> {
        require_characteristics(
            characteristics,
            &[(WRITE_CHAR, "command"), (NOTIFY_CHAR, "data")],
            "BrainAlive",
        )?;
        Ok(Box::new(
            BleSequence::new()
                .subscribe(NOTIFY_CHAR, format!("data ({NOTIFY_CHAR})"))
                .write(WRITE_CHAR, &GET_CONFIG, false),
        ))
    }

    fn start(&self) -> BleStep {
        write(&START)
    }

    fn stop(&self) -> BleStep {
        write(&STOP)
    }

    fn config(&self, config: &str, _streaming: bool) -> Result<BleConfig> {
        Ok(BleConfig::Send(write(&parse_hex(config)?)))
    }
}

/// A BrainAlive session over any [`BleConnector`].
pub type BrainAliveBoard = BleBoard<BrainAliveProtocol>;

impl BrainAliveBoard {
    /// A session that finds its device through `connector` as BrainFlow
    /// does with `params` (`mac_address`, `serial_number`, `timeout`).
    pub fn with_connector(connector: Box<dyn BleConnector>, params: &InputParams) -> Self {
        Self::new(BrainAliveProtocol, connector, params)
    }

    /// The gains and reference the device reported, once it has.
    pub fn analog_config(&self) -> Option<AnalogConfig> {
        self.with_decoder(|d| d.config())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_commands_are_hex_bytes() {
        assert_eq!(parse_hex("0a038100000d").unwrap(), START);
        assert_eq!(parse_hex("0A034000000D").unwrap(), STOP);
        for bad in ["", "0a0", "zz", "0a 03", "é0"] {
            let e = parse_hex(bad).unwrap_err();
            assert_eq!(e.code, ExitCode::InvalidArguments, "{bad:?}");
        }
    }

    #[test]
    fn a_device_without_the_command_characteristic_is_refused() {
        let p = BrainAliveProtocol;
        let e = p.setup(&[NOTIFY_CHAR]).err().unwrap();
        assert_eq!(e.code, ExitCode::BoardNotReady);
        assert!(p.setup(&[NOTIFY_CHAR, WRITE_CHAR]).is_ok());
    }

    #[test]
    fn the_configuration_reply_is_taken_between_streams() {
        let mut d = BrainAliveProtocol.decoder();
        let reply = [0x0A, 0x06, 0x07, 12, 1, 0x11, 0x94, 0x0D];
        Decoder::idle(
            &mut d,
            Input::Notification {
                uuid: NOTIFY_CHAR,
                value: &reply,
            },
        );
        assert_eq!(d.config().map(|c| c.vref_mv), Some(4500));
    }
}

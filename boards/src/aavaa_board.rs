//! The AAVAA v3 protocol over the host's BLE stack (BrainFlow's
//! AAVAA_V3_BOARD, id 53), following `src/board_controller/aavaa/
//! aavaa_v3.cpp`: find the device named exactly `AAVAAv3` (BrainFlow
//! compares 8 bytes, the terminating NUL included; or `mac_address`, or
//! `serial_number` as the exact name), subscribe to the notify
//! characteristic; nothing is written at prepare. `01 62` starts and `01 39`
//! stops (the Proteus profile's data header `0x01`, then `b` or `9`), written
//! without response. `config_board`: `w` returns the status text the device
//! last sent between streams (and forgets it), `z` and `Z` switch the start
//! and stop commands to `z`/`Z` (impedance) and `b`/`s` (restarting a running
//! stream with them), anything else is written as given.
//!
//! Where this follows BrainFlow without a public device source: the `z`/`Z`
//! commands are written without the `0x01` header, as BrainFlow writes them.
//! Where it differs: a name that only starts with `AAVAAv3` is found too
//! (BrainFlow's `strncmp (id, "AAVAAv3", 8)` takes the exact name only).

use crate::ble::{BleConnector, Uuid};
use crate::ble_board::{require_characteristics, write_command, BleBoard, BleConfig, BleProtocol};
use crate::codec::aavaa::AavaaDecoder;
use crate::codec::{DecodeStats, Decoder, Input, PresetRows};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::registry::{BoardDecl, Driver, OtherRow, PresetLayout};
use crate::steps::{BleSequence, BleStep};

/// AAVAA v3 (BrainFlow id 53).
pub static AAVAA_V3: BoardDecl = BoardDecl {
    id: BoardId::AavaaV3,
    name: "aavaa_v3",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"battery_channel":12,"ecg_channels":[1,2,3,4,5,6,7,8],"eeg_channels":[1,2,3,4,5,6,7,8],"eeg_names":"L1,L2,L3,L4,R1,R2,R3,R4","emg_channels":[1,2,3,4,5,6,7,8],"eog_channels":[1,2,3,4,5,6,7,8],"marker_channel":16,"name":"AAVAA V3","num_rows":17,"other_channels":[13,14],"package_num_channel":0,"rotation_channels":[9,10,11],"sampling_rate":50,"timestamp_channel":15}"#,
    }],
    other_rows: &[
        OtherRow {
            signal: "imu_status",
            checked_by_default: true,
        },
        // Seconds from the device's 10-µs clock; checked where a scenario
        // names it.
        OtherRow {
            signal: "device_time",
            checked_by_default: false,
        },
    ],
    brainflow_withheld_rows: [0; 3],
    brainflow_command_overrun: 0,
    driver: Driver::Ble(|params, connector| {
        Box::new(AavaaBoard::with_connector(connector, params))
    }),
    cpp_plugin: None,
};

/// Commands are written here (the Proteus profile's RX characteristic).
pub const WRITE_CHAR: Uuid = Uuid(0x6e400002_c352_11e5_953d_0002a5d5c51b);
/// Data and status are notified here (its TX characteristic).
pub const NOTIFY_CHAR: Uuid = Uuid(0x6e400003_c352_11e5_953d_0002a5d5c51b);
/// The only name BrainFlow accepts.
pub const NAME: &str = "AAVAAv3";

impl Decoder for AavaaDecoder {
    fn decode(&mut self, input: Input<'_>, out: &mut PresetRows) {
        if let Input::Notification { uuid, value } = input {
            if uuid == NOTIFY_CHAR {
                AavaaDecoder::decode(self, value, &mut out[Preset::Default as usize]);
            }
        }
    }

    fn idle(&mut self, input: Input<'_>) {
        if let Input::Notification { uuid, value } = input {
            if uuid == NOTIFY_CHAR {
                self.status_reply(value);
            }
        }
    }

    fn reset(&mut self) {
        AavaaDecoder::reset(self);
    }

    fn stats(&self, preset: Preset) -> DecodeStats {
        match preset {
            Preset::Default => AavaaDecoder::stats(self),
            _ => DecodeStats::default(),
        }
    }
}

/// The AAVAA v3 protocol: which pair of start and stop commands is in use.
#[derive(Debug, Default)]
pub struct AavaaProtocol {
    /// After `z` (impedance): `z`/`Z`; after `Z`: `b`/`s`; before either,
    /// the data commands `01 62` / `01 39`.
    mode: Mode,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    #[default]
    Data,
    Impedance,
    Plain,
}

impl Mode {
    fn start(self) -> &'static [u8] {
        match self {
            Mode::Data => b"\x01b",
            Mode::Impedance => b"z",
            Mode::Plain => b"b",
        }
    }

    fn stop(self) -> &'static [u8] {
        match self {
            Mode::Data => b"\x019",
            Mode::Impedance => b"Z",
            Mode::Plain => b"s",
        }
    }
}

fn write(bytes: &[u8]) -> BleStep {
    write_command(WRITE_CHAR, bytes)
}

impl BleProtocol for AavaaProtocol {
    type Decoder = AavaaDecoder;

    fn board_id(&self) -> BoardId {
        BoardId::AavaaV3
    }

    fn presets(&self) -> &'static [Preset] {
        &[Preset::Default]
    }

    fn name_prefixes(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn decoder(&self) -> AavaaDecoder {
        AavaaDecoder::new()
    }

    fn setup(&self, characteristics: &[Uuid]) -> Result<BleStep> {
        require_characteristics(
            characteristics,
            &[(WRITE_CHAR, "command"), (NOTIFY_CHAR, "data")],
            "AAVAA v3",
        )?;
        Ok(Box::new(
            BleSequence::new().subscribe(NOTIFY_CHAR, format!("data ({NOTIFY_CHAR})")),
        ))
    }

    fn start(&self) -> BleStep {
        write(self.mode.start())
    }

    fn stop(&self) -> BleStep {
        write(self.mode.stop())
    }

    fn config(&self, config: &str, streaming: bool) -> Result<BleConfig> {
        let next = match config.as_bytes().first() {
            None => {
                return Err(BoardError::new(
                    ExitCode::InvalidArguments,
                    "an empty command",
                ))
            }
            _ if config == "w" => return Ok(BleConfig::FromDecoder),
            Some(b'z') => Mode::Impedance,
            Some(b'Z') => Mode::Plain,
            _ => return Ok(BleConfig::Send(write(config.as_bytes()))),
        };
        let seq = if streaming {
            BleSequence::new()
                .write(WRITE_CHAR, self.mode.stop(), false)
                .write(WRITE_CHAR, next.start(), false)
        } else {
            BleSequence::new()
        };
        Ok(BleConfig::Send(Box::new(seq)))
    }

    fn config_done(&mut self, _decoder: &mut AavaaDecoder, config: &str) {
        match config.as_bytes().first() {
            Some(b'z') => self.mode = Mode::Impedance,
            Some(b'Z') => self.mode = Mode::Plain,
            _ => {}
        }
    }

    fn decoder_reply(&mut self, decoder: &mut AavaaDecoder, _config: &str) -> String {
        decoder.take_status()
    }

    fn released(&mut self) {
        self.mode = Mode::Data;
    }
}

/// An AAVAA v3 session over any [`BleConnector`].
pub type AavaaBoard = BleBoard<AavaaProtocol>;

impl AavaaBoard {
    /// A session that finds its device through `connector` as BrainFlow
    /// does with `params` (`mac_address`, `serial_number`, `timeout`).
    pub fn with_connector(connector: Box<dyn BleConnector>, params: &InputParams) -> Self {
        Self::new(AavaaProtocol::default(), connector, params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_and_capital_z_switch_the_start_and_stop_commands() {
        let mut p = AavaaProtocol::default();
        assert_eq!(p.mode.start(), b"\x01b");
        assert_eq!(p.mode.stop(), b"\x019");
        let mut d = p.decoder();
        assert!(matches!(p.config("z", false), Ok(BleConfig::Send(_))));
        p.config_done(&mut d, "z");
        assert_eq!((p.mode.start(), p.mode.stop()), (&b"z"[..], &b"Z"[..]));
        p.config_done(&mut d, "Z");
        assert_eq!((p.mode.start(), p.mode.stop()), (&b"b"[..], &b"s"[..]));
        assert!(matches!(p.config("w", true), Ok(BleConfig::FromDecoder)));
        assert_eq!(
            p.config("", false).err().map(|e| e.code),
            Some(ExitCode::InvalidArguments)
        );
        p.released();
        assert_eq!(p.mode, Mode::Data);
    }

    #[test]
    fn w_returns_the_status_once() {
        let mut p = AavaaProtocol::default();
        let mut d = p.decoder();
        Decoder::idle(
            &mut d,
            Input::Notification {
                uuid: NOTIFY_CHAR,
                value: b"\x01@bat 87",
            },
        );
        assert_eq!(p.decoder_reply(&mut d, "w"), "@bat 87");
        assert_eq!(p.decoder_reply(&mut d, "w"), "");
    }
}

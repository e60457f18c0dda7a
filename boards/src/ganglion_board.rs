//! OpenBCI Ganglion over the host's BLE stack (BrainFlow's GANGLION_NATIVE,
//! id 46), following `src/board_controller/openbci/ganglion_native.cpp`:
//! find by name prefix `Ganglion`/`Simblee` (or `mac_address`, or
//! `serial_number` as the exact name), read the firmware from 0x2A28,
//! subscribe to the data characteristic, commands written without response.

use std::time::Duration;

use crate::ble::{BleConnector, DeviceFilter, DeviceInfo, Uuid};
use crate::ble_session::BleSession;
use crate::board::{Board, StreamStats};
use crate::codec::ganglion::{GanglionDecoder, GanglionFirmware, GanglionStats, SignConvention};
use crate::codec::DecodeStats;
use crate::codec::{Decoder, Input, PresetRows};
use crate::data::Data;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;

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

/// A Ganglion session over any [`BleConnector`].
pub struct GanglionBoard {
    session: BleSession<GanglionDecoder>,
    firmware: Option<GanglionFirmware>,
    sign: SignConvention,
    /// `b`/`s`, or `z`/`Z` in impedance mode (BrainFlow swaps them).
    start_cmd: &'static str,
    stop_cmd: &'static str,
}

impl GanglionBoard {
    /// A session that finds its device through `connector` as BrainFlow does
    /// with `params` (`mac_address`, `serial_number`, `timeout`).
    pub fn with_connector(connector: Box<dyn BleConnector>, params: &InputParams) -> Self {
        let filter =
            DeviceFilter::from_params(&params.mac_address, &params.serial_number, &NAME_PREFIXES);
        GanglionBoard {
            session: BleSession::new(
                BoardId::GanglionNative,
                &[Preset::Default],
                connector,
                filter,
                params,
                GanglionDecoder::new(GanglionFirmware::V3),
            ),
            firmware: None,
            sign: SignConvention::default(),
            start_cmd: "b",
            stop_cmd: "s",
        }
    }

    /// Overrides the discovery timeout (BrainFlow: `params.timeout`, else 5 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.session.set_timeout(timeout);
        self
    }

    /// Chooses the sign convention of 18/19-bit fields (BrainFlow's by default).
    pub fn with_sign(mut self, sign: SignConvention) -> Self {
        self.sign = sign;
        self
    }

    /// The firmware detected by `prepare_session`.
    pub fn firmware(&self) -> Option<GanglionFirmware> {
        self.firmware
    }

    /// True while in impedance mode (`z` sent, `Z` not yet).
    pub fn impedance_mode(&self) -> bool {
        self.start_cmd == "z"
    }

    /// Decoder counters (impedance packets, rejects, range switches too).
    pub fn ganglion_stats(&self) -> GanglionStats {
        self.session.with_decoder(|d| d.stats().clone())
    }

    /// The device connected to by `prepare_session`.
    pub fn device(&self) -> Option<&DeviceInfo> {
        self.session.device()
    }

    fn send(&mut self, cmd: &str) -> Result<()> {
        self.session.write(WRITE_CHAR, cmd.as_bytes(), false)
    }

    fn check_link(&self) -> Result<()> {
        match self.session.link_lost() {
            Some(e) => Err(BoardError::new(ExitCode::BoardWrite, e)),
            None => Ok(()),
        }
    }

    fn setup(&mut self) -> Result<()> {
        let sign = self.sign;
        let link = self.session.connect()?;
        for (uuid, what) in [(NOTIFY_CHAR, "data"), (WRITE_CHAR, "command")] {
            if !link.has_characteristic(uuid) {
                return Err(BoardError::new(
                    ExitCode::BoardNotReady,
                    format!("device has no Ganglion {what} characteristic {uuid}"),
                ));
            }
        }
        // BrainFlow: first byte '3' → firmware 3, anything else → 2.
        let fw = match link.read(SOFTWARE_REVISION) {
            Ok(rev) => GanglionFirmware::from_revision(&rev),
            Err(e) => {
                tracing::warn!("no software revision ({e}); assuming firmware 2 as BrainFlow");
                GanglionFirmware::V2
            }
        };
        link.subscribe(NOTIFY_CHAR).map_err(|e| {
            BoardError::new(
                ExitCode::GeneralError,
                format!("unable to subscribe to {NOTIFY_CHAR}: {e}"),
            )
        })?;
        tracing::info!(?fw, "Ganglion firmware detected");
        self.session
            .with_decoder(|d| *d = GanglionDecoder::new(fw).with_sign(sign));
        self.firmware = Some(fw);
        Ok(())
    }
}

impl Board for GanglionBoard {
    fn board_id(&self) -> BoardId {
        BoardId::GanglionNative
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.session.is_connected() {
            tracing::info!("session already prepared");
            return Ok(());
        }
        let r = self.setup();
        if r.is_err() {
            self.session.release();
            self.firmware = None;
        }
        r
    }

    fn is_prepared(&self) -> bool {
        self.session.is_connected()
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        self.session.begin_stream(buffer_size)?;
        let cmd = self.start_cmd;
        if let Err(e) = self.send(cmd) {
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
        let cmd = self.stop_cmd;
        self.send(cmd)
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
        self.firmware = None;
        self.start_cmd = "b";
        self.stop_cmd = "s";
        Ok(())
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        if !self.session.is_connected() {
            return Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            ));
        }
        if config == "get_firmware_version" {
            return Ok(match self.firmware {
                Some(GanglionFirmware::V3) => "3",
                _ => "2",
            }
            .into());
        }
        if config.is_empty() {
            return Err(BoardError::new(ExitCode::InvalidArguments, "empty command"));
        }
        self.check_link()?;
        match config.as_bytes()[0] {
            // Impedance mode swaps the start/stop commands; a running stream
            // is stopped and restarted in the other mode, as BrainFlow does.
            c @ (b'z' | b'Z') => {
                let streaming = self.session.is_streaming();
                if streaming {
                    let stop = self.stop_cmd;
                    self.send(stop)?;
                }
                (self.start_cmd, self.stop_cmd) = if c == b'z' { ("z", "Z") } else { ("b", "s") };
                if streaming {
                    let start = self.start_cmd;
                    self.send(start)?;
                }
            }
            _ => self.send(config)?,
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

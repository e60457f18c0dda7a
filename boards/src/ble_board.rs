//! The one BLE board: [`BleBoard`] implements [`Board`] for every BLE
//! protocol on top of the shared session core (finding and connecting,
//! reader thread, per-preset buffers), so BrainFlow's session rules are
//! written once. A protocol ([`BleProtocol`]) supplies only what differs:
//! its device names, presets and decoder, and its setup, start, stop and
//! config as sans-IO steps ([`crate::steps`]).

use std::time::Duration;

use crate::ble::{BleConnector, CharacteristicInfo, DeviceFilter, DeviceInfo, Uuid};
use crate::ble_session::BleSession;
use crate::board::{Board, StreamStats};
use crate::codec::Decoder;
use crate::data::Data;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::serial_session::check_prepared;
use crate::steps::BleStep;
use crate::streamer::Streamer;

/// How a protocol answers a config command.
pub enum BleConfig {
    /// Answered without the device (e.g. Ganglion's `get_firmware_version`).
    Reply(String),
    /// Performed on the device; then [`BleProtocol::config_done`] applies it.
    Send(BleStep),
    /// Answered from what the decoder has kept ([`BleProtocol::decoder_reply`]:
    /// AAVAA's status text, notified between streams).
    FromDecoder,
}

/// Refuses a device that lacks one of the `needed` characteristics (each
/// with what it is for), naming the board: `prepare_session` then fails with
/// `BOARD_NOT_READY_ERROR`.
pub fn require_characteristics(
    characteristics: &[Uuid],
    needed: &[(Uuid, &str)],
    board: &str,
) -> Result<()> {
    match needed.iter().find(|(u, _)| !characteristics.contains(u)) {
        Some((uuid, what)) => Err(BoardError::new(
            ExitCode::BoardNotReady,
            format!("device has no {board} {what} characteristic {uuid}"),
        )),
        None => Ok(()),
    }
}

/// A step that writes `value` to `uuid` without response (a command).
pub fn write_command(uuid: Uuid, value: &[u8]) -> BleStep {
    Box::new(crate::steps::BleSequence::new().write(uuid, value, false))
}

/// What one BLE board does its own way; everything else is [`BleBoard`]'s.
pub trait BleProtocol: Send + 'static {
    /// Turns notifications into rows of each preset.
    type Decoder: Decoder;

    /// The board's BrainFlow id.
    fn board_id(&self) -> BoardId;
    /// The presets the board streams, each with its own buffer.
    fn presets(&self) -> &'static [Preset];
    /// Advertised-name prefixes of the device (used unless `params` name a
    /// MAC address or an exact name).
    fn name_prefixes(&self) -> &'static [&'static str];
    /// A fresh decoder for a new session.
    fn decoder(&self) -> Self::Decoder;
    /// What `prepare_session` does once connected, given the device's
    /// characteristics: a device lacking one the board needs is refused here.
    fn setup(&self, characteristics: &[Uuid]) -> Result<BleStep>;
    /// [`BleProtocol::setup`] given each characteristic's properties too; by
    /// default their UUIDs are all a protocol looks at. (The Muse S Athena
    /// skips a data characteristic that cannot notify, as BrainFlow does.)
    fn setup_characteristics(&self, characteristics: &[CharacteristicInfo]) -> Result<BleStep> {
        let uuids: Vec<Uuid> = characteristics.iter().map(|c| c.uuid).collect();
        self.setup(&uuids)
    }
    /// Applies a successful setup, given the step's reply (a value it read).
    fn setup_done(&mut self, _decoder: &mut Self::Decoder, _reply: &str) {}
    /// The command that starts streaming.
    fn start(&self) -> BleStep;
    /// The command that stops streaming.
    fn stop(&self) -> BleStep;
    /// Checks `config` and says how to carry it out (`streaming`: a stream
    /// is running); a bad command is refused before the link is looked at.
    fn config(&self, config: &str, streaming: bool) -> Result<BleConfig>;
    /// Applies a config the device accepted.
    fn config_done(&mut self, _decoder: &mut Self::Decoder, _config: &str) {}
    /// The reply to a config answered [`BleConfig::FromDecoder`].
    fn decoder_reply(&mut self, _decoder: &mut Self::Decoder, _config: &str) -> String {
        String::new()
    }
    /// Forgets what the last session learnt (the session was released, or
    /// its setup failed).
    fn released(&mut self) {}
}

/// A BLE board session speaking protocol `P` (see [`crate::GanglionBoard`],
/// [`crate::MuseBoard`]).
pub struct BleBoard<P: BleProtocol> {
    protocol: P,
    session: BleSession<P::Decoder>,
}

impl<P: BleProtocol> BleBoard<P> {
    /// A session that finds its device through `connector` as BrainFlow does
    /// with `params` (`mac_address`, `serial_number`, `timeout`).
    pub fn new(protocol: P, connector: Box<dyn BleConnector>, params: &InputParams) -> Self {
        let filter = DeviceFilter::from_params(
            &params.mac_address,
            &params.serial_number,
            protocol.name_prefixes(),
        );
        let session = BleSession::new(
            protocol.board_id(),
            protocol.presets(),
            connector,
            filter,
            params,
            protocol.decoder(),
        );
        BleBoard { protocol, session }
    }

    /// Overrides the discovery timeout (BrainFlow: `params.timeout`, else 5 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.session.set_timeout(timeout);
        self
    }

    /// The device connected to by `prepare_session`.
    pub fn device(&self) -> Option<&DeviceInfo> {
        self.session.device()
    }

    /// Counters of one BrainFlow preset (exact loss summed over its
    /// characteristics).
    pub fn preset_stats(&self, preset: Preset) -> Result<StreamStats> {
        self.session.descr(preset)?;
        Ok(self.session.preset_stats(preset))
    }

    /// The protocol (its state: firmware, mode, preset sent).
    pub(crate) fn protocol(&self) -> &P {
        &self.protocol
    }

    /// The protocol, to change settings before `prepare_session`.
    pub(crate) fn protocol_mut(&mut self) -> &mut P {
        &mut self.protocol
    }

    /// Runs `f` on the decoder (under the lock the reader takes).
    pub(crate) fn with_decoder<T>(&self, f: impl FnOnce(&mut P::Decoder) -> T) -> T {
        self.session.with_decoder(f)
    }

    fn setup(&mut self) -> Result<()> {
        let link = self.session.connect()?;
        let step = self
            .protocol
            .setup_characteristics(&link.characteristics())?;
        let reply = self.session.perform(step)?;
        let protocol = &mut self.protocol;
        self.session
            .with_decoder(|d| protocol.setup_done(d, &reply));
        Ok(())
    }
}

impl<P: BleProtocol> Board for BleBoard<P> {
    fn board_id(&self) -> BoardId {
        self.protocol.board_id()
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.session.is_connected() {
            tracing::info!("session already prepared");
            return Ok(());
        }
        let r = self.setup();
        if r.is_err() {
            self.session.release();
            self.protocol.released();
        }
        r
    }

    fn is_prepared(&self) -> bool {
        self.session.is_connected()
    }

    fn is_streaming(&self) -> bool {
        self.session.is_streaming()
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        self.session.begin_stream(buffer_size)?;
        if let Err(e) = self.session.perform(self.protocol.start()) {
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
        self.session.perform(self.protocol.stop()).map(drop)
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
        self.protocol.released();
        Ok(())
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        if !self.session.is_connected() {
            return Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            ));
        }
        let step = match self.protocol.config(config, self.session.is_streaming())? {
            BleConfig::Reply(reply) => return Ok(reply),
            BleConfig::FromDecoder => {
                let protocol = &mut self.protocol;
                return Ok(self
                    .session
                    .with_decoder(|d| protocol.decoder_reply(d, config)));
            }
            BleConfig::Send(step) => step,
        };
        if let Some(e) = self.session.link_lost() {
            return Err(BoardError::new(ExitCode::BoardWrite, e));
        }
        let reply = self.session.perform(step)?;
        let protocol = &mut self.protocol;
        self.session
            .with_decoder(|d| protocol.config_done(d, config));
        Ok(reply)
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

    fn add_streamer(&mut self, streamer: &Streamer, preset: Preset) -> Result<()> {
        check_prepared(self.session.is_connected())?;
        self.session.add_streamer(streamer, preset)
    }

    fn delete_streamer(&mut self, streamer: &Streamer, preset: Preset) -> Result<()> {
        check_prepared(self.session.is_connected())?;
        self.session.delete_streamer(streamer, preset)
    }
}

//! The session API with BrainFlow's semantics, and the board factory.

use serde::Serialize;

use crate::codec::DecodeStats;
use crate::data::Data;
use crate::descr::BoardDescr;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::outlet::StreamerStats;
use crate::params::InputParams;
use crate::registry::{self, Connection, Transport};
use crate::streamer::Streamer;

/// A board session, mirroring BrainFlow's `BoardShim` calls and error codes.
pub trait Board: Send {
    /// Which board this is.
    fn board_id(&self) -> BoardId;
    /// The row layout of `preset` in this session: the board's own, or, for
    /// BrainFlow's playback and streaming boards, their `master_board`'s.
    fn layout(&self, preset: Preset) -> Result<BoardDescr> {
        crate::descr::board_descr(self.board_id(), preset)
    }
    /// Opens the link and performs the handshake. Calling it again on a
    /// prepared session does nothing, as in BrainFlow.
    fn prepare_session(&mut self) -> Result<()>;
    /// True between a successful `prepare_session` and `release_session`.
    fn is_prepared(&self) -> bool;
    /// True between a successful `start_stream` and `stop_stream` (or
    /// `release_session`).
    fn is_streaming(&self) -> bool;
    /// Allocates a ring buffer of `buffer_size` samples and starts streaming.
    /// 0 gives `InvalidBufferSize`, a running stream `StreamAlreadyRun`, an
    /// unprepared session `BoardNotCreated`.
    fn start_stream(&mut self, buffer_size: usize) -> Result<()>;
    /// Stops streaming; the buffered data stays readable. Not streaming gives
    /// `StreamThreadIsNotRunning`; a link lost during the stream gives an error
    /// after the thread is stopped.
    fn stop_stream(&mut self) -> Result<()>;
    /// Stops any stream and closes the link. An unprepared session gives
    /// `BoardNotCreated`, as BrainFlow's C API does.
    fn release_session(&mut self) -> Result<()>;
    /// Sends a configuration command; returns the board's reply (empty while
    /// streaming, since the reply would be mixed with data).
    fn config_board(&mut self, config: &str) -> Result<String>;
    /// Queues a marker for the next row pushed into `preset`'s buffer.
    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()>;
    /// Samples currently buffered for `preset`. Before the first
    /// `start_stream` there is no buffer: `InvalidArguments`, like BrainFlow.
    fn get_board_data_count(&self, preset: Preset) -> Result<usize>;
    /// Removes and returns the oldest `n` samples (all if `None`).
    fn get_board_data(&mut self, n: Option<usize>, preset: Preset) -> Result<Data>;
    /// Copies the newest `n` samples without removing them.
    fn get_current_board_data(&self, n: usize, preset: Preset) -> Result<Data>;
    /// Decoder counters, link health and byte count of the current session.
    fn stream_stats(&self) -> StreamStats;
    /// Adds `streamer` to `preset`: every row the preset takes from now on
    /// also goes to it, on the streamer's own thread (see
    /// [`crate::outlet`]). An unprepared session gives `BoardNotCreated`, a
    /// preset the board lacks `InvalidArguments`, a file that cannot be
    /// opened `GeneralError`, as in BrainFlow.
    fn add_streamer(&mut self, streamer: &Streamer, preset: Preset) -> Result<()>;
    /// Removes every streamer equal to `streamer` from `preset`, once each
    /// has written what it queued; none gives `InvalidArguments`.
    fn delete_streamer(&mut self, streamer: &Streamer, preset: Preset) -> Result<()>;
}

/// Streaming health as a harness sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StreamStats {
    /// Decoder counters (packets, rows, exact loss, garbage, ...).
    #[serde(flatten)]
    pub decode: DecodeStats,
    /// Why the link failed during streaming, if it did.
    pub link_error: Option<String>,
    /// Bytes read from the link while streaming.
    pub bytes_read: u64,
    /// Each running streamer: rows out, dropped and failed.
    pub streamers: Vec<StreamerStats>,
}

/// Creates an (unprepared) session for `id`, as BrainFlow's `BoardShim`
/// constructor does, from the board's declaration in the
/// [`registry`](crate::registry). Serial boards use the port named in
/// `params.serial_port`, opened by `prepare_session`. BLE boards need a radio
/// backend, which this crate leaves out (it stays free of BlueZ): they give
/// `UnsupportedBoard` here; `boardloop_bluez::create_board` opens them through
/// btleplug, and [`registry::create_board_on`](crate::registry::create_board_on)
/// on any [`crate::BleConnector`]. Boards without a driver give
/// `UnsupportedBoard`.
pub fn create_board(id: BoardId, params: InputParams) -> Result<Box<dyn Board>> {
    let decl = registry::by_id(id)?;
    if decl.transport() == Some(Transport::Ble) {
        return Err(BoardError::new(
            ExitCode::UnsupportedBoard,
            format!(
                "board {} ({}) is a BLE board and this build has no BLE backend: \
                 use boardloop_bluez::create_board (btleplug), or \
                 registry::create_board_on with a BleConnector",
                id.name(),
                id.id()
            ),
        ));
    }
    let baud = decl
        .serial_baud()
        .unwrap_or(crate::link::SerialPortLink::OPENBCI_BAUD);
    let opener = registry::serial_port_opener(&params, baud);
    registry::create_board_on(id, &params, Connection::Serial(opener))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factory() {
        assert_eq!(
            create_board(BoardId::BrainBit, InputParams::default())
                .err()
                .unwrap()
                .code,
            ExitCode::UnsupportedBoard
        );
        let e = create_board(BoardId::Muse2, InputParams::default())
            .err()
            .unwrap();
        assert_eq!(e.code, ExitCode::UnsupportedBoard);
        assert!(e.message.contains("BLE backend"), "{}", e.message);
        for id in [
            BoardId::Cyton,
            BoardId::CytonDaisy,
            BoardId::NeuropawnKnight,
        ] {
            let mut b = create_board(id, InputParams::with_serial_port("/nope/tty")).unwrap();
            assert_eq!(b.board_id(), id);
            assert!(!b.is_prepared());
            let e = b.prepare_session().unwrap_err();
            assert_eq!(e.code, ExitCode::UnableToOpenPort);
            assert!(e.message.contains("/nope/tty"));
        }
    }
}

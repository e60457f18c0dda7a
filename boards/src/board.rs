//! The session API with BrainFlow's semantics, and the board factory.

use serde::Serialize;

use crate::codec::cyton::{CytonVariant, DecodeStats};
use crate::cyton_board::{CytonBoard, Timing};
use crate::data::Data;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::knight_board::KnightBoard;
use crate::link::SerialPortLink;
use crate::params::InputParams;

/// A board session, mirroring BrainFlow's `BoardShim` calls and error codes.
pub trait Board: Send {
    /// Which board this is.
    fn board_id(&self) -> BoardId;
    /// Opens the link and performs the handshake. Calling it again on a
    /// prepared session does nothing, as in BrainFlow.
    fn prepare_session(&mut self) -> Result<()>;
    /// True between a successful `prepare_session` and `release_session`.
    fn is_prepared(&self) -> bool;
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
}

/// Creates an (unprepared) session for `id`, as BrainFlow's `BoardShim`
/// constructor does. Cyton, Cyton+Daisy and NeuroPawn Knight use the serial
/// port named in `params.serial_port`, opened by `prepare_session`; the BLE
/// boards (Ganglion native, Muse) give `UnsupportedBoard` until a BLE backend is
/// built in (their drivers take a connector: [`crate::GanglionBoard`],
/// [`crate::MuseBoard`]); other boards give `UnsupportedBoard`.
pub fn create_board(id: BoardId, params: InputParams) -> Result<Box<dyn Board>> {
    let timing = Timing::from_params(&params);
    let path = params.serial_port.clone();
    let opener = Box::new(move || {
        SerialPortLink::open(&path).map(|l| Box::new(l) as Box<dyn crate::link::SerialLink>)
    });
    let variant = match id {
        BoardId::NeuropawnKnight => {
            return Ok(Box::new(KnightBoard::with_opener(
                params.serial_port.clone(),
                opener,
                timing,
            )))
        }
        BoardId::Cyton => CytonVariant::Cyton,
        BoardId::CytonDaisy => CytonVariant::Daisy,
        // The drivers exist, but the radio backend (btleplug) does not yet.
        BoardId::GanglionNative | BoardId::Muse2 | BoardId::MuseS | BoardId::Muse2016 => {
            return Err(BoardError::new(
                ExitCode::UnsupportedBoard,
                format!(
                    "board {} ({}) needs a BLE backend, which is not built in yet; \
                     use GanglionBoard::with_connector / MuseBoard::with_connector",
                    id.name(),
                    id.id()
                ),
            ))
        }
        _ => {
            return Err(BoardError::new(
                ExitCode::UnsupportedBoard,
                format!("board {} ({}) is not implemented yet", id.name(), id.id()),
            ))
        }
    };
    Ok(Box::new(CytonBoard::with_opener(
        variant,
        params.serial_port.clone(),
        opener,
        timing,
    )))
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
        let mut b = create_board(
            BoardId::CytonDaisy,
            InputParams::with_serial_port("/nope/tty"),
        )
        .unwrap();
        assert_eq!(b.board_id(), BoardId::CytonDaisy);
        assert!(!b.is_prepared());
        let e = b.prepare_session().unwrap_err();
        assert_eq!(e.code, ExitCode::UnableToOpenPort);
        assert!(e.message.contains("/nope/tty"));
    }
}

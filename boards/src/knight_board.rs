//! NeuroPawn Knight sessions over any [`SerialLink`](crate::link::SerialLink),
//! following BrainFlow 5.23's `KnightBase`/`Knight`
//! (`src/board_controller/neuropawn/`): no handshake (prepare only opens the
//! port), no start or stop command (the board streams on its own;
//! `start_stream` discards stale input and starts reading), config text passed
//! through, its reply read until the device is idle when not streaming.

use std::io;

use crate::board::{Board, StreamStats};
use crate::codec::knight::{KnightDecoder, NUM_ROWS};
use crate::data::Data;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::serial_session::{
    check_buffer_size, check_default_preset, read_reply, LinkOpener, ReplyEnd, SerialStream, Timing,
};

use crate::registry::{BoardDecl, Driver, OtherRow, PresetLayout};

/// NeuroPawn Knight (BrainFlow id 57).
pub static NEUROPAWN_KNIGHT: BoardDecl = BoardDecl {
    id: BoardId::NeuropawnKnight,
    name: "neuropawn_knight",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"eeg_channels":[1,2,3,4,5,6,7,8],"marker_channel":12,"name":"Knight","num_rows":13,"other_channels":[9,10],"package_num_channel":0,"sampling_rate":125,"timestamp_channel":11}"#,
    }],
    // The two lead-off status bytes, raw (BrainFlow's other rows).
    other_rows: &[
        OtherRow {
            signal: "loff_statp",
            checked_by_default: true,
        },
        OtherRow {
            signal: "loff_statn",
            checked_by_default: true,
        },
    ],
    brainflow_withheld_rows: [0; 3],
    driver: Driver::Serial(|params, opener| {
        Box::new(KnightBoard::with_opener(
            params.serial_port.clone(),
            opener,
            Timing::from_params(params),
        ))
    }),
    // The C++ implementation (ffi/cpp, built by ci/build-plugins.sh).
    cpp_plugin: Some("libboardloop_knight_cpp.so"),
};

/// Row of the host timestamp (BrainFlow's `timestamp_channel`).
const TIMESTAMP_ROW: usize = 11;
/// Row of the marker (BrainFlow's `marker_channel`).
const MARKER_ROW: usize = 12;
/// How a Knight config reply ends: no terminator, so only when the device
/// goes idle; at most 4096 bytes are kept, as BrainFlow's buffer holds.
const REPLY_END: ReplyEnd = ReplyEnd {
    terminator: None,
    max_bytes: 4096,
    truncate: true,
};

/// A NeuroPawn Knight session.
pub struct KnightBoard {
    port_name: String,
    opener: LinkOpener,
    timing: Timing,
    stream: SerialStream<KnightDecoder>,
    prepared: bool,
}

impl KnightBoard {
    /// A session that opens its link with `opener` on `prepare_session`;
    /// `port_name` names it in messages (an empty name is refused, as
    /// BrainFlow refuses an empty `serial_port`).
    pub fn with_opener(port_name: String, opener: LinkOpener, timing: Timing) -> Self {
        KnightBoard {
            port_name,
            opener,
            timing,
            stream: SerialStream::new(KnightDecoder::new()),
            prepared: false,
        }
    }

    fn check_preset(&self, preset: Preset) -> Result<()> {
        check_default_preset("Knight", preset)
    }
}

impl Board for KnightBoard {
    fn board_id(&self) -> BoardId {
        BoardId::NeuropawnKnight
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.prepared {
            return Ok(());
        }
        if self.port_name.is_empty() {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                "serial port is empty",
            ));
        }
        let link = (self.opener)()?;
        self.stream.attach(link);
        self.prepared = true;
        Ok(())
    }

    fn is_prepared(&self) -> bool {
        self.prepared
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        if !self.prepared {
            return Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            ));
        }
        // Knight checks in BrainFlow's order: running stream before size.
        self.stream.check_not_streaming()?;
        check_buffer_size(buffer_size)?;
        self.stream.reset_for_stream(buffer_size, NUM_ROWS);
        // The board streams all the time: what arrived before now is stale
        // (BrainFlow's `serial->flush_buffer ()`).
        self.stream.on_link(|l| l.clear_input()).map_err(|e| {
            BoardError::new(
                ExitCode::IncommingMsg,
                format!("unable to flush {}: {e}", self.port_name),
            )
        })?;
        self.stream.spawn_reader(
            "boardloop-knight-reader",
            self.timing.poll_interval,
            TIMESTAMP_ROW,
            MARKER_ROW,
            &self.port_name,
        )
    }

    fn stop_stream(&mut self) -> Result<()> {
        if !self.stream.is_streaming() {
            return Err(BoardError::new(
                ExitCode::StreamThreadIsNotRunning,
                "stream is not running",
            ));
        }
        // No stop command: the board streams on its own.
        match self.stream.join_reader() {
            Some(err) => Err(BoardError::new(ExitCode::IncommingMsg, err)),
            None => Ok(()),
        }
    }

    fn release_session(&mut self) -> Result<()> {
        if !self.prepared {
            return Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            ));
        }
        if self.stream.is_streaming() {
            let _ = self.stop_stream();
        }
        // The link was opened by prepare_session: dropping it closes the port.
        drop(self.stream.detach());
        self.prepared = false;
        Ok(())
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        if !self.prepared {
            return Err(BoardError::new(
                ExitCode::BoardNotReady,
                "session is not prepared",
            ));
        }
        if let Some(err) = self.stream.link_error() {
            return Err(BoardError::new(ExitCode::BoardWrite, err));
        }
        let write_err = |e: io::Error| {
            BoardError::new(
                ExitCode::BoardWrite,
                format!("unable to write {config:?} to {}: {e}", self.port_name),
            )
        };
        if self.stream.is_streaming() {
            // A reply would be mixed with packets: BrainFlow returns none.
            self.stream
                .on_link(|l| l.write_all(config.as_bytes()))
                .map_err(write_err)?;
            return Ok(String::new());
        }
        self.stream
            .on_link(|l| {
                l.write_all(config.as_bytes())?;
                read_reply(l, &self.timing, &REPLY_END)
            })
            .map_err(write_err)
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        self.check_preset(preset)?;
        self.stream.insert_marker(value, self.prepared)
    }

    fn get_board_data_count(&self, preset: Preset) -> Result<usize> {
        self.check_preset(preset)?;
        self.stream.data_count(self.prepared)
    }

    fn get_board_data(&mut self, n: Option<usize>, preset: Preset) -> Result<Data> {
        self.check_preset(preset)?;
        self.stream.take_data(n, self.prepared)
    }

    fn get_current_board_data(&self, n: usize, preset: Preset) -> Result<Data> {
        self.check_preset(preset)?;
        self.stream.current_data(n, self.prepared)
    }

    fn stream_stats(&self) -> StreamStats {
        self.stream.stats()
    }
}

impl Drop for KnightBoard {
    fn drop(&mut self) {
        // Never leave a reader thread running against a dropped session.
        if self.prepared {
            let _ = self.release_session();
        }
    }
}

#[cfg(test)]
mod tests;

//! The one serial board: [`SerialBoard`] implements [`Board`] for every
//! serial protocol, so BrainFlow's session rules (which call needs a prepared
//! session, which exit code each misuse gets, what survives a lost link) are
//! written once. A protocol ([`SerialProtocol`]) supplies only what differs:
//! its decoder and its handshake, start, stop and config as sans-IO steps
//! ([`crate::steps`]), which this board performs on the link with real time.

use std::time::Instant;

use crate::board::{Board, StreamStats};
use crate::codec::Decoder;
use crate::data::Data;
use crate::descr::{board_descr, BoardDescr};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::link::SerialLink;
use crate::serial_session::{
    check_buffer_size, check_default_preset, check_prepared, SerialStream,
};
use crate::steps::{run, Command, Outcome, ReplyEnd, SerialIo, SerialStep, Step};
use crate::streamer::Streamer;

pub use crate::serial_session::{LinkOpener, Timing, MAX_CAPTURE_SAMPLES};

/// What one serial board does its own way; everything else is
/// [`SerialBoard`]'s.
pub trait SerialProtocol: Send + 'static {
    /// Turns the byte stream into rows.
    type Decoder: Decoder;
    /// Name of the streaming thread (shows in debuggers and panics).
    const READER_THREAD: &'static str;
    /// `start_stream` checks for a running stream before the buffer size
    /// (BrainFlow's Knight) rather than after (its OpenBCI boards).
    const STREAM_CHECK_FIRST: bool = false;
    /// Where a reply to a config command ends.
    const REPLY_END: ReplyEnd;
    /// The exit code of a config reply that could not be read.
    const REPLY_ERROR: ExitCode;

    /// The board's BrainFlow id.
    fn board_id(&self) -> BoardId;
    /// A fresh decoder for a new session.
    fn decoder(&self) -> Self::Decoder;
    /// Refuses a port name before anything is opened (default: any).
    fn check_port(&self, _port: &str) -> Result<()> {
        Ok(())
    }
    /// The handshake `prepare_session` runs on the freshly opened link, if
    /// the board has one.
    fn handshake(&self, port: &str, timing: &Timing) -> Option<SerialStep>;
    /// Applies a successful handshake to the decoder (e.g. default gains).
    fn handshake_done(&self, _decoder: &mut Self::Decoder) {}
    /// What `start_stream` does on the link before the reader starts.
    fn start(&self, port: &str, timing: &Timing) -> SerialStep;
    /// What `stop_stream` does on the link after the reader stopped, if anything.
    fn stop(&self, port: &str, timing: &Timing) -> Option<SerialStep>;
    /// Refuses a config command before anything is sent (default: none).
    fn check_config(&self, _decoder: &Self::Decoder, _config: &str) -> Result<()> {
        Ok(())
    }
    /// Sends `config`; while `streaming` the reply would be mixed with
    /// packets, so the step should not wait for one. By default the text is
    /// written as is and, unless streaming, its reply read until
    /// [`Self::REPLY_END`] ([`Command::config`]).
    fn config(&self, config: &str, streaming: bool, port: &str, timing: &Timing) -> SerialStep {
        Box::new(Command::config(
            config,
            streaming,
            port,
            Self::REPLY_END,
            timing,
            Self::REPLY_ERROR,
        ))
    }
    /// Applies a sent config to the decoder, given the device's reply
    /// (empty while streaming).
    fn config_done(&self, _decoder: &mut Self::Decoder, _config: &str, _reply: &str) {}
}

/// Where the session's link comes from.
enum LinkSource {
    /// Opened on each `prepare_session`, closed on release.
    Opener(LinkOpener),
    /// Supplied by the caller; parked here while the session is released.
    Given(Option<Box<dyn SerialLink>>),
}

/// A serial board session speaking protocol `P` (see [`crate::CytonBoard`],
/// [`crate::KnightBoard`]).
pub struct SerialBoard<P: SerialProtocol> {
    protocol: P,
    port_name: String,
    source: LinkSource,
    /// Crate-visible so tests can shorten a session's timeouts.
    pub(crate) timing: Timing,
    descr: BoardDescr,
    stream: SerialStream<P::Decoder>,
    prepared: bool,
}

/// Performs `step` on `link` with the real clock.
pub(crate) fn drive(step: &mut dyn Step<SerialIo>, link: &mut dyn SerialLink) -> Result<String> {
    let start = Instant::now();
    let mut buf = Vec::new();
    run(
        step,
        |io| {
            let r = match io {
                SerialIo::ClearInput => link.clear_input(),
                SerialIo::Write(bytes) => link.write_all(&bytes),
                SerialIo::Read { max, timeout } => {
                    buf.resize(max, 0);
                    return match link.read(&mut buf, timeout) {
                        Ok(0) => Outcome::TimedOut,
                        Ok(n) => Outcome::Bytes(buf[..n].to_vec()),
                        Err(e) => Outcome::Failed(e),
                    };
                }
            };
            match r {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Failed(e),
            }
        },
        || start.elapsed(),
    )
}

impl<P: SerialProtocol> SerialBoard<P> {
    /// A session over an already-open link (e.g. a [`crate::link::MemoryLink`]).
    pub fn from_link(protocol: P, link: Box<dyn SerialLink>, timing: Timing) -> Self {
        Self::new(
            protocol,
            "<link>".into(),
            LinkSource::Given(Some(link)),
            timing,
        )
    }

    /// A session that opens its link with `opener` on `prepare_session`;
    /// `port_name` is used in messages.
    pub fn from_opener(protocol: P, port_name: String, opener: LinkOpener, timing: Timing) -> Self {
        Self::new(protocol, port_name, LinkSource::Opener(opener), timing)
    }

    fn new(protocol: P, port_name: String, source: LinkSource, timing: Timing) -> Self {
        // Every board with a driver is described; fall back to an empty
        // layout rather than panic if that ever changes.
        let descr = board_descr(protocol.board_id(), Preset::Default).unwrap_or_default();
        SerialBoard {
            stream: SerialStream::new(protocol.decoder()),
            protocol,
            port_name,
            source,
            timing,
            descr,
            prepared: false,
        }
    }

    /// Sets the name used for the link in messages (e.g. the pty path a
    /// test harness connected the link to).
    pub fn named(mut self, port_name: impl Into<String>) -> Self {
        self.port_name = port_name.into();
        self
    }

    /// The session's timeouts.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// The row layout rows are produced in.
    pub fn descr(&self) -> &BoardDescr {
        &self.descr
    }

    /// True while the streaming thread is (or was, until `stop_stream`) running.
    pub fn is_streaming(&self) -> bool {
        self.stream.is_streaming()
    }

    /// Runs `f` on the decoder (under the lock the reader takes).
    pub(crate) fn with_decoder<T>(&self, f: impl FnOnce(&mut P::Decoder) -> T) -> T {
        f(&mut self.stream.state().decoder)
    }

    /// Performs `step` on the session's link, getting ahead of the reader.
    fn perform(&self, mut step: SerialStep) -> Result<String> {
        self.stream
            .on_link(|l| Ok(drive(step.as_mut(), l)))
            .unwrap_or_else(|e| {
                Err(BoardError::new(
                    ExitCode::BoardWrite,
                    format!("no link to {}: {e}", self.port_name),
                ))
            })
    }
}

impl<P: SerialProtocol> Board for SerialBoard<P> {
    fn board_id(&self) -> BoardId {
        self.protocol.board_id()
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.prepared {
            tracing::info!("session already prepared");
            return Ok(());
        }
        self.protocol.check_port(&self.port_name)?;
        let mut link = match &mut self.source {
            LinkSource::Opener(open) => open()?,
            LinkSource::Given(slot) => slot.take().ok_or_else(|| {
                BoardError::new(
                    ExitCode::PortAlreadyOpen,
                    "the link is in use by another session",
                )
            })?,
        };
        if let Some(mut step) = self.protocol.handshake(&self.port_name, &self.timing) {
            if let Err(e) = drive(step.as_mut(), link.as_mut()) {
                if let LinkSource::Given(slot) = &mut self.source {
                    *slot = Some(link);
                }
                return Err(e);
            }
            self.protocol
                .handshake_done(&mut self.stream.state().decoder);
        }
        self.stream.attach(link);
        self.prepared = true;
        Ok(())
    }

    fn is_prepared(&self) -> bool {
        self.prepared
    }

    fn is_streaming(&self) -> bool {
        self.stream.is_streaming()
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        if !self.prepared {
            return Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            ));
        }
        if P::STREAM_CHECK_FIRST {
            self.stream.check_not_streaming()?;
            check_buffer_size(buffer_size)?;
        } else {
            check_buffer_size(buffer_size)?;
            self.stream.check_not_streaming()?;
        }
        self.stream
            .reset_for_stream(buffer_size, self.descr.num_rows);
        self.perform(self.protocol.start(&self.port_name, &self.timing))?;
        self.stream.spawn_reader(
            P::READER_THREAD,
            self.timing.poll_interval,
            self.descr.timestamp_channel,
            self.descr.marker_channel,
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
        if let Some(err) = self.stream.join_reader() {
            return Err(BoardError::new(ExitCode::IncommingMsg, err));
        }
        match self.protocol.stop(&self.port_name, &self.timing) {
            Some(step) => self.perform(step).map(drop),
            None => Ok(()),
        }
    }

    fn release_session(&mut self) -> Result<()> {
        if !self.prepared {
            // BrainFlow's C API: no such session.
            return Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            ));
        }
        if self.stream.is_streaming() {
            let _ = self.stop_stream();
        }
        // An opened link is dropped (the port closes); a given one is parked.
        let link = self.stream.detach();
        if let (LinkSource::Given(slot), Some(link)) = (&mut self.source, link) {
            *slot = Some(link);
        }
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
        self.protocol
            .check_config(&self.stream.state().decoder, config)?;
        let streaming = self.stream.is_streaming();
        let step = self
            .protocol
            .config(config, streaming, &self.port_name, &self.timing);
        let reply = self.perform(step)?;
        // While streaming, settings change for the rows decoded from now on.
        self.protocol
            .config_done(&mut self.stream.state().decoder, config, &reply);
        Ok(reply)
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        check_default_preset(&self.descr.name, preset)?;
        self.stream.insert_marker(value, self.prepared)
    }

    fn get_board_data_count(&self, preset: Preset) -> Result<usize> {
        check_default_preset(&self.descr.name, preset)?;
        self.stream.data_count(self.prepared)
    }

    fn get_board_data(&mut self, n: Option<usize>, preset: Preset) -> Result<Data> {
        check_default_preset(&self.descr.name, preset)?;
        self.stream.take_data(n, self.prepared)
    }

    fn get_current_board_data(&self, n: usize, preset: Preset) -> Result<Data> {
        check_default_preset(&self.descr.name, preset)?;
        self.stream.current_data(n, self.prepared)
    }

    fn stream_stats(&self) -> StreamStats {
        self.stream.stats()
    }

    fn add_streamer(&mut self, streamer: &Streamer, preset: Preset) -> Result<()> {
        check_prepared(self.prepared)?;
        check_default_preset(&self.descr.name, preset)?;
        self.stream.add_streamer(streamer, &self.descr)
    }

    fn delete_streamer(&mut self, streamer: &Streamer, preset: Preset) -> Result<()> {
        check_prepared(self.prepared)?;
        check_default_preset(&self.descr.name, preset)?;
        self.stream.delete_streamer(streamer)
    }
}

impl<P: SerialProtocol> Drop for SerialBoard<P> {
    fn drop(&mut self) {
        // Never leave a reader thread running against a dropped session.
        if self.prepared {
            let _ = self.release_session();
        }
    }
}

/// `check_port` of the boards whose BrainFlow driver refuses an empty
/// `serial_port` before opening anything (Knight, FreeEEG).
pub fn refuse_empty_port(port: &str) -> Result<()> {
    if port.is_empty() {
        return Err(BoardError::new(
            ExitCode::InvalidArguments,
            "serial port is empty",
        ));
    }
    Ok(())
}

/// `start` of the boards that stream on their own (Knight, FreeEEG): what
/// arrived before now is stale, so the input is discarded (BrainFlow's
/// `serial->flush_buffer ()`) and nothing is sent.
pub fn discard_stale_input(port: &str) -> SerialStep {
    Box::new(Command::new(port).clear_input(Some(ExitCode::IncommingMsg)))
}

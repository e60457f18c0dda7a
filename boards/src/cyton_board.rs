//! Cyton and Cyton+Daisy sessions over any [`SerialLink`], following
//! BrainFlow's `OpenBCISerialBoard` behaviour (handshake, `b`/`s`, config).

use std::io;
use std::time::Instant;

use crate::board::{Board, StreamStats};
use crate::codec::cyton::{CytonDecoder, CytonVariant, DaisyPairing};
use crate::data::Data;
use crate::descr::{board_descr, BoardDescr};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::link::SerialLink;
use crate::serial_session::{
    check_buffer_size, check_default_preset, read_reply, ReplyEnd, SerialStream,
};
// Shared with the Knight driver; re-exported here, where they were first
// defined, so `cyton_board::Timing` and friends keep working.
pub use crate::serial_session::{LinkOpener, Timing, MAX_CAPTURE_SAMPLES};

use crate::registry::{BoardDecl, Driver, OtherRow, PresetLayout};

/// The OpenBCI boards put the packet's end byte (0xC0-0xC6) in the first
/// "other" row; checked only where a scenario asks (it changes with the mode).
const END_BYTE_ROW: &[OtherRow] = &[OtherRow {
    signal: "end_byte",
    checked_by_default: false,
}];

/// OpenBCI Cyton (BrainFlow id 0).
pub static CYTON: BoardDecl = BoardDecl {
    id: BoardId::Cyton,
    name: "cyton",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"accel_channels":[9,10,11],"analog_channels":[19,20,21],"ecg_channels":[1,2,3,4,5,6,7,8],"eeg_channels":[1,2,3,4,5,6,7,8],"eeg_names":"Fp1,Fp2,C3,C4,P7,P8,O1,O2","emg_channels":[1,2,3,4,5,6,7,8],"eog_channels":[1,2,3,4,5,6,7,8],"marker_channel":23,"name":"Cyton","num_rows":24,"other_channels":[12,13,14,15,16,17,18],"package_num_channel":0,"sampling_rate":250,"timestamp_channel":22}"#,
    }],
    other_rows: END_BYTE_ROW,
    brainflow_withheld_rows: [0; 3],
    driver: Driver::Serial(|params, opener| {
        Box::new(CytonBoard::with_opener(
            CytonVariant::Cyton,
            params.serial_port.clone(),
            opener,
            Timing::from_params(params),
        ))
    }),
    cpp_plugin: None,
};

/// OpenBCI Cyton with the Daisy module (BrainFlow id 2).
pub static CYTON_DAISY: BoardDecl = BoardDecl {
    id: BoardId::CytonDaisy,
    name: "cyton_daisy",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"accel_channels":[17,18,19],"analog_channels":[27,28,29],"ecg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eeg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eeg_names":"Fp1,Fp2,C3,C4,P7,P8,O1,O2,F7,F8,F3,F4,T7,T8,P3,P4","emg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eog_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"marker_channel":31,"name":"CytonDaisy","num_rows":32,"other_channels":[20,21,22,23,24,25,26],"package_num_channel":0,"sampling_rate":125,"timestamp_channel":30}"#,
    }],
    other_rows: END_BYTE_ROW,
    brainflow_withheld_rows: [0; 3],
    driver: Driver::Serial(|params, opener| {
        Box::new(CytonBoard::with_opener(
            CytonVariant::Daisy,
            params.serial_port.clone(),
            opener,
            Timing::from_params(params),
        ))
    }),
    cpp_plugin: None,
};

/// Longest handshake banner BrainFlow reads before giving up.
const MAX_BANNER_BYTES: usize = 500;

/// How a Cyton config reply ends: the firmware closes it with `$$$`; the
/// limit only stops a babbling device from hanging a call.
const REPLY_END: ReplyEnd = ReplyEnd {
    terminator: Some(b"$$$"),
    max_bytes: 64 * 1024,
    truncate: false,
};

/// Where the session's link comes from.
enum LinkSource {
    /// Opened on each `prepare_session`, closed on release.
    Opener(LinkOpener),
    /// Supplied by the caller; parked here while the session is released.
    Given(Option<Box<dyn SerialLink>>),
}

fn preview(bytes: &[u8]) -> String {
    let n = bytes.len().min(120);
    format!("{:?}", String::from_utf8_lossy(&bytes[..n]))
}

/// An OpenBCI Cyton or Cyton+Daisy session.
pub struct CytonBoard {
    variant: CytonVariant,
    port_name: String,
    source: LinkSource,
    timing: Timing,
    descr: BoardDescr,
    stream: SerialStream<CytonDecoder>,
    prepared: bool,
}

impl CytonBoard {
    /// A session over an already-open link (e.g. a [`crate::link::MemoryLink`]).
    pub fn with_link(variant: CytonVariant, link: Box<dyn SerialLink>, timing: Timing) -> Self {
        Self::new(
            variant,
            "<link>".into(),
            LinkSource::Given(Some(link)),
            timing,
        )
    }

    /// A session that opens its link with `opener` on `prepare_session`;
    /// `port_name` is used in messages.
    pub fn with_opener(
        variant: CytonVariant,
        port_name: String,
        opener: LinkOpener,
        timing: Timing,
    ) -> Self {
        Self::new(variant, port_name, LinkSource::Opener(opener), timing)
    }

    fn new(variant: CytonVariant, port_name: String, source: LinkSource, timing: Timing) -> Self {
        let id = Self::id_of(variant);
        // Both ids are always described; fall back to an empty layout
        // rather than panic if that ever changes.
        let descr = board_descr(id, Preset::Default).unwrap_or_default();
        CytonBoard {
            variant,
            port_name,
            source,
            timing,
            descr,
            stream: SerialStream::new(CytonDecoder::new(variant)),
            prepared: false,
        }
    }

    fn id_of(variant: CytonVariant) -> BoardId {
        match variant {
            CytonVariant::Cyton => BoardId::Cyton,
            CytonVariant::Daisy => BoardId::CytonDaisy,
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

    /// Chooses how Daisy packets become rows (see [`DaisyPairing`]); takes
    /// effect for packets decoded from now on.
    pub fn set_daisy_pairing(&mut self, pairing: DaisyPairing) {
        self.stream.state().decoder.set_daisy_pairing(pairing);
    }

    /// Current channel gains as tracked from configuration commands.
    pub fn gains(&self) -> Vec<f64> {
        self.stream.state().decoder.gains().to_vec()
    }

    /// True while the streaming thread is (or was, until `stop_stream`) running.
    pub fn is_streaming(&self) -> bool {
        self.stream.is_streaming()
    }

    /// Runs `f` on the link, getting ahead of the streaming thread.
    fn on_link<T>(&self, f: impl FnOnce(&mut dyn SerialLink) -> io::Result<T>) -> io::Result<T> {
        self.stream.on_link(f)
    }

    fn check_preset(&self, preset: Preset) -> Result<()> {
        check_default_preset(&self.descr.name, preset)
    }

    fn link_lost(&self) -> Option<String> {
        self.stream.link_error()
    }

    /// BrainFlow's `status_check`: `v` until `$$$`, then `d` (defaults).
    fn handshake(&self, link: &mut dyn SerialLink) -> Result<()> {
        let port = &self.port_name;
        let t = &self.timing;
        // Stale bytes from an earlier session would confuse the banner search.
        let _ = link.clear_input();
        link.write_all(b"v").map_err(|e| {
            BoardError::new(
                ExitCode::BoardWrite,
                format!("unable to write 'v' to {port}: {e}"),
            )
        })?;
        let start = Instant::now();
        let mut got: Vec<u8> = Vec::new();
        let mut empty = 0u32;
        let not_ready = |got: &[u8], why: &str| {
            BoardError::new(
                ExitCode::BoardNotReady,
                format!(
                    "board on {port} is not ready: {why} after {:.1} s; received {} bytes: {}",
                    start.elapsed().as_secs_f64(),
                    got.len(),
                    preview(got)
                ),
            )
        };
        loop {
            if got.len() >= MAX_BANNER_BYTES {
                return Err(not_ready(&got, "no '$$$' in the first 500 bytes"));
            }
            let per_read = match t.total_timeout {
                Some(total) => {
                    let left = total.saturating_sub(start.elapsed());
                    if left.is_zero() {
                        return Err(not_ready(&got, "no '$$$' (timeout)"));
                    }
                    left.min(t.read_timeout)
                }
                None => t.read_timeout,
            };
            let mut buf = [0u8; 64];
            let room = (MAX_BANNER_BYTES - got.len()).min(buf.len());
            match link.read(&mut buf[..room], per_read) {
                Ok(0) => {
                    empty += 1;
                    if t.total_timeout.is_none() && empty > t.max_empty_reads {
                        return Err(not_ready(&got, "no '$$$'"));
                    }
                }
                Ok(n) => {
                    empty = 0;
                    got.extend_from_slice(&buf[..n]);
                    if got.windows(3).any(|w| w == b"$$$") {
                        break;
                    }
                }
                Err(e) => return Err(not_ready(&got, &format!("read failed ({e})"))),
            }
        }
        tracing::debug!(port = %port, banner = %String::from_utf8_lossy(&got), "board answered 'v'");
        link.write_all(b"d").map_err(|e| {
            BoardError::new(
                ExitCode::BoardWrite,
                format!("unable to write 'd' to {port}: {e}"),
            )
        })?;
        let reply = self.read_reply(link).map_err(|e| {
            BoardError::new(
                ExitCode::BoardNotReady,
                format!("no reply to 'd' from {port}: {e}"),
            )
        })?;
        if reply.starts_with("Failure") {
            return Err(BoardError::new(
                ExitCode::BoardNotReady,
                format!("board on {port} refused defaults: {reply:?}"),
            ));
        }
        self.stream.state().decoder.apply_config("d");
        Ok(())
    }

    /// Collects a reply: waits up to `read_timeout` for the first byte, then
    /// until an idle gap or the `$$$` terminator Cyton replies end with.
    fn read_reply(&self, link: &mut dyn SerialLink) -> io::Result<String> {
        read_reply(link, &self.timing, &REPLY_END)
    }

    fn spawn_reader(&mut self) -> Result<()> {
        self.stream.spawn_reader(
            "boardloop-cyton-reader",
            self.timing.poll_interval,
            self.descr.timestamp_channel,
            self.descr.marker_channel,
            &self.port_name,
        )
    }
}

impl Board for CytonBoard {
    fn board_id(&self) -> BoardId {
        Self::id_of(self.variant)
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.prepared {
            tracing::info!("session already prepared");
            return Ok(());
        }
        let mut link = match &mut self.source {
            LinkSource::Opener(open) => open()?,
            LinkSource::Given(slot) => slot.take().ok_or_else(|| {
                BoardError::new(
                    ExitCode::PortAlreadyOpen,
                    "the link is in use by another session",
                )
            })?,
        };
        if let Err(e) = self.handshake(link.as_mut()) {
            if let LinkSource::Given(slot) = &mut self.source {
                *slot = Some(link);
            }
            return Err(e);
        }
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
        check_buffer_size(buffer_size)?;
        self.stream.check_not_streaming()?;
        self.stream
            .reset_for_stream(buffer_size, self.descr.num_rows);
        // Leftover replies must not be decoded as the first packets.
        self.on_link(|l| {
            let _ = l.clear_input();
            l.write_all(b"b")
        })
        .map_err(|e| {
            BoardError::new(
                ExitCode::BoardWrite,
                format!("unable to write 'b' to {}: {e}", self.port_name),
            )
        })?;
        self.spawn_reader()
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
        self.on_link(|l| l.write_all(b"s")).map_err(|e| {
            BoardError::new(
                ExitCode::BoardWrite,
                format!("unable to write 's' to {}: {e}", self.port_name),
            )
        })
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
        if let Some(err) = self.link_lost() {
            return Err(BoardError::new(ExitCode::BoardWrite, err));
        }
        self.stream
            .state()
            .decoder
            .check_config(config)
            .map_err(|e| BoardError::new(ExitCode::InvalidArguments, e))?;
        let write_err = |e: io::Error| {
            BoardError::new(
                ExitCode::BoardWrite,
                format!("unable to write {config:?} to {}: {e}", self.port_name),
            )
        };
        if self.stream.is_streaming() {
            // The reply would be interleaved with packets: BrainFlow returns
            // nothing. Gains change for the rows decoded from now on.
            self.on_link(|l| l.write_all(config.as_bytes()))
                .map_err(write_err)?;
            self.stream.state().decoder.apply_config(config);
            return Ok(String::new());
        }
        self.on_link(|l| l.write_all(config.as_bytes()))
            .map_err(write_err)?;
        let reply = self.on_link(|l| self.read_reply(l)).map_err(|e| {
            BoardError::new(
                ExitCode::IncommingMsg,
                format!("no reply to {config:?} from {}: {e}", self.port_name),
            )
        })?;
        // The firmware leaves settings unchanged when it answers "Failure".
        if !reply.starts_with("Failure") {
            self.stream.state().decoder.apply_config(config);
        }
        Ok(reply)
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

impl Drop for CytonBoard {
    fn drop(&mut self) {
        // Never leave a reader thread running against a dropped session.
        if self.prepared {
            let _ = self.release_session();
        }
    }
}

#[cfg(test)]
mod tests;

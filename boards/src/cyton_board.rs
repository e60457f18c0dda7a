//! Cyton and Cyton+Daisy sessions over any [`SerialLink`], following
//! BrainFlow's `OpenBCISerialBoard` behaviour (handshake, `b`/`s`, config).

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::board::{Board, StreamStats};
use crate::codec::cyton::{CytonDecoder, CytonVariant, DaisyPairing};
use crate::data::Data;
use crate::descr::{board_descr, BoardDescr};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::link::SerialLink;
use crate::params::InputParams;
use crate::ring::RingBuffer;

/// BrainFlow's upper bound on a ring buffer (`MAX_CAPTURE_SAMPLES`).
pub const MAX_CAPTURE_SAMPLES: usize = 86_400 * 250;

/// Longest handshake banner BrainFlow reads before giving up.
const MAX_BANNER_BYTES: usize = 500;

/// Longest config reply collected, so a babbling device cannot hang a call.
const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Opens the link when a session is prepared (BrainFlow opens the port in
/// `prepare_session`, not in the constructor).
pub type LinkOpener = Box<dyn FnMut() -> Result<Box<dyn SerialLink>> + Send>;

/// Timeouts of a session. The defaults are BrainFlow's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// One read during the handshake, and the wait for a config reply's first byte.
    pub read_timeout: Duration,
    /// Handshake fails after more than this many consecutive empty reads
    /// (used when `total_timeout` is `None`).
    pub max_empty_reads: u32,
    /// Overall handshake deadline (`params.timeout` seconds when > 0).
    pub total_timeout: Option<Duration>,
    /// A reply is complete once the device is silent this long.
    pub idle_gap: Duration,
    /// Read timeout of the streaming thread; bounds stop and config latency.
    pub poll_interval: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            read_timeout: Duration::from_secs(1),
            max_empty_reads: 5,
            total_timeout: None,
            idle_gap: Duration::from_millis(150),
            poll_interval: Duration::from_millis(20),
        }
    }
}

impl Timing {
    /// BrainFlow defaults, with `params.timeout` (seconds, if > 0) as the
    /// overall handshake deadline.
    pub fn from_params(params: &InputParams) -> Self {
        Timing {
            total_timeout: (params.timeout > 0)
                .then(|| Duration::from_secs(params.timeout.unsigned_abs().into())),
            ..Timing::default()
        }
    }
}

/// Where the session's link comes from.
enum LinkSource {
    /// Opened on each `prepare_session`, closed on release.
    Opener(LinkOpener),
    /// Supplied by the caller; parked here while the session is released.
    Given(Option<Box<dyn SerialLink>>),
}

/// What the streaming thread shares with the session.
struct StreamState {
    decoder: CytonDecoder,
    ring: Option<RingBuffer>,
    markers: VecDeque<f64>,
    link_error: Option<String>,
    bytes_read: u64,
}

struct Shared {
    link: Mutex<Option<Box<dyn SerialLink>>>,
    /// Set while the session waits for the link: `std::sync::Mutex` is not
    /// fair, and the streaming thread relocks it immediately after each read.
    writer_waiting: AtomicBool,
    keep_alive: AtomicBool,
    state: Mutex<StreamState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data stays consistent across a panic in another holder (plain
    // counters and buffers), so keep going rather than poisoning the session.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
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
    shared: Arc<Shared>,
    prepared: bool,
    thread: Option<JoinHandle<()>>,
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
            shared: Arc::new(Shared {
                link: Mutex::new(None),
                writer_waiting: AtomicBool::new(false),
                keep_alive: AtomicBool::new(false),
                state: Mutex::new(StreamState {
                    decoder: CytonDecoder::new(variant),
                    ring: None,
                    markers: VecDeque::new(),
                    link_error: None,
                    bytes_read: 0,
                }),
            }),
            prepared: false,
            thread: None,
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
        lock(&self.shared.state).decoder.set_daisy_pairing(pairing);
    }

    /// Current channel gains as tracked from configuration commands.
    pub fn gains(&self) -> Vec<f64> {
        lock(&self.shared.state).decoder.gains().to_vec()
    }

    /// True while the streaming thread is (or was, until `stop_stream`) running.
    pub fn is_streaming(&self) -> bool {
        self.thread.is_some()
    }

    /// Runs `f` on the link, getting ahead of the streaming thread.
    fn on_link<T>(&self, f: impl FnOnce(&mut dyn SerialLink) -> io::Result<T>) -> io::Result<T> {
        self.shared.writer_waiting.store(true, Ordering::Release);
        let mut g = lock(&self.shared.link);
        self.shared.writer_waiting.store(false, Ordering::Release);
        match g.as_mut() {
            Some(link) => f(link.as_mut()),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "link is not open",
            )),
        }
    }

    fn check_preset(&self, preset: Preset) -> Result<()> {
        if preset == Preset::Default {
            Ok(())
        } else {
            Err(BoardError::new(
                ExitCode::InvalidArguments,
                format!("{} has no {:?} preset", self.descr.name, preset),
            ))
        }
    }

    fn link_lost(&self) -> Option<String> {
        lock(&self.shared.state).link_error.clone()
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
        lock(&self.shared.state).decoder.apply_config("d");
        Ok(())
    }

    /// Collects a reply: waits up to `read_timeout` for the first byte, then
    /// until an idle gap or the `$$$` terminator Cyton replies end with.
    fn read_reply(&self, link: &mut dyn SerialLink) -> io::Result<String> {
        let t = &self.timing;
        let hard_stop = Instant::now() + t.read_timeout * 5;
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            let wait = if got.is_empty() {
                t.read_timeout
            } else {
                t.idle_gap
            };
            let n = link.read(&mut buf, wait)?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if got.ends_with(b"$$$") || got.len() >= MAX_REPLY_BYTES || Instant::now() > hard_stop {
                break;
            }
        }
        Ok(String::from_utf8_lossy(&got).into_owned())
    }

    fn spawn_reader(&mut self) -> Result<()> {
        let shared = self.shared.clone();
        let poll = self.timing.poll_interval;
        let ts_row = self.descr.timestamp_channel;
        let marker_row = self.descr.marker_channel;
        let port = self.port_name.clone();
        shared.keep_alive.store(true, Ordering::Release);
        let handle = std::thread::Builder::new()
            .name("boardloop-cyton-reader".into())
            .spawn(move || reader_loop(&shared, poll, ts_row, marker_row, &port))
            .map_err(|e| {
                BoardError::new(
                    ExitCode::StreamThread,
                    format!("unable to start reader: {e}"),
                )
            })?;
        self.thread = Some(handle);
        Ok(())
    }

    /// Stops and joins the reader; returns the link error it hit, if any.
    fn join_reader(&mut self) -> Option<String> {
        self.shared.keep_alive.store(false, Ordering::Release);
        if let Some(h) = self.thread.take() {
            if h.join().is_err() {
                tracing::error!("reader thread panicked");
            }
        }
        self.link_lost()
    }
}

/// The streaming thread: read, decode, stamp, buffer, until told to stop or
/// the link fails. Rows already buffered survive a failure.
fn reader_loop(shared: &Shared, poll: Duration, ts_row: usize, marker_row: usize, port: &str) {
    let mut buf = vec![0u8; 4096];
    let mut rows: Vec<Vec<f64>> = Vec::new();
    while shared.keep_alive.load(Ordering::Acquire) {
        while shared.writer_waiting.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let res = match lock(&shared.link).as_mut() {
            Some(link) => link.read(&mut buf, poll),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "link is not open",
            )),
        };
        let n = match res {
            Ok(0) => continue,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let msg = format!("link to {port} lost while streaming: {e}");
                tracing::error!("{msg}");
                lock(&shared.state).link_error = Some(msg);
                break;
            }
        };
        let now = unix_now();
        let mut st = lock(&shared.state);
        st.bytes_read += n as u64;
        st.decoder.push(&buf[..n], &mut rows);
        for mut row in rows.drain(..) {
            row[ts_row] = now;
            row[marker_row] = st.markers.pop_front().unwrap_or(0.0);
            if let Some(ring) = st.ring.as_mut() {
                ring.push(&row);
            }
        }
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
        *lock(&self.shared.link) = Some(link);
        {
            let mut st = lock(&self.shared.state);
            st.link_error = None;
            st.ring = None;
            st.markers.clear();
        }
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
        if buffer_size == 0 || buffer_size > MAX_CAPTURE_SAMPLES {
            return Err(BoardError::new(
                ExitCode::InvalidBufferSize,
                format!("buffer size {buffer_size} not in 1..={MAX_CAPTURE_SAMPLES}"),
            ));
        }
        if self.thread.is_some() {
            return Err(BoardError::new(
                ExitCode::StreamAlreadyRun,
                "stream is already running",
            ));
        }
        {
            let mut st = lock(&self.shared.state);
            st.ring = Some(RingBuffer::new(buffer_size, self.descr.num_rows));
            st.decoder.reset_stream();
            st.link_error = None;
            st.bytes_read = 0;
        }
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
        if self.thread.is_none() {
            return Err(BoardError::new(
                ExitCode::StreamThreadIsNotRunning,
                "stream is not running",
            ));
        }
        if let Some(err) = self.join_reader() {
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
        if self.thread.is_some() {
            let _ = self.stop_stream();
        }
        let link = lock(&self.shared.link).take();
        if let (LinkSource::Given(slot), Some(link)) = (&mut self.source, link) {
            *slot = Some(link);
        }
        let mut st = lock(&self.shared.state);
        st.ring = None;
        st.markers.clear();
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
        lock(&self.shared.state)
            .decoder
            .check_config(config)
            .map_err(|e| BoardError::new(ExitCode::InvalidArguments, e))?;
        let write_err = |e: io::Error| {
            BoardError::new(
                ExitCode::BoardWrite,
                format!("unable to write {config:?} to {}: {e}", self.port_name),
            )
        };
        if self.thread.is_some() {
            // The reply would be interleaved with packets: BrainFlow returns
            // nothing. Gains change for the rows decoded from now on.
            self.on_link(|l| l.write_all(config.as_bytes()))
                .map_err(write_err)?;
            lock(&self.shared.state).decoder.apply_config(config);
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
            lock(&self.shared.state).decoder.apply_config(config);
        }
        Ok(reply)
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        self.check_preset(preset)?;
        if value == 0.0 || !value.is_finite() {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                format!("marker value {value} is reserved or not finite"),
            ));
        }
        if !self.prepared {
            return Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            ));
        }
        lock(&self.shared.state).markers.push_back(value);
        Ok(())
    }

    fn get_board_data_count(&self, preset: Preset) -> Result<usize> {
        self.check_preset(preset)?;
        let st = lock(&self.shared.state);
        match &st.ring {
            Some(r) => Ok(r.count()),
            None => Err(self.no_buffer()),
        }
    }

    fn get_board_data(&mut self, n: Option<usize>, preset: Preset) -> Result<Data> {
        self.check_preset(preset)?;
        if n == Some(0) {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                "requested 0 samples",
            ));
        }
        let mut st = lock(&self.shared.state);
        match st.ring.as_mut() {
            Some(r) => Ok(r.pop_oldest(n.unwrap_or(usize::MAX))),
            None => Err(self.no_buffer()),
        }
    }

    fn get_current_board_data(&self, n: usize, preset: Preset) -> Result<Data> {
        self.check_preset(preset)?;
        let st = lock(&self.shared.state);
        match &st.ring {
            Some(r) => Ok(r.peek_newest(n)),
            None => Err(self.no_buffer()),
        }
    }

    fn stream_stats(&self) -> StreamStats {
        let st = lock(&self.shared.state);
        StreamStats {
            decode: st.decoder.stats().clone(),
            link_error: st.link_error.clone(),
            bytes_read: st.bytes_read,
        }
    }
}

impl CytonBoard {
    fn no_buffer(&self) -> BoardError {
        if self.prepared {
            // BrainFlow answers INVALID_ARGUMENTS: no buffer exists for the preset.
            BoardError::new(
                ExitCode::InvalidArguments,
                "no buffer: start_stream was not called",
            )
        } else {
            BoardError::new(ExitCode::BoardNotCreated, "session is not prepared")
        }
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

//! NeuroPawn Knight sessions over any [`SerialLink`], following BrainFlow
//! 5.23's `KnightBase`/`Knight` (`src/board_controller/neuropawn/`): no
//! handshake (prepare only opens the port), no start or stop command (the
//! board streams on its own; `start_stream` discards stale input and starts
//! reading), config text passed through, its reply read until the device is
//! idle when not streaming.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::board::{Board, StreamStats};
use crate::codec::knight::{KnightDecoder, NUM_ROWS};
use crate::cyton_board::{LinkOpener, Timing, MAX_CAPTURE_SAMPLES};
use crate::data::Data;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::link::SerialLink;
use crate::ring::RingBuffer;

/// Row of the host timestamp (BrainFlow's `timestamp_channel`).
const TIMESTAMP_ROW: usize = 11;
/// Row of the marker (BrainFlow's `marker_channel`).
const MARKER_ROW: usize = 12;
/// Longest config reply kept (BrainFlow keeps 4096 bytes).
const MAX_REPLY_BYTES: usize = 4096;

/// What the streaming thread shares with the session.
struct StreamState {
    decoder: KnightDecoder,
    ring: Option<RingBuffer>,
    markers: VecDeque<f64>,
    link_error: Option<String>,
    bytes_read: u64,
}

struct Shared {
    link: Mutex<Option<Box<dyn SerialLink>>>,
    /// Set while the session waits for the link, so the reader (which
    /// relocks right after each read) lets it in.
    writer_waiting: AtomicBool,
    keep_alive: AtomicBool,
    state: Mutex<StreamState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain counters and buffers stay consistent across a panic elsewhere.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A NeuroPawn Knight session.
pub struct KnightBoard {
    port_name: String,
    opener: LinkOpener,
    timing: Timing,
    shared: Arc<Shared>,
    prepared: bool,
    thread: Option<JoinHandle<()>>,
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
            shared: Arc::new(Shared {
                link: Mutex::new(None),
                writer_waiting: AtomicBool::new(false),
                keep_alive: AtomicBool::new(false),
                state: Mutex::new(StreamState {
                    decoder: KnightDecoder::new(),
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
                format!("Knight has no {preset:?} preset"),
            ))
        }
    }

    fn no_buffer(&self) -> BoardError {
        if self.prepared {
            BoardError::new(
                ExitCode::InvalidArguments,
                "no buffer: start_stream was not called",
            )
        } else {
            BoardError::new(ExitCode::BoardNotCreated, "session is not prepared")
        }
    }

    /// Collects a reply: up to `read_timeout` for the first byte, then until
    /// the device is idle for `idle_gap` (the Knight has no terminator).
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
            if got.len() >= MAX_REPLY_BYTES || Instant::now() > hard_stop {
                got.truncate(MAX_REPLY_BYTES);
                break;
            }
        }
        Ok(String::from_utf8_lossy(&got).into_owned())
    }

    /// Stops and joins the reader; returns the link error it hit, if any.
    fn join_reader(&mut self) -> Option<String> {
        self.shared.keep_alive.store(false, Ordering::Release);
        if let Some(h) = self.thread.take() {
            if h.join().is_err() {
                tracing::error!("knight reader thread panicked");
            }
        }
        lock(&self.shared.state).link_error.clone()
    }
}

/// The streaming thread: read, decode, stamp, buffer, until told to stop or
/// the link fails. Rows already buffered survive a failure.
fn reader_loop(shared: &Shared, poll: Duration, port: &str) {
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
            row[TIMESTAMP_ROW] = now;
            row[MARKER_ROW] = st.markers.pop_front().unwrap_or(0.0);
            if let Some(ring) = st.ring.as_mut() {
                ring.push(&row);
            }
        }
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
        *lock(&self.shared.link) = Some(link);
        let mut st = lock(&self.shared.state);
        st.link_error = None;
        st.ring = None;
        st.markers.clear();
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
        if self.thread.is_some() {
            return Err(BoardError::new(
                ExitCode::StreamAlreadyRun,
                "stream is already running",
            ));
        }
        if buffer_size == 0 || buffer_size > MAX_CAPTURE_SAMPLES {
            return Err(BoardError::new(
                ExitCode::InvalidBufferSize,
                format!("buffer size {buffer_size} not in 1..={MAX_CAPTURE_SAMPLES}"),
            ));
        }
        {
            let mut st = lock(&self.shared.state);
            st.ring = Some(RingBuffer::new(buffer_size, NUM_ROWS));
            st.decoder.reset_stream();
            st.link_error = None;
            st.bytes_read = 0;
        }
        // The board streams all the time: what arrived before now is stale
        // (BrainFlow's `serial->flush_buffer ()`).
        self.on_link(|l| l.clear_input()).map_err(|e| {
            BoardError::new(
                ExitCode::IncommingMsg,
                format!("unable to flush {}: {e}", self.port_name),
            )
        })?;
        let shared = self.shared.clone();
        let poll = self.timing.poll_interval;
        let port = self.port_name.clone();
        shared.keep_alive.store(true, Ordering::Release);
        let handle = std::thread::Builder::new()
            .name("boardloop-knight-reader".into())
            .spawn(move || reader_loop(&shared, poll, &port))
            .map_err(|e| {
                BoardError::new(
                    ExitCode::StreamThread,
                    format!("unable to start reader: {e}"),
                )
            })?;
        self.thread = Some(handle);
        Ok(())
    }

    fn stop_stream(&mut self) -> Result<()> {
        if self.thread.is_none() {
            return Err(BoardError::new(
                ExitCode::StreamThreadIsNotRunning,
                "stream is not running",
            ));
        }
        match self.join_reader() {
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
        if self.thread.is_some() {
            let _ = self.stop_stream();
        }
        lock(&self.shared.link).take();
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
        if let Some(err) = lock(&self.shared.state).link_error.clone() {
            return Err(BoardError::new(ExitCode::BoardWrite, err));
        }
        let write_err = |e: io::Error| {
            BoardError::new(
                ExitCode::BoardWrite,
                format!("unable to write {config:?} to {}: {e}", self.port_name),
            )
        };
        if self.thread.is_some() {
            // A reply would be mixed with packets: BrainFlow returns none.
            self.on_link(|l| l.write_all(config.as_bytes()))
                .map_err(write_err)?;
            return Ok(String::new());
        }
        self.on_link(|l| {
            l.write_all(config.as_bytes())?;
            self.read_reply(l)
        })
        .map_err(write_err)
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
        match &lock(&self.shared.state).ring {
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
        match lock(&self.shared.state).ring.as_mut() {
            Some(r) => Ok(r.pop_oldest(n.unwrap_or(usize::MAX))),
            None => Err(self.no_buffer()),
        }
    }

    fn get_current_board_data(&self, n: usize, preset: Preset) -> Result<Data> {
        self.check_preset(preset)?;
        match &lock(&self.shared.state).ring {
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

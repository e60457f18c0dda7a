//! The streaming plumbing under [`crate::serial_board::SerialBoard`]: the
//! link the session and the reader thread take turns on, the reader thread
//! itself, what survives a lost link, the ring buffer the rows are handed
//! to, markers and stats.
//!
//! What differs between the boards (handshake, start/stop commands, how a
//! config reply ends, which exit code a failed flush gets) is in the
//! protocols' sans-IO steps ([`crate::steps`]); this module only holds what
//! BrainFlow's `OpenBCISerialBoard` and `KnightBase` do the same way, so a
//! fix to one is a fix to both.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::board::StreamStats;
use crate::codec::{Decoder, Input, PresetRows};
use crate::data::Data;
use crate::descr::BoardDescr;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::Preset;
use crate::link::SerialLink;
use crate::outlet::{Outlet, Running};
use crate::params::InputParams;
use crate::ring::RingBuffer;
use crate::streamer::Streamer;

/// BrainFlow's upper bound on a ring buffer (`MAX_CAPTURE_SAMPLES`).
pub const MAX_CAPTURE_SAMPLES: usize = 86_400 * 250;

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

/// Locks `m`, ignoring poisoning.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data stays consistent across a panic in another holder (plain
    // counters and buffers), so keep going rather than poisoning the session.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Seconds since the Unix epoch: BrainFlow stamps rows with host time.
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// What the streaming thread shares with the session.
pub(crate) struct StreamState<D> {
    /// The board's decoder; drivers reach it through [`SerialStream::state`]
    /// for board-specific settings (e.g. Cyton gains).
    pub decoder: D,
    /// Where rows go: the caller's buffer (`None` until `start_stream`)
    /// and the streamers.
    outlet: Outlet,
    /// Why the reader stopped, if the link failed.
    link_error: Option<String>,
    bytes_read: u64,
}

struct Shared<D> {
    link: Mutex<Option<Box<dyn SerialLink>>>,
    /// Set while the session waits for the link: `std::sync::Mutex` is not
    /// fair, and the streaming thread relocks it immediately after each read.
    writer_waiting: AtomicBool,
    keep_alive: AtomicBool,
    state: Mutex<StreamState<D>>,
}

/// Refuses every preset but the default one (the serial boards have only it).
pub(crate) fn check_default_preset(board: &str, preset: Preset) -> Result<()> {
    if preset == Preset::Default {
        Ok(())
    } else {
        Err(BoardError::new(
            ExitCode::InvalidArguments,
            format!("{board} has no {preset:?} preset"),
        ))
    }
}

/// `BoardNotCreated` for an unprepared session, BrainFlow's code for a
/// call that needs one.
pub(crate) fn check_prepared(prepared: bool) -> Result<()> {
    if prepared {
        Ok(())
    } else {
        Err(crate::outlet::not_prepared())
    }
}

/// Refuses a buffer size BrainFlow refuses (`InvalidBufferSize`).
pub(crate) fn check_buffer_size(buffer_size: usize) -> Result<()> {
    if buffer_size == 0 || buffer_size > MAX_CAPTURE_SAMPLES {
        return Err(BoardError::new(
            ExitCode::InvalidBufferSize,
            format!("buffer size {buffer_size} not in 1..={MAX_CAPTURE_SAMPLES}"),
        ));
    }
    Ok(())
}

/// The link, the reader thread and the rows of one serial session.
pub(crate) struct SerialStream<D: Decoder> {
    shared: Arc<Shared<D>>,
    thread: Option<JoinHandle<()>>,
}

impl<D: Decoder> SerialStream<D> {
    /// No link, no thread, no buffer yet.
    pub fn new(decoder: D) -> Self {
        SerialStream {
            shared: Arc::new(Shared {
                link: Mutex::new(None),
                writer_waiting: AtomicBool::new(false),
                keep_alive: AtomicBool::new(false),
                state: Mutex::new(StreamState {
                    decoder,
                    outlet: Outlet::default(),
                    link_error: None,
                    bytes_read: 0,
                }),
            }),
            thread: None,
        }
    }

    /// The state the reader shares (decoder, buffer, markers), locked.
    pub fn state(&self) -> MutexGuard<'_, StreamState<D>> {
        lock(&self.shared.state)
    }

    /// True while the reader thread runs (or ran, until it is joined).
    pub fn is_streaming(&self) -> bool {
        self.thread.is_some()
    }

    /// The error that ended the reader, if the link failed.
    pub fn link_error(&self) -> Option<String> {
        self.state().link_error.clone()
    }

    /// Runs `f` on the link, getting ahead of the streaming thread.
    pub fn on_link<T>(
        &self,
        f: impl FnOnce(&mut dyn SerialLink) -> io::Result<T>,
    ) -> io::Result<T> {
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

    /// Hands a freshly prepared link to the session; nothing of an earlier
    /// session (error, buffer, markers) carries over.
    pub fn attach(&self, link: Box<dyn SerialLink>) {
        *lock(&self.shared.link) = Some(link);
        let mut st = self.state();
        st.link_error = None;
        st.outlet.clear();
    }

    /// Takes the link back on release and drops the buffer, markers and
    /// streamers (after their last rows are written, as BrainFlow closes
    /// them at release). The reader must have been joined first.
    pub fn detach(&self) -> Option<Box<dyn SerialLink>> {
        let link = lock(&self.shared.link).take();
        let gone = {
            let mut st = self.state();
            st.outlet.close()
        };
        drop(gone);
        link
    }

    /// Adds a streamer for rows laid out as `descr` says (see [`Outlet::add`]).
    pub fn add_streamer(&self, spec: &Streamer, descr: &BoardDescr) -> Result<()> {
        self.state().outlet.add(spec, descr)
    }

    /// Deletes every streamer equal to `spec`; returns once they have
    /// written what they queued (see [`Outlet::remove`]).
    pub fn delete_streamer(&self, spec: &Streamer) -> Result<()> {
        let gone: Vec<Running> = self.state().outlet.remove(spec)?;
        crate::outlet::finish_all(gone);
        Ok(())
    }

    /// Fails with `StreamAlreadyRun` while the reader runs.
    pub fn check_not_streaming(&self) -> Result<()> {
        if self.thread.is_some() {
            return Err(BoardError::new(
                ExitCode::StreamAlreadyRun,
                "stream is already running",
            ));
        }
        Ok(())
    }

    /// Fresh buffer of `buffer_size` rows of `num_rows`, fresh decoder and
    /// counters, for a new stream. Rows of an earlier stream are dropped, as
    /// BrainFlow drops them when it starts streaming again.
    pub fn reset_for_stream(&self, buffer_size: usize, num_rows: usize) {
        let mut st = self.state();
        st.outlet.ring = Some(RingBuffer::new(buffer_size, num_rows));
        st.decoder.reset();
        st.link_error = None;
        st.bytes_read = 0;
    }

    /// Starts the reader thread `name`; rows get the host time in `ts_row`
    /// and the next queued marker in `marker_row`.
    pub fn spawn_reader(
        &mut self,
        name: &str,
        poll: Duration,
        ts_row: usize,
        marker_row: usize,
        port: &str,
    ) -> Result<()> {
        let shared = self.shared.clone();
        let port = port.to_owned();
        shared.keep_alive.store(true, Ordering::Release);
        // The reader logs where its caller logs (BrainFlow's logger, when
        // called through the C library). Without a subscriber it keeps none, so
        // that a global one set later still applies.
        let dispatch = tracing::dispatcher::get_default(|d| {
            (!d.is::<tracing::subscriber::NoSubscriber>()).then(|| d.clone())
        });
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || match dispatch {
                Some(d) => tracing::dispatcher::with_default(&d, || {
                    reader_loop(&shared, poll, ts_row, marker_row, &port)
                }),
                None => reader_loop(&shared, poll, ts_row, marker_row, &port),
            })
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
    pub fn join_reader(&mut self) -> Option<String> {
        self.shared.keep_alive.store(false, Ordering::Release);
        if let Some(h) = self.thread.take() {
            let name = h.thread().name().unwrap_or("reader").to_owned();
            if h.join().is_err() {
                tracing::error!(thread = %name, "reader thread panicked");
            }
        }
        self.link_error()
    }

    /// Queues a marker for the next row (see [`Outlet::insert_marker`]).
    pub fn insert_marker(&self, value: f64, prepared: bool) -> Result<()> {
        self.state().outlet.insert_marker(value, prepared)
    }

    /// Rows waiting in the buffer.
    pub fn data_count(&self, prepared: bool) -> Result<usize> {
        self.state().outlet.count(prepared)
    }

    /// Takes the `n` oldest rows (all if `None`) out of the buffer.
    pub fn take_data(&self, n: Option<usize>, prepared: bool) -> Result<Data> {
        self.state().outlet.pop(n, prepared)
    }

    /// Copies the `n` newest rows, leaving them in the buffer.
    pub fn current_data(&self, n: usize, prepared: bool) -> Result<Data> {
        self.state().outlet.peek(n, prepared)
    }

    /// Decoder counters, link error and bytes read of the current stream.
    pub fn stats(&self) -> StreamStats {
        let st = self.state();
        StreamStats {
            decode: st.decoder.stats(Preset::Default),
            link_error: st.link_error.clone(),
            bytes_read: st.bytes_read,
            streamers: st.outlet.streamer_stats(),
        }
    }
}

/// The streaming thread: read, decode, stamp, buffer, until told to stop or
/// the link fails. Rows already buffered survive a failure: the error is only
/// recorded, so the caller can still drain what arrived before it.
fn reader_loop<D: Decoder>(
    shared: &Shared<D>,
    poll: Duration,
    ts_row: usize,
    marker_row: usize,
    port: &str,
) {
    let mut buf = vec![0u8; 4096];
    let mut rows: PresetRows = Default::default();
    while shared.keep_alive.load(Ordering::Acquire) {
        // Let a waiting writer (config, stop) take the link before relocking.
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
            // A quiet poll is passed on as empty input: a decoder that
            // confirms a packet by the start of the next one (Shimmer3) then
            // takes the last one; the others ignore it.
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let msg = format!("link to {port} lost while streaming: {e}");
                tracing::error!("{msg}");
                lock(&shared.state).link_error = Some(msg);
                break;
            }
        };
        // One timestamp per read: every row decoded from it arrived together.
        let now = unix_now();
        let mut st = lock(&shared.state);
        st.bytes_read += n as u64;
        // Serial boards have one preset.
        st.decoder.decode(Input::Bytes(&buf[..n]), &mut rows);
        // Stamped in the decoder's buffer and copied into the ring from
        // there; cleared, the buffer serves the next read without allocating.
        let st = &mut *st;
        let out = &mut rows[Preset::Default as usize];
        for row in out.iter_mut() {
            row[ts_row] = now;
            st.outlet.push_marked(row, marker_row);
        }
        out.clear();
    }
}

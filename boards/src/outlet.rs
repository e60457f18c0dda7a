//! Where one preset's rows go once decoded: the markers waiting for them,
//! the ring buffer the caller reads, and every streamer added to the preset.
//! Every session (serial, BLE, host-made) keeps one [`Outlet`] per preset, so
//! BrainFlow's data calls and their codes live here once.
//!
//! A streamer runs on its own thread behind a bounded queue. The reading
//! thread only offers each row (a copy into the queue, never a wait): a slow
//! disk or network can cost rows of the streamer, counted as dropped, but
//! never rows of the ring or time of the reader. A write or send that fails
//! (a full disk, an unreachable address) is logged and counted, and both the
//! streamer and the stream go on.
//!
//! The forms and formats are BrainFlow 5.23's (`src/board_controller/
//! file_streamer.cpp`, `multicast_streamer.cpp`):
//! * `file://PATH:w|a`: one line per row, each value as C's `%lf` prints it
//!   (six decimals), tab-separated; what `DataFilter.read_file` reads.
//! * `streaming_board://IP:PORT`: UDP datagrams to IP (a multicast group, as
//!   BrainFlow's STREAMING_BOARD joins), each `BRAINFLOW_BATCH_SIZE` rows
//!   (2 to 99, else 3) of native-endian `f64`, row after row.
//! * `plotjuggler_udp://IP:PORT` (`plotjuggler_udp_streamer.cpp`): one UDP
//!   datagram of JSON per row, `{NAME: {KIND: {CHANNEL: value}, ROW: value}}`
//!   from the preset's description (see [`PlotLayout`]).

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::Serialize;

use crate::data::Data;
use crate::descr::BoardDescr;
use crate::error::{BoardError, ExitCode, Result};
use crate::ring::RingBuffer;
use crate::streamer::Streamer;

/// Rows a streamer's queue holds: 8192 rows are 33 s of the fastest serial
/// board here (250 Hz) and 16 s of FreeEEG32 (512 Hz), for a disk or network
/// that stalls.
const QUEUE_ROWS: usize = 8192;

/// BrainFlow's default rows per multicast datagram (`get_brainflow_batch_size`).
const DEFAULT_BATCH: usize = 3;

/// How one streamer fared, for [`crate::board::StreamStats`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StreamerStats {
    /// The streamer as BrainFlow writes it (`file://rows.csv:w`).
    pub streamer: String,
    /// Rows written to the file or sent.
    pub rows_out: u64,
    /// Rows lost to a full queue: the streamer fell behind the board.
    pub rows_dropped: u64,
    /// Rows lost to failed writes or sends.
    pub rows_failed: u64,
    /// Failed writes or sends.
    pub errors: u64,
}

#[derive(Default)]
struct Counters {
    rows_out: AtomicU64,
    rows_dropped: AtomicU64,
    rows_failed: AtomicU64,
    errors: AtomicU64,
}

/// One preset's destinations (the sessions hold one per preset).
#[derive(Default)]
pub struct Outlet {
    /// Rows handed to the caller; `None` until `start_stream`.
    pub ring: Option<RingBuffer>,
    /// Markers waiting for the next rows, one per row.
    markers: VecDeque<f64>,
    streamers: Vec<Running>,
}

impl Outlet {
    /// Stamps `row`'s marker row with the next queued marker (0 if none),
    /// then pushes it (see [`Outlet::push`]).
    pub fn push_marked(&mut self, row: &mut [f64], marker_channel: usize) {
        if let Some(m) = row.get_mut(marker_channel) {
            *m = self.markers.pop_front().unwrap_or(0.0);
        }
        self.push(row);
    }

    /// Queues a marker for the next row (BrainFlow's `insert_marker`): 0 is
    /// reserved for "no marker", and an unprepared session has none.
    pub fn insert_marker(&mut self, value: f64, prepared: bool) -> Result<()> {
        if value == 0.0 || !value.is_finite() {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                format!("marker value {value} is reserved or not finite"),
            ));
        }
        if !prepared {
            return Err(not_prepared());
        }
        self.markers.push_back(value);
        Ok(())
    }

    /// Drops the buffer and the queued markers (a new session, or release);
    /// the streamers stay.
    pub fn clear(&mut self) {
        self.ring = None;
        self.markers.clear();
    }

    /// Rows waiting in the buffer.
    pub fn count(&self, prepared: bool) -> Result<usize> {
        match &self.ring {
            Some(r) => Ok(r.count()),
            None => Err(no_buffer(prepared)),
        }
    }

    /// Takes the `n` oldest rows (all if `None`) out of the buffer.
    pub fn pop(&mut self, n: Option<usize>, prepared: bool) -> Result<Data> {
        if n == Some(0) {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                "requested 0 samples",
            ));
        }
        match self.ring.as_mut() {
            Some(r) => Ok(r.pop_oldest(n.unwrap_or(usize::MAX))),
            None => Err(no_buffer(prepared)),
        }
    }

    /// Copies the `n` newest rows, leaving them in the buffer.
    pub fn peek(&self, n: usize, prepared: bool) -> Result<Data> {
        match &self.ring {
            Some(r) => Ok(r.peek_newest(n)),
            None => Err(no_buffer(prepared)),
        }
    }

    /// Buffers `row` and offers it to every streamer.
    pub fn push(&mut self, row: &[f64]) {
        if let Some(r) = self.ring.as_mut() {
            r.push(row);
        }
        for s in &self.streamers {
            s.offer(row);
        }
    }

    /// Starts `spec` for rows laid out as `descr` says. A file that cannot
    /// be opened or an address that is no IPv4 address gives
    /// `GENERAL_ERROR`, as BrainFlow's `init_streamer` does.
    pub fn add(&mut self, spec: &Streamer, descr: &BoardDescr) -> Result<()> {
        self.streamers.push(Running::start(spec, descr)?);
        Ok(())
    }

    /// Takes out every streamer equal to `spec` (BrainFlow removes them
    /// all); none gives `INVALID_ARGUMENTS_ERROR`, BrainFlow's code. Drop
    /// what it returns outside any lock the reader takes: dropping waits
    /// until the streamer has written what it queued and closed its file.
    pub fn remove(&mut self, spec: &Streamer) -> Result<Vec<Running>> {
        let (gone, kept) = std::mem::take(&mut self.streamers)
            .into_iter()
            .partition::<Vec<_>, _>(|s| &s.spec == spec);
        self.streamers = kept;
        if gone.is_empty() {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                format!("no streamer {spec} was added to this preset"),
            ));
        }
        Ok(gone)
    }

    /// Takes out every streamer (see [`Outlet::remove`]).
    pub fn take_streamers(&mut self) -> Vec<Running> {
        std::mem::take(&mut self.streamers)
    }

    /// At release: drops the buffer and markers and takes out every
    /// streamer (drop them outside the lock, see [`Outlet::remove`]).
    pub fn close(&mut self) -> Vec<Running> {
        self.clear();
        self.take_streamers()
    }

    /// How each streamer fared so far.
    pub fn streamer_stats(&self) -> Vec<StreamerStats> {
        self.streamers.iter().map(Running::stats).collect()
    }
}

/// Waits until each of `gone` has written its queue and closed, and logs
/// how it fared (`delete_streamer`).
pub(crate) fn finish_all(gone: Vec<Running>) {
    for s in gone {
        let st = s.finish();
        tracing::info!("streamer {} removed: {st:?}", st.streamer);
    }
}

/// `BoardNotCreated`, BrainFlow's code for a call that needs a prepared
/// session.
pub(crate) fn not_prepared() -> BoardError {
    BoardError::new(ExitCode::BoardNotCreated, "session is not prepared")
}

/// The error for a data call without a buffer: BrainFlow answers
/// INVALID_ARGUMENTS (no buffer exists for the preset) on a prepared
/// session, BOARD_NOT_CREATED on an unprepared one.
fn no_buffer(prepared: bool) -> BoardError {
    if prepared {
        BoardError::new(
            ExitCode::InvalidArguments,
            "no buffer: start_stream was not called",
        )
    } else {
        not_prepared()
    }
}

/// A started streamer: its queue and its thread. Dropping it closes the
/// queue and waits until the thread has written what was queued.
pub struct Running {
    spec: Streamer,
    tx: Option<SyncSender<Vec<f64>>>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn start(spec: &Streamer, descr: &BoardDescr) -> Result<Running> {
        let num_rows = descr.num_rows;
        let general = |what: String| BoardError::new(ExitCode::GeneralError, what);
        let (tx, rx) = sync_channel::<Vec<f64>>(QUEUE_ROWS);
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        let name = spec.to_string();
        let work: Box<dyn FnOnce() + Send> = match spec {
            Streamer::File { path, append } => {
                let file = OpenOptions::new()
                    .write(true)
                    .create(true)
                    .append(*append)
                    .truncate(!*append)
                    .open(path)
                    .map_err(|e| general(format!("streamer {spec}: cannot open {path:?}: {e}")))?;
                Box::new(move || write_file(file, &rx, &c, &name))
            }
            Streamer::StreamingBoard { ip, port } | Streamer::PlotJugglerUdp { ip, port } => {
                let addr: Ipv4Addr = ip.parse().map_err(|_| {
                    general(format!("streamer {spec}: {ip:?} is not an IPv4 address"))
                })?;
                let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
                    .map_err(|e| general(format!("streamer {spec}: no UDP socket: {e}")))?;
                let to = SocketAddrV4::new(addr, *port);
                if matches!(spec, Streamer::StreamingBoard { .. }) {
                    let batch = batch_size(std::env::var("BRAINFLOW_BATCH_SIZE").ok().as_deref());
                    Box::new(move || send_datagrams(&socket, to, batch, num_rows, &rx, &c, &name))
                } else {
                    let layout = PlotLayout::new(descr);
                    Box::new(move || send_json(&socket, to, &layout, &rx, &c, &name))
                }
            }
        };
        let thread = std::thread::Builder::new()
            .name("streamer".into())
            .spawn(work)
            .map_err(|e| general(format!("streamer {spec}: no thread: {e}")))?;
        Ok(Running {
            spec: spec.clone(),
            tx: Some(tx),
            counters,
            thread: Some(thread),
        })
    }

    /// Queues a copy of `row`, or counts it dropped if the queue is full.
    fn offer(&self, row: &[f64]) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(row.to_vec()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.counters.rows_dropped.fetch_add(1, Ordering::Relaxed);
            }
            // The thread ended (it never does by itself): count it too.
            Err(TrySendError::Disconnected(_)) => {
                self.counters.rows_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn stats(&self) -> StreamerStats {
        let c = &self.counters;
        StreamerStats {
            streamer: self.spec.to_string(),
            rows_out: c.rows_out.load(Ordering::Relaxed),
            rows_dropped: c.rows_dropped.load(Ordering::Relaxed),
            rows_failed: c.rows_failed.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
        }
    }
}

impl Running {
    /// Closes the queue, waits until the thread has written what was queued
    /// (and closed its file), and returns how the streamer fared.
    pub fn finish(mut self) -> StreamerStats {
        self.close();
        self.stats()
    }

    fn close(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.close();
    }
}

/// BrainFlow's `get_brainflow_batch_size`: the variable's value if it is a
/// number from 2 to 99, else 3.
fn batch_size(var: Option<&str>) -> usize {
    match var.and_then(|v| v.trim().parse::<i64>().ok()) {
        Some(n) if (2..100).contains(&n) => n as usize,
        _ => DEFAULT_BATCH,
    }
}

/// Appends `row` as BrainFlow's file streamer writes it: each value as C's
/// `%lf` (Rust's `{:.6}` rounds the same way, checked against C on 4,000
/// values including exact ties), tab-separated, then a newline.
pub fn format_row(row: &[f64], line: &mut String) {
    use std::fmt::Write as _;
    for (i, x) in row.iter().enumerate() {
        if i > 0 {
            line.push('\t');
        }
        if x.is_nan() {
            line.push_str(if x.is_sign_negative() { "-nan" } else { "nan" });
        } else {
            let _ = write!(line, "{x:.6}");
        }
    }
    line.push('\n');
}

/// Logs the first failure of a run of them and the recovery after it.
struct Trouble<'a> {
    name: &'a str,
    failing: bool,
}

impl Trouble<'_> {
    fn failed(&mut self, c: &Counters, rows: u64, e: &std::io::Error) {
        c.errors.fetch_add(1, Ordering::Relaxed);
        c.rows_failed.fetch_add(rows, Ordering::Relaxed);
        if !self.failing {
            tracing::warn!(
                "streamer {}: {e}; rows are lost until it recovers",
                self.name
            );
            self.failing = true;
        }
    }

    fn worked(&mut self, c: &Counters, rows: u64) {
        c.rows_out.fetch_add(rows, Ordering::Relaxed);
        if self.failing {
            tracing::info!("streamer {}: writing again", self.name);
            self.failing = false;
        }
    }
}

fn write_file(file: File, rx: &Receiver<Vec<f64>>, c: &Counters, name: &str) {
    let mut w = BufWriter::with_capacity(64 * 1024, file);
    let mut line = String::new();
    let mut trouble = Trouble {
        name,
        failing: false,
    };
    // Rows that arrive together are written together and flushed once the
    // queue is empty, so a reader of the file is at most one batch behind.
    while let Ok(first) = rx.recv() {
        line.clear();
        format_row(&first, &mut line);
        let mut rows = 1u64;
        while let Ok(row) = rx.try_recv() {
            format_row(&row, &mut line);
            rows += 1;
            if line.len() >= 64 * 1024 {
                break;
            }
        }
        match w.write_all(line.as_bytes()).and_then(|()| w.flush()) {
            Ok(()) => trouble.worked(c, rows),
            Err(e) => {
                trouble.failed(c, rows, &e);
                // What the failed write left buffered is lost with its rows;
                // the next batch starts clean.
                let (file, _) = w.into_parts();
                w = BufWriter::with_capacity(64 * 1024, file);
            }
        }
    }
}

fn send_datagrams(
    socket: &UdpSocket,
    to: SocketAddrV4,
    batch: usize,
    num_rows: usize,
    rx: &Receiver<Vec<f64>>,
    c: &Counters,
    name: &str,
) {
    let mut datagram = Vec::with_capacity(batch * num_rows * 8);
    let mut rows = 0;
    let mut trouble = Trouble {
        name,
        failing: false,
    };
    // As BrainFlow's: full batches only; rows short of one at the end are
    // never sent.
    while let Ok(row) = rx.recv() {
        for i in 0..num_rows {
            datagram.extend_from_slice(&row.get(i).copied().unwrap_or(0.0).to_ne_bytes());
        }
        rows += 1;
        if rows == batch {
            match socket.send_to(&datagram, to) {
                Ok(_) => trouble.worked(c, batch as u64),
                Err(e) => trouble.failed(c, batch as u64, &e),
            }
            datagram.clear();
            rows = 0;
        }
    }
}

/// BrainFlow's PlotJuggler message for one preset: every key of the
/// preset's description ending in `_channels` becomes an object of its rows
/// (`eeg_channels` -> `"eeg": {"Fz": …}`, by electrode name; accelerometer
/// rows `accel X/Y/Z`; others `channel 0`, `channel 1`, …), every key
/// containing `_channel` a value (`timestamp_channel` -> `"timestamp"`),
/// all under the preset's name. Keys sort as BrainFlow's JSON sorts them;
/// a NaN is `null`, as BrainFlow's JSON library writes it.
pub struct PlotLayout {
    name: String,
    /// (kind, channel name within the kind or `None` for a plain value, row).
    fields: Vec<(String, Option<String>, usize)>,
    /// Kinds that are objects, so an empty one still appears, as in BrainFlow.
    kinds: Vec<String>,
}

impl PlotLayout {
    /// The layout of `descr`'s rows.
    pub fn new(descr: &BoardDescr) -> PlotLayout {
        let mut fields = Vec::new();
        let mut kinds = Vec::new();
        let map = match serde_json::to_value(descr) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        let names: Vec<&str> = descr.eeg_names.split(',').collect();
        for (key, value) in &map {
            if let Some(at) = key.find("_channels") {
                let kind = format!("{}{}", &key[..at], &key[at + "_channels".len()..]);
                let rows: Vec<usize> = serde_json::from_value(value.clone()).unwrap_or_default();
                for (i, row) in rows.into_iter().enumerate() {
                    let channel = match (key.as_str(), i) {
                        ("accel_channels", 0) => "accel X".to_string(),
                        ("accel_channels", 1) => "accel Y".to_string(),
                        ("accel_channels", 2) => "accel Z".to_string(),
                        ("eeg_channels", i) if !descr.eeg_names.is_empty() && i < names.len() => {
                            names[i].to_string()
                        }
                        _ => format!("channel {i}"),
                    };
                    if row < descr.num_rows {
                        fields.push((kind.clone(), Some(channel), row));
                    }
                }
                kinds.push(kind);
            } else if let Some(at) = key.find("_channel") {
                let kind = format!("{}{}", &key[..at], &key[at + "_channel".len()..]);
                if let Some(row) = value.as_u64().map(|r| r as usize) {
                    if row < descr.num_rows {
                        fields.push((kind, None, row));
                    }
                }
            }
        }
        PlotLayout {
            name: descr.name.clone(),
            fields,
            kinds,
        }
    }

    /// The JSON text for `row`.
    pub fn message(&self, row: &[f64]) -> String {
        use serde_json::{Map, Value};
        let mut inner = Map::new();
        for k in &self.kinds {
            inner.insert(k.clone(), Value::Object(Map::new()));
        }
        for (kind, channel, i) in &self.fields {
            let v = Value::from(row.get(*i).copied().unwrap_or(0.0));
            match channel {
                Some(c) => {
                    if let Some(Value::Object(o)) = inner.get_mut(kind) {
                        o.insert(c.clone(), v);
                    }
                }
                None => {
                    inner.insert(kind.clone(), v);
                }
            }
        }
        let mut outer = Map::new();
        outer.insert(self.name.clone(), Value::Object(inner));
        Value::Object(outer).to_string()
    }
}

fn send_json(
    socket: &UdpSocket,
    to: SocketAddrV4,
    layout: &PlotLayout,
    rx: &Receiver<Vec<f64>>,
    c: &Counters,
    name: &str,
) {
    let mut trouble = Trouble {
        name,
        failing: false,
    };
    while let Ok(row) = rx.recv() {
        match socket.send_to(layout.message(&row).as_bytes(), to) {
            Ok(_) => trouble.worked(c, 1),
            Err(e) => trouble.failed(c, 1, &e),
        }
    }
}

#[cfg(test)]
mod tests;

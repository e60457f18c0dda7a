//! What every BLE board session shares: finding and connecting through a
//! [`BleConnector`], a reader thread draining the [`NotificationStream`] into
//! a decoder, one ring buffer and marker queue per preset, per-preset stats,
//! and link-loss handling (the reader logs the loss and stops; every row
//! received before it stays readable; the next device call returns an error).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::ble::{BleConnector, BleLink, DeviceFilter, DeviceInfo, NotificationStream};
use crate::board::StreamStats;
use crate::codec::{DecodeStats, Decoder, Input, PresetRows};
use crate::data::Data;
use crate::descr::{board_descr, BoardDescr};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::outlet::{Outlet, Running};
use crate::params::InputParams;
use crate::ring::RingBuffer;
use crate::serial_session::{check_buffer_size, lock, unix_now};
use crate::steps::{run, BleIo, BleStep, Outcome};
use crate::streamer::Streamer;

/// Poll interval of the reader: bounds how long release waits for it.
const POLL: Duration = Duration::from_millis(20);

pub(crate) struct State<D> {
    pub(crate) decoder: D,
    /// Per preset: the caller's buffer and the streamers.
    outlets: [Outlet; 3],
    streaming: bool,
    link_error: Option<String>,
    bytes: u64,
}

struct Shared<D> {
    state: Mutex<State<D>>,
    keep_alive: AtomicBool,
}

/// Layout facts of one preset, copied into the reader.
#[derive(Clone)]
struct PresetInfo {
    preset: Preset,
    descr: BoardDescr,
}

/// A BLE session core; [`crate::ble_board::BleBoard`] performs the
/// protocol's steps on top.
pub(crate) struct BleSession<D: Decoder> {
    id: BoardId,
    presets: Vec<PresetInfo>,
    connector: Box<dyn BleConnector>,
    filter: DeviceFilter,
    timeout: Duration,
    link: Option<Box<dyn BleLink>>,
    device: Option<DeviceInfo>,
    shared: Arc<Shared<D>>,
    reader: Option<JoinHandle<()>>,
}

impl<D: Decoder> BleSession<D> {
    /// A session for `id` whose device is found with `filter` within
    /// `params.timeout` seconds (5 if < 1, as BrainFlow).
    pub(crate) fn new(
        id: BoardId,
        presets: &[Preset],
        connector: Box<dyn BleConnector>,
        filter: DeviceFilter,
        params: &InputParams,
        decoder: D,
    ) -> Self {
        let secs = if params.timeout < 1 {
            5
        } else {
            params.timeout
        };
        BleSession {
            id,
            presets: presets
                .iter()
                .map(|&p| PresetInfo {
                    preset: p,
                    descr: board_descr(id, p).unwrap_or_default(),
                })
                .collect(),
            connector,
            filter,
            timeout: Duration::from_secs(secs.unsigned_abs().into()),
            link: None,
            device: None,
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    decoder,
                    outlets: Default::default(),
                    streaming: false,
                    link_error: None,
                    bytes: 0,
                }),
                keep_alive: AtomicBool::new(false),
            }),
            reader: None,
        }
    }

    /// Overrides the discovery timeout.
    pub(crate) fn set_timeout(&mut self, t: Duration) {
        self.timeout = t;
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.link.is_some()
    }

    pub(crate) fn is_streaming(&self) -> bool {
        lock(&self.shared.state).streaming
    }

    pub(crate) fn device(&self) -> Option<&DeviceInfo> {
        self.device.as_ref()
    }

    pub(crate) fn descr(&self, preset: Preset) -> Result<&BoardDescr> {
        self.presets
            .iter()
            .find(|p| p.preset == preset)
            .map(|p| &p.descr)
            .ok_or_else(|| {
                BoardError::new(
                    ExitCode::InvalidArguments,
                    format!("{} has no {:?} preset", self.id.name(), preset),
                )
            })
    }

    /// Runs `f` on the decoder (under the state lock).
    pub(crate) fn with_decoder<T>(&self, f: impl FnOnce(&mut D) -> T) -> T {
        f(&mut lock(&self.shared.state).decoder)
    }

    /// Finds the device, connects, and starts the reader.
    pub(crate) fn connect(&mut self) -> Result<&mut dyn BleLink> {
        let (dev, mut link) = self
            .connector
            .find_and_connect(&self.filter, self.timeout)?;
        tracing::info!(name = %dev.name, address = %dev.address, "connected to {}", self.id.name());
        let stream = link.notifications().map_err(|e| {
            BoardError::new(
                ExitCode::BoardNotReady,
                format!("no notification stream from {:?}: {e}", dev.name),
            )
        })?;
        {
            let mut st = lock(&self.shared.state);
            st.link_error = None;
            st.streaming = false;
            for o in &mut st.outlets {
                o.clear();
            }
        }
        self.spawn_reader(stream, dev.name.clone())?;
        self.device = Some(dev);
        Ok(self.link.insert(link).as_mut())
    }

    fn spawn_reader(&mut self, stream: Box<dyn NotificationStream>, name: String) -> Result<()> {
        let shared = self.shared.clone();
        let presets = self.presets.clone();
        shared.keep_alive.store(true, Ordering::Release);
        // The reader logs where its caller logs (BrainFlow's logger, when
        // called through the C library). Without a subscriber it keeps none, so
        // that a global one set later still applies.
        let dispatch = tracing::dispatcher::get_default(|d| {
            (!d.is::<tracing::subscriber::NoSubscriber>()).then(|| d.clone())
        });
        let h = std::thread::Builder::new()
            .name("boardloop-ble-reader".into())
            .spawn(move || match dispatch {
                Some(d) => tracing::dispatcher::with_default(&d, || {
                    reader_loop(&shared, stream, &presets, &name)
                }),
                None => reader_loop(&shared, stream, &presets, &name),
            })
            .map_err(|e| {
                BoardError::new(
                    ExitCode::StreamThread,
                    format!("unable to start reader: {e}"),
                )
            })?;
        self.reader = Some(h);
        Ok(())
    }

    /// The link, or `BoardNotCreated` if not connected.
    pub(crate) fn link(&mut self) -> Result<&mut dyn BleLink> {
        match self.link.as_mut() {
            Some(l) => Ok(l.as_mut()),
            None => Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            )),
        }
    }

    /// Why the link was lost, if it was.
    pub(crate) fn link_lost(&self) -> Option<String> {
        lock(&self.shared.state).link_error.clone()
    }

    /// Performs `step` on the link with the real clock. A write failing
    /// after the reader saw the link go reports the reader's reason.
    pub(crate) fn perform(&mut self, mut step: BleStep) -> Result<String> {
        let lost = self.link_lost();
        let link = self.link()?;
        let start = Instant::now();
        run(
            step.as_mut(),
            |io| {
                let r = match io {
                    BleIo::Write {
                        uuid,
                        value,
                        with_response,
                    } => link
                        .write(uuid, &value, with_response)
                        .map_err(|e| lost.clone().map_or(e, io::Error::other)),
                    BleIo::Read(uuid) => {
                        return match link.read(uuid) {
                            Ok(v) => Outcome::Bytes(v),
                            Err(e) => Outcome::Failed(e),
                        }
                    }
                    BleIo::Subscribe(uuid) => link.subscribe(uuid),
                };
                match r {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::Failed(e),
                }
            },
            || start.elapsed(),
        )
    }

    /// Allocates the ring buffers and lets rows in. Checks BrainFlow's
    /// preconditions first.
    pub(crate) fn begin_stream(&mut self, buffer_size: usize) -> Result<()> {
        if self.link.is_none() {
            return Err(BoardError::new(
                ExitCode::BoardNotCreated,
                "session is not prepared",
            ));
        }
        check_buffer_size(buffer_size)?;
        let mut st = lock(&self.shared.state);
        if st.streaming {
            return Err(BoardError::new(
                ExitCode::StreamAlreadyRun,
                "stream is already running",
            ));
        }
        if let Some(e) = &st.link_error {
            return Err(BoardError::new(ExitCode::BoardNotReady, e.clone()));
        }
        st.decoder.reset();
        st.bytes = 0;
        for p in &self.presets {
            st.outlets[p.preset as usize].ring =
                Some(RingBuffer::new(buffer_size, p.descr.num_rows));
        }
        st.streaming = true;
        Ok(())
    }

    /// Undoes [`BleSession::begin_stream`] when the start command failed.
    pub(crate) fn abort_stream(&mut self) {
        lock(&self.shared.state).streaming = false;
    }

    /// Stops letting rows in, after flushing rows waiting for a join.
    /// `StreamThreadIsNotRunning` if not streaming.
    pub(crate) fn end_stream(&mut self) -> Result<()> {
        let mut st = lock(&self.shared.state);
        if !st.streaming {
            return Err(BoardError::new(
                ExitCode::StreamThreadIsNotRunning,
                "stream is not running",
            ));
        }
        let mut rows: PresetRows = Default::default();
        st.decoder.flush(&mut rows);
        store(&mut st, &mut rows, &self.presets, unix_now());
        st.streaming = false;
        Ok(())
    }

    /// Stops the reader and disconnects; buffers are dropped, streamers
    /// closed once they have written their last rows.
    pub(crate) fn release(&mut self) {
        self.shared.keep_alive.store(false, Ordering::Release);
        if let Some(h) = self.reader.take() {
            if h.join().is_err() {
                tracing::error!("BLE reader thread panicked");
            }
        }
        if let Some(mut l) = self.link.take() {
            let _ = l.disconnect();
        }
        let gone: Vec<Running> = {
            let mut st = lock(&self.shared.state);
            st.streaming = false;
            st.outlets.iter_mut().flat_map(Outlet::close).collect()
        };
        drop(gone);
        self.device = None;
    }

    /// Adds a streamer to `preset` (see [`Outlet::add`]).
    pub(crate) fn add_streamer(&mut self, spec: &Streamer, preset: Preset) -> Result<()> {
        let descr = self.descr(preset)?;
        lock(&self.shared.state).outlets[preset as usize].add(spec, descr)
    }

    /// Deletes every streamer equal to `spec` from `preset`; returns once
    /// they have written what they queued (see [`Outlet::remove`]).
    pub(crate) fn delete_streamer(&mut self, spec: &Streamer, preset: Preset) -> Result<()> {
        self.descr(preset)?;
        let gone = lock(&self.shared.state).outlets[preset as usize].remove(spec)?;
        crate::outlet::finish_all(gone);
        Ok(())
    }

    pub(crate) fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        self.descr(preset)?;
        let prepared = self.link.is_some();
        lock(&self.shared.state).outlets[preset as usize].insert_marker(value, prepared)
    }

    pub(crate) fn data_count(&self, preset: Preset) -> Result<usize> {
        self.descr(preset)?;
        lock(&self.shared.state).outlets[preset as usize].count(self.link.is_some())
    }

    pub(crate) fn pop_data(&mut self, n: Option<usize>, preset: Preset) -> Result<Data> {
        self.descr(preset)?;
        let prepared = self.link.is_some();
        lock(&self.shared.state).outlets[preset as usize].pop(n, prepared)
    }

    pub(crate) fn peek_data(&self, n: usize, preset: Preset) -> Result<Data> {
        self.descr(preset)?;
        lock(&self.shared.state).outlets[preset as usize].peek(n, self.link.is_some())
    }

    /// Counters of one preset, with the link health.
    pub(crate) fn preset_stats(&self, preset: Preset) -> StreamStats {
        let st = lock(&self.shared.state);
        StreamStats {
            decode: st.decoder.stats(preset),
            link_error: st.link_error.clone(),
            bytes_read: st.bytes,
            streamers: st.outlets[preset as usize].streamer_stats(),
        }
    }

    /// Counters summed over the board's presets.
    pub(crate) fn total_stats(&self) -> StreamStats {
        let st = lock(&self.shared.state);
        let mut d = DecodeStats::default();
        for p in &self.presets {
            let s = st.decoder.stats(p.preset);
            d.packets += s.packets;
            d.rows += s.rows;
            d.lost_packets += s.lost_packets;
            d.garbage_bytes += s.garbage_bytes;
        }
        StreamStats {
            decode: d,
            link_error: st.link_error.clone(),
            bytes_read: st.bytes,
            streamers: st.outlets.iter().flat_map(Outlet::streamer_stats).collect(),
        }
    }
}

impl<D: Decoder> Drop for BleSession<D> {
    fn drop(&mut self) {
        // Never leave a reader thread running against a dropped session.
        self.release();
    }
}

/// Stamps and buffers decoded rows. Rows of one notification get times
/// spaced by the preset's sample period, ending at `now` (the arrival time
/// of the notification carrying the newest sample).
fn store<D>(st: &mut State<D>, rows: &mut PresetRows, presets: &[PresetInfo], now: f64) {
    for p in presets {
        let i = p.preset as usize;
        let out = &mut rows[i];
        // Rows of another width than the preset's are dropped, as before.
        if out.width() == p.descr.num_rows {
            let k = out.len();
            let period = 1.0 / f64::from(p.descr.sampling_rate.max(1));
            // Stamped in the decoder's buffer and copied into the ring from
            // there: no row is allocated on the way.
            for (j, row) in out.iter_mut().enumerate() {
                row[p.descr.timestamp_channel] = now - (k - 1 - j) as f64 * period;
                st.outlets[i].push_marked(row, p.descr.marker_channel);
            }
        }
        out.clear();
    }
}

fn reader_loop<D: Decoder>(
    shared: &Shared<D>,
    mut stream: Box<dyn NotificationStream>,
    presets: &[PresetInfo],
    name: &str,
) {
    let mut rows: PresetRows = Default::default();
    while shared.keep_alive.load(Ordering::Acquire) {
        match stream.recv(POLL) {
            Ok(None) => {}
            Ok(Some(n)) => {
                let now = unix_now();
                let mut st = lock(&shared.state);
                // Rows count only between start and stop, as BrainFlow's
                // buffers exist only then.
                if st.streaming {
                    st.bytes += n.value.len() as u64;
                    st.decoder.decode(
                        Input::Notification {
                            uuid: n.uuid,
                            value: &n.value,
                        },
                        &mut rows,
                    );
                    store(&mut st, &mut rows, presets, now);
                } else {
                    st.decoder.idle(Input::Notification {
                        uuid: n.uuid,
                        value: &n.value,
                    });
                }
            }
            Err(e) => {
                let mut st = lock(&shared.state);
                let kept: Vec<String> = presets
                    .iter()
                    .map(|p| {
                        let c = st.outlets[p.preset as usize]
                            .ring
                            .as_ref()
                            .map_or(0, |r| r.count());
                        format!("{:?}: {c}", p.preset)
                    })
                    .collect();
                let msg = format!("BLE link to {name:?} lost: {e}");
                tracing::error!(
                    "{msg}; rows received before the loss are kept ({})",
                    kept.join(", ")
                );
                st.link_error = Some(msg);
                break;
            }
        }
    }
}

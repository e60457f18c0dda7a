//! A session whose rows come from the host, not from a device link:
//! BrainFlow's virtual boards (synthetic, playback file, streaming). One
//! [`HostBoard`] holds what they share (the session states and their codes,
//! the outlets, the threads and how they are stopped); each board is a
//! [`HostSource`] that says which layouts it fills and starts the threads
//! that fill them through a [`Feed`].

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::board::{Board, StreamStats};
use crate::codec::DecodeStats;
use crate::data::Data;
use crate::descr::BoardDescr;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::outlet::{not_prepared, Outlet, Running};
use crate::ring::RingBuffer;
use crate::serial_session::{check_buffer_size, lock};
use crate::streamer::Streamer;

/// The layout of each preset a session fills, indexed by [`Preset`].
pub type Layouts = [Option<BoardDescr>; 3];

/// What a virtual board adds to [`HostBoard`]: its layouts and its rows.
pub trait HostSource: Send {
    /// The board's id (the session's, not a master board's).
    fn board_id(&self) -> BoardId;
    /// Checks the session's params and opens what it reads from; returns
    /// the layouts of the presets it fills.
    fn prepare(&mut self) -> Result<Layouts>;
    /// Starts the threads that fill the outlets through `feed`. They must
    /// return soon after [`Feed::running`] turns false.
    fn start(&mut self, layouts: &Layouts, feed: &Feed) -> Result<Vec<JoinHandle<()>>>;
    /// Answers `config_board` on a prepared session. The threads see the
    /// change through [`Feed::wait_for_config`].
    fn config_board(&mut self, config: &str) -> Result<String>;
    /// Closes what `prepare` opened.
    fn release(&mut self) {}
}

#[derive(Default)]
struct Rows {
    outlets: [Outlet; 3],
    stats: DecodeStats,
}

#[derive(Default)]
struct Control {
    stopped: bool,
    /// Bumped by every `config_board`, so a thread waiting for a change
    /// cannot miss one made between its check and its wait.
    configs: u64,
}

#[derive(Default)]
struct Shared {
    rows: Mutex<Rows>,
    control: Mutex<Control>,
    wake: Condvar,
}

/// A session thread's handle on the outlets and on the stop signal.
#[derive(Clone, Default)]
pub struct Feed {
    shared: Arc<Shared>,
}

impl Feed {
    /// False once the stream is stopped.
    pub fn running(&self) -> bool {
        !lock(&self.shared.control).stopped
    }

    /// Waits until `due`; false, at once, if the stream stops first.
    pub fn sleep_until(&self, due: Instant) -> bool {
        let mut c = lock(&self.shared.control);
        loop {
            if c.stopped {
                return false;
            }
            let now = Instant::now();
            if now >= due {
                return true;
            }
            c = self
                .shared
                .wake
                .wait_timeout(c, due - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// The number of `config_board` calls so far, for
    /// [`Feed::wait_for_config`].
    pub fn configs(&self) -> u64 {
        lock(&self.shared.control).configs
    }

    /// Waits for a `config_board` after the `seen`-th one and updates
    /// `seen`; false if the stream stops first.
    pub fn wait_for_config(&self, seen: &mut u64) -> bool {
        let mut c = lock(&self.shared.control);
        while !c.stopped && c.configs == *seen {
            c = self.shared.wake.wait(c).unwrap_or_else(|p| p.into_inner());
        }
        *seen = c.configs;
        !c.stopped
    }

    /// Runs `f` on the outlets and the counters, under their lock.
    pub fn with<R>(&self, f: impl FnOnce(&mut [Outlet; 3], &mut DecodeStats) -> R) -> R {
        let mut r = lock(&self.shared.rows);
        let Rows { outlets, stats } = &mut *r;
        f(outlets, stats)
    }

    fn set_stopped(&self, stopped: bool) {
        lock(&self.shared.control).stopped = stopped;
        self.shared.wake.notify_all();
    }

    fn config_changed(&self) {
        lock(&self.shared.control).configs += 1;
        self.shared.wake.notify_all();
    }
}

/// A session of a virtual board `S`.
pub struct HostBoard<S> {
    source: S,
    layouts: Layouts,
    prepared: bool,
    streaming: bool,
    feed: Feed,
    threads: Vec<JoinHandle<()>>,
}

impl<S: HostSource> HostBoard<S> {
    /// An unprepared session of `source`.
    pub fn with_source(source: S) -> HostBoard<S> {
        HostBoard {
            source,
            layouts: Default::default(),
            prepared: false,
            streaming: false,
            feed: Feed::default(),
            threads: Vec::new(),
        }
    }

    /// The layout of `preset`: `BoardNotCreated` before `prepare_session`
    /// (the layouts may come from the params), `InvalidArguments` for a
    /// preset the session does not fill.
    fn descr(&self, preset: Preset) -> Result<&BoardDescr> {
        if !self.prepared {
            return Err(not_prepared());
        }
        self.layouts[preset as usize].as_ref().ok_or_else(|| {
            BoardError::new(
                ExitCode::InvalidArguments,
                format!(
                    "this {} session has no {preset:?} preset",
                    self.source.board_id().name()
                ),
            )
        })
    }

    fn join(&mut self) {
        if stop_threads(&self.feed, &mut self.threads) {
            tracing::error!("{} thread panicked", self.source.board_id().name());
        }
        self.streaming = false;
    }
}

impl<S: HostSource> Board for HostBoard<S> {
    fn board_id(&self) -> BoardId {
        self.source.board_id()
    }

    fn layout(&self, preset: Preset) -> Result<BoardDescr> {
        self.descr(preset).cloned()
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.prepared {
            return Ok(());
        }
        self.layouts = self.source.prepare()?;
        self.prepared = true;
        Ok(())
    }

    fn is_prepared(&self) -> bool {
        self.prepared
    }

    fn is_streaming(&self) -> bool {
        self.streaming
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        if !self.prepared {
            return Err(not_prepared());
        }
        if self.streaming {
            return Err(BoardError::new(
                ExitCode::StreamAlreadyRun,
                "stream is already running",
            ));
        }
        check_buffer_size(buffer_size)?;
        let layouts = &self.layouts;
        self.feed.with(|outlets, stats| {
            for (outlet, layout) in outlets.iter_mut().zip(layouts) {
                if let Some(d) = layout {
                    outlet.ring = Some(RingBuffer::new(buffer_size, d.num_rows));
                }
            }
            *stats = DecodeStats::default();
        });
        self.feed.set_stopped(false);
        match self.source.start(&self.layouts, &self.feed) {
            Ok(threads) => {
                self.threads = threads;
                self.streaming = true;
                Ok(())
            }
            Err(e) => {
                self.join();
                Err(e)
            }
        }
    }

    fn stop_stream(&mut self) -> Result<()> {
        if !self.streaming {
            return Err(BoardError::new(
                ExitCode::StreamThreadIsNotRunning,
                "stream is not running",
            ));
        }
        self.join();
        Ok(())
    }

    fn release_session(&mut self) -> Result<()> {
        if !self.prepared {
            return Err(not_prepared());
        }
        self.join();
        let gone: Vec<Running> = self
            .feed
            .with(|outlets, _| outlets.iter_mut().flat_map(Outlet::close).collect());
        drop(gone);
        self.source.release();
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
        let reply = self.source.config_board(config);
        self.feed.config_changed();
        reply
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        self.descr(preset)?;
        let prepared = self.prepared;
        self.feed
            .with(|o, _| o[preset as usize].insert_marker(value, prepared))
    }

    fn get_board_data_count(&self, preset: Preset) -> Result<usize> {
        self.descr(preset)?;
        self.feed
            .with(|o, _| o[preset as usize].count(self.prepared))
    }

    fn get_board_data(&mut self, n: Option<usize>, preset: Preset) -> Result<Data> {
        self.descr(preset)?;
        let prepared = self.prepared;
        self.feed.with(|o, _| o[preset as usize].pop(n, prepared))
    }

    fn get_current_board_data(&self, n: usize, preset: Preset) -> Result<Data> {
        self.descr(preset)?;
        self.feed
            .with(|o, _| o[preset as usize].peek(n, self.prepared))
    }

    fn stream_stats(&self) -> StreamStats {
        self.feed.with(|outlets, stats| StreamStats {
            decode: stats.clone(),
            link_error: None,
            bytes_read: 0,
            streamers: outlets.iter().flat_map(Outlet::streamer_stats).collect(),
        })
    }

    fn add_streamer(&mut self, streamer: &Streamer, preset: Preset) -> Result<()> {
        if !self.prepared {
            return Err(not_prepared());
        }
        let descr = self.descr(preset)?.clone();
        self.feed
            .with(|o, _| o[preset as usize].add(streamer, &descr))
    }

    fn delete_streamer(&mut self, streamer: &Streamer, preset: Preset) -> Result<()> {
        if !self.prepared {
            return Err(not_prepared());
        }
        self.descr(preset)?;
        let gone = self.feed.with(|o, _| o[preset as usize].remove(streamer))?;
        crate::outlet::finish_all(gone);
        Ok(())
    }
}

/// Stops the session's threads and waits for them; true if one panicked.
fn stop_threads(feed: &Feed, threads: &mut Vec<JoinHandle<()>>) -> bool {
    feed.set_stopped(true);
    // Every thread is joined: `any` would stop at the first that panicked.
    let panicked = threads.drain(..).map(|t| t.join().is_err());
    panicked.filter(|p| *p).count() > 0
}

impl<S> Drop for HostBoard<S> {
    fn drop(&mut self) {
        stop_threads(&self.feed, &mut self.threads);
    }
}

/// The layouts of `master_board` (BrainFlow's `params.master_board`), which a
/// playback or streaming session of `board` takes its rows in. No master
/// (`NO_BOARD`) is `InvalidArguments`, as in BrainFlow; a master this
/// library does not describe is `UnsupportedBoard`.
pub fn master_layouts(board: BoardId, master_board: i32) -> Result<Layouts> {
    if master_board == crate::params::NO_BOARD {
        return Err(BoardError::new(
            ExitCode::InvalidArguments,
            format!(
                "{} needs master_board: the id of the board whose rows it carries",
                board.name()
            ),
        ));
    }
    let master = BoardId::try_from(master_board).map_err(|e| {
        BoardError::new(
            ExitCode::InvalidArguments,
            format!("master_board: {}", e.message),
        )
    })?;
    let decl = crate::registry::by_id(master)?;
    let mut layouts: Layouts = Default::default();
    for p in decl.presets() {
        match decl.layout(p) {
            Ok(d) => layouts[p as usize] = Some(d.clone()),
            Err(_) => {
                return Err(BoardError::new(
                    ExitCode::InvalidArguments,
                    format!("master_board {} has no layout of its own", master.name()),
                ))
            }
        }
    }
    Ok(layouts)
}

/// The preset a `file`/`ip` parameter is for, in BrainFlow's order.
pub const PRESETS: [Preset; 3] = [Preset::Default, Preset::Auxiliary, Preset::Ancillary];

/// `layouts[preset]`, or `InvalidArguments` naming `what` when the master
/// board has no such preset.
pub fn layout_for<'a>(layouts: &'a Layouts, preset: Preset, what: &str) -> Result<&'a BoardDescr> {
    layouts[preset as usize].as_ref().ok_or_else(|| {
        BoardError::new(
            ExitCode::InvalidArguments,
            format!("{what} is given but the master board has no {preset:?} preset"),
        )
    })
}

/// Waits (at most 10 s) until `b` holds `n` rows of `preset`: the tests of
/// the virtual boards wait for rows, not for a time.
#[cfg(test)]
pub(crate) fn wait_rows(b: &dyn Board, preset: Preset, n: usize) {
    let t = Instant::now();
    while b.get_board_data_count(preset).unwrap() < n {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "fewer than {n} rows in 10 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

//! BrainFlow's playback file board (id -3): replays files in BrainFlow's
//! format (`file`, `file_aux`, `file_anc`, one per preset) in the layout of
//! `params.master_board`, at the pace of their timestamp row, as BrainFlow
//! 5.23's `playback_file_board.cpp` does.
//!
//! * A line is one row: values separated by tabs (what the `file://`
//!   streamer and `DataFilter.write_file` write) or, without a tab, commas.
//! * Row k is due `t_k − t_0` after the first row (or after a loop or a
//!   seek), so the pace holds however long pushing a row takes.
//! * `config_board`: `loopback_true` / `loopback_false` (start again at the
//!   end), `new_timestamps` (the default: the timestamp row is the replay's
//!   time) / `old_timestamps` (the recorded one), read at `start_stream`;
//!   `set_index_percentage:X` (0 ≤ X < 100) jumps to X % of the lines. Any
//!   other command is logged and answered with success and no reply, as
//!   BrainFlow does, so a script that configures its real board runs
//!   unchanged on its recording.
//! * A row's marker is replaced as on every board: by a marker queued with
//!   `insert_marker`, else 0 (BrainFlow's `push_package`), so recorded
//!   markers do not come back.
//! * A line of the wrong width, or with a value that is not a number, is
//!   skipped and its bytes counted as garbage (BrainFlow logs a width error
//!   and keeps the previous value of a bad number).
//! * At the end of a file without loopback the thread waits for a
//!   `config_board` or the stop, not in a poll loop.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::descr::BoardDescr;
use crate::error::{BoardError, ExitCode, Result};
use crate::host_session::{
    layout_for, master_layouts, Feed, HostBoard, HostSource, Layouts, PRESETS,
};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::registry::{name_only_layouts, BoardDecl, Driver};
use crate::serial_session::{lock, unix_now};

/// BrainFlow's PLAYBACK_FILE_BOARD: its description is a name only; a
/// session has the layout of its `master_board`.
pub static PLAYBACK_FILE: BoardDecl = BoardDecl {
    id: BoardId::PlaybackFile,
    name: "playback_file",
    layouts: &name_only_layouts(r#"{"name":"PlayBack"}"#),
    other_rows: &[],
    brainflow_withheld_rows: [0; 3],
    brainflow_command_overrun: 0,
    driver: Driver::Master(|p| Box::new(PlaybackBoard::new(p.clone()))),
    cpp_plugin: None,
};

/// A session of BrainFlow's playback file board.
pub type PlaybackBoard = HostBoard<Playback>;

impl PlaybackBoard {
    /// An unprepared session with BrainFlow's params (`file`, `file_aux`,
    /// `file_anc`, `master_board`).
    pub fn new(params: InputParams) -> PlaybackBoard {
        HostBoard::with_source(Playback {
            params,
            files: Default::default(),
            settings: Arc::default(),
        })
    }
}

/// One file to replay: its path and where each line starts.
#[derive(Clone, Debug)]
struct PlayFile {
    path: String,
    /// The offset of every line, then of the end, as BrainFlow's
    /// `get_file_offsets` counts them (`set_index_percentage` indexes it).
    offsets: Arc<Vec<u64>>,
}

/// What `config_board` changes while the threads run.
#[derive(Debug, Default)]
struct Settings {
    loopback: AtomicBool,
    old_timestamps: AtomicBool,
    /// A jump asked for by `set_index_percentage`, per preset.
    seek: Mutex<[Option<f64>; 3]>,
}

/// The playback board's files and settings.
#[derive(Debug)]
pub struct Playback {
    params: InputParams,
    files: [Option<PlayFile>; 3],
    settings: Arc<Settings>,
}

impl Playback {
    fn file_params(&self) -> [(&str, &String); 3] {
        [
            ("file", &self.params.file),
            ("file_aux", &self.params.file_aux),
            ("file_anc", &self.params.file_anc),
        ]
    }
}

/// The offsets of every line of `path` and of its end; an unreadable or
/// empty file is `InvalidArguments`, as in BrainFlow.
fn line_offsets(path: &str) -> Result<Vec<u64>> {
    let bad = |why: String| BoardError::new(ExitCode::InvalidArguments, why);
    let file = File::open(path).map_err(|e| bad(format!("failed to open file {path}: {e}")))?;
    let mut r = BufReader::new(file);
    let mut offsets = vec![0u64];
    let mut line = Vec::new();
    let mut at = 0u64;
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(|e| bad(format!("failed to read {path}: {e}")))?;
        if n == 0 {
            break;
        }
        at += n as u64;
        offsets.push(at);
    }
    if offsets.len() < 2 {
        return Err(bad(format!("empty file: {path}")));
    }
    Ok(offsets)
}

impl HostSource for Playback {
    fn board_id(&self) -> BoardId {
        BoardId::PlaybackFile
    }

    fn prepare(&mut self) -> Result<Layouts> {
        let layouts = master_layouts(BoardId::PlaybackFile, self.params.master_board)?;
        let mut files: [Option<PlayFile>; 3] = Default::default();
        for (preset, (what, path)) in PRESETS.into_iter().zip(self.file_params()) {
            if path.is_empty() {
                continue;
            }
            layout_for(&layouts, preset, what)?;
            files[preset as usize] = Some(PlayFile {
                path: path.clone(),
                offsets: Arc::new(line_offsets(path)?),
            });
        }
        self.files = files;
        Ok(layouts)
    }

    fn start(&mut self, layouts: &Layouts, feed: &Feed) -> Result<Vec<JoinHandle<()>>> {
        let mut threads = Vec::new();
        for preset in PRESETS {
            let Some(file) = self.files[preset as usize].clone() else {
                continue;
            };
            let descr = layout_for(layouts, preset, "file")?.clone();
            // BrainFlow checks again here: the file may have gone since prepare.
            let reader = File::open(&file.path).map_err(|e| {
                BoardError::new(
                    ExitCode::InvalidArguments,
                    format!("failed to open file {}: {e}", file.path),
                )
            })?;
            let play = Player {
                preset,
                descr,
                offsets: file.offsets,
                settings: self.settings.clone(),
                new_timestamps: !self.settings.old_timestamps.load(Ordering::Acquire),
                feed: feed.clone(),
            };
            let t = std::thread::Builder::new()
                .name(format!("playback-{preset:?}"))
                .spawn(move || play.run(BufReader::new(reader)))
                .map_err(|e| {
                    BoardError::new(ExitCode::StreamThread, format!("unable to start: {e}"))
                })?;
            threads.push(t);
        }
        Ok(threads)
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        let s = &self.settings;
        match config {
            "loopback_true" => s.loopback.store(true, Ordering::Release),
            "loopback_false" => s.loopback.store(false, Ordering::Release),
            "new_timestamps" => s.old_timestamps.store(false, Ordering::Release),
            "old_timestamps" => s.old_timestamps.store(true, Ordering::Release),
            _ => match config.strip_prefix("set_index_percentage:") {
                Some(x) => {
                    let bad = || {
                        BoardError::new(
                            ExitCode::InvalidArguments,
                            format!("{config:?}: the index is a number from 0 to below 100"),
                        )
                    };
                    let v: f64 = x.trim().parse().map_err(|_| bad())?;
                    // As BrainFlow: the integer part must be 0..=99.
                    if !(v.trunc() >= 0.0 && v.trunc() < 100.0) {
                        return Err(bad());
                    }
                    *lock(&s.seek) = [Some(v); 3];
                }
                None => tracing::warn!("playback board: unknown config {config:?} ignored"),
            },
        }
        Ok(String::new())
    }

    fn release(&mut self) {
        self.files = Default::default();
    }
}

/// One preset's replay thread.
struct Player {
    preset: Preset,
    descr: BoardDescr,
    offsets: Arc<Vec<u64>>,
    settings: Arc<Settings>,
    new_timestamps: bool,
    feed: Feed,
}

/// One value as BrainFlow's `std::stod` reads it, including C's `-nan`.
fn parse_value(s: &str) -> Option<f64> {
    let s = s.trim();
    s.parse::<f64>().ok().or_else(|| {
        let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
        unsigned.eq_ignore_ascii_case("nan").then_some(f64::NAN)
    })
}

/// The row a line holds, if it holds one of `width` numbers.
fn parse_line(line: &str, width: usize, row: &mut [f64]) -> bool {
    let line = line.trim_end_matches(['\n', '\r']);
    let sep = if line.contains('\t') { '\t' } else { ',' };
    let mut fields = line.split(sep);
    for slot in row.iter_mut().take(width) {
        match fields.next().and_then(parse_value) {
            Some(v) => *slot = v,
            None => return false,
        }
    }
    // A trailing separator leaves one empty field; anything more is a
    // wider row.
    matches!(fields.next(), None | Some("")) && fields.next().is_none()
}

impl Player {
    fn take_seek(&self) -> Option<f64> {
        lock(&self.settings.seek)[self.preset as usize].take()
    }

    fn run(self, mut file: BufReader<File>) {
        let d = &self.descr;
        let mut row = vec![0.0; d.num_rows];
        let mut line = String::new();
        // The first row of a run (start, loop or seek) and when it was pushed.
        let mut base: Option<(f64, Instant)> = None;
        loop {
            if let Some(pct) = self.take_seek() {
                let n = self.offsets.len();
                let i = ((pct * (n as f64 / 100.0)) as usize).min(n - 1);
                if let Err(e) = file.seek(SeekFrom::Start(self.offsets[i])) {
                    tracing::warn!("playback: seek failed: {e}");
                }
                base = None;
            }
            // Read before looking at loopback, so a config that comes
            // while this thread waits is not missed.
            let mut seen = self.feed.configs();
            line.clear();
            let n = match file.read_line(&mut line) {
                Ok(n) => n,
                Err(e) => {
                    // Not UTF-8, or the disk failed: skip what was read.
                    tracing::warn!("playback: read failed: {e}");
                    self.feed
                        .with(|_, st| st.garbage_bytes += line.len() as u64);
                    continue;
                }
            };
            if n == 0 {
                if self.settings.loopback.load(Ordering::Acquire) {
                    if file.seek(SeekFrom::Start(0)).is_err() {
                        return;
                    }
                    base = None;
                    continue;
                }
                // The end: wait for loopback_true, a seek, or the stop.
                if !self.feed.wait_for_config(&mut seen) {
                    return;
                }
                continue;
            }
            if !parse_line(&line, d.num_rows, &mut row) {
                self.feed.with(|_, st| st.garbage_bytes += n as u64);
                continue;
            }
            let t = row[d.timestamp_channel];
            match base {
                None => base = Some((t, Instant::now())),
                Some((t0, i0)) => {
                    // A timestamp that goes back, or is not a number, is due now.
                    let after = Duration::try_from_secs_f64(t - t0).unwrap_or(Duration::ZERO);
                    if !self.feed.sleep_until(i0 + after) {
                        return;
                    }
                }
            }
            if self.new_timestamps {
                row[d.timestamp_channel] = unix_now();
            }
            let preset = self.preset as usize;
            self.feed.with(|outlets, st| {
                outlets[preset].push_marked(&mut row, d.marker_channel);
                st.packets += 1;
                st.rows += 1;
            });
        }
    }
}

#[cfg(test)]
mod tests;

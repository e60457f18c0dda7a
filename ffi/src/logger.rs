//! BrainFlow's `board_logger`: a level, stderr or a file, and the three
//! logging exports. What reaches it: the errors of failed calls ([`crate::guard`]),
//! `log_message_board_controller`, and the `tracing` events of the Rust boards
//! ([`crate::tracing_bridge`]).
//!
//! Behaviour follows BrainFlow 5.23 (`src/board_controller/board.cpp`,
//! `board_controller.cpp`, its vendored spdlog 0.x), checked against pip
//! brainflow 5.23's library:
//! * levels are spdlog's: 0 trace, 1 debug, 2 info, 3 warning, 4 error,
//!   5 critical, 6 off; a line is written when its level is at or above the
//!   logger's (spdlog `should_log`: `msg_level >= level`), so a message at 6
//!   ("off") is written even when the logger is off;
//! * the logger starts at INFO on stderr (`spdlog::stderr_logger_mt`, the
//!   registry's default level `info`);
//! * a line is spdlog's default pattern `%+`,
//!   `[%Y-%m-%d %H:%M:%S.%e] [board_logger] [%l] %v`, in local time.
//!
//! Unlike spdlog's synchronous sinks, lines go through a bounded queue to one
//! writer thread, so a board's streaming thread never waits on a slow stderr
//! pipe or disk; the exports wait (bounded) for the queue to drain before they
//! return, so when a call returns its lines are written, as in BrainFlow.

use std::collections::VecDeque;
use std::ffi::{c_char, c_int, CStr};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use boardloop_boards::{BoardError, ExitCode};

use crate::guard::guarded;

/// `LEVEL_TRACE`.
pub(crate) const LEVEL_TRACE: c_int = 0;
/// `LEVEL_DEBUG`.
pub(crate) const LEVEL_DEBUG: c_int = 1;
/// `LEVEL_INFO`: BrainFlow's starting level.
pub(crate) const LEVEL_INFO: c_int = 2;
/// `LEVEL_WARN`.
pub(crate) const LEVEL_WARN: c_int = 3;
/// `LEVEL_ERROR`.
pub(crate) const LEVEL_ERROR: c_int = 4;
/// `LEVEL_CRITICAL`.
pub(crate) const LEVEL_CRITICAL: c_int = 5;
/// `LEVEL_OFF`: as a logger level, only messages logged at OFF itself pass.
pub(crate) const LEVEL_OFF: c_int = 6;

/// BrainFlow's `LOGGER_NAME` (board.cpp).
const LOGGER_NAME: &str = "board_logger";

/// spdlog's `SPDLOG_LEVEL_NAMES` (third_party/spdlog/common.h), by level.
const NAMES: [&str; 7] = [
    "trace", "debug", "info", "warning", "error", "critical", "off",
];

/// Lines waiting for the writer. 4096 lines is seconds of the busiest logging
/// the boards do (a few lines per call or per link event); past it a stuck
/// output loses lines (counted and reported) instead of stalling a reader.
const QUEUE_CAPACITY: usize = 4096;

/// How long an export waits for its lines to be written before returning. The
/// writer normally needs microseconds; this bound only matters when stderr is
/// a pipe nobody reads, where BrainFlow would block for good.
const DRAIN_TIMEOUT: Duration = Duration::from_millis(500);

/// The logger's level, always within 0..=6 (BrainFlow clamps).
static LEVEL: AtomicI32 = AtomicI32::new(LEVEL_INFO);

/// Where lines go: stderr until `set_log_file_board_controller` succeeds.
static OUTPUT: Mutex<Option<File>> = Mutex::new(None);

/// One message, stamped when it was logged (not when it is written).
struct Line {
    time: SystemTime,
    level: c_int,
    text: String,
}

/// The queue between loggers and the writer thread.
struct Queue {
    lines: Mutex<VecDeque<Line>>,
    /// Signalled when lines are queued (the writer waits on it).
    queued: Condvar,
    /// Signalled when lines are written (draining exports wait on it).
    written_cv: Condvar,
}

static QUEUE: Queue = Queue {
    lines: Mutex::new(VecDeque::new()),
    queued: Condvar::new(),
    written_cv: Condvar::new(),
};

/// Lines accepted into the queue and lines written (or given up on), ever:
/// an export waits until `WRITTEN` reaches the `QUEUED` it saw.
static QUEUED: AtomicU64 = AtomicU64::new(0);
static WRITTEN: AtomicU64 = AtomicU64::new(0);

/// Lines refused because the queue was full, and the highest level among them
/// (-1: none), for the notice the writer writes once it catches up.
static DROPPED: AtomicU64 = AtomicU64::new(0);
static DROPPED_LEVEL: AtomicI32 = AtomicI32::new(-1);

/// Whether the writer thread runs; `false` if it could not be started (then
/// loggers write synchronously).
static WRITER: OnceLock<bool> = OnceLock::new();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a logger lock must not silence the logger for good.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a message at `level` would be written now (one atomic load: cheap
/// enough to ask for every `tracing` event).
pub(crate) fn enabled(level: c_int) -> bool {
    level >= LEVEL.load(Ordering::Relaxed)
}

/// Logs `message` at `level` (0..=6) if the level lets it through. Never
/// blocks on I/O and never panics; callable from any thread.
pub(crate) fn log(level: c_int, message: &str) {
    if enabled(level) {
        emit(level.clamp(LEVEL_TRACE, LEVEL_OFF), message.to_owned());
    }
}

/// Queues an already filtered message for the writer.
pub(crate) fn emit(level: c_int, text: String) {
    let line = Line {
        time: SystemTime::now(),
        level,
        text,
    };
    if !*WRITER.get_or_init(spawn_writer) {
        write_lines(&[line]);
        return;
    }
    let mut q = lock(&QUEUE.lines);
    if q.len() >= QUEUE_CAPACITY {
        drop(q);
        DROPPED.fetch_add(1, Ordering::Relaxed);
        DROPPED_LEVEL.fetch_max(level, Ordering::Relaxed);
        return;
    }
    q.push_back(line);
    // Counted under the queue lock, so the writer never counts a line as
    // written before it was counted as queued.
    QUEUED.fetch_add(1, Ordering::Release);
    drop(q);
    QUEUE.queued.notify_one();
}

/// Waits (at most [`DRAIN_TIMEOUT`]) until every line queued so far is
/// written. Called by the exports before they return; never by the writer.
pub(crate) fn drain() {
    let target = QUEUED.load(Ordering::Acquire);
    if WRITTEN.load(Ordering::Acquire) >= target {
        return;
    }
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    let mut q = lock(&QUEUE.lines);
    while WRITTEN.load(Ordering::Acquire) < target {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        q = QUEUE
            .written_cv
            .wait_timeout(q, left)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Starts the writer thread; `false` if the system refuses a thread.
fn spawn_writer() -> bool {
    std::thread::Builder::new()
        .name("boardloop-log".into())
        .spawn(writer_loop)
        .is_ok()
}

thread_local! {
    /// Set on the writer thread (for the panic hook).
    static IS_WRITER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this is the writer thread. Never panics (also during thread exit).
pub(crate) fn on_writer_thread() -> bool {
    IS_WRITER.try_with(|w| w.get()).unwrap_or(false)
}

fn writer_loop() {
    IS_WRITER.with(|w| w.set(true));
    let mut batch: Vec<Line> = Vec::new();
    loop {
        {
            let mut q = lock(&QUEUE.lines);
            while q.is_empty() {
                q = QUEUE.queued.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            batch.extend(q.drain(..));
        }
        let n = batch.len() as u64;
        // Nothing here should panic, but if it did the thread must live on:
        // a dead writer would leave every later line queued and lost.
        let _ = catch_unwind(AssertUnwindSafe(|| write_lines(&batch)));
        batch.clear();
        let dropped = DROPPED.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let level = DROPPED_LEVEL.swap(-1, Ordering::Relaxed).max(LEVEL_TRACE);
            let notice = Line {
                time: SystemTime::now(),
                level,
                text: format!(
                    "{dropped} log messages were dropped: the log output (stderr or the log file) \
                     did not keep up"
                ),
            };
            let _ = catch_unwind(AssertUnwindSafe(|| write_lines(&[notice])));
        }
        // Under the queue lock, so a draining export cannot miss the wakeup
        // between its check and its wait.
        let _q = lock(&QUEUE.lines);
        WRITTEN.fetch_add(n, Ordering::Release);
        QUEUE.written_cv.notify_all();
    }
}

/// Formats `lines` and writes them with one write to the current output.
/// Write errors are dropped: a logger must never fail the call it reports on.
fn write_lines(lines: &[Line]) {
    let mut buf = String::new();
    for l in lines {
        format_line(&mut buf, l);
    }
    let mut out = lock(&OUTPUT);
    match out.as_mut() {
        // An unbuffered `File`: every line is in the file when the write
        // returns, as spdlog's `flush_on(level)` in BrainFlow makes it.
        Some(f) => {
            let _ = f.write_all(buf.as_bytes());
        }
        None => {
            let _ = std::io::stderr().lock().write_all(buf.as_bytes());
        }
    }
}

/// Appends spdlog's `%+` line: `[2026-11-30 08:10:14.646] [board_logger] [info] text`.
fn format_line(buf: &mut String, line: &Line) {
    use std::fmt::Write as _;
    let since = line.time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    let t = civil_time(secs);
    let name = NAMES[line.level.clamp(LEVEL_TRACE, LEVEL_OFF) as usize];
    let _ = writeln!(
        buf,
        "[{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}] [{LOGGER_NAME}] [{name}] {}",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        since.subsec_millis(),
        line.text
    );
}

/// A broken-down time.
#[derive(Debug, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

/// Local time, as spdlog's default `pattern_time_type::local` (its
/// `os::localtime` is `localtime_r` too). Falls back to UTC where the local
/// time is unknown.
#[cfg(unix)]
fn civil_time(secs: i64) -> Civil {
    let t = secs as libc::time_t;
    // SAFETY: an all-zero `tm` is a valid value; localtime_r only writes it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call. localtime_r is the
    // thread-safe variant; it reads TZ like spdlog's call in BrainFlow does.
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if !ok {
        return utc_time(secs);
    }
    Civil {
        year: i64::from(tm.tm_year) + 1900,
        month: (tm.tm_mon + 1) as u32,
        day: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        minute: tm.tm_min as u32,
        second: tm.tm_sec as u32,
    }
}

#[cfg(not(unix))]
fn civil_time(secs: i64) -> Civil {
    // No libc localtime_r here; UTC rather than a wrong local guess.
    utc_time(secs)
}

/// UTC from Unix seconds (Howard Hinnant's `civil_from_days`).
fn utc_time(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem / 60 % 60,
        second: rem % 60,
    }
}

/// Sets the board logger's level: 0 trace, 1 debug, 2 info, 3 warning,
/// 4 error, 5 critical, 6 off. Values outside 0..=6 are clamped and accepted,
/// as BrainFlow's `Board::set_log_level` does. Always `STATUS_OK`.
#[no_mangle]
pub extern "C" fn set_log_level_board_controller(log_level: c_int) -> c_int {
    guarded("set_log_level_board_controller", || {
        LEVEL.store(log_level.clamp(LEVEL_TRACE, LEVEL_OFF), Ordering::Relaxed);
        Ok(())
    })
}

/// Sends the board logger's lines to `log_file` instead of stderr (appended
/// to, created if missing; the level is kept), as BrainFlow's
/// `Board::set_log_file` (spdlog `basic_logger_mt`, mode "ab"). A null pointer
/// or a file that cannot be opened gives `GENERAL_ERROR`, as in BrainFlow.
///
/// Unlike BrainFlow, a failure keeps the previous output: BrainFlow has by then
/// swapped in a null logger it never restores, so every later line is lost and
/// every later `set_log_file` fails too.
///
/// # Safety
/// `log_file` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn set_log_file_board_controller(log_file: *const c_char) -> c_int {
    guarded("set_log_file_board_controller", || {
        if log_file.is_null() {
            // libstdc++ throws constructing std::string from null; BrainFlow
            // catches it and returns GENERAL_ERROR (pip brainflow 5.23: 17).
            return Err(BoardError::new(
                ExitCode::GeneralError,
                "log_file is a null pointer",
            ));
        }
        let raw = CStr::from_ptr(log_file);
        let path = path_of(raw);
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| {
                BoardError::new(
                    ExitCode::GeneralError,
                    format!("unable to open log file {}: {e}", raw.to_string_lossy()),
                )
            })?;
        // Lines logged before this call belong to the old output.
        drain();
        *lock(&OUTPUT) = Some(f);
        Ok(())
    })
}

/// A C path as the OS sees it: bytes on Unix (any encoding), UTF-8 elsewhere.
fn path_of(raw: &CStr) -> std::path::PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(raw.to_bytes()).into()
    }
    #[cfg(not(unix))]
    {
        raw.to_string_lossy().into_owned().into()
    }
}

/// Writes the caller's `message` to the board logger at `log_level`, as
/// BrainFlow's `log_message_board_controller`: a level below 0 logs a warning
/// and then the message at 0, above 6 a warning and then the message at 6;
/// the message is written when its level is at or above the logger's (so a
/// message at 6, "off", is always written). Always `STATUS_OK`, as BrainFlow,
/// also for a null message (logged as an error here; spdlog prints
/// "string pointer is null" on stderr). Invalid UTF-8 is written lossily.
///
/// # Safety
/// `message` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn log_message_board_controller(
    log_level: c_int,
    message: *mut c_char,
) -> c_int {
    guarded("log_message_board_controller", || {
        let level = if log_level < LEVEL_TRACE {
            log(LEVEL_WARN, "log level should be >= 0");
            LEVEL_TRACE
        } else if log_level > LEVEL_OFF {
            log(LEVEL_WARN, "log level should be <= 6");
            LEVEL_OFF
        } else {
            log_level
        };
        if message.is_null() {
            log(
                LEVEL_ERROR,
                "log_message_board_controller: message is a null pointer",
            );
        } else {
            log(level, &CStr::from_ptr(message).to_string_lossy());
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        let c = |y, mo, d, h, mi, s| Civil {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
        };
        assert_eq!(utc_time(0), c(1970, 1, 1, 0, 0, 0));
        // `date -u -d @1798618213`
        assert_eq!(utc_time(1_798_618_213), c(2026, 12, 30, 8, 10, 13));
        assert_eq!(utc_time(951_782_400), c(2000, 2, 29, 0, 0, 0));
        assert_eq!(utc_time(-1), c(1969, 12, 31, 23, 59, 59));
    }

    #[test]
    fn line_format() {
        let mut s = String::new();
        let line = Line {
            time: UNIX_EPOCH + Duration::from_millis(1_798_618_213_007),
            level: LEVEL_WARN,
            text: "hello".into(),
        };
        format_line(&mut s, &line);
        // The date part depends on the local zone; the rest does not.
        assert!(s.ends_with(".007] [board_logger] [warning] hello\n"), "{s}");
        assert_eq!(
            s.len(),
            "[2026-12-30 08:10:13.007] [board_logger] [warning] hello\n".len()
        );
        assert!(s.starts_with('[') && s.as_bytes()[5] == b'-' && s.as_bytes()[11] == b' ');
    }
}

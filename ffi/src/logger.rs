//! BrainFlow's `board_logger`: a level, stderr or a file, and the three
//! logging exports. The level numbers are BrainFlow's `LogLevels`.

use std::ffi::{c_char, c_int};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use boardloop_boards::{BoardError, ExitCode};

use crate::guard::{c_str, guarded};

/// `LEVEL_TRACE`.
pub(crate) const LEVEL_TRACE: c_int = 0;
/// `LEVEL_ERROR`.
pub(crate) const LEVEL_ERROR: c_int = 4;
/// `LEVEL_CRITICAL`.
pub(crate) const LEVEL_CRITICAL: c_int = 5;
/// `LEVEL_OFF`: nothing is written at or above it.
pub(crate) const LEVEL_OFF: c_int = 6;

const NAMES: [&str; 6] = ["trace", "debug", "info", "warning", "error", "critical"];

/// BrainFlow's board logger starts at INFO (its Python examples then call
/// `disable_board_logger`), so errors reach stderr unless the caller says not.
static LEVEL: AtomicI32 = AtomicI32::new(2);
static FILE: Mutex<Option<File>> = Mutex::new(None);

/// Writes `message` if `level` is at or above the current level and below OFF.
pub(crate) fn log(level: c_int, message: &str) {
    if level < LEVEL.load(Ordering::Relaxed) || !(LEVEL_TRACE..LEVEL_OFF).contains(&level) {
        return;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let line = format!(
        "[{}.{:03}] [board_logger] [{}] {}\n",
        now.as_secs(),
        now.subsec_millis(),
        NAMES[level as usize],
        message
    );
    let mut file = FILE.lock().unwrap_or_else(|e| e.into_inner());
    // A logger must never fail the call it reports on: write errors are dropped.
    match file.as_mut() {
        Some(f) => {
            let _ = f.write_all(line.as_bytes());
        }
        None => {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
}

/// Sets the board logger's level (0 trace … 6 off). Any value is accepted, as
/// in BrainFlow: below 0 logs everything, 6 and above nothing.
#[no_mangle]
pub extern "C" fn set_log_level_board_controller(log_level: c_int) -> c_int {
    guarded("set_log_level_board_controller", || {
        LEVEL.store(log_level, Ordering::Relaxed);
        Ok(())
    })
}

/// Redirects the board logger from stderr to `log_file` (appended to, created
/// if missing). A file that cannot be opened gives `GENERAL_ERROR`, as in
/// BrainFlow.
///
/// # Safety
/// `log_file` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn set_log_file_board_controller(log_file: *const c_char) -> c_int {
    guarded("set_log_file_board_controller", || {
        let path = c_str(log_file, "log_file")?;
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                BoardError::new(
                    ExitCode::GeneralError,
                    format!("unable to open log file {path}: {e}"),
                )
            })?;
        *FILE.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
        Ok(())
    })
}

/// Writes the caller's `message` to the board logger at `log_level`.
///
/// # Safety
/// `message` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn log_message_board_controller(
    log_level: c_int,
    message: *mut c_char,
) -> c_int {
    guarded("log_message_board_controller", || {
        let msg = c_str(message, "message")?;
        log(log_level, msg);
        Ok(())
    })
}

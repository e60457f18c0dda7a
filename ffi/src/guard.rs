//! The boundary between C callers and Rust: every export runs its body through
//! [`guarded`], and reads or writes caller memory only through the helpers here,
//! which turn null pointers, negative lengths and short buffers into BrainFlow
//! exit codes instead of undefined behaviour.

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use boardloop_boards::{BoardError, ExitCode};

use crate::{logger, tracing_bridge};

/// What an export's body returns before it is turned into a C exit code.
pub(crate) type FfiResult = Result<(), BoardError>;

/// Runs `body`, logging an error and returning its exit code; a panic becomes
/// `GENERAL_ERROR` because unwinding into C is undefined behaviour. The body's
/// `tracing` events go to BrainFlow's logger, and the call returns once its
/// lines are written (see [`crate::tracing_bridge`], [`logger::drain`]).
pub(crate) fn guarded(name: &str, body: impl FnOnce() -> FfiResult) -> c_int {
    let code = tracing_bridge::in_scope(|| run(name, body));
    logger::drain();
    code
}

fn run(name: &str, body: impl FnOnce() -> FfiResult) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ExitCode::Ok.code(),
        Ok(Err(e)) => {
            logger::log(logger::LEVEL_ERROR, &format!("{name}: {e}"));
            e.code.code()
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            logger::log(
                logger::LEVEL_CRITICAL,
                &format!("{name}: internal panic: {what}"),
            );
            ExitCode::GeneralError.code()
        }
    }
}

/// An `INVALID_ARGUMENTS_ERROR` with a message.
pub(crate) fn invalid(msg: impl Into<String>) -> BoardError {
    BoardError::new(ExitCode::InvalidArguments, msg)
}

/// Borrows a NUL-terminated C string as UTF-8.
///
/// # Safety
/// `p` must be null or point to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn c_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, BoardError> {
    if p.is_null() {
        return Err(invalid(format!("{what} is a null pointer")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|_| invalid(format!("{what} is not valid UTF-8")))
}

/// Like [`c_str`], but a null pointer reads as `None` (optional arguments such
/// as `streamer_params`).
///
/// # Safety
/// As for [`c_str`].
pub(crate) unsafe fn opt_c_str<'a>(
    p: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, BoardError> {
    if p.is_null() {
        Ok(None)
    } else {
        c_str(p, what).map(Some)
    }
}

/// Borrows an output argument.
///
/// # Safety
/// `p` must be null or valid for writes of one `T`.
pub(crate) unsafe fn out<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, BoardError> {
    p.as_mut()
        .ok_or_else(|| invalid(format!("{what} is a null pointer")))
}

/// Checks a caller-supplied array pointer before writing `n` elements to it.
///
/// # Safety
/// `p` must be null or valid for writes of `n` elements of `T`.
pub(crate) unsafe fn out_slice<'a, T>(
    p: *mut T,
    n: usize,
    what: &str,
) -> Result<&'a mut [T], BoardError> {
    if p.is_null() {
        return Err(invalid(format!("{what} is a null pointer")));
    }
    Ok(std::slice::from_raw_parts_mut(p, n))
}

/// Writes `text` to a caller buffer of `max_len` bytes and its length to `len`,
/// as BrainFlow's string getters do: a buffer too small gives
/// `INVALID_ARGUMENTS_ERROR` with `len` set to the length needed and nothing
/// written to `buf`. A NUL is appended when there is room, for C callers that
/// print the buffer.
///
/// # Safety
/// `buf` must be null or valid for `max_len` bytes; `len` null or valid.
pub(crate) unsafe fn write_text(
    text: &str,
    buf: *mut c_char,
    len: *mut c_int,
    max_len: c_int,
    what: &str,
) -> FfiResult {
    let len = out(len, "len")?;
    if buf.is_null() {
        return Err(invalid(format!("{what} buffer is a null pointer")));
    }
    let bytes = text.as_bytes();
    let needed = c_int::try_from(bytes.len())
        .map_err(|_| invalid(format!("{what} is longer than an int can count")))?;
    if max_len < needed {
        *len = needed;
        return Err(invalid(format!(
            "{what} needs {needed} bytes, the buffer holds {max_len}"
        )));
    }
    // max_len >= needed >= 0 here, so the cast cannot wrap.
    let dst = std::slice::from_raw_parts_mut(buf as *mut u8, max_len as usize);
    dst[..bytes.len()].copy_from_slice(bytes);
    if bytes.len() < dst.len() {
        dst[bytes.len()] = 0;
    }
    *len = needed;
    Ok(())
}

/// A non-negative C count as `usize`.
pub(crate) fn count(n: c_int, what: &str) -> Result<usize, BoardError> {
    usize::try_from(n).map_err(|_| invalid(format!("{what} is negative ({n})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_general_error() {
        // The panic goes to the board logger (at CRITICAL, with its location),
        // not to the default hook's stderr message.
        let dir = std::env::temp_dir().join(format!("boardloop-ffi-guard-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("panic.log");
        let path = std::ffi::CString::new(file.to_str().unwrap()).unwrap();
        assert_eq!(
            unsafe { crate::logger::set_log_file_board_controller(path.as_ptr()) },
            0
        );
        assert_eq!(
            guarded("t", || panic!("boom")),
            ExitCode::GeneralError.code()
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("] [board_logger] [critical] panic in thread ")
                && text.contains(&format!("at {}:", file!()))
                && text.contains(": boom\n"),
            "{text}"
        );
        assert!(
            text.contains("[critical] t: internal panic: boom"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(dir);
        crate::logger::set_log_level_board_controller(crate::logger::LEVEL_OFF);
        assert_eq!(
            guarded("t", || Err(invalid("x"))),
            ExitCode::InvalidArguments.code()
        );
        assert_eq!(guarded("t", || Ok(())), 0);
    }
}

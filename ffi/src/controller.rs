//! The session functions of BrainFlow's `board_controller.h`, with its
//! signatures and exit codes.
//!
//! Each call parses `json_brainflow_input_params` (bad JSON:
//! `GENERAL_ERROR`, see [`InputParams::from_json`]), finds the session for
//! `(board_id, params)` (none: `BOARD_NOT_CREATED_ERROR`), then checks its
//! other arguments and calls the board. Pointer arguments that BrainFlow
//! dereferences without checking (and crashes on) give
//! `INVALID_ARGUMENTS_ERROR` here.

use std::ffi::{c_char, c_double, c_int};

#[cfg(feature = "ble")]
use boardloop_bluez::create_board;
// Without the BLE backend, BLE boards answer UNSUPPORTED_BOARD_ERROR.
#[cfg(not(feature = "ble"))]
use boardloop_boards::create_board;
use boardloop_boards::params::InputParams;
use boardloop_boards::streamer::Streamer;
use boardloop_boards::{Board, BoardError, BoardId, ExitCode, Preset};

use crate::guard::{
    c_str, count, guarded, invalid, opt_c_str, out, out_slice, write_text, FfiResult,
};

use crate::sessions::{self, Key};

/// BrainFlow's `MAX_CAPTURE_SAMPLES` (86400 × 250): the largest ring buffer
/// `start_stream` accepts (pip brainflow 5.23: 21,600,001 gives
/// `INVALID_BUFFER_SIZE_ERROR`).
pub const MAX_CAPTURE_SAMPLES: c_int = 86400 * 250;

/// Parses the params and builds the session key.
///
/// # Safety
/// `json` must be null or a NUL-terminated string.
unsafe fn key(board_id: c_int, json: *const c_char) -> Result<Key, BoardError> {
    if json.is_null() {
        return Err(invalid("json_brainflow_input_params is a null pointer"));
    }
    // Not UTF-8 is not JSON: GENERAL_ERROR like any other parse failure.
    let text = std::ffi::CStr::from_ptr(json)
        .to_str()
        .map_err(|_| BoardError::new(ExitCode::GeneralError, "input params are not valid UTF-8"))?;
    Ok((board_id, InputParams::from_json(text)?))
}

/// Runs `f` on the session's board, holding only that session's lock.
///
/// # Safety
/// `json` must be null or a NUL-terminated string.
unsafe fn with_board(
    board_id: c_int,
    json: *const c_char,
    f: impl FnOnce(&mut dyn Board) -> FfiResult,
) -> FfiResult {
    if json.is_null() {
        return Err(invalid("json_brainflow_input_params is a null pointer"));
    }
    let bytes = std::ffi::CStr::from_ptr(json).to_bytes();
    let session = sessions::find_cached(board_id, bytes, || key(board_id, json))?;
    let mut board = session.lock();
    f(board.as_mut())
}

fn preset(p: c_int) -> Result<Preset, BoardError> {
    Preset::try_from(p)
}

/// Creates the session for `(board_id, params)` from the board registry
/// (BLE boards through btleplug on the first adapter, or
/// `$BOARDLOOP_BLE_ADAPTER`) and performs the board's handshake (for BLE:
/// scan for `timeout` s, connect, discover). Unknown or not yet implemented boards give
/// `UNSUPPORTED_BOARD_ERROR`; a session with the same key already prepared
/// gives `ANOTHER_BOARD_IS_CREATED_ERROR`. A different board id on the same
/// serial port is not refused up front (BrainFlow does not either): opening
/// the port decides, and the Rust serial link opens ports exclusively, so it
/// gives `UNABLE_TO_OPEN_PORT_ERROR`.
///
/// # Safety
/// `json_brainflow_input_params` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn prepare_session(
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("prepare_session", || {
        let key = key(board_id, json_brainflow_input_params)?;
        let params = key.1.clone();
        sessions::prepare(key, || create_board(BoardId::try_from(board_id)?, params))
    })
}

/// Starts streaming into a ring buffer of `buffer_size` samples (1 to
/// [`MAX_CAPTURE_SAMPLES`], else `INVALID_BUFFER_SIZE_ERROR`).
/// `streamer_params` may be null or empty; a streamer string is added to the
/// default preset first, as BrainFlow does (see [`add_streamer`]).
///
/// # Safety
/// String arguments must be null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn start_stream(
    buffer_size: c_int,
    streamer_params: *const c_char,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("start_stream", || {
        with_board(board_id, json_brainflow_input_params, |b| {
            if !(1..=MAX_CAPTURE_SAMPLES).contains(&buffer_size) {
                return Err(BoardError::new(
                    ExitCode::InvalidBufferSize,
                    format!("buffer_size {buffer_size} is outside 1..={MAX_CAPTURE_SAMPLES}"),
                ));
            }
            let spec = opt_c_str(streamer_params, "streamer_params")?.filter(|s| !s.is_empty());
            let Some(spec) = spec else {
                return b.start_stream(buffer_size as usize);
            };
            // BrainFlow's order: a running stream is refused first, then the
            // streamer is added, so that it gets the stream's first row.
            if b.is_streaming() {
                return Err(BoardError::new(
                    ExitCode::StreamAlreadyRun,
                    "stream is already running",
                ));
            }
            let spec = Streamer::parse(spec)?;
            b.add_streamer(&spec, Preset::Default)?;
            // If the start fails, the streamer stays added, as in BrainFlow.
            b.start_stream(buffer_size as usize)
        })
    })
}

/// Stops streaming; buffered data stays readable.
///
/// # Safety
/// `json_brainflow_input_params` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn stop_stream(
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("stop_stream", || {
        with_board(board_id, json_brainflow_input_params, |b| b.stop_stream())
    })
}

/// Stops any stream, closes the link and forgets the session.
///
/// # Safety
/// `json_brainflow_input_params` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn release_session(
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("release_session", || {
        sessions::release(&key(board_id, json_brainflow_input_params)?)
    })
}

/// Releases every session. Always `STATUS_OK`, as in BrainFlow; failures are
/// logged.
#[no_mangle]
pub extern "C" fn release_all_sessions() -> c_int {
    guarded("release_all_sessions", || {
        for e in sessions::release_all() {
            crate::logger::log(
                crate::logger::LEVEL_ERROR,
                &format!("release_all_sessions: {e}"),
            );
        }
        Ok(())
    })
}

/// Copies the newest `num_samples` samples (or fewer if fewer are buffered)
/// of `preset` into `data_buf` without removing them, and their count into
/// `returned_samples`. `data_buf` must hold `num_samples × num_rows` doubles;
/// the values are written channel-major with the returned count as the row
/// stride (`data_buf[row * returned + sample]`), as BrainFlow does.
///
/// # Safety
/// `data_buf` must be null or valid for `num_samples × num_rows` doubles,
/// `returned_samples` null or valid; strings null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn get_current_board_data(
    num_samples: c_int,
    preset: c_int,
    data_buf: *mut c_double,
    returned_samples: *mut c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("get_current_board_data", || {
        with_board(board_id, json_brainflow_input_params, |b| {
            let n = count(num_samples, "num_samples")?;
            let returned = out(returned_samples, "returned_samples")?;
            if data_buf.is_null() {
                return Err(invalid("data_buf is a null pointer"));
            }
            let data = b.get_current_board_data(n, self::preset(preset)?)?;
            out_slice(data_buf, data.values.len(), "data_buf")?.copy_from_slice(&data.values);
            *returned = data.num_samples as c_int;
            Ok(())
        })
    })
}

/// Writes the number of samples buffered for `preset` to `result`. Before
/// the first `start_stream` there is no buffer: `INVALID_ARGUMENTS_ERROR`.
///
/// # Safety
/// `result` must be null or valid; the string null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn get_board_data_count(
    preset: c_int,
    result: *mut c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("get_board_data_count", || {
        with_board(board_id, json_brainflow_input_params, |b| {
            let result = out(result, "result")?;
            let n = b.get_board_data_count(self::preset(preset)?)?;
            *result = c_int::try_from(n).unwrap_or(c_int::MAX);
            Ok(())
        })
    })
}

/// Removes the oldest `data_count` samples of `preset` from the buffer and
/// writes them to `data_buf`, channel-major. If fewer are buffered, all of
/// them are written with their count as the row stride (BrainFlow's layout);
/// callers ask `get_board_data_count` first, as BrainFlow's bindings do.
/// `data_count` 0 writes nothing and succeeds once streaming has started
/// (the Python binding calls it so on an empty buffer); negative gives
/// `INVALID_ARGUMENTS_ERROR`.
///
/// # Safety
/// `data_buf` must be null or valid for `data_count × num_rows` doubles;
/// the string null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn get_board_data(
    data_count: c_int,
    preset: c_int,
    data_buf: *mut c_double,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("get_board_data", || {
        with_board(board_id, json_brainflow_input_params, |b| {
            let n = count(data_count, "data_count")?;
            if data_buf.is_null() {
                return Err(invalid("data_buf is a null pointer"));
            }
            let preset = self::preset(preset)?;
            if n == 0 {
                // Still report a missing buffer or a bad preset, as BrainFlow does.
                return b.get_board_data_count(preset).map(|_| ());
            }
            let data = b.get_board_data(Some(n), preset)?;
            out_slice(data_buf, data.values.len(), "data_buf")?.copy_from_slice(&data.values);
            Ok(())
        })
    })
}

/// Writes the sampling rate of the prepared session's board in `preset`.
///
/// # Safety
/// `sampling_rate` must be null or valid; the string null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn get_board_sampling_rate(
    preset: c_int,
    sampling_rate: *mut c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("get_board_sampling_rate", || {
        with_board(board_id, json_brainflow_input_params, |b| {
            let out = out(sampling_rate, "sampling_rate")?;
            // The session's layout: a playback or streaming board has its
            // master board's.
            let descr = b.layout(self::preset(preset)?)?;
            *out = descr.sampling_rate as c_int;
            Ok(())
        })
    })
}

/// Sends `config` to the board and copies its reply (empty while streaming)
/// into `response` (`response_max_len` bytes) and its length into
/// `response_len`. A reply longer than the buffer gives
/// `INVALID_ARGUMENTS_ERROR` with `response_len` set to the length needed;
/// the command has been sent by then.
///
/// # Safety
/// `config` must be null or NUL-terminated, `response` null or valid for
/// `response_max_len` bytes, `response_len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn config_board(
    config: *const c_char,
    response: *mut c_char,
    response_len: *mut c_int,
    response_max_len: c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("config_board", || {
        with_board(board_id, json_brainflow_input_params, |b| {
            let config = c_str(config, "config")?;
            if response.is_null() || response_len.is_null() || response_max_len < 0 {
                return Err(invalid(
                    "response, response_len must be non-null and response_max_len >= 0",
                ));
            }
            let reply = b.config_board(config)?;
            write_text(&reply, response, response_len, response_max_len, "response")
        })
    })
}

/// Raw-byte configuration. The Rust boards have no raw write yet, so after
/// the arguments are checked this gives `UNSUPPORTED_BOARD_ERROR`.
///
/// # Safety
/// `bytes` must be null or valid for `len` bytes; the string null or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn config_board_with_bytes(
    bytes: *const c_char,
    len: c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("config_board_with_bytes", || {
        with_board(board_id, json_brainflow_input_params, |b| {
            count(len, "len")?;
            if bytes.is_null() {
                return Err(invalid("bytes is a null pointer"));
            }
            Err(BoardError::new(
                ExitCode::UnsupportedBoard,
                format!(
                    "config_board_with_bytes is not implemented for board {}",
                    b.board_id()
                ),
            ))
        })
    })
}

/// Writes 1 to `prepared` if the session exists and is prepared, else 0.
/// A session that does not exist is not an error here.
///
/// # Safety
/// `prepared` must be null or valid; the string null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn is_prepared(
    prepared: *mut c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("is_prepared", || {
        let key = key(board_id, json_brainflow_input_params)?;
        let out = out(prepared, "prepared")?;
        *out = sessions::find(&key)
            .map(|s| s.lock().is_prepared())
            .unwrap_or(false) as c_int;
        Ok(())
    })
}

/// Queues `marker_value` for the next sample of `preset` (0 is reserved for
/// "no marker": `INVALID_ARGUMENTS_ERROR`). Before the first `start_stream`
/// there is no buffer to mark: `INVALID_ARGUMENTS_ERROR`, as in BrainFlow.
///
/// # Safety
/// The string must be null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn insert_marker(
    marker_value: c_double,
    preset: c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("insert_marker", || {
        with_board(board_id, json_brainflow_input_params, |b| {
            let preset = self::preset(preset)?;
            // BrainFlow refuses a marker before the first start_stream (no
            // buffer yet); the Rust board would queue it.
            b.get_board_data_count(preset)?;
            b.insert_marker(marker_value, preset)
        })
    })
}

/// Adds a streamer to `preset`: from now on, every row the preset takes also
/// goes to it, on its own thread (`boardloop_boards::outlet`). The codes are
/// BrainFlow's:
/// * a malformed string: `INVALID_ARGUMENTS_ERROR`;
/// * a file that cannot be opened, an address that is no IPv4 address:
///   `GENERAL_ERROR`;
/// * a plugin board (its rows stay in the plugin): `UNSUPPORTED_BOARD_ERROR`.
///
/// A write or send that fails later is logged and counted, and the stream
/// goes on.
///
/// # Safety
/// Strings must be null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn add_streamer(
    streamer: *const c_char,
    preset: c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("add_streamer", || {
        with_board(board_id, json_brainflow_input_params, |b| {
            let spec = Streamer::parse(c_str(streamer, "streamer")?)?;
            b.add_streamer(&spec, self::preset(preset)?)
        })
    })
}

/// Deletes every streamer equal to `streamer` from `preset`, once each has
/// written what it queued; one never added gives `INVALID_ARGUMENTS_ERROR`.
///
/// # Safety
/// Strings must be null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn delete_streamer(
    streamer: *const c_char,
    preset: c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guarded("delete_streamer", || {
        with_board(board_id, json_brainflow_input_params, |b| {
            let spec = Streamer::parse(c_str(streamer, "streamer")?)?;
            b.delete_streamer(&spec, self::preset(preset)?)
        })
    })
}

/// Writes this library's version (the boardloop-ffi crate version, not
/// BrainFlow's) to `version`, truncated to `max_chars` as BrainFlow does,
/// and the number of bytes written to `num_chars`.
///
/// # Safety
/// `version` must be null or valid for `max_chars` bytes, `num_chars` null or
/// valid.
#[no_mangle]
pub unsafe extern "C" fn get_version_board_controller(
    version: *mut c_char,
    num_chars: *mut c_int,
    max_chars: c_int,
) -> c_int {
    guarded("get_version_board_controller", || {
        let v = env!("CARGO_PKG_VERSION");
        let max = count(max_chars, "max_chars")?;
        let n = v.len().min(max) as c_int;
        write_text(&v[..n as usize], version, num_chars, max_chars, "version")
    })
}

//! BrainFlow's `board_info_getter.h`: board descriptions, no session needed.
//!
//! Every getter reads a field of the board's description JSON, as BrainFlow
//! does, with its codes (checked against pip brainflow 5.23): an unknown or
//! undescribed board, an absent preset and an absent field (e.g. Cyton's
//! battery or gyro) all give `UNSUPPORTED_BOARD_ERROR`; a string buffer too
//! small gives `INVALID_ARGUMENTS_ERROR` with `len` set to the length needed.
//!
//! The `int *` channel arrays have no length argument in BrainFlow's API: the
//! caller must provide room for `num_rows` ints (the Python binding passes
//! 512).

use std::ffi::{c_char, c_int};

use boardloop_boards::descr::board_presets;
use boardloop_boards::registry;
use boardloop_boards::{BoardDescr, BoardError, BoardId, ExitCode, Preset};
use serde_json::Value;

use crate::guard::{guarded, out, out_slice, write_text, FfiResult};

fn unsupported(msg: String) -> BoardError {
    BoardError::new(ExitCode::UnsupportedBoard, msg)
}

/// BrainFlow's description JSON of `board_id` in `preset`, verbatim (for
/// the playback and streaming boards, a name only, as in BrainFlow).
fn descr(board_id: c_int, preset: c_int) -> Result<&'static str, BoardError> {
    let id = BoardId::try_from(board_id).map_err(|e| unsupported(e.message))?;
    let preset = Preset::try_from(preset).map_err(|e| unsupported(e.message))?;
    registry::descr_json(id, preset).map_err(|e| unsupported(e.message))
}

/// One field of the description's JSON; fields a board lacks are absent
/// from it, as in BrainFlow's tables.
fn field(board_id: c_int, preset: c_int, name: &str) -> Result<Value, BoardError> {
    let json: Value = serde_json::from_str(descr(board_id, preset)?)
        .map_err(|e| BoardError::new(ExitCode::GeneralError, e.to_string()))?;
    json.get(name)
        .cloned()
        .ok_or_else(|| unsupported(format!("board {board_id} preset {preset} has no {name}")))
}

/// Writes an integer field of the description to `value`.
unsafe fn int_field(board_id: c_int, preset: c_int, name: &str, value: *mut c_int) -> FfiResult {
    let v = field(board_id, preset, name)?;
    let n = v
        .as_i64()
        .ok_or_else(|| unsupported(format!("{name} is not an integer")))?;
    *out(value, name)? = n as c_int;
    Ok(())
}

/// Writes a string field of the description to a caller buffer.
unsafe fn text_field(
    board_id: c_int,
    preset: c_int,
    name: &str,
    buf: *mut c_char,
    len: *mut c_int,
    max_len: c_int,
) -> FfiResult {
    let v = field(board_id, preset, name)?;
    let s = v
        .as_str()
        .ok_or_else(|| unsupported(format!("{name} is not a string")))?;
    write_text(s, buf, len, max_len, name)
}

/// Writes a channel-list field of the description to `channels` and its
/// length to `len`.
unsafe fn channel_field(
    board_id: c_int,
    preset: c_int,
    name: &str,
    channels: *mut c_int,
    len: *mut c_int,
) -> FfiResult {
    let v = field(board_id, preset, name)?;
    let list: Vec<c_int> = v
        .as_array()
        .ok_or_else(|| unsupported(format!("{name} is not a list")))?
        .iter()
        .map(|c| c.as_i64().unwrap_or(-1) as c_int)
        .collect();
    write_channels(&list, channels, len)
}

/// Writes a list of ints and its length.
unsafe fn write_channels(list: &[c_int], channels: *mut c_int, len: *mut c_int) -> FfiResult {
    let len = out(len, "len")?;
    out_slice(channels, list.len(), "channels")?.copy_from_slice(list);
    *len = list.len() as c_int;
    Ok(())
}

/// Writes the board description JSON of `board_id` in `preset` (BrainFlow's
/// exact layout) to `board_descr` and its length to `len`.
///
/// # Safety
/// `board_descr` must be null or valid for `max_len` bytes, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_board_descr(
    board_id: c_int,
    preset: c_int,
    board_descr: *mut c_char,
    len: *mut c_int,
    max_len: c_int,
) -> c_int {
    guarded("get_board_descr", || {
        write_text(
            descr(board_id, preset)?,
            board_descr,
            len,
            max_len,
            "board_descr",
        )
    })
}

/// Writes the comma-separated EEG electrode names.
///
/// # Safety
/// `eeg_names` must be null or valid for `max_len` bytes, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_eeg_names(
    board_id: c_int,
    preset: c_int,
    eeg_names: *mut c_char,
    len: *mut c_int,
    max_len: c_int,
) -> c_int {
    guarded("get_eeg_names", || {
        text_field(board_id, preset, "eeg_names", eeg_names, len, max_len)
    })
}

/// Writes the device name (e.g. `Cyton`).
///
/// # Safety
/// `name` must be null or valid for `max_len` bytes, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_device_name(
    board_id: c_int,
    preset: c_int,
    name: *mut c_char,
    len: *mut c_int,
    max_len: c_int,
) -> c_int {
    guarded("get_device_name", || {
        text_field(board_id, preset, "name", name, len, max_len)
    })
}

/// Writes the presets the board has (BrainFlow's order) to `presets` and
/// their number to `len`. Boards without a description here give
/// `UNSUPPORTED_BOARD_ERROR` (BrainFlow answers `[0]` even for unknown ids).
///
/// # Safety
/// `presets` must be null or valid for 3 ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_board_presets(
    board_id: c_int,
    presets: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_board_presets", || {
        let id = BoardId::try_from(board_id)?;
        let list: Vec<c_int> = board_presets(id)?.into_iter().map(|p| p as c_int).collect();
        write_channels(&list, presets, len)
    })
}

// Written out rather than generated by a macro: cbindgen does not expand
// macros, and the header must list every export.

/// Writes the nominal sampling rate (Hz).
///
/// # Safety
/// `value` must be null or valid for one int.
#[no_mangle]
pub unsafe extern "C" fn get_sampling_rate(
    board_id: c_int,
    preset: c_int,
    value: *mut c_int,
) -> c_int {
    guarded("get_sampling_rate", || {
        int_field(board_id, preset, "sampling_rate", value)
    })
}

/// Writes the row holding the packet counter.
///
/// # Safety
/// `value` must be null or valid for one int.
#[no_mangle]
pub unsafe extern "C" fn get_package_num_channel(
    board_id: c_int,
    preset: c_int,
    value: *mut c_int,
) -> c_int {
    guarded("get_package_num_channel", || {
        int_field(board_id, preset, "package_num_channel", value)
    })
}

/// Writes the row holding the host timestamp.
///
/// # Safety
/// `value` must be null or valid for one int.
#[no_mangle]
pub unsafe extern "C" fn get_timestamp_channel(
    board_id: c_int,
    preset: c_int,
    value: *mut c_int,
) -> c_int {
    guarded("get_timestamp_channel", || {
        int_field(board_id, preset, "timestamp_channel", value)
    })
}

/// Writes the marker row.
///
/// # Safety
/// `value` must be null or valid for one int.
#[no_mangle]
pub unsafe extern "C" fn get_marker_channel(
    board_id: c_int,
    preset: c_int,
    value: *mut c_int,
) -> c_int {
    guarded("get_marker_channel", || {
        int_field(board_id, preset, "marker_channel", value)
    })
}

/// Writes the battery row (`UNSUPPORTED_BOARD_ERROR` if the board has none).
///
/// # Safety
/// `value` must be null or valid for one int.
#[no_mangle]
pub unsafe extern "C" fn get_battery_channel(
    board_id: c_int,
    preset: c_int,
    value: *mut c_int,
) -> c_int {
    guarded("get_battery_channel", || {
        int_field(board_id, preset, "battery_channel", value)
    })
}

/// Writes the number of rows of a sample.
///
/// # Safety
/// `value` must be null or valid for one int.
#[no_mangle]
pub unsafe extern "C" fn get_num_rows(board_id: c_int, preset: c_int, value: *mut c_int) -> c_int {
    guarded("get_num_rows", || {
        int_field(board_id, preset, "num_rows", value)
    })
}

/// Writes the EEG rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_eeg_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_eeg_channels", || {
        channel_field(board_id, preset, "eeg_channels", channels, len)
    })
}

/// Writes the ExG rows (EEG, EMG, ECG and EOG rows together, sorted, without
/// repeats, as BrainFlow computes them); `UNSUPPORTED_BOARD_ERROR` if the
/// board has none of the four.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_exg_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_exg_channels", || {
        // A name-only description (playback, streaming) has none of them.
        let d: BoardDescr = serde_json::from_str(descr(board_id, preset)?).unwrap_or_default();
        let mut rows: Vec<usize> = [
            &d.eeg_channels,
            &d.emg_channels,
            &d.ecg_channels,
            &d.eog_channels,
        ]
        .into_iter()
        .flatten()
        .copied()
        .collect();
        rows.sort_unstable();
        rows.dedup();
        if rows.is_empty() {
            return Err(unsupported(format!(
                "board {board_id} preset {preset} has no exg_channels"
            )));
        }
        write_channels(
            &rows.into_iter().map(|r| r as c_int).collect::<Vec<_>>(),
            channels,
            len,
        )
    })
}

/// Writes the EMG rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_emg_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_emg_channels", || {
        channel_field(board_id, preset, "emg_channels", channels, len)
    })
}

/// Writes the ECG rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_ecg_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_ecg_channels", || {
        channel_field(board_id, preset, "ecg_channels", channels, len)
    })
}

/// Writes the EOG rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_eog_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_eog_channels", || {
        channel_field(board_id, preset, "eog_channels", channels, len)
    })
}

/// Writes the EDA rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_eda_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_eda_channels", || {
        channel_field(board_id, preset, "eda_channels", channels, len)
    })
}

/// Writes the PPG rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_ppg_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_ppg_channels", || {
        channel_field(board_id, preset, "ppg_channels", channels, len)
    })
}

/// Writes the optical rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_optical_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_optical_channels", || {
        channel_field(board_id, preset, "optical_channels", channels, len)
    })
}

/// Writes the accelerometer rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_accel_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_accel_channels", || {
        channel_field(board_id, preset, "accel_channels", channels, len)
    })
}

/// Writes the rotation rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_rotation_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_rotation_channels", || {
        channel_field(board_id, preset, "rotation_channels", channels, len)
    })
}

/// Writes the analog rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_analog_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_analog_channels", || {
        channel_field(board_id, preset, "analog_channels", channels, len)
    })
}

/// Writes the gyroscope rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_gyro_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_gyro_channels", || {
        channel_field(board_id, preset, "gyro_channels", channels, len)
    })
}

/// Writes the other rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_other_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_other_channels", || {
        channel_field(board_id, preset, "other_channels", channels, len)
    })
}

/// Writes the temperature rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_temperature_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_temperature_channels", || {
        channel_field(board_id, preset, "temperature_channels", channels, len)
    })
}

/// Writes the resistance rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_resistance_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_resistance_channels", || {
        channel_field(board_id, preset, "resistance_channels", channels, len)
    })
}

/// Writes the magnetometer rows to `channels` and their number to `len`;
/// `UNSUPPORTED_BOARD_ERROR` if the board has none.
///
/// # Safety
/// `channels` must be null or valid for `num_rows` ints, `len` null or valid.
#[no_mangle]
pub unsafe extern "C" fn get_magnetometer_channels(
    board_id: c_int,
    preset: c_int,
    channels: *mut c_int,
    len: *mut c_int,
) -> c_int {
    guarded("get_magnetometer_channels", || {
        channel_field(board_id, preset, "magnetometer_channels", channels, len)
    })
}

//! The C ABI's writes into caller memory, into heap buffers of exactly the
//! size the contract allows (no slack), so that one element written past
//! the end is an error under Miri and ASan (`ci/sanitizers.sh` runs this file
//! under both) rather than a silent write into spare room. Also: buffers one
//! too short are left untouched, null and non-UTF-8 arguments give codes.
//! No I/O, so all of it runs under Miri; calls that need a session stop at
//! the session lookup (no session exists in this process).

mod common;

use std::ffi::{c_char, c_int};
use std::ptr::null_mut;

use common::*;

/// A string getter of `board_info_getter.h` (board, preset, buf, len, max_len).
type TextGetter = unsafe extern "C" fn(c_int, c_int, *mut c_char, *mut c_int, c_int) -> c_int;
/// A channel-list getter (board, preset, channels, len).
type ListGetter = unsafe extern "C" fn(c_int, c_int, *mut c_int, *mut c_int) -> c_int;
/// An integer getter (board, preset, value).
type IntGetter = unsafe extern "C" fn(c_int, c_int, *mut c_int) -> c_int;

/// Fill for bytes the library must not write.
const UNTOUCHED: u8 = 0xAA;
const MUSE_2: c_int = 38;

/// A heap buffer of exactly `n` bytes.
fn exact(n: usize) -> Box<[u8]> {
    vec![UNTOUCHED; n].into_boxed_slice()
}

/// Calls a string getter with an exact-size buffer; returns (code, len, bytes).
fn text(
    get: TextGetter,
    board: c_int,
    preset: c_int,
    size: usize,
    max_len: c_int,
) -> (c_int, c_int, Box<[u8]>) {
    let mut buf = exact(size);
    let mut len: c_int = -1;
    let code = unsafe {
        get(
            board,
            preset,
            buf.as_mut_ptr() as *mut c_char,
            &mut len,
            max_len,
        )
    };
    (code, len, buf)
}

#[test]
fn string_getters_write_within_max_len() {
    quiet();
    let getters: [(&str, TextGetter); 3] = [
        ("get_board_descr", ffi::get_board_descr),
        ("get_eeg_names", ffi::get_eeg_names),
        ("get_device_name", ffi::get_device_name),
    ];
    for (name, get) in getters {
        // The length needed, from a buffer with room to spare.
        let (code, needed, roomy) = text(get, CYTON, 0, 16_384, 16_384);
        assert_eq!(code, OK, "{name}");
        let n = needed as usize;
        assert!(n > 0 && n < 16_384, "{name}: {needed}");
        let want = &roomy[..n];
        // Exactly the length: the text and no terminating NUL.
        let (code, len, buf) = text(get, CYTON, 0, n, needed);
        assert_eq!((code, len), (OK, needed), "{name}");
        assert_eq!(&buf[..], want, "{name}");
        // One more byte: the NUL goes there.
        let (code, _, buf) = text(get, CYTON, 0, n + 1, needed + 1);
        assert_eq!(code, OK, "{name}");
        assert_eq!((&buf[..n], buf[n]), (want, 0), "{name}");
        // One short, empty, negative: refused, `len` says what is needed, and
        // not one byte written.
        for (size, max_len) in [(n - 1, needed - 1), (0, 0), (0, -1)] {
            let (code, len, buf) = text(get, CYTON, 0, size, max_len);
            assert_eq!((code, len), (INVALID_ARGUMENTS, needed), "{name} {max_len}");
            assert!(buf.iter().all(|b| *b == UNTOUCHED), "{name} {max_len}");
        }
        // Null buffer or length.
        let mut len: c_int = -1;
        assert_eq!(
            unsafe { get(CYTON, 0, null_mut(), &mut len, 64) },
            INVALID_ARGUMENTS
        );
        let mut buf = exact(n);
        let code = unsafe {
            get(
                CYTON,
                0,
                buf.as_mut_ptr() as *mut c_char,
                null_mut(),
                needed,
            )
        };
        assert_eq!(code, INVALID_ARGUMENTS, "{name}");
    }
}

#[test]
fn version_is_truncated_to_max_chars() {
    quiet();
    let full = env!("CARGO_PKG_VERSION").as_bytes();
    for max in [0, 1, 2, full.len()] {
        let mut buf = exact(max);
        let mut len: c_int = -1;
        let code = unsafe {
            ffi::get_version_board_controller(
                buf.as_mut_ptr() as *mut c_char,
                &mut len,
                max as c_int,
            )
        };
        assert_eq!((code, len), (OK, max as c_int));
        assert_eq!(&buf[..], &full[..max]);
    }
    let mut len: c_int = -1;
    let mut buf = exact(4);
    let code =
        unsafe { ffi::get_version_board_controller(buf.as_mut_ptr() as *mut c_char, &mut len, -1) };
    assert_eq!(code, INVALID_ARGUMENTS);
}

#[test]
fn channel_lists_fill_exactly_their_length() {
    quiet();
    let getters: [(&str, ListGetter); 8] = [
        ("get_eeg_channels", ffi::get_eeg_channels),
        ("get_exg_channels", ffi::get_exg_channels),
        ("get_accel_channels", ffi::get_accel_channels),
        ("get_analog_channels", ffi::get_analog_channels),
        ("get_other_channels", ffi::get_other_channels),
        ("get_gyro_channels", ffi::get_gyro_channels),
        ("get_ppg_channels", ffi::get_ppg_channels),
        ("get_resistance_channels", ffi::get_resistance_channels),
    ];
    let mut answered = 0;
    for board in [CYTON, MUSE_2] {
        for preset in [0, 1, 2] {
            for (name, get) in getters {
                let mut roomy = vec![-7 as c_int; 512];
                let mut len: c_int = -1;
                let code = unsafe { get(board, preset, roomy.as_mut_ptr(), &mut len) };
                if code != OK {
                    // An absent list or preset: nothing written.
                    assert_eq!(code, UNSUPPORTED_BOARD, "{name} {board} {preset}");
                    assert!(roomy.iter().all(|c| *c == -7), "{name}");
                    continue;
                }
                answered += 1;
                let n = len as usize;
                let mut tight = vec![-7 as c_int; n].into_boxed_slice();
                let mut len2: c_int = -1;
                let code = unsafe { get(board, preset, tight.as_mut_ptr(), &mut len2) };
                assert_eq!((code, len2), (OK, len), "{name} {board} {preset}");
                assert_eq!(&tight[..], &roomy[..n], "{name} {board} {preset}");
                assert!(
                    roomy[n..].iter().all(|c| *c == -7),
                    "{name} wrote past its length"
                );
            }
        }
    }
    assert!(answered >= 8, "only {answered} lists answered");
    // Presets: Muse 2 has three (in BrainFlow's order, newest first).
    let mut presets = vec![-7 as c_int; 3].into_boxed_slice();
    let mut len: c_int = -1;
    assert_eq!(
        unsafe { ffi::get_board_presets(MUSE_2, presets.as_mut_ptr(), &mut len) },
        OK
    );
    assert_eq!((len, &presets[..]), (3, &[2, 1, 0][..]));
}

#[test]
fn integer_getters_write_one_int() {
    quiet();
    let getters: [(&str, IntGetter); 5] = [
        ("get_sampling_rate", ffi::get_sampling_rate),
        ("get_package_num_channel", ffi::get_package_num_channel),
        ("get_timestamp_channel", ffi::get_timestamp_channel),
        ("get_marker_channel", ffi::get_marker_channel),
        ("get_num_rows", ffi::get_num_rows),
    ];
    for (name, get) in getters {
        let mut value = Box::new(-7 as c_int);
        assert_eq!(unsafe { get(CYTON, 0, &mut *value) }, OK, "{name}");
        assert!(*value >= 0, "{name}: {value}");
        assert_eq!(
            unsafe { get(CYTON, 0, null_mut()) },
            INVALID_ARGUMENTS,
            "{name}"
        );
    }
    let mut rows = Box::new(0 as c_int);
    assert_eq!(unsafe { ffi::get_num_rows(CYTON, 0, &mut *rows) }, OK);
    assert_eq!(*rows as usize, CYTON_ROWS);
}

#[test]
fn session_calls_read_their_strings_safely() {
    quiet();
    // No session exists: each call reads its JSON (and other strings) and
    // stops at the lookup; arguments.rs has the codes of every session call.
    let j = params("/dev/boardloop-no-such-port");
    let not_utf8: &[u8] = b"{\"serial_port\": \"\xff\xfe\"}\0";
    let bad = not_utf8.as_ptr() as *const c_char;
    let mut prepared = Box::new(-1 as c_int);
    let mut reply = exact(8);
    let mut len: c_int = -1;
    unsafe {
        assert_eq!(ffi::stop_stream(CYTON, bad), GENERAL_ERROR);
        assert_eq!(ffi::is_prepared(&mut *prepared, CYTON, bad), GENERAL_ERROR);
        assert_eq!(ffi::is_prepared(&mut *prepared, CYTON, j.as_ptr()), OK);
        let code = ffi::config_board(
            c"x1060110X".as_ptr(),
            reply.as_mut_ptr() as *mut c_char,
            &mut len,
            8,
            CYTON,
            j.as_ptr(),
        );
        assert_eq!(code, BOARD_NOT_CREATED);
    }
    assert_eq!(*prepared, 0);
    assert!(reply.iter().all(|b| *b == UNTOUCHED));
    assert_eq!(ffi::release_all_sessions(), OK);
}

//! Argument checking without a device: bad JSON, null pointers, short
//! buffers, unknown boards and presets, the board-info getters, logging, and
//! calls on sessions that do not exist. Codes as pip brainflow 5.23 returns
//! them (see `ci/probe_brainflow_codes.py`), `INVALID_ARGUMENTS` where it
//! crashes.

mod common;

use std::ffi::{c_char, c_int, CString};
use std::ptr::{null, null_mut};

use common::*;

fn descr(board: c_int, preset: c_int, max_len: c_int) -> (c_int, c_int, String) {
    let mut buf = vec![0u8; 16000];
    let mut len: c_int = -1;
    let code = unsafe {
        ffi::get_board_descr(
            board,
            preset,
            buf.as_mut_ptr() as *mut c_char,
            &mut len,
            max_len,
        )
    };
    let text = if code == OK {
        String::from_utf8(buf[..len as usize].to_vec()).unwrap()
    } else {
        String::new()
    };
    (code, len, text)
}

#[test]
fn bad_json_is_general_error_like_brainflow() {
    quiet();
    let full = params("/dev/null-port");
    let full_text = full.to_str().unwrap();
    let mut bad: Vec<String> = vec!["not json".into(), "{}".into(), "[]".into(), "".into()];
    bad.push(full_text.replace("\"timeout\": 0", "\"timeout\": \"x\""));
    bad.push(full_text.replace("\"serial_port\": \"/dev/null-port\"", "\"serial_port\": 5"));
    // Every key is required, as in BrainFlow.
    bad.push(full_text.replace(", \"master_board\": -100", ""));
    bad.push(full_text.replace("\"file\": \"\", ", ""));
    for b in bad {
        let j = CString::new(b.clone()).unwrap();
        assert_eq!(prepare(CYTON, &j), GENERAL_ERROR, "{b}");
        assert_eq!(is_prepared(CYTON, &j).0, GENERAL_ERROR, "{b}");
        assert_eq!(release(CYTON, &j), GENERAL_ERROR, "{b}");
    }
    // Invalid UTF-8 is not JSON either.
    let raw = [b'{', 0xff, b'}', 0];
    assert_eq!(
        unsafe { ffi::prepare_session(CYTON, raw.as_ptr() as *const c_char) },
        GENERAL_ERROR
    );
}

#[test]
fn null_pointers_are_invalid_arguments() {
    quiet();
    let j = params("/dev/null-port");
    unsafe {
        assert_eq!(ffi::prepare_session(CYTON, null()), INVALID_ARGUMENTS);
        assert_eq!(
            ffi::start_stream(10, null(), CYTON, null()),
            INVALID_ARGUMENTS
        );
        assert_eq!(ffi::stop_stream(CYTON, null()), INVALID_ARGUMENTS);
        assert_eq!(ffi::release_session(CYTON, null()), INVALID_ARGUMENTS);
        assert_eq!(
            ffi::is_prepared(null_mut(), CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        // The logger's null arguments are in logs.rs (BrainFlow: 17 and 0).
        let mut len: c_int = 0;
        let mut buf = [0 as c_char; 64];
        assert_eq!(
            ffi::get_board_descr(CYTON, 0, null_mut(), &mut len, 100),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_board_descr(CYTON, 0, buf.as_mut_ptr(), null_mut(), 64),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_sampling_rate(CYTON, 0, null_mut()),
            INVALID_ARGUMENTS
        );
        let mut ch = [0 as c_int; 64];
        assert_eq!(
            ffi::get_eeg_channels(CYTON, 0, null_mut(), &mut len),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_eeg_channels(CYTON, 0, ch.as_mut_ptr(), null_mut()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_board_presets(CYTON, null_mut(), &mut len),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_version_board_controller(null_mut(), &mut len, 64),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_version_board_controller(buf.as_mut_ptr(), &mut len, -1),
            INVALID_ARGUMENTS
        );
    }
}

#[test]
fn unknown_and_unimplemented_boards() {
    quiet();
    let j = params("/dev/null-port");
    assert_eq!(prepare(999, &j), UNSUPPORTED_BOARD);
    // Unicorn (8) is not in the registry at all; the streaming board (-2)
    // is, but needs a master board. (BLE boards are opened: see
    // tests/ble.rs; the synthetic board (-1) needs no port.)
    assert_eq!(prepare(-2, &j), INVALID_ARGUMENTS);
    assert_eq!(prepare(8, &j), UNSUPPORTED_BOARD);
    assert_eq!(prepare(-1, &j), OK);
    assert_eq!(release(-1, &j), OK);
    // Nothing was created, so is_prepared says no and the rest say not created.
    assert_eq!(is_prepared(999, &j), (OK, 0));
    assert_eq!(release(999, &j), BOARD_NOT_CREATED);
    assert_eq!(descr(999, 0, 16000).0, UNSUPPORTED_BOARD);
    // BrainBit (7) has no description here.
    assert_eq!(descr(7, 0, 16000).0, UNSUPPORTED_BOARD);
}

#[test]
fn playback_board_has_brainflows_name_only_description_and_its_masters_layout() {
    quiet();
    // As BrainFlow: the description is a name; field getters find nothing.
    assert_eq!(
        descr(-3, 0, 16000),
        (OK, 19, r#"{"name":"PlayBack"}"#.into())
    );
    assert_eq!(descr(-2, 2, 16000).2, r#"{"name":"Streaming"}"#);
    let mut v: c_int = -1;
    assert_eq!(
        unsafe { ffi::get_sampling_rate(-3, 0, &mut v) },
        UNSUPPORTED_BOARD
    );
    // A session replays a Cyton file (master board 0) in Cyton's layout.
    let path =
        std::env::temp_dir().join(format!("boardloop-ffi-playback-{}.csv", std::process::id()));
    let row = |k: usize| -> Vec<String> {
        (0..24)
            .map(|r| {
                format!(
                    "{:.6}",
                    if r == 22 {
                        1.7e9 + k as f64 * 0.004
                    } else {
                        (k * 100 + r) as f64
                    }
                )
            })
            .collect()
    };
    let text: String = (0..5).map(|k| row(k).join("\t") + "\n").collect();
    std::fs::write(&path, text).unwrap();
    // Every key, as BrainFlow's bindings send them (a missing one is an error).
    let j = params("").into_string().unwrap();
    let j = j
        .replace(r#""file": """#, &format!(r#""file": "{}""#, path.display()))
        .replace(r#""master_board": -100"#, r#""master_board": 0"#);
    let j = CString::new(j).unwrap();
    assert_eq!(prepare(-3, &j), OK);
    let (code, _, reply) = config(-3, &j, "old_timestamps", 64);
    assert_eq!((code, reply.as_str()), (OK, ""));
    assert_eq!(
        unsafe { ffi::get_board_sampling_rate(0, &mut v, -3, j.as_ptr()) },
        OK
    );
    assert_eq!(v, 250, "the master board's rate");
    assert_eq!(start(-3, &j, 100), OK);
    wait_for_samples(-3, &j, 5);
    assert_eq!(stop(-3, &j), OK);
    let mut data = vec![0.0f64; 5 * 24];
    assert_eq!(
        unsafe { ffi::get_board_data(5, 0, data.as_mut_ptr(), -3, j.as_ptr()) },
        OK
    );
    // Channel-major: row r of sample k at r * 5 + k.
    for k in 0..5 {
        for r in 0..23 {
            let want: f64 = row(k)[r].parse().unwrap();
            assert_eq!(data[r * 5 + k], want, "row {r} sample {k}");
        }
        assert_eq!(data[23 * 5 + k], 0.0, "marker");
    }
    assert_eq!(release(-3, &j), OK);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn calls_on_sessions_that_do_not_exist() {
    quiet();
    let j = params("/dev/never-prepared");
    let mut n: c_int = 0;
    let mut buf = vec![0.0f64; 100];
    let mut resp = [0 as c_char; 64];
    unsafe {
        assert_eq!(
            ffi::start_stream(100, null(), CYTON, j.as_ptr()),
            BOARD_NOT_CREATED
        );
        assert_eq!(ffi::stop_stream(CYTON, j.as_ptr()), BOARD_NOT_CREATED);
        assert_eq!(ffi::release_session(CYTON, j.as_ptr()), BOARD_NOT_CREATED);
        assert_eq!(
            ffi::get_board_data_count(0, &mut n, CYTON, j.as_ptr()),
            BOARD_NOT_CREATED
        );
        assert_eq!(
            ffi::get_board_data(1, 0, buf.as_mut_ptr(), CYTON, j.as_ptr()),
            BOARD_NOT_CREATED
        );
        assert_eq!(
            ffi::get_current_board_data(1, 0, buf.as_mut_ptr(), &mut n, CYTON, j.as_ptr()),
            BOARD_NOT_CREATED
        );
        assert_eq!(
            ffi::insert_marker(1.0, 0, CYTON, j.as_ptr()),
            BOARD_NOT_CREATED
        );
        let cmd = CString::new("v").unwrap();
        assert_eq!(
            ffi::config_board(
                cmd.as_ptr(),
                resp.as_mut_ptr(),
                &mut n,
                64,
                CYTON,
                j.as_ptr()
            ),
            BOARD_NOT_CREATED
        );
        assert_eq!(
            ffi::config_board_with_bytes(cmd.as_ptr(), 1, CYTON, j.as_ptr()),
            BOARD_NOT_CREATED
        );
        assert_eq!(
            ffi::get_board_sampling_rate(0, &mut n, CYTON, j.as_ptr()),
            BOARD_NOT_CREATED
        );
        let s = CString::new("file:///tmp/x.csv:w").unwrap();
        assert_eq!(
            ffi::add_streamer(s.as_ptr(), 0, CYTON, j.as_ptr()),
            BOARD_NOT_CREATED
        );
        assert_eq!(
            ffi::delete_streamer(s.as_ptr(), 0, CYTON, j.as_ptr()),
            BOARD_NOT_CREATED
        );
    }
    assert_eq!(is_prepared(CYTON, &j), (OK, 0));
}

#[test]
fn prepare_failure_leaves_no_session() {
    quiet();
    let j = params("/nonexistent/tty");
    assert_eq!(prepare(CYTON, &j), UNABLE_TO_OPEN_PORT);
    assert_eq!(is_prepared(CYTON, &j), (OK, 0));
    assert_eq!(release(CYTON, &j), BOARD_NOT_CREATED);
    // And a retry is a fresh attempt, not ANOTHER_BOARD_IS_CREATED.
    assert_eq!(prepare(CYTON, &j), UNABLE_TO_OPEN_PORT);
}

#[test]
fn board_descr_matches_brainflow_and_checks_the_buffer() {
    quiet();
    let (code, len, json) = descr(CYTON, 0, 16000);
    assert_eq!(code, OK);
    assert_eq!(len as usize, json.len());
    assert_eq!(
        json,
        r#"{"accel_channels":[9,10,11],"analog_channels":[19,20,21],"ecg_channels":[1,2,3,4,5,6,7,8],"eeg_channels":[1,2,3,4,5,6,7,8],"eeg_names":"Fp1,Fp2,C3,C4,P7,P8,O1,O2","emg_channels":[1,2,3,4,5,6,7,8],"eog_channels":[1,2,3,4,5,6,7,8],"marker_channel":23,"name":"Cyton","num_rows":24,"other_channels":[12,13,14,15,16,17,18],"package_num_channel":0,"sampling_rate":250,"timestamp_channel":22}"#
    );
    // Too small: INVALID_ARGUMENTS and the length needed, as BrainFlow (385 there too).
    assert_eq!(
        descr(CYTON, 0, 10),
        (INVALID_ARGUMENTS, json.len() as c_int, String::new())
    );
    assert_eq!(descr(CYTON, 0, -5).0, INVALID_ARGUMENTS);
    // Exactly fitting (no room for a NUL) is fine.
    assert_eq!(descr(CYTON, 0, json.len() as c_int).0, OK);
    // A preset the board lacks, or no preset at all: UNSUPPORTED_BOARD as in BrainFlow.
    assert_eq!(descr(CYTON, 1, 16000).0, UNSUPPORTED_BOARD);
    assert_eq!(descr(CYTON, 9, 16000).0, UNSUPPORTED_BOARD);
    assert_eq!(descr(-1, 1, 16000).0, OK);
}

#[test]
fn info_getters() {
    quiet();
    let mut v: c_int = -1;
    let mut ch = [0 as c_int; 512];
    let mut len: c_int = -1;
    unsafe {
        assert_eq!(ffi::get_sampling_rate(CYTON, 0, &mut v), OK);
        assert_eq!(v, 250);
        assert_eq!(ffi::get_sampling_rate(CYTON_DAISY, 0, &mut v), OK);
        assert_eq!(v, 125);
        assert_eq!(ffi::get_num_rows(CYTON, 0, &mut v), OK);
        assert_eq!(v, 24);
        assert_eq!(ffi::get_package_num_channel(CYTON, 0, &mut v), OK);
        assert_eq!(v, 0);
        assert_eq!(ffi::get_timestamp_channel(CYTON, 0, &mut v), OK);
        assert_eq!(v, 22);
        assert_eq!(ffi::get_marker_channel(CYTON, 0, &mut v), OK);
        assert_eq!(v, 23);
        assert_eq!(
            ffi::get_battery_channel(CYTON, 0, &mut v),
            UNSUPPORTED_BOARD
        );
        assert_eq!(ffi::get_battery_channel(-1, 0, &mut v), OK);
        assert_eq!(v, 29);
        assert_eq!(ffi::get_sampling_rate(999, 0, &mut v), UNSUPPORTED_BOARD);

        assert_eq!(
            ffi::get_eeg_channels(CYTON, 0, ch.as_mut_ptr(), &mut len),
            OK
        );
        assert_eq!(&ch[..len as usize], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            ffi::get_exg_channels(CYTON_DAISY, 0, ch.as_mut_ptr(), &mut len),
            OK
        );
        assert_eq!(&ch[..len as usize], (1..=16).collect::<Vec<_>>().as_slice());
        assert_eq!(
            ffi::get_exg_channels(-1, 1, ch.as_mut_ptr(), &mut len),
            UNSUPPORTED_BOARD
        );
        assert_eq!(
            ffi::get_accel_channels(CYTON, 0, ch.as_mut_ptr(), &mut len),
            OK
        );
        assert_eq!(&ch[..len as usize], &[9, 10, 11]);
        assert_eq!(
            ffi::get_analog_channels(CYTON, 0, ch.as_mut_ptr(), &mut len),
            OK
        );
        assert_eq!(&ch[..len as usize], &[19, 20, 21]);
        assert_eq!(
            ffi::get_other_channels(CYTON, 0, ch.as_mut_ptr(), &mut len),
            OK
        );
        assert_eq!(len, 7);
        for f in [
            ffi::get_emg_channels,
            ffi::get_ecg_channels,
            ffi::get_eog_channels,
        ] {
            assert_eq!(f(CYTON, 0, ch.as_mut_ptr(), &mut len), OK);
            assert_eq!(len, 8);
        }
        // Rows a Cyton does not have: UNSUPPORTED_BOARD, as BrainFlow.
        for f in [
            ffi::get_eda_channels,
            ffi::get_ppg_channels,
            ffi::get_optical_channels,
            ffi::get_rotation_channels,
            ffi::get_gyro_channels,
            ffi::get_temperature_channels,
            ffi::get_resistance_channels,
            ffi::get_magnetometer_channels,
        ] {
            assert_eq!(f(CYTON, 0, ch.as_mut_ptr(), &mut len), UNSUPPORTED_BOARD);
        }
        assert_eq!(ffi::get_gyro_channels(-1, 0, ch.as_mut_ptr(), &mut len), OK);
        assert_eq!(&ch[..len as usize], &[20, 21, 22]);

        assert_eq!(ffi::get_board_presets(-1, ch.as_mut_ptr(), &mut len), OK);
        assert_eq!(&ch[..len as usize], &[1, 0]);
        assert_eq!(ffi::get_board_presets(CYTON, ch.as_mut_ptr(), &mut len), OK);
        assert_eq!(&ch[..len as usize], &[0]);
        assert_eq!(
            ffi::get_board_presets(999, ch.as_mut_ptr(), &mut len),
            UNSUPPORTED_BOARD
        );
    }
}

#[test]
fn string_getters_report_the_length_needed() {
    quiet();
    let mut buf = [0 as c_char; 64];
    let mut len: c_int = -1;
    unsafe {
        assert_eq!(
            ffi::get_eeg_names(CYTON, 0, buf.as_mut_ptr(), &mut len, 5),
            INVALID_ARGUMENTS
        );
        assert_eq!(len, 25);
        assert_eq!(
            ffi::get_eeg_names(CYTON, 0, buf.as_mut_ptr(), &mut len, 64),
            OK
        );
        assert_eq!(
            std::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap(),
            "Fp1,Fp2,C3,C4,P7,P8,O1,O2"
        );
        assert_eq!(
            ffi::get_device_name(CYTON_DAISY, 0, buf.as_mut_ptr(), &mut len, 3),
            INVALID_ARGUMENTS
        );
        assert_eq!(len, 10);
        assert_eq!(
            ffi::get_device_name(CYTON_DAISY, 0, buf.as_mut_ptr(), &mut len, 64),
            OK
        );
        assert_eq!(
            &std::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap()[..len as usize],
            "CytonDaisy"
        );
        // The version is truncated to the buffer, as BrainFlow does.
        assert_eq!(
            ffi::get_version_board_controller(buf.as_mut_ptr(), &mut len, 64),
            OK
        );
        let v = env!("CARGO_PKG_VERSION");
        assert_eq!(len as usize, v.len());
        assert_eq!(
            ffi::get_version_board_controller(buf.as_mut_ptr(), &mut len, 2),
            OK
        );
        assert_eq!(len, 2);
    }
}

//! Session lifecycle through the C ABI against emulated Cytons on ptys:
//! the happy path, double prepare/release, stream state errors, data
//! buffers, config replies, markers, streamers and session keys.

mod common;

use std::ffi::{c_char, c_int, CString};
use std::ptr::{null, null_mut};

use common::*;

#[test]
fn full_session_streams_channel_major_data() {
    quiet();
    let emu = cyton_emulator(4);
    let j = emu_params(&emu);
    assert_eq!(is_prepared(CYTON, &j), (OK, 0));
    assert_eq!(prepare(CYTON, &j), OK);
    assert_eq!(is_prepared(CYTON, &j), (OK, 1));
    let mut rate: c_int = 0;
    assert_eq!(
        unsafe { ffi::get_board_sampling_rate(0, &mut rate, CYTON, j.as_ptr()) },
        OK
    );
    assert_eq!(rate, 250);
    assert_eq!(start(CYTON, &j, 45000), OK);
    assert_eq!(unsafe { ffi::insert_marker(7.0, 0, CYTON, j.as_ptr()) }, OK);
    wait_for_samples(CYTON, &j, 50);

    // get_current_board_data copies the newest samples without removing them.
    let mut cur = vec![f64::NAN; 5 * CYTON_ROWS];
    let mut got: c_int = -1;
    assert_eq!(
        unsafe { ffi::get_current_board_data(5, 0, cur.as_mut_ptr(), &mut got, CYTON, j.as_ptr()) },
        OK
    );
    assert_eq!(got, 5);
    assert!(cur.iter().all(|v| v.is_finite()));

    assert_eq!(stop(CYTON, &j), OK);
    let (code, n) = count(CYTON, &j);
    assert_eq!(code, OK);
    let n = n as usize;
    let mut data = vec![f64::NAN; n * CYTON_ROWS];
    assert_eq!(
        unsafe { ffi::get_board_data(n as c_int, 0, data.as_mut_ptr(), CYTON, j.as_ptr()) },
        OK
    );
    // Channel-major: row r of sample s at r * n + s. EEG 1 carries the constant 10 µV.
    let eeg1 = &data[n..2 * n];
    assert!(
        eeg1.iter().all(|v| (v - 10.0).abs() < 0.1),
        "{:?}",
        &eeg1[..5]
    );
    let packages = &data[..n];
    assert_eq!(packages[1], (packages[0] + 1.0) % 256.0);
    let ts = &data[22 * n..23 * n];
    assert!(ts.iter().all(|t| *t > 1.5e9));
    let markers = &data[23 * n..24 * n];
    assert_eq!(markers.iter().filter(|m| **m == 7.0).count(), 1);
    assert_eq!(count(CYTON, &j), (OK, 0));
    assert_eq!(release(CYTON, &j), OK);
    assert_eq!(is_prepared(CYTON, &j), (OK, 0));
}

#[test]
fn double_prepare_and_double_release() {
    quiet();
    let emu = cyton_emulator(4);
    let j = emu_params(&emu);
    assert_eq!(prepare(CYTON, &j), OK);
    assert_eq!(prepare(CYTON, &j), ANOTHER_BOARD_IS_CREATED);
    // Same params formatted differently: same session.
    let v: serde_json::Value = serde_json::from_str(j.to_str().unwrap()).unwrap();
    let pretty = CString::new(serde_json::to_string_pretty(&v).unwrap()).unwrap();
    assert_eq!(prepare(CYTON, &pretty), ANOTHER_BOARD_IS_CREATED);
    assert_eq!(is_prepared(CYTON, &pretty), (OK, 1));
    // Any other field value is another session (BrainFlow compares every field).
    let other = CString::new(
        j.to_str()
            .unwrap()
            .replace("\"timeout\": 0", "\"timeout\": 3"),
    )
    .unwrap();
    assert_eq!(is_prepared(CYTON, &other), (OK, 0));
    assert_eq!(release(CYTON, &other), BOARD_NOT_CREATED);
    assert_eq!(release(CYTON, &pretty), OK);
    assert_eq!(release(CYTON, &j), BOARD_NOT_CREATED);
    // Prepared again after release.
    assert_eq!(prepare(CYTON, &j), OK);
    assert_eq!(release(CYTON, &j), OK);
}

/// Calls remember which session a params string named (the string is not
/// parsed again while no session comes or goes): a release through other
/// bytes, and a new session under the same string, are seen at once.
#[test]
fn a_remembered_params_string_follows_release_and_prepare() {
    quiet();
    let emu = cyton_emulator(4);
    let j = emu_params(&emu);
    assert_eq!(prepare(CYTON, &j), OK);
    assert_eq!(start(CYTON, &j, 45000), OK);
    wait_for_samples(CYTON, &j, 5);
    assert_eq!(stop(CYTON, &j), OK);
    let (code, n) = count(CYTON, &j);
    assert_eq!(code, OK);
    assert!(n >= 5);
    assert_eq!(count(CYTON, &j), (OK, n));
    // Released through the same params in other bytes.
    let v: serde_json::Value = serde_json::from_str(j.to_str().unwrap()).unwrap();
    let pretty = CString::new(serde_json::to_string_pretty(&v).unwrap()).unwrap();
    assert_eq!(release(CYTON, &pretty), OK);
    assert_eq!(count(CYTON, &j).0, BOARD_NOT_CREATED);
    // A new session under the same string has no buffer before its first
    // start (not the old session's n samples).
    assert_eq!(prepare(CYTON, &j), OK);
    assert_eq!(count(CYTON, &j).0, INVALID_ARGUMENTS);
    assert_eq!(start(CYTON, &j, 45000), OK);
    assert_eq!(stop(CYTON, &j), OK);
    assert_eq!(count(CYTON, &pretty).0, OK);
    assert_eq!(release(CYTON, &j), OK);
    assert_eq!(count(CYTON, &pretty).0, BOARD_NOT_CREATED);
    assert_eq!(count(CYTON, &j).0, BOARD_NOT_CREATED);
}

#[test]
fn another_board_on_the_same_port_cannot_open_it() {
    quiet();
    let emu = cyton_emulator(4);
    let j = emu_params(&emu);
    assert_eq!(prepare(CYTON, &j), OK);
    // BrainFlow has no same-port check; the exclusive open refuses.
    assert_eq!(prepare(CYTON_DAISY, &j), UNABLE_TO_OPEN_PORT);
    assert_eq!(is_prepared(CYTON_DAISY, &j), (OK, 0));
    assert_eq!(is_prepared(CYTON, &j), (OK, 1));
    assert_eq!(release(CYTON, &j), OK);
}

#[test]
fn stream_state_errors() {
    quiet();
    let emu = cyton_emulator(4);
    let j = emu_params(&emu);
    assert_eq!(prepare(CYTON, &j), OK);
    let mut n: c_int = 0;
    let mut buf = vec![0.0; 10 * CYTON_ROWS];
    // No buffer before the first start: INVALID_ARGUMENTS, as BrainFlow.
    assert_eq!(count(CYTON, &j).0, INVALID_ARGUMENTS);
    assert_eq!(
        unsafe { ffi::get_board_data(0, 0, buf.as_mut_ptr(), CYTON, j.as_ptr()) },
        INVALID_ARGUMENTS
    );
    assert_eq!(
        unsafe { ffi::insert_marker(1.0, 0, CYTON, j.as_ptr()) },
        INVALID_ARGUMENTS
    );
    assert_eq!(
        unsafe { ffi::get_current_board_data(1, 0, buf.as_mut_ptr(), &mut n, CYTON, j.as_ptr()) },
        INVALID_ARGUMENTS
    );
    assert_eq!(stop(CYTON, &j), STREAM_THREAD_IS_NOT_RUNNING);
    for bad in [0, -1, 86400 * 250 + 1] {
        assert_eq!(start(CYTON, &j, bad), INVALID_BUFFER_SIZE, "{bad}");
    }
    assert_eq!(start(CYTON, &j, 1000), OK);
    assert_eq!(start(CYTON, &j, 1000), STREAM_ALREADY_RUN);
    assert_eq!(stop(CYTON, &j), OK);
    assert_eq!(stop(CYTON, &j), STREAM_THREAD_IS_NOT_RUNNING);
    // Buffered data is still readable after stop; 0 samples is fine once a buffer exists.
    assert_eq!(
        unsafe { ffi::get_board_data(0, 0, buf.as_mut_ptr(), CYTON, j.as_ptr()) },
        OK
    );
    assert_eq!(release(CYTON, &j), OK);
}

#[test]
fn data_buffers_and_counts() {
    quiet();
    let emu = cyton_emulator(8);
    let j = emu_params(&emu);
    assert_eq!(prepare(CYTON, &j), OK);
    assert_eq!(start(CYTON, &j, 45000), OK);
    wait_for_samples(CYTON, &j, 40);
    assert_eq!(stop(CYTON, &j), OK);
    let (_, total) = count(CYTON, &j);
    let mut n: c_int = 0;
    unsafe {
        let mut buf = vec![f64::NAN; 10 * CYTON_ROWS + 1];
        // Null buffers, negative counts and bad presets.
        assert_eq!(
            ffi::get_board_data(5, 0, null_mut(), CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_board_data(-1, 0, buf.as_mut_ptr(), CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_board_data(5, 9, buf.as_mut_ptr(), CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_board_data(5, 1, buf.as_mut_ptr(), CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_board_data_count(0, null_mut(), CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_board_data_count(7, &mut n, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_current_board_data(-3, 0, buf.as_mut_ptr(), &mut n, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_current_board_data(3, 0, buf.as_mut_ptr(), null_mut(), CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::get_current_board_data(3, 0, null_mut(), &mut n, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        // Nothing was consumed by the failed calls.
        assert_eq!(count(CYTON, &j), (OK, total));

        // Fewer than available: exactly the oldest 10, nothing past the buffer.
        assert_eq!(
            ffi::get_board_data(10, 0, buf.as_mut_ptr(), CYTON, j.as_ptr()),
            OK
        );
        assert!(buf[..10 * CYTON_ROWS].iter().all(|v| v.is_finite()));
        assert!(
            buf[10 * CYTON_ROWS].is_nan(),
            "wrote past data_count * num_rows"
        );
        assert_eq!(count(CYTON, &j), (OK, total - 10));
        let first_packages: Vec<f64> = buf[..10].to_vec();
        assert!(first_packages
            .windows(2)
            .all(|w| w[1] == (w[0] + 1.0) % 256.0));

        // More than available: all of it, with the returned count as stride.
        let rest = (total - 10) as usize;
        let mut big = vec![f64::NAN; (rest + 50) * CYTON_ROWS];
        assert_eq!(
            ffi::get_board_data((rest + 50) as c_int, 0, big.as_mut_ptr(), CYTON, j.as_ptr()),
            OK
        );
        assert!(big[..rest * CYTON_ROWS].iter().all(|v| v.is_finite()));
        assert!(big[rest * CYTON_ROWS..].iter().all(|v| v.is_nan()));
        assert_eq!(big[0], (first_packages[9] + 1.0) % 256.0);
        assert_eq!(count(CYTON, &j), (OK, 0));
    }
    assert_eq!(release(CYTON, &j), OK);
}

#[test]
fn config_replies_and_short_buffers() {
    quiet();
    let emu = cyton_emulator(4);
    let j = emu_params(&emu);
    assert_eq!(prepare(CYTON, &j), OK);
    let (code, len, reply) = config(CYTON, &j, "x3040110X", 4096);
    assert_eq!(code, OK);
    assert_eq!(reply, "Success: Channel set for 3$$$");
    assert_eq!(len as usize, reply.len());
    // Too small: INVALID_ARGUMENTS with the length needed (the command was sent).
    let (code, len, _) = config(CYTON, &j, "x3040110X", 5);
    assert_eq!((code, len), (INVALID_ARGUMENTS, reply.len() as c_int));
    assert_eq!(config(CYTON, &j, "x3040110X", -1).0, INVALID_ARGUMENTS);
    let mut resp = [0 as c_char; 64];
    let mut rl: c_int = 0;
    let cmd = CString::new("v").unwrap();
    unsafe {
        assert_eq!(
            ffi::config_board(null(), resp.as_mut_ptr(), &mut rl, 64, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::config_board(cmd.as_ptr(), null_mut(), &mut rl, 64, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::config_board(
                cmd.as_ptr(),
                resp.as_mut_ptr(),
                null_mut(),
                64,
                CYTON,
                j.as_ptr()
            ),
            INVALID_ARGUMENTS
        );
        // Raw bytes are not implemented by the Rust boards: UNSUPPORTED, after argument checks.
        assert_eq!(
            ffi::config_board_with_bytes(cmd.as_ptr(), -1, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::config_board_with_bytes(null(), 1, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::config_board_with_bytes(cmd.as_ptr(), 1, CYTON, j.as_ptr()),
            UNSUPPORTED_BOARD
        );
    }
    // While streaming the reply is empty.
    assert_eq!(start(CYTON, &j, 1000), OK);
    assert_eq!(config(CYTON, &j, "x3040110X", 4096), (OK, 0, String::new()));
    assert_eq!(release(CYTON, &j), OK);
}

#[test]
fn markers_and_streamers() {
    quiet();
    let emu = cyton_emulator(4);
    let j = emu_params(&emu);
    assert_eq!(prepare(CYTON, &j), OK);
    assert_eq!(start(CYTON, &j, 1000), OK);
    unsafe {
        assert_eq!(
            ffi::insert_marker(0.0, 0, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::insert_marker(f64::NAN, 0, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::insert_marker(1.0, 7, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(ffi::insert_marker(1.0, 0, CYTON, j.as_ptr()), OK);
        let bad = CString::new("foo://bar").unwrap();
        let never = CString::new("file:///tmp/boardloop-never.csv:w").unwrap();
        assert_eq!(
            ffi::add_streamer(bad.as_ptr(), 0, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::add_streamer(null(), 0, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::add_streamer(never.as_ptr(), 9, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        assert_eq!(
            ffi::delete_streamer(never.as_ptr(), 0, CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        let unopenable = CString::new("file:///nonexistent-dir/x.csv:w").unwrap();
        assert_eq!(
            ffi::add_streamer(unopenable.as_ptr(), 0, CYTON, j.as_ptr()),
            GENERAL_ERROR
        );
        assert_eq!(
            ffi::start_stream(1000, bad.as_ptr(), CYTON, j.as_ptr()),
            STREAM_ALREADY_RUN
        );
    }
    assert_eq!(stop(CYTON, &j), OK);
    let bad = CString::new("foo://bar").unwrap();
    let empty = CString::new("").unwrap();
    unsafe {
        assert_eq!(
            ffi::start_stream(1000, bad.as_ptr(), CYTON, j.as_ptr()),
            INVALID_ARGUMENTS
        );
        // An empty streamer string means none.
        assert_eq!(
            ffi::start_stream(1000, empty.as_ptr(), CYTON, j.as_ptr()),
            OK
        );
    }
    assert_eq!(release(CYTON, &j), OK);
}

/// The rows of `get_board_data` (channel-major, `n` samples) as BrainFlow's
/// file streamer writes them.
fn as_file_lines(data: &[f64], n: usize) -> Vec<String> {
    (0..n)
        .map(|s| {
            let row: Vec<f64> = (0..CYTON_ROWS).map(|r| data[r * n + s]).collect();
            let mut line = String::new();
            boardloop_boards::outlet::format_row(&row, &mut line);
            line
        })
        .collect()
}

fn take_all(j: &CString) -> (Vec<f64>, usize) {
    let (code, n) = count(CYTON, j);
    assert_eq!(code, OK);
    let n = n as usize;
    let mut data = vec![f64::NAN; n * CYTON_ROWS];
    assert_eq!(
        unsafe { ffi::get_board_data(n as c_int, 0, data.as_mut_ptr(), CYTON, j.as_ptr()) },
        OK
    );
    (data, n)
}

#[test]
fn a_file_streamer_gets_every_row_the_buffer_gets() {
    quiet();
    let dir = std::env::temp_dir().join(format!("boardloop-ffi-streamer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let whole = dir.join("whole.csv");
    let middle = dir.join("middle.csv");
    let emu = cyton_emulator(4);
    let j = emu_params(&emu);
    assert_eq!(prepare(CYTON, &j), OK);
    // From start_stream's streamer_params: every row of the stream.
    let spec_whole = CString::new(format!("file://{}:w", whole.display())).unwrap();
    assert_eq!(
        unsafe { ffi::start_stream(45000, spec_whole.as_ptr(), CYTON, j.as_ptr()) },
        OK
    );
    wait_for_samples(CYTON, &j, 20);
    // Added and deleted while streaming: a run of consecutive rows.
    let spec_middle = CString::new(format!("file://{}:w", middle.display())).unwrap();
    assert_eq!(
        unsafe { ffi::add_streamer(spec_middle.as_ptr(), 0, CYTON, j.as_ptr()) },
        OK
    );
    // Counted from now, not from the start: under ASan beside the lab the
    // buffer already held 60 rows here once, so a fixed 60 waited for
    // nothing and the middle file was deleted empty.
    let (_, added_at) = count(CYTON, &j);
    wait_for_samples(CYTON, &j, added_at + 20);
    assert_eq!(
        unsafe { ffi::delete_streamer(spec_middle.as_ptr(), 0, CYTON, j.as_ptr()) },
        OK
    );
    // Deleted means closed: the file is complete now.
    let middle_lines: Vec<String> = std::fs::read_to_string(&middle)
        .unwrap()
        .split_inclusive('\n')
        .map(str::to_string)
        .collect();
    // Rows after the deletion too, whatever the count was then.
    let (_, deleted_at) = count(CYTON, &j);
    wait_for_samples(CYTON, &j, deleted_at + 20);
    assert_eq!(stop(CYTON, &j), OK);
    let (data, n) = take_all(&j);
    // Release closes the stream's streamer after its last row.
    assert_eq!(release(CYTON, &j), OK);
    let lines = as_file_lines(&data, n);
    assert_eq!(std::fs::read_to_string(&whole).unwrap(), lines.concat());
    assert!(!middle_lines.is_empty());
    let at = lines
        .iter()
        .position(|l| *l == middle_lines[0])
        .expect("the middle file's first row is a row of the stream");
    assert_eq!(middle_lines[..], lines[at..at + middle_lines.len()]);
    assert!(
        at > 0 && at + middle_lines.len() < n,
        "{at} + {} of {n}",
        middle_lines.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

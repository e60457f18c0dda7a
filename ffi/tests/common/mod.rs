//! Shared helpers for the C ABI tests: emulated Cytons on ptys, BrainFlow's
//! JSON params, and thin wrappers that pass raw pointers the way a C caller
//! does.

#![allow(dead_code)] // each test binary uses a different subset

use std::ffi::{c_char, c_int, CString};
use std::path::Path;
use std::sync::Arc;

use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Profile, Scenario, SerialEmulator, SerialOptions};

pub use BoardController as ffi;

/// BrainFlow's exit codes used by the tests.
pub const OK: c_int = 0;
pub const UNABLE_TO_OPEN_PORT: c_int = 2;
pub const STREAM_ALREADY_RUN: c_int = 8;
pub const INVALID_BUFFER_SIZE: c_int = 9;
pub const STREAM_THREAD_IS_NOT_RUNNING: c_int = 11;
pub const INVALID_ARGUMENTS: c_int = 13;
pub const UNSUPPORTED_BOARD: c_int = 14;
pub const BOARD_NOT_CREATED: c_int = 15;
pub const ANOTHER_BOARD_IS_CREATED: c_int = 16;
pub const GENERAL_ERROR: c_int = 17;

pub const CYTON: c_int = 0;
pub const CYTON_DAISY: c_int = 2;
pub const CYTON_ROWS: usize = 24;

/// Silences the library's logger so test output stays readable.
pub fn quiet() {
    ffi::set_log_level_board_controller(6);
}

/// A streaming Cyton emulator on a fresh pty, paced `speed` times real time.
pub fn cyton_emulator(speed: u32) -> SerialEmulator {
    cyton_scenario_emulator(&format!(
        "device: cyton\nsteps: []\npacing: {{ speed: {speed} }}\nsignals:\n  eeg1: {{ constant: 10 }}\n"
    ))
}

/// A Cyton emulator on a fresh pty playing the scenario YAML `text`
/// (`device: cyton`).
pub fn cyton_scenario_emulator(text: &str) -> SerialEmulator {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&devices.join("cyton.yaml")).unwrap());
    let path = Path::new("/virtual/ffi/test.yaml");
    let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, text).unwrap();
    let scenario = Scenario::with_profile(path, text, decl, profile).unwrap();
    SerialEmulator::spawn(&scenario, SerialOptions::default()).unwrap()
}

/// BrainFlow's full input-params JSON (as Python's `BrainFlowInputParams`
/// sends it) for a serial port.
pub fn params(port: &str) -> CString {
    CString::new(format!(
        r#"{{"file": "", "file_anc": "", "file_aux": "", "ip_address": "", "ip_address_anc": "", "ip_address_aux": "", "ip_port": 0, "ip_port_anc": 0, "ip_port_aux": 0, "ip_protocol": 0, "mac_address": "", "master_board": -100, "other_info": "", "serial_number": "", "serial_port": "{port}", "timeout": 0}}"#
    ))
    .unwrap()
}

/// Params for an emulator's pty.
pub fn emu_params(emu: &SerialEmulator) -> CString {
    params(emu.path().to_str().unwrap())
}

pub fn prepare(board: c_int, json: &CString) -> c_int {
    unsafe { ffi::prepare_session(board, json.as_ptr()) }
}

pub fn start(board: c_int, json: &CString, size: c_int) -> c_int {
    unsafe { ffi::start_stream(size, std::ptr::null(), board, json.as_ptr()) }
}

pub fn stop(board: c_int, json: &CString) -> c_int {
    unsafe { ffi::stop_stream(board, json.as_ptr()) }
}

pub fn release(board: c_int, json: &CString) -> c_int {
    unsafe { ffi::release_session(board, json.as_ptr()) }
}

pub fn is_prepared(board: c_int, json: &CString) -> (c_int, c_int) {
    let mut p: c_int = -1;
    let code = unsafe { ffi::is_prepared(&mut p, board, json.as_ptr()) };
    (code, p)
}

pub fn count(board: c_int, json: &CString) -> (c_int, c_int) {
    let mut n: c_int = -1;
    let code = unsafe { ffi::get_board_data_count(0, &mut n, board, json.as_ptr()) };
    (code, n)
}

/// Waits until at least `n` samples are buffered (or panics after 10 s).
pub fn wait_for_samples(board: c_int, json: &CString, n: c_int) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (code, have) = count(board, json);
        assert_eq!(code, OK);
        if have >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {have} samples after 10 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Calls `config_board`, returning the code and the reply.
pub fn config(board: c_int, json: &CString, cmd: &str, max_len: c_int) -> (c_int, c_int, String) {
    let cmd = CString::new(cmd).unwrap();
    let mut buf = vec![0u8; max_len.max(0) as usize + 1];
    let mut len: c_int = -1;
    let code = unsafe {
        ffi::config_board(
            cmd.as_ptr(),
            buf.as_mut_ptr() as *mut c_char,
            &mut len,
            max_len,
            board,
            json.as_ptr(),
        )
    };
    let text = if code == OK {
        String::from_utf8_lossy(&buf[..len as usize]).into_owned()
    } else {
        String::new()
    };
    (code, len, text)
}

//! BrainFlow's board logger through the C ABI: what the Rust boards log
//! (`tracing` events, on the calling thread and on their reader threads)
//! reaches `set_log_file_board_controller`'s file at BrainFlow's levels and in
//! its line format, `set_log_level_board_controller` filters it,
//! `log_message_board_controller` writes as BrainFlow's does, and bad arguments
//! give BrainFlow's codes (pip brainflow 5.23 behaviour noted at each check).
//!
//! The logger is process-wide: the tests here take [`LOGGER`] so that
//! `cargo test` (threads in one process) runs them one at a time, as nextest
//! (a process per test) does anyway.

mod common;

use std::ffi::{c_char, c_int, CString};
use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Profile, Scenario, SerialEmulator, SerialOptions};
use common::*;

const TRACE: c_int = 0;
const DEBUG: c_int = 1;
const INFO: c_int = 2;
const WARN: c_int = 3;
const ERROR: c_int = 4;
const OFF: c_int = 6;

/// BrainFlow's hint after a port fails to open (openbci_serial_board.cpp).
const HINT: &str = "Make sure you provided correct port name and have permissions to open \
                    it(run with sudo/admin). Also, close all other apps using this port.";

static LOGGER: Mutex<()> = Mutex::new(());

/// A fresh log file for one test, set as the logger's output; the level is
/// reset to BrainFlow's starting INFO.
struct LogFile {
    path: PathBuf,
    _serial: MutexGuard<'static, ()>,
}

impl LogFile {
    fn new(name: &str) -> LogFile {
        let serial = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
        let dir = std::env::temp_dir().join(format!("boardloop-ffi-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.log"));
        let _ = std::fs::remove_file(&path);
        let c = CString::new(path.to_str().unwrap()).unwrap();
        assert_eq!(
            unsafe { ffi::set_log_file_board_controller(c.as_ptr()) },
            OK
        );
        assert_eq!(ffi::set_log_level_board_controller(INFO), OK);
        LogFile {
            path,
            _serial: serial,
        }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap_or_default()
    }

    /// The lines, each checked against BrainFlow's format, as (level, message).
    fn lines(&self) -> Vec<(String, String)> {
        records(&self.text())
    }

    /// The levels of the lines whose message contains `needle`.
    fn levels_of(&self, needle: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|(_, m)| m.contains(needle))
            .map(|(l, _)| l)
            .collect()
    }

    /// Waits up to 5 s for a line containing `needle` (lines from reader
    /// threads are written asynchronously).
    fn wait_for(&self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self.levels_of(needle);
            if !found.is_empty() || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The log records in `text`: a message may span lines (the Cyton's banner
/// does; spdlog writes newlines as they are), so a line without the header
/// continues the previous record.
fn records(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if has_header(line) {
            out.push(parse_line(line));
        } else {
            let last = out
                .last_mut()
                .unwrap_or_else(|| panic!("no header: {line:?}"));
            last.1.push('\n');
            last.1.push_str(line);
        }
    }
    out
}

/// Whether `line` starts with a timestamp and the logger's name.
fn has_header(line: &str) -> bool {
    line.starts_with('[')
        && line
            .get(26..)
            .is_some_and(|r| r.starts_with("[board_logger] ["))
}

/// Checks one line against spdlog's default pattern as BrainFlow uses it,
/// `[%Y-%m-%d %H:%M:%S.%e] [board_logger] [%l] %v`, and returns (level, message).
fn parse_line(line: &str) -> (String, String) {
    let b = line.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let ok = b.len() > 26
        && b[0] == b'['
        && digits(1..5)
        && b[5] == b'-'
        && digits(6..8)
        && b[8] == b'-'
        && digits(9..11)
        && b[11] == b' '
        && digits(12..14)
        && b[14] == b':'
        && digits(15..17)
        && b[17] == b':'
        && digits(18..20)
        && b[20] == b'.'
        && digits(21..24)
        && &line[24..26] == "] ";
    assert!(ok, "timestamp of {line:?}");
    let rest = line[26..]
        .strip_prefix("[board_logger] [")
        .unwrap_or_else(|| panic!("logger name of {line:?}"));
    let (level, message) = rest
        .split_once("] ")
        .unwrap_or_else(|| panic!("level of {line:?}"));
    assert!(
        ["trace", "debug", "info", "warning", "error", "critical", "off"].contains(&level),
        "level of {line:?}"
    );
    (level.to_string(), message.to_string())
}

fn log_message(level: c_int, text: &str) -> c_int {
    let c = CString::new(text).unwrap();
    unsafe { ffi::log_message_board_controller(level, c.as_ptr() as *mut c_char) }
}

#[test]
fn cyton_open_failure_is_logged_by_the_board_at_its_levels() {
    let log = LogFile::new("open_failure");
    let port = "/dev/boardloop-no-such-port-a";
    assert_eq!(prepare(CYTON, &params(port)), UNABLE_TO_OPEN_PORT);
    // The board's own lines (tracing events of boardloop_boards), as BrainFlow's
    // Cyton writes them, then the call's error with the OS's reason.
    assert_eq!(log.levels_of(&format!("opening port {port}")), ["info"]);
    assert_eq!(log.levels_of(HINT), ["error"]);
    let why = log.levels_of(&format!("unable to open serial port {port}: "));
    assert_eq!(why, ["error"], "{}", log.text());
    assert!(
        log.text()
            .contains("prepare_session: unable to open serial port"),
        "{}",
        log.text()
    );

    // At ERROR the INFO line is gone, the errors stay.
    assert_eq!(ffi::set_log_level_board_controller(ERROR), OK);
    let port = "/dev/boardloop-no-such-port-b";
    assert_eq!(prepare(CYTON, &params(port)), UNABLE_TO_OPEN_PORT);
    assert!(log.levels_of(&format!("opening port {port}")).is_empty());
    assert_eq!(
        log.levels_of(&format!("unable to open serial port {port}")),
        ["error"]
    );
    assert_eq!(log.levels_of(HINT), ["error", "error"]);

    // OFF silences everything the library logs.
    let before = log.text();
    assert_eq!(ffi::set_log_level_board_controller(OFF), OK);
    assert_eq!(
        prepare(CYTON, &params("/dev/boardloop-no-such-port-c")),
        UNABLE_TO_OPEN_PORT
    );
    assert_eq!(log.text(), before);
}

/// An emulated Cyton that vanishes after `unplug_at` packets.
fn unplugging_cyton(unplug_at: u32) -> SerialEmulator {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&devices.join("cyton.yaml")).unwrap());
    let text = format!(
        "device: cyton\nsteps: []\npacing: {{ speed: 4 }}\nsignals:\n  eeg1: {{ constant: 10 }}\n\
         faults:\n  - {{ at_packet: {unplug_at}, unplug: true }}\n"
    );
    let path = Path::new("/virtual/ffi/logs.yaml");
    let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, &text).unwrap();
    let scenario = Scenario::with_profile(path, &text, decl, profile).unwrap();
    SerialEmulator::spawn(&scenario, SerialOptions::default()).unwrap()
}

#[test]
fn debug_and_trace_events_and_the_reader_threads_errors() {
    let log = LogFile::new("reader");
    let emu = unplugging_cyton(100);
    let port = emu.path().to_str().unwrap().to_string();
    let json = emu_params(&emu);

    // DEBUG: the handshake's debug event (with its fields), not the trace one.
    assert_eq!(ffi::set_log_level_board_controller(DEBUG), OK);
    assert_eq!(prepare(CYTON, &json), OK);
    assert_eq!(log.levels_of(&format!("opening port {port}")), ["info"]);
    let answered = log.levels_of(&format!("board answered 'v' port={port} banner="));
    assert_eq!(answered, ["debug"], "{}", log.text());
    assert!(log.levels_of(&format!("port {port} is open")).is_empty());
    assert_eq!(release(CYTON, &json), OK);

    // TRACE: everything.
    assert_eq!(ffi::set_log_level_board_controller(TRACE), OK);
    assert_eq!(prepare(CYTON, &json), OK);
    assert_eq!(log.levels_of(&format!("port {port} is open")), ["trace"]);

    // The reader thread's error when the device vanishes mid-stream: logged
    // from the board's own thread, so it reaches the file on its own.
    assert_eq!(ffi::set_log_level_board_controller(WARN), OK);
    assert_eq!(start(CYTON, &json, 1000), OK);
    let lost = log.wait_for(&format!("link to {port} lost while streaming"));
    assert_eq!(lost, ["error"], "{}", log.text());
    let _ = stop(CYTON, &json);
    let _ = release(CYTON, &json);
    // Nothing below WARN was written after the level went up.
    let after_warn = log
        .text()
        .split_once("lost while streaming")
        .map(|(_, rest)| rest.to_string())
        .unwrap();
    assert!(!after_warn.contains("] [info] "), "{after_warn}");
    drop(emu);
}

#[test]
fn log_message_writes_at_its_level_as_brainflow() {
    let log = LogFile::new("log_message");
    assert_eq!(ffi::set_log_level_board_controller(WARN), OK);
    for (level, text) in [
        (INFO, "m-info"),
        (WARN, "m-warning"),
        (ERROR, "m-error"),
        (5, "m-critical"),
        (OFF, "m-off"),
    ] {
        assert_eq!(log_message(level, text), OK);
    }
    assert!(log.levels_of("m-info").is_empty());
    assert_eq!(log.levels_of("m-warning"), ["warning"]);
    assert_eq!(log.levels_of("m-error"), ["error"]);
    assert_eq!(log.levels_of("m-critical"), ["critical"]);
    // spdlog writes a message whose level is >= the logger's: one at 6 ("off")
    // always passes (pip brainflow 5.23 prints "[off] ...").
    assert_eq!(log.levels_of("m-off"), ["off"]);

    // Out-of-range levels: BrainFlow warns, then logs at 0 or at 6.
    assert_eq!(log_message(-1, "m-negative"), OK);
    assert_eq!(log.levels_of("log level should be >= 0"), ["warning"]);
    assert!(log.levels_of("m-negative").is_empty());
    assert_eq!(log_message(42, "m-high"), OK);
    assert_eq!(log.levels_of("log level should be <= 6"), ["warning"]);
    assert_eq!(log.levels_of("m-high"), ["off"]);

    // OFF: only messages at OFF itself.
    assert_eq!(ffi::set_log_level_board_controller(OFF), OK);
    assert_eq!(log_message(5, "s-critical"), OK);
    assert_eq!(log_message(42, "s-high"), OK);
    assert!(log.levels_of("s-critical").is_empty());
    assert_eq!(log.levels_of("s-high"), ["off"]);
    assert_eq!(log.levels_of("log level should be <= 6"), ["warning"]);

    // The message is written as given, bytes included.
    assert_eq!(ffi::set_log_level_board_controller(TRACE), OK);
    assert_eq!(log_message(TRACE, "µV [x] {}"), OK);
    assert_eq!(log.levels_of("µV [x] {}"), ["trace"]);
}

#[test]
fn bad_arguments_give_brainflows_codes() {
    let log = LogFile::new("bad_args");
    unsafe {
        // pip brainflow 5.23: a null or unopenable log file is 17 (and then its
        // logger stays a null logger for good; here the old file stays in use).
        assert_eq!(ffi::set_log_file_board_controller(null()), GENERAL_ERROR);
        let bad = CString::new("/nonexistent/dir/x.log").unwrap();
        assert_eq!(
            ffi::set_log_file_board_controller(bad.as_ptr()),
            GENERAL_ERROR
        );
        let empty = CString::new("").unwrap();
        assert_eq!(
            ffi::set_log_file_board_controller(empty.as_ptr()),
            GENERAL_ERROR
        );
        // A null message: BrainFlow returns 0 (spdlog reports it on stderr).
        assert_eq!(ffi::log_message_board_controller(INFO, null_mut()), OK);
    }
    // Any level is accepted and clamped: -5 is TRACE, 99 is OFF.
    assert_eq!(ffi::set_log_level_board_controller(-5), OK);
    assert_eq!(log_message(TRACE, "clamped-trace"), OK);
    assert_eq!(ffi::set_log_level_board_controller(99), OK);
    assert_eq!(log_message(5, "clamped-off"), OK);
    assert_eq!(log.levels_of("clamped-trace"), ["trace"]);
    assert!(log.levels_of("clamped-off").is_empty());

    let lines = log.text();
    assert!(
        lines.contains(
            "[error] set_log_file_board_controller: unable to open log file /nonexistent/dir/x.log"
        ),
        "{lines}"
    );
    assert!(
        lines.contains("[error] log_message_board_controller: message is a null pointer"),
        "{lines}"
    );
}

#[test]
fn set_log_file_appends_and_switches() {
    let log = LogFile::new("first");
    assert_eq!(log_message(INFO, "to the first file"), OK);
    let second = log.path.with_file_name("second.log");
    std::fs::write(&second, "kept\n").unwrap();
    let c = CString::new(second.to_str().unwrap()).unwrap();
    assert_eq!(
        unsafe { ffi::set_log_file_board_controller(c.as_ptr()) },
        OK
    );
    assert_eq!(log_message(INFO, "to the second file"), OK);
    // Appended (spdlog's mode "ab"), and the first file gets no more lines.
    let text = std::fs::read_to_string(&second).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("kept"));
    assert_eq!(
        records(&lines.collect::<Vec<_>>().join("\n")),
        [("info".to_string(), "to the second file".to_string())]
    );
    assert_eq!(
        log.lines(),
        [("info".to_string(), "to the first file".to_string())]
    );
}

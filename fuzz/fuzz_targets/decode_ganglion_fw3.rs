//! The Ganglion firmware 3 decoder on arbitrary notifications (see boardloop_fuzz::check_ganglion).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    boardloop_fuzz::check_ganglion(data, boardloop_boards::GanglionFirmware::V3);
});

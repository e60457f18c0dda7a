//! The Cyton decoder on arbitrary bytes in arbitrary chunks (see boardloop_fuzz::check_serial).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    boardloop_fuzz::check_serial(data, || {
        boardloop_boards::CytonDecoder::new(boardloop_boards::CytonVariant::Cyton)
    });
});

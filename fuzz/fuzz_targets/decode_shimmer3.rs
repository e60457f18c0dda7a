//! The Shimmer3 decoder, laid out by the emulator profile's inquiry (every
//! channel format: 1-, 2- and 3-byte fields, both byte orders), on arbitrary
//! bytes in arbitrary chunks (see boardloop_fuzz::check_serial).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    boardloop_fuzz::check_serial(data, boardloop_fuzz::shimmer3_decoder);
});

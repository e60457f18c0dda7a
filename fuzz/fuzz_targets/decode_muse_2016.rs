//! The Muse 2016 decoder on arbitrary notifications of every characteristic (see boardloop_fuzz::check_muse).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    boardloop_fuzz::check_muse(data, boardloop_boards::MuseModel::Muse2016);
});

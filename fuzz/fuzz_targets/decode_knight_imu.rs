//! The NeuroPawn Knight IMU decoder (57-byte packets with nine float32 IMU values) on arbitrary bytes in arbitrary chunks (see boardloop_fuzz::check_serial); fuzzed floats include NaN and infinities, compared bit for bit.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    boardloop_fuzz::check_serial(data, boardloop_boards::codec::knight::KnightDecoder::imu);
});

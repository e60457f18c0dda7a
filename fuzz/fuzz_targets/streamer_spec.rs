//! Streamer strings on arbitrary text: parsed (and then printed back to the
//! same streamer) or INVALID_ARGUMENTS_ERROR, BrainFlow's code.
#![no_main]
use boardloop_boards::streamer::Streamer;
use boardloop_boards::ExitCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Streamer::parse(text) {
        Ok(s) => assert_eq!(Streamer::parse(&s.to_string()).unwrap(), s),
        Err(e) => assert_eq!(e.code, ExitCode::InvalidArguments, "{e}"),
    }
});

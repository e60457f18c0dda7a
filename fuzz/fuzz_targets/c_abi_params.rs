//! The C ABI's `json_brainflow_input_params` parser on arbitrary text: it
//! accepts (and then round-trips through `to_json`) or answers GENERAL_ERROR,
//! BrainFlow's code, never anything else.
#![no_main]
use boardloop_boards::params::InputParams;
use boardloop_boards::ExitCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // the C ABI rejects non-UTF-8 before parsing (guard::c_str)
    };
    match InputParams::from_json(text) {
        Ok(p) => assert_eq!(InputParams::from_json(&p.to_json()).unwrap(), p),
        Err(e) => assert_eq!(e.code, ExitCode::GeneralError, "{e}"),
    }
});

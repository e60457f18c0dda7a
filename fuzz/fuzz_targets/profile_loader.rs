//! The device-profile loader (YAML, then validation and compilation of
//! commands, layouts and expressions) on structure-aware input: an
//! `Arbitrary` profile model (boardloop_fuzz::profile_gen) written as YAML in
//! mixed styles, with anchors and aliases now and then, and raw byte
//! mutations of the text about one time in six (so malformed YAML and any
//! text stay reachable). Asserted (boardloop_fuzz::check_profile): it loads
//! or fails with an error naming the file and a line; never a panic, and
//! (with the loader's limits) never an unbounded allocation (libFuzzer's
//! -rss_limit_mb catches one).
#![no_main]
use boardloop_fuzz::profile_gen::ProfileGen;
use boardloop_fuzz::yaml::{render_with, Style};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, arbitrary::Arbitrary)]
struct Input {
    style: Style,
    profile: ProfileGen,
}

fuzz_target!(|input: Input| {
    let text = render_with(&input.profile, &input.style, ProfileGen::y);
    boardloop_fuzz::tally(boardloop_fuzz::check_profile(&text));
});

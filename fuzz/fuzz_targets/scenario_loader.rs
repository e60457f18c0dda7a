//! The scenario loader (YAML, then validation against its device profile:
//! steps, faults, signals, expectations) on structure-aware input: an
//! `Arbitrary` scenario model (boardloop_fuzz::scenario_gen) written as YAML
//! in mixed styles, with anchors and aliases now and then, and raw byte
//! mutations of the text about one time in six (so malformed YAML and any
//! text stay reachable). Asserted (boardloop_fuzz::check_scenario): it loads
//! or fails with an error naming the file and a line; never a panic, and
//! never an unbounded allocation (libFuzzer's -rss_limit_mb catches one).
#![no_main]
use boardloop_fuzz::scenario_gen::ScenarioGen;
use boardloop_fuzz::yaml::{render_with, Style};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, arbitrary::Arbitrary)]
struct Input {
    style: Style,
    scenario: ScenarioGen,
}

fuzz_target!(|input: Input| {
    let text = render_with(&input.scenario, &input.style, ScenarioGen::y);
    boardloop_fuzz::tally(boardloop_fuzz::check_scenario(&text));
});

//! The scenario loader (YAML, then validation against its device profile:
//! steps, faults, signals, expectations) on arbitrary text, with every
//! shipped profile available by name. Asserted: it loads or fails with an
//! error naming the file; never a panic, and never an unbounded allocation
//! (libFuzzer's -rss_limit_mb catches one).
#![no_main]
use boardloop_emulators::load::parse_yaml;
use boardloop_emulators::scenario::{Scenario, ScenarioDecl};
use boardloop_emulators::Profile;
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::{Arc, OnceLock};

fn profiles() -> &'static [Arc<Profile>] {
    static P: OnceLock<Vec<Arc<Profile>>> = OnceLock::new();
    P.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/devices");
        std::fs::read_dir(dir)
            .expect("scenarios/devices")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .map(|p| Arc::new(Profile::load(&p).expect("a shipped profile loads")))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Inside the scenario tree, so relative CSV paths resolve as they would.
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/fuzz/sc.yaml"
    ));
    let res = parse_yaml::<ScenarioDecl>(path, text).and_then(|decl| {
        let Some(p) = profiles().iter().find(|p| p.decl.name == decl.device) else {
            return Ok(None);
        };
        Scenario::with_profile(path, text, decl, p.clone()).map(Some)
    });
    if let Err(e) = res {
        assert!(
            e.to_string().contains("sc.yaml"),
            "error without the file: {e}"
        );
    }
});

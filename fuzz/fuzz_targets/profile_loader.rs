//! The device-profile loader (YAML, then validation and compilation of
//! commands, layouts and expressions) on arbitrary text. Asserted: it loads
//! or fails with an error that names the file; never a panic, and (with the
//! loader's limits) never an unbounded allocation (libFuzzer's -rss_limit_mb
//! and -malloc_limit_mb catch one).
#![no_main]
use boardloop_emulators::load::parse_yaml;
use boardloop_emulators::profile::{Profile, ProfileDecl};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz/dev.yaml");
    let res =
        parse_yaml::<ProfileDecl>(path, text).and_then(|decl| Profile::from_decl(path, text, decl));
    if let Err(e) = res {
        assert!(
            e.to_string().contains("dev.yaml"),
            "error without the file: {e}"
        );
    }
});

//! The emulator's command matcher, fed arbitrary host bytes, with every
//! shipped profile that takes commands (the first input byte picks the
//! profile, the second the time between bytes, so frame timeouts fire too).
//! Matched commands are applied to the device state, as the emulator does.
//!
//! Asserted: each byte yields at most two results (a timed-out frame and the
//! new byte's own); what is held back never exceeds the longest rule; a
//! matched command names a real rule with that rule's fields; applying it
//! either succeeds or reports a clear error (never panics).
#![no_main]
use boardloop_emulators::commands::{apply, CommandParser, Parsed};
use boardloop_emulators::Profile;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::Duration;

fn profiles() -> &'static [Profile] {
    static P: OnceLock<Vec<Profile>> = OnceLock::new();
    P.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/devices");
        let mut v: Vec<Profile> = std::fs::read_dir(dir)
            .expect("scenarios/devices")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .map(|p| Profile::load(&p).expect("a shipped profile loads"))
            .filter(|p| !p.commands.rules.is_empty())
            .collect();
        v.sort_by(|a, b| a.decl.name.cmp(&b.decl.name));
        v
    })
}

fuzz_target!(|data: &[u8]| {
    let [pick, step, bytes @ ..] = data else {
        return;
    };
    let all = profiles();
    let profile = &all[usize::from(*pick) % all.len()];
    let set = &profile.commands;
    let longest = set.rules.iter().map(|r| r.length).max().unwrap_or(0);
    let mut parser = CommandParser::default();
    let mut state = profile.initial_state.clone();
    let mut out = Vec::new();
    for (k, &b) in bytes.iter().enumerate() {
        let now = Duration::from_millis(k as u64 * u64::from(*step));
        let had = out.len();
        parser.push(set, b, Some(now), &mut out);
        assert!(
            out.len() - had <= 2,
            "one byte gave {} results",
            out.len() - had
        );
        assert!(
            parser.pending_bytes() <= longest,
            "held back more than a frame"
        );
        for p in &out[had..] {
            if let Parsed::Command { rule, fields, .. } = p {
                let r = &set.rules[*rule];
                assert_eq!(fields.len(), r.fields.len());
                for ((name, _), (want, _, _)) in fields.iter().zip(&r.fields) {
                    assert_eq!(name, want);
                }
                let _ = apply(r, fields, &mut state, &profile.initial_state);
            }
        }
    }
});

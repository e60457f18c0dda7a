//! The boardloop harness: every scenario against every board it applies to, on every
//! available target (the built-in emulator, a lab rig, BrainFlow's own drivers), as
//! libtest-mimic trials that cargo and nextest list, filter and run, and as
//! `boardloop run`.

pub mod advertise;
pub mod binding;
pub mod ble_record;
pub mod bluez_ble;
pub mod brainflow;
pub mod catalog;
pub mod check;
pub mod console;
pub mod device_lock;
pub mod diff;
pub mod host;
pub mod html;
pub mod junit;
pub mod memory_ble;
pub mod plan;
pub mod report;
pub mod rig;
pub mod run;
pub mod spectral;
pub mod targets;
pub mod timing;

pub use plan::{plan, PlanOptions, Planned};
pub use run::{run, Outcome, Trial};
pub use targets::TargetKind;

/// A one-paragraph account of a failed trial, for test output.
pub fn describe_failure(t: &Trial, o: &Outcome) -> String {
    let mut s = format!("{} failed:\n", t.name());
    for f in &o.failures {
        s.push_str("  - ");
        s.push_str(f);
        s.push('\n');
    }
    if let Some(st) = &o.stats {
        s.push_str(&format!("  driver: {st:?}\n"));
    }
    if let Some(a) = &o.artifacts {
        s.push_str(&format!(
            "  data, transcript and steps kept in {}\n",
            crate::catalog::shown(a)
        ));
    }
    s
}

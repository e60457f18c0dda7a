//! When an emulated BLE device comes into range, for every BLE target: at
//! once, or `advertise_after_ms` later (the late-advertising fault). One home
//! for the fault, whatever starts the advertising (the in-memory link, bluer).

use boardloop_emulators::scenario::FaultKind;
use boardloop_emulators::Scenario;
use std::sync::mpsc;
use std::time::Duration;

/// A pending late advertisement; dropping it (the trial ended) cancels it.
pub struct Pending {
    // Held only for its drop, which ends the waiting thread.
    _cancel: Option<mpsc::Sender<()>>,
}

/// Runs `start` now, or on a thread after the scenario's
/// `advertise_after_ms` unless the returned [`Pending`] is dropped first. An
/// error from an immediate start is returned; a late one is logged.
pub fn advertise(
    sc: &Scenario,
    start: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> Result<Pending, String> {
    let late = sc.decl.faults.iter().find_map(|f| match f.kind {
        FaultKind::AdvertiseAfterMs(ms) => Some(ms),
        _ => None,
    });
    let Some(ms) = late else {
        start()?;
        return Ok(Pending { _cancel: None });
    };
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        // A message never comes: only the sender's drop (trial over) or
        // the time running out ends the wait.
        if rx.recv_timeout(Duration::from_millis(ms)) == Err(mpsc::RecvTimeoutError::Timeout) {
            if let Err(e) = start() {
                tracing::warn!("late advertisement: {e}");
            }
        }
    });
    Ok(Pending { _cancel: Some(tx) })
}

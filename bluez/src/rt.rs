//! The small tokio runtime each adapter object owns, so the blocking traits
//! of the boards and the emulator can sit on async btleplug/bluer.

use std::future::Future;
use std::ops::Deref;
use tokio::runtime::{Builder, Runtime};

/// A two-worker runtime that shuts down in the background when dropped:
/// a plain `Runtime` drop waits for its tasks, and tasks parked on D-Bus
/// signals (notification forwarders, link watchers) never finish by themselves.
pub(crate) struct Rt(Option<Runtime>);

impl Rt {
    pub(crate) fn new(name: &str) -> std::io::Result<Rt> {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(name)
            .enable_all()
            .build()?;
        Ok(Rt(Some(rt)))
    }

    /// Like `Runtime::block_on`; must not be called from inside a runtime.
    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.deref().block_on(f)
    }
}

impl Deref for Rt {
    type Target = Runtime;
    fn deref(&self) -> &Runtime {
        self.0.as_ref().expect("runtime present until drop")
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

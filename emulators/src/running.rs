//! A worker thread with a stop flag and the statistics it keeps, shared by
//! the recording proxy and the replays: dropping it stops and joins the
//! thread, so a trial's end never leaves one behind.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// A running worker and its statistics `S`.
pub(crate) struct Running<S> {
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<S>>,
    thread: Option<JoinHandle<()>>,
}

impl<S: Default + Clone + Send + 'static> Running<S> {
    /// Runs `body` (given the stop flag and the stats) on a thread named `name`.
    pub(crate) fn spawn(
        name: &str,
        body: impl FnOnce(&AtomicBool, Arc<Mutex<S>>) + Send + 'static,
    ) -> io::Result<Running<S>> {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(S::default()));
        let (s2, st2) = (stop.clone(), stats.clone());
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(&s2, st2))?;
        Ok(Running {
            stop,
            stats,
            thread: Some(thread),
        })
    }

    /// What the worker did so far.
    pub(crate) fn stats(&self) -> S {
        lock(&self.stats).clone()
    }

    /// Whether the thread has ended.
    pub(crate) fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Stops the thread and returns what it did.
    pub(crate) fn halt(&mut self) -> S {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.stats()
    }
}

impl<S> Drop for Running<S> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Locks a worker's statistics; a panic in the worker must not hide what it
/// gathered so far.
pub(crate) fn lock<S>(m: &Mutex<S>) -> MutexGuard<'_, S> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The `q` quantile (0..=1) of microsecond figures, nearest rank.
pub(crate) fn quantile_us(v: &[u32], q: f64) -> Option<u32> {
    let mut v = v.to_vec();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[((v.len() - 1) as f64 * q).round() as usize])
}

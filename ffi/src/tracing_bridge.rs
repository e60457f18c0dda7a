//! Routes the `tracing` events of boardloop's crates (the boards, the BLE
//! adapters, this library) to BrainFlow's board logger ([`crate::logger`]), at
//! BrainFlow's levels and filtered by its current level, so a BrainFlow user
//! who calls `set_log_level`/`set_log_file` sees why a board failed.
//!
//! The subscriber is never made the global default: as an rlib inside a Rust
//! program, a global default set here would take the program's own (its later
//! `set_global_default` would fail). Instead each export runs under it as the
//! thread's scoped default ([`in_scope`]), and the boards' reader threads carry
//! the dispatcher that was current when they were spawned. When the calling
//! thread already has a subscriber (the host program's), that one is left in
//! charge and receives the events; BrainFlow's logger then gets only the
//! library's own lines (failed calls, `log_message_board_controller`). The
//! cdylib has its own copy of `tracing` whose default nobody else sets, so
//! there the board logger always gets the events.
//!
//! Panics in library context (an export, or a thread running under this
//! dispatcher) are written to the board logger at CRITICAL instead of being
//! printed by the default panic hook; other threads keep the previous hook.

use std::fmt::{self, Write as _};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::{Interest, NoSubscriber};
use tracing::{span, Dispatch, Event, Level, Metadata, Subscriber};

use crate::logger::{
    self, LEVEL_CRITICAL, LEVEL_DEBUG, LEVEL_ERROR, LEVEL_INFO, LEVEL_TRACE, LEVEL_WARN,
};

/// The subscriber: events only (spans are disabled; BrainFlow's lines have no
/// span context).
struct BoardLogger;

/// `tracing` targets are module paths; these are the crates whose events
/// belong in BrainFlow's logger (`BoardController` is this crate's lib name).
/// Events of dependencies stay out, as BrainFlow's logger has only its own.
fn ours(target: &str) -> bool {
    target.starts_with("boardloop_") || target.starts_with("BoardController")
}

/// BrainFlow's level for a `tracing` level (tracing has no CRITICAL).
fn level_of(level: &Level) -> i32 {
    match *level {
        Level::TRACE => LEVEL_TRACE,
        Level::DEBUG => LEVEL_DEBUG,
        Level::INFO => LEVEL_INFO,
        Level::WARN => LEVEL_WARN,
        Level::ERROR => LEVEL_ERROR,
    }
}

impl Subscriber for BoardLogger {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        // `sometimes`, not `always`: the level changes at run time, so each
        // event asks `enabled` (one atomic load) instead of a cached answer.
        if meta.is_event() && ours(meta.target()) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        meta.is_event() && ours(meta.target()) && logger::enabled(level_of(meta.level()))
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Any level may be switched on later; a tighter hint would need the
        // global callsite cache rebuilt on every `set_log_level`.
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        // Never called: `enabled` refuses spans. An id is still required.
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let level = level_of(event.metadata().level());
        // A field's Debug impl could panic; a reader thread must not die of
        // logging.
        let text = catch_unwind(AssertUnwindSafe(|| {
            let mut text = Text::default();
            event.record(&mut text);
            text.finish()
        }));
        if let Ok(text) = text {
            logger::emit(level, text);
        }
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// An event as one line: the message, then ` key=value` for other fields
/// (the layout of tracing-subscriber's default formatter).
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Text {
    fn finish(mut self) -> String {
        if self.message.is_empty() {
            // Fields only: drop the leading space.
            self.fields.drain(..self.fields.len().min(1));
        }
        self.message.push_str(&self.fields);
        self.message
    }
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

static DISPATCH: OnceLock<Dispatch> = OnceLock::new();

/// The board logger's dispatcher, made (and the panic hook installed) once.
fn dispatch() -> &'static Dispatch {
    DISPATCH.get_or_init(|| {
        install_panic_hook();
        Dispatch::new(BoardLogger)
    })
}

/// Runs an export's body with the board logger as this thread's `tracing`
/// default, unless the thread already has a subscriber (see the module docs).
pub(crate) fn in_scope<T>(body: impl FnOnce() -> T) -> T {
    let host_has_one = tracing::dispatcher::get_default(|d| !d.is::<NoSubscriber>());
    if host_has_one {
        body()
    } else {
        tracing::dispatcher::with_default(dispatch(), body)
    }
}

/// Whether this thread runs under the board logger (an export's body, or a
/// board's thread spawned from one) or is the logger's writer thread.
fn in_library_context() -> bool {
    // Neither check panics (`get_default` falls back to "none" when the
    // thread's dispatcher state is gone or busy), so both are safe inside a
    // panic hook. The writer's own panic is queued like any line: `emit` never
    // takes the output lock a panicking writer may hold.
    logger::on_writer_thread() || tracing::dispatcher::get_default(|d| d.is::<BoardLogger>())
}

/// Chains a panic hook: panics in library context go to the board logger at
/// CRITICAL (with a backtrace when `RUST_BACKTRACE` asks for one) instead of
/// stderr, where a C program or Python would show an unexplained Rust panic;
/// every other panic goes to the hook that was there before.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !in_library_context() {
            previous(info);
            return;
        }
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("unknown panic");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or("unnamed");
        let mut text = format!("panic in thread {thread}{at}: {what}");
        let bt = std::backtrace::Backtrace::capture();
        if bt.status() == std::backtrace::BacktraceStatus::Captured {
            let _ = write!(text, "\n{bt}");
        }
        logger::log(LEVEL_CRITICAL, &text);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects events as [`Text`] lines.
    struct Capture(Arc<Mutex<Vec<String>>>);

    impl Subscriber for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
            span::Id::from_u64(1)
        }
        fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
        fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut t = Text::default();
            event.record(&mut t);
            self.0.lock().unwrap().push(t.finish());
        }
        fn enter(&self, _: &span::Id) {}
        fn exit(&self, _: &span::Id) {}
    }

    #[test]
    fn event_text() {
        let got = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(Capture(got.clone()), || {
            let name = "Simblee";
            tracing::info!(name = %name, fw = 3, "connected to {}", "Ganglion");
            tracing::debug!(subscribed = true);
            tracing::error!("link lost");
        });
        assert_eq!(
            *got.lock().unwrap(),
            [
                "connected to Ganglion name=Simblee fw=3",
                "subscribed=true",
                "link lost"
            ]
        );
    }

    #[test]
    fn targets() {
        assert!(ours("boardloop_boards::cyton_board"));
        assert!(ours("boardloop_bluez::central"));
        assert!(ours("BoardController::logger"));
        assert!(!ours("btleplug::bluez"));
        assert!(!ours("boardloop"));
    }
}

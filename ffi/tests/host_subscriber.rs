//! The library used as an rlib inside a Rust program: it never takes the
//! program's global `tracing` subscriber. Before the program sets one, the
//! boards' events go to BrainFlow's logger; the program can still set its own
//! afterwards, and then the events go to it (the logger keeps the library's
//! own lines). One test in its own binary: the global subscriber is per process.

mod common;

use std::ffi::CString;
use std::sync::{Arc, Mutex};

use common::*;
use tracing::{span, Event, Metadata, Subscriber};

/// The host program's subscriber: keeps the messages of every event.
struct Host(Arc<Mutex<Vec<String>>>);

struct Message<'a>(&'a mut String);

impl tracing::field::Visit for Message<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            *self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Host {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut m = String::new();
        event.record(&mut Message(&mut m));
        self.0.lock().unwrap().push(m);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

#[test]
fn the_host_programs_global_subscriber_is_left_to_it() {
    let dir = std::env::temp_dir().join(format!("boardloop-ffi-host-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("host.log");
    let c = CString::new(file.to_str().unwrap()).unwrap();
    assert_eq!(
        unsafe { ffi::set_log_file_board_controller(c.as_ptr()) },
        OK
    );
    assert_eq!(ffi::set_log_level_board_controller(2), OK);

    // No subscriber yet: the board's events go to BrainFlow's logger.
    let port_a = "/dev/boardloop-no-such-port-host-a";
    assert_eq!(prepare(CYTON, &params(port_a)), UNABLE_TO_OPEN_PORT);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains(&format!("[info] opening port {port_a}")),
        "{text}"
    );

    // The library took nothing: the program sets its global subscriber now.
    let seen = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Host(seen.clone()))
        .expect("the library must not have set the global subscriber");

    // Now the events are the program's; the logger still gets the call's error.
    let port_b = "/dev/boardloop-no-such-port-host-b";
    assert_eq!(prepare(CYTON, &params(port_b)), UNABLE_TO_OPEN_PORT);
    assert!(seen
        .lock()
        .unwrap()
        .contains(&format!("opening port {port_b}")));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(&format!("opening port {port_b}")), "{text}");
    assert!(
        text.contains(&format!(
            "[error] prepare_session: unable to open serial port {port_b}"
        )),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

//! The profile expression parser on arbitrary text: it parses or reports an
//! error with a position inside the text; a parsed expression can be walked
//! and evaluated (against an environment that knows every name) without
//! panicking.
#![no_main]
use boardloop_emulators::expr::{Env, Expr};
use libfuzzer_sys::fuzz_target;

struct Any;

impl Env for Any {
    fn var(&self, name: &str) -> Option<f64> {
        Some(name.len() as f64)
    }
    fn index(&self, _name: &str, index: i64) -> Option<f64> {
        (0..64).contains(&index).then_some(index as f64)
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Expr::parse(text) {
        Ok(e) => {
            let mut names = 0usize;
            e.visit_names(&mut |_, _| names += 1);
            let _ = e.eval(&Any);
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty());
        }
    }
});

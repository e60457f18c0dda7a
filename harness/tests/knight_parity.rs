//! The two NeuroPawn Knight implementations give the same exit code for every
//! misuse a session can see (BrainFlow's semantics), call by call: the Rust
//! `KnightBoard` and the C++ plugin through `PluginBoard`. A custom harness so
//! that a missing plugin makes the trial ignored (with the build command), as
//! in the scenario matrix, never a silent pass.

use boardloop_boards::{create_board, Board, BoardId, ExitCode, InputParams, PluginBoard, Preset};
use boardloop_harness::plan::cpp_plugin;
use libtest_mimic::{Arguments, Failed, Trial};

/// One step's outcome: the exit code (0 = OK).
fn code<T>(r: boardloop_boards::Result<T>) -> i32 {
    r.map_or_else(|e| e.code.code(), |_| 0)
}

/// Runs the same misuse sequence on a board; returns (step, code) pairs.
fn script(make: &dyn Fn(&str) -> Box<dyn Board>) -> Vec<(&'static str, i32)> {
    let mut out = Vec::new();
    let mut b = make("");
    out.push(("prepare, empty port", code(b.prepare_session())));
    let mut b = make("/dev/boardloop-no-such-port");
    out.push(("prepare, missing port", code(b.prepare_session())));
    out.push(("start, unprepared", code(b.start_stream(100))));
    out.push(("stop, unprepared", code(b.stop_stream())));
    out.push(("config, unprepared", code(b.config_board("x"))));
    out.push(("marker 0", code(b.insert_marker(0.0, Preset::Default))));
    out.push((
        "marker, unprepared",
        code(b.insert_marker(1.0, Preset::Default)),
    ));
    out.push((
        "count, unprepared",
        code(b.get_board_data_count(Preset::Default)),
    ));
    out.push(("release, unprepared", code(b.release_session())));
    // A prepared session on a pseudo-terminal nobody writes to.
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let path = nix::unistd::ttyname(&pty.slave).expect("ttyname");
    let mut b = make(&path.display().to_string());
    out.push(("prepare", code(b.prepare_session())));
    out.push(("prepare again", code(b.prepare_session())));
    out.push((
        "count, no stream yet",
        code(b.get_board_data_count(Preset::Default)),
    ));
    out.push(("start, size 0", code(b.start_stream(0))));
    out.push((
        "start, size too big",
        code(b.start_stream(86_400 * 250 + 1)),
    ));
    out.push(("stop, not streaming", code(b.stop_stream())));
    out.push(("start", code(b.start_stream(10))));
    out.push(("start again", code(b.start_stream(10))));
    out.push(("config while streaming", code(b.config_board("rldadd_1"))));
    out.push(("marker", code(b.insert_marker(2.0, Preset::Default))));
    out.push(("count", code(b.get_board_data_count(Preset::Default))));
    out.push(("stop", code(b.stop_stream())));
    out.push(("release", code(b.release_session())));
    out.push(("release again", code(b.release_session())));
    out
}

fn main() {
    let args = Arguments::from_args();
    let plugin = cpp_plugin("neuropawn_knight").expect("the Knight has a C++ plugin");
    let missing = (!plugin.is_file()).then(|| {
        format!(
            "C++ plugin {} is not built: run `bash ci/build-plugins.sh`",
            plugin.display()
        )
    });
    let ignored = missing.is_some();
    let trial = Trial::test("neuropawn_knight::exit_code_parity::cpp", move || {
        if let Some(why) = missing {
            return Err(Failed::from(format!("cannot run here: {why}")));
        }
        let rust = |port: &str| {
            create_board(
                BoardId::NeuropawnKnight,
                InputParams::with_serial_port(port),
            )
            .unwrap()
        };
        let cpp = |port: &str| -> Box<dyn Board> {
            Box::new(PluginBoard::load(&plugin, &InputParams::with_serial_port(port)).unwrap())
        };
        let (r, c) = (script(&rust), script(&cpp));
        // The Rust board is the reference; its codes are BrainFlow's.
        assert_eq!(r[0].1, ExitCode::InvalidArguments.code());
        assert_eq!(r[1].1, ExitCode::UnableToOpenPort.code());
        let diff: Vec<String> = r
            .iter()
            .zip(&c)
            .filter(|(a, b)| a.1 != b.1)
            .map(|(a, b)| format!("{}: rust {} cpp {}", a.0, a.1, b.1))
            .collect();
        if diff.is_empty() {
            Ok(())
        } else {
            Err(Failed::from(diff.join("\n")))
        }
    })
    .with_ignored_flag(ignored);
    libtest_mimic::run(&args, vec![trial]).exit();
}

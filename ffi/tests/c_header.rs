//! The committed C header is what cbindgen generates from the sources, and it
//! compiles as strict C99 (and as C++, for C++ callers).

use std::path::{Path, PathBuf};
use std::process::Command;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    crate_dir().join("include/boardloop/board_controller.h")
}

fn generate() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    // with_src follows the `mod` declarations from lib.rs without running
    // `cargo metadata`, so the test needs no cargo lock.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen failed");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn header_is_up_to_date() {
    let fresh = generate();
    let path = header_path();
    if std::env::var_os("BOARDLOOP_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: regenerate it with\n    BOARDLOOP_BLESS=1 cargo test -p boardloop-ffi --test c_header\nand commit it",
        path.display()
    );
    for name in [
        "prepare_session",
        "get_board_data",
        "get_magnetometer_channels",
        "log_message_board_controller",
    ] {
        assert!(
            fresh.contains(&format!(" {name}(")),
            "{name} missing from the header"
        );
    }
}

fn compiles_with(compiler: &str, args: &[&str]) {
    let include = crate_dir().join("include");
    let src = crate_dir().join("tests/c/smoke.c");
    let out = Command::new(compiler)
        .args(args)
        .arg("-I")
        .arg(&include)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only"])
        .arg(Path::new(&src))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} rejected the header:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_as_c99_and_cpp() {
    compiles_with("gcc", &["-std=c99"]);
    compiles_with("g++", &["-x", "c++", "-std=c++11"]);
}

/// The C++ wrapper's `BoardIds` lists every BrainFlow id, named and numbered
/// as `boardloop_boards::BoardId` (one table, `boards/src/ids.rs`), so adding
/// a board never touches the header and C++ users get every id by name.
#[test]
fn cpp_board_ids_match_the_rust_table() {
    let hpp =
        std::fs::read_to_string(crate_dir().join("cpp/include/boardloop/board_shim.hpp")).unwrap();
    let body = hpp
        .split_once("enum class BoardIds : int {")
        .and_then(|(_, rest)| rest.split_once("};"))
        .map(|(body, _)| body)
        .expect("board_shim.hpp declares enum class BoardIds");
    let cpp: Vec<(String, i32)> = body
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.trim().split_once(" = ")?;
            let num = rest.split(',').next()?.trim().parse().ok()?;
            Some((name.to_string(), num))
        })
        .collect();
    let rust: Vec<(String, i32)> = boardloop_boards::BoardId::ALL
        .iter()
        .map(|b| (format!("{b:?}"), *b as i32))
        .collect();
    assert_eq!(cpp, rust);
}

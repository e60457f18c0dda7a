//! PluginBoard against a scripted C plugin compiled with the system `cc`
//! (one variant per ABI fault, selected by `-D` flags).

use super::*;
use std::process::Command;

/// Compiles `fake_plugin.c` with `defines` into a fresh shared library.
fn build(tag: &str, defines: &[&str]) -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("boardloop-plugin-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("libfake_{tag}.so"));
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&out)
        .arg(here.join("src/plugin/fake_plugin.c"))
        .arg(format!("-I{}", here.join("../ffi/include").display()))
        .args(defines.iter().map(|d| format!("-D{d}")))
        .status()
        .expect("a C compiler (cc) is needed for the plugin tests");
    assert!(status.success(), "compiling the fake plugin failed");
    out
}

fn params(other: &str) -> InputParams {
    InputParams {
        other_info: other.into(),
        ..InputParams::default()
    }
}

fn load_error(tag: &str, defines: &[&str]) -> BoardError {
    Plugin::load(&build(tag, defines))
        .err()
        .expect("must be refused")
}

#[test]
fn refuses_bad_tables() {
    let e = load_error("version", &["BAD_VERSION"]);
    assert_eq!(e.code, ExitCode::GeneralError);
    assert!(e.message.contains("ABI version 2"), "{e}");
    assert!(load_error("small", &["SMALL_STRUCT"])
        .message
        .contains("8 bytes"));
    assert!(load_error("nullentry", &["NULL_ENTRY"])
        .message
        .contains("entry `config_board` is NULL"));
    assert!(load_error("nulltable", &["NULL_TABLE"])
        .message
        .contains("returned NULL"));
    let e = load_error("nosym", &["NO_ENTRY_SYMBOL"]);
    assert!(e.message.contains("no `boardloop_plugin_v1` symbol"), "{e}");
    let e = Plugin::load(Path::new("/nonexistent/libnothing.so"))
        .err()
        .unwrap();
    assert!(e.message.contains("/nonexistent/libnothing.so"));
}

#[test]
fn calls_map_codes_data_and_stats() {
    let plugin = std::sync::Arc::new(Plugin::load(&build("good", &[])).unwrap());
    assert_eq!(plugin.name(), "fake");
    assert_eq!(plugin.board_id(), BoardId::NeuropawnKnight);
    assert_eq!(plugin.num_rows(), 3);

    let e = PluginBoard::create(plugin.clone(), &params("refuse"))
        .err()
        .unwrap();
    assert_eq!(e.code, ExitCode::InvalidArguments);

    let mut b = PluginBoard::create(plugin.clone(), &params("fail_prepare")).unwrap();
    let e = b.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::UnableToOpenPort);
    assert_eq!(e.message, "unable to open /dev/nothing");
    assert!(!b.is_prepared());

    let mut b = PluginBoard::create(plugin.clone(), &params("")).unwrap();
    b.prepare_session().unwrap();
    assert_eq!(
        b.start_stream(0).unwrap_err().code,
        ExitCode::InvalidBufferSize
    );
    b.start_stream(10).unwrap();
    assert_eq!(b.config_board("chon_1_12").unwrap(), "re: chon_1_12");
    assert_eq!(
        b.insert_marker(0.0, Preset::Default).unwrap_err().message,
        "zero marker"
    );
    b.insert_marker(0.5, Preset::Default).unwrap();
    assert_eq!(b.get_board_data_count(Preset::Default).unwrap(), 2);
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!((d.num_rows, d.num_samples), (3, 2));
    assert_eq!(d.values, vec![0.0, 1.0, 10.0, 11.0, 20.5, 21.5]);
    let s = b.stream_stats();
    assert_eq!(
        (s.decode.lost_packets, s.decode.garbage_bytes, s.bytes_read),
        (3, 12, 99)
    );
    assert_eq!(s.link_error.as_deref(), Some("gone"));
    b.stop_stream().unwrap();
    // No message from the plugin: the host says which call failed.
    assert_eq!(
        b.stop_stream().unwrap_err().code,
        ExitCode::StreamThreadIsNotRunning
    );
    b.release_session().unwrap();
}

#[test]
fn bad_returns_become_errors() {
    let plugin = std::sync::Arc::new(Plugin::load(&build("good2", &[])).unwrap());
    let mut b = PluginBoard::create(plugin.clone(), &params("negative")).unwrap();
    let e = b.get_board_data_count(Preset::Default).unwrap_err();
    assert_eq!(e.code, ExitCode::GeneralError);
    assert!(e.message.contains("-5 samples"));
    assert!(b.get_board_data(None, Preset::Default).is_err());
    let mut b = PluginBoard::create(plugin, &params("bad_code")).unwrap();
    let e = b.start_stream(5).unwrap_err();
    assert_eq!(e.code, ExitCode::GeneralError);
    assert!(e.message.contains("unknown exit code 99"), "{e}");
}

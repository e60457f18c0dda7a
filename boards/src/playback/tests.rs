use std::path::PathBuf;

use super::*;
use crate::board::Board;
use crate::data::Data;
use crate::host_session::wait_rows;
use crate::outlet::format_row;

const CYTON_ROWS: usize = 24;
const CYTON_TS: usize = 22;
const CYTON_MARKER: usize = 23;

/// A file in the temp dir, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, text: &str) -> TempFile {
        let p = std::env::temp_dir().join(format!(
            "boardloop-playback-{}-{tag}.csv",
            std::process::id()
        ));
        std::fs::write(&p, text).unwrap();
        TempFile(p)
    }

    fn path(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Cyton rows: row r of sample k is `k + r/100`, the timestamp 4 ms apart
/// (250 Hz), the marker `k + 1` (which the replay replaces).
fn cyton_rows(n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|k| {
            let mut row: Vec<f64> = (0..CYTON_ROWS)
                .map(|r| k as f64 + r as f64 / 100.0)
                .collect();
            row[CYTON_TS] = 1_700_000_000.0 + k as f64 * 0.004;
            row[CYTON_MARKER] = k as f64 + 1.0;
            row
        })
        .collect()
}

fn file_text(rows: &[Vec<f64>]) -> String {
    let mut s = String::new();
    for r in rows {
        format_row(r, &mut s);
    }
    s
}

fn session(file: &TempFile) -> PlaybackBoard {
    PlaybackBoard::new(InputParams {
        file: file.path(),
        master_board: BoardId::Cyton.id(),
        ..Default::default()
    })
}

fn sample(d: &Data, s: usize) -> Vec<f64> {
    (0..d.num_rows).map(|r| d.row(r)[s]).collect()
}

/// What the file held, as the replay must give it: values as `%lf` wrote
/// them (six decimals), the marker replaced by 0.
fn as_replayed(row: &[f64]) -> Vec<f64> {
    let mut line = String::new();
    format_row(row, &mut line);
    let mut v: Vec<f64> = line
        .trim_end()
        .split('\t')
        .map(|x| x.parse().unwrap())
        .collect();
    v[CYTON_MARKER] = 0.0;
    v
}

#[test]
fn replays_a_file_value_by_value_with_its_own_or_new_timestamps() {
    let rows = cyton_rows(40);
    let f = TempFile::new("values", &file_text(&rows));
    let mut b = session(&f);
    b.prepare_session().unwrap();
    assert_eq!(b.layout(Preset::Default).unwrap().num_rows, CYTON_ROWS);
    assert_eq!(b.board_id(), BoardId::PlaybackFile);
    b.config_board("old_timestamps").unwrap();
    b.insert_marker(5.0, Preset::Default).unwrap();
    b.start_stream(1000).unwrap();
    wait_rows(&b, Preset::Default, 40);
    b.stop_stream().unwrap();
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.num_samples, 40, "the file's rows, once (no loopback)");
    for (k, row) in rows.iter().enumerate() {
        let mut want = as_replayed(row);
        if k == 0 {
            want[CYTON_MARKER] = 5.0;
        }
        assert_eq!(sample(&d, k), want, "row {k}");
    }
    let st = b.stream_stats();
    assert_eq!((st.decode.rows, st.decode.garbage_bytes), (40, 0));

    // new_timestamps (BrainFlow's default) stamps the replay's time.
    b.config_board("new_timestamps").unwrap();
    let before = crate::serial_session::unix_now();
    b.start_stream(1000).unwrap();
    wait_rows(&b, Preset::Default, 40);
    b.stop_stream().unwrap();
    let d = b.get_board_data(None, Preset::Default).unwrap();
    let ts = d.row(CYTON_TS);
    assert!(ts[0] >= before, "{} < {before}", ts[0]);
    assert!(ts.windows(2).all(|w| w[1] >= w[0]));
    for (k, row) in rows.iter().enumerate() {
        let mut want = as_replayed(row);
        want[CYTON_TS] = ts[k];
        assert_eq!(sample(&d, k), want, "row {k}");
    }
    b.release_session().unwrap();
}

#[test]
fn bad_params_are_refused_at_prepare() {
    let f = TempFile::new("params", &file_text(&cyton_rows(3)));
    let code = |p: InputParams| PlaybackBoard::new(p).prepare_session().unwrap_err().code;
    let base = InputParams {
        file: f.path(),
        master_board: BoardId::Cyton.id(),
        ..Default::default()
    };
    let no_master = InputParams {
        master_board: crate::params::NO_BOARD,
        ..base.clone()
    };
    assert_eq!(code(no_master), ExitCode::InvalidArguments);
    let undescribed = InputParams {
        master_board: BoardId::BrainBit.id(),
        ..base.clone()
    };
    assert_eq!(code(undescribed), ExitCode::UnsupportedBoard);
    let itself = InputParams {
        master_board: BoardId::PlaybackFile.id(),
        ..base.clone()
    };
    assert_eq!(code(itself), ExitCode::InvalidArguments);
    let missing = InputParams {
        file: format!("{}.gone", f.path()),
        ..base.clone()
    };
    assert_eq!(code(missing), ExitCode::InvalidArguments);
    let empty = TempFile::new("empty", "");
    let empty = InputParams {
        file: empty.path(),
        ..base.clone()
    };
    assert_eq!(code(empty), ExitCode::InvalidArguments);
    // Cyton has no auxiliary preset to replay a file into.
    let aux = InputParams {
        file_aux: f.path(),
        ..base.clone()
    };
    assert_eq!(code(aux), ExitCode::InvalidArguments);
    let mut b = PlaybackBoard::new(base);
    assert_eq!(
        b.get_board_data_count(Preset::Default).unwrap_err().code,
        ExitCode::BoardNotCreated
    );
    assert_eq!(
        b.config_board("loopback_true").unwrap_err().code,
        ExitCode::BoardNotReady
    );
    b.prepare_session().unwrap();
    assert_eq!(
        b.get_board_data_count(Preset::Auxiliary).unwrap_err().code,
        ExitCode::InvalidArguments
    );
    for bad in [
        "set_index_percentage:100",
        "set_index_percentage:-1",
        "set_index_percentage:x",
    ] {
        assert_eq!(
            b.config_board(bad).unwrap_err().code,
            ExitCode::InvalidArguments,
            "{bad}"
        );
    }
    // Unknown commands succeed, as BrainFlow's do (a script configuring its
    // real board runs on the recording).
    assert_eq!(b.config_board("x1060110X").unwrap(), "");
}

#[test]
fn bad_lines_are_skipped_and_counted_commas_are_read() {
    let rows = cyton_rows(4);
    let mut text = String::new();
    format_row(&rows[0], &mut text);
    let short = "1\t2\t3\n";
    text.push_str(short);
    let not_number = format!("{}\tx\n", vec!["1"; CYTON_ROWS - 1].join("\t"));
    text.push_str(&not_number);
    // A comma-separated row, as BrainFlow also reads.
    let commas: Vec<String> = rows[1].iter().map(|v| format!("{v:.6}")).collect();
    text.push_str(&commas.join(","));
    text.push('\n');
    // A trailing tab is one empty field, not a wider row.
    let mut last = String::new();
    format_row(&rows[2], &mut last);
    text.push_str(&last.replace('\n', "\t\n"));
    let f = TempFile::new("lines", &text);
    let mut b = session(&f);
    b.prepare_session().unwrap();
    b.config_board("old_timestamps").unwrap();
    b.start_stream(100).unwrap();
    wait_rows(&b, Preset::Default, 3);
    b.stop_stream().unwrap();
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.num_samples, 3);
    for (k, row) in rows.iter().take(3).enumerate() {
        assert_eq!(sample(&d, k), as_replayed(row), "row {k}");
    }
    assert_eq!(
        b.stream_stats().decode.garbage_bytes,
        (short.len() + not_number.len()) as u64
    );
}

#[test]
fn loopback_and_seek_wake_a_replay_waiting_at_the_end() {
    let rows = cyton_rows(10);
    let f = TempFile::new("loop", &file_text(&rows));
    let mut b = session(&f);
    b.prepare_session().unwrap();
    b.config_board("old_timestamps").unwrap();
    b.start_stream(1000).unwrap();
    wait_rows(&b, Preset::Default, 10);
    // The replay is at its end (or about to be): loopback_true must wake it
    // whichever comes first.
    b.config_board("loopback_true").unwrap();
    wait_rows(&b, Preset::Default, 25);
    let d = b.get_board_data(None, Preset::Default).unwrap();
    for k in 0..25 {
        assert_eq!(sample(&d, k), as_replayed(&rows[k % 10]), "row {k}");
    }
    b.stop_stream().unwrap();

    // Without loopback, the replay is at its end after 10 rows: a jump to
    // 50 % wakes it. The offsets are 10 lines and the end, so line
    // int(50 × 11 / 100) = 5 comes next, and 5 rows in all.
    b.config_board("loopback_false").unwrap();
    b.start_stream(1000).unwrap();
    wait_rows(&b, Preset::Default, 10);
    b.config_board("set_index_percentage:50").unwrap();
    wait_rows(&b, Preset::Default, 15);
    b.stop_stream().unwrap();
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.num_samples, 15);
    for k in 0..15 {
        let line = if k < 10 { k } else { k - 5 };
        assert_eq!(sample(&d, k), as_replayed(&rows[line]), "row {k}");
    }
    b.release_session().unwrap();
}

#[test]
fn stop_does_not_wait_out_a_gap_in_the_timestamps() {
    let mut rows = cyton_rows(2);
    // The second row is due an hour after the first.
    rows[1][CYTON_TS] = rows[0][CYTON_TS] + 3600.0;
    let f = TempFile::new("gap", &file_text(&rows));
    let mut b = session(&f);
    b.prepare_session().unwrap();
    b.start_stream(10).unwrap();
    wait_rows(&b, Preset::Default, 1);
    // Returns once the thread sees the stop, not in an hour (nextest's
    // timeout would catch a hang).
    b.stop_stream().unwrap();
    assert_eq!(b.get_board_data_count(Preset::Default).unwrap(), 1);
}

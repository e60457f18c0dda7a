use super::*;
use crate::board::Board;
use crate::host_session::wait_rows;
use crate::streamer::Streamer;

#[test]
fn streams_brainflows_signals_on_both_presets() {
    let mut b = SyntheticBoard::new();
    assert_eq!(
        b.start_stream(100).unwrap_err().code,
        ExitCode::BoardNotCreated
    );
    b.prepare_session().unwrap();
    assert_eq!(
        b.get_board_data_count(Preset::Default).unwrap_err().code,
        ExitCode::InvalidArguments
    );
    assert_eq!(
        b.insert_marker(1.0, Preset::Ancillary).unwrap_err().code,
        ExitCode::InvalidArguments
    );
    b.start_stream(45000).unwrap();
    assert_eq!(
        b.start_stream(10).unwrap_err().code,
        ExitCode::StreamAlreadyRun
    );
    b.insert_marker(7.0, Preset::Default).unwrap();
    b.insert_marker(8.0, Preset::Auxiliary).unwrap();
    // 300 rows: more than one package-counter wrap and every spike period.
    wait_rows(&b, Preset::Default, 300);
    b.stop_stream().unwrap();
    assert_eq!(
        b.stop_stream().unwrap_err().code,
        ExitCode::StreamThreadIsNotRunning
    );
    let d = b.get_board_data(None, Preset::Default).unwrap();
    let a = b.get_board_data(None, Preset::Auxiliary).unwrap();
    let (def, aux) = (
        b.layout(Preset::Default).unwrap(),
        b.layout(Preset::Auxiliary).unwrap(),
    );
    assert_eq!(d.num_rows, 32);
    assert_eq!(a.num_rows, 20);
    let n = d.num_samples;
    assert!(n >= 300 && a.num_samples == n, "{n} and {}", a.num_samples);
    let pkg = d.row(def.package_num_channel);
    for s in 1..n {
        assert_eq!(pkg[s], (pkg[s - 1] + 1.0) % 256.0, "sample {s}");
    }
    let ts = d.row(def.timestamp_channel);
    assert!(ts.windows(2).all(|w| w[1] >= w[0]) && ts[0] > 1.5e9);
    for (i, &c) in def.eeg_channels.iter().enumerate() {
        let amp = 10.0 * (i + 1) as f64;
        let range = amp * 0.1 * (i + 1) as f64 / 2.0;
        // The spike scales the amplitude by at most 2.2.
        let top = if i > 5 { 2.2 * amp } else { amp };
        let reach = top + (top + range) * std::f64::consts::SQRT_2;
        let v = d.row(c);
        assert!(
            v.iter().all(|x| (top.min(amp) - reach..=reach).contains(x)),
            "eeg {i}: outside ±{reach}"
        );
        // A sine: it swings both ways around its offset.
        assert!(
            v.iter().any(|x| *x > amp) && v.iter().any(|x| *x < amp),
            "eeg {i}"
        );
    }
    for &c in def.accel_channels.iter().chain(&def.gyro_channels) {
        assert!(d.row(c).iter().all(|x| (0.8..1.0).contains(x)));
    }
    assert!(d
        .row(def.ppg_channels[1])
        .iter()
        .all(|x| (228_150.0..278_850.0).contains(x)));
    assert!(d
        .row(def.temperature_channels[0])
        .iter()
        .all(|x| (36.59..36.61).contains(x)));
    for &c in &aux.other_channels {
        assert!(a.row(c).iter().all(|x| *x == c as f64));
    }
    assert_eq!(
        d.row(def.marker_channel)
            .iter()
            .filter(|m| **m == 7.0)
            .count(),
        1
    );
    assert_eq!(
        a.row(aux.marker_channel)
            .iter()
            .filter(|m| **m == 8.0)
            .count(),
        1
    );
    assert_eq!(b.config_board("x").unwrap(), "Config:x");
    assert!(b.stream_stats().decode.rows >= 300);
    b.release_session().unwrap();
    assert_eq!(
        b.release_session().unwrap_err().code,
        ExitCode::BoardNotCreated
    );
}

#[test]
fn the_registry_builds_it_and_streamers_get_its_rows() {
    let mut b = registry::create_board_on(
        BoardId::Synthetic,
        &crate::params::InputParams::default(),
        registry::Connection::Serial(Box::new(|| unreachable!("no port"))),
    )
    .unwrap();
    let path = std::env::temp_dir().join(format!("boardloop-synthetic-{}.csv", std::process::id()));
    let spec = Streamer::File {
        path: path.to_string_lossy().into_owned(),
        append: false,
    };
    b.prepare_session().unwrap();
    b.add_streamer(&spec, Preset::Auxiliary).unwrap();
    b.start_stream(1000).unwrap();
    let t = Instant::now();
    while b.get_board_data_count(Preset::Auxiliary).unwrap() < 20 {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(5));
    }
    b.stop_stream().unwrap();
    b.delete_streamer(&spec, Preset::Auxiliary).unwrap();
    let d = b.get_board_data(None, Preset::Auxiliary).unwrap();
    let mut want = String::new();
    for s in 0..d.num_samples {
        let row: Vec<f64> = (0..d.num_rows).map(|r| d.row(r)[s]).collect();
        crate::outlet::format_row(&row, &mut want);
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), want);
    b.release_session().unwrap();
    let _ = std::fs::remove_file(&path);
}

use super::*;
use crate::descr::BoardDescr;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn width(num_rows: usize) -> BoardDescr {
    BoardDescr {
        num_rows,
        ..Default::default()
    }
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("boardloop-outlet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

fn file_spec(path: &std::path::Path, append: bool) -> Streamer {
    Streamer::File {
        path: path.to_string_lossy().into_owned(),
        append,
    }
}

fn rows(n: usize, width: usize, base: f64) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            (0..width)
                .map(|j| base + i as f64 * 0.001 - j as f64 * 1.5)
                .collect()
        })
        .collect()
}

fn formatted(rows: &[Vec<f64>]) -> String {
    let mut s = String::new();
    for r in rows {
        format_row(r, &mut s);
    }
    s
}

#[test]
fn rows_print_as_c_lf_does() {
    let mut s = String::new();
    format_row(&[0.0, -0.0, 1.0 / 3.0, 0.0078125, -2.5e-7, 1e20], &mut s);
    assert_eq!(
        s,
        "0.000000\t-0.000000\t0.333333\t0.007812\t-0.000000\t100000000000000000000.000000\n"
    );
    s.clear();
    format_row(
        &[f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY],
        &mut s,
    );
    assert_eq!(s, "nan\t-nan\tinf\t-inf\n");
}

#[test]
fn batch_size_follows_brainflow() {
    assert_eq!(batch_size(None), 3);
    assert_eq!(batch_size(Some("10")), 10);
    assert_eq!(batch_size(Some("99")), 99);
    for bad in ["1", "100", "-4", "x", ""] {
        assert_eq!(batch_size(Some(bad)), 3, "{bad:?}");
    }
}

#[test]
fn a_file_gets_every_row_in_order_and_append_appends() {
    let path = temp("rows.csv");
    let spec = file_spec(&path, false);
    let mut o = Outlet::default();
    o.add(&spec, &width(4)).unwrap();
    let first = rows(500, 4, 10.0);
    for r in &first {
        o.push(r);
    }
    let stats = o.streamer_stats();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].streamer, spec.to_string());
    drop(o.remove(&spec).unwrap());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), formatted(&first));
    // `a` appends, `w` truncates.
    let more = rows(3, 4, -7.0);
    o.add(&file_spec(&path, true), &width(4)).unwrap();
    for r in &more {
        o.push(r);
    }
    drop(o.take_streamers());
    let both = [first.clone(), more.clone()].concat();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), formatted(&both));
    o.add(&spec, &width(4)).unwrap();
    o.push(&more[0]);
    drop(o.take_streamers());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        formatted(&more[..1])
    );
}

#[test]
fn remove_takes_every_equal_streamer_and_refuses_an_unknown_one() {
    let a = temp("a.csv");
    let b = temp("b.csv");
    let mut o = Outlet::default();
    o.add(&file_spec(&a, false), &width(2)).unwrap();
    o.add(&file_spec(&b, false), &width(2)).unwrap();
    o.add(&file_spec(&a, false), &width(2)).unwrap();
    assert_eq!(o.remove(&file_spec(&a, false)).unwrap().len(), 2);
    let e = o.remove(&file_spec(&a, false)).err().unwrap();
    assert_eq!(e.code, ExitCode::InvalidArguments);
    assert_eq!(o.streamer_stats().len(), 1);
}

#[test]
fn an_unopenable_file_or_a_bad_address_is_a_general_error() {
    let mut o = Outlet::default();
    let dir = temp("not-a-dir").join("x.csv");
    let e = o.add(&file_spec(&dir, false), &width(2)).err().unwrap();
    assert_eq!(e.code, ExitCode::GeneralError);
    let spec = Streamer::StreamingBoard {
        ip: "not.an.ip".into(),
        port: 6677,
    };
    assert_eq!(
        o.add(&spec, &width(2)).err().unwrap().code,
        ExitCode::GeneralError
    );
    assert!(o.streamer_stats().is_empty());
}

#[test]
fn a_full_disk_is_counted_and_the_stream_goes_on() {
    // /dev/full opens, and every write to it fails with ENOSPC.
    let spec = Streamer::File {
        path: "/dev/full".into(),
        append: false,
    };
    let mut o = Outlet {
        ring: Some(RingBuffer::new(100, 3)),
        ..Default::default()
    };
    o.add(&spec, &width(3)).unwrap();
    let all = rows(50, 3, 1.0);
    for r in &all {
        o.push(r);
    }
    let s = o.remove(&spec).unwrap().remove(0).finish();
    assert_eq!(s.rows_out, 0);
    assert_eq!(s.rows_failed + s.rows_dropped, 50, "{s:?}");
    assert!(s.errors >= 1, "{s:?}");
    // The ring got every row.
    assert_eq!(o.ring.as_ref().unwrap().count(), 50);
}

#[test]
fn a_stalled_reader_costs_the_streamer_rows_never_the_ring_or_the_reader() {
    // A FIFO whose reader reads nothing: the streamer's writes block once
    // the pipe is full (64 KiB), then its queue fills.
    let path = temp("stall.fifo");
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let p = path.clone();
    // Opening a FIFO for writing waits for a reader; open one first.
    let reader = std::thread::spawn(move || std::fs::File::open(p).unwrap());
    let spec = file_spec(&path, false);
    let mut o = Outlet {
        ring: Some(RingBuffer::new(1_000_000, 8)),
        ..Default::default()
    };
    o.add(&spec, &width(8)).unwrap();
    let mut reader = reader.join().unwrap();
    let row = vec![123456.123456; 8];
    let n = QUEUE_ROWS * 4;
    let t = Instant::now();
    for _ in 0..n {
        o.push(&row);
    }
    let pushing = t.elapsed();
    assert_eq!(o.ring.as_ref().unwrap().count(), n);
    let s = o.streamer_stats().remove(0);
    assert!(s.rows_dropped > 0, "{s:?}");
    // Now read everything: the streamer drains its queue and ends.
    let drain = std::thread::spawn(move || {
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        all
    });
    let s = o.remove(&spec).unwrap().remove(0).finish();
    let bytes = drain.join().unwrap();
    let line = formatted(std::slice::from_ref(&row));
    assert_eq!(bytes.len() % line.len(), 0);
    let written = (bytes.len() / line.len()) as u64;
    assert_eq!(written, s.rows_out, "{s:?}");
    assert_eq!(
        s.rows_out + s.rows_dropped + s.rows_failed,
        n as u64,
        "{s:?}"
    );
    println!("{n} rows pushed in {pushing:?} past a stalled reader: {s:?}");
}

#[test]
fn datagrams_carry_batches_of_native_doubles() {
    let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = rx.local_addr().unwrap().port();
    let spec = Streamer::StreamingBoard {
        ip: "127.0.0.1".into(),
        port,
    };
    let mut o = Outlet::default();
    o.add(&spec, &width(5)).unwrap();
    let all = rows(3 * 4 + 2, 5, 3.0);
    for r in &all {
        o.push(r);
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    for _ in 0..4 {
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(n, 3 * 5 * 8);
        got.extend(
            buf[..n]
                .chunks(8)
                .map(|b| f64::from_ne_bytes(b.try_into().unwrap())),
        );
    }
    let sent: Vec<f64> = all[..12].concat();
    assert_eq!(got, sent);
    // The two rows short of a batch are never sent, as in BrainFlow.
    assert_eq!(o.remove(&spec).unwrap().remove(0).finish().rows_out, 12);
}

#[test]
fn a_refused_send_is_counted_and_the_streamer_goes_on() {
    // The limited broadcast address without SO_BROADCAST: every send fails.
    let spec = Streamer::StreamingBoard {
        ip: "255.255.255.255".into(),
        port: 6677,
    };
    let mut o = Outlet::default();
    o.add(&spec, &width(2)).unwrap();
    for r in rows(9, 2, 0.0) {
        o.push(&r);
    }
    let s = o.remove(&spec).unwrap().remove(0).finish();
    assert_eq!((s.rows_out, s.rows_failed, s.errors), (0, 9, 3), "{s:?}");
}

#[test]
fn plotjuggler_gets_one_json_object_per_row_by_channel_kind() {
    use crate::descr::board_descr;
    use crate::ids::{BoardId, Preset};
    let descr = board_descr(BoardId::Cyton, Preset::Default).unwrap();
    let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let spec = Streamer::PlotJugglerUdp {
        ip: "127.0.0.1".into(),
        port: rx.local_addr().unwrap().port(),
    };
    let mut o = Outlet::default();
    o.add(&spec, &descr).unwrap();
    let mut row: Vec<f64> = (0..descr.num_rows).map(|i| i as f64 * 10.0).collect();
    row[descr.eeg_channels[1]] = f64::NAN;
    o.push(&row);
    let mut buf = [0u8; 65536];
    let n = rx.recv(&mut buf).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
    let m = &v[descr.name.as_str()];
    let names: Vec<&str> = descr.eeg_names.split(',').collect();
    assert_eq!(m["eeg"][names[0]], descr.eeg_channels[0] as f64 * 10.0);
    assert!(m["eeg"][names[1]].is_null(), "NaN is null: {m}");
    assert_eq!(m["accel"]["accel Y"], descr.accel_channels[1] as f64 * 10.0);
    assert_eq!(
        m["other"]["channel 0"],
        descr.other_channels[0] as f64 * 10.0
    );
    assert_eq!(m["timestamp"], descr.timestamp_channel as f64 * 10.0);
    assert_eq!(m["marker"], descr.marker_channel as f64 * 10.0);
    assert_eq!(m["package_num"], 0.0);
    let text = std::str::from_utf8(&buf[..n]).unwrap();
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "{text}");
    assert_eq!(o.remove(&spec).unwrap().remove(0).finish().rows_out, 1);
}

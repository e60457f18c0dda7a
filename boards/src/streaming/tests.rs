use super::*;
use crate::board::Board;
use crate::host_session::wait_rows;
use crate::streamer::Streamer;
use crate::synthetic::SyntheticBoard;

/// A UDP port free right now (the kernel's pick), for one test's stream.
fn free_port() -> u16 {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn params(group: &str, port: u16, master: BoardId) -> InputParams {
    InputParams {
        ip_address: group.into(),
        ip_port: port.into(),
        master_board: master.id(),
        ..Default::default()
    }
}

#[test]
fn reads_our_streamer_row_for_row() {
    let (group, port) = ("239.255.78.1", free_port());
    let mut reader = StreamingBoard::new(params(group, port, BoardId::Synthetic));
    reader.prepare_session().unwrap();
    assert_eq!(reader.layout(Preset::Default).unwrap().num_rows, 32);
    reader.start_stream(10_000).unwrap();

    let mut source = SyntheticBoard::new();
    source.prepare_session().unwrap();
    let spec = Streamer::StreamingBoard {
        ip: group.into(),
        port,
    };
    source.add_streamer(&spec, Preset::Default).unwrap();
    source.insert_marker(3.0, Preset::Default).unwrap();
    source.start_stream(10_000).unwrap();
    wait_rows(&reader, Preset::Default, 60);
    source.stop_stream().unwrap();
    // Sends what it queued (whole batches) before it returns.
    source.delete_streamer(&spec, Preset::Default).unwrap();
    let sent = source.get_board_data(None, Preset::Default).unwrap();
    let sent_rows = source.stream_stats().decode.rows as usize;
    assert_eq!(sent.num_samples, sent_rows);

    // Every whole batch arrives; wait for the last of them.
    let whole = sent_rows - sent_rows % 3;
    wait_rows(&reader, Preset::Default, whole);
    reader.stop_stream().unwrap();
    let got = reader.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(got.num_samples, whole);
    let marker = 31;
    for r in 0..32 {
        for s in 0..whole {
            let want = if r == marker { 0.0 } else { sent.row(r)[s] };
            assert_eq!(
                got.row(r)[s].to_bits(),
                want.to_bits(),
                "row {r} sample {s}"
            );
        }
    }
    assert_eq!(sent.row(marker)[0], 3.0, "the source's own marker");
    let st = reader.stream_stats();
    assert_eq!((st.decode.rows, st.decode.garbage_bytes), (whole as u64, 0));
    reader.release_session().unwrap();
}

#[test]
fn a_datagram_of_no_whole_rows_is_counted_and_others_of_any_batch_read() {
    let (group, port) = ("239.255.78.2", free_port());
    let mut b = StreamingBoard::new(params(group, port, BoardId::Cyton));
    b.prepare_session().unwrap();
    b.start_stream(100).unwrap();
    let tx = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    let to = (group.parse::<Ipv4Addr>().unwrap(), port);
    tx.send_to(&[0xAB; 13], to).unwrap();
    // Two Cyton rows in one datagram (BrainFlow would want its batch of 3).
    let rows: Vec<f64> = (0..48).map(f64::from).collect();
    let bytes: Vec<u8> = rows.iter().flat_map(|v| v.to_ne_bytes()).collect();
    tx.send_to(&bytes, to).unwrap();
    wait_rows(&b, Preset::Default, 2);
    b.stop_stream().unwrap();
    let d = b.get_board_data(None, Preset::Default).unwrap();
    assert_eq!(d.num_samples, 2);
    assert_eq!(d.row(1), &[1.0, 25.0]);
    assert_eq!(d.row(23), &[0.0, 0.0], "markers replaced");
    let st = b.stream_stats();
    assert_eq!((st.decode.rows, st.decode.garbage_bytes), (2, 13));
}

#[test]
fn bad_params_and_config_are_refused() {
    let port = free_port();
    let code = |p: InputParams| StreamingBoard::new(p).prepare_session().unwrap_err().code;
    let no_master = InputParams {
        master_board: crate::params::NO_BOARD,
        ..params("239.255.78.3", port, BoardId::Cyton)
    };
    assert_eq!(code(no_master), ExitCode::InvalidArguments);
    assert_eq!(
        code(params("", 0, BoardId::Cyton)),
        ExitCode::InvalidArguments,
        "no address"
    );
    assert_eq!(
        code(params("not-an-ip", port, BoardId::Cyton)),
        ExitCode::GeneralError
    );
    let aux_on_cyton = InputParams {
        ip_address_aux: "239.255.78.3".into(),
        ip_port_aux: port.into(),
        ..params("239.255.78.3", port, BoardId::Cyton)
    };
    assert_eq!(code(aux_on_cyton), ExitCode::InvalidArguments);
    let mut b = StreamingBoard::new(params("239.255.78.3", port, BoardId::Cyton));
    b.prepare_session().unwrap();
    assert_eq!(
        b.config_board("x").unwrap_err().code,
        ExitCode::UnsupportedBoard
    );
    b.release_session().unwrap();
}

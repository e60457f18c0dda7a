//! BrainFlow's streaming board (id -2): reads what a `streaming_board://`
//! streamer sends (BrainFlow's or ours, see [`crate::outlet`]) in the layout
//! of `params.master_board`, as BrainFlow 5.23's `streaming_board.cpp` does.
//!
//! * `ip_address`/`ip_port` feed the default preset, `_aux` and `_anc` the
//!   others. Each pair is a UDP port bound on every address with
//!   `SO_REUSEADDR` (several readers may share it), joined to the multicast
//!   group when the address is one; no pair at all is `InvalidArguments`, a
//!   socket that cannot be made `GeneralError`.
//! * A datagram is whole rows of native-endian `f64`. BrainFlow expects
//!   exactly `BRAINFLOW_BATCH_SIZE` rows per datagram and logs any other
//!   size; this reader takes any whole number of rows, so a sender with
//!   another batch size still gets through, and counts the bytes of a
//!   datagram that is not whole rows as garbage.
//! * A row's marker is replaced as on every board (BrainFlow's
//!   `push_package`): a marker queued here, else 0.
//! * `config_board` is refused with `UnsupportedBoard`, as BrainFlow's: the
//!   board streaming the rows is not this session's to configure.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::descr::BoardDescr;
use crate::error::{BoardError, ExitCode, Result};
use crate::host_session::{
    layout_for, master_layouts, Feed, HostBoard, HostSource, Layouts, PRESETS,
};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::registry::{name_only_layouts, BoardDecl, Driver};

/// How long a blocked receive waits before it looks at the stop signal:
/// the longest `stop_stream` waits for a reader thread.
const RECV_WAKE: Duration = Duration::from_millis(100);

/// The largest UDP payload (65535 − 8 − 20 bytes).
const MAX_DATAGRAM: usize = 65_507;

/// BrainFlow's STREAMING_BOARD: its description is a name only; a session
/// has the layout of its `master_board`.
pub static STREAMING: BoardDecl = BoardDecl {
    id: BoardId::Streaming,
    name: "streaming",
    layouts: &name_only_layouts(r#"{"name":"Streaming"}"#),
    other_rows: &[],
    brainflow_withheld_rows: [0; 3],
    brainflow_command_overrun: 0,
    driver: Driver::Master(|p| Box::new(StreamingBoard::new(p.clone()))),
    cpp_plugin: None,
};

/// A session of BrainFlow's streaming board.
pub type StreamingBoard = HostBoard<Streaming>;

impl StreamingBoard {
    /// An unprepared session with BrainFlow's params (`ip_address`,
    /// `ip_port` and their `_aux`/`_anc` forms, `master_board`).
    pub fn new(params: InputParams) -> StreamingBoard {
        HostBoard::with_source(Streaming {
            params,
            sockets: Default::default(),
        })
    }
}

/// The streaming board's sockets.
#[derive(Debug)]
pub struct Streaming {
    params: InputParams,
    sockets: [Option<Arc<UdpSocket>>; 3],
}

/// A UDP socket on `port` of every address, with `SO_REUSEADDR`, in the
/// multicast group `ip` if it is one.
fn open_socket(ip: &str, port: u16) -> std::io::Result<UdpSocket> {
    let group: Ipv4Addr = ip.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{ip:?} is not an IPv4 address"),
        )
    })?;
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into())?;
    if group.is_multicast() {
        s.join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED)?;
    }
    s.set_read_timeout(Some(RECV_WAKE))?;
    Ok(s.into())
}

impl HostSource for Streaming {
    fn board_id(&self) -> BoardId {
        BoardId::Streaming
    }

    fn prepare(&mut self) -> Result<Layouts> {
        let layouts = master_layouts(BoardId::Streaming, self.params.master_board)?;
        let p = &self.params;
        let pairs = [
            ("ip_address", &p.ip_address, p.ip_port),
            ("ip_address_aux", &p.ip_address_aux, p.ip_port_aux),
            ("ip_address_anc", &p.ip_address_anc, p.ip_port_anc),
        ];
        let mut sockets: [Option<Arc<UdpSocket>>; 3] = Default::default();
        for (preset, (what, ip, port)) in PRESETS.into_iter().zip(pairs) {
            if ip.is_empty() != (port == 0) {
                tracing::warn!("streaming board: {what} or its port is missing");
            }
            if ip.is_empty() || port == 0 {
                continue;
            }
            layout_for(&layouts, preset, what)?;
            let port = u16::try_from(port).map_err(|_| {
                BoardError::new(
                    ExitCode::InvalidArguments,
                    format!("port {port} of {what} is not a UDP port"),
                )
            })?;
            let socket = open_socket(ip, port).map_err(|e| {
                BoardError::new(
                    ExitCode::GeneralError,
                    format!("streaming board: socket for {ip}:{port}: {e}"),
                )
            })?;
            sockets[preset as usize] = Some(Arc::new(socket));
        }
        if sockets.iter().all(Option::is_none) {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                "streaming board: no ip_address and ip_port given",
            ));
        }
        self.sockets = sockets;
        Ok(layouts)
    }

    fn start(&mut self, layouts: &Layouts, feed: &Feed) -> Result<Vec<JoinHandle<()>>> {
        let mut threads = Vec::new();
        for preset in PRESETS {
            let Some(socket) = self.sockets[preset as usize].clone() else {
                continue;
            };
            let descr = layout_for(layouts, preset, "ip_address")?.clone();
            let feed = feed.clone();
            let t = std::thread::Builder::new()
                .name(format!("streaming-{preset:?}"))
                .spawn(move || receive(&socket, preset, &descr, &feed))
                .map_err(|e| {
                    BoardError::new(ExitCode::StreamThread, format!("unable to start: {e}"))
                })?;
            threads.push(t);
        }
        Ok(threads)
    }

    fn config_board(&mut self, _config: &str) -> Result<String> {
        Err(BoardError::new(
            ExitCode::UnsupportedBoard,
            "the streaming board does not configure the board it reads",
        ))
    }

    fn release(&mut self) {
        self.sockets = Default::default();
    }
}

/// One preset's reader thread.
fn receive(socket: &UdpSocket, preset: Preset, d: &BoardDescr, feed: &Feed) {
    let width = d.num_rows * 8;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut row = vec![0.0f64; d.num_rows];
    while feed.running() {
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) => {
                tracing::warn!("streaming board: receive failed: {e}");
                continue;
            }
        };
        if n == 0 || width == 0 || n % width != 0 {
            feed.with(|_, st| st.garbage_bytes += n as u64);
            continue;
        }
        feed.with(|outlets, st| {
            for chunk in buf[..n].chunks_exact(width) {
                for (v, b) in row.iter_mut().zip(chunk.chunks_exact(8)) {
                    let mut x = [0u8; 8];
                    x.copy_from_slice(b);
                    *v = f64::from_ne_bytes(x);
                }
                outlets[preset as usize].push_marked(&mut row, d.marker_channel);
                st.rows += 1;
            }
            st.packets += 1;
        });
    }
}

#[cfg(test)]
mod tests;

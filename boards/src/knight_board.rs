//! The NeuroPawn Knight and Knight IMU protocol, following BrainFlow 5.23's
//! `KnightBase` with `Knight` and `KnightIMU` (`src/board_controller/neuropawn/`):
//! no handshake (prepare only opens the port), no start or stop command (the
//! board streams on its own; `start_stream` discards stale input and starts
//! reading), config text passed through, its reply read until the device is
//! idle when not streaming. The two boards share all of it in BrainFlow
//! (`KnightBase`) and here ([`KnightProtocol`]); they differ only in the
//! packet, which [`KnightFrame`] tells apart. Run by the generic
//! [`SerialBoard`]; the decoder is [`KnightDecoder`].

use crate::board::Board;
use crate::codec::knight::{KnightDecoder, KnightFrame};
use crate::error::{ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::serial_board::{
    discard_stale_input, refuse_empty_port, LinkOpener, SerialBoard, SerialProtocol, Timing,
};
use crate::steps::{ReplyEnd, SerialStep};

use crate::link::SerialPortLink;
use crate::registry::{BoardDecl, Driver, OtherRow, PresetLayout, SerialDriver};

/// NeuroPawn Knight (BrainFlow id 57).
pub static NEUROPAWN_KNIGHT: BoardDecl = BoardDecl {
    id: BoardId::NeuropawnKnight,
    name: "neuropawn_knight",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"eeg_channels":[1,2,3,4,5,6,7,8],"marker_channel":12,"name":"Knight","num_rows":13,"other_channels":[9,10],"package_num_channel":0,"sampling_rate":125,"timestamp_channel":11}"#,
    }],
    // The two lead-off status bytes, raw (BrainFlow's other rows), which
    // open the IMU variant's list too.
    other_rows: IMU_OTHER_ROWS.split_at(2).0,
    brainflow_withheld_rows: [0; 3],
    brainflow_command_overrun: 0,
    driver: Driver::Serial(SerialDriver {
        baud: SerialPortLink::OPENBCI_BAUD,
        build: |params, opener| build(KnightFrame::Knight, params, opener),
    }),
    // The C++ implementation (ffi/cpp, built by ci/build-plugins.sh).
    cpp_plugin: Some("libboardloop_knight_cpp.so"),
};

/// The lead-off status bytes, then the IMU's nine floats as sent (accel in
/// g, gyro, mag: BrainFlow's 11 other rows, 9–19, in `KnightIMU::read_thread`'s order).
const IMU_OTHER_ROWS: &[OtherRow] = &[
    OtherRow {
        signal: "loff_statp",
        checked_by_default: true,
    },
    OtherRow {
        signal: "loff_statn",
        checked_by_default: true,
    },
    OtherRow {
        signal: "accel_x",
        checked_by_default: true,
    },
    OtherRow {
        signal: "accel_y",
        checked_by_default: true,
    },
    OtherRow {
        signal: "accel_z",
        checked_by_default: true,
    },
    OtherRow {
        signal: "gyro_x",
        checked_by_default: true,
    },
    OtherRow {
        signal: "gyro_y",
        checked_by_default: true,
    },
    OtherRow {
        signal: "gyro_z",
        checked_by_default: true,
    },
    OtherRow {
        signal: "mag_x",
        checked_by_default: true,
    },
    OtherRow {
        signal: "mag_y",
        checked_by_default: true,
    },
    OtherRow {
        signal: "mag_z",
        checked_by_default: true,
    },
];

/// NeuroPawn Knight IMU (BrainFlow id 66): the Knight's protocol with the
/// IMU packet ([`KnightFrame::Imu`]).
pub static NEUROPAWN_KNIGHT_IMU: BoardDecl = BoardDecl {
    id: BoardId::NeuropawnKnightImu,
    name: "neuropawn_knight_imu",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"eeg_channels":[1,2,3,4,5,6,7,8],"marker_channel":21,"name":"KnightIMU","num_rows":22,"other_channels":[9,10,11,12,13,14,15,16,17,18,19],"package_num_channel":0,"sampling_rate":125,"timestamp_channel":20}"#,
    }],
    other_rows: IMU_OTHER_ROWS,
    brainflow_withheld_rows: [0; 3],
    brainflow_command_overrun: 0,
    driver: Driver::Serial(SerialDriver {
        baud: SerialPortLink::OPENBCI_BAUD,
        build: |params, opener| build(KnightFrame::Imu, params, opener),
    }),
    cpp_plugin: None,
};

/// The session of the Knight that sends `frame`.
fn build(frame: KnightFrame, params: &InputParams, opener: LinkOpener) -> Box<dyn Board> {
    Box::new(KnightBoard::with_frame(
        frame,
        params.serial_port.clone(),
        opener,
        Timing::from_params(params),
    ))
}

/// How a Knight config reply ends: no terminator, so only when the device
/// goes idle; at most 4096 bytes are kept, as BrainFlow's buffer holds.
const REPLY_END: ReplyEnd = ReplyEnd {
    terminator: None,
    max_bytes: 4096,
    truncate: true,
};

/// The Knight protocol, of the model that sends `frame`.
#[derive(Clone, Copy, Debug, Default)]
pub struct KnightProtocol {
    /// Which Knight: the packet it sends.
    pub frame: KnightFrame,
}

impl SerialProtocol for KnightProtocol {
    const REPLY_END: ReplyEnd = REPLY_END;
    const REPLY_ERROR: ExitCode = ExitCode::BoardWrite;
    type Decoder = KnightDecoder;
    const READER_THREAD: &'static str = "boardloop-knight-reader";
    // BrainFlow's Knight checks a running stream before the buffer size.
    const STREAM_CHECK_FIRST: bool = true;

    fn board_id(&self) -> BoardId {
        match self.frame {
            KnightFrame::Knight => BoardId::NeuropawnKnight,
            KnightFrame::Imu => BoardId::NeuropawnKnightImu,
        }
    }

    fn decoder(&self) -> KnightDecoder {
        KnightDecoder::with_format(self.frame)
    }

    fn check_port(&self, port: &str) -> Result<()> {
        refuse_empty_port(port)
    }

    fn handshake(&self, _port: &str, _timing: &Timing) -> Option<SerialStep> {
        None
    }

    fn start(&self, port: &str, _timing: &Timing) -> SerialStep {
        discard_stale_input(port)
    }

    fn stop(&self, _port: &str, _timing: &Timing) -> Option<SerialStep> {
        // No stop command: the board streams on its own.
        None
    }
}

/// A NeuroPawn Knight or Knight IMU session.
pub type KnightBoard = SerialBoard<KnightProtocol>;

impl KnightBoard {
    /// A Knight session that opens its link with `opener` on
    /// `prepare_session`; `port_name` names it in messages (an empty name is
    /// refused, as BrainFlow refuses an empty `serial_port`).
    pub fn with_opener(port_name: String, opener: LinkOpener, timing: Timing) -> Self {
        Self::with_frame(KnightFrame::Knight, port_name, opener, timing)
    }

    /// The session of the Knight model that sends `frame` (the Knight IMU:
    /// [`KnightFrame::Imu`]), otherwise as [`KnightBoard::with_opener`].
    pub fn with_frame(
        frame: KnightFrame,
        port_name: String,
        opener: LinkOpener,
        timing: Timing,
    ) -> Self {
        Self::from_opener(KnightProtocol { frame }, port_name, opener, timing)
    }
}

#[cfg(test)]
mod tests;

//! The FreeEEG32, FreeEEG128 and IronBCI32 protocol, following BrainFlow
//! 5.23's `FreeEEG` class (`src/board_controller/freeeeg/freeeeg.cpp`, one
//! class for the three ids): the port is opened at 921600 baud, nothing is
//! ever sent (no handshake, no start or stop command: the board streams on
//! its own), `start_stream` discards stale input and starts reading, and
//! `config_board` is refused with `UNSUPPORTED_BOARD_ERROR`. Run by the
//! generic [`SerialBoard`]; the decoder is [`FreeEegDecoder`]. IronBCI32
//! differs from FreeEEG32 only in its name.

use crate::board::Board;
use crate::codec::freeeeg::{FreeEegDecoder, CHANNELS_128, CHANNELS_32};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::registry::{BoardDecl, Driver, PresetLayout, SerialDriver};
use crate::serial_board::{
    discard_stale_input, refuse_empty_port, LinkOpener, SerialBoard, SerialProtocol, Timing,
};
use crate::steps::{ReplyEnd, SerialStep};

/// BrainFlow's `set_custom_baudrate (921600)`.
const BAUD: u32 = 921_600;

/// Rows BrainFlow's own driver keeps back per stream: the first packet it
/// completes, dropped since it may have started mid-packet. (It completes
/// every later packet when the next one's start byte arrives; the last one
/// sent, once a 1-s read times out and the byte after its end byte is read
/// from the buffer's stale copy of the previous start byte. Measured on our
/// emulator: 2047 rows of 2048 packets, the first missing.)
const BRAINFLOW_WITHHELD: [usize; 3] = [1, 0, 0];

/// FreeEEG32 (BrainFlow id 17).
pub static FREEEEG32: BoardDecl = BoardDecl {
    id: BoardId::FreeEeg32,
    name: "freeeeg32",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"ecg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32],"eeg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32],"emg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32],"marker_channel":34,"name":"FreeEEG32","num_rows":35,"package_num_channel":0,"sampling_rate":512,"timestamp_channel":33}"#,
    }],
    other_rows: &[],
    brainflow_withheld_rows: BRAINFLOW_WITHHELD,
    brainflow_command_overrun: 0,
    driver: Driver::Serial(SerialDriver {
        baud: BAUD,
        build: |params, opener| build(BoardId::FreeEeg32, params, opener),
    }),
    cpp_plugin: None,
};

/// FreeEEG128 (BrainFlow id 52).
pub static FREEEEG128: BoardDecl = BoardDecl {
    id: BoardId::FreeEeg128,
    name: "freeeeg128",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"ecg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127,128],"eeg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127,128],"emg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127,128],"marker_channel":130,"name":"FreeEEG128","num_rows":131,"package_num_channel":0,"sampling_rate":256,"timestamp_channel":129}"#,
    }],
    other_rows: &[],
    brainflow_withheld_rows: BRAINFLOW_WITHHELD,
    brainflow_command_overrun: 0,
    driver: Driver::Serial(SerialDriver {
        baud: BAUD,
        build: |params, opener| build(BoardId::FreeEeg128, params, opener),
    }),
    cpp_plugin: None,
};

/// IronBCI32 (BrainFlow id 65): FreeEEG32's protocol and layout.
pub static IRONBCI32: BoardDecl = BoardDecl {
    id: BoardId::IronBci32,
    name: "ironbci32",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"ecg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32],"eeg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32],"emg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32],"marker_channel":34,"name":"IronBCI32","num_rows":35,"package_num_channel":0,"sampling_rate":512,"timestamp_channel":33}"#,
    }],
    other_rows: &[],
    brainflow_withheld_rows: BRAINFLOW_WITHHELD,
    brainflow_command_overrun: 0,
    driver: Driver::Serial(SerialDriver {
        baud: BAUD,
        build: |params, opener| build(BoardId::IronBci32, params, opener),
    }),
    cpp_plugin: None,
};

/// The session of `id` (one of the three FreeEEG-family ids).
fn build(id: BoardId, params: &InputParams, opener: LinkOpener) -> Box<dyn Board> {
    Box::new(SerialBoard::from_opener(
        FreeEegProtocol::new(id),
        params.serial_port.clone(),
        opener,
        Timing::from_params(params),
    ))
}

/// The protocol of the FreeEEG family; `id` picks the channel count.
pub struct FreeEegProtocol {
    id: BoardId,
}

impl FreeEegProtocol {
    /// The protocol of `id` (FreeEEG128 has 128 channels; FreeEEG32 and
    /// IronBCI32 have 32).
    pub fn new(id: BoardId) -> Self {
        FreeEegProtocol { id }
    }

    fn channels(&self) -> usize {
        match self.id {
            BoardId::FreeEeg128 => CHANNELS_128,
            _ => CHANNELS_32,
        }
    }
}

impl SerialProtocol for FreeEegProtocol {
    // No command is ever sent, so no reply is read; kept for the trait.
    const REPLY_END: ReplyEnd = ReplyEnd {
        terminator: None,
        max_bytes: 0,
        truncate: true,
    };
    const REPLY_ERROR: ExitCode = ExitCode::UnsupportedBoard;
    type Decoder = FreeEegDecoder;
    const READER_THREAD: &'static str = "boardloop-freeeeg-reader";
    // BrainFlow's FreeEEG checks a running stream before the buffer size.
    const STREAM_CHECK_FIRST: bool = true;

    fn board_id(&self) -> BoardId {
        self.id
    }

    fn decoder(&self) -> FreeEegDecoder {
        FreeEegDecoder::new(self.channels())
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
        None
    }

    fn check_config(&self, _decoder: &FreeEegDecoder, _config: &str) -> Result<()> {
        // BrainFlow: "FreeEEG doesn't support board configuration."
        Err(BoardError::new(
            ExitCode::UnsupportedBoard,
            "FreeEEG doesn't support board configuration",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Board;
    use crate::link::{MemoryLink, SerialLink};

    fn packet(counter: u8, channels: usize) -> Vec<u8> {
        let mut p = vec![0xA0, counter];
        for ch in 0..channels {
            p.extend_from_slice(&((ch as i32 - 16) * 1000).to_be_bytes()[1..]);
        }
        p.push(0xC0);
        p
    }

    #[test]
    fn streams_without_sending_anything_and_refuses_config() {
        for (id, channels, rows) in [
            (BoardId::FreeEeg32, 32, 35),
            (BoardId::IronBci32, 32, 35),
            (BoardId::FreeEeg128, 128, 131),
        ] {
            let (host, mut device) = MemoryLink::pair();
            let mut board = SerialBoard::from_link(
                FreeEegProtocol::new(id),
                Box::new(host) as Box<dyn SerialLink>,
                Timing::default(),
            );
            board.prepare_session().unwrap();
            assert_eq!(
                board.config_board("x").unwrap_err().code,
                ExitCode::UnsupportedBoard
            );
            board.start_stream(1000).unwrap();
            for c in 0..5u8 {
                device.write_all(&packet(c, channels)).unwrap();
            }
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while board.get_board_data_count(Preset::Default).unwrap() < 5 {
                assert!(std::time::Instant::now() < deadline, "rows never arrived");
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            board.stop_stream().unwrap();
            let data = board.get_board_data(None, Preset::Default).unwrap();
            assert_eq!((data.num_rows, data.num_samples), (rows, 5));
            assert_eq!(data.row(0), [0.0, 1.0, 2.0, 3.0, 4.0]);
            board.release_session().unwrap();
            // The driver wrote nothing to the device.
            let mut buf = [0u8; 16];
            assert_eq!(device.read(&mut buf, std::time::Duration::ZERO).unwrap(), 0);
        }
    }
}

//! The OpenBCI Cyton and Cyton+Daisy protocol, following BrainFlow's
//! `OpenBCISerialBoard` (handshake `v` then `d`, `b`/`s`, config with a
//! `$$$`-terminated reply), as sans-IO steps run by the generic
//! [`SerialBoard`]; the decoder is [`CytonDecoder`].

use std::time::Duration;

use crate::codec::cyton::{CytonDecoder, CytonVariant, DaisyPairing};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::link::SerialLink;
use crate::serial_board::{SerialBoard, SerialProtocol};
use crate::steps::{Command, Next, ReplyEnd, Resume, SerialIo, SerialStep, Step};
// Shared by every serial board; re-exported here, where they were first
// defined, so `cyton_board::Timing` and friends keep working.
pub use crate::serial_board::{LinkOpener, Timing, MAX_CAPTURE_SAMPLES};

use crate::link::SerialPortLink;
use crate::registry::{BoardDecl, Driver, OtherRow, PresetLayout, SerialDriver};

/// The OpenBCI boards put the packet's end byte (0xC0-0xC6) in the first
/// "other" row; checked only where a scenario asks (it changes with the mode).
const END_BYTE_ROW: &[OtherRow] = &[OtherRow {
    signal: "end_byte",
    checked_by_default: false,
}];

/// OpenBCI Cyton (BrainFlow id 0).
pub static CYTON: BoardDecl = BoardDecl {
    id: BoardId::Cyton,
    name: "cyton",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"accel_channels":[9,10,11],"analog_channels":[19,20,21],"ecg_channels":[1,2,3,4,5,6,7,8],"eeg_channels":[1,2,3,4,5,6,7,8],"eeg_names":"Fp1,Fp2,C3,C4,P7,P8,O1,O2","emg_channels":[1,2,3,4,5,6,7,8],"eog_channels":[1,2,3,4,5,6,7,8],"marker_channel":23,"name":"Cyton","num_rows":24,"other_channels":[12,13,14,15,16,17,18],"package_num_channel":0,"sampling_rate":250,"timestamp_channel":22}"#,
    }],
    other_rows: END_BYTE_ROW,
    brainflow_withheld_rows: [0; 3],
    brainflow_command_overrun: 0,
    driver: Driver::Serial(SerialDriver {
        baud: SerialPortLink::OPENBCI_BAUD,
        build: |params, opener| {
            Box::new(CytonBoard::with_opener(
                CytonVariant::Cyton,
                params.serial_port.clone(),
                opener,
                Timing::from_params(params),
            ))
        },
    }),
    cpp_plugin: None,
};

/// OpenBCI Cyton with the Daisy module (BrainFlow id 2).
pub static CYTON_DAISY: BoardDecl = BoardDecl {
    id: BoardId::CytonDaisy,
    name: "cyton_daisy",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"accel_channels":[17,18,19],"analog_channels":[27,28,29],"ecg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eeg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eeg_names":"Fp1,Fp2,C3,C4,P7,P8,O1,O2,F7,F8,F3,F4,T7,T8,P3,P4","emg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eog_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"marker_channel":31,"name":"CytonDaisy","num_rows":32,"other_channels":[20,21,22,23,24,25,26],"package_num_channel":0,"sampling_rate":125,"timestamp_channel":30}"#,
    }],
    other_rows: END_BYTE_ROW,
    brainflow_withheld_rows: [0; 3],
    brainflow_command_overrun: 0,
    driver: Driver::Serial(SerialDriver {
        baud: SerialPortLink::OPENBCI_BAUD,
        build: |params, opener| {
            Box::new(CytonBoard::with_opener(
                CytonVariant::Daisy,
                params.serial_port.clone(),
                opener,
                Timing::from_params(params),
            ))
        },
    }),
    cpp_plugin: None,
};

/// Longest handshake banner BrainFlow reads before giving up.
const MAX_BANNER_BYTES: usize = 500;
/// Largest chunk one banner read asks for.
const BANNER_CHUNK: usize = 64;

/// How a Cyton config reply ends: the firmware closes it with `$$$`; the
/// limit only stops a babbling device from hanging a call.
const REPLY_END: ReplyEnd = ReplyEnd {
    terminator: Some(b"$$$"),
    max_bytes: 64 * 1024,
    truncate: false,
};

fn preview(bytes: &[u8]) -> String {
    let n = bytes.len().min(120);
    format!("{:?}", String::from_utf8_lossy(&bytes[..n]))
}

/// BrainFlow's `status_check`: `v` until `$$$` appears within 500 bytes,
/// then `d` (channel defaults), whose reply must not start with `Failure`.
pub struct Handshake {
    port: String,
    timing: Timing,
    phase: Phase,
    /// When `v` was written: the banner's deadlines count from there.
    since: Duration,
    /// The banner so far.
    got: Vec<u8>,
    /// Consecutive empty banner reads.
    empty: u32,
}

enum Phase {
    Clearing,
    WritingV,
    Banner,
    Defaults(Command),
}

impl Handshake {
    /// The handshake with the board on `port` (named in messages).
    pub fn new(port: &str, timing: &Timing) -> Self {
        Handshake {
            port: port.to_owned(),
            timing: timing.clone(),
            phase: Phase::Clearing,
            since: Duration::ZERO,
            got: Vec::new(),
            empty: 0,
        }
    }

    fn not_ready(&self, why: &str, now: Duration) -> Next<SerialIo> {
        Next::Finished(Err(BoardError::new(
            ExitCode::BoardNotReady,
            format!(
                "board on {} is not ready: {why} after {:.1} s; received {} bytes: {}",
                self.port,
                now.saturating_sub(self.since).as_secs_f64(),
                self.got.len(),
                preview(&self.got)
            ),
        )))
    }

    /// The next banner read, or the verdict that there will be none.
    fn read_banner(&self, now: Duration) -> Next<SerialIo> {
        if self.got.len() >= MAX_BANNER_BYTES {
            return self.not_ready("no '$$$' in the first 500 bytes", now);
        }
        let timeout = match self.timing.total_timeout {
            Some(total) => {
                let left = total.saturating_sub(now.saturating_sub(self.since));
                if left.is_zero() {
                    return self.not_ready("no '$$$' (timeout)", now);
                }
                left.min(self.timing.read_timeout)
            }
            None => self.timing.read_timeout,
        };
        Next::Do(SerialIo::Read {
            max: (MAX_BANNER_BYTES - self.got.len()).min(BANNER_CHUNK),
            timeout,
        })
    }
}

impl Step<SerialIo> for Handshake {
    fn resume(&mut self, input: Resume<'_>, now: Duration) -> Next<SerialIo> {
        match &mut self.phase {
            // Stale bytes from an earlier session would confuse the banner
            // search; a failed clear is no reason to give up.
            Phase::Clearing => match input {
                Resume::Start => Next::Do(SerialIo::ClearInput),
                _ => {
                    self.phase = Phase::WritingV;
                    Next::Do(SerialIo::Write(b"v".to_vec()))
                }
            },
            Phase::WritingV => {
                if let Resume::Failed(e) = input {
                    return Next::Finished(Err(BoardError::new(
                        ExitCode::BoardWrite,
                        format!("unable to write 'v' to {}: {e}", self.port),
                    )));
                }
                self.phase = Phase::Banner;
                self.since = now;
                self.read_banner(now)
            }
            Phase::Banner => {
                match input {
                    Resume::Bytes(b) => {
                        self.empty = 0;
                        self.got.extend_from_slice(b);
                        if self.got.windows(3).any(|w| w == b"$$$") {
                            tracing::debug!(
                                port = %self.port,
                                banner = %String::from_utf8_lossy(&self.got),
                                "board answered 'v'"
                            );
                            let mut d = Command::new(&self.port).write(b"d", "'d'").reply(
                                REPLY_END,
                                &self.timing,
                                ExitCode::BoardNotReady,
                            );
                            let next = d.resume(Resume::Start, now);
                            self.phase = Phase::Defaults(d);
                            return next;
                        }
                    }
                    Resume::TimedOut => {
                        self.empty += 1;
                        if self.timing.total_timeout.is_none()
                            && self.empty > self.timing.max_empty_reads
                        {
                            return self.not_ready("no '$$$'", now);
                        }
                    }
                    Resume::Failed(e) => return self.not_ready(&format!("read failed ({e})"), now),
                    Resume::Start | Resume::Done => {}
                }
                self.read_banner(now)
            }
            Phase::Defaults(d) => match d.resume(input, now) {
                Next::Finished(Ok(reply)) if reply.starts_with("Failure") => {
                    Next::Finished(Err(BoardError::new(
                        ExitCode::BoardNotReady,
                        format!("board on {} refused defaults: {reply:?}", self.port),
                    )))
                }
                next => next,
            },
        }
    }
}

/// The Cyton protocol for one variant (Cyton, or Cyton with Daisy).
pub struct CytonProtocol {
    variant: CytonVariant,
}

impl CytonProtocol {
    /// The protocol of `variant`.
    pub fn new(variant: CytonVariant) -> Self {
        CytonProtocol { variant }
    }
}

impl SerialProtocol for CytonProtocol {
    const REPLY_END: ReplyEnd = REPLY_END;
    const REPLY_ERROR: ExitCode = ExitCode::IncommingMsg;
    type Decoder = CytonDecoder;
    const READER_THREAD: &'static str = "boardloop-cyton-reader";

    fn board_id(&self) -> BoardId {
        match self.variant {
            CytonVariant::Cyton => BoardId::Cyton,
            CytonVariant::Daisy => BoardId::CytonDaisy,
        }
    }

    fn decoder(&self) -> CytonDecoder {
        CytonDecoder::new(self.variant)
    }

    fn handshake(&self, port: &str, timing: &Timing) -> Option<SerialStep> {
        Some(Box::new(Handshake::new(port, timing)))
    }

    fn handshake_done(&self, decoder: &mut CytonDecoder) {
        decoder.apply_config("d");
    }

    fn start(&self, port: &str, _timing: &Timing) -> SerialStep {
        // Leftover replies must not be decoded as the first packets.
        Box::new(Command::new(port).clear_input(None).write(b"b", "'b'"))
    }

    fn stop(&self, port: &str, _timing: &Timing) -> Option<SerialStep> {
        Some(Box::new(Command::new(port).write(b"s", "'s'")))
    }

    fn check_config(&self, decoder: &CytonDecoder, config: &str) -> Result<()> {
        decoder
            .check_config(config)
            .map_err(|e| BoardError::new(ExitCode::InvalidArguments, e))
    }

    fn config_done(&self, decoder: &mut CytonDecoder, config: &str, reply: &str) {
        // The firmware leaves settings unchanged when it answers "Failure".
        if !reply.starts_with("Failure") {
            decoder.apply_config(config);
        }
    }
}

/// An OpenBCI Cyton or Cyton+Daisy session.
pub type CytonBoard = SerialBoard<CytonProtocol>;

impl CytonBoard {
    /// A session over an already-open link (e.g. a [`crate::link::MemoryLink`]).
    pub fn with_link(variant: CytonVariant, link: Box<dyn SerialLink>, timing: Timing) -> Self {
        Self::from_link(CytonProtocol::new(variant), link, timing)
    }

    /// A session that opens its link with `opener` on `prepare_session`;
    /// `port_name` is used in messages.
    pub fn with_opener(
        variant: CytonVariant,
        port_name: String,
        opener: LinkOpener,
        timing: Timing,
    ) -> Self {
        Self::from_opener(CytonProtocol::new(variant), port_name, opener, timing)
    }

    /// Chooses how Daisy packets become rows (see [`DaisyPairing`]); takes
    /// effect for packets decoded from now on.
    pub fn set_daisy_pairing(&mut self, pairing: DaisyPairing) {
        self.with_decoder(|d| d.set_daisy_pairing(pairing));
    }

    /// Current channel gains as tracked from configuration commands.
    pub fn gains(&self) -> Vec<f64> {
        self.with_decoder(|d| d.gains().to_vec())
    }
}

#[cfg(test)]
mod tests;

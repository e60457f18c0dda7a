//! The Shimmer3 protocol (BrainFlow id 68), following BrainFlow 5.23's
//! `Shimmer3` class (`src/board_controller/shimmer/shimmer3.cpp`; the pip
//! package's `libBoardController.so` carries the same log strings). The port
//! is a Bluetooth SPP link (`/dev/rfcomm0`); every command is answered with
//! an ACK (0xFF), then a response for the getters:
//!
//! * `prepare_session`: `GET_SHIMMER_VERSION` (0x3F → ACK, 0x25, version;
//!   only 3, Shimmer3, is accepted), `GET_FW_VERSION` (0x2E → ACK, 0x2F, 6
//!   bytes; failure only warns), `SET_INSTREAM_RESPONSE_ACK_PREFIX_STATE 0`
//!   (0xA3 0x00 → ACK; failure only warns), `INQUIRY` (0x01 → ACK, 0x02, the
//!   layout: see [`Inquiry`]).
//! * `start_stream`: `START_STREAMING` (0x07 → ACK), then data packets.
//! * `stop_stream`: `STOP_STREAMING` (0x20; no ACK waited for), then what
//!   still arrives is drained.
//! * `config_board`: `sampling_rate:<Hz>` (0x05, divider u16 LE → ACK) and
//!   `sensors:<hex>` (0x08, 24-bit bitmap LE → ACK), each followed by a new
//!   inquiry; refused while streaming; the reply is `OK`.
//!
//! Where this driver differs from BrainFlow's, it follows the device: loss
//! and garbage are found from the packets' timestamps (see
//! [`crate::codec::shimmer3`]), so row 0 holds the sample's index on the
//! device's clock (BrainFlow: a host counter that hides gaps). BrainFlow's
//! `start_stream` also waits for the first data packet (SYNC_TIMEOUT_ERROR
//! after `timeout`); this one returns once the device has acknowledged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::board::Board;
use crate::codec::shimmer3::{Inquiry, Shimmer3Decoder};
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::registry::{BoardDecl, Driver, OtherRow, PresetLayout, SerialDriver};
use crate::serial_board::{refuse_empty_port, LinkOpener, SerialBoard, SerialProtocol, Timing};
use crate::steps::{Command, Next, ReplyEnd, Resume, SerialIo, SerialStep, Step};

/// The port's rate. BrainFlow's `set_serial_port_settings` keeps its
/// default (115200); an rfcomm link ignores it.
const BAUD: u32 = 115_200;

/// Opcodes (`shimmer3_defines.h`, `enum Opcode`).
mod op {
    pub const INQUIRY: u8 = 0x01;
    pub const INQUIRY_RESPONSE: u8 = 0x02;
    pub const SET_SAMPLING_RATE: u8 = 0x05;
    pub const START_STREAMING: u8 = 0x07;
    pub const SET_SENSORS: u8 = 0x08;
    pub const STOP_STREAMING: u8 = 0x20;
    pub const DEVICE_VERSION_RESPONSE: u8 = 0x25;
    pub const GET_FW_VERSION: u8 = 0x2E;
    pub const FW_VERSION_RESPONSE: u8 = 0x2F;
    pub const GET_SHIMMER_VERSION: u8 = 0x3F;
    pub const INSTREAM_CMD_RESPONSE: u8 = 0x8A;
    pub const SET_INSTREAM_RESPONSE_ACK_PREFIX_STATE: u8 = 0xA3;
    pub const ACK: u8 = 0xFF;
}

/// The only hardware version BrainFlow accepts (`HW_VERSION_SHIMMER3`).
const HW_VERSION_SHIMMER3: u8 = 3;
/// BrainFlow's `wait_for_ack` gives up after this many other bytes.
const ACK_TRIES: usize = 512;
/// BrainFlow's `read_exact` fails after more than this many empty reads.
const MAX_IDLE_READS: u32 = 2;

/// Sensor bits BrainFlow lets `sensors:` set (`SUPPORTED_SENSORS`), and the
/// groups of which at most one may be set (one accel, one magnetometer, one
/// width per ExG chip: they would share rows).
const SUPPORTED_SENSORS: u32 = 0xFC_BFFF;
const EXCLUSIVE: [u32; 4] = [0x40_1080, 0x20_0020, 0x10_0010, 0x08_0008];

/// Shimmer3 (BrainFlow id 68).
pub static SHIMMER3: BoardDecl = BoardDecl {
    id: BoardId::Shimmer3,
    name: "shimmer3",
    layouts: &[PresetLayout {
        preset: Preset::Default,
        json: r#"{"accel_channels":[1,2,3],"battery_channel":16,"ecg_channels":[10,11,12,13],"eda_channels":[14],"gyro_channels":[4,5,6],"magnetometer_channels":[7,8,9],"marker_channel":19,"name":"Shimmer3","num_rows":20,"other_channels":[17],"package_num_channel":0,"sampling_rate":512,"temperature_channels":[15],"timestamp_channel":18}"#,
    }],
    // Row 17 holds the first enabled channel without a row of its own; in
    // the profile's layout that is the BMP pressure.
    other_rows: &[OtherRow {
        signal: "pressure",
        checked_by_default: true,
    }],
    brainflow_withheld_rows: [0, 0, 0],
    brainflow_command_overrun: 0,
    driver: Driver::Serial(SerialDriver {
        baud: BAUD,
        build: |params, opener| build(params, opener),
    }),
    cpp_plugin: None,
};

fn build(params: &InputParams, opener: LinkOpener) -> Box<dyn Board> {
    Box::new(SerialBoard::from_opener(
        Shimmer3Protocol::new(),
        params.serial_port.clone(),
        opener,
        Timing::from_params(params),
    ))
}

/// The Shimmer3 protocol. The inquiry a step reads is handed to the decoder
/// through `inquiry` (steps return text, and the layout is binary).
#[derive(Default)]
pub struct Shimmer3Protocol {
    inquiry: Arc<Mutex<Option<Inquiry>>>,
}

impl Shimmer3Protocol {
    /// A protocol with no inquiry read yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn take_inquiry(&self, decoder: &mut Shimmer3Decoder) {
        let taken = self.inquiry.lock().map(|mut s| s.take());
        if let Ok(Some(inq)) = taken {
            decoder.set_layout(inq);
        }
    }
}

/// One operation of an [`Exchange`].
#[derive(Clone, Debug)]
enum Op {
    /// Write these bytes (the exchange's `what` names them in messages).
    Write(Vec<u8>),
    /// Read until an ACK, skipping in-stream responses (`wait_for_ack`).
    Ack,
    /// Read one byte that must be this opcode.
    Expect(u8),
    /// Read this many bytes into the exchange's reply.
    Take(usize),
    /// Read as many bytes as the reply's byte at this index says.
    TakeCounted(usize),
}

/// What an exchange's reply means once read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Then {
    Nothing,
    /// The reply is the hardware version: it must be Shimmer3's.
    HwVersion,
    /// The reply is an inquiry response body.
    Inquiry,
}

/// One command and its answer; a failure ends the step if `required`,
/// else it is logged and the next exchange runs (BrainFlow's warnings).
#[derive(Clone, Debug)]
struct Exchange {
    what: &'static str,
    ops: Vec<Op>,
    required: bool,
    then: Then,
}

impl Exchange {
    fn getter(what: &'static str, cmd: u8, response: u8, len: usize, then: Then) -> Self {
        Exchange {
            what,
            ops: vec![
                Op::Write(vec![cmd]),
                Op::Ack,
                Op::Expect(response),
                Op::Take(len),
            ],
            required: true,
            then,
        }
    }

    fn setter(what: &'static str, bytes: Vec<u8>) -> Self {
        Exchange {
            what,
            ops: vec![Op::Write(bytes), Op::Ack],
            required: true,
            then: Then::Nothing,
        }
    }

    fn inquiry() -> Self {
        let mut e = Exchange::getter(
            "INQUIRY",
            op::INQUIRY,
            op::INQUIRY_RESPONSE,
            Inquiry::HEADER,
            Then::Inquiry,
        );
        e.ops.push(Op::TakeCounted(6));
        e
    }

    fn optional(mut self) -> Self {
        self.required = false;
        self
    }
}

/// A sans-IO script of [`Exchange`]s over the binary command protocol:
/// reads one byte at a time while waiting for ACKs and opcodes (as BrainFlow
/// does, so no data byte behind them is consumed), fails a read after
/// [`MAX_IDLE_READS`] + 1 consecutive empty reads (`GENERAL_ERROR`, as
/// BrainFlow's `read_exact`), and stores an inquiry for the decoder.
struct Script {
    port: String,
    exchanges: Vec<Exchange>,
    ex: usize,
    op: usize,
    reply: Vec<u8>,
    /// Bytes still wanted by a Take.
    want: usize,
    empty_reads: u32,
    ack_bytes: usize,
    skip_next: bool,
    read_timeout: Duration,
    inquiry: Arc<Mutex<Option<Inquiry>>>,
    done_text: &'static str,
}

impl Script {
    fn new(
        port: &str,
        timing: &Timing,
        exchanges: Vec<Exchange>,
        inquiry: Arc<Mutex<Option<Inquiry>>>,
        done_text: &'static str,
    ) -> Self {
        Script {
            port: port.to_owned(),
            exchanges,
            ex: 0,
            op: 0,
            reply: Vec::new(),
            want: 0,
            empty_reads: 0,
            ack_bytes: 0,
            skip_next: false,
            read_timeout: timing.read_timeout,
            inquiry,
            done_text,
        }
    }

    fn read(&self, max: usize) -> Next<SerialIo> {
        Next::Do(SerialIo::Read {
            max: max.max(1),
            timeout: self.read_timeout,
        })
    }

    /// The exchange failed: end the step, or warn and go on.
    fn fail(&mut self, code: ExitCode, why: String) -> Next<SerialIo> {
        let e = &self.exchanges[self.ex];
        let msg = format!("{} on {}: {why}", e.what, self.port);
        if e.required {
            return Next::Finished(Err(BoardError::new(code, msg)));
        }
        tracing::warn!("{msg}; going on");
        self.next_exchange()
    }

    fn next_exchange(&mut self) -> Next<SerialIo> {
        self.ex += 1;
        self.op = 0;
        self.reply.clear();
        self.begin_op()
    }

    /// Starts the current op (or finishes the exchange).
    fn begin_op(&mut self) -> Next<SerialIo> {
        let Some(e) = self.exchanges.get(self.ex) else {
            return Next::Finished(Ok(self.done_text.to_owned()));
        };
        self.empty_reads = 0;
        self.ack_bytes = 0;
        self.skip_next = false;
        let Some(op) = e.ops.get(self.op).cloned() else {
            return self.exchange_done();
        };
        match op {
            Op::Write(bytes) => Next::Do(SerialIo::Write(bytes)),
            Op::Ack | Op::Expect(_) => self.read(1),
            Op::Take(n) => {
                self.want = n;
                self.take_more()
            }
            Op::TakeCounted(at) => {
                self.want = usize::from(self.reply.get(at).copied().unwrap_or(0));
                self.take_more()
            }
        }
    }

    fn take_more(&mut self) -> Next<SerialIo> {
        if self.want == 0 {
            self.op += 1;
            return self.begin_op();
        }
        self.read(self.want)
    }

    fn exchange_done(&mut self) -> Next<SerialIo> {
        let then = self.exchanges[self.ex].then;
        match then {
            Then::Nothing => {}
            Then::HwVersion => {
                let hw = self.reply.first().copied().unwrap_or(0);
                if hw != HW_VERSION_SHIMMER3 {
                    return self.fail(
                        ExitCode::BoardNotReady,
                        format!(
                            "unsupported hardware version {hw} (Shimmer3 is {HW_VERSION_SHIMMER3})"
                        ),
                    );
                }
            }
            Then::Inquiry => match Inquiry::parse(&self.reply) {
                Ok(inq) => {
                    tracing::info!(
                        "inquiry: {} Hz, {} channels, buffer size {}",
                        inq.sampling_rate(),
                        inq.channels.len(),
                        inq.buffer_size
                    );
                    if let Ok(mut slot) = self.inquiry.lock() {
                        *slot = Some(inq);
                    }
                }
                Err(e) => return self.fail(ExitCode::BoardNotReady, e.to_string()),
            },
        }
        self.next_exchange()
    }

    fn on_bytes(&mut self, bytes: &[u8]) -> Next<SerialIo> {
        self.empty_reads = 0;
        let current = self.exchanges[self.ex].ops[self.op].clone();
        match current {
            Op::Ack => {
                for &b in bytes {
                    if self.skip_next {
                        self.skip_next = false;
                    } else if b == op::ACK {
                        self.op += 1;
                        return self.begin_op();
                    } else if b == op::INSTREAM_CMD_RESPONSE {
                        self.skip_next = true;
                    }
                    self.ack_bytes += 1;
                    if self.ack_bytes >= ACK_TRIES {
                        return self.fail(ExitCode::BoardNotReady, "no ACK received".into());
                    }
                }
                self.read(1)
            }
            Op::Expect(want) => {
                let got = bytes[0];
                if got != want {
                    return self.fail(
                        ExitCode::GeneralError,
                        format!("expected response 0x{want:02X}, got 0x{got:02X}"),
                    );
                }
                self.op += 1;
                self.begin_op()
            }
            Op::Take(_) | Op::TakeCounted(_) => {
                let n = bytes.len().min(self.want);
                self.reply.extend_from_slice(&bytes[..n]);
                self.want -= n;
                if self.want == 0 {
                    self.op += 1;
                    return self.begin_op();
                }
                self.read(self.want)
            }
            Op::Write(_) => self.read(1),
        }
    }
}

impl Step<SerialIo> for Script {
    fn resume(&mut self, input: Resume<'_>, _elapsed: Duration) -> Next<SerialIo> {
        match input {
            Resume::Start => self.begin_op(),
            Resume::Done => {
                // A write completed.
                self.op += 1;
                self.begin_op()
            }
            Resume::Bytes([]) => self.on_timeout(),
            Resume::Bytes(b) => self.on_bytes(b),
            Resume::TimedOut => self.on_timeout(),
            Resume::Failed(e) => {
                let writing =
                    matches!(self.exchanges[self.ex].ops.get(self.op), Some(Op::Write(_)));
                let code = if writing {
                    ExitCode::BoardWrite
                } else {
                    ExitCode::GeneralError
                };
                // A dead link fails even an optional exchange.
                let msg = format!("{} on {}: {e}", self.exchanges[self.ex].what, self.port);
                Next::Finished(Err(BoardError::new(code, msg)))
            }
        }
    }
}

impl Script {
    fn on_timeout(&mut self) -> Next<SerialIo> {
        self.empty_reads += 1;
        if self.empty_reads > MAX_IDLE_READS {
            return self.fail(ExitCode::GeneralError, "serial read timeout".into());
        }
        match self.exchanges[self.ex].ops[self.op] {
            Op::Take(_) | Op::TakeCounted(_) => self.read(self.want),
            _ => self.read(1),
        }
    }
}

/// The step that finishes at once with `err` (a config refused while
/// streaming).
struct Refuse(Option<BoardError>);

impl Step<SerialIo> for Refuse {
    fn resume(&mut self, _input: Resume<'_>, _elapsed: Duration) -> Next<SerialIo> {
        Next::Finished(Err(self.0.take().unwrap_or_else(|| {
            BoardError::new(ExitCode::InvalidArguments, "refused")
        })))
    }
}

/// A parsed `config_board` string.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Config {
    /// `sampling_rate:<Hz>`: the divider to send.
    Divider(u16),
    /// `sensors:<hex>`: the bitmap to send.
    Sensors(u32),
}

fn invalid(what: &str) -> BoardError {
    BoardError::new(ExitCode::InvalidArguments, what)
}

/// Parses and checks `config` as BrainFlow's `config_board` does.
fn parse_config(config: &str) -> Result<Config> {
    if let Some(v) = config.strip_prefix("sampling_rate:") {
        let hz: f64 = v.parse().map_err(|_| invalid("INVALID_SAMPLING_RATE"))?;
        let divider = 32768.0 / hz;
        if !hz.is_finite() || hz <= 0.0 || !(1.0..=65535.0).contains(&divider) {
            return Err(invalid("INVALID_SAMPLING_RATE"));
        }
        return Ok(Config::Divider(divider.round() as u16));
    }
    if let Some(v) = config.strip_prefix("sensors:") {
        let bits = u32::from_str_radix(v, 16).map_err(|_| invalid("INVALID_SENSORS"))?;
        let one_each = EXCLUSIVE.iter().all(|g| (bits & g).count_ones() <= 1);
        if v.is_empty() || bits > 0xFF_FFFF || bits & !SUPPORTED_SENSORS != 0 || !one_each {
            return Err(invalid("INVALID_SENSORS"));
        }
        return Ok(Config::Sensors(bits));
    }
    Err(invalid("UNKNOWN_COMMAND"))
}

impl SerialProtocol for Shimmer3Protocol {
    // Replies are binary and read by the steps themselves; kept for the trait.
    const REPLY_END: ReplyEnd = ReplyEnd {
        terminator: None,
        max_bytes: 0,
        truncate: true,
    };
    const REPLY_ERROR: ExitCode = ExitCode::GeneralError;
    type Decoder = Shimmer3Decoder;
    const READER_THREAD: &'static str = "boardloop-shimmer3-reader";
    // BrainFlow's Shimmer3 checks a running stream before the buffer size.
    const STREAM_CHECK_FIRST: bool = true;

    fn board_id(&self) -> BoardId {
        BoardId::Shimmer3
    }

    fn decoder(&self) -> Shimmer3Decoder {
        Shimmer3Decoder::new()
    }

    fn check_port(&self, port: &str) -> Result<()> {
        refuse_empty_port(port)
    }

    fn handshake(&self, port: &str, timing: &Timing) -> Option<SerialStep> {
        let exchanges = vec![
            Exchange::getter(
                "GET_SHIMMER_VERSION",
                op::GET_SHIMMER_VERSION,
                op::DEVICE_VERSION_RESPONSE,
                1,
                Then::HwVersion,
            ),
            Exchange::getter(
                "GET_FW_VERSION",
                op::GET_FW_VERSION,
                op::FW_VERSION_RESPONSE,
                6,
                Then::Nothing,
            )
            .optional(),
            Exchange::setter(
                "SET_INSTREAM_RESPONSE_ACK_PREFIX_STATE",
                vec![op::SET_INSTREAM_RESPONSE_ACK_PREFIX_STATE, 0x00],
            )
            .optional(),
            Exchange::inquiry(),
        ];
        Some(Box::new(Script::new(
            port,
            timing,
            exchanges,
            self.inquiry.clone(),
            "",
        )))
    }

    fn handshake_done(&self, decoder: &mut Shimmer3Decoder) {
        self.take_inquiry(decoder);
    }

    fn start(&self, port: &str, timing: &Timing) -> SerialStep {
        Box::new(Script::new(
            port,
            timing,
            vec![Exchange::setter(
                "START_STREAMING",
                vec![op::START_STREAMING],
            )],
            self.inquiry.clone(),
            "",
        ))
    }

    fn stop(&self, port: &str, timing: &Timing) -> Option<SerialStep> {
        // The ACK and packets sent meanwhile are drained (BrainFlow: up to
        // 8 reads of 256 bytes); what they say does not matter.
        let drain = ReplyEnd {
            terminator: None,
            max_bytes: 8 * 256,
            truncate: true,
        };
        Some(Box::new(
            Command::new(port)
                .write(&[op::STOP_STREAMING], "STOP_STREAMING (0x20)")
                .reply(drain, timing, ExitCode::GeneralError),
        ))
    }

    fn check_config(&self, _decoder: &Shimmer3Decoder, config: &str) -> Result<()> {
        parse_config(config).map(drop)
    }

    fn config(&self, config: &str, streaming: bool, port: &str, timing: &Timing) -> SerialStep {
        if streaming {
            return Box::new(Refuse(Some(invalid("cannot configure while streaming"))));
        }
        let cmd = match parse_config(config) {
            Ok(Config::Divider(d)) => {
                let [lo, hi] = d.to_le_bytes();
                Exchange::setter("SET_SAMPLING_RATE", vec![op::SET_SAMPLING_RATE, lo, hi])
            }
            Ok(Config::Sensors(bits)) => {
                let [b0, b1, b2, _] = bits.to_le_bytes();
                Exchange::setter("SET_SENSORS", vec![op::SET_SENSORS, b0, b1, b2])
            }
            Err(e) => return Box::new(Refuse(Some(e))),
        };
        Box::new(Script::new(
            port,
            timing,
            vec![cmd, Exchange::inquiry()],
            self.inquiry.clone(),
            "OK",
        ))
    }

    fn config_done(&self, decoder: &mut Shimmer3Decoder, _config: &str, _reply: &str) {
        self.take_inquiry(decoder);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::fake::{self, FakeSerial};

    fn timing() -> Timing {
        Timing {
            read_timeout: Duration::from_millis(100),
            ..Timing::default()
        }
    }

    /// ACK, then an inquiry response: 512 Hz, 3 channels (WR accel).
    fn inquiry_reply() -> Vec<u8> {
        vec![0xFF, 0x02, 64, 0, 0, 0, 0, 0, 3, 1, 0x04, 0x05, 0x06]
    }

    fn handshake(
        reads: &[Option<&[u8]>],
    ) -> (Result<String>, fake::Trace<SerialIo>, Shimmer3Protocol) {
        let p = Shimmer3Protocol::new();
        let mut step = p.handshake("rfcomm0", &timing()).unwrap();
        let (r, t) = fake::serial(step.as_mut(), FakeSerial::script(reads));
        (r, t, p)
    }

    fn writes(t: &fake::Trace<SerialIo>) -> Vec<Vec<u8>> {
        t.actions
            .iter()
            .filter_map(|a| match a {
                SerialIo::Write(b) => Some(b.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn handshake_sends_brainflows_commands_and_reads_the_inquiry() {
        let inq = inquiry_reply();
        let (r, t, p) = handshake(&[
            Some(&[0xFF, 0x25, 0x03]),
            // In-stream response before the ACK is skipped, as BrainFlow does.
            Some(&[0x8A, 0xFF, 0xFF, 0x2F, 3, 0, 0, 0, 16, 2]),
            Some(&[0xFF]),
            Some(&inq),
        ]);
        assert_eq!(r.unwrap(), "");
        assert_eq!(
            writes(&t),
            [vec![0x3F], vec![0x2E], vec![0xA3, 0x00], vec![0x01]]
        );
        let mut d = Shimmer3Decoder::new();
        p.handshake_done(&mut d);
        let l = d.layout().unwrap();
        assert_eq!((l.divider, l.channels.as_slice()), (64, &[4u8, 5, 6][..]));
        // Every read asked for at most what the script still needs.
        assert!(t.actions.iter().all(|a| match a {
            SerialIo::Read { max, .. } => *max <= 8,
            _ => true,
        }));
    }

    #[test]
    fn optional_exchanges_only_warn() {
        let inq = inquiry_reply();
        // The firmware version times out (three empty reads), the ACK-prefix
        // command is answered: the handshake still succeeds.
        let (r, t, _) = handshake(&[
            Some(&[0xFF, 0x25, 0x03]),
            None,
            None,
            None,
            Some(&[0xFF]),
            Some(&inq),
        ]);
        assert_eq!(r.unwrap(), "");
        assert!(
            t.elapsed >= Duration::from_millis(300),
            "three read timeouts"
        );
    }

    #[test]
    fn silent_device_fails_with_general_error_after_three_empty_reads() {
        let (r, t, _) = handshake(&[]);
        let e = r.unwrap_err();
        assert_eq!(e.code, ExitCode::GeneralError);
        assert!(e.message.contains("GET_SHIMMER_VERSION"), "{e}");
        assert_eq!(t.elapsed, Duration::from_millis(300));
        assert_eq!(writes(&t), [vec![0x3F]]);
    }

    #[test]
    fn other_hardware_is_refused() {
        // Shimmer3R reports 10.
        let (r, _, _) = handshake(&[Some(&[0xFF, 0x25, 10])]);
        assert_eq!(r.unwrap_err().code, ExitCode::BoardNotReady);
        // A bad inquiry (unknown channel id 0x40) too.
        let bad = [0xFF, 0x02, 64, 0, 0, 0, 0, 0, 1, 1, 0x40];
        let (r, _, _) = handshake(&[
            Some(&[0xFF, 0x25, 3]),
            Some(&[0xFF, 0x2F, 3, 0, 0, 0, 16, 2]),
            Some(&[0xFF]),
            Some(&bad),
        ]);
        assert_eq!(r.unwrap_err().code, ExitCode::BoardNotReady);
    }

    #[test]
    fn config_sends_the_command_then_reinquires() {
        let p = Shimmer3Protocol::new();
        let mut step = p.config("sampling_rate:256", false, "rfcomm0", &timing());
        let mut inq = inquiry_reply();
        inq[2] = 128;
        let (r, t) = fake::serial(
            step.as_mut(),
            FakeSerial::script(&[Some(&[0xFF]), Some(&inq)]),
        );
        assert_eq!(r.unwrap(), "OK");
        assert_eq!(writes(&t), [vec![0x05, 128, 0], vec![0x01]]);
        let mut d = Shimmer3Decoder::new();
        p.config_done(&mut d, "", "OK");
        assert_eq!(d.layout().unwrap().sampling_rate(), 256.0);

        assert_eq!(
            parse_config("sensors:04307C"),
            Ok(Config::Sensors(0x04307C))
        );
        for bad in [
            "sensors:1080",
            "sensors:zz",
            "sensors:1000000",
            "sampling_rate:0",
            "rate:5",
        ] {
            assert_eq!(
                parse_config(bad).unwrap_err().code,
                ExitCode::InvalidArguments,
                "{bad}"
            );
        }
        let mut refused = p.config("sensors:80", true, "rfcomm0", &timing());
        let (r, t) = fake::serial(refused.as_mut(), FakeSerial::script(&[]));
        assert_eq!(r.unwrap_err().code, ExitCode::InvalidArguments);
        assert!(t.actions.is_empty());
    }

    #[test]
    fn start_waits_for_the_ack_and_stop_drains() {
        let p = Shimmer3Protocol::new();
        let mut start = p.start("rfcomm0", &timing());
        let (r, t) = fake::serial(
            start.as_mut(),
            FakeSerial::script(&[Some(&[0xFF, 0x00, 1])]),
        );
        r.unwrap();
        assert_eq!(writes(&t), [vec![0x07]]);
        let mut stop = p.stop("rfcomm0", &timing()).unwrap();
        let (r, t) = fake::serial(stop.as_mut(), FakeSerial::script(&[Some(&[0, 1, 2, 0xFF])]));
        r.unwrap();
        assert_eq!(writes(&t), [vec![0x20]]);
    }
}

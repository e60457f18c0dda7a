//! Sans-IO session steps: a board's handshake, start, stop and config as
//! state machines that take the outcome of the last I/O action and the time
//! elapsed, and answer with the next action or the result.
//!
//! A step never touches a port, a clock or a thread (quinn-proto's shape:
//! time is an argument, output is polled), so each one is unit-tested with a
//! scripted transport and fake time, and the generic boards
//! ([`crate::serial_board::SerialBoard`], [`crate::ble_board::BleBoard`]) are
//! the only code that performs the actions. One trait serves both transports;
//! only the action type ([`SerialIo`], [`BleIo`]) differs.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use crate::ble::Uuid;
use crate::error::{BoardError, ExitCode, Result};
use crate::serial_session::Timing;

/// What a step is resumed with: how the action it asked for went.
#[derive(Debug)]
pub enum Resume<'a> {
    /// The step begins; it has asked for nothing yet.
    Start,
    /// The action completed (a write, clearing input, a subscription).
    Done,
    /// A read returned these bytes (a serial chunk, a characteristic's value).
    Bytes(&'a [u8]),
    /// A read returned nothing within its timeout.
    TimedOut,
    /// The action failed.
    Failed(&'a io::Error),
}

/// What a step wants next.
#[derive(Debug)]
pub enum Next<Io> {
    /// Perform this action, then resume the step with its outcome.
    Do(Io),
    /// The step is over: the device's reply (often empty) or the error, with
    /// BrainFlow's exit code, the session call returns.
    Finished(Result<String>),
}

/// A sans-IO state machine driven over the transport whose actions are `Io`.
pub trait Step<Io> {
    /// Advances the step. `elapsed` is the time since the step was started,
    /// from the driver's clock (a test passes a fake one); a step never reads
    /// a clock itself.
    fn resume(&mut self, input: Resume<'_>, elapsed: Duration) -> Next<Io>;
}

/// An action on a serial link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerialIo {
    /// Discard bytes received but not read yet.
    ClearInput,
    /// Write (and flush) these bytes.
    Write(Vec<u8>),
    /// Read at most `max` bytes, waiting up to `timeout` for the first one.
    Read {
        /// Largest chunk to accept.
        max: usize,
        /// How long to wait for the first byte.
        timeout: Duration,
    },
}

/// An action on a BLE link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BleIo {
    /// Write `value` to a characteristic.
    Write {
        /// The characteristic.
        uuid: Uuid,
        /// The bytes.
        value: Vec<u8>,
        /// An acknowledged write request rather than a write command.
        with_response: bool,
    },
    /// Read a characteristic's value.
    Read(Uuid),
    /// Enable a characteristic's notifications.
    Subscribe(Uuid),
}

/// A serial step, as a protocol hands it to [`crate::serial_board::SerialBoard`].
pub type SerialStep = Box<dyn Step<SerialIo>>;
/// A BLE step, as a protocol hands it to [`crate::ble_board::BleBoard`].
pub type BleStep = Box<dyn Step<BleIo>>;

/// The outcome of one action, owned, for [`run`].
pub(crate) enum Outcome {
    Done,
    Bytes(Vec<u8>),
    TimedOut,
    Failed(io::Error),
}

/// Runs `step` to its end: `perform` does each action, `now` tells the time
/// since the start. The only loop that turns steps into I/O, shared by both
/// boards (with the real clock) and the tests (with a fake one).
pub(crate) fn run<Io>(
    step: &mut dyn Step<Io>,
    mut perform: impl FnMut(Io) -> Outcome,
    mut now: impl FnMut() -> Duration,
) -> Result<String> {
    let mut next = step.resume(Resume::Start, now());
    loop {
        let io = match next {
            Next::Finished(r) => return r,
            Next::Do(io) => io,
        };
        let outcome = perform(io);
        let input = match &outcome {
            Outcome::Done => Resume::Done,
            Outcome::Bytes(b) => Resume::Bytes(b),
            Outcome::TimedOut => Resume::TimedOut,
            Outcome::Failed(e) => Resume::Failed(e),
        };
        next = step.resume(input, now());
    }
}

/// Where a reply to a serial command ends.
#[derive(Clone, Debug)]
pub struct ReplyEnd {
    /// Bytes a reply ends with, if the device sends such (Cyton: `$$$`).
    pub terminator: Option<&'static [u8]>,
    /// Stop reading once this many bytes are in.
    pub max_bytes: usize,
    /// Cut the reply to `max_bytes` (BrainFlow's Knight keeps a fixed 4096
    /// byte buffer) rather than keep the whole read that crossed it.
    pub truncate: bool,
}

/// Largest chunk a reply read asks for.
const REPLY_CHUNK: usize = 256;

/// Collects a reply: waits up to `read_timeout` for the first byte, then until
/// the device is idle for `idle_gap`, the terminator arrives, `max_bytes` are
/// in, or five read timeouts have passed (so a babbling device cannot hang a
/// call).
struct ReplyReader {
    end: ReplyEnd,
    read_timeout: Duration,
    idle_gap: Duration,
    /// Exit code of a failed read.
    error: ExitCode,
    got: Vec<u8>,
    hard_stop: Duration,
}

impl ReplyReader {
    fn finish(&mut self) -> Next<SerialIo> {
        if self.end.truncate {
            self.got.truncate(self.end.max_bytes);
        }
        Next::Finished(Ok(String::from_utf8_lossy(&self.got).into_owned()))
    }

    /// Next action, or the error of a failed read (named by the caller).
    fn resume(
        &mut self,
        input: Resume<'_>,
        now: Duration,
    ) -> std::result::Result<Next<SerialIo>, String> {
        match input {
            Resume::Bytes(b) => {
                self.got.extend_from_slice(b);
                let terminated = self.end.terminator.is_some_and(|t| self.got.ends_with(t));
                if terminated || self.got.len() >= self.end.max_bytes || now > self.hard_stop {
                    return Ok(self.finish());
                }
            }
            Resume::TimedOut => return Ok(self.finish()),
            Resume::Failed(e) => return Err(e.to_string()),
            Resume::Start | Resume::Done => self.hard_stop = now + self.read_timeout * 5,
        }
        let timeout = if self.got.is_empty() {
            self.read_timeout
        } else {
            self.idle_gap
        };
        Ok(Next::Do(SerialIo::Read {
            max: REPLY_CHUNK,
            timeout,
        }))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Begin,
    Flushing,
    Writing,
    Replying,
}

/// One serial command: optionally discard stale input, optionally write
/// bytes, optionally collect the reply. Every start, stop and config of the
/// serial boards is one of these; only which parts and which exit codes
/// differ.
pub struct Command {
    port: String,
    /// `Some(code)`: a failed clear fails the step with `code`; `None`:
    /// clearing is best effort. Absent: no clearing.
    flush: Option<Option<ExitCode>>,
    /// The bytes and how messages name them (`'b'`, `"x1060110X"`).
    write: Option<(Vec<u8>, String)>,
    reply: Option<ReplyReader>,
    stage: Stage,
}

impl Command {
    /// A command that does nothing yet; `port` names the link in messages.
    pub fn new(port: &str) -> Self {
        Command {
            port: port.to_owned(),
            flush: None,
            write: None,
            reply: None,
            stage: Stage::Begin,
        }
    }

    /// First discards stale input; a failure is ignored (`None`) or ends the
    /// step with `error`.
    pub fn clear_input(mut self, error: Option<ExitCode>) -> Self {
        self.flush = Some(error);
        self
    }

    /// Writes `bytes` (a failure is `BoardWrite`); `label` names them in messages.
    pub fn write(mut self, bytes: &[u8], label: impl Into<String>) -> Self {
        self.write = Some((bytes.to_vec(), label.into()));
        self
    }

    /// Then reads the reply until `end` (see [`ReplyEnd`]) with `timing`'s
    /// read timeout and idle gap; a failed read ends the step with `error`.
    pub fn reply(mut self, end: ReplyEnd, timing: &Timing, error: ExitCode) -> Self {
        self.reply = Some(ReplyReader {
            end,
            read_timeout: timing.read_timeout,
            idle_gap: timing.idle_gap,
            error,
            got: Vec::new(),
            hard_stop: Duration::ZERO,
        });
        self
    }

    /// A config command as the serial boards send it: the text written
    /// as is, its reply read until `end` unless `streaming` (the reply would
    /// then be interleaved with packets: BrainFlow returns nothing).
    pub fn config(
        config: &str,
        streaming: bool,
        port: &str,
        end: ReplyEnd,
        timing: &Timing,
        error: ExitCode,
    ) -> Self {
        let cmd = Command::new(port).write(config.as_bytes(), format!("{config:?}"));
        if streaming {
            cmd
        } else {
            cmd.reply(end, timing, error)
        }
    }

    fn label(&self) -> &str {
        self.write.as_ref().map_or("", |(_, l)| l.as_str())
    }

    fn then_write(&mut self, now: Duration) -> Next<SerialIo> {
        match &self.write {
            Some((bytes, _)) => {
                self.stage = Stage::Writing;
                Next::Do(SerialIo::Write(bytes.clone()))
            }
            None => self.then_reply(now),
        }
    }

    fn then_reply(&mut self, now: Duration) -> Next<SerialIo> {
        self.stage = Stage::Replying;
        self.replying(Resume::Start, now)
    }

    fn replying(&mut self, input: Resume<'_>, now: Duration) -> Next<SerialIo> {
        let Some(r) = self.reply.as_mut() else {
            return Next::Finished(Ok(String::new()));
        };
        let code = r.error;
        r.resume(input, now).unwrap_or_else(|e| {
            Next::Finished(Err(BoardError::new(
                code,
                format!("no reply to {} from {}: {e}", self.label(), self.port),
            )))
        })
    }
}

impl Step<SerialIo> for Command {
    fn resume(&mut self, input: Resume<'_>, now: Duration) -> Next<SerialIo> {
        match self.stage {
            Stage::Begin => match self.flush {
                Some(_) => {
                    self.stage = Stage::Flushing;
                    Next::Do(SerialIo::ClearInput)
                }
                None => self.then_write(now),
            },
            Stage::Flushing => {
                if let (Resume::Failed(e), Some(Some(code))) = (&input, self.flush) {
                    return Next::Finished(Err(BoardError::new(
                        code,
                        format!("unable to flush {}: {e}", self.port),
                    )));
                }
                self.then_write(now)
            }
            Stage::Writing => {
                if let Resume::Failed(e) = input {
                    return Next::Finished(Err(BoardError::new(
                        ExitCode::BoardWrite,
                        format!("unable to write {} to {}: {e}", self.label(), self.port),
                    )));
                }
                self.then_reply(now)
            }
            Stage::Replying => self.replying(input, now),
        }
    }
}

/// One BLE operation of a [`BleSequence`].
#[derive(Clone, Debug)]
enum BleOp {
    Write(Uuid, Vec<u8>, bool),
    /// The characteristic and how messages name it.
    Subscribe(Uuid, String),
    ReadOrEmpty(Uuid),
}

/// BLE operations in order, stopping at the first that fails: a failed write
/// is `BoardWrite`, a failed subscription `GeneralError` (BrainFlow's codes),
/// a failed read is logged and gives an empty value. The step's reply is the
/// value of the last read. Every Ganglion and Muse step is one of these.
#[derive(Debug, Default)]
pub struct BleSequence {
    ops: VecDeque<BleOp>,
    current: Option<BleOp>,
    value: Vec<u8>,
}

impl BleSequence {
    /// An empty sequence: it finishes at once with an empty reply.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `value` to `uuid`.
    pub fn write(mut self, uuid: Uuid, value: &[u8], with_response: bool) -> Self {
        self.ops
            .push_back(BleOp::Write(uuid, value.to_vec(), with_response));
        self
    }

    /// Subscribes to `uuid`; `what` names it in messages.
    pub fn subscribe(mut self, uuid: Uuid, what: impl Into<String>) -> Self {
        self.ops.push_back(BleOp::Subscribe(uuid, what.into()));
        self
    }

    /// Reads `uuid`; its value (empty if the read fails) becomes the reply.
    pub fn read_or_empty(mut self, uuid: Uuid) -> Self {
        self.ops.push_back(BleOp::ReadOrEmpty(uuid));
        self
    }
}

impl Step<BleIo> for BleSequence {
    fn resume(&mut self, input: Resume<'_>, _elapsed: Duration) -> Next<BleIo> {
        match (self.current.take(), input) {
            (Some(BleOp::Write(uuid, value, _)), Resume::Failed(e)) => {
                return Next::Finished(Err(BoardError::new(
                    ExitCode::BoardWrite,
                    format!("unable to write {value:02x?} to {uuid}: {e}"),
                )));
            }
            (Some(BleOp::Subscribe(_, what)), Resume::Failed(e)) => {
                return Next::Finished(Err(BoardError::new(
                    ExitCode::GeneralError,
                    format!("unable to subscribe to {what}: {e}"),
                )));
            }
            (Some(BleOp::ReadOrEmpty(_)), Resume::Bytes(v)) => self.value = v.to_vec(),
            (Some(BleOp::ReadOrEmpty(uuid)), Resume::Failed(e)) => {
                tracing::warn!("unable to read {uuid} ({e}); going on with an empty value");
                self.value.clear();
            }
            _ => {}
        }
        let Some(op) = self.ops.pop_front() else {
            return Next::Finished(Ok(String::from_utf8_lossy(&self.value).into_owned()));
        };
        let io = match &op {
            BleOp::Write(uuid, value, with_response) => BleIo::Write {
                uuid: *uuid,
                value: value.clone(),
                with_response: *with_response,
            },
            BleOp::Subscribe(uuid, _) => BleIo::Subscribe(*uuid),
            BleOp::ReadOrEmpty(uuid) => BleIo::Read(*uuid),
        };
        self.current = Some(op);
        Next::Do(io)
    }
}

/// Fake transports with fake time, for the steps' unit tests (here and in
/// the protocol modules): no threads, no ports, no sleeping.
#[cfg(test)]
pub(crate) mod fake {
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::io;
    use std::time::Duration;

    use super::{run, BleIo, Outcome, SerialIo, Step};
    use crate::ble::Uuid;
    use crate::error::Result;

    /// What a fake serial device does on each read: `Some(bytes)` arrive
    /// (split to the read's `max`, the rest kept for the next read), `None`
    /// the read times out. Past the script every read times out.
    #[derive(Default)]
    pub struct FakeSerial {
        /// The reads to answer, in order.
        pub reads: VecDeque<Option<Vec<u8>>>,
        /// Writes fail with this kind from now on.
        pub fail_writes: Option<io::ErrorKind>,
        /// Clearing input fails with this kind.
        pub fail_clear: Option<io::ErrorKind>,
        /// Reads fail with this kind once the script is exhausted.
        pub fail_reads_after_script: Option<io::ErrorKind>,
        /// Time a read with data takes.
        pub per_chunk: Duration,
    }

    impl FakeSerial {
        /// A device answering `reads` in order, 1 ms a chunk.
        pub fn script(reads: &[Option<&[u8]>]) -> Self {
            FakeSerial {
                reads: reads.iter().map(|r| r.map(|b| b.to_vec())).collect(),
                per_chunk: Duration::from_millis(1),
                ..FakeSerial::default()
            }
        }
    }

    /// What the step did: every action, and the fake time at the end.
    #[derive(Debug, Default)]
    pub struct Trace<Io> {
        /// Actions in order.
        pub actions: Vec<Io>,
        /// Fake time when the step finished.
        pub elapsed: Duration,
    }

    impl<Io> Trace<Io> {
        /// The bytes of every write, in order, as text.
        pub fn writes(&self) -> Vec<String>
        where
            Io: Clone + Into<Option<Vec<u8>>>,
        {
            self.actions
                .iter()
                .filter_map(|a| a.clone().into())
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .collect()
        }
    }

    impl From<SerialIo> for Option<Vec<u8>> {
        fn from(io: SerialIo) -> Self {
            match io {
                SerialIo::Write(v) => Some(v),
                _ => None,
            }
        }
    }

    impl From<BleIo> for Option<Vec<u8>> {
        fn from(io: BleIo) -> Self {
            match io {
                BleIo::Write { value, .. } => Some(value),
                _ => None,
            }
        }
    }

    /// Runs a serial step against `dev`; a timed-out read costs its whole
    /// timeout of fake time.
    pub fn serial(
        step: &mut dyn Step<SerialIo>,
        mut dev: FakeSerial,
    ) -> (Result<String>, Trace<SerialIo>) {
        let clock = Cell::new(Duration::ZERO);
        let actions = RefCell::new(Vec::new());
        let r = run(
            step,
            |io| {
                actions.borrow_mut().push(io.clone());
                match io {
                    SerialIo::ClearInput => match dev.fail_clear {
                        Some(k) => Outcome::Failed(io::Error::from(k)),
                        None => Outcome::Done,
                    },
                    SerialIo::Write(_) => match dev.fail_writes {
                        Some(k) => Outcome::Failed(io::Error::from(k)),
                        None => Outcome::Done,
                    },
                    SerialIo::Read { max, timeout } => match dev.reads.pop_front() {
                        Some(Some(mut b)) => {
                            if b.len() > max {
                                dev.reads.push_front(Some(b.split_off(max)));
                            }
                            clock.set(clock.get() + dev.per_chunk);
                            Outcome::Bytes(b)
                        }
                        Some(None) => {
                            clock.set(clock.get() + timeout);
                            Outcome::TimedOut
                        }
                        None => match dev.fail_reads_after_script {
                            Some(k) => Outcome::Failed(io::Error::from(k)),
                            None => {
                                clock.set(clock.get() + timeout);
                                Outcome::TimedOut
                            }
                        },
                    },
                }
            },
            || clock.get(),
        );
        let trace = Trace {
            actions: actions.into_inner(),
            elapsed: clock.get(),
        };
        (r, trace)
    }

    /// Runs a BLE step: reads answer `read_value` (or fail if `None`);
    /// actions on `failing` fail with `NotConnected`.
    pub fn ble(
        step: &mut dyn Step<BleIo>,
        read_value: Option<&[u8]>,
        failing: Option<Uuid>,
    ) -> (Result<String>, Trace<BleIo>) {
        let mut actions = Vec::new();
        let fail = || Outcome::Failed(io::Error::from(io::ErrorKind::NotConnected));
        let r = run(
            step,
            |io| {
                actions.push(io.clone());
                let uuid = match &io {
                    BleIo::Write { uuid, .. } | BleIo::Read(uuid) | BleIo::Subscribe(uuid) => *uuid,
                };
                match io {
                    _ if failing == Some(uuid) => fail(),
                    BleIo::Read(_) => read_value.map_or_else(fail, |v| Outcome::Bytes(v.to_vec())),
                    _ => Outcome::Done,
                }
            },
            || Duration::ZERO,
        );
        (
            r,
            Trace {
                actions,
                elapsed: Duration::ZERO,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{self, FakeSerial};
    use super::*;

    fn timing() -> Timing {
        Timing {
            read_timeout: Duration::from_millis(100),
            idle_gap: Duration::from_millis(10),
            ..Timing::default()
        }
    }

    fn script(reads: &[Option<&[u8]>]) -> FakeSerial {
        FakeSerial::script(reads)
    }

    const DOLLARS: ReplyEnd = ReplyEnd {
        terminator: Some(b"$$$"),
        max_bytes: 1024,
        truncate: false,
    };

    #[test]
    fn reply_ends_at_terminator_or_idle() {
        let cmd = || {
            Command::new("p")
                .write(b"x", "'x'")
                .reply(DOLLARS, &timing(), ExitCode::IncommingMsg)
        };
        // The terminator ends it at once, though more bytes would follow.
        let (r, t) = fake::serial(
            &mut cmd(),
            script(&[Some(b"ok"), Some(b"$$$"), Some(b"late")]),
        );
        assert_eq!(r.unwrap(), "ok$$$");
        assert_eq!(t.writes(), ["x"]);
        // Without it, an idle gap ends it.
        let (r, t) = fake::serial(&mut cmd(), script(&[Some(b"ok"), None, Some(b"late")]));
        assert_eq!(r.unwrap(), "ok");
        assert_eq!(
            t.elapsed,
            Duration::from_millis(11),
            "one chunk, one idle gap"
        );
        // Nothing at all: an empty reply after one read timeout.
        let (r, t) = fake::serial(&mut cmd(), script(&[]));
        assert_eq!(r.unwrap(), "");
        assert_eq!(t.elapsed, Duration::from_millis(100));
    }

    #[test]
    fn babbling_device_stops_after_five_read_timeouts() {
        let mut dev = script(&[]);
        dev.reads = (0..1000).map(|_| Some(b"a".to_vec())).collect();
        dev.per_chunk = Duration::from_millis(9);
        let mut cmd = Command::new("p").reply(DOLLARS, &timing(), ExitCode::IncommingMsg);
        let (r, t) = fake::serial(&mut cmd, dev);
        // 500 ms of fake time at 9 ms a byte: the first byte past it ends it.
        assert_eq!(r.unwrap().len(), 56);
        assert_eq!(t.elapsed, Duration::from_millis(504));
    }

    #[test]
    fn failures_carry_their_exit_codes() {
        let mut dev = script(&[]);
        dev.fail_writes = Some(io::ErrorKind::BrokenPipe);
        let mut cmd = Command::new("ttyX").write(b"b", "'b'");
        let e = fake::serial(&mut cmd, dev).0.unwrap_err();
        assert_eq!(e.code, ExitCode::BoardWrite);
        assert!(e.message.starts_with("unable to write 'b' to ttyX"), "{e}");

        let mut dev = script(&[Some(b"par")]);
        dev.fail_reads_after_script = Some(io::ErrorKind::NotConnected);
        let mut cmd = Command::new("ttyX").write(b"c", "\"c\"").reply(
            DOLLARS,
            &timing(),
            ExitCode::IncommingMsg,
        );
        let e = fake::serial(&mut cmd, dev).0.unwrap_err();
        assert_eq!(e.code, ExitCode::IncommingMsg);
        assert!(e.message.starts_with("no reply to \"c\" from ttyX"), "{e}");
    }

    #[test]
    fn clear_input_then_write() {
        let mut cmd = Command::new("p").clear_input(None).write(b"b", "'b'");
        let (r, t) = fake::serial(&mut cmd, script(&[]));
        assert_eq!(r.unwrap(), "");
        assert_eq!(
            t.actions,
            [SerialIo::ClearInput, SerialIo::Write(b"b".to_vec())]
        );
    }

    #[test]
    fn ble_sequence_in_order_and_failures() {
        let (a, b) = (Uuid::from_u16(1), Uuid::from_u16(2));
        let seq = || {
            BleSequence::new()
                .read_or_empty(a)
                .subscribe(b, "data")
                .write(b, b"go", false)
        };
        let (r, t) = fake::ble(&mut seq(), Some(b"3.1"), None);
        assert_eq!(r.unwrap(), "3.1");
        assert_eq!(
            t.actions,
            [
                BleIo::Read(a),
                BleIo::Subscribe(b),
                BleIo::Write {
                    uuid: b,
                    value: b"go".to_vec(),
                    with_response: false
                }
            ]
        );
        // A failed read is not fatal; a failed subscription is.
        let (r, _) = fake::ble(&mut seq(), None, None);
        assert_eq!(r.unwrap(), "");
        let (r, t) = fake::ble(&mut seq(), Some(b"3"), Some(b));
        assert_eq!(r.unwrap_err().code, ExitCode::GeneralError);
        assert_eq!(t.actions.len(), 2);
        let mut w = BleSequence::new().write(a, b"x", true);
        let e = fake::ble(&mut w, None, Some(a)).0.unwrap_err();
        assert_eq!(e.code, ExitCode::BoardWrite);
        assert!(e.message.contains("[78]"), "{e}");
        assert_eq!(
            fake::ble(&mut BleSequence::new(), None, None).0.unwrap(),
            ""
        );
    }
}

//! A recording cut into what `boardloop diff` compares: command and reply
//! pairs (each host write with the device's bytes until the next write) and
//! stream runs (the device's bytes while it streamed).
//!
//! Whether the device streamed is decided by a shadow copy of the emulator's
//! engine fed the host's writes: the profile's own command rules say which
//! write starts and stops the stream, for every profile alike.

use boardloop_emulators::profile::full_uuid;
use boardloop_emulators::recording::{Op, Recording};
use boardloop_emulators::signal::SignalSet;
use boardloop_emulators::{Device, Profile};
use std::sync::Arc;
use std::time::Duration;

/// One host write and the device's reply to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pair {
    /// What the host wrote (empty for pair 0: the bytes before any write).
    pub write: Vec<u8>,
    /// The recording line of the write (0 for pair 0).
    pub line: usize,
    /// The device's bytes until the next write, outside streaming.
    pub reply: Vec<u8>,
    /// The recording line of the reply's first byte (0 without a reply).
    pub reply_line: usize,
    /// The device streamed before or after this write: its reply is part of
    /// a stream run, not compared as text.
    pub in_stream: bool,
}

/// Where a read's bytes start within a run, when and on which line they came.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chunk {
    /// Offset of the read's first byte in the run.
    pub start: usize,
    /// When the read returned.
    pub at: Duration,
    /// Its recording line.
    pub line: usize,
}

/// The device's bytes from a write that started the stream to the write
/// after the one that stopped it (a stop's reply holds the packets that were
/// on their way).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Run {
    /// The bytes, in order.
    pub bytes: Vec<u8>,
    /// The reads they came in.
    pub chunks: Vec<Chunk>,
    /// The pair whose write started it (0 for a device streaming unasked).
    pub started_by: usize,
    /// The device streams unasked (`autostart`): the recording may begin
    /// mid-packet and the counter anywhere.
    pub autostart: bool,
    /// A write stopped it within the recording (otherwise the recording ended
    /// while streaming, possibly mid-packet).
    pub stopped: bool,
}

impl Run {
    /// The read that delivered byte `offset`.
    pub fn chunk_of(&self, offset: usize) -> Chunk {
        let i = self.chunks.partition_point(|c| c.start <= offset);
        self.chunks[i.saturating_sub(1)]
    }
}

/// A recording's pairs and stream runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exchange {
    /// Pair 0 holds the bytes before the first write; pair k the k-th write.
    pub pairs: Vec<Pair>,
    /// The stream runs, in order.
    pub runs: Vec<Run>,
}

impl Exchange {
    /// Cuts serial recording `rec` as `profile`'s device would have
    /// understood its writes.
    pub fn of(rec: &Recording, profile: &Arc<Profile>) -> Exchange {
        let mut cut = Cutter::new(profile);
        for e in &rec.events {
            match e.op {
                Op::Flush => cut.flush(),
                Op::Write => cut.write(&e.bytes, e.line, e.at),
                Op::Read => cut.device_bytes(&e.bytes, e.line, e.at),
                // BLE operations: `of_ble` cuts BLE recordings.
                Op::GattWrite { .. }
                | Op::GattRead(_)
                | Op::Notify(_)
                | Op::Subscribe(_)
                | Op::Unsubscribe(_) => {}
            }
        }
        cut.finish()
    }

    /// Cuts BLE recording `rec`: the writes to `profile`'s command
    /// characteristics are the pairs' writes, the notifications of its
    /// replies characteristic their replies, and the notifications of
    /// `stream`'s characteristic (its first slot's) the runs, one chunk per
    /// notification. Without `stream`, no runs. A characteristic is known by
    /// its UUID, whatever the recording names it.
    pub fn of_ble(
        rec: &Recording,
        profile: &Arc<Profile>,
        stream: Option<usize>,
    ) -> Result<Exchange, String> {
        let ble = profile
            .ble
            .as_ref()
            .ok_or_else(|| format!("`{}` is not a BLE device", profile.decl.name))?;
        let gatt = rec.gatt()?;
        let chars = || ble.services.iter().flat_map(|s| s.characteristics.iter());
        let commands: Vec<String> = chars()
            .filter(|c| c.commands)
            .map(|c| full_uuid(&c.uuid))
            .collect();
        let replies = chars()
            .find(|c| c.replies.is_some())
            .map(|c| full_uuid(&c.uuid));
        let data = stream
            .and_then(|i| {
                profile.streams[i]
                    .characteristics
                    .first()
                    .cloned()
                    .flatten()
            })
            .and_then(|name| chars().find(|c| c.name == name))
            .map(|c| full_uuid(&c.uuid));
        let uuid = |i: u16| gatt.get(usize::from(i)).map(|g| g.uuid.as_str());
        let mut cut = Cutter::new(profile);
        cut.ble_stream = stream;
        for e in &rec.events {
            match e.op {
                Op::GattWrite { char, .. }
                    if uuid(char).is_some_and(|u| commands.iter().any(|c| c == u)) =>
                {
                    cut.write(&e.bytes, e.line, e.at);
                }
                Op::Notify(char) => {
                    let u = uuid(char);
                    if u.is_some() && u == data.as_deref() {
                        cut.stream_bytes(&e.bytes, e.line, e.at);
                    } else if u.is_some() && u == replies.as_deref() {
                        cut.reply_bytes(&e.bytes, e.line);
                    }
                }
                _ => {}
            }
        }
        let mut out = cut.finish();
        // Replies come on a characteristic of their own, never mixed with
        // the stream's: compared while streaming too.
        for p in &mut out.pairs {
            p.in_stream = false;
        }
        Ok(out)
    }
}

/// Cuts a recording's transfers into pairs and runs, one transfer at a time:
/// a shadow copy of the emulator's engine says when the device streams.
struct Cutter {
    dev: Device,
    autostart: bool,
    streaming: bool,
    out: Exchange,
    run: Option<Run>,
    /// BLE: the stream whose characteristic's notifications are the runs.
    /// Several streams may share one (the Ganglion's firmware-2, firmware-3
    /// and impedance packets): a notification is this stream's while the
    /// engine runs it, or ran it when the device last streamed (packets on
    /// their way when a stop came).
    ble_stream: Option<usize>,
    stream_on: bool,
}

impl Cutter {
    fn new(profile: &Arc<Profile>) -> Cutter {
        let mut dev = Device::new(
            profile.clone(),
            Arc::new(SignalSet::default()),
            profile.initial_state.clone(),
        );
        let autostart = dev.autostart();
        Cutter {
            dev,
            autostart,
            streaming: autostart,
            out: Exchange {
                pairs: vec![Pair {
                    in_stream: autostart,
                    ..Pair::default()
                }],
                runs: Vec::new(),
            },
            run: autostart.then(|| Run {
                autostart,
                ..Run::default()
            }),
            ble_stream: None,
            stream_on: true,
        }
    }

    /// The host flushed its port. A device streaming unasked starts its
    /// stream at the host's flush (the emulator at packet 0; a board goes
    /// on, maybe mid-packet): a run of its own on both sides. Anything
    /// else's flush discards bytes the host had not read; the recording
    /// still has them as the device sent them.
    fn flush(&mut self) {
        if !self.autostart {
            return;
        }
        if let Some(r) = self.run.take().filter(|r| !r.bytes.is_empty()) {
            self.out.runs.push(r);
        }
        self.run = Some(Run {
            autostart: true,
            started_by: self.out.pairs.len() - 1,
            ..Run::default()
        });
    }

    /// The host wrote `bytes` (recording line `line`).
    fn write(&mut self, bytes: &[u8], line: usize, at: Duration) {
        let was = self.streaming;
        if !was {
            // The run a stop ended has taken its reply.
            if let Some(mut r) = self.run.take() {
                r.stopped = true;
                self.out.runs.push(r);
            }
        }
        self.dev.feed_at(bytes, Some(at));
        self.streaming = self.dev.streaming();
        if let (Some(i), true) = (self.ble_stream, self.streaming) {
            self.stream_on = self.dev.runs_stream(i);
        }
        if self.streaming && self.run.is_none() {
            self.run = Some(Run {
                started_by: self.out.pairs.len(),
                ..Run::default()
            });
        }
        self.out.pairs.push(Pair {
            write: bytes.to_vec(),
            line,
            in_stream: was || self.streaming,
            ..Pair::default()
        });
    }

    /// The device sent `bytes` on a serial link: the stream's while it
    /// streams, else the last write's reply.
    fn device_bytes(&mut self, bytes: &[u8], line: usize, at: Duration) {
        if self.run.is_some() {
            self.stream_bytes(bytes, line, at);
        } else {
            self.reply_bytes(bytes, line);
        }
    }

    /// The device sent stream bytes; outside a run (a BLE stream
    /// characteristic notified while the engine says the device does not
    /// stream), or another stream's on a shared characteristic, they are
    /// left out.
    fn stream_bytes(&mut self, bytes: &[u8], line: usize, at: Duration) {
        if !self.stream_on {
            return;
        }
        if let Some(r) = self.run.as_mut() {
            r.chunks.push(Chunk {
                start: r.bytes.len(),
                at,
                line,
            });
            r.bytes.extend_from_slice(bytes);
        }
    }

    /// The device replied `bytes` to the last write.
    fn reply_bytes(&mut self, bytes: &[u8], line: usize) {
        let p = self.out.pairs.last_mut().expect("pair 0 is always there");
        if p.reply.is_empty() {
            p.reply_line = line;
        }
        p.reply.extend_from_slice(bytes);
    }

    fn finish(mut self) -> Exchange {
        if let Some(mut r) = self.run.take() {
            r.stopped = !self.streaming;
            self.out.runs.push(r);
        }
        self.out
    }
}

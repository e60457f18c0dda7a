//! A recording cut into what `boardloop diff` compares: command and reply
//! pairs (each host write with the device's bytes until the next write) and
//! stream runs (the device's bytes while it streamed).
//!
//! Whether the device streamed is decided by a shadow copy of the emulator's
//! engine fed the host's writes: the profile's own command rules say which
//! write starts and stops the stream, for every profile alike.

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
    /// Cuts `rec` as `profile`'s device would have understood its writes.
    pub fn of(rec: &Recording, profile: &Arc<Profile>) -> Exchange {
        let mut dev = Device::new(
            profile.clone(),
            Arc::new(SignalSet::default()),
            profile.initial_state.clone(),
        );
        let autostart = dev.autostart();
        let mut streaming = autostart;
        let mut out = Exchange {
            pairs: vec![Pair {
                in_stream: streaming,
                ..Pair::default()
            }],
            runs: Vec::new(),
        };
        let mut run = streaming.then(|| Run {
            autostart,
            ..Run::default()
        });
        for e in &rec.events {
            match e.op {
                // A device streaming unasked starts its stream at the host's
                // flush (the emulator at packet 0; a board goes on, maybe
                // mid-packet): a run of its own on both sides.
                Op::Flush if autostart => {
                    if let Some(r) = run.take().filter(|r| !r.bytes.is_empty()) {
                        out.runs.push(r);
                    }
                    run = Some(Run {
                        autostart,
                        started_by: out.pairs.len() - 1,
                        ..Run::default()
                    });
                }
                // Anything else's flush discards bytes the host had not read;
                // the recording still has them as the device sent them.
                Op::Flush => {}
                Op::Write => {
                    let was = streaming;
                    if !was {
                        // The run a stop ended has taken its reply.
                        if let Some(mut r) = run.take() {
                            r.stopped = true;
                            out.runs.push(r);
                        }
                    }
                    dev.feed_at(&e.bytes, Some(e.at));
                    streaming = dev.streaming();
                    if streaming && run.is_none() {
                        run = Some(Run {
                            started_by: out.pairs.len(),
                            ..Run::default()
                        });
                    }
                    out.pairs.push(Pair {
                        write: e.bytes.clone(),
                        line: e.line,
                        in_stream: was || streaming,
                        ..Pair::default()
                    });
                }
                Op::Read => match run.as_mut() {
                    Some(r) => {
                        r.chunks.push(Chunk {
                            start: r.bytes.len(),
                            at: e.at,
                            line: e.line,
                        });
                        r.bytes.extend_from_slice(&e.bytes);
                    }
                    None => {
                        let p = out.pairs.last_mut().expect("pair 0 is always there");
                        if p.reply.is_empty() {
                            p.reply_line = e.line;
                        }
                        p.reply.extend_from_slice(&e.bytes);
                    }
                },
                // BLE operations: a BLE recording is refused before this
                // (`boardloop diff` compares serial links).
                Op::GattWrite { .. }
                | Op::GattRead(_)
                | Op::Notify(_)
                | Op::Subscribe(_)
                | Op::Unsubscribe(_) => {}
            }
        }
        if let Some(mut r) = run {
            r.stopped = !streaming;
            out.runs.push(r);
        }
        out
    }
}

//! The emulation engine: one device as a state machine over its profile.
//!
//! Sans-IO like the decoders: bytes from the host go in, replies and stream events
//! come out, and packets are built on request. Transports (pty, BLE, memory) and
//! pacing live elsewhere, so the same engine serves every transport and the harness
//! can run a shadow copy to know what state the device is in.

use crate::commands::{apply, render, CommandParser, Parsed};
use crate::layout::{leaf_present, leaf_raw, Leaf, PacketVars, Source};
use crate::profile::{Profile, StreamAction};
use crate::signal::SignalSet;
use crate::state::{Scope, State};
use std::sync::Arc;

/// What the device does in answer to host bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Bytes to send back.
    Reply(Vec<u8>),
    /// The stream began (packet index reset to 0).
    StreamStarted,
    /// The stream ended.
    StreamStopped,
}

/// One command as the device understood it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandRecord {
    /// The rule it matched, if any.
    pub rule: Option<String>,
    /// The text received.
    pub text: String,
    /// Why it was rejected, if it was.
    pub rejected: Option<String>,
}

/// An emulated device.
#[derive(Debug, Clone)]
pub struct Device {
    profile: Arc<Profile>,
    signals: Arc<SignalSet>,
    initial: State,
    state: State,
    parser: CommandParser,
    run: Option<Run>,
    log: Vec<CommandRecord>,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    packet: u64,
    packet_rate: f64,
}

impl Device {
    /// A device in its power-on state.
    pub fn new(profile: Arc<Profile>, signals: Arc<SignalSet>, initial: State) -> Self {
        Device {
            profile,
            signals,
            state: initial.clone(),
            initial,
            parser: CommandParser::default(),
            run: None,
            log: Vec::new(),
        }
    }

    /// The profile.
    pub fn profile(&self) -> &Arc<Profile> {
        &self.profile
    }

    /// Current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Commands received so far.
    pub fn commands(&self) -> &[CommandRecord] {
        &self.log
    }

    /// Whether the device is streaming.
    pub fn streaming(&self) -> bool {
        self.run.is_some()
    }

    /// Packets per second of the current stream (or what it would be now).
    pub fn packet_rate(&self) -> f64 {
        match self.run {
            Some(r) => r.packet_rate,
            None => self.eval_rate(),
        }
    }

    /// Index of the next packet in the current stream.
    pub fn packet_index(&self) -> u64 {
        self.run.map_or(0, |r| r.packet)
    }

    fn eval_rate(&self) -> f64 {
        let Some(s) = &self.profile.stream else {
            return 0.0;
        };
        let scope = Scope {
            state: &self.state,
            extra: &[],
            bindings: &[],
        };
        s.rate.eval(&scope).unwrap_or(0.0)
    }

    /// Feeds bytes written by the host.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Output> {
        let mut out = Vec::new();
        for &b in bytes {
            let Some(parsed) = self.parser.push(&self.profile.commands, b) else {
                continue;
            };
            match parsed {
                Parsed::Unknown(b) => self.log.push(CommandRecord {
                    rule: None,
                    text: (b as char).to_string(),
                    rejected: Some("no command starts with this character".into()),
                }),
                Parsed::Rejected {
                    text,
                    reason,
                    reply,
                } => {
                    self.log.push(CommandRecord {
                        rule: None,
                        text,
                        rejected: Some(reason),
                    });
                    if let Some(r) = reply {
                        self.reply(&render(&r, &[], &self.state.clone()), &mut out);
                    }
                }
                Parsed::Command { rule, text, fields } => {
                    self.command(rule, text, &fields, &mut out);
                }
            }
        }
        out
    }

    fn command(
        &mut self,
        idx: usize,
        text: String,
        fields: &[(String, f64)],
        out: &mut Vec<Output>,
    ) {
        let profile = self.profile.clone();
        let rule = &profile.commands.rules[idx];
        let result = apply(rule, fields, &mut self.state, &self.initial);
        self.log.push(CommandRecord {
            rule: Some(rule.name.clone()),
            text,
            rejected: result.as_ref().err().cloned(),
        });
        if rule.reset && self.run.is_some() {
            self.run = None;
            out.push(Output::StreamStopped);
        }
        match rule.stream {
            Some(StreamAction::Start) if self.run.is_none() && profile.stream.is_some() => {
                self.state.set("streaming", 1.0);
                self.run = Some(Run {
                    packet: 0,
                    packet_rate: self.eval_rate(),
                });
                out.push(Output::StreamStarted);
            }
            Some(StreamAction::Stop) if self.run.is_some() => {
                self.state.set("streaming", 0.0);
                self.run = None;
                out.push(Output::StreamStopped);
            }
            _ => {}
        }
        if let Ok(Some(reply)) = result {
            self.reply(&reply, out);
        }
    }

    fn reply(&self, text: &str, out: &mut Vec<Output>) {
        if self.profile.decl.quiet_while_streaming && self.run.is_some() {
            return;
        }
        out.push(Output::Reply(text.as_bytes().to_vec()));
    }

    /// (Re)starts the stream of an `autostart` device at packet 0 (see
    /// [`crate::profile::StreamDecl::autostart`]); false for other devices.
    pub fn autostart(&mut self) -> bool {
        let auto = self
            .profile
            .decl
            .stream
            .as_ref()
            .is_some_and(|s| s.autostart);
        if !auto || self.profile.stream.is_none() {
            return false;
        }
        self.state.set("streaming", 1.0);
        self.run = Some(Run {
            packet: 0,
            packet_rate: self.eval_rate(),
        });
        true
    }

    /// Builds the next packet of the stream and advances; `None` when not streaming.
    pub fn next_packet(&mut self) -> Option<Vec<u8>> {
        let run = self.run.as_mut()?;
        let stream = self.profile.stream.as_ref()?;
        let pps = stream.packets.len() as u64;
        let p = run.packet;
        run.packet += 1;
        let vars = PacketVars {
            packet: p,
            sample: p / pps,
            counter: (stream.counter.start + p) % stream.counter.modulo,
            rate: run.packet_rate / pps as f64,
        };
        let layout = &stream.packets[(p % pps) as usize];
        Some(layout.encode(&self.state, &self.signals, &vars))
    }
}

/// What a channel should read on one sample, from the emulator's point of view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expected {
    /// The value as the device encoded it, back in physical units (raw × scale for
    /// signal fields, the raw count for value fields).
    pub value: f64,
    /// One count in physical units (1 for value fields).
    pub lsb: f64,
    /// Whether the field carried data on this sample (`when` held).
    pub present: bool,
}

/// A channel of a profile's stream, found by signal or field name, for computing
/// what a board should decode without running the emulator.
#[derive(Debug, Clone)]
pub struct ChannelModel {
    leaf: Leaf,
    slot: u64,
    pps: u64,
    counter_start: u64,
    modulo: u64,
}

impl ChannelModel {
    /// Finds the first field carrying signal `name` (or named `name`).
    pub fn find(profile: &Profile, name: &str) -> Option<ChannelModel> {
        let stream = profile.stream.as_ref()?;
        for layout in &stream.packets {
            for leaf in layout.leaves() {
                let hit = match &leaf.source {
                    Source::Signal { name: n, .. } => n == name,
                    Source::Value(_) => leaf.name.as_deref() == Some(name),
                };
                if hit {
                    return Some(ChannelModel {
                        leaf: leaf.clone(),
                        slot: layout.slot as u64,
                        pps: stream.packets.len() as u64,
                        counter_start: stream.counter.start,
                        modulo: stream.counter.modulo,
                    });
                }
            }
        }
        None
    }

    /// The expected value at `sample` given the device state and the sample rate.
    pub fn expected(&self, state: &State, signals: &SignalSet, sample: u64, rate: f64) -> Expected {
        let packet = sample * self.pps + self.slot;
        let vars = PacketVars {
            packet,
            sample,
            counter: (self.counter_start + packet) % self.modulo,
            rate,
        };
        let extra = [
            ("packet", packet as f64),
            ("sample", sample as f64),
            ("slot", self.slot as f64),
            ("counter", vars.counter as f64),
            ("rate", rate),
        ];
        let present = leaf_present(&self.leaf, state, &extra);
        let (raw, scale) = leaf_raw(&self.leaf, state, signals, &vars, &extra);
        let lsb = scale.unwrap_or(1.0);
        Expected {
            value: if present { raw as f64 * lsb } else { 0.0 },
            lsb,
            present,
        }
    }
}

/// Maps a packet counter back to its packet index within a stream.
#[derive(Debug, Clone, Copy)]
pub struct CounterModel {
    /// Counter of packet 0.
    pub start: u64,
    /// Wrap point.
    pub modulo: u64,
    /// Packets per sample.
    pub packets_per_sample: u64,
}

impl CounterModel {
    /// The counter model of a profile's stream.
    pub fn of(profile: &Profile) -> Option<CounterModel> {
        let s = profile.stream.as_ref()?;
        Some(CounterModel {
            start: s.counter.start,
            modulo: s.counter.modulo,
            packets_per_sample: s.packets.len() as u64,
        })
    }
}

//! The emulation engine: one device as a state machine over its profile.
//!
//! Sans-IO like the decoders: bytes from the host go in, replies and stream events
//! come out, and packets are built on request. Transports (pty, BLE, memory) and
//! pacing live elsewhere, so the same engine serves every transport and the harness
//! can run a shadow copy to know what state the device is in.

use crate::commands::{apply, render, CommandParser, Parsed};
use crate::layout::{
    float_count, leaf_present, leaf_raw, quantize_with_zero, signal_index, zero_of, Leaf,
    PacketVars, Source,
};
use crate::plan::Plan;
use crate::profile::Stream;
use crate::profile::{Profile, StreamAction};
use crate::signal::SignalSet;
use crate::state::{Scope, State};
use std::collections::BTreeMap;
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
    /// While streaming: the index of the first packet (of the first stream) built
    /// under this command's effect, so checks can tell exactly which samples it
    /// changed.
    pub packet: Option<u64>,
    /// The device state right after the command (for accepted commands).
    pub state: Option<State>,
    /// Whether this command started streaming.
    pub started_stream: bool,
}

/// An emulated device.
#[derive(Debug, Clone)]
pub struct Device {
    profile: Arc<Profile>,
    signals: Arc<SignalSet>,
    initial: State,
    state: State,
    parser: CommandParser,
    /// One entry per stream while streaming; `None` for a stream that is not active.
    runs: Vec<Option<Run>>,
    streaming: bool,
    log: Vec<CommandRecord>,
    /// Every stream's packet layouts planned for the current state (per
    /// stream, per slot); `None` after anything changed the state.
    plans: Option<Vec<Vec<Plan>>>,
    /// Packets built per characteristic since the streams started (the
    /// `notification` variable; serial streams share the unnamed one).
    built_on: BTreeMap<Option<String>, u64>,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    packet: u64,
    packet_rate: f64,
    sample_rate: f64,
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
            runs: Vec::new(),
            streaming: false,
            log: Vec::new(),
            plans: None,
            built_on: BTreeMap::new(),
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
        self.streaming
    }

    /// Packets per second of the first stream (a serial device's only one).
    pub fn packet_rate(&self) -> f64 {
        self.stream_packet_rate(0)
    }

    /// Packets per second of stream `i` now (or what it would be if started now).
    pub fn stream_packet_rate(&self, i: usize) -> f64 {
        match self.runs.get(i).copied().flatten() {
            Some(r) => r.packet_rate,
            None => self
                .profile
                .streams
                .get(i)
                .map_or(0.0, |s| self.eval(&s.rate)),
        }
    }

    /// Signal samples per second of stream `i` (the signals' time base).
    pub fn stream_sample_rate(&self, i: usize) -> f64 {
        match self.runs.get(i).copied().flatten() {
            Some(r) => r.sample_rate,
            None => self
                .profile
                .streams
                .get(i)
                .map_or(0.0, |s| self.sample_rate_of(s)),
        }
    }

    /// Whether stream `i` is running now.
    pub fn runs_stream(&self, i: usize) -> bool {
        self.runs.get(i).is_some_and(|r| r.is_some())
    }

    /// Streams running now.
    pub fn active_streams(&self) -> Vec<usize> {
        (0..self.runs.len())
            .filter(|i| self.runs[*i].is_some())
            .collect()
    }

    /// Index of the next packet of the first stream.
    pub fn packet_index(&self) -> u64 {
        self.stream_packet_index(0)
    }

    /// Index of the next packet of stream `i`.
    pub fn stream_packet_index(&self, i: usize) -> u64 {
        self.runs.get(i).copied().flatten().map_or(0, |r| r.packet)
    }

    fn eval(&self, e: &crate::expr::Expr) -> f64 {
        let scope = Scope {
            state: &self.state,
            extra: &[],
            bindings: &[],
        };
        e.eval(&scope).unwrap_or(0.0)
    }

    fn sample_rate_of(&self, s: &Stream) -> f64 {
        stream_sample_rate(s, &self.state)
    }

    /// Starts streaming as a start command would (for a model of the device that
    /// does not see the bytes a driver sends).
    pub fn start_streaming(&mut self) {
        if !self.streaming && !self.profile.streams.is_empty() {
            self.start_streams();
        }
    }

    /// Stops streaming as a stop command would.
    pub fn stop_streaming(&mut self) {
        if self.streaming {
            self.stop_streams();
        }
    }

    fn start_streams(&mut self) {
        self.plans = None;
        let profile = self.profile.clone();
        self.streaming = true;
        self.built_on.clear();
        self.state.set("streaming", 1.0);
        self.runs = profile
            .streams
            .iter()
            .map(|s| {
                let on = s.when.as_ref().is_none_or(|w| self.eval(w) != 0.0);
                on.then(|| Run {
                    packet: 0,
                    packet_rate: self.eval(&s.rate),
                    sample_rate: self.sample_rate_of(s),
                })
            })
            .collect();
    }

    fn stop_streams(&mut self) {
        self.plans = None;
        self.streaming = false;
        self.state.set("streaming", 0.0);
        self.runs.clear();
    }

    /// Feeds bytes written by the host (no clock: commands never time out).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Output> {
        self.feed_at(bytes, None)
    }

    /// Feeds bytes written by the host at `now` (time since any fixed origin), so
    /// incomplete commands can time out as on the device.
    pub fn feed_at(&mut self, bytes: &[u8], now: Option<std::time::Duration>) -> Vec<Output> {
        let mut out = Vec::new();
        let mut parsed_all = Vec::new();
        for &b in bytes {
            self.parser
                .push(&self.profile.commands, b, now, &mut parsed_all);
        }
        for parsed in parsed_all {
            match parsed {
                Parsed::Unknown(b) => self.log.push(CommandRecord {
                    rule: None,
                    text: (b as char).to_string(),
                    rejected: Some("no command starts with this character".into()),
                    packet: self.streaming.then(|| self.packet_index()),
                    state: None,
                    started_stream: false,
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
                        packet: self.streaming.then(|| self.packet_index()),
                        state: None,
                        started_stream: false,
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
        self.plans = None;
        let was_streaming = self.streaming;
        let rejected = result.as_ref().err().cloned();
        if rule.reset && self.streaming {
            self.stop_streams();
            out.push(Output::StreamStopped);
        }
        match rule.stream {
            Some(StreamAction::Start) if !self.streaming && !profile.streams.is_empty() => {
                self.start_streams();
                out.push(Output::StreamStarted);
            }
            Some(StreamAction::Stop) if self.streaming => {
                self.stop_streams();
                out.push(Output::StreamStopped);
            }
            _ => {}
        }
        self.log.push(CommandRecord {
            rule: Some(rule.name.clone()),
            text,
            rejected,
            packet: self.streaming.then(|| self.packet_index()),
            state: Some(self.state.clone()),
            started_stream: !was_streaming && self.streaming,
        });
        if let Ok(Some(reply)) = result {
            self.reply(&reply, out);
        }
    }

    fn reply(&self, text: &str, out: &mut Vec<Output>) {
        if text.is_empty() || (self.profile.decl.quiet_while_streaming && self.streaming) {
            return;
        }
        // A reply's characters are checked at load only as a template: a
        // character without a byte in the charset is sent as '?'.
        let charset = self.profile.decl.charset;
        let bytes = charset.encode(text).unwrap_or_else(|| {
            text.chars()
                .map(|c| u8::try_from(c).unwrap_or(b'?'))
                .collect()
        });
        out.push(Output::Reply(bytes));
    }

    /// (Re)starts the streams of an `autostart` device at packet 0 (see
    /// [`crate::profile::StreamDecl::autostart`]); false for other devices.
    pub fn autostart(&mut self) -> bool {
        if !self.profile.autostarts() || self.profile.streams.is_empty() {
            return false;
        }
        self.stop_streams();
        self.start_streams();
        true
    }

    /// Builds the next packet of the first stream and advances; `None` when not
    /// streaming.
    pub fn next_packet(&mut self) -> Option<Vec<u8>> {
        self.next_packet_of(0).map(|(_, b)| b)
    }

    /// Builds the next packet of stream `i` and advances; returns the characteristic
    /// it goes on (BLE) and its bytes; `None` when that stream is not running.
    pub fn next_packet_of(&mut self, i: usize) -> Option<(Option<String>, Vec<u8>)> {
        let mut bytes = Vec::new();
        let slot = self.next_packet_into(i, &mut bytes)?;
        let ch = self.profile.streams[i].characteristics[slot].clone();
        Some((ch, bytes))
    }

    /// Appends the next packet of stream `i` to `out` and advances; returns its
    /// slot in the stream's packet cycle, `None` (and appends nothing) when
    /// that stream is not running. With a reused `out` this allocates nothing
    /// while the state stays the same.
    pub fn next_packet_into(&mut self, i: usize, out: &mut Vec<u8>) -> Option<usize> {
        self.next_packet_vars_into(i, out).map(|(slot, _)| slot)
    }

    /// As [`Device::next_packet_into`], also returning the packet's
    /// variables (what a joined notification's header reads, see
    /// [`crate::join`]).
    pub fn next_packet_vars_into(
        &mut self,
        i: usize,
        out: &mut Vec<u8>,
    ) -> Option<(usize, PacketVars)> {
        let stream = self.profile.streams.get(i)?;
        let run = self.runs.get_mut(i)?.as_mut()?;
        let p = run.packet;
        run.packet += 1;
        let rate = run.sample_rate;
        let mut vars = packet_vars(stream, &self.state, p, rate);
        let slot = (p % stream.packets.len() as u64) as usize;
        let built = self
            .built_on
            .entry(stream.characteristics[slot].clone())
            .or_default();
        vars.notification = *built;
        *built += 1;
        vars.length = stream.packets[slot].len as u64;
        let (profile, state, signals) = (&self.profile, &self.state, &self.signals);
        let plans = self.plans.get_or_insert_with(|| {
            profile
                .streams
                .iter()
                .map(|s| {
                    s.packets
                        .iter()
                        .map(|l| Plan::new(l, state, signals))
                        .collect()
                })
                .collect()
        });
        plans[i][slot].encode_into(&vars, out);
        Some((slot, vars))
    }

    /// Appends the header of a notification joined on characteristic `ch`
    /// (see [`crate::profile::JoinDecl`]) to `out`, read with `vars` (its
    /// first packet's, with the notification's index and length); false,
    /// appending nothing, when `ch` joins nothing.
    pub fn join_header_into(&self, ch: &str, vars: &PacketVars, out: &mut Vec<u8>) -> bool {
        let Some(join) = self.profile.joins.get(ch) else {
            return false;
        };
        // Headers are a few a second (the Athena's ~20): planned each time
        // rather than cached beside the streams' plans.
        Plan::new(&join.header, &self.state, &self.signals).encode_into(vars, out);
        true
    }
}

/// Signal samples per second of `stream` in `state` (the signals' time base):
/// its `sample_rate`, else its packet rate over the packets that carry one
/// sample.
fn stream_sample_rate(stream: &Stream, state: &State) -> f64 {
    let eval = |e: &crate::expr::Expr, extra: &[(&str, f64)]| {
        let scope = Scope {
            state,
            extra,
            bindings: &[],
        };
        e.eval(&scope).unwrap_or(0.0)
    };
    let packets = eval(&stream.rate, &[]);
    match &stream.sample_rate {
        Some(e) => eval(e, &[("rate", packets)]),
        None => packets / stream.packets.len() as f64,
    }
}

/// The variables of packet `p` of a stream.
pub fn packet_vars(stream: &Stream, state: &State, p: u64, rate: f64) -> PacketVars {
    let pps = stream.packets.len() as u64;
    let per = stream.counter.samples.unwrap_or(1);
    let counter = (stream.counter.start + p * per) % stream.counter.modulo;
    let sample = p / pps;
    let first = match &stream.first_sample {
        None => sample,
        Some(e) => {
            let extra = [
                ("packet", p as f64),
                ("sample", sample as f64),
                ("counter", counter as f64),
            ];
            let scope = Scope {
                state,
                extra: &extra,
                bindings: &[],
            };
            e.eval(&scope).unwrap_or(0.0).max(0.0) as u64
        }
    };
    PacketVars {
        packet: p,
        sample,
        counter,
        rate,
        first,
        notification: 0,
        length: 0,
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
    /// Every field carrying the channel in its stream, with its packet slot.
    leaves: Vec<(Leaf, u64)>,
    stream: Stream,
}

impl ChannelModel {
    /// Finds the channel (signal `name`, or a value field named `name`) in the first
    /// stream that carries it.
    pub fn find(profile: &Profile, name: &str) -> Option<ChannelModel> {
        Self::find_where(profile, name, |_| true)
    }

    /// Finds the channel in the first stream that carries it and runs in `state`
    /// (its `when` holds), e.g. the firmware-2 stream of a firmware-2 Ganglion.
    pub fn find_active(profile: &Profile, name: &str, state: &State) -> Option<ChannelModel> {
        Self::find_where(profile, name, |s| {
            s.when.as_ref().is_none_or(|w| {
                let scope = Scope {
                    state,
                    extra: &[],
                    bindings: &[],
                };
                w.eval(&scope).is_ok_and(|v| v != 0.0)
            })
        })
    }

    fn find_where(
        profile: &Profile,
        name: &str,
        ok: impl Fn(&Stream) -> bool,
    ) -> Option<ChannelModel> {
        for stream in profile.streams.iter().filter(|s| ok(s)) {
            let mut leaves = Vec::new();
            for layout in &stream.packets {
                for leaf in layout.leaves() {
                    let hit = match &leaf.source {
                        Source::Signal { name: n, .. } => n == name,
                        Source::Value(_) => leaf.name.as_deref() == Some(name),
                    };
                    if hit {
                        leaves.push((leaf.clone(), layout.slot as u64));
                    }
                }
            }
            if !leaves.is_empty() {
                return Some(ChannelModel {
                    leaves,
                    stream: stream.clone(),
                });
            }
        }
        None
    }

    /// Signal samples per second of this channel's stream in `state`: its time
    /// base, which differs from the first stream's when the device streams at
    /// several rates (Muse: EEG 256 Hz, accel/gyro 52 Hz, PPG 64 Hz).
    pub fn sample_rate(&self, state: &State) -> f64 {
        stream_sample_rate(&self.stream, state)
    }

    /// How this channel's stream numbers its packets.
    pub fn counter(&self) -> CounterModel {
        CounterModel::of_stream(&self.stream)
    }

    /// The expected value at sample `sample` (serial layouts: one sample per
    /// packet group) given the device state and the sample rate.
    pub fn expected(&self, state: &State, signals: &SignalSet, sample: u64, rate: f64) -> Expected {
        let pps = self.stream.packets.len() as u64;
        self.expected_at(state, signals, sample * pps, 0, rate).1
    }

    /// The signal sample and expected value of the `j`-th sample of this channel
    /// carried by the packet group starting at stream packet `group_packet` (the
    /// packet whose counter a decoded row shows). Values are absolute, also for
    /// delta-coded fields, since a decoder reconstructs absolute values.
    pub fn expected_at(
        &self,
        state: &State,
        signals: &SignalSet,
        group_packet: u64,
        j: u64,
        rate: f64,
    ) -> (u64, Expected) {
        let pps = self.stream.packets.len() as u64;
        let base = group_packet - group_packet % pps;
        let mut first_match = None;
        for (leaf, slot) in &self.leaves {
            let packet = base + slot;
            let vars = packet_vars(&self.stream, state, packet, rate);
            let extra = vars.extra(*slot as usize);
            let scope = Scope {
                state,
                extra: &extra,
                bindings: &leaf.bindings,
            };
            let offset = match &leaf.source {
                Source::Signal { offset, .. } => offset
                    .as_ref()
                    .map_or(0.0, |o| o.eval(&scope).unwrap_or(0.0)),
                Source::Value(_) => 0.0,
            };
            // A field may carry data only in some packets (e.g. firmware 2's raw
            // packet 0): prefer the field that is present with this offset.
            if offset as u64 == j {
                let r = Self::value_of(leaf, state, signals, &vars, *slot as usize, rate);
                if r.1.present {
                    return r;
                }
                first_match.get_or_insert(r);
            }
        }
        first_match.unwrap_or((
            0,
            Expected {
                value: 0.0,
                lsb: 1.0,
                present: false,
            },
        ))
    }

    fn value_of(
        leaf: &Leaf,
        state: &State,
        signals: &SignalSet,
        vars: &PacketVars,
        slot: usize,
        rate: f64,
    ) -> (u64, Expected) {
        let present = leaf_present(leaf, state, vars, slot);
        let extra = vars.extra(slot);
        let scope = Scope {
            state,
            extra: &extra,
            bindings: &leaf.bindings,
        };
        let (n, raw, lsb) = match &leaf.source {
            Source::Signal {
                name,
                scale,
                offset,
                ..
            } if leaf.float => {
                // The float as the device holds it, in physical units; a
                // value is only as exact as its float, so its lsb is one ulp.
                let scale = scale.eval(&scope).unwrap_or(f64::NAN);
                let n = signal_index(offset.as_deref(), &scope, vars);
                let count = float_count(signals.value_in(name, state, n, rate), scale, leaf.bits);
                let value = if present { count * scale } else { 0.0 };
                let ulp = float_ulp(count, leaf.bits) * scale.abs();
                return (
                    n,
                    Expected {
                        value,
                        lsb: ulp,
                        present,
                    },
                );
            }
            Source::Value(_) if leaf.float => {
                let raw = leaf_raw(leaf, state, signals, vars, slot);
                let value = if leaf.bits == 32 {
                    f64::from(f32::from_bits(raw as u32))
                } else {
                    f64::from_bits(raw as u64)
                };
                return (
                    vars.first,
                    Expected {
                        value: if present { value } else { 0.0 },
                        lsb: float_ulp(value, leaf.bits),
                        present,
                    },
                );
            }
            Source::Signal {
                name,
                scale,
                offset,
                zero,
                ..
            } => {
                let scale = scale.eval(&scope).unwrap_or(f64::NAN);
                let n = signal_index(offset.as_deref(), &scope, vars);
                let z = zero_of(zero.as_deref(), &scope);
                let raw = quantize_with_zero(
                    signals.value_in(name, state, n, rate),
                    scale,
                    z,
                    leaf.bits,
                    leaf.signed,
                );
                // Back to physical units around the zero count.
                (n, raw - z.round() as i64, scale)
            }
            Source::Value(_) => {
                let raw = leaf_raw(leaf, state, signals, vars, slot);
                (vars.first, raw, 1.0)
            }
        };
        (
            n,
            Expected {
                value: if present { raw as f64 * lsb } else { 0.0 },
                lsb,
                present,
            },
        )
    }
}

/// The spacing of floats of `bits` (32 or 64) at `x`: one unit in the last
/// place, the resolution a float field's value has.
fn float_ulp(x: f64, bits: u32) -> f64 {
    if bits == 32 {
        let f = (x as f32).abs();
        f64::from(f32::from_bits(f.to_bits() + 1) - f)
    } else {
        let f = x.abs();
        f64::from_bits(f.to_bits() + 1) - f
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
    /// Samples per packet when the counter counts samples (see
    /// [`crate::profile::CounterDecl::samples`]), else `None`.
    pub samples: Option<u64>,
}

impl CounterModel {
    /// The counter model of a profile's first stream.
    pub fn of(profile: &Profile) -> Option<CounterModel> {
        profile.stream().map(Self::of_stream)
    }

    /// The counter model of a stream.
    pub fn of_stream(s: &Stream) -> CounterModel {
        CounterModel {
            start: s.counter.start,
            modulo: s.counter.modulo,
            packets_per_sample: s.packets.len() as u64,
            samples: s.counter.samples,
        }
    }

    /// The counter a row carries (its package-number value), wrapped into
    /// `0..modulo`.
    pub fn wrap(&self, value: f64) -> u64 {
        value.round() as u64 % self.modulo
    }

    /// How many packets the counter advanced from `prev` to `cur` (both
    /// wrapped), across a wrap: 1 for consecutive packets, 0 for the same
    /// packet, k + 1 after k lost ones.
    pub fn step(&self, prev: u64, cur: u64) -> u64 {
        (cur + self.modulo - prev) % self.modulo
    }

    /// Where a row with counter `cur` sits: its packet index and which of
    /// the packet's samples it is, given the last row's (packet, counter,
    /// sample) or `None` for a stream's first row. Rows that share a counter
    /// are a packet's samples in turn (Ganglion: 2, Muse: 12); a counter
    /// that counts samples places each row by its own value.
    pub fn place(&self, last: Option<(u64, u64, u64)>, cur: u64) -> (u64, u64) {
        match (self.samples, last) {
            (None, None) => (self.step(self.start % self.modulo, cur), 0),
            (None, Some((p, prev, j))) => match self.step(prev, cur) {
                0 => (p, j + 1),
                step => (p + step, 0),
            },
            (Some(k), last) => {
                let s = match last {
                    None => self.step(self.start % self.modulo, cur),
                    Some((p, prev, j)) => p * k + j + self.step(prev, cur),
                };
                (s / k, s % k)
            }
        }
    }
}

#[cfg(test)]
mod counter_tests {
    use super::CounterModel;

    #[test]
    fn steps_count_packets_across_the_wrap() {
        let c = CounterModel {
            start: 0,
            modulo: 256,
            packets_per_sample: 1,
            samples: None,
        };
        assert_eq!(c.wrap(255.0), 255);
        assert_eq!(c.wrap(256.0), 0);
        assert_eq!(c.step(10, 11), 1);
        assert_eq!(c.step(10, 10), 0);
        assert_eq!(c.step(255, 0), 1);
        assert_eq!(c.step(250, 4), 10);
        // Rows sharing a counter are one packet's samples.
        assert_eq!(c.place(Some((3, 10, 0)), 10), (3, 1));
        assert_eq!(c.place(Some((3, 10, 1)), 12), (5, 0));
    }

    #[test]
    fn a_counter_of_samples_places_each_row_by_its_value() {
        // BrainAlive: 5 samples per notification, one package number each.
        let c = CounterModel {
            start: 0,
            modulo: 256,
            packets_per_sample: 1,
            samples: Some(5),
        };
        assert_eq!(c.place(None, 0), (0, 0));
        assert_eq!(c.place(Some((0, 0, 0)), 1), (0, 1));
        assert_eq!(c.place(Some((0, 4, 4)), 5), (1, 0));
        // A lost notification (samples 5-9), then the wrap 255 -> 0.
        assert_eq!(c.place(Some((0, 4, 4)), 10), (2, 0));
        assert_eq!(c.place(Some((51, 255, 0)), 0), (51, 1));
    }
}

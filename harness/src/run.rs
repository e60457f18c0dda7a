//! Running one trial: a scenario played against one board on one target.

use crate::binding::BoardBinding;
use crate::check::{check_signals, Segment, StateSpan};
use crate::host::{code_name, parse_code, Host, HostError};
use crate::report;
use crate::targets::{Emulator, Session, TargetKind};
use boardloop_boards::{Data, InputParams, Preset, StreamStats};
use boardloop_emulators::device::CommandRecord;
use boardloop_emulators::portable::{CheckName, SpectralExpect, StreamExpect};
use boardloop_emulators::scenario::{PresetExpect, SignalCheck, Step};
use boardloop_emulators::{Device, Scenario};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One scenario × board × target.
#[derive(Debug, Clone)]
pub struct Trial {
    /// Board under test.
    pub board: BoardBinding,
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// Where it runs.
    pub target: Arc<dyn TargetKind>,
}

impl Trial {
    /// Rows of `preset` per stream this target's driver keeps back by design
    /// (see [`BoardBinding::brainflow_withheld_rows`]); row expectations and
    /// `wait_samples` steps are lowered by this much.
    pub fn withheld_rows(&self, preset: Preset) -> usize {
        self.target.withheld_rows(&self.board, preset)
    }

    /// `board::scenario::target`.
    pub fn name(&self) -> String {
        format!(
            "{}::{}::{}",
            self.board.name,
            self.scenario.name,
            self.target.name()
        )
    }
}

/// What a trial produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Every expectation that did not hold; empty means passed.
    pub failures: Vec<String>,
    /// Rows collected.
    pub rows: usize,
    /// Driver statistics, if reported.
    pub stats: Option<StreamStats>,
    /// Values compared with the declared signal.
    pub values_checked: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Where data and transcript were kept (on failure).
    pub artifacts: Option<PathBuf>,
    /// The steps as they ran.
    pub log: Vec<String>,
    /// Each compared channel, expected beside received (HTML report).
    pub plots: Vec<crate::check::ChannelPlot>,
    /// Row arrival times and packet losses (HTML report).
    pub timeline: report::Timeline,
    /// Expectations not checked on this target, by key (the exact ones of a
    /// portable scenario on a physical device); the log gives the reason.
    pub skipped: Vec<&'static str>,
}

impl Outcome {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs a trial to completion, once.
pub fn run(trial: &Trial) -> Outcome {
    let started = Instant::now();
    let sc = &trial.scenario;
    let mut out = Outcome::default();
    let params = InputParams {
        timeout: sc.decl.timeout,
        other_info: sc.decl.other_info.clone(),
        ..Default::default()
    };
    let Session {
        mut host,
        emulator,
        guard,
    } = match trial.target.open(trial, &params, &mut out.log) {
        Ok(s) => s,
        Err(e) => {
            out.failures.push(e);
            return out;
        }
    };
    tracing::info!(
        "{}: set up in {} ms",
        trial.name(),
        started.elapsed().as_millis()
    );
    let mut played = play(trial, host.as_mut(), &mut out);
    if !played.collected {
        collect(host.as_mut(), &mut played, &mut out);
    }
    let _ = host.release();
    drop(host);
    if let Some(e) = &emulator {
        e.settle();
    }
    if let Some(e) = emulator.as_ref().filter(|e| e.records_commands()) {
        if trial.target.pins_spans() {
            pin_spans(&mut played, e, sc);
        } else {
            start_states(&mut played, e, sc);
        }
    }
    let data = played.data.take().unwrap_or_else(|| Data {
        num_rows: trial.board.descr.num_rows,
        num_samples: 0,
        values: Vec::new(),
    });
    out.rows = data.num_samples;
    out.timeline = report::timeline(
        &data,
        &trial.board.descr,
        boardloop_emulators::CounterModel::of(&sc.profile),
    );
    verify(trial, &played, &data, emulator.as_ref(), &mut out);
    out.elapsed = started.elapsed();
    // Notifications the BLE emulator built but could not hand to a live
    // notification session: in the trial's log, so a failure shows them.
    if let Some(Emulator::Ble(e)) = &emulator {
        let (st, lost) = (e.stats(), e.unsubscribed());
        let line = format!(
            "emulator: {} notifications built, {} sent, {lost} not delivered (no live notification session)",
            st.packets_built, st.packets_sent
        );
        // A failed trial says so among its failures too, where CI shows it.
        if lost > 0 && !out.passed() {
            out.failures.push(line.clone());
        }
        out.log.push(line);
        // A notification the link cannot carry is the profile's mistake (or
        // the MTU's): a real device cannot send it, and BlueZ would cut it.
        if let (n @ 1.., Some(first)) = e.too_long() {
            out.failures.push(format!(
                "emulator: {n} notification(s) not sent, too long for the link: {first}"
            ));
        }
    }
    let transcript = emulator.as_ref().map(|e| e.transcript());
    drop(emulator);
    // After the emulator (which holds the peripheral): cancels a late
    // advertisement; for BlueZ, unregisters, then removes the device from
    // the board's adapter.
    drop(guard);
    tracing::info!(
        "{}: done in {} ms",
        trial.name(),
        started.elapsed().as_millis()
    );
    let others: Vec<(&str, &Data)> = played
        .others
        .iter()
        .filter_map(|t| {
            t.data
                .as_ref()
                .map(|d| (crate::binding::preset_key(t.preset), d))
        })
        .collect();
    out.artifacts = report::keep(trial, &out, &data, &others, transcript.as_deref());
    out
}

/// What the host side observed while playing the steps.
#[derive(Debug, Default)]
struct Played {
    segments: Vec<Segment>,
    markers: Vec<(f64, usize, usize)>,
    expected_error_seen: bool,
    /// Everything the board buffered, taken before release (which frees it).
    data: Option<Data>,
    /// Whether data and statistics were taken.
    collected: bool,
    /// Commands sent while streaming: (segment, state span, text).
    mid_stream: Vec<(usize, usize, String)>,
    /// The other presets the scenario checks (`expect.presets`).
    others: Vec<PresetTrack>,
}

/// A preset other than the default one that the scenario checks. It has its
/// own ring buffer, so its rows are counted separately, at the same moments as
/// the default preset's (start, mid-stream config, stop), and its segments
/// carry the same device states.
#[derive(Debug)]
struct PresetTrack {
    preset: Preset,
    /// What it must produce.
    expect: PresetExpect,
    /// The stream being recorded.
    open: Option<Segment>,
    segments: Vec<Segment>,
    /// Everything this preset buffered, taken with the default preset's data.
    data: Option<Data>,
}

/// The presets `expect.presets` names, to track while playing.
fn preset_tracks(sc: &Scenario) -> Vec<PresetTrack> {
    sc.decl
        .expect
        .presets
        .named()
        .into_iter()
        .filter_map(|(key, pe)| {
            Some(PresetTrack {
                preset: crate::binding::preset_by_key(key)?,
                expect: pe.clone(),
                open: None,
                segments: Vec::new(),
                data: None,
            })
        })
        .collect()
}

/// For targets not held to the emulator's packets (BrainFlow's drivers): the
/// state each stream started in, from the emulator's record of the command
/// that started it, and the signals' time base from that state. The shadow
/// cannot know it when the driver turns a config string into other bytes
/// (Shimmer3's `sampling_rate:256` is `0x05 0x80 0x00` on the wire).
fn start_states(played: &mut Played, emulator: &Emulator, scenario: &Scenario) {
    let records = emulator.commands();
    let starts: Vec<&CommandRecord> = records.iter().filter(|r| r.started_stream).collect();
    for (k, seg) in played.segments.iter_mut().enumerate() {
        // Only a segment without mid-stream commands: their spans keep the
        // shadow's states, which row-based settling is written for.
        if seg.states.len() != 1 {
            continue;
        }
        let Some(state) = starts.get(k).and_then(|r| r.state.clone()) else {
            continue;
        };
        seg.states[0].state = state.clone();
        let mut dev = Device::new(scenario.profile.clone(), scenario.signals.clone(), state);
        dev.start_streaming();
        if let Some(i) = dev.active_streams().first() {
            seg.rate = dev.stream_sample_rate(*i);
        }
    }
}

/// Where the emulator reports what each command did, takes from it the state
/// each stream started in and when and how each mid-stream command changed it
/// (see [`StateSpan::device_packet`]); the shadow device stays the fallback for
/// targets without an emulator.
fn pin_spans(played: &mut Played, emulator: &Emulator, scenario: &Scenario) {
    let records = emulator.commands();
    let starts: Vec<&CommandRecord> = records.iter().filter(|r| r.started_stream).collect();
    for (k, seg) in played.segments.iter_mut().enumerate() {
        if let Some(first) = seg.states.first_mut() {
            first.device_packet = Some(0);
            if let Some(state) = starts.get(k).and_then(|r| r.state.clone()) {
                first.state = state;
            }
        }
    }
    let mut cursor = 0;
    for (seg, span, text) in &played.mid_stream {
        let found = (cursor..records.len())
            .find(|&k| records[k].packet.is_some() && text.starts_with(records[k].text.as_str()));
        if let Some(k) = found {
            cursor = k + 1;
            if let Some(sp) = played
                .segments
                .get_mut(*seg)
                .and_then(|s| s.states.get_mut(*span))
            {
                sp.device_packet = records[k].packet;
                // A stacked command is several records: the state after the last.
                let last = (k..records.len())
                    .take_while(|&m| {
                        records[m].packet == records[k].packet
                            && text.contains(records[m].text.as_str())
                    })
                    .last()
                    .unwrap_or(k);
                if let Some(state) = records[last].state.clone() {
                    sp.state = state;
                }
            }
        }
    }
    // The other presets' streams started and changed with the default one's;
    // their mid-stream spans keep the row-based settling (`device_packet` is a
    // packet of the default preset's stream, not of theirs).
    for t in &mut played.others {
        for (seg, pinned) in t.segments.iter_mut().zip(&played.segments) {
            for (k, (sp, p)) in seg.states.iter_mut().zip(&pinned.states).enumerate() {
                if k == 0 {
                    sp.device_packet = Some(0);
                }
                sp.state = p.state.clone();
            }
        }
    }
    // The signals' time base may depend on that state (a sample-rate command).
    for seg in &mut played.segments {
        if let Some(first) = seg.states.first() {
            let mut dev = Device::new(
                scenario.profile.clone(),
                scenario.signals.clone(),
                first.state.clone(),
            );
            dev.start_streaming();
            if let Some(i) = dev.active_streams().first() {
                seg.rate = dev.stream_sample_rate(*i);
            }
        }
    }
}

/// Takes the board's data and statistics, once. A session that never streamed has
/// no buffer (BrainFlow answers EMPTY_BUFFER): that is no rows, not a failure.
fn collect(host: &mut dyn Host, played: &mut Played, out: &mut Outcome) {
    played.collected = true;
    out.stats = host.stats();
    if played.segments.is_empty() {
        return;
    }
    match host.data() {
        Ok(d) => played.data = Some(d),
        Err(e) => out.failures.push(format!("get_board_data failed: {e}")),
    }
    for t in &mut played.others {
        match host.data_of(t.preset) {
            Ok(d) => t.data = Some(d),
            Err(e) => out.failures.push(format!(
                "get_board_data({} preset) failed: {e}",
                crate::binding::preset_key(t.preset)
            )),
        }
    }
}

fn play(trial: &Trial, host: &mut dyn Host, out: &mut Outcome) -> Played {
    let sc = &trial.scenario;
    let expect = &sc.decl.expect;
    let settle = expect.signal.as_ref().map_or(0, |s| s.settle_samples);
    let pps = boardloop_emulators::CounterModel::of(&sc.profile).map_or(1, |c| c.packets_per_sample)
        as f64;
    // A shadow of the device, fed the commands the host sends, tells which state
    // (gains, rate) each row was produced under.
    let mut shadow = Device::new(
        sc.profile.clone(),
        sc.signals.clone(),
        sc.initial_state.clone(),
    );
    let mut played = Played {
        others: preset_tracks(sc),
        ..Played::default()
    };
    let mut open: Option<Segment> = None;
    let t0 = Instant::now();
    for (i, step) in sc.decl.steps.iter().enumerate() {
        let kind = step_kind(step);
        // The time helps read slow targets (BlueZ) from a failed trial's log.
        let at = t0.elapsed().as_millis();
        out.log.push(format!("step {i} at {at} ms: {step:?}"));
        tracing::info!("{}: step {i} at {at} ms: {step:?}", trial.name());
        let result: Result<(), HostError> = (|| {
            match step {
                Step::Prepare => {
                    host.prepare()?;
                    // BrainFlow's OpenBCI handshake: soft reset, then defaults.
                    if sc.profile.ble.is_none() {
                        shadow.feed(b"vd");
                    }
                }
                Step::Start => {
                    let first = rows_so_far(host);
                    let others = others_rows(host, &played.others);
                    host.start(sc.decl.buffer_size)?;
                    shadow.start_streaming();
                    // The signals' time base: the first running stream's sample rate.
                    let rate = shadow
                        .active_streams()
                        .first()
                        .map_or(shadow.packet_rate() / pps, |i| {
                            shadow.stream_sample_rate(*i)
                        });
                    let segment = |first: usize| Segment {
                        first_row: first,
                        end_row: first,
                        rate,
                        states: vec![StateSpan {
                            from_row: first,
                            settle_until: first,
                            device_packet: None,
                            state: shadow.state().clone(),
                        }],
                    };
                    open = Some(segment(first));
                    for (t, first) in played.others.iter_mut().zip(others) {
                        t.open = Some(segment(first));
                    }
                }
                Step::Stop => {
                    let r = host.stop();
                    shadow.stop_streaming();
                    close(&mut open, host, &mut played);
                    r?;
                }
                Step::Release => {
                    close(&mut open, host, &mut played);
                    if !played.collected {
                        collect(host, &mut played, out);
                    }
                    host.release()?
                }
                Step::Config(c) => {
                    let before = rows_so_far(host);
                    let others = others_rows(host, &played.others);
                    let reply = host.config(&c.send)?;
                    shadow.feed(c.send.as_bytes());
                    if let Some(seg) = open.as_mut() {
                        seg.states.push(StateSpan {
                            from_row: before,
                            settle_until: before + settle,
                            device_packet: None,
                            state: shadow.state().clone(),
                        });
                        played.mid_stream.push((
                            played.segments.len(),
                            seg.states.len() - 1,
                            c.send.clone(),
                        ));
                    }
                    for (t, before) in played.others.iter_mut().zip(others) {
                        if let Some(seg) = t.open.as_mut() {
                            seg.states.push(StateSpan {
                                from_row: before,
                                settle_until: before
                                    + t.expect.signal.as_ref().map_or(0, |c| c.settle_samples),
                                device_packet: None,
                                state: shadow.state().clone(),
                            });
                        }
                    }
                    if let Some(want) = &c.reply {
                        if &reply != want {
                            out.failures.push(format!(
                                "step {i}: config `{}` replied {:?}, expected {:?}",
                                c.send, reply, want
                            ));
                        }
                    }
                    out.log.push(format!("  reply {reply:?}"));
                }
                Step::Marker(v) => {
                    let lo = rows_so_far(host);
                    host.marker(*v)?;
                    let hi = rows_so_far(host);
                    played.markers.push((*v, lo, hi));
                }
                Step::WaitSamples(n) => {
                    let n = n.saturating_sub(trial.withheld_rows(Preset::Default));
                    wait_rows(host, open.as_ref(), n, sc, out)?
                }
                Step::WaitMs(ms) => std::thread::sleep(Duration::from_millis(*ms)),
                Step::WaitLinkLost(ms) => wait_link_lost(host, *ms, out),
            }
            Ok(())
        })();
        if let Err(e) = result {
            out.log.push(format!("  failed: {e}"));
            match &expect.error {
                Some(x) if x.step == kind && !played.expected_error_seen => {
                    played.expected_error_seen = true;
                    if let Some(code) = x.code.as_deref().and_then(parse_code) {
                        if code != e.code {
                            out.failures.push(format!(
                                "step {i} ({kind}) failed with {} ({}), expected {}",
                                code_name(e.code),
                                e.message,
                                code_name(code)
                            ));
                        }
                    }
                    if let Some(text) = &x.contains {
                        if !e.message.contains(text.as_str()) {
                            out.failures.push(format!(
                                "step {i} ({kind}) error {:?} does not contain {:?}",
                                e.message, text
                            ));
                        }
                    }
                }
                _ => {
                    out.failures.push(format!("step {i} ({kind}) failed: {e}"));
                    break;
                }
            }
            // An expected error: the scenario goes on (a host recovers from
            // it, e.g. releasing and preparing again after a link loss).
        }
    }
    close(&mut open, host, &mut played);
    played
}

/// Rows buffered so far; BrainFlow answers EMPTY_BUFFER before the first stream,
/// which here means none.
fn rows_so_far(host: &mut dyn Host) -> usize {
    host.count().unwrap_or(0)
}

/// Rows buffered so far in each tracked preset (none before the first stream).
fn others_rows(host: &mut dyn Host, others: &[PresetTrack]) -> Vec<usize> {
    others
        .iter()
        .map(|t| host.count_of(t.preset).unwrap_or(0))
        .collect()
}

fn close(open: &mut Option<Segment>, host: &mut dyn Host, played: &mut Played) {
    if let Some(mut seg) = open.take() {
        seg.end_row = rows_so_far(host).max(seg.first_row);
        played.segments.push(seg);
    }
    for t in &mut played.others {
        if let Some(mut seg) = t.open.take() {
            seg.end_row = host.count_of(t.preset).unwrap_or(0).max(seg.first_row);
            t.segments.push(seg);
        }
    }
}

fn wait_rows(
    host: &mut dyn Host,
    seg: Option<&Segment>,
    n: usize,
    sc: &Scenario,
    out: &mut Outcome,
) -> Result<(), HostError> {
    let first = seg.map_or(0, |s| s.first_row);
    let rate = seg.map_or(250.0, |s| s.rate).max(1.0);
    // Generous: ten times the real-time duration plus five seconds.
    let limit = Duration::from_secs_f64(5.0 + 10.0 * n as f64 / rate);
    // A device that stops sending fails the step after this long without a row,
    // instead of waiting out the whole limit.
    let stall = Duration::from_secs(5);
    let started = Instant::now();
    let (mut last_have, mut last_change) = (usize::MAX, Instant::now());
    loop {
        let have = host.count()?.saturating_sub(first);
        if have >= n {
            return Ok(());
        }
        if have != last_have {
            (last_have, last_change) = (have, Instant::now());
        }
        if host.stats().is_some_and(|s| s.link_error.is_some())
            || started.elapsed() > limit
            || last_change.elapsed() > stall
        {
            out.failures.push(format!(
                "waited {:.1} s for {n} rows of `{}`, got {have}",
                started.elapsed().as_secs_f64(),
                sc.name
            ));
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn step_kind(step: &Step) -> &'static str {
    match step {
        Step::Prepare => "prepare",
        Step::Start => "start",
        Step::Stop => "stop",
        Step::Release => "release",
        Step::Config(_) => "config",
        Step::Marker(_) => "marker",
        Step::WaitSamples(_) => "wait_samples",
        Step::WaitMs(_) => "wait_ms",
        Step::WaitLinkLost(_) => "wait_link_lost",
    }
}

/// Waits until the host's driver reports its link lost, at most `ms`; a host
/// that reports no link state sleeps `ms`. Logged either way.
fn wait_link_lost(host: &mut dyn Host, ms: u64, out: &mut Outcome) {
    let started = Instant::now();
    let deadline = started + Duration::from_millis(ms);
    loop {
        match host.stats() {
            Some(st) if st.link_error.is_some() => {
                out.log.push(format!(
                    "  link lost after {} ms",
                    started.elapsed().as_millis()
                ));
                return;
            }
            Some(_) => {}
            None => {
                out.log
                    .push("  the host reports no link state: slept".to_string());
                std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                return;
            }
        }
        if Instant::now() >= deadline {
            out.log.push(format!("  link not lost within {ms} ms"));
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn verify(
    trial: &Trial,
    played: &Played,
    data: &Data,
    emulator: Option<&Emulator>,
    out: &mut Outcome,
) {
    let sc = &trial.scenario;
    let x = &sc.decl.expect;
    // Which expectations apply here: on a physical device, the portable
    // ones; each other one the scenario sets is listed as skipped.
    let skip_reason = trial.target.skips_exact();
    let timing_reason = trial.target.skips_timing();
    let mut applies = |c: CheckName| match &skip_reason {
        _ if c == CheckName::Stream && timing_reason.is_some() => {
            let why = timing_reason.as_deref().unwrap_or_default();
            out.log.push(format!(
                "skipped on `{}`: `expect.stream` ({why})",
                trial.target.name()
            ));
            out.skipped.push(c.key());
            false
        }
        Some(why) if !x.is_portable(c) => {
            let line = format!(
                "skipped on `{}`: `expect.{}` is an exact check ({why})",
                trial.target.name(),
                c.key()
            );
            out.log.push(line);
            out.skipped.push(c.key());
            false
        }
        _ => true,
    };
    let on: Vec<CheckName> = x.set().into_iter().filter(|c| applies(*c)).collect();
    let on = |c: CheckName| on.contains(&c);
    if let (Some(e), true) = (&x.error, on(CheckName::Error)) {
        if !played.expected_error_seen {
            out.failures.push(format!(
                "expected step `{}` to fail with {}, it did not",
                e.step,
                e.code.as_deref().unwrap_or("an error")
            ));
        }
    }
    if let (Some(c), true) = (&x.rows, on(CheckName::Rows)) {
        let held = trial.withheld_rows(Preset::Default) * played.segments.len();
        let c = c.less(held as u64);
        if !c.accepts(data.num_samples as u64) {
            out.failures
                .push(format!("rows: expected {c}, got {}", data.num_samples));
        }
    }
    match (&out.stats, trial.target.reports_stats()) {
        (Some(s), _) => {
            if let (Some(l), true) = (x.lost_packets, on(CheckName::LostPackets)) {
                if s.decode.lost_packets != l {
                    out.failures.push(format!(
                        "lost packets: expected {l}, the driver reports {}",
                        s.decode.lost_packets
                    ));
                }
            }
            if let (Some(g), true) = (&x.garbage_bytes, on(CheckName::GarbageBytes)) {
                if !g.accepts(s.decode.garbage_bytes) {
                    out.failures.push(format!(
                        "garbage bytes: expected {g}, the driver reports {}",
                        s.decode.garbage_bytes
                    ));
                }
            }
            if let (Some(b), true) = (&x.bad_end_bytes, on(CheckName::BadEndBytes)) {
                if !b.accepts(s.decode.bad_end_bytes) {
                    out.failures.push(format!(
                        "bad end bytes: expected {b}, the driver reports {}",
                        s.decode.bad_end_bytes
                    ));
                }
            }
            if let (Some(want), true) = (x.link_lost, on(CheckName::LinkLost)) {
                if s.link_error.is_some() != want {
                    out.failures.push(format!(
                        "link lost: expected {want}, driver says {:?}",
                        s.link_error
                    ));
                }
            }
        }
        (None, false) => {} // BrainFlow reports no statistics; its data is still checked.
        (None, true) => out
            .failures
            .push("the driver reported no statistics".into()),
    }
    if let (Some(check), true) = (&x.signal, on(CheckName::Signal)) {
        verify_signal(trial, Preset::Default, data, &played.segments, check, out);
    }
    if let (Some(s), true) = (&x.stream, on(CheckName::Stream)) {
        verify_stream(trial, data, &played.segments, s, out);
    }
    if on(CheckName::Spectral) {
        verify_spectral(trial, data, &played.segments, &x.spectral, out);
    }
    for t in played.others.iter().filter(|_| on(CheckName::Presets)) {
        let key = crate::binding::preset_key(t.preset);
        let Some((descr, _)) = trial.board.layout(t.preset) else {
            out.failures.push(format!(
                "{key} preset: board `{}` has none",
                trial.board.name
            ));
            continue;
        };
        // A session that never streamed has no buffer: no rows.
        let none = Data {
            num_rows: descr.num_rows,
            num_samples: 0,
            values: Vec::new(),
        };
        let pdata = t.data.as_ref().unwrap_or(&none);
        if let Some(c) = &t.expect.rows {
            let held = trial.withheld_rows(t.preset) * played.segments.len();
            let c = c.less(held as u64);
            if !c.accepts(pdata.num_samples as u64) {
                out.failures.push(format!(
                    "{key} preset rows: expected {c}, got {}",
                    pdata.num_samples
                ));
            }
        }
        if let Some(check) = &t.expect.signal {
            verify_signal(trial, t.preset, pdata, &t.segments, check, out);
        }
    }
    check_markers(trial, played, data, out);
    if let Some(emu) = emulator {
        // A replay knows no commands nor state: what it checks instead is
        // that the host wrote what the recording has (its `error` below).
        let mut device_view = |c: CheckName, set: bool| {
            if set && on(c) && !emu.records_commands() {
                out.log.push(format!(
                    "skipped on `{}`: `expect.{}` is the device's own view, which a \
                     replay has not (it holds the host's writes to the recording instead)",
                    trial.target.name(),
                    c.key()
                ));
                out.skipped.push(c.key());
                return false;
            }
            on(c)
        };
        let commands_on = device_view(CheckName::Commands, x.commands.is_some());
        let state_on = device_view(CheckName::DeviceState, !x.device_state.is_empty());
        if let (Some(want), true) = (&x.commands, commands_on) {
            let records = emu.commands();
            let overrun = trial.target.command_overrun(&trial.board);
            let (kept, overruns) = without_overrun(&records, overrun);
            if !overruns.is_empty() {
                out.log.push(format!(
                    "differs on `{}`: the driver wrote {overrun} bytes past each of {} \
                     commands, which the device refused (a known bug of that driver: README, \
                     Conventions): {}",
                    trial.target.name(),
                    overruns.len(),
                    overruns.join(" | ")
                ));
            }
            let got: Vec<String> = kept
                .iter()
                .map(|c| c.rule.clone().unwrap_or_else(|| format!("?{}", c.text)))
                .collect();
            if &got != want {
                out.failures
                    .push(format!("commands received: expected {want:?}, got {got:?}"));
            }
        }
        let state = emu.state();
        for (k, v) in x.device_state.iter().filter(|_| state_on) {
            if state.get(k) != Some(*v) {
                out.failures.push(format!(
                    "device state `{k}`: expected {v}, is {:?}",
                    state.get(k)
                ));
            }
        }
        if let Some(e) = emu.error() {
            out.failures.push(format!("emulator failed: {e}"));
        }
    }
}

/// `expect.stream`: the rows' rate, jitter, gaps and losses.
fn verify_stream(
    trial: &Trial,
    data: &Data,
    segments: &[Segment],
    x: &StreamExpect,
    out: &mut Outcome,
) {
    let Some(counter) = boardloop_emulators::CounterModel::of(&trial.scenario.profile) else {
        out.failures
            .push("stream: the device profile has no stream".into());
        return;
    };
    let m = crate::timing::measure(data, &trial.board.descr, counter, segments, x.skip_rows);
    out.log.push(format!(
        "stream: {} rows at {:.3} Hz, jitter p50 {:.2} ms p99 {:.2} ms, longest gap {:.1} ms, {} lost",
        m.rows, m.rate_hz, m.jitter_p50_ms, m.jitter_p99_ms, m.max_gap_ms, m.lost
    ));
    out.failures.extend(crate::timing::failures(&m, x));
}

/// `expect.spectral`: each named channel's dominant frequency, amplitude and
/// SNR, stream by stream.
fn verify_spectral(
    trial: &Trial,
    data: &Data,
    segments: &[Segment],
    checks: &[SpectralExpect],
    out: &mut Outcome,
) {
    use boardloop_emulators::signal::covers;
    for x in checks {
        let chans: Vec<&crate::binding::ChannelBinding> = trial
            .board
            .channels
            .iter()
            .filter(|c| x.channels.iter().any(|p| covers(p, &c.signal)))
            .collect();
        if chans.is_empty() {
            out.failures.push(format!(
                "spectral: board `{}` has no channel {:?}",
                trial.board.name, x.channels
            ));
            continue;
        }
        for c in chans {
            for (i, seg) in segments.iter().enumerate() {
                let (a, b) = (
                    seg.first_row + x.skip_rows,
                    seg.end_row.min(data.num_samples),
                );
                let values = if a < b {
                    &data.row(c.row)[a..b]
                } else {
                    &[][..]
                };
                let (values, lead, tail) = crate::spectral::trim_missing(values);
                if lead + tail > 0 {
                    out.log.push(format!(
                        "spectral: {} in stream {}: {lead} leading and {tail} trailing rows without a value (NaN) left out",
                        c.signal,
                        i + 1
                    ));
                }
                let Some(m) = crate::spectral::measure(values, seg.rate) else {
                    out.failures.push(format!(
                        "spectral: {} in stream {}: {} rows, too few to measure",
                        c.signal,
                        i + 1,
                        values.len()
                    ));
                    continue;
                };
                let at = format!("spectral: {} in stream {}", c.signal, i + 1);
                out.log.push(format!(
                    "{at}: {:.4} Hz, RMS {:.3}, peak-to-peak {:.3}, SNR {:.1} dB over {} rows",
                    m.dominant_hz, m.rms, m.peak_to_peak, m.snr_db, m.n
                ));
                if (m.dominant_hz - x.hz).abs() > x.tolerance_hz {
                    out.failures.push(format!(
                        "{at}: dominant frequency {:.4} Hz, expected {} ± {} Hz",
                        m.dominant_hz, x.hz, x.tolerance_hz
                    ));
                }
                for (what, got, want) in [
                    ("RMS", m.rms, x.rms),
                    ("peak-to-peak", m.peak_to_peak, x.peak_to_peak),
                ] {
                    if let Some(want) = want {
                        if (got / want - 1.0).abs() * 100.0 > x.tolerance_pct {
                            out.failures.push(format!(
                                "{at}: {what} {got:.3}, expected {want} ± {} %",
                                x.tolerance_pct
                            ));
                        }
                    }
                }
                if let Some(min) = x.snr_db {
                    if m.snr_db < min {
                        out.failures
                            .push(format!("{at}: SNR {:.1} dB, below {min} dB", m.snr_db));
                    }
                }
            }
        }
    }
}

/// Compares one preset's rows with the declared signals; failures name the
/// preset (unless it is the default one), the row, channel and values.
fn verify_signal(
    trial: &Trial,
    preset: Preset,
    data: &Data,
    segments: &[Segment],
    check: &SignalCheck,
    out: &mut Outcome,
) {
    let mut r = check_signals(data, &trial.board, preset, &trial.scenario, segments, check);
    out.values_checked += r.values_checked;
    out.plots.append(&mut r.plots);
    out.failures.extend(r.problems.iter().cloned());
    let what = match preset {
        Preset::Default => String::new(),
        p => format!("{} preset ", crate::binding::preset_key(p)),
    };
    if r.mismatches > 0 {
        out.failures.push(format!(
            "signal: {} of {} {what}values outside {} LSB; first: {}",
            r.mismatches,
            r.values_checked,
            check.tolerance_lsb,
            r.first.as_ref().map(|m| m.to_string()).unwrap_or_default()
        ));
    }
    if r.values_checked == 0 {
        out.failures.push(format!(
            "signal: no {what}value was compared (no rows, or no channel applies)"
        ));
    }
}

fn check_markers(trial: &Trial, played: &Played, data: &Data, out: &mut Outcome) {
    let row = trial.board.descr.marker_channel;
    if data.num_samples == 0 || row >= data.num_rows {
        if !played.markers.is_empty() {
            out.failures
                .push("markers were inserted but no data came back".into());
        }
        return;
    }
    let marks = data.row(row);
    let mut expected_rows: Vec<usize> = Vec::new();
    for (v, lo, hi) in &played.markers {
        // Markers queue (one per row, as in BrainFlow): one inserted while an
        // earlier one still waits for its row lands on the row after it.
        let after_prev = expected_rows.last().map_or(0, |r| r + 1);
        let (lo, hi) = ((*lo).max(after_prev), (*hi).max(after_prev));
        let found: Vec<usize> = (lo..=hi.min(data.num_samples.saturating_sub(1)))
            .filter(|r| marks[*r] == *v)
            .collect();
        match found.as_slice() {
            [r] => expected_rows.push(*r),
            [] => out.failures.push(format!(
                "marker {v}: not on the next sample (rows {lo}..={hi})"
            )),
            many => out
                .failures
                .push(format!("marker {v}: on several rows {many:?}")),
        }
    }
    let stray: Vec<usize> = (0..data.num_samples)
        .filter(|r| marks[*r] != 0.0 && !expected_rows.contains(r))
        .collect();
    if !stray.is_empty() {
        out.failures.push(format!(
            "markers on rows nobody marked: {:?}",
            &stray[..stray.len().min(10)]
        ));
    }
}

/// The command records without the refused bytes a driver wrote right after
/// each accepted command, where exactly `overrun` of them follow it (a
/// driver bug the board declares); the bytes of each such tail, as hex. A
/// tail of another length stays, so the commands check shows it.
fn without_overrun(
    records: &[CommandRecord],
    overrun: usize,
) -> (Vec<&CommandRecord>, Vec<String>) {
    let mut kept = Vec::with_capacity(records.len());
    let mut tails = Vec::new();
    let mut i = 0;
    while i < records.len() {
        kept.push(&records[i]);
        let accepted = records[i].rule.is_some() && records[i].rejected.is_none();
        i += 1;
        if overrun == 0 || !accepted {
            continue;
        }
        let tail: Vec<_> = records[i..]
            .iter()
            .take_while(|r| r.rule.is_none())
            .collect();
        let bytes: Vec<u8> = tail
            .iter()
            .flat_map(|r| r.text.chars().map(|c| c as u32 as u8))
            .collect();
        if bytes.len() == overrun {
            tails.push(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
            i += tail.len();
        }
    }
    (kept, tails)
}

#[cfg(test)]
mod tests {
    use super::{without_overrun, CommandRecord};

    fn rec(rule: Option<&str>, text: &str) -> CommandRecord {
        CommandRecord {
            rule: rule.map(String::from),
            text: text.into(),
            rejected: rule.is_none().then(|| "no command".into()),
            packet: None,
            state: None,
            started_stream: false,
        }
    }

    #[test]
    fn only_tails_of_exactly_the_overrun_are_taken_out() {
        let r = [
            rec(Some("get_config"), "x"),
            rec(None, "\0"),
            rec(None, "r"),
            rec(Some("start"), "y"),
            rec(None, "\0"),
            rec(Some("stop"), "z"),
            rec(None, "a"),
            rec(None, "b"),
        ];
        let (kept, tails) = without_overrun(&r, 2);
        let names: Vec<_> = kept
            .iter()
            .map(|c| c.rule.clone().unwrap_or(format!("?{}", c.text)))
            .collect();
        // start's one-byte tail is not the declared two: it stays, and shows.
        assert_eq!(names, ["get_config", "start", "?\0", "stop"]);
        assert_eq!(tails, ["0072", "6162"]);
        assert_eq!(without_overrun(&r, 0).0.len(), r.len());
    }
}

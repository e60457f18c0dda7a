//! The emulator's packets have the structure of real devices' packets: given the
//! signal a capture carries, the profile sends notifications with the capture's
//! framing, counters, tags and lengths (captures in `boards/tests/captures/`,
//! sources and licences in each folder's README). Read with the layouts' own
//! arithmetic written here, never through a decoder.

use boardloop_emulators::join::Joiner;
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Device, Profile, Scenario};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The notifications of a capture file: one per line, bytes in hex, `#` comments.
fn capture(name: &str) -> Vec<u8> {
    let path = root().join("boards/tests/captures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(lines.len(), 1, "{name}: one notification");
    lines[0]
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

fn device(name: &str, body: &str) -> (Scenario, Device) {
    let file = root().join(format!("scenarios/devices/{name}.yaml"));
    let profile = Arc::new(Profile::load(&file).unwrap());
    let text = format!("device: {name}\nsteps: []\n{body}");
    let path = Path::new("/virtual/captures/test.yaml");
    let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, &text).unwrap();
    let s = Scenario::with_profile(path, &text, decl, profile).unwrap();
    let d = Device::new(
        s.profile.clone(),
        s.signals.clone(),
        s.initial_state.clone(),
    );
    (s, d)
}

fn stream(s: &Scenario, name: &str) -> usize {
    s.profile
        .streams
        .iter()
        .position(|st| st.name == name)
        .unwrap_or_else(|| panic!("no stream {name}"))
}

#[test]
fn muse_eeg_notification_is_the_captures_byte_for_byte() {
    // muse.spec.ts's notification: sequence 1 on AF8, samples alternating -687.5
    // and -562.5 µV (raw 0x280, 0x380). A 128 Hz square wave sampled at 256 Hz
    // gives that alternation; the second packet carries sequence 1.
    let want = capture("muse-js/eeg_notification.hex");
    let (s, mut d) = device(
        "muse_2016",
        "signals:\n  eeg3: { square: { hz: 128, amplitude: -62.5, offset: -625 } }\n",
    );
    d.feed(b"\x02d\n");
    let af8 = stream(&s, "af8");
    let (ch, first) = d.next_packet_of(af8).unwrap();
    assert_eq!(ch.as_deref(), Some("af8"));
    assert_eq!(first[..2], [0, 0]);
    let (_, second) = d.next_packet_of(af8).unwrap();
    assert_eq!(second, want);
}

#[test]
fn muse_telemetry_is_the_captures_byte_for_byte_after_its_sequence_number() {
    // muse-parse.spec.ts's telemetry notification: sequence 330, battery
    // 90.859375 % (x 512 = 46520), fuel gauge 1856 (4083.2 mV), ADC 3967 mV,
    // 27 degrees C. Given those as state, every Muse before the Athena sends
    // it from sequence 0, one per 10 s.
    let want = capture("muse-js/telemetry.hex");
    for model in ["muse_2016", "muse_2", "muse_s"] {
        let (s, mut d) = device(
            model,
            "state: { battery: 90.859375, fuel_gauge: 1856, adc_mv: 3967, temperature: 27 }\n",
        );
        let t = stream(&s, "telemetry");
        d.feed(b"\x02d\n");
        assert_eq!(d.stream_packet_rate(t), 0.1, "{model}: packets/s");
        for seq in 0u16..3 {
            let (ch, p) = d.next_packet_of(t).unwrap();
            assert_eq!(ch.as_deref(), Some("telemetry"), "{model}");
            assert_eq!(p[..2], seq.to_be_bytes(), "{model}: sequence");
            assert_eq!(
                p[2..],
                want[2..],
                "{model}: packet {seq} after its sequence"
            );
        }
    }
}

/// Checks a Muse IMU notification's structure against a capture's: 20 bytes, a
/// big-endian sequence number that counts up by one, then three samples of x, y,
/// z big-endian int16; the first sample equals the capture's first sample.
fn imu_like(stream_name: &str, file: &str, scale: f64, axes: [&str; 3]) {
    let cap = capture(file);
    let raw = |b: &[u8], i: usize| i16::from_be_bytes([b[2 + 2 * i], b[3 + 2 * i]]);
    let signals: String = axes
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                "  {a}: {{ constant: {} }}\n",
                f64::from(raw(&cap, i)) * scale
            )
        })
        .collect();
    let (s, mut d) = device("muse_2016", &format!("signals:\n{signals}"));
    d.feed(b"\x02d\n");
    let i = stream(&s, stream_name);
    for seq in 0..3u16 {
        let (ch, p) = d.next_packet_of(i).unwrap();
        assert_eq!(ch.as_deref(), Some(stream_name));
        assert_eq!(p.len(), cap.len(), "{file}: length");
        assert_eq!(u16::from_be_bytes([p[0], p[1]]), seq, "{file}: sequence");
        for k in 0..9 {
            assert_eq!(raw(&p, k), raw(&cap, k % 3), "{file}: value {k}");
        }
    }
}

#[test]
fn muse_accelerometer_has_the_captures_structure() {
    imu_like(
        "accel",
        "muse-js/accelerometer.hex",
        1.0 / 16384.0,
        ["accel_x", "accel_y", "accel_z"],
    );
}

#[test]
fn muse_gyroscope_has_the_captures_structure() {
    imu_like(
        "gyro",
        "muse-js/gyroscope.hex",
        0.007476,
        ["gyro_x", "gyro_y", "gyro_z"],
    );
}

/// µV per count of the Ganglion's ADC (BrainFlow's `eeg_scale`).
const GANGLION_UV: f64 = 1.2e6 / (8388607.0 * 1.5 * 51.0);

/// The eight 19-bit fields of a Ganglion delta packet (after the id byte, MSB
/// first), as unsigned bit patterns.
fn fields19(packet: &[u8]) -> Vec<u32> {
    (0..8)
        .map(|k| {
            (0..19).fold(0, |v, i| {
                let bit = 8 + 19 * k + i;
                (v << 1) | u32::from((packet[bit / 8] >> (7 - bit % 8)) & 1)
            })
        })
        .collect()
}

/// A sine (`amplitude`, `phase_deg`, `offset`, at `hz` sampled at 200 Hz)
/// through counts 0, −d1 and −d1 − d2 at samples 10, 11 and 12: its differences
/// `previous − this` at samples 11 and 12 are d1 and d2. Solved from
/// a·sin(ωn) + b·cos(ωn) + o, a sine of amplitude hypot(a, b), phase atan2(b, a).
fn sine_with_deltas(hz: f64, d1: f64, d2: f64) -> String {
    let w = 2.0 * std::f64::consts::PI * hz / 200.0;
    let s = |n: f64| (n * w).sin();
    let c = |n: f64| (n * w).cos();
    // d1 = a (s10 − s11) + b (c10 − c11); d2 = a (s11 − s12) + b (c11 − c12).
    let (p, q) = (s(10.0) - s(11.0), c(10.0) - c(11.0));
    let (r, t) = (s(11.0) - s(12.0), c(11.0) - c(12.0));
    let det = p * t - q * r;
    let a = (d1 * t - q * d2) / det;
    let b = (p * d2 - d1 * r) / det;
    let offset = -(a * s(10.0) + b * c(10.0));
    format!(
        "{{ sine: {{ hz: {hz}, amplitude: {}, phase_deg: {}, offset: {} }} }}",
        a.hypot(b) * GANGLION_UV,
        b.atan2(a).to_degrees(),
        offset * GANGLION_UV
    )
}

#[test]
fn ganglion_firmware_2_19_bit_packet_is_the_captures_byte_for_byte() {
    // The capture (OpenBCI_NodeJS_Ganglion) is a 20-byte notification, id 106: a
    // 19-bit delta packet, which firmware 2 sends with the accelerometer off. Its
    // eight deltas are positive and even: the firmware stores each delta's sign
    // in bit 0 (compressData19: bitWrite(deltas[i], 0, bitRead(deltas[i], 31))).
    let cap = capture("openbci-nodejs-ganglion/bled112_delta_fw2.hex");
    let value = &cap[9..];
    assert_eq!((value.len(), value[0]), (20, 106));
    let deltas = fields19(value);
    assert!(
        deltas.iter().all(|d| d >> 18 == 0 && d & 1 == 0),
        "{deltas:?}"
    );
    // Id 106 is the sixth delta packet after the raw one: samples 11 and 12, the
    // first four fields (sample 10 − sample 11) then the next four (11 − 12).
    let signals: String = (0..4)
        .map(|c| {
            let sine = sine_with_deltas(2.0, f64::from(deltas[c]), f64::from(deltas[c + 4]));
            format!("  eeg{}: {sine}\n", c + 1)
        })
        .collect();
    let (s, mut d) = device(
        "ganglion",
        &format!("state: {{ firmware: 2 }}\nsignals:\n{signals}"),
    );
    // 'N': the accelerometer off, the device's power-on state.
    d.feed(b"Nb");
    let i = stream(&s, "eeg_fw2");
    let packets: Vec<Vec<u8>> = (0..120)
        .map(|_| {
            let (ch, p) = d.next_packet_of(i).unwrap();
            assert_eq!(ch.as_deref(), Some("data"));
            assert_eq!(p.len(), value.len(), "length");
            p
        })
        .collect();
    assert_eq!(packets[6], value, "the capture's packet");
    // Ids: the raw packet 0, then 101-200 (ringBufferLevel + 100), as the
    // firmware's first 201 samples. After 200 the firmware sends a raw packet
    // again (its sampleCounter wraps at 201); the emulator goes on with 101
    // (README, conventions).
    let ids: Vec<u8> = packets.iter().map(|p| p[0]).collect();
    let want: Vec<u8> = std::iter::once(0).chain(101..=200).collect();
    assert_eq!(ids[..101], want[..]);
    // 'n' while streaming: 18-bit packets from the next one, packet 120, whose
    // id 20 goes on with the count.
    d.feed(b"n");
    let (_, p) = d.next_packet_of(i).unwrap();
    assert_eq!((p.len(), p[0]), (20, 20));
}

#[test]
fn ganglion_impedance_packet_is_the_captures_byte_for_byte() {
    // The capture: CA "1207" 'Z', 6 bytes: the firmware writes the value's own
    // digits (testImpedance: loadInt(impedance), loadChar('Z')).
    let cap = capture("openbci-nodejs-ganglion/bled112_impedance.hex");
    let value = &cap[9..];
    let (s, mut d) = device("ganglion", "state: { imp2: 1207 }\n");
    d.feed(b"z");
    let i = stream(&s, "impedance");
    let (ch, first) = d.next_packet_of(i).unwrap();
    assert_eq!((ch.as_deref(), first[0]), (Some("data"), 201));
    let (_, p) = d.next_packet_of(i).unwrap();
    assert_eq!(p, value, "id 202 (channel 2), \"1207\", 'Z'");
}

// The Muse S Athena profile sends what BrainFlow's MuseAthena driver reads
// (`muse_athena.cpp`, `handle_data_notification`) in the structure of the
// captures: notifications of a 9-byte header (length, packet index u16 LE,
// clock u48 LE) and blocks [tag, block index, 3 bytes] + data, filled up to
// 244 bytes. Read here with the driver's arithmetic written out
// (`extract_lsb_bits` for 14-bit EEG and 20-bit optics).
/// BrainFlow's `extract_lsb_bits`: bit k of the value is bit (start + k) % 8
/// of byte (start + k) / 8.
fn extract_lsb_bits(data: &[u8], start: usize, bits: usize) -> u32 {
    (0..bits).fold(0, |v, k| {
        let b = start + k;
        v | u32::from((data[b / 8] >> (b % 8)) & 1) << k
    })
}

/// Checks that `block` holds `want[c]` for channel c of every one of
/// `samples` samples, each value `bits` wide, LSB first, sample after sample.
fn assert_lsb_samples(block: &[u8], bits: usize, samples: usize, want: &[u32]) {
    for sample in 0..samples {
        for (c, w) in want.iter().enumerate() {
            let got = extract_lsb_bits(block, (sample * want.len() + c) * bits, bits);
            assert_eq!(got, *w, "sample {sample} channel {c}");
        }
    }
}

fn eeg_signals() -> String {
    let mut s = String::from("signals:\n");
    for c in 1..=4 {
        s += &format!("  eeg{c}: {{ constant: {} }}\n", 10.0 * c as f64);
        s += &format!("  aux_{c}: {{ constant: {} }}\n", -20.0 * c as f64);
    }
    for c in 1..=16 {
        s += &format!("  optics{c}: {{ constant: {} }}\n", 1000 * c + 7);
    }
    s += "  accel_x: { constant: 0.25 }\n  gyro_z: { constant: 30 }\n";
    s
}

/// The raw optics counts of channels 1..=n (constants 1000 c + 7).
fn optics_raw(n: u32) -> Vec<u32> {
    (1..=n).map(|c| 1000 * c + 7).collect()
}

fn eeg_raw(uv: f64) -> u32 {
    // BrainFlow's Athena EEG: (raw − 8192) × 1450 / 16383 µV.
    ((uv / (1450.0 / 16383.0)).round() + 8192.0) as u32
}

/// The notifications of a capture file, one per line, bytes in hex.
fn capture_lines(name: &str) -> Vec<Vec<u8>> {
    let path = root().join("boards/tests/captures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).unwrap())
                .collect()
        })
        .collect()
}

/// The most an Athena notification holds (ATT MTU 247 less 3).
const ATHENA_MAX: usize = 244;

/// Data bytes after a block's 5-byte header, by tag: BrainFlow's sizes, and
/// 0x53 (DRL/REF) and 0x88 (battery, newer firmware) as the captures show
/// them (boards/tests/captures/README.md).
fn athena_data_len(tag: u8) -> usize {
    match tag {
        0x11 | 0x12 => 28,
        0x34 => 30,
        0x35 | 0x36 => 40,
        0x47 => 36,
        0x53 => 24,
        0x88 | 0x98 => 20,
        _ => panic!("unknown tag {tag:#04x}"),
    }
}

/// One block of a notification: its tag, block index and data.
struct Block<'a> {
    tag: u8,
    index: u8,
    data: &'a [u8],
}

/// Splits a notification into its blocks, checking its framing: the length
/// byte is the notification's length, at most 244, and the blocks after the
/// 9-byte header end exactly at its end.
fn athena_blocks<'a>(what: &str, n: &'a [u8]) -> Vec<Block<'a>> {
    assert_eq!(usize::from(n[0]), n.len(), "{what}: length byte");
    assert!(n.len() <= ATHENA_MAX, "{what}: {} bytes", n.len());
    let mut out = Vec::new();
    let mut at = 9;
    while at < n.len() {
        let (tag, index) = (n[at], n[at + 1]);
        let end = at + 5 + athena_data_len(tag);
        assert!(end <= n.len(), "{what}: block {tag:#04x} past the end");
        out.push(Block {
            tag,
            index,
            data: &n[at + 5..end],
        });
        at = end;
    }
    out
}

/// Checks the structure the captures show on a run of consecutive
/// notifications: each framed as [`athena_blocks`] says; the packet index
/// counts the notifications; each tag's block index counts its blocks; and
/// a notification went out because the next block would not fit (its
/// length plus the next notification's first block passes 244). Returns the
/// tags seen and the shortest and longest notification.
fn assert_athena_structure(what: &str, notes: &[Vec<u8>]) -> (Vec<u8>, usize, usize) {
    let mut last_block = std::collections::BTreeMap::<u8, u8>::new();
    for (k, n) in notes.iter().enumerate() {
        let what = format!("{what}, notification {k}");
        let blocks = athena_blocks(&what, n);
        for b in &blocks {
            if let Some(prev) = last_block.insert(b.tag, b.index) {
                assert_eq!(b.index, prev.wrapping_add(1), "{what}: tag {:#04x}", b.tag);
            }
        }
        if let Some(next) = notes.get(k + 1) {
            let index = |n: &[u8]| u16::from_le_bytes([n[1], n[2]]);
            assert_eq!(
                index(next),
                index(n).wrapping_add(1),
                "{what}: packet index"
            );
            let first = 5 + athena_data_len(next[9]);
            assert!(
                n.len() + first > ATHENA_MAX,
                "{what}: {} bytes went out though the next block ({first} bytes) fitted",
                n.len()
            );
        }
    }
    let tags = last_block.into_keys().collect();
    let lens = notes.iter().map(Vec::len);
    (tags, lens.clone().min().unwrap(), lens.max().unwrap())
}

/// The device's first `count` notifications: its running streams' blocks
/// in the order they are due (as the device samples them; ties in stream
/// order), joined as the BLE emulator joins them.
fn athena_notifications(d: &mut Device, count: usize) -> Vec<Vec<u8>> {
    let streams = d.profile().streams.len();
    let running: Vec<usize> = (0..streams).filter(|&i| d.runs_stream(i)).collect();
    let rates: Vec<f64> = (0..streams).map(|i| d.stream_packet_rate(i)).collect();
    let mut built = vec![0u64; streams];
    let mut joiner = Joiner::new();
    let mut out = Vec::new();
    while out.len() < count {
        let due = |i: usize| built[i] as f64 / rates[i];
        let i = *running
            .iter()
            .min_by(|&&a, &&b| due(a).total_cmp(&due(b)))
            .unwrap();
        built[i] += 1;
        for n in joiner.next_of(d, i, None, ()).unwrap() {
            assert_eq!(n.ch.as_deref(), Some("data_1"), "everything on 273e0013");
            out.push(n.bytes);
        }
    }
    out
}

/// The data of the `k`-th block (from 0) with `tag` in `notes`.
fn nth_block(notes: &[Vec<u8>], tag: u8, k: usize) -> Vec<u8> {
    notes
        .iter()
        .flat_map(|n| {
            athena_blocks("emulator", n)
                .into_iter()
                .map(|b| (b.tag, b.data.to_vec()))
        })
        .filter(|(t, _)| *t == tag)
        .nth(k)
        .unwrap_or_else(|| panic!("no block {k} of tag {tag:#04x}"))
        .1
}

#[test]
fn athena_captures_and_emulator_share_the_notification_structure() {
    // The preset of each capture: muse-jsx's are named by it; OpenMuse's
    // battery files do not say, so a preset that streams their tags (p1041
    // or p1042; a two-digit one; p1045 or p1046).
    let files = [
        ("openmuse/battery_16_80.hex", "p1041"),
        ("openmuse/battery_58_27.hex", "p21"),
        ("openmuse/battery_90_40.hex", "p1045"),
        ("openmuse/p1045.hex", "p1045"),
        ("muse-jsx/log_p21.hex", "p21"),
        ("muse-jsx/log_p1034.hex", "p1034"),
        ("muse-jsx/log_p1035.hex", "p1035"),
        ("muse-jsx/log_p1041.hex", "p1041"),
        ("muse-jsx/log_p1045.hex", "p1045"),
    ];
    let mut checked = 0;
    for (file, preset) in files {
        let cap = capture_lines(file);
        let (cap_tags, cap_min, cap_max) = assert_athena_structure(file, &cap);
        let (_, mut d) = device("muse_s_athena", &eeg_signals());
        let cmd = format!("{preset}\n");
        let mut frame = vec![cmd.len() as u8];
        frame.extend_from_slice(cmd.as_bytes());
        d.feed(&frame);
        d.feed(b"\x06dc001\n");
        assert_eq!(d.state().get("preset"), Some(preset[1..].parse().unwrap()));
        let emu = athena_notifications(&mut d, 60);
        let what = format!("emulator at {preset}");
        let (tags, min, max) = assert_athena_structure(&what, &emu);
        // The same sensors (the battery under either tag), in notifications
        // as full as the captures'.
        let sensors = |t: &[u8]| -> Vec<u8> {
            let mut v: Vec<u8> = t
                .iter()
                .filter(|&&t| t != 0x53)
                .map(|&t| if t == 0x88 { 0x98 } else { t })
                .collect();
            v.sort();
            v.dedup();
            v
        };
        // A 25-notification prefix may hold no battery block (one a second).
        let mut cap_sensors = sensors(&cap_tags);
        if !cap_sensors.contains(&0x98) {
            cap_sensors.push(0x98);
            cap_sensors.sort();
        }
        assert_eq!(sensors(&tags), cap_sensors, "{what}: tags against {file}");
        assert!(
            min >= 200 && max <= ATHENA_MAX && cap_min >= 200,
            "{what}: {min}-{max} bytes, {file}: {cap_min}-{cap_max}"
        );
        // Packet index from 0 on a fresh stream.
        assert_eq!(emu[0][1..3], [0, 0]);
        checked += 1;
    }
    assert_eq!(checked, files.len());
}

#[test]
fn default_preset_sends_eeg8_optics16_imu_and_battery() {
    let (_, mut d) = device("muse_s_athena", &eeg_signals());
    d.feed(b"\x06dc001\n");
    let notes = athena_notifications(&mut d, 40);
    let want_eeg: Vec<u32> = (1..=4)
        .map(|c| eeg_raw(10.0 * c as f64))
        .chain((1..=4).map(|c| eeg_raw(-20.0 * c as f64)))
        .collect();
    for k in [0, 1, 50] {
        assert_lsb_samples(&nth_block(&notes, 0x12, k), 14, 2, &want_eeg);
    }
    assert_lsb_samples(&nth_block(&notes, 0x36, 3), 20, 1, &optics_raw(16));
    let b = nth_block(&notes, 0x47, 0);
    let i16le = |i: usize| i16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
    for sample in 0..3 {
        let v: Vec<i16> = (0..6).map(|k| i16le(sample * 6 + k)).collect();
        // 0.25 g / (1/16384 g); 30 °/s / −0.007476806640625 rounds to −4012.
        assert_eq!(v, [4096, 0, 0, 0, 0, -4012], "sample {sample}");
    }
    // 80.25 % in 1/256 %.
    let b = nth_block(&notes, 0x98, 0);
    assert_eq!(u16::from_le_bytes([b[0], b[1]]), 20544);
    // The header's clock: the ms of its first block's first sample, u48 LE.
    let second = &notes[1];
    let clock = u64::from_le_bytes([
        second[3], second[4], second[5], second[6], second[7], second[8], 0, 0,
    ]);
    let first = athena_blocks("emulator", second)[0].tag;
    assert!(
        clock > 0,
        "notification 1 starts later than 0 (first tag {first:#04x})"
    );
    // p1041 streams neither the 4-channel EEG nor the other optics.
    let tags: std::collections::BTreeSet<u8> = notes
        .iter()
        .flat_map(|n| athena_blocks("emulator", n).into_iter().map(|b| b.tag))
        .collect();
    assert_eq!(
        tags.into_iter().collect::<Vec<_>>(),
        [0x12, 0x36, 0x47, 0x98]
    );
}

#[test]
fn p21_sends_eeg4_without_optics_and_p1034_optics8() {
    let (_, mut d) = device("muse_s_athena", &eeg_signals());
    d.feed(b"\x04p21\n");
    d.feed(b"\x06dc001\n");
    let notes = athena_notifications(&mut d, 10);
    let want: Vec<u32> = (1..=4).map(|c| eeg_raw(10.0 * c as f64)).collect();
    assert_lsb_samples(&nth_block(&notes, 0x11, 0), 14, 4, &want);
    d.feed(b"\x02h\n");
    d.feed(b"\x06p1034\n");
    d.feed(b"\x06dc001\n");
    let notes = athena_notifications(&mut d, 20);
    // A new stream counts the notifications from 0 again.
    assert_eq!(notes[0][1..3], [0, 0]);
    assert_lsb_samples(&nth_block(&notes, 0x35, 0), 20, 2, &optics_raw(8));
    assert!(nth_block(&notes, 0x11, 0).len() == 28);
}

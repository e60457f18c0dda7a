//! The emulator's packets have the structure of real devices' packets: given the
//! signal a capture carries, the profile sends notifications with the capture's
//! framing, counters, tags and lengths (captures in `boards/tests/captures/`,
//! sources and licences in each folder's README). Read with the layouts' own
//! arithmetic written here, never through a decoder.

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

// The Muse S Athena profile sends the packets BrainFlow's MuseAthena driver
// reads (`muse_athena.cpp`, `handle_data_notification`): a 14-byte header
// (length, packet index u16 LE, clock, tag at 9, block index at 10) and the
// block of its tag, read here with the driver's arithmetic written out
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

/// Checks the header (packet `index` on its characteristic, block
/// `blk` of its tag) and returns the block.
fn block(p: &[u8], tag: u8, len: usize, index: u16, blk: u8) -> &[u8] {
    assert_eq!(p.len(), 14 + len, "tag {tag:#x}: length");
    assert_eq!(usize::from(p[0]), p.len(), "tag {tag:#x}: length byte");
    assert_eq!(
        u16::from_le_bytes([p[1], p[2]]),
        index,
        "tag {tag:#x}: index"
    );
    assert_eq!(p[9], tag, "tag");
    assert_eq!(p[10], blk, "tag {tag:#x}: block index");
    &p[14..]
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

#[test]
fn default_preset_sends_eeg8_optics16_imu_and_battery() {
    let (s, mut d) = device("muse_s_athena", &eeg_signals());
    d.feed(b"\x06dc001\n");
    let want_eeg: Vec<u32> = (1..=4)
        .map(|c| eeg_raw(10.0 * c as f64))
        .chain((1..=4).map(|c| eeg_raw(-20.0 * c as f64)))
        .collect();
    let eeg8 = stream(&s, "eeg8");
    for index in 0..3u16 {
        let (ch, p) = d.next_packet_of(eeg8).unwrap();
        assert_eq!(ch.as_deref(), Some("data_1"));
        assert_lsb_samples(block(&p, 0x12, 28, index, index as u8), 14, 2, &want_eeg);
    }
    // The three streams of data_2 share its packet index (0, 1, 2), as on
    // the device; each counts its own blocks.
    let optics = stream(&s, "optics16");
    let (ch, p) = d.next_packet_of(optics).unwrap();
    assert_eq!(ch.as_deref(), Some("data_2"));
    assert_lsb_samples(block(&p, 0x36, 40, 0, 0), 20, 1, &optics_raw(16));
    let imu = stream(&s, "imu");
    let (_, p) = d.next_packet_of(imu).unwrap();
    let b = block(&p, 0x47, 36, 1, 0);
    let i16le = |i: usize| i16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
    for sample in 0..3 {
        let v: Vec<i16> = (0..6).map(|k| i16le(sample * 6 + k)).collect();
        // 0.25 g / (1/16384 g); 30 °/s / −0.007476806640625 rounds to −4012.
        assert_eq!(v, [4096, 0, 0, 0, 0, -4012], "sample {sample}");
    }
    let battery = stream(&s, "battery");
    let (_, p) = d.next_packet_of(battery).unwrap();
    let b = block(&p, 0x98, 20, 2, 0);
    // 80.25 % in 1/256 %.
    assert_eq!(u16::from_le_bytes([b[0], b[1]]), 20544);
    // The next optics block: data_2's fourth packet, its tag's second block.
    let (_, p) = d.next_packet_of(optics).unwrap();
    assert_lsb_samples(block(&p, 0x36, 40, 3, 1), 20, 1, &optics_raw(16));
    // p1041 streams neither the 4-channel EEG nor the other optics.
    for name in ["eeg4", "optics4", "optics8"] {
        assert!(d.next_packet_of(stream(&s, name)).is_none(), "{name}");
    }
}

#[test]
fn p21_sends_eeg4_without_optics_and_p1034_optics8() {
    let (s, mut d) = device("muse_s_athena", &eeg_signals());
    d.feed(b"\x04p21\n");
    d.feed(b"\x06dc001\n");
    assert!(d.next_packet_of(stream(&s, "eeg8")).is_none());
    assert!(d.next_packet_of(stream(&s, "optics16")).is_none());
    let (_, p) = d.next_packet_of(stream(&s, "eeg4")).unwrap();
    let want: Vec<u32> = (1..=4).map(|c| eeg_raw(10.0 * c as f64)).collect();
    assert_lsb_samples(block(&p, 0x11, 28, 0, 0), 14, 4, &want);
    d.feed(b"\x02h\n");
    d.feed(b"\x06p1034\n");
    d.feed(b"\x06dc001\n");
    // A new stream counts data_2's packets from 0 again.
    let (_, p) = d.next_packet_of(stream(&s, "optics8")).unwrap();
    assert_lsb_samples(block(&p, 0x35, 40, 0, 0), 20, 2, &optics_raw(8));
    assert!(d.next_packet_of(stream(&s, "eeg4")).is_some());
}

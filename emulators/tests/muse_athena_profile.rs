//! The Muse S Athena profile sends the packets BrainFlow's MuseAthena driver
//! reads (`muse_athena.cpp`, `handle_data_notification`): a 14-byte header
//! (length, packet index u16 LE, clock, tag at 9, block index at 10) and the
//! block of its tag. Read here with the driver's arithmetic written out
//! (`extract_lsb_bits` for 14-bit EEG and 20-bit optics), never a decoder.

use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Device, Profile, Scenario};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const EEG_SCALE: f64 = 1450.0 / 16383.0;

fn device(body: &str) -> (Scenario, Device) {
    let file = root().join("scenarios/devices/muse_s_athena.yaml");
    let profile = Arc::new(Profile::load(&file).unwrap());
    let text = format!("device: muse_s_athena\nsteps: []\n{body}");
    let path = Path::new("/virtual/athena/test.yaml");
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

/// BrainFlow's `extract_lsb_bits`: bit k of the value is bit (start + k) % 8
/// of byte (start + k) / 8.
fn extract_lsb_bits(data: &[u8], start: usize, bits: usize) -> u32 {
    (0..bits).fold(0, |v, k| {
        let b = start + k;
        v | u32::from((data[b / 8] >> (b % 8)) & 1) << k
    })
}

/// Checks the header and returns the block.
fn block(p: &[u8], tag: u8, len: usize, index: u16) -> &[u8] {
    assert_eq!(p.len(), 14 + len, "tag {tag:#x}: length");
    assert_eq!(usize::from(p[0]), p.len(), "tag {tag:#x}: length byte");
    assert_eq!(
        u16::from_le_bytes([p[1], p[2]]),
        index,
        "tag {tag:#x}: index"
    );
    assert_eq!(p[9], tag, "tag");
    assert_eq!(p[10], index as u8, "tag {tag:#x}: block index");
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

fn eeg_raw(uv: f64) -> u32 {
    ((uv / EEG_SCALE).round() + 8192.0) as u32
}

#[test]
fn default_preset_sends_eeg8_optics16_imu_and_battery() {
    let (s, mut d) = device(&eeg_signals());
    d.feed(b"\x06dc001\n");
    let want_eeg: Vec<u32> = (1..=4)
        .map(|c| eeg_raw(10.0 * c as f64))
        .chain((1..=4).map(|c| eeg_raw(-20.0 * c as f64)))
        .collect();
    let eeg8 = stream(&s, "eeg8");
    for index in 0..3u16 {
        let (ch, p) = d.next_packet_of(eeg8).unwrap();
        assert_eq!(ch.as_deref(), Some("data_1"));
        let b = block(&p, 0x12, 28, index);
        for sample in 0..2 {
            for (c, want) in want_eeg.iter().enumerate() {
                let got = extract_lsb_bits(b, (sample * 8 + c) * 14, 14);
                assert_eq!(got, *want, "sample {sample} channel {c}");
            }
        }
    }
    let optics = stream(&s, "optics16");
    let (ch, p) = d.next_packet_of(optics).unwrap();
    assert_eq!(ch.as_deref(), Some("data_2"));
    let b = block(&p, 0x36, 40, 0);
    for c in 0..16 {
        assert_eq!(extract_lsb_bits(b, c * 20, 20), 1000 * (c as u32 + 1) + 7);
    }
    let imu = stream(&s, "imu");
    let (_, p) = d.next_packet_of(imu).unwrap();
    let b = block(&p, 0x47, 36, 0);
    let i16le = |i: usize| i16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
    for sample in 0..3 {
        let v: Vec<i16> = (0..6).map(|k| i16le(sample * 6 + k)).collect();
        // 0.25 g / (1/16384 g); 30 °/s / −0.007476806640625 rounds to −4012.
        assert_eq!(v, [4096, 0, 0, 0, 0, -4012], "sample {sample}");
    }
    let battery = stream(&s, "battery");
    let (_, p) = d.next_packet_of(battery).unwrap();
    let b = block(&p, 0x98, 20, 0);
    // 80.25 % in 1/256 %.
    assert_eq!(u16::from_le_bytes([b[0], b[1]]), 20544);
    // p1041 streams neither the 4-channel EEG nor the other optics.
    for name in ["eeg4", "optics4", "optics8"] {
        assert!(d.next_packet_of(stream(&s, name)).is_none(), "{name}");
    }
}

#[test]
fn p21_sends_eeg4_without_optics_and_p1034_optics8() {
    let (s, mut d) = device(&eeg_signals());
    d.feed(b"\x04p21\n");
    d.feed(b"\x06dc001\n");
    assert!(d.next_packet_of(stream(&s, "eeg8")).is_none());
    assert!(d.next_packet_of(stream(&s, "optics16")).is_none());
    let (_, p) = d.next_packet_of(stream(&s, "eeg4")).unwrap();
    let b = block(&p, 0x11, 28, 0);
    for sample in 0..4 {
        for c in 0..4 {
            let got = extract_lsb_bits(b, (sample * 4 + c) * 14, 14);
            assert_eq!(
                got,
                eeg_raw(10.0 * (c + 1) as f64),
                "sample {sample} channel {c}"
            );
        }
    }
    d.feed(b"\x02h\n");
    d.feed(b"\x06p1034\n");
    d.feed(b"\x06dc001\n");
    let (_, p) = d.next_packet_of(stream(&s, "optics8")).unwrap();
    let b = block(&p, 0x35, 40, 0);
    for sample in 0..2 {
        for c in 0..8 {
            let got = extract_lsb_bits(b, (sample * 8 + c) * 20, 20);
            assert_eq!(
                got,
                1000 * (c as u32 + 1) + 7,
                "sample {sample} channel {c}"
            );
        }
    }
    assert!(d.next_packet_of(stream(&s, "eeg4")).is_some());
}

//! The Ganglion profile sends what PROTOCOLS.md says a Ganglion sends, decoded
//! here from the facts alone (bit reader written for this test).

use boardloop_emulators::load::parse_yaml;
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{ChannelModel, Device, Profile, Scenario};
use std::path::Path;
use std::sync::Arc;

fn scenario(body: &str) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&dir.join("ganglion.yaml")).unwrap());
    let text = format!("device: ganglion\nsteps: []\n{body}");
    let path = Path::new("/virtual/ganglion/t.yaml");
    let decl: ScenarioDecl = parse_yaml(path, &text).unwrap();
    Scenario::with_profile(path, &text, decl, profile).unwrap()
}

/// Reads `n` bits MSB first from `b` starting at bit `at`, as BrainFlow reads a
/// compressed Ganglion field: negative values are one below two's complement
/// (`-(~bits) - 2`), which is how the device's quirk comes out right.
fn bits(b: &[u8], at: usize, n: usize) -> i64 {
    let mut v: i64 = 0;
    for k in at..at + n {
        v = (v << 1) | i64::from((b[k / 8] >> (7 - k % 8)) & 1);
    }
    if v >> (n - 1) & 1 == 1 {
        v - (1 << n) - 1
    } else {
        v
    }
}

/// A plain 24-bit two's complement field (firmware 2's raw packet).
fn int24(b: &[u8], at: usize) -> i64 {
    let v = bits(b, at, 24);
    if v < 0 {
        v + 1
    } else {
        v
    }
}

const UV: f64 = 1.2e6 / (8388607.0 * 1.5 * 51.0);

fn expect_uv(sc: &Scenario, ch: usize, n: u64) -> f64 {
    sc.signals.value(&format!("eeg{ch}"), n, 200.0)
}

#[test]
fn gatt_table_and_revision_follow_the_facts() {
    let sc = scenario("");
    let ble = sc.profile.ble.as_ref().unwrap();
    assert!(ble.advertise.contains(&"fe84".to_string()));
    let chars: Vec<_> = ble
        .services
        .iter()
        .flat_map(|s| s.characteristics.iter())
        .collect();
    let data = chars.iter().find(|c| c.name == "data").unwrap();
    assert_eq!(data.uuid, "2d30c082-f39f-4ce6-923f-3484ea480596");
    let rev = chars.iter().find(|c| c.uuid == "2a28").unwrap();
    assert_eq!(rev.value.as_deref(), Some("{firmware}.0.0"));
}

#[test]
fn firmware3_sends_two_samples_of_18_bit_values() {
    let sc = scenario("signals:\n  eeg1: { sine: { hz: 5, amplitude: 300 } }\n  eeg2: { constant: -120 }\n  eeg3: { noise: { seed: 1, amplitude: 1000 } }\n  eeg4: { constant: 0.5 }\n");
    let mut d = Device::new(
        sc.profile.clone(),
        sc.signals.clone(),
        sc.initial_state.clone(),
    );
    d.feed(b"b");
    assert_eq!(d.active_streams(), vec![0]);
    for p in 0..250u64 {
        let (ch, pkt) = d.next_packet_of(0).unwrap();
        assert_eq!(ch.as_deref(), Some("data"));
        assert_eq!(pkt.len(), 20);
        assert_eq!(pkt[0] as u64, p % 100);
        for s in 0..2 {
            for c in 0..4 {
                let v = bits(&pkt, 8 + (s * 4 + c) * 18, 18) << 6;
                let want = expect_uv(&sc, c + 1, 2 * p + s as u64);
                assert!(
                    (v as f64 * UV - want).abs() <= 64.0 * UV / 2.0 + 1e-9,
                    "p{p} s{s} c{c}"
                );
            }
        }
    }
}

#[test]
fn firmware3_with_the_accelerometer_off_sends_19_bit_packets_ids_100_to_199() {
    let sc = scenario("signals:\n  eeg*: { constant: -77 }\n");
    let mut d = Device::new(
        sc.profile.clone(),
        sc.signals.clone(),
        sc.initial_state.clone(),
    );
    // 'N' turns the accelerometer off (the firmware's DISABLE_ACCELEROMETER).
    d.feed(b"Nb");
    let (_, pkt) = d.next_packet_of(0).unwrap();
    assert_eq!(pkt[0], 100);
    let v = bits(&pkt, 8 + 3 * 19, 19) << 5;
    assert!((v as f64 * UV + 77.0).abs() <= 16.0 * UV);
    // 'n' while streaming: 18-bit packets from the next one, the count going on.
    d.feed(b"n");
    let (_, pkt) = d.next_packet_of(0).unwrap();
    assert_eq!(pkt[0], 1);
    let v = bits(&pkt, 8 + 3 * 18, 18) << 6;
    assert!((v as f64 * UV + 77.0).abs() <= 32.0 * UV);
}

/// Firmware 2 from `commands` (which start the stream): a raw packet, then 230
/// delta packets of `width` bits (18: the accelerometer on, 19: off), each
/// sample within half a count of the signal. Returns the packets after the raw one.
fn firmware2_deltas(commands: &[u8], width: usize) -> Vec<Vec<u8>> {
    let sc = scenario("state: { firmware: 2 }\nsignals:\n  eeg*: { sine: { hz: 3, amplitude: 200 } }\n  eeg3: { sawtooth: { hz: 7, amplitude: 100 } }\n  accel_x: { constant: 0.48 }\n  accel_y: { constant: -0.32 }\n  accel_z: { constant: 1.008 }\n");
    let mut d = Device::new(
        sc.profile.clone(),
        sc.signals.clone(),
        sc.initial_state.clone(),
    );
    d.feed(commands);
    assert_eq!(d.active_streams(), vec![1]);
    let (_, first) = d.next_packet_of(1).unwrap();
    assert_eq!(first[0], 0);
    assert_eq!(&first[13..], b"ABCDEFG", "the firmware's padding");
    let mut last: Vec<i64> = (0..4).map(|c| int24(&first, 8 + c * 24)).collect();
    for (c, v) in last.iter().enumerate() {
        assert!((*v as f64 * UV - expect_uv(&sc, c + 1, 0)).abs() <= UV / 2.0 + 1e-9);
    }
    let base = if width == 19 { 100 } else { 0 };
    let mut packets = Vec::new();
    for p in 1..=230u64 {
        let (_, pkt) = d.next_packet_of(1).unwrap();
        assert_eq!(pkt.len(), 20);
        assert_eq!(
            pkt[0] as u64,
            base + (p - 1) % 100 + 1,
            "ids wrap in their range"
        );
        let deltas: Vec<i64> = (0..8).map(|k| bits(&pkt, 8 + k * width, width)).collect();
        // BrainFlow: last[i] = last[i+4] - d[i] for the first sample, then
        // last[i] = last[i-4] - d[i] for the second: each is previous - this.
        for s in 0..2 {
            for c in 0..4 {
                last[c] -= deltas[s * 4 + c];
                let n = 2 * p - 1 + s as u64;
                assert!(
                    (last[c] as f64 * UV - expect_uv(&sc, c + 1, n)).abs() <= UV / 2.0 + 1e-9,
                    "p{p} c{c}"
                );
            }
        }
        packets.push(pkt);
    }
    packets
}

#[test]
fn firmware2_sends_a_raw_sample_then_deltas() {
    let packets = firmware2_deltas(b"b", 18);
    for (pkt, p) in packets.iter().zip(1u64..) {
        let acc = pkt[19] as i8;
        let want = match p % 10 {
            0 => -1.008, // the byte carries -z
            1 => -0.32,
            2 => 0.48,
            _ => 0.0,
        };
        assert!((f64::from(acc) * 0.016 - want).abs() < 1e-9, "p{p}");
    }
}

#[test]
fn firmware2_with_the_accelerometer_off_sends_19_bit_deltas() {
    // 'N' before 'b': the firmware's compressData19, ids ringBufferLevel + 100
    // (101-200), eight 19-bit fields filling the 19 bytes after the id.
    firmware2_deltas(b"Nb", 19);
}

#[test]
fn impedance_mode_reports_ascii_digits_for_each_channel() {
    // As many digits as the value has (the firmware's loadInt), none for 0.
    let sc = scenario("state: { imp3: 987654, imp5: 0 }\n");
    let mut d = Device::new(
        sc.profile.clone(),
        sc.signals.clone(),
        sc.initial_state.clone(),
    );
    d.feed(b"zb");
    assert_eq!(d.active_streams(), vec![2]);
    let texts: Vec<String> = (0..5)
        .map(|_| {
            let (_, p) = d.next_packet_of(2).unwrap();
            format!("{}:{}", p[0], String::from_utf8(p[1..].to_vec()).unwrap())
        })
        .collect();
    assert_eq!(
        texts,
        [
            "201:5100Z",
            "202:7300Z",
            "203:987654Z",
            "204:48000Z",
            "205:Z"
        ]
    );
}

#[test]
fn channel_models_follow_the_active_stream_and_give_absolute_values() {
    let sc = scenario(
        "state: { firmware: 2 }\nsignals:\n  eeg2: { sawtooth: { hz: 2, amplitude: 90 } }\n",
    );
    let mut d = Device::new(
        sc.profile.clone(),
        sc.signals.clone(),
        sc.initial_state.clone(),
    );
    d.feed(b"b");
    let m = ChannelModel::find_active(&sc.profile, "eeg2", d.state()).unwrap();
    // Firmware 2: packet 7 carries samples 13 and 14 (packet 0 carried sample 0).
    for (j, n) in [(0u64, 13u64), (1, 14)] {
        let (got_n, e) = m.expected_at(d.state(), &sc.signals, 7, j, 200.0);
        assert_eq!(got_n, n);
        assert!(e.present);
        let want = sc.signals.value("eeg2", n, 200.0);
        assert!(
            (e.value - want).abs() <= UV / 2.0 + 1e-9,
            "delta fields expect absolute values"
        );
    }
    let (n0, e0) = m.expected_at(d.state(), &sc.signals, 0, 0, 200.0);
    assert_eq!(n0, 0);
    assert!(e0.present, "packet 0's raw field");
}

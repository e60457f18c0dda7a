//! Random valid frames built from the YAML layouts decode to the values they were
//! built from: the emulator's encoder (profile + signals + state) on one side, the
//! driver's sans-IO decoder on the other, with nothing shared between them.

use boardloop_boards::{CytonDecoder, CytonVariant};
use boardloop_emulators::load::parse_yaml;
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{ChannelModel, Device, Profile, Scenario};
use proptest::prelude::*;
use std::path::Path;
use std::sync::Arc;

fn scenario(device: &str, end_byte: u8, values: &[f64], accel: [f64; 3]) -> Scenario {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&root.join(format!("{device}.yaml"))).unwrap());
    let mut text =
        format!("device: {device}\nsteps: []\nstate: {{ end_byte: {end_byte} }}\nsignals:\n");
    for (i, v) in values.iter().enumerate() {
        text.push_str(&format!("  eeg{}: {{ constant: {v} }}\n", i + 1));
    }
    for (axis, v) in ["x", "y", "z"].iter().zip(accel) {
        text.push_str(&format!("  accel_{axis}: {{ constant: {v} }}\n"));
    }
    let path = Path::new("/virtual/prop.yaml");
    let decl: ScenarioDecl = parse_yaml(path, &text).unwrap();
    Scenario::with_profile(path, &text, decl, profile).unwrap()
}

/// (device, channels, eeg rows in a decoded row)
const DEVICES: [(&str, usize); 2] = [("cyton", 8), ("cyton_daisy", 16)];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn frames_built_from_the_layout_decode_to_their_values(
        daisy in any::<bool>(),
        gains in proptest::collection::vec(0u8..=6, 16),
        uv in proptest::collection::vec(-180_000.0f64..180_000.0, 16),
        accel in proptest::array::uniform3(0.01f64..3.9),
        end_byte in 0xC0u8..=0xC6,
        samples in 1usize..40,
        garbage in proptest::collection::vec(proptest::collection::vec(0u8..0xA0, 0..12), 0..40),
    ) {
        let (device, n) = DEVICES[usize::from(daisy)];
        let sc = scenario(device, end_byte, &uv[..n], accel);
        let mut dev = Device::new(sc.profile.clone(), sc.signals.clone(), sc.initial_state.clone());
        let mut dec = CytonDecoder::new(if daisy { CytonVariant::Daisy } else { CytonVariant::Cyton });
        // The same gain commands reach the device and the decoder, as on a real link.
        let letters = b"12345678QWERTYUI";
        for ch in 0..n {
            let cmd = format!("x{}0{}0110X", letters[ch] as char, gains[ch]);
            dev.feed(cmd.as_bytes());
            dec.apply_config(&cmd);
        }
        dev.feed(b"b");
        let pps = if daisy { 2 } else { 1 };
        let mut wire = Vec::new();
        // One more sample than is checked: a frame found while resyncing after
        // garbage is only accepted once what follows confirms it.
        for p in 0..(samples + 1) * pps {
            if let Some(g) = garbage.get(p) {
                wire.extend_from_slice(g);
            }
            wire.extend(dev.next_packet().unwrap());
        }
        let mut rows = boardloop_boards::Rows::default();
        dec.push(&wire, &mut rows);
        prop_assert!(rows.len() >= samples, "{} rows for {} samples", rows.len(), samples);
        rows.truncate(samples);
        prop_assert_eq!(dec.stats().lost_packets, 0);
        let rate = dev.packet_rate() / pps as f64;
        for (s, row) in rows.iter().enumerate() {
            for ch in 0..n {
                let m = ChannelModel::find(&sc.profile, &format!("eeg{}", ch + 1)).unwrap();
                let e = m.expected(dev.state(), &sc.signals, s as u64, rate);
                prop_assert!((row[1 + ch] - e.value).abs() <= 1e-9 * e.value.abs().max(1.0),
                    "sample {} eeg{}: decoded {} built {}", s, ch + 1, row[1 + ch], e.value);
            }
            // Accel rides on end byte 0xC0 only, every 10th sample (Cyton) or both
            // packets of every 5th (Daisy): its value is exact there.
            let accel_row = if daisy { 17 } else { 9 };
            let m = ChannelModel::find(&sc.profile, "accel_x").unwrap();
            let e = m.expected(dev.state(), &sc.signals, s as u64, rate);
            if e.present {
                prop_assert!((row[accel_row] - e.value).abs() < 1e-12, "accel_x sample {}", s);
            }
        }
    }
}

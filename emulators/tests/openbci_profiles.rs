//! The OpenBCI profiles produce what PROTOCOLS.md says a Cyton sends, checked byte
//! by byte against values computed here independently of the layout engine.

use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Device, Output, Profile, Scenario};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn devices() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices")
}

fn scenario(device: &str, body: &str) -> Scenario {
    let profile = Arc::new(Profile::load(&devices().join(format!("{device}.yaml"))).unwrap());
    let text = format!("device: {device}\nsteps: []\n{body}");
    let path = Path::new("/virtual/cyton/test.yaml");
    let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, &text).unwrap();
    Scenario::with_profile(path, &text, decl, profile).unwrap()
}

fn device(s: &Scenario) -> Device {
    Device::new(
        s.profile.clone(),
        s.signals.clone(),
        s.initial_state.clone(),
    )
}

fn replies(out: Vec<Output>) -> String {
    out.into_iter()
        .filter_map(|o| match o {
            Output::Reply(r) => Some(String::from_utf8(r).unwrap()),
            _ => None,
        })
        .collect()
}

fn int24(b: &[u8]) -> i32 {
    let v = ((b[0] as i32) << 16) | ((b[1] as i32) << 8) | b[2] as i32;
    (v << 8) >> 8
}

#[test]
fn cyton_handshake_and_replies() {
    let s = scenario("cyton", "");
    let mut d = device(&s);
    let banner = replies(d.feed(b"v"));
    assert!(banner.starts_with("OpenBCI V3 8-16 channel\n"));
    assert!(banner.ends_with("$$$"));
    assert_eq!(
        replies(d.feed(b"d")),
        "updating channel settings to default$$$"
    );
    assert_eq!(
        replies(d.feed(b"x3040110X")),
        "Success: Channel set for 3$$$"
    );
    assert_eq!(d.state().at("gain", 3), Some(8.0));
    assert_eq!(replies(d.feed(b"x30X")), "Failure: too few chars$$$");
    assert_eq!(
        replies(d.feed(b"x30401100")),
        "Failure: Err: 9th char not X$$$"
    );
    // The firmware refuses no field: an unknown channel character is channel 1.
    assert_eq!(
        replies(d.feed(b"x9040110X")),
        "Success: Channel set for 1$$$"
    );
    // Stacked blocks in one write.
    assert_eq!(
        replies(d.feed(b"x1000000Xx2010000X")),
        "Success: Channel set for 1$$$Success: Channel set for 2$$$"
    );
    assert_eq!(
        (d.state().at("gain", 1), d.state().at("gain", 2)),
        (Some(1.0), Some(2.0))
    );
    assert_eq!(replies(d.feed(b"~5")), "Success: Sample rate is 500Hz$$$");
    assert_eq!(replies(d.feed(b"~~")), "Success: Sample rate is 500Hz$$$");
    assert_eq!(replies(d.feed(b"/2")), "Success: analog$$$");
    assert_eq!(d.state().get("end_byte"), Some(0xC1 as f64));
    assert_eq!(
        replies(d.feed(b"d")),
        "updating channel settings to default$$$"
    );
    assert_eq!(d.state().at("gain", 1), Some(24.0));
    // Streaming: quiet, but commands still apply.
    assert_eq!(d.feed(b"b"), vec![Output::StreamStarted]);
    assert_eq!(replies(d.feed(b"x5050110X")), "");
    assert_eq!(d.state().at("gain", 5), Some(12.0));
    assert_eq!(d.feed(b"s"), vec![Output::StreamStopped]);
    let names: Vec<_> = d.commands().iter().filter_map(|c| c.rule.clone()).collect();
    assert_eq!(names[..3], ["soft_reset", "defaults", "channel_settings"]);
}

#[test]
fn cyton_packets_match_the_documented_layout() {
    let s = scenario(
        "cyton",
        "signals:\n  eeg*: { sine: { hz: 10, amplitude: 100 } }\n  eeg2: { constant: -50 }\n  accel_x: { constant: 0.5 }\n  accel_y: { constant: -0.25 }\n  accel_z: { constant: 1.0 }\n",
    );
    let mut d = device(&s);
    d.feed(b"x2030110X"); // channel 2 gain 6
    d.feed(b"b");
    let uv_per_count = |gain: f64| 4.5 / 8388607.0 / gain * 1e6;
    for n in 0..300u64 {
        let p = d.next_packet().unwrap();
        assert_eq!(p.len(), 33);
        assert_eq!(p[0], 0xA0);
        assert_eq!(p[1] as u64, n % 256);
        assert_eq!(p[32], 0xC0);
        let t = n as f64 / 250.0;
        let ch1 = 100.0 * (std::f64::consts::TAU * 10.0 * t).sin();
        assert_eq!(int24(&p[2..5]), (ch1 / uv_per_count(24.0)).round() as i32);
        assert_eq!(int24(&p[5..8]), (-50.0 / uv_per_count(6.0)).round() as i32);
        let acc = |i: usize| i16::from_be_bytes([p[26 + 2 * i], p[27 + 2 * i]]);
        if n % 10 == 0 {
            assert_eq!((acc(0), acc(1), acc(2)), (4000, -2000, 8000));
        } else {
            assert_eq!((acc(0), acc(1), acc(2)), (0, 0, 0));
        }
    }
}

#[test]
fn cyton_end_byte_cycle_and_channel_off() {
    let s = scenario("cyton", "state: { end_byte_cycle: 1 }\nsignals:\n  eeg*: { constant: 10 }\n  analog1: { constant: 300 }\n");
    let mut d = device(&s);
    d.feed(b"3b");
    for n in 0..14u64 {
        let p = d.next_packet().unwrap();
        assert_eq!(p[32] as u64, 0xC0 + n % 7);
        assert_eq!(int24(&p[8..11]), 0, "channel 3 is off");
        if p[32] == 0xC1 {
            assert_eq!(i16::from_be_bytes([p[26], p[27]]), 300);
        }
        if p[32] >= 0xC2 {
            let ms = u32::from_be_bytes([p[28], p[29], p[30], p[31]]);
            assert_eq!(ms as u64, n * 4);
        }
    }
}

#[test]
fn daisy_sends_the_daisy_half_then_the_main_half() {
    let s = scenario(
        "cyton_daisy",
        "signals:\n  eeg*: { constant: 10 }\n  eeg9: { constant: -20 }\n",
    );
    let mut d = device(&s);
    d.feed(b"b");
    let daisy = d.next_packet().unwrap();
    let main = d.next_packet().unwrap();
    assert_eq!((daisy[1], main[1]), (0, 1), "sample ids run 0, 1, 2, ...");
    let c: f64 = 4.5 / 8388607.0 / 24.0 * 1e6;
    assert_eq!(
        int24(&daisy[2..5]),
        (-20.0 / c).round() as i32,
        "even packet: channel 9"
    );
    assert_eq!(
        int24(&main[2..5]),
        (10.0 / c).round() as i32,
        "odd packet: channel 1"
    );
    for _ in 0..252 {
        d.next_packet();
    }
    // Packets 254 and 255 carry ids 254 (even) and 255 (odd); then the id wraps to 0.
    assert_eq!(d.next_packet().unwrap()[1], 254);
    assert_eq!(d.next_packet().unwrap()[1], 255);
    assert_eq!(d.next_packet().unwrap()[1], 0);
}

#[test]
fn an_incomplete_command_times_out_instead_of_swallowing_the_next() {
    use std::time::Duration;
    let s = scenario("cyton", "");
    let mut d = device(&s);
    assert!(d.feed_at(b"_x1", Some(Duration::ZERO)).is_empty());
    // Within the timeout `v` is still part of the x-frame...
    let mut early = d.clone();
    assert_eq!(
        replies(early.feed_at(b"v", Some(Duration::from_millis(500)))),
        ""
    );
    // ...after it, the frame is dropped (with the firmware's timeout message) and
    // `v` is a soft reset again.
    let banner = replies(d.feed_at(b"v", Some(Duration::from_millis(1500))));
    let timeout =
        "Timeout processing multi byte message - please send all commands at once as of v2$$$";
    assert!(banner.starts_with(timeout), "{banner:?}");
    assert!(
        banner[timeout.len()..].starts_with("OpenBCI V3"),
        "{banner:?}"
    );
    let last = d.commands().iter().rev().nth(1).unwrap();
    assert_eq!(last.text, "x1");
    assert_eq!(
        last.rejected.as_deref(),
        Some("incomplete command timed out")
    );
}

// Every text reply of the Cyton and Cyton+Daisy profiles, byte for byte, as
// OpenBCI's firmware v3.1.5 prints it (OpenBCI/OpenBCI_Cyton_Library, tag v3.1.5,
// `OpenBCI_32bit_Library.cpp`; the line numbers below are that file's). The
// expected strings are written out here from the firmware's `printAll` calls, not
// read from the profiles, so a profile edit that drifts from the firmware fails.

fn fresh(name: &str) -> Device {
    device(&scenario(name, ""))
}

/// Sends each command and checks the exact reply.
fn check(d: &mut Device, cases: &[(&str, &str)]) {
    for (send, want) in cases {
        assert_eq!(replies(d.feed(send.as_bytes())), *want, "reply to {send:?}");
    }
}

/// Replies both boards give alike.
const COMMON: &[(&str, &str)] = &[
    // processChar l.471-473
    ("V", "v3.1.5$$$"),
    // processChar l.298-305
    ("d", "updating channel settings to default$$$"),
    // reportDefaultChannelSettings l.2366-2377
    ("D", "060110$$$"),
    // processIncomingChannelSettings l.1158-1165, l.1076-1081, l.1113-1121
    ("x1060110X", "Success: Channel set for 1$$$"),
    ("x8160110X", "Success: Channel set for 8$$$"),
    ("xQ060110X", "Success: Channel set for 9$$$"),
    ("xI060110X", "Success: Channel set for 16$$$"),
    ("x106X", "Failure: too few chars$$$"),
    ("x10601100", "Failure: Err: 9th char not X$$$"),
    // no field is refused: unknown channel → 1 (getChannelCommandForAsciiChar l.4275-4316)
    ("x9060110X", "Success: Channel set for 1$$$"),
    ("x1090110X", "Success: Channel set for 1$$$"),
    // processIncomingLeadOffSettings l.1282-1289, l.1210-1215, l.1236-1242
    ("z101Z", "Success: Lead off set for 1$$$"),
    ("zU01Z", "Success: Lead off set for 15$$$"),
    ("z10Z", "Failure: too few chars$$$"),
    ("z1010", "Failure: Err: 5th char not Z$$$"),
    // activateAllChannelsToTestCondition l.821-847
    ("0", "Success: Configured internal test signal.$$$"),
    ("-", "Success: Configured internal test signal.$$$"),
    ("=", "Success: Configured internal test signal.$$$"),
    ("p", "Success: Configured internal test signal.$$$"),
    ("[", "Success: Configured internal test signal.$$$"),
    ("]", "Success: Configured internal test signal.$$$"),
    // processIncomingSampleRate l.977-1041
    ("~~", "Success: Sample rate is 250Hz$$$"),
    ("~0", "Success: Sample rate is 16000Hz$$$"),
    ("~5", "Success: Sample rate is 500Hz$$$"),
    ("~~", "Success: Sample rate is 500Hz$$$"),
    ("~6", "Success: Sample rate is 250Hz$$$"),
    ("~7", "Failure: sample value out of bounds$$$"),
    ("~a", "Failure: invalid sample value$$$"),
    // processIncomingBoardMode l.850-883, getBoardMode l.957-975
    ("//", "Success: default$$$"),
    ("/1", "Success: debug$$$"),
    ("//", "Success: debug$$$"),
    ("/2", "Success: analog$$$"),
    ("//", "Success: analog$$$"),
    ("/3", "Success: digital$$$"),
    ("//", "Success: digital$$$"),
    ("/4", "Success: marker$$$"),
    ("//", "Success: marker$$$"),
    ("/6", "Failure: board mode value out of bounds.$$$"),
    ("/x", "Failure: invalid board mode value.$$$"),
    ("/0", "Success: default$$$"),
    ("//", "Success: default$$$"),
    // processChar l.389-409
    ("<", "Time stamp ON$$$"),
    (">", "Time stamp OFF$$$"),
];

/// The soft-reset banner, the replies both boards share, then `c`/`C`.
fn firmware_replies(name: &str, banner: &str, daisy_cases: &[(&str, &str)]) -> Device {
    let mut d = fresh(name);
    check(&mut d, &[("v", banner)]);
    check(&mut d, COMMON);
    check(&mut d, daisy_cases);
    d
}

#[test]
fn cyton_replies_match_firmware_v3_1_5() {
    // boardReset l.795-806: no Daisy line; v3.1.5 still says v3.1.2.
    // processChar l.312-335, attachDaisy l.2274-2281: c says nothing without a
    // Daisy; C's two prints run together.
    firmware_replies(
        "cyton",
        "OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n\
         LIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$",
        &[
            ("c", ""),
            ("C", "no daisy to attach!8$$$"),
            ("C", "no daisy to attach!8$$$"),
        ],
    );
}

#[test]
fn daisy_replies_match_firmware_v3_1_5() {
    // boardReset l.795-806 with the Daisy line (l.798-802); processChar l.312-335,
    // removeDaisy l.2241-2264, attachDaisy l.2283-2289.
    let mut d = firmware_replies(
        "cyton_daisy",
        "OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n\
         On Daisy ADS1299 Device ID: 0x3E\nLIS3DH Device ID: 0x33\n\
         Firmware: v3.1.2\n$$$",
        &[
            ("C", "16$$$"),
            ("c", "daisy removed$$$"),
            ("c", ""),
            ("C", "daisy attached16$$$"),
            ("C", "16$$$"),
            ("c", "daisy removed$$$"),
        ],
    );
    // A soft reset finds the Daisy again.
    replies(d.feed(b"v"));
    check(&mut d, &[("C", "16$$$")]);
}

#[test]
fn multi_byte_timeout_message() {
    // checkMultiCharCmdTimer l.514-532, MULTI_CHAR_COMMAND_TIMEOUT_MS 1000
    // (_Definitions.h l.363); the late byte is then read as a command of its own.
    for name in ["cyton", "cyton_daisy"] {
        for start in ["x", "z", "~", "/"] {
            let mut d = fresh(name);
            let t0 = Duration::from_secs(10);
            assert_eq!(replies(d.feed_at(start.as_bytes(), Some(t0))), "");
            let late = t0 + Duration::from_millis(1100);
            assert_eq!(
                replies(d.feed_at(b"V", Some(late))),
                "Timeout processing multi byte message - please send all commands \
                 at once as of v2$$$v3.1.5$$$",
                "{name}: {start}"
            );
        }
    }
}

#[test]
fn quiet_while_streaming() {
    // Every reply above is printed only when not streaming (`if (!streaming)`).
    let mut d = fresh("cyton");
    assert_eq!(d.feed(b"b"), vec![Output::StreamStarted]);
    for (send, _) in COMMON {
        assert_eq!(
            replies(d.feed(send.as_bytes())),
            "",
            "{send:?} while streaming"
        );
    }
}

// The `?` register dump: printAllRegisters() l.1413-1432 with RREGS() l.3843-3876
// (one line "NAME, AA, VV, b7, ..., b0" per ADS1299 register) and
// LIS3DH_readAllRegs() l.4076-4112 ("0xRR VV"). The expected text is composed
// here from register tables, independently of the profile's template.

const ADS_NAMES: [&str; 24] = [
    "ADS_ID",
    "CONFIG1",
    "CONFIG2",
    "CONFIG3",
    "LOFF",
    "CH1SET",
    "CH2SET",
    "CH3SET",
    "CH4SET",
    "CH5SET",
    "CH6SET",
    "CH7SET",
    "CH8SET",
    "BIAS_SENSP",
    "BIAS_SENSN",
    "LOFF_SENSP",
    "LOFF_SENSN",
    "LOFF_FLIP",
    "LOFF_STATP",
    "LOFF_STATN",
    "GPIO",
    "MISC1",
    "MISC2",
    "CONFIG4",
];

/// One ADS1299's registers after the firmware's soft reset: CONFIG1 as given,
/// CONFIG3 0xEC, LOFF 0x02, channels 0x68 (gain 24, SRB2), all in bias, GPIO at
/// its reset value 0x0F.
fn ads_after_reset(config1: u8) -> [u8; 24] {
    let mut r = [0u8; 24];
    r[0] = 0x3E;
    r[1] = config1;
    r[2] = 0xC0;
    r[3] = 0xEC;
    r[4] = 0x02;
    r[5..13].fill(0x68);
    r[13] = 0xFF;
    r[14] = 0xFF;
    r[20] = 0x0F;
    r
}

fn ads_lines(regs: &[u8; 24]) -> String {
    let mut out = String::new();
    for (addr, (name, v)) in ADS_NAMES.iter().zip(regs).enumerate() {
        let bits: Vec<String> = (0..8).rev().map(|b| ((v >> b) & 1).to_string()).collect();
        out += &format!("{name}, {addr:02X}, {v:02X}, {}\n", bits.join(", "));
    }
    out
}

/// The LIS3DH part: three address ranges separated by an empty line; WHO_AM_I
/// 0x33, CTRL_REG1 0x08 (accelerometer off while not streaming), CTRL_REG4 0x18
/// (±4 g, high resolution), the rest 0.
fn lis3dh_lines() -> String {
    let value = |r: u8| match r {
        0x0F => 0x33,
        0x20 => 0x08,
        0x23 => 0x18,
        _ => 0,
    };
    let blocks: [std::ops::RangeInclusive<u8>; 3] = [0x07..=0x0F, 0x1F..=0x33, 0x38..=0x3D];
    let blocks: Vec<String> = blocks
        .into_iter()
        .map(|b| b.map(|r| format!("0x{r:02X} {:02X}\n", value(r))).collect())
        .collect();
    blocks.join("\n")
}

fn dump(board: &[u8; 24], daisy: Option<&[u8; 24]>) -> String {
    let mut out = format!("\nBoard ADS Registers\n{}", ads_lines(board));
    if let Some(d) = daisy {
        out += &format!("\nDaisy ADS Registers\n{}", ads_lines(d));
    }
    out + &format!("\nLIS3DH Registers\n{}$$$", lis3dh_lines())
}

#[test]
fn register_dump_after_reset_matches_firmware_v3_1_5() {
    // initialize_ads() l.1928-1960: CONFIG1 0x96 without a Daisy; with one the main
    // board drives the clock (0xB6) and the Daisy takes 0x96.
    let mut d = fresh("cyton");
    assert_eq!(replies(d.feed(b"?")), dump(&ads_after_reset(0x96), None));
    let mut d = fresh("cyton_daisy");
    assert_eq!(
        replies(d.feed(b"?")),
        dump(&ads_after_reset(0xB6), Some(&ads_after_reset(0x96)))
    );
}

#[test]
fn register_dump_follows_the_device_state() {
    let mut d = fresh("cyton_daisy");
    replies(d.feed(b"x3131011X")); // ch3: off, gain code 3 (6), shorted, no bias, SRB2, SRB1
    replies(d.feed(b"xW060000X")); // ch10: gain 24, normal, out of bias, no SRB2
    replies(d.feed(b"z211Z")); // lead-off P and N on channel 2
    replies(d.feed(b"5")); // channel 5 off by key: SRB2 and bias bits cleared
    replies(d.feed(b"~5")); // 500 Hz: rate code 5
    let mut board = ads_after_reset(0xB5);
    let mut daisy = ads_after_reset(0x95);
    board[5 + 2] = 0x80 | 3 << 4 | 0x08 | 1;
    board[5 + 4] = 0x80 | 0x60;
    board[13] = !(1 << 2 | 1 << 4); // channels 3 (x: no bias) and 5 (keyed off)
    board[14] = board[13];
    board[15] = 1 << 1;
    board[16] = 1 << 1;
    board[21] = 0x20;
    daisy[5 + 1] = 0x60;
    daisy[13] = !(1 << 1); // channel 10 out of bias
    daisy[14] = daisy[13];
    assert_eq!(replies(d.feed(b"?")), dump(&board, Some(&daisy)));
    // Test signal `p` (2x amplitude, DC): CONFIG2 0xD7 and every input set to the
    // test signal (code 5); channel 5 keyed back on regains SRB2 and bias.
    replies(d.feed(b"p%"));
    board[2] = 0xD7;
    daisy[2] = 0xD7;
    board[5 + 2] = 0x80 | 3 << 4 | 0x08 | 5;
    board[5 + 4] = 0x68 | 5;
    board[13] |= 1 << 4;
    board[14] = board[13];
    for ch in [0, 1, 3, 5, 6, 7] {
        board[5 + ch] = 0x68 | 5;
    }
    for ch in 0..8 {
        daisy[5 + ch] = if ch == 1 { 0x65 } else { 0x6D };
    }
    assert_eq!(replies(d.feed(b"?")), dump(&board, Some(&daisy)));
    // `0` shorts the inputs and leaves CONFIG2; `d` restores the defaults.
    replies(d.feed(b"0d"));
    let mut after_d = ads_after_reset(0xB5);
    after_d[2] = 0xD7;
    let mut daisy_d = ads_after_reset(0x95);
    daisy_d[2] = 0xD7;
    assert_eq!(replies(d.feed(b"?")), dump(&after_d, Some(&daisy_d)));
    // A soft reset brings back the power-on values.
    replies(d.feed(b"v"));
    assert_eq!(
        replies(d.feed(b"?")),
        dump(&ads_after_reset(0xB6), Some(&ads_after_reset(0x96)))
    );
}

#[test]
fn firmware_version_follows_the_state_parameter() {
    // The tags differ in their replies only in the version printed: the banner
    // (boardReset() l.805 of v3.1.5, l.714 of v3.1.1) and `V` (processChar l.472 of
    // v3.1.2-v3.1.5, l.423 of v3.1.1); v3.1.4 and v3.1.5 kept "v3.1.2" in the banner,
    // v3.1.4 in `V` too.
    for (fw, banner, v) in [
        (1, "v3.1.1", "v3.1.1"),
        (2, "v3.1.2", "v3.1.2"),
        (4, "v3.1.2", "v3.1.2"),
        (5, "v3.1.2", "v3.1.5"),
    ] {
        for name in ["cyton", "cyton_daisy"] {
            let mut d = device(&scenario(name, &format!("state: {{ firmware: {fw} }}\n")));
            for _ in 0..2 {
                let b = replies(d.feed(b"v"));
                assert!(
                    b.ends_with(&format!("\nFirmware: {banner}\n$$$")),
                    "{name} {fw}: {b:?}"
                );
                assert_eq!(replies(d.feed(b"V")), format!("{v}$$$"), "{name} {fw}");
            }
        }
    }
}

/// The ADS1299 test signals the profile states (values worked out in its
/// comments from VREF 4.5 V and fCLK 2.048 MHz), as the packets carry them:
/// counts computed here from the datasheet's figures, not from the profile.
#[test]
fn test_signal_commands_switch_every_channel_to_the_ads1299_test_signal() {
    let s = scenario("cyton", "signals:\n  eeg*: { constant: 100 }\n");
    let mut d = device(&s);
    let counts = |uv: f64| (uv / (4.5 / 8388607.0 / 24.0 * 1e6)).round() as i32;
    let ch = |p: &[u8], c: usize| int24(&p[2 + 3 * c..5 + 3 * c]);
    // (command, amplitude µV, samples per half period at 250 Hz)
    // 1x = 4.5 V / 2400 = 1.875 mV; fast = 2048000 / 2^20 Hz = 1.953125 Hz,
    // a period of 128 samples; slow = 2048000 / 2^21 Hz: 256 samples.
    for (cmd, uv, half) in [
        ("=", 1875.0, 64u64),
        ("]", 3750.0, 64),
        ("-", 1875.0, 128),
        ("[", 3750.0, 128),
    ] {
        d.feed(b"s");
        d.feed(cmd.as_bytes());
        d.feed(b"b");
        for n in 0..2 * half {
            let p = d.next_packet().unwrap();
            let want = if n < half { uv } else { -uv };
            for c in 0..8 {
                assert_eq!(
                    ch(&p, c),
                    counts(want),
                    "{cmd} sample {n} channel {}",
                    c + 1
                );
            }
        }
    }
    // DC at 2x; inputs shorted; `d` puts the electrodes back.
    for (cmd, uv) in [("p", -3750.0), ("0", 0.0), ("d", 100.0)] {
        d.feed(b"s");
        d.feed(cmd.as_bytes());
        d.feed(b"b");
        let p = d.next_packet().unwrap();
        assert_eq!(ch(&p, 7), counts(uv), "{cmd}");
    }
}

/// A realistic device is refused values that make no sense, with the field.
#[test]
fn realistic_blocks_are_checked_with_their_field() {
    let profile = Arc::new(Profile::load(&devices().join("muse_2.yaml")).unwrap());
    for (body, field) in [
        ("realistic: { delivery_ms: 16 }\n", "realistic.delivery_ms"),
        ("realistic: { clock_ppm: 200000 }\n", "realistic.clock_ppm"),
        (
            "realistic: { analog: { eeg1: { noise_rms: -1 } } }\n",
            "realistic.analog.eeg1",
        ),
    ] {
        let text = format!("device: muse_2\nsteps: []\n{body}");
        let path = Path::new("/virtual/muse_2/test.yaml");
        let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, &text).unwrap();
        let e = Scenario::with_profile(path, &text, decl, profile.clone())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(field), "{e}");
        assert!(e.contains("test.yaml:3:"), "{e}");
    }
}

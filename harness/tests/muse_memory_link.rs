//! A Muse over the in-memory BLE link, seen from a central: the GATT table
//! in the real device's order, and the control replies as notifications of
//! 20 bytes whose tails keep the previous notification's bytes.

use boardloop_boards::ble::{BleConnector, DeviceFilter, Uuid};
use boardloop_boards::MemoryBle;
use boardloop_emulators::profile::full_uuid;
use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{BleEmulator, BleOptions, Profile, Scenario};
use boardloop_harness::memory_ble::{peripheral, MemoryAdapter};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn muse_uuid(short: &str) -> Uuid {
    Uuid::parse(&format!("273e{short}-4c4d-454d-96be-f03bac821358")).unwrap()
}

fn scenario(device: &str) -> Scenario {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&devices.join(format!("{device}.yaml"))).unwrap());
    let text = format!("device: {device}\nsteps: []\n");
    let path = Path::new("/virtual/muse/link.yaml");
    let decl: ScenarioDecl = boardloop_emulators::load::parse_yaml(path, &text).unwrap();
    Scenario::with_profile(path, &text, decl, profile).unwrap()
}

#[test]
fn a_central_sees_the_real_table_and_the_replies_with_their_stale_tails() {
    let sc = scenario("muse_2");
    let p = peripheral(&sc).unwrap();
    let emu = BleEmulator::spawn(
        &sc,
        Arc::new(MemoryAdapter(p.clone())),
        BleOptions::default(),
    )
    .unwrap();
    let mut ble = MemoryBle::new();
    ble.add(&p);
    let filter = DeviceFilter::NamePrefix(vec!["Muse".into()]);
    let (_, mut link) = ble
        .find_and_connect(&filter, Duration::from_secs(5))
        .unwrap();

    // The real Muse 2's handle order (muse-lsl's constants.py).
    let real = [
        "0001", "0008", "0009", "000a", "000b", "0002", "0003", "0004", "0005", "0006", "0007",
        "000c", "000d", "000e", "000f", "0010", "0011",
    ];
    let got: Vec<Uuid> = link.characteristics().iter().map(|c| c.uuid).collect();
    assert_eq!(got, real.map(muse_uuid));
    let listed: Vec<Uuid> = sc.profile.ble.as_ref().unwrap().services[0]
        .characteristics
        .iter()
        .map(|c| Uuid::parse(&full_uuid(&c.uuid)).unwrap())
        .collect();
    assert_eq!(got, listed, "the link lists the profile's order");

    let control = muse_uuid("0001");
    link.subscribe(control).unwrap();
    let mut rx = link.notifications().unwrap();
    // The host's frames: `h`, then `v1` (muse-js's connect and deviceInfo).
    link.write(control, b"\x02h\n", false).unwrap();
    link.write(control, b"\x03v1\n", false).unwrap();
    emu.settle();
    let mut got = Vec::new();
    while let Some(n) = rx.recv(Duration::ZERO).unwrap() {
        assert_eq!(n.uuid, control);
        got.push(n.value);
    }
    let pieces: Vec<String> = got
        .iter()
        .map(|n| String::from_utf8_lossy(&n[1..1 + n[0] as usize]).into_owned())
        .collect();
    assert_eq!(
        pieces,
        [
            r#"{"rc":0}"#,
            r#"{"ap":"headset","#,
            r#""sp":"Blackcomb_rev"#,
            r#"B","#,
            r#""tp":"consumer","#,
            r#""hw":"00.8","#,
            r#""bn":1,"#,
            r#""fw":"1.0.17","#,
            r#""bl":"1.0.17","#,
            r#""pv":1,"#,
            r#""rc":0}"#,
        ]
    );
    // Every notification is 20 bytes; past its piece are the previous one's
    // bytes (zeros before the first).
    let mut before = vec![0u8; 20];
    for n in &got {
        assert_eq!(n.len(), 20);
        let end = 1 + n[0] as usize;
        assert_eq!(n[end..], before[end..], "{n:?} after {before:?}");
        before = n.clone();
    }
    emu.stop();
}

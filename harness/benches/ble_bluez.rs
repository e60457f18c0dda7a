//! BLE through a real BlueZ: connect time and the highest notification rate
//! delivered with zero loss, measured with the same parts the `bluez` target
//! uses (`BluerPeripheral` serving a profile's GATT table on one adapter,
//! `BtleplugConnector` on the other): 20-byte notifications on the Ganglion's
//! table, then BrainAlive's 220-byte ones, AAVAA v3's 48-byte ones and the
//! Muse S Athena's 244-byte ones on theirs.
//!
//! Needs two adapters next to a running bluetoothd, i.e. the lab VM:
//! `bash ci/ble-bench.sh` (builds this, boots one VM per part, runs it
//! there). Without `BOARDLOOP_BLUEZ` it says so and exits 0, so `cargo
//! bench` stays usable.
//!
//! Env: `BOARDLOOP_BENCH_PARTS` what to measure, space-separated (`connect`
//! and the profiles of [`SWEEPS`]; default all), `BOARDLOOP_BENCH_ROUNDS`
//! connections to time (default 8), `BOARDLOOP_BENCH_SECONDS` per rate step
//! (default 3).

use boardloop_bluez::{cut_links, forget_each_other, BluerPeripheral, BtleplugConnector};
use boardloop_boards::ble::{BleConnector, BleLink, DeviceFilter, Uuid};
use boardloop_emulators::profile::Profile;
use boardloop_emulators::Peripheral;
use std::path::Path;
use std::time::{Duration, Instant};

/// The notify characteristics swept, with their profile and notification
/// size: the Ganglion's (what its driver reads; any 20-byte one would do),
/// BrainAlive's (220 bytes), AAVAA v3's (48) and the Athena's (up to 244,
/// its joined notifications' most).
const SWEEPS: &[(&str, &str, usize)] = &[
    ("ganglion", "2d30c082-f39f-4ce6-923f-3484ea480596", 20),
    ("brainalive", "0000fe42-8e22-4541-9d4c-21edae82ed19", 220),
    ("aavaa_v3", "6e400003-c352-11e5-953d-0002a5d5c51b", 48),
    ("muse_s_athena", "273e0013-4c4d-454d-96be-f03bac821358", 244),
];
/// Rates tried, in notifications per second, until one is not held.
const RATES: &[u32] = &[
    20, 30, 40, 50, 60, 70, 80, 100, 120, 150, 200, 250, 300, 400, 500,
];
/// A rate is held when every notification arrives, in order, and they
/// arrive at least this fast against the rate asked: a link that queues
/// what it cannot carry (bluetoothd does) loses nothing but falls behind.
/// Measured before this rule: 400/s asked, all 1200 delivered in order, at
/// 80/s (the lab VM's link), so zero loss alone says nothing of the rate.
const KEEPS_UP: f64 = 0.95;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// min / median / max of `v`, in ms.
fn summary(v: &mut [Duration]) -> String {
    v.sort();
    format!(
        "min {:.0} ms, median {:.0} ms, max {:.0} ms",
        ms(v[0]),
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1])
    )
}

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

/// A served device and a connected link to it.
fn connect(
    emu: &str,
    board: &str,
    profile: &Profile,
) -> Fallible<(BluerPeripheral, Box<dyn BleLink>, Duration, Duration)> {
    forget_each_other(emu, board)?;
    let decl = profile
        .ble
        .as_ref()
        .ok_or("the profile has no BLE section")?;
    let p = BluerPeripheral::new(emu, &format!("{}-bench", profile.decl.name), decl)?;
    p.advertise()?;
    let mut c = BtleplugConnector::new(board)?;
    let t = Instant::now();
    let info = c.find(
        &DeviceFilter::Address(p.address().to_string()),
        Duration::from_secs(10),
    )?;
    let found = t.elapsed();
    let t = Instant::now();
    let link = c.connect(&info)?;
    Ok((p, link, found, t.elapsed()))
}

/// One rate step: `rate` notifications per second for `secs`, each carrying
/// its step and index; returns (sent, delivered in order without gaps,
/// delivered, seconds from first to last received).
fn step(
    p: &BluerPeripheral,
    link_rx: &mut dyn boardloop_boards::ble::NotificationStream,
    (data, len): (&str, usize),
    id: u8,
    rate: u32,
    secs: u64,
) -> (u64, u64, u64, f64) {
    let total = rate as u64 * secs;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let (mut sent, mut delivered, mut in_order) = (0u64, 0u64, 0u64);
    let (mut first, mut last) = (None::<Instant>, Instant::now());
    let mut expect = 0u32;
    let mut take = |n: &[u8], delivered: &mut u64, in_order: &mut u64| {
        if n.len() < 5 || n[0] != id {
            return;
        }
        let k = u32::from_be_bytes([n[1], n[2], n[3], n[4]]);
        *delivered += 1;
        if k == expect {
            *in_order += 1;
        }
        expect = k + 1;
        last = Instant::now();
        first.get_or_insert(last);
    };
    let start = Instant::now();
    for k in 0..total {
        let due = start + interval * k as u32;
        if let Some(w) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(w);
        }
        let mut payload = vec![0u8; len];
        payload[0] = id;
        payload[1..5].copy_from_slice(&(k as u32).to_be_bytes());
        if p.notify(data, &payload) {
            sent += 1;
        }
        // Drain without blocking, so the receiving queue never backs up here.
        while let Ok(Some(n)) = link_rx.recv(Duration::ZERO) {
            take(&n.value, &mut delivered, &mut in_order);
        }
    }
    // Whatever is still on its way, for as long as a step lasts at most: a
    // link far behind would otherwise take minutes to drain.
    let drain_until = Instant::now() + Duration::from_secs(secs);
    while let Some(left) = drain_until.checked_duration_since(Instant::now()) {
        match link_rx.recv(left.min(Duration::from_millis(1000))) {
            Ok(Some(n)) => take(&n.value, &mut delivered, &mut in_order),
            _ => break,
        }
    }
    let span = first.map_or(0.0, |f| (last - f).as_secs_f64());
    (sent, in_order, delivered, span)
}

fn main() -> Fallible<()> {
    let (emu, board) = match boardloop_harness::bluez_ble::adapters_from_env() {
        Ok(a) => a,
        Err(why) => {
            println!("ble_bluez: skipped ({why}); run `bash ci/ble-bench.sh`");
            return Ok(());
        }
    };
    let rounds = env_or("BOARDLOOP_BENCH_ROUNDS", 8).max(1);
    let secs = env_or("BOARDLOOP_BENCH_SECONDS", 3).max(1);
    let parts = std::env::var("BOARDLOOP_BENCH_PARTS").unwrap_or_default();
    let wanted =
        |part: &str| parts.trim().is_empty() || parts.split_whitespace().any(|p| p == part);
    if wanted("connect") {
        connect_rounds(&emu, &board, rounds)?;
    }
    for &(name, data, len) in SWEEPS {
        if !wanted(name) {
            continue;
        }
        let profile = Profile::load(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../scenarios/devices/{name}.yaml")),
        )?;
        sweep(&emu, &board, &profile, (data, len), secs)?;
    }
    Ok(())
}

/// Scan-to-found and connect + discover times over `rounds` connections to
/// the Ganglion's table.
fn connect_rounds(emu: &str, board: &str, rounds: u64) -> Fallible<()> {
    let (emu, board) = (emu.to_string(), board.to_string());
    let profile = Profile::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices/ganglion.yaml"),
    )?;
    println!("connect: {rounds} rounds, device on {emu}, central on {board}");
    let (mut finds, mut connects) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (p, mut link, found, connected) = connect(&emu, &board, &profile)?;
        println!(
            "  scan to found {:.0} ms, connect + discover {:.0} ms",
            ms(found),
            ms(connected)
        );
        finds.push(found);
        connects.push(connected);
        let _ = link.disconnect();
        drop(link);
        cut_links(&emu)?;
        drop(p);
    }
    println!("scan to found: {}", summary(&mut finds));
    println!("connect + discover: {}", summary(&mut connects));
    Ok(())
}

/// Steps the rate up on `data` (notifications of `len` bytes) of the
/// profile's table until one step loses a notification.
fn sweep(
    emu: &str,
    board: &str,
    profile: &Profile,
    (data, len): (&str, usize),
    secs: u64,
) -> Fallible<()> {
    println!(
        "notification rate, {secs} s per step, {len}-byte notifications, one characteristic ({}):",
        profile.decl.name
    );
    let (p, mut link, _, _) = connect(emu, board, profile)?;
    p.uncap();
    let uuid = Uuid::parse(data).ok_or("bad uuid")?;
    link.subscribe(uuid)?;
    let mut rx = link.notifications()?;
    // Let the subscription reach the peripheral.
    let t = Instant::now();
    while !p.notify(data, &vec![0xFF; len]) {
        if t.elapsed() > Duration::from_secs(5) {
            return Err("the subscription never reached the peripheral".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut best = None;
    for (i, &rate) in RATES.iter().enumerate() {
        let (sent, in_order, delivered, span) =
            step(&p, rx.as_mut(), (data, len), i as u8, rate, secs);
        let asked = rate as u64 * secs;
        let got_rate = if span > 0.0 {
            (delivered.saturating_sub(1)) as f64 / span
        } else {
            0.0
        };
        println!(
            "  asked {rate}/s: sent {sent}/{asked}, delivered {delivered} \
             ({in_order} in order), {got_rate:.1}/s received"
        );
        if sent == asked && in_order == asked && got_rate >= KEEPS_UP * rate as f64 {
            best = Some((rate, got_rate));
        } else {
            break;
        }
    }
    match best {
        Some((rate, got)) => println!(
            "highest rate held (zero loss, received at >= {KEEPS_UP} x asked): \
             {rate} notifications/s asked, {got:.1}/s received, {:.1} KiB/s",
            got * len as f64 / 1024.0
        ),
        None => {
            println!("highest rate held: none (the first step lost notifications or fell behind)")
        }
    }
    let _ = link.disconnect();
    drop(rx);
    drop(link);
    cut_links(emu)?;
    Ok(())
}

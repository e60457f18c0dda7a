//! The emulation engine's cost per packet, without a transport: what bounds
//! every accelerated scenario (issue #15's goal: ≤ 0.5 µs per Cyton packet).
//!
//! Beside it, the serial emulator's own ceiling: a Cyton at `pacing: max` on
//! a real pseudo-terminal, read by a reader that does nothing but `read()`,
//! so what is measured is the emulator thread and the pty, not a driver.
//!
//! Run with `cargo bench -p boardloop-emulators --bench engine`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use boardloop_emulators::scenario::ScenarioDecl;
use boardloop_emulators::{Device, Pacing, Profile, Scenario, SerialEmulator, SerialOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::{Read, Write};
use std::time::Instant;

/// A streaming device of `profile` with a live signal on every channel, so
/// each packet goes through signal evaluation and quantization as in the
/// scenario matrix; `start` is the command that starts its stream.
fn streaming(profile: &str, start: &[u8]) -> Device {
    let s = scenario(profile);
    let mut d = Device::new(
        s.profile.clone(),
        s.signals.clone(),
        s.initial_state.clone(),
    );
    d.feed(start);
    assert!(d.streaming(), "{start:?} starts the stream");
    d
}

/// A scenario of `profile` with a 10 Hz sine on every channel.
fn scenario(profile: &str) -> Scenario {
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
    let profile = Arc::new(Profile::load(&devices.join(profile)).expect("profile loads"));
    let text =
        "device: bench\nsteps: []\nsignals:\n  \"*\": { sine: { hz: 10, amplitude: 100 } }\n";
    let path = Path::new("/virtual/bench.yaml");
    let decl: ScenarioDecl =
        boardloop_emulators::load::parse_yaml(path, text).expect("bench scenario parses");
    Scenario::with_profile(path, text, decl, profile).expect("bench scenario is valid")
}

/// Packets per second the serial emulator delivers at `pacing: max` to a
/// reader that only reads.
fn serial(c: &mut Criterion) {
    const PACKETS: u64 = 100_000;
    const BYTES: u64 = 33 * PACKETS;
    let opts = SerialOptions {
        pacing: Some(Pacing::Max),
        transcript_limit: 0,
        record_write_times: false,
    };
    let emu = SerialEmulator::spawn(&scenario("cyton.yaml"), opts).expect("emulator starts");
    let mut port = serialport::new(emu.path().to_string_lossy(), 115_200)
        .timeout(Duration::from_secs(5))
        .open_native()
        .expect("pty opens");
    port.write_all(b"b").expect("start command");
    let mut buf = vec![0u8; 64 * 1024];
    let mut g = c.benchmark_group("serial_emulator");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(PACKETS));
    g.bench_function("cyton_max_pacing_100k_packets", |b| {
        b.iter_custom(|iters| {
            let t0 = Instant::now();
            for _ in 0..iters {
                let mut got = 0u64;
                while got < BYTES {
                    got += port.read(&mut buf).expect("emulator keeps sending") as u64;
                }
            }
            t0.elapsed()
        })
    });
    g.finish();
    drop(port);
    let stats = emu.stop();
    assert!(stats.packets_sent > PACKETS, "{stats:?}");
}

fn bench(c: &mut Criterion) {
    const N: u64 = 10_000;
    let mut g = c.benchmark_group("engine");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(N));
    for (name, profile, start) in [
        ("cyton_10k_packets", "cyton.yaml", &b"b"[..]),
        ("daisy_10k_packets", "cyton_daisy.yaml", b"b"),
        ("ganglion_fw3_10k_packets", "ganglion.yaml", b"b"),
    ] {
        let mut d = streaming(profile, start);
        let mut buf = Vec::with_capacity(64 * 1024);
        g.bench_function(name, |b| {
            b.iter(|| {
                buf.clear();
                for _ in 0..N {
                    d.next_packet_into(0, &mut buf);
                }
                buf.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, serial);
criterion_main!(benches);

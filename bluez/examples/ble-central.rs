//! `ble-central`: the btleplug side of the BlueZ lab (`ci/ble-vm.sh`).
//!
//! Chooses an adapter by its `hciN` name (never by the order of `adapters()`),
//! scans for a device whose name starts with `--name-prefix`, connects,
//! discovers services, reads the software revision (0x2A28), subscribes to the
//! notify characteristic, writes `b` without response, counts `--count`
//! notifications checking that their first bytes increment without gaps,
//! writes `s`, unsubscribes and disconnects, then prints timings. Exits 0 only
//! if every step succeeded.

mod lab;

use btleplug::{
    api::{
        Central, CentralEvent, Characteristic, Manager as _, Peripheral as _, ScanFilter, WriteType,
    },
    platform::{Adapter, Manager, Peripheral},
};
use clap::Parser;
use futures::StreamExt;
use lab::{
    first_gap, ms, packet_is_valid, NOTIFY_UUID, SERVICE_UUID, SOFTWARE_REVISION,
    SOFTWARE_REVISION_UUID, WRITE_UUID,
};
use std::{
    future::Future,
    process::ExitCode,
    time::{Duration, Instant},
};
use tokio::time::timeout;

/// Command line of `ble-central`.
#[derive(Parser, Debug)]
#[command(
    about = "btleplug central that checks a Ganglion-like lab peripheral",
    args_override_self = true
)]
struct Args {
    /// Adapter to use, by BlueZ name (e.g. hci0).
    #[arg(long, default_value = "hci0")]
    adapter: String,
    /// Connect to the first device whose advertised name starts with this.
    #[arg(long, default_value = "Ganglion")]
    name_prefix: String,
    /// Seconds to scan before giving up.
    #[arg(long, default_value_t = 10.0)]
    scan_timeout: f64,
    /// Seconds allowed for each of connect, discover, read, subscribe, write.
    #[arg(long, default_value_t = 10.0)]
    op_timeout: f64,
    /// Notifications to receive.
    #[arg(long, default_value_t = 200)]
    count: usize,
    /// Seconds to wait for all `--count` notifications after writing `b`.
    #[arg(long, default_value_t = 20.0)]
    notify_timeout: f64,
}

type Res<T> = Result<T, String>;
/// btleplug's stream of adapter events.
type EventStream = std::pin::Pin<Box<dyn futures::Stream<Item = CentralEvent> + Send>>;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ble-central: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `fut` with the per-operation timeout, naming `what` in the errors.
async fn step<T, E: std::fmt::Display>(
    what: &str,
    secs: f64,
    fut: impl Future<Output = Result<T, E>>,
) -> Res<T> {
    match timeout(Duration::from_secs_f64(secs), fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer within {secs} s")),
    }
}

/// Finds the adapter whose `adapter_info()` starts with `name` followed by a
/// space or the end (`"hci0 (usb:v1D6Bp0246d0542)"`), so hci1 never matches hci10.
async fn find_adapter(manager: &Manager, name: &str) -> Res<Adapter> {
    let adapters = manager
        .adapters()
        .await
        .map_err(|e| format!("listing adapters: {e}; is bluetoothd running (ci/ble-vm.sh)?"))?;
    let mut seen = Vec::new();
    for a in adapters {
        let info = a
            .adapter_info()
            .await
            .map_err(|e| format!("adapter info: {e}"))?;
        let id = info.split_whitespace().next().unwrap_or("").to_string();
        if id == name {
            return Ok(a);
        }
        seen.push(info);
    }
    seen.sort();
    Err(format!(
        "adapter {name} not found; adapters: {}",
        if seen.is_empty() {
            "none".to_string()
        } else {
            seen.join(", ")
        }
    ))
}

/// The peripheral's name if it starts with `prefix`.
async fn matching_name(p: &Peripheral, prefix: &str) -> Option<String> {
    let props = p.properties().await.ok()??;
    props.local_name.filter(|n| n.starts_with(prefix))
}

/// Scans until a device named `prefix…` shows up; returns it and its name.
///
/// The scan is restarted every [`RESCAN_EVERY`]: btvirt's emulated controllers
/// deliver an advertising report only at the moment scanning or advertising is
/// enabled (there is no periodic advertising in the emulator), so a report
/// lost or filtered at that moment would otherwise not come back until
/// BlueZ's own discovery cycle restarts (about 10 s). On real radios the
/// restart is harmless.
async fn scan_for(
    adapter: &Adapter,
    events: &mut EventStream,
    prefix: &str,
    secs: f64,
) -> Res<(Peripheral, String)> {
    let search = async {
        loop {
            adapter
                .start_scan(ScanFilter::default())
                .await
                .map_err(|e| format!("starting the scan: {e}"))?;
            // BlueZ may already know the device from an earlier scan.
            for p in adapter.peripherals().await.unwrap_or_default() {
                if let Some(n) = matching_name(&p, prefix).await {
                    return Ok((p, n));
                }
            }
            // The name may arrive in the scan response, i.e. in a later update.
            let found = timeout(RESCAN_EVERY, async {
                while let Some(ev) = events.next().await {
                    let id = match ev {
                        CentralEvent::DeviceDiscovered(id) | CentralEvent::DeviceUpdated(id) => id,
                        _ => continue,
                    };
                    if let Ok(p) = adapter.peripheral(&id).await {
                        if let Some(n) = matching_name(&p, prefix).await {
                            return Some((p, n));
                        }
                    }
                }
                None
            })
            .await;
            match found {
                Ok(Some(x)) => return Ok(x),
                Ok(None) => return Err("adapter event stream ended during the scan".to_string()),
                Err(_) => {
                    let _ = adapter.stop_scan().await;
                }
            }
        }
    };
    let found = timeout(Duration::from_secs_f64(secs), search).await;
    let _ = adapter.stop_scan().await;
    match found {
        Ok(r) => r,
        Err(_) => Err(format!("no device named {prefix}* within {secs} s")),
    }
}

/// How long one scan runs before it is restarted (see [`scan_for`]).
const RESCAN_EVERY: Duration = Duration::from_secs(2);

fn find_char(p: &Peripheral, uuid: uuid::Uuid) -> Res<Characteristic> {
    p.characteristics()
        .into_iter()
        .find(|c| c.uuid == uuid)
        .ok_or_else(|| format!("characteristic {uuid} not found after discovery"))
}

async fn run(args: &Args) -> Res<()> {
    let op = args.op_timeout;
    let manager = Manager::new().await.map_err(|e| {
        format!("cannot reach bluetoothd on the system D-Bus ({e}); run inside ci/ble-vm.sh")
    })?;
    let adapter = find_adapter(&manager, &args.adapter).await?;

    let mut events = adapter
        .events()
        .await
        .map_err(|e| format!("adapter events: {e}"))?;
    let t_scan = Instant::now();
    let found = scan_for(&adapter, &mut events, &args.name_prefix, args.scan_timeout).await;
    // Dropping it no longer panics in bluez-async (the workspace patches it:
    // third_party/bluez-async/BOARDLOOP-PATCH.md).
    drop(events);
    let (dev, name) = found?;
    let scan_to_found = t_scan.elapsed();
    println!(
        "found {name} at {} after {}",
        dev.address(),
        ms(scan_to_found)
    );

    let t = Instant::now();
    step("connect", op, dev.connect()).await?;
    let connect = t.elapsed();

    // Everything after connecting runs in `session` so that a failure still
    // disconnects (a connection left open leaks into the next test).
    let result = session(args, &dev, scan_to_found, connect).await;
    let disc = step("disconnect", op, dev.disconnect()).await;
    result?;
    disc?;
    println!("disconnected");
    Ok(())
}

async fn session(
    args: &Args,
    dev: &Peripheral,
    scan_to_found: Duration,
    connect: Duration,
) -> Res<()> {
    let op = args.op_timeout;
    let t = Instant::now();
    step("discover services", op, dev.discover_services()).await?;
    let discover = t.elapsed();
    if !dev.services().iter().any(|s| s.uuid == SERVICE_UUID) {
        return Err(format!("service {SERVICE_UUID} not found after discovery"));
    }
    let notify = find_char(dev, NOTIFY_UUID)?;
    let command = find_char(dev, WRITE_UUID)?;
    let revision = find_char(dev, SOFTWARE_REVISION_UUID)?;

    let rev = step("read 0x2A28", op, dev.read(&revision)).await?;
    let rev = String::from_utf8_lossy(&rev).into_owned();
    if rev != SOFTWARE_REVISION {
        return Err(format!(
            "software revision is {rev:?}, expected {SOFTWARE_REVISION:?}"
        ));
    }
    println!("software revision {rev}, mtu {}", dev.mtu());

    // Take the stream before subscribing so no early notification is missed.
    let mut stream = step("notification stream", op, dev.notifications()).await?;
    step("subscribe", op, dev.subscribe(&notify)).await?;
    let t_start = Instant::now();
    step(
        "write b",
        op,
        dev.write(&command, b"b", WriteType::WithoutResponse),
    )
    .await?;

    let mut first_bytes = Vec::with_capacity(args.count);
    let mut first_at = None;
    let collect = async {
        while first_bytes.len() < args.count {
            let Some(n) = stream.next().await else {
                return Err("notification stream ended (disconnected?)".to_string());
            };
            if n.uuid != NOTIFY_UUID {
                continue;
            }
            if !packet_is_valid(&n.value) {
                return Err(format!(
                    "notification {} is not a valid lab packet: {:02x?}",
                    first_bytes.len(),
                    n.value
                ));
            }
            first_at.get_or_insert_with(Instant::now);
            first_bytes.push(n.value[0]);
        }
        Ok(())
    };
    match timeout(Duration::from_secs_f64(args.notify_timeout), collect).await {
        Ok(r) => r?,
        Err(_) => {
            return Err(format!(
                "received {} of {} notifications within {} s",
                first_bytes.len(),
                args.count,
                args.notify_timeout
            ))
        }
    }
    let t_last = Instant::now();
    step(
        "write s",
        op,
        dev.write(&command, b"s", WriteType::WithoutResponse),
    )
    .await?;
    step("unsubscribe", op, dev.unsubscribe(&notify)).await?;

    if let Some(i) = first_gap(&first_bytes) {
        return Err(format!(
            "gap in packet ids at notification {i}: {} then {}",
            first_bytes[i - 1],
            first_bytes[i]
        ));
    }
    let first_at = first_at.unwrap_or(t_last);
    let first = first_at - t_start;
    let span = (t_last - first_at).as_secs_f64();
    let rate = if span > 0.0 {
        (first_bytes.len() - 1) as f64 / span
    } else {
        f64::INFINITY
    };
    println!(
        "ok: {} notifications, ids {}..{} without gaps",
        first_bytes.len(),
        first_bytes.first().copied().unwrap_or(0),
        first_bytes.last().copied().unwrap_or(0)
    );
    println!(
        "timings: scan-to-found {}, connect {}, discover {}, first notification {}, {:.1} notifications/s",
        ms(scan_to_found),
        ms(connect),
        ms(discover),
        ms(first),
        rate
    );
    Ok(())
}

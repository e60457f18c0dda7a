//! `ble-peripheral`: a Ganglion-like BLE peripheral served through BlueZ with
//! bluer, for the BlueZ lab VM (`ci/ble-vm.sh`).
//!
//! Registers an LE advertisement (name, service 0xFE84) and a GATT application
//! on one adapter; `b` written to the command characteristic starts 20-byte
//! notifications with an incrementing first byte at `--rate` per second, `s`
//! stops them. The first stdout line is `ble: <address> <name>`, printed once
//! everything is registered, so a script can wait for it before starting a
//! central. Runs until SIGINT/SIGTERM or `--duration` elapses.

mod lab;

use bluer::{
    adv::{Advertisement, Type},
    gatt::local::{
        Application, Characteristic, CharacteristicNotifier, CharacteristicNotify,
        CharacteristicNotifyMethod, CharacteristicRead, CharacteristicWrite,
        CharacteristicWriteMethod, Service,
    },
};
use clap::Parser;
use futures::FutureExt;
use lab::{
    packet, DEVICE_INFO_UUID, NOTIFY_UUID, SERVICE_UUID, SOFTWARE_REVISION, SOFTWARE_REVISION_UUID,
    WRITE_UUID,
};
use std::{process::ExitCode, time::Duration};
use tokio::{
    signal::unix::{signal, SignalKind},
    sync::watch,
    time::{interval, MissedTickBehavior},
};

/// Command line of `ble-peripheral`.
#[derive(Parser, Debug)]
#[command(about = "Ganglion-like BLE peripheral on BlueZ (bluer), for the BlueZ lab VM")]
struct Args {
    /// Adapter to serve on (BlueZ name, e.g. hci1).
    #[arg(long, default_value = "hci1")]
    adapter: String,
    /// Advertised local name.
    #[arg(long, default_value = "Ganglion-lab")]
    name: String,
    /// Notifications per second while streaming.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Exit after this many seconds (default: run until SIGINT/SIGTERM).
    #[arg(long)]
    duration: Option<f64>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ble-peripheral: error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    if !(args.rate > 0.0 && args.rate <= 10_000.0) {
        return Err(format!("--rate {} out of range (0, 10000]", args.rate));
    }
    let session = bluer::Session::new().await.map_err(|e| {
        format!("cannot reach bluetoothd on the system D-Bus ({e}); run inside ci/ble-vm.sh")
    })?;
    let names = session
        .adapter_names()
        .await
        .map_err(|e| format!("listing adapters: {e}"))?;
    if !names.contains(&args.adapter) {
        let mut sorted = names.clone();
        sorted.sort();
        return Err(format!(
            "adapter {} not found; adapters: {}",
            args.adapter,
            if sorted.is_empty() {
                "none".to_string()
            } else {
                sorted.join(", ")
            }
        ));
    }
    let adapter = session
        .adapter(&args.adapter)
        .map_err(|e| format!("adapter {}: {e}", args.adapter))?;
    adapter
        .set_powered(true)
        .await
        .map_err(|e| format!("powering {} on: {e}", args.adapter))?;
    // bluetoothd serves the adapter's alias as the GAP Device Name (0x2A00).
    // A central's bluetoothd reads it on connect and replaces the advertised
    // name with it, so without this a second scan finds "BlueZ 5.66" instead
    // of the advertised name. A real Ganglion reports the same name in both.
    adapter
        .set_alias(args.name.clone())
        .await
        .map_err(|e| format!("setting the alias of {}: {e}", args.adapter))?;
    let address = adapter
        .address()
        .await
        .map_err(|e| format!("address of {}: {e}", args.adapter))?;

    // `true` while the central has asked for the stream (`b`), `false` after `s`.
    let (streaming_tx, streaming_rx) = watch::channel(false);
    let period = Duration::from_secs_f64(1.0 / args.rate);

    let app = Application {
        services: vec![
            Service {
                uuid: SERVICE_UUID,
                primary: true,
                characteristics: vec![
                    Characteristic {
                        uuid: NOTIFY_UUID,
                        notify: Some(CharacteristicNotify {
                            notify: true,
                            method: CharacteristicNotifyMethod::Fun(Box::new(move |notifier| {
                                let rx = streaming_rx.clone();
                                async move {
                                    tokio::spawn(stream_notifications(notifier, rx, period));
                                }
                                .boxed()
                            })),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                    Characteristic {
                        uuid: WRITE_UUID,
                        write: Some(CharacteristicWrite {
                            write_without_response: true,
                            method: CharacteristicWriteMethod::Fun(Box::new(move |value, _req| {
                                let tx = streaming_tx.clone();
                                async move {
                                    // Like a Ganglion: unknown commands are ignored.
                                    match value.as_slice() {
                                        b"b" => tx.send_replace(true),
                                        b"s" => tx.send_replace(false),
                                        _ => false,
                                    };
                                    Ok(())
                                }
                                .boxed()
                            })),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            Service {
                uuid: DEVICE_INFO_UUID,
                primary: true,
                characteristics: vec![Characteristic {
                    uuid: SOFTWARE_REVISION_UUID,
                    read: Some(CharacteristicRead {
                        read: true,
                        fun: Box::new(|_req| {
                            async { Ok(SOFTWARE_REVISION.as_bytes().to_vec()) }.boxed()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let _app_handle = adapter
        .serve_gatt_application(app)
        .await
        .map_err(|e| format!("registering the GATT application on {}: {e}", args.adapter))?;

    let adv = Advertisement {
        advertisement_type: Type::Peripheral,
        service_uuids: [SERVICE_UUID].into_iter().collect(),
        discoverable: Some(true),
        local_name: Some(args.name.clone()),
        ..Default::default()
    };
    let _adv_handle = adapter
        .advertise(adv)
        .await
        .map_err(|e| format!("registering the advertisement on {}: {e}", args.adapter))?;

    // The contract with scripts: this is the first stdout line (stdout is
    // line-buffered, so it is flushed at the newline).
    println!("ble: {address} {}", args.name);

    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let limit = async {
        match args.duration {
            Some(s) => tokio::time::sleep(Duration::from_secs_f64(s)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
        _ = limit => {},
    }
    eprintln!("ble-peripheral: stopping");
    // Dropping the handles unregisters the application and the advertisement.
    Ok(())
}

/// Serves one notification session (one subscribed central): waits for `b`,
/// then sends packets 0, 1, 2, … at `period` until `s`, an unsubscribe or a
/// disconnect. Each `b` restarts the counter at 0.
async fn stream_notifications(
    mut notifier: CharacteristicNotifier,
    mut streaming: watch::Receiver<bool>,
    period: Duration,
) {
    loop {
        // Idle until streaming is requested or the session ends.
        while !*streaming.borrow_and_update() {
            tokio::select! {
                r = streaming.changed() => if r.is_err() { return },
                _ = notifier.stopped() => return,
            }
        }
        let mut ticks = interval(period);
        // After a slow notify, don't burst to catch up: keep a steady rate.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut id: u8 = 0;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                r = streaming.changed() => {
                    if r.is_err() { return }
                    if !*streaming.borrow_and_update() { break }
                    id = 0;
                    continue;
                }
                _ = notifier.stopped() => return,
            }
            if let Err(e) = notifier.notify(packet(id).to_vec()).await {
                eprintln!("ble-peripheral: notification session ended: {e}");
                return;
            }
            id = id.wrapping_add(1);
        }
    }
}

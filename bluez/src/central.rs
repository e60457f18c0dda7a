//! The central side: [`BtleplugConnector`] implements the boards' blocking
//! [`BleConnector`] over btleplug 0.13 (BlueZ on Linux), and its links
//! implement [`BleLink`]. Each connector owns a small tokio runtime; the
//! drivers' threads block on it, and notifications are forwarded by a task
//! into a std channel that the driver's reader thread drains.

use crate::rt::Rt;
use boardloop_boards::ble::{
    not_found, BleConnector, BleLink, CharProps, CharacteristicInfo, DeviceFilter, DeviceInfo,
    Notification, NotificationStream, Uuid,
};
use boardloop_boards::error::{BoardError, ExitCode};
use btleplug::api::{
    Central, CentralEvent, CharPropFlags, Characteristic, Manager as _, Peripheral as _,
    ScanFilter, WriteType,
};
use btleplug::platform::{Adapter, Manager, Peripheral, PeripheralId};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long one scan runs before it is restarted. btvirt's emulated
/// controllers deliver an advertising report only when scanning or advertising
/// is switched on (no periodic advertising), so a report lost at that instant
/// would not come back until BlueZ restarts discovery (~10 s). Harmless on
/// real radios.
pub const RESCAN_EVERY: Duration = Duration::from_secs(2);

/// Default limit for connect, discovery and each GATT operation.
pub const OP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `disconnect` waits for bluetoothd's answer (see there).
const DISCONNECT_WAIT: Duration = Duration::from_millis(300);

/// How often a link checks `is_connected` besides listening for
/// `DeviceDisconnected` (a missed D-Bus signal must not hide a link loss).
const LINK_POLL: Duration = Duration::from_millis(100);

type EventStream = Pin<Box<dyn futures::Stream<Item = CentralEvent> + Send>>;

fn not_ready(msg: String) -> BoardError {
    BoardError::new(ExitCode::BoardNotReady, msg)
}

/// Runs `fut` with a time limit, naming `what` in the error.
async fn timed<T, E: std::fmt::Display>(
    what: &str,
    limit: Duration,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!(
            "{what}: no answer within {:.1} s",
            limit.as_secs_f64()
        )),
    }
}

/// Finds an adapter by BlueZ name (`hci0`, matched against the first word of
/// `adapter_info()`, so `hci1` never matches `hci10`) or by address. The
/// order of `adapters()` is not stable, so it is never used.
async fn find_adapter(manager: &Manager, wanted: &str) -> Result<Adapter, String> {
    let adapters = manager
        .adapters()
        .await
        .map_err(|e| format!("listing BLE adapters: {e} (is bluetoothd running?)"))?;
    let mut seen = Vec::new();
    for a in adapters {
        let info = a.adapter_info().await.unwrap_or_default();
        let name = info.split_whitespace().next().unwrap_or("").to_string();
        let addr = a
            .adapter_address()
            .await
            .ok()
            .flatten()
            .map(|a| a.to_string())
            .unwrap_or_default();
        if name == wanted || (!addr.is_empty() && addr.eq_ignore_ascii_case(wanted)) {
            return Ok(a);
        }
        seen.push(format!("{name} ({addr})"));
    }
    seen.sort();
    Err(format!(
        "BLE adapter {wanted} not found; adapters: [{}]",
        seen.join(", ")
    ))
}

/// BlueZ's name of `a` (`hci0`): the first word of `adapter_info()`.
async fn adapter_name(a: &Adapter) -> String {
    let info = a.adapter_info().await.unwrap_or_default();
    info.split_whitespace().next().unwrap_or("").to_string()
}

/// The adapter with the lowest `hciN` number, so the choice is the same on
/// every run (`adapters()` comes in no stable order).
async fn first_adapter(manager: &Manager) -> Result<Adapter, String> {
    let adapters = manager
        .adapters()
        .await
        .map_err(|e| format!("listing BLE adapters: {e} (is bluetoothd running?)"))?;
    let mut named = Vec::new();
    for a in adapters {
        let name = adapter_name(&a).await;
        let n: u32 = name
            .strip_prefix("hci")
            .and_then(|n| n.parse().ok())
            .unwrap_or(u32::MAX);
        named.push((n, name, a));
    }
    named.sort_by(|x, y| (x.0, &x.1).cmp(&(y.0, &y.1)));
    named
        .into_iter()
        .next()
        .map(|(_, _, a)| a)
        .ok_or_else(|| "bluetoothd lists no BLE adapter".to_string())
}

fn to_uuid(u: uuid::Uuid) -> Uuid {
    Uuid(u.as_u128())
}

fn from_uuid(u: Uuid) -> uuid::Uuid {
    uuid::Uuid::from_u128(u.0)
}

/// What scanning knows about `p` (name is BlueZ's Alias, else Name, else "").
async fn device_info(p: &Peripheral) -> Option<DeviceInfo> {
    let props = p.properties().await.ok()??;
    Some(DeviceInfo {
        name: props.local_name.unwrap_or_default(),
        address: p.address().to_string(),
        services: props.services.into_iter().map(to_uuid).collect(),
    })
}

/// The blocking connector for the Rust BLE boards, on one BlueZ adapter.
pub struct BtleplugConnector {
    rt: Arc<Rt>,
    adapter: Adapter,
    adapter_name: String,
    /// Adapter events, taken once and kept for the connector's life (each
    /// new stream adds D-Bus match rules); `None` only while `find` runs.
    events: Option<EventStream>,
    /// Peripherals seen by the last scan, by address.
    seen: BTreeMap<String, Peripheral>,
}

impl BtleplugConnector {
    /// Opens the adapter named `adapter` (`hci0`) or with that address.
    /// Fails with `UnableToOpenPort` if bluetoothd or the adapter is missing.
    pub fn new(adapter: &str) -> boardloop_boards::error::Result<Self> {
        Self::open(Some(adapter))
    }

    /// Opens the adapter `wanted` (a name such as `hci0`, or an address), or
    /// with `None` the machine's first adapter by name (`hci0` before
    /// `hci1`: BlueZ lists them in no stable order). No system D-Bus, no
    /// bluetoothd or no such adapter gives `UnableToOpenPort` (BrainFlow's code
    /// for "No BLE adapters found") within [`OP_TIMEOUT`], saying what was
    /// looked for and what exists.
    pub fn open(wanted: Option<&str>) -> boardloop_boards::error::Result<Self> {
        let no_port = |m: String| BoardError::new(ExitCode::UnableToOpenPort, m);
        let rt = Arc::new(Rt::new("btleplug").map_err(|e| no_port(e.to_string()))?);
        let opened = rt.block_on(async {
            let work = async {
                let manager = Manager::new()
                    .await
                    .map_err(|e| format!("cannot reach bluetoothd on the system D-Bus: {e}"))?;
                let a = match wanted {
                    Some(w) => find_adapter(&manager, w).await?,
                    None => first_adapter(&manager).await?,
                };
                let name = adapter_name(&a).await;
                let events = a
                    .events()
                    .await
                    .map_err(|e| format!("events of {name}: {e}"))?;
                Ok::<_, String>((a, name, events))
            };
            match tokio::time::timeout(OP_TIMEOUT, work).await {
                Ok(r) => r,
                Err(_) => Err(format!(
                    "bluetoothd did not answer within {:.0} s",
                    OP_TIMEOUT.as_secs_f64()
                )),
            }
        });
        let (a, name, events) = opened.map_err(no_port)?;
        Ok(BtleplugConnector {
            rt,
            adapter: a,
            adapter_name: name,
            events: Some(events),
            seen: BTreeMap::new(),
        })
    }

    /// The adapter's BlueZ name (`hci0`).
    pub fn adapter_name(&self) -> &str {
        &self.adapter_name
    }
}

impl Drop for BtleplugConnector {
    fn drop(&mut self) {
        // Dropped inside the runtime: a bluez-async stream removes its D-Bus
        // match rules from the bus with a task on the current runtime
        // (third_party/bluez-async/BOARDLOOP-PATCH.md).
        let _inside = self.rt.enter();
        self.events = None;
    }
}

impl BleConnector for BtleplugConnector {
    fn find(
        &mut self,
        filter: &DeviceFilter,
        timeout: Duration,
    ) -> boardloop_boards::error::Result<DeviceInfo> {
        let adapter = self.adapter.clone();
        let mut events = self.events.take();
        let mut seen: BTreeMap<String, (DeviceInfo, Peripheral)> = BTreeMap::new();
        let started = Instant::now();
        let deadline = started + timeout;
        let result: Result<Option<(DeviceInfo, Peripheral)>, String> = self.rt.block_on(async {
            let mut check = |p: Peripheral, info: DeviceInfo| {
                let hit = filter.matches(&info);
                seen.insert(info.address.clone(), (info.clone(), p.clone()));
                hit.then_some((info, p))
            };
            loop {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(None);
                }
                adapter
                    .start_scan(ScanFilter::default())
                    .await
                    .map_err(|e| format!("starting the scan: {e}"))?;
                // BlueZ may already know the device from an earlier scan.
                for p in adapter.peripherals().await.unwrap_or_default() {
                    if let Some(info) = device_info(&p).await {
                        if let Some(hit) = check(p, info) {
                            return Ok(Some(hit));
                        }
                    }
                }
                let slice = RESCAN_EVERY.min(deadline - now);
                let hit = tokio::time::timeout(slice, async {
                    let Some(ev) = events.as_mut() else {
                        std::future::pending::<()>().await;
                        return None;
                    };
                    while let Some(e) = ev.next().await {
                        // The name can arrive in the scan response, i.e. an update.
                        let id = match e {
                            CentralEvent::DeviceDiscovered(id)
                            | CentralEvent::DeviceUpdated(id) => id,
                            _ => continue,
                        };
                        let Ok(p) = adapter.peripheral(&id).await else {
                            continue;
                        };
                        if let Some(info) = device_info(&p).await {
                            if let Some(hit) = check(p, info) {
                                return Some(hit);
                            }
                        }
                    }
                    None
                })
                .await;
                let _ = adapter.stop_scan().await;
                if let Ok(Some(hit)) = hit {
                    return Ok(Some(hit));
                }
            }
        });
        self.events = events;
        let _ = self.rt.block_on(self.adapter.stop_scan());
        for (addr, (_, p)) in &seen {
            self.seen.insert(addr.clone(), p.clone());
        }
        match result {
            Ok(Some((info, _))) => {
                tracing::info!(
                    "found {:?} ({}) on {} after {} ms",
                    info.name,
                    info.address,
                    self.adapter_name,
                    started.elapsed().as_millis()
                );
                Ok(info)
            }
            Ok(None) => {
                let list: Vec<DeviceInfo> = seen.into_values().map(|(i, _)| i).collect();
                let mut e = not_found(filter, timeout, &list);
                e.message = format!("{} (adapter {})", e.message, self.adapter_name);
                Err(e)
            }
            Err(e) => Err(not_ready(format!(
                "scanning on {} for {filter}: {e}",
                self.adapter_name
            ))),
        }
    }

    fn connect(
        &mut self,
        device: &DeviceInfo,
    ) -> boardloop_boards::error::Result<Box<dyn BleLink>> {
        let what = format!(
            "{:?} ({}) on {}",
            device.name, device.address, self.adapter_name
        );
        let known = self.seen.get(&device.address).cloned();
        let adapter = self.adapter.clone();
        let rt = self.rt.clone();
        let link = rt.block_on(async {
            let p = match known {
                Some(p) => p,
                None => adapter
                    .peripherals()
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .find(|p| {
                        p.address()
                            .to_string()
                            .eq_ignore_ascii_case(&device.address)
                    })
                    .ok_or_else(|| "not seen by a scan".to_string())?,
            };
            let t = Instant::now();
            if let Err(e) = timed("connect", OP_TIMEOUT, p.connect()).await {
                // `connect` is Device1.Connect and then the wait for
                // ServicesResolved: a timeout leaves bluetoothd's attempt
                // running, or a link up with its services unresolved. Either
                // would come up later on its own and be cut half set up by the
                // trial's end (cut_links), which in the lab VM left bluetoothd
                // 5.66 with the device marked connected and no connection
                // (`No matching connection for device`): every later connect
                // in that bluetoothd then waited for services that never came
                // (CI of 422c60c: one timeout, then five trials failed).
                // Disconnect cancels the attempt or drops the link now.
                let _ = tokio::time::timeout(OP_TIMEOUT, p.disconnect()).await;
                return Err(e);
            }
            let connect = t.elapsed();
            let t = Instant::now();
            if let Err(e) = timed("discover services", OP_TIMEOUT, p.discover_services()).await {
                // A half-open connection would leak into the next attempt.
                let _ = tokio::time::timeout(OP_TIMEOUT, p.disconnect()).await;
                return Err(e);
            }
            tracing::info!(
                "connected in {} ms, discovered in {} ms, mtu {}",
                connect.as_millis(),
                t.elapsed().as_millis(),
                p.mtu()
            );
            let chars: Vec<Characteristic> = p.characteristics().into_iter().collect();
            let events = adapter
                .events()
                .await
                .map_err(|e| format!("adapter events: {e}"))?;
            Ok::<_, String>((p, chars, events))
        });
        let (p, chars, events) =
            link.map_err(|e| not_ready(format!("unable to connect to {what}: {e}")))?;
        Ok(Box::new(BtleplugLink::new(
            self.rt.clone(),
            p,
            chars,
            events,
        )))
    }
}

/// One connection made by [`BtleplugConnector`].
struct BtleplugLink {
    rt: Arc<Rt>,
    periph: Peripheral,
    chars: Vec<Characteristic>,
    /// Cleared on disconnect or link loss (set by the watcher task).
    connected: Arc<AtomicBool>,
    /// Becomes true on link loss or disconnect; stops the forwarder.
    lost: watch::Sender<bool>,
    stream_taken: bool,
}

impl BtleplugLink {
    fn new(
        rt: Arc<Rt>,
        periph: Peripheral,
        chars: Vec<Characteristic>,
        events: EventStream,
    ) -> Self {
        let connected = Arc::new(AtomicBool::new(true));
        let (lost, _) = watch::channel(false);
        // The watcher: link loss from BlueZ's DeviceDisconnected, or from a
        // poll in case that signal is missed.
        let id: PeripheralId = periph.id();
        let (p2, c2, l2) = (periph.clone(), connected.clone(), lost.clone());
        let mut lost_rx = lost.subscribe();
        rt.spawn(async move {
            let mut events = events;
            let mut poll = tokio::time::interval(LINK_POLL);
            loop {
                tokio::select! {
                    e = events.next() => match e {
                        Some(CentralEvent::DeviceDisconnected(d)) if d == id => break,
                        Some(_) => {}
                        None => break,
                    },
                    _ = poll.tick() => {
                        if !p2.is_connected().await.unwrap_or(false) { break }
                    }
                    _ = lost_rx.changed() => break,
                }
            }
            if c2.swap(false, Ordering::SeqCst) {
                tracing::info!("link to {id:?} lost");
            }
            l2.send_replace(true);
        });
        BtleplugLink {
            rt,
            periph,
            chars,
            connected,
            lost,
            stream_taken: false,
        }
    }

    fn find(&self, uuid: Uuid) -> io::Result<&Characteristic> {
        let u = from_uuid(uuid);
        self.chars.iter().find(|c| c.uuid == u).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("characteristic {uuid} not found"),
            )
        })
    }

    fn check(&self, uuid: Uuid, needs: CharPropFlags, what: &str) -> io::Result<Characteristic> {
        if !self.is_connected() {
            return Err(lost());
        }
        let c = self.find(uuid)?;
        if !c.properties.intersects(needs) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("characteristic {uuid} does not allow {what}"),
            ));
        }
        Ok(c.clone())
    }

    /// Runs a GATT operation; an error after the link dropped is `NotConnected`.
    fn op<T>(&self, what: &str, fut: impl Future<Output = btleplug::Result<T>>) -> io::Result<T> {
        let r = self.rt.block_on(timed(what, OP_TIMEOUT, fut));
        r.map_err(|e| {
            if self.is_connected() {
                io::Error::other(e)
            } else {
                io::Error::new(io::ErrorKind::NotConnected, format!("BLE link lost ({e})"))
            }
        })
    }
}

fn lost() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "BLE link lost")
}

impl BleLink for BtleplugLink {
    fn characteristics(&self) -> Vec<CharacteristicInfo> {
        self.chars
            .iter()
            .map(|c| CharacteristicInfo {
                service: to_uuid(c.service_uuid),
                uuid: to_uuid(c.uuid),
                props: CharProps {
                    read: c.properties.contains(CharPropFlags::READ),
                    write: c.properties.contains(CharPropFlags::WRITE),
                    write_without_response: c
                        .properties
                        .contains(CharPropFlags::WRITE_WITHOUT_RESPONSE),
                    notify: c.properties.contains(CharPropFlags::NOTIFY),
                },
            })
            .collect()
    }

    fn write(&mut self, uuid: Uuid, value: &[u8], with_response: bool) -> io::Result<()> {
        let (needs, kind) = if with_response {
            (CharPropFlags::WRITE, WriteType::WithResponse)
        } else {
            (
                CharPropFlags::WRITE_WITHOUT_RESPONSE,
                WriteType::WithoutResponse,
            )
        };
        let c = self.check(uuid, needs, "this write type")?;
        // Writes leave in the order the driver makes them: this returns only
        // when bluetoothd has answered the D-Bus WriteValue, which for a
        // Write Command is once it has queued the ATT PDU, and one ATT bearer
        // (ci/bluetooth-main.conf: Channels = 1, as BrainFlow's stack uses)
        // sends its queue in order. (With EATT, several bearers, commands
        // could overtake each other on the air.)
        self.op("write", self.periph.write(&c, value, kind))
    }

    fn read(&mut self, uuid: Uuid) -> io::Result<Vec<u8>> {
        let c = self.check(uuid, CharPropFlags::READ, "reads")?;
        self.op("read", self.periph.read(&c))
    }

    fn subscribe(&mut self, uuid: Uuid) -> io::Result<()> {
        let c = self.check(
            uuid,
            CharPropFlags::NOTIFY | CharPropFlags::INDICATE,
            "notifications",
        )?;
        self.op("subscribe", self.periph.subscribe(&c))
    }

    fn unsubscribe(&mut self, uuid: Uuid) -> io::Result<()> {
        let c = self.check(
            uuid,
            CharPropFlags::NOTIFY | CharPropFlags::INDICATE,
            "notifications",
        )?;
        self.op("unsubscribe", self.periph.unsubscribe(&c))
    }

    fn notifications(&mut self) -> io::Result<Box<dyn NotificationStream>> {
        let (tx, rx) = mpsc::channel();
        if self.stream_taken || !self.is_connected() {
            // Contract: a second stream receives nothing (the sender is dropped,
            // so it reports the link as gone once empty).
            return Ok(Box::new(BtleplugStream { rx }));
        }
        self.stream_taken = true;
        let mut stream = self.op("notification stream", self.periph.notifications())?;
        let mut lost_rx = self.lost.subscribe();
        self.rt.spawn(async move {
            // For the log: how many arrived and at what rate.
            let (mut count, mut first, mut last) = (0u64, None::<Instant>, Instant::now());
            loop {
                tokio::select! {
                    // `biased`: deliver what has arrived before reporting a loss.
                    biased;
                    n = stream.next() => match n {
                        Some(n) => {
                            count += 1;
                            last = Instant::now();
                            first.get_or_insert(last);
                            let n = Notification { uuid: to_uuid(n.uuid), value: n.value };
                            if tx.send(n).is_err() { break }
                        }
                        None => break,
                    },
                    r = lost_rx.changed() => if r.is_err() || *lost_rx.borrow() { break },
                }
            }
            let span = first.map_or(0.0, |f| (last - f).as_secs_f64());
            tracing::info!(
                "{count} notifications over {span:.2} s ({:.1}/s)",
                if span > 0.0 {
                    (count - 1) as f64 / span
                } else {
                    0.0
                }
            );
            // Dropping `tx` (and the stream) ends the blocking side.
        });
        Ok(Box::new(BtleplugStream { rx }))
    }

    fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    fn disconnect(&mut self) -> io::Result<()> {
        if !self.connected.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        // bluetoothd answers Device1.Disconnect only when the link is down,
        // and with GATT services attached it first runs its 2-s disconnect
        // timer. The request is on its way once sent, so wait only briefly:
        // a release must not stall on BlueZ's bookkeeping.
        let p = self.periph.clone();
        let r = self.rt.block_on(async move {
            let call = tokio::spawn(async move { p.disconnect().await });
            match tokio::time::timeout(DISCONNECT_WAIT, call).await {
                Ok(Ok(r)) => r.map_err(|e| format!("disconnect: {e}")),
                Ok(Err(e)) => Err(format!("disconnect: {e}")),
                Err(_) => {
                    tracing::debug!("disconnect still pending in bluetoothd; not waiting");
                    Ok(())
                }
            }
        });
        self.lost.send_replace(true);
        r.map_err(io::Error::other)
    }
}

impl Drop for BtleplugLink {
    fn drop(&mut self) {
        let _ = self.disconnect();
    }
}

/// The blocking end of a link's notifications.
struct BtleplugStream {
    rx: mpsc::Receiver<Notification>,
}

impl NotificationStream for BtleplugStream {
    fn recv(&mut self, timeout: Duration) -> io::Result<Option<Notification>> {
        match self.rx.recv_timeout(timeout) {
            Ok(n) => Ok(Some(n)),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(lost()),
        }
    }
}

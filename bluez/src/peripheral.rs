//! The peripheral side: [`BluerPeripheral`] serves a device profile's GATT
//! table through bluetoothd with bluer 0.17 and implements the emulator's
//! [`Peripheral`], so `BleEmulator` plays a scenario over a real BlueZ link.

use crate::links::LinkWatch;
use crate::mgmt::{self, MgmtAddressType};
use crate::rt::Rt;
use bluer::adv::{Advertisement, AdvertisementHandle, Type};
use bluer::gatt::local::{
    Application, ApplicationHandle, Characteristic, CharacteristicNotifier, CharacteristicNotify,
    CharacteristicNotifyMethod, CharacteristicRead, CharacteristicWrite, CharacteristicWriteMethod,
    Service,
};
use boardloop_emulators::profile::{full_uuid, BleDecl, CharProperty};
use boardloop_emulators::Peripheral;
use futures::FutureExt;
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::num::NonZeroU16;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Limit for one notification to be handed to bluetoothd; a stuck D-Bus
/// must not stall the emulator thread forever.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// Most notifications per second handed to bluetoothd, in all. bluer's
/// `notify` only queues a D-Bus signal, so nothing pushes back on the
/// emulator. Measured over btvirt: Ganglion (one characteristic) arrived
/// complete at 100/s but its stream stalled for good after 130-250 packets at
/// 200/s and 800/s; Muse 2 in real time (~175/s over five characteristics)
/// arrived complete. `notify` therefore blocks to keep both this rate and
/// [`MAX_NOTIFY_RATE_PER_CHARACTERISTIC`], which the emulator sees as a
/// reader that takes packets no faster (its pacing falls behind; nothing is
/// dropped).
pub const MAX_NOTIFY_RATE: f64 = 175.0;

/// Most notifications per second on any one characteristic (see
/// [`MAX_NOTIFY_RATE`]).
pub const MAX_NOTIFY_RATE_PER_CHARACTERISTIC: f64 = 100.0;

/// See [`Peripheral::drop_link`] below: time for queued notifications to
/// leave bluetoothd before the link is cut.
const DRAIN_BEFORE_DROP: Duration = Duration::from_millis(50);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data: a panic elsewhere must not take every other user down.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn parse_uuid(u: &str) -> io::Result<bluer::Uuid> {
    bluer::Uuid::parse_str(&full_uuid(u))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("uuid {u:?}: {e}")))
}

/// State shared between the bluer callbacks and the emulator's calls.
#[derive(Default)]
struct Shared {
    /// What reads return, by full lower-case UUID.
    values: Mutex<HashMap<String, Vec<u8>>>,
    /// The live notification session of each subscribed characteristic.
    notifiers: Mutex<HashMap<String, CharacteristicNotifier>>,
    /// The current link's ATT MTU as bluetoothd last reported it with a
    /// read or write (0: none yet). The notification path (bluer's `Fun`
    /// method, a D-Bus value change) carries no MTU, and bluetoothd cuts a
    /// longer value to MTU - 3 without a word; every board writes a command
    /// before it streams, so the MTU is known before the first notification.
    link_mtu: std::sync::atomic::AtomicU16,
}

/// A GATT peripheral on one BlueZ adapter, built from a profile's [`BleDecl`].
///
/// Registration happens in [`BluerPeripheral::new`]; advertising starts with
/// [`BluerPeripheral::advertise`] (separate so a scenario can advertise late).
/// Dropping it unregisters both.
pub struct BluerPeripheral {
    rt: Rt,
    adapter: bluer::Adapter,
    adapter_name: String,
    address: String,
    name: String,
    advertised: BTreeSet<bluer::Uuid>,
    shared: Arc<Shared>,
    writes: Mutex<mpsc::Receiver<(String, Vec<u8>)>>,
    app: Option<ApplicationHandle>,
    adv: Arc<Mutex<Option<AdvertisementHandle>>>,
    /// The adapter's links, watched from the first [`BluerPeripheral::advertise`].
    links: Mutex<Option<LinkWatch>>,
    /// When the next notification may go (see [`MAX_NOTIFY_RATE`]).
    next_notify: Mutex<std::time::Instant>,
    /// The same per characteristic.
    next_notify_on: Mutex<HashMap<String, std::time::Instant>>,
    /// Set by [`BluerPeripheral::uncap`]: no notification rate limit.
    uncapped: std::sync::atomic::AtomicBool,
    /// Set on drop: the advertising refresher must not register again.
    stopping: Arc<std::sync::atomic::AtomicBool>,
    _session: bluer::Session,
}

impl BluerPeripheral {
    /// Registers `decl`'s GATT application on `adapter` (e.g. `hci1`) and sets
    /// the adapter's alias to `name` (the rendered advertised name): a
    /// central's bluetoothd reads the GAP Device Name on connect and replaces
    /// the advertised name with it, and bluetoothd serves the alias there.
    pub fn new(adapter: &str, name: &str, decl: &BleDecl) -> io::Result<BluerPeripheral> {
        let rt = Rt::new("bluer")?;
        let shared = Arc::new(Shared::default());
        let (wtx, wrx) = mpsc::channel();
        let advertised = decl
            .advertise
            .iter()
            .map(|u| parse_uuid(u))
            .collect::<io::Result<BTreeSet<_>>>()?;
        let (session, a, address, handle) = rt
            .block_on(async {
                let session = bluer::Session::new()
                    .await
                    .map_err(|e| format!("cannot reach bluetoothd on the system D-Bus: {e}"))?;
                let names = session.adapter_names().await.map_err(|e| e.to_string())?;
                if !names.iter().any(|n| n == adapter) {
                    let mut names = names;
                    names.sort();
                    return Err(format!(
                        "adapter {adapter} not found; adapters: [{}]",
                        names.join(", ")
                    ));
                }
                let a = session.adapter(adapter).map_err(|e| e.to_string())?;
                a.set_powered(true)
                    .await
                    .map_err(|e| format!("powering {adapter} on: {e}"))?;
                a.set_alias(name.to_string())
                    .await
                    .map_err(|e| format!("setting the alias of {adapter}: {e}"))?;
                let address = a.address().await.map_err(|e| e.to_string())?;
                let handle = register(&a, adapter, decl, &shared, &wtx).await?;
                Ok((session, a, address, handle))
            })
            .map_err(io::Error::other)?;
        Ok(BluerPeripheral {
            rt,
            adapter: a,
            adapter_name: adapter.to_string(),
            address: address.to_string(),
            name: name.to_string(),
            advertised,
            shared,
            writes: Mutex::new(wrx),
            app: Some(handle),
            adv: Arc::new(Mutex::new(None)),
            links: Mutex::new(None),
            stopping: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            uncapped: std::sync::atomic::AtomicBool::new(false),
            next_notify: Mutex::new(std::time::Instant::now()),
            next_notify_on: Mutex::new(HashMap::new()),
            _session: session,
        })
    }

    /// Starts the LE advertisement (name and the profile's advertised service
    /// UUIDs); a no-op if already advertising.
    ///
    /// While no central is connected, the advertisement is re-registered every
    /// [`REFRESH_ADVERTISING`]: btvirt's controllers send an advertising report
    /// only at the moment advertising or scanning is switched on (no periodic
    /// advertising), and reports lost above HCI at those instants left scans
    /// finding nothing for seconds. A real device advertises continuously, so
    /// this only restores what the emulated air lacks. While a central is
    /// connected, the refresher makes no call to bluetoothd at all: it learns
    /// of links from signals ([`crate::links`] says why a call would hurt).
    pub fn advertise(&self) -> io::Result<()> {
        let mut adv = lock(&self.adv);
        if adv.is_some() {
            return Ok(());
        }
        let mut watch = lock(&self.links);
        if watch.is_none() {
            *watch = Some(LinkWatch::start(&self.adapter_name)?);
        }
        let connected = watch.as_ref().map(LinkWatch::connected);
        drop(watch);
        let a = self.advertisement();
        let h = self.rt.block_on(self.adapter.advertise(a)).map_err(|e| {
            io::Error::other(format!(
                "registering the advertisement on {}: {e}",
                self.adapter_name
            ))
        })?;
        *adv = Some(h);
        let refresher = Refresher {
            slot: self.adv.clone(),
            adapter: self.adapter.clone(),
            stopping: self.stopping.clone(),
            template: self.advertisement(),
        };
        if let Some(connected) = connected {
            self.rt.spawn(refresher.run(connected));
        }
        Ok(())
    }

    fn advertisement(&self) -> Advertisement {
        Advertisement {
            advertisement_type: Type::Peripheral,
            service_uuids: self.advertised.clone(),
            discoverable: Some(true),
            local_name: Some(self.name.clone()),
            ..Default::default()
        }
    }

    /// Lifts the notification rate limits ([`MAX_NOTIFY_RATE`] and
    /// [`MAX_NOTIFY_RATE_PER_CHARACTERISTIC`]): `notify` then sends as fast as
    /// bluetoothd takes them. For the throughput benchmark, which finds the
    /// rate where notifications start to get lost.
    pub fn uncap(&self) {
        self.uncapped.store(true, Ordering::Relaxed);
    }

    /// The adapter's address (`00:AA:01:01:00:01`), what a central connects to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The advertised name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for BluerPeripheral {
    fn drop(&mut self) {
        // Dropping a handle only signals a task in our runtime to unregister;
        // the runtime shuts down right after, so wait here until bluetoothd
        // reports no advertising instance, or the next peripheral on this
        // adapter races the old one's removal (seen as scans finding nothing).
        let a = self.adapter.clone();
        self.stopping.store(true, Ordering::SeqCst);
        let (adv, app) = (lock(&self.adv).take(), self.app.take());
        lock(&self.shared.notifiers).clear();
        self.rt.block_on(async move {
            drop(adv);
            // Waits for bluetoothd's answer, by which it has freed the
            // table's handles: the next device on this bluetoothd gets the
            // same ones (see `register`).
            if let Some(app) = app {
                let _ = tokio::time::timeout(Duration::from_secs(3), app.unregister()).await;
            }
            let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
            while tokio::time::Instant::now() < deadline {
                if a.active_advertising_instances().await.unwrap_or(0) == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
}

/// How often an idle advertisement is re-registered (see
/// [`BluerPeripheral::advertise`]).
const REFRESH_ADVERTISING: Duration = Duration::from_millis(1000);

/// The advertising refresher of [`BluerPeripheral::advertise`].
struct Refresher {
    slot: Arc<Mutex<Option<AdvertisementHandle>>>,
    adapter: bluer::Adapter,
    stopping: Arc<std::sync::atomic::AtomicBool>,
    template: Advertisement,
}

impl Refresher {
    /// Re-registers the advertisement every [`REFRESH_ADVERTISING`] while no
    /// central is connected (`connected`, from [`LinkWatch`]); ends when the
    /// peripheral stops (drop) or a registration fails.
    async fn run(self, mut connected: tokio::sync::watch::Receiver<usize>) {
        loop {
            tokio::time::sleep(REFRESH_ADVERTISING).await;
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            if *connected.borrow_and_update() > 0 {
                // Quiet until the last central has gone, then a whole period
                // before the next refresh.
                if connected.wait_for(|n| *n == 0).await.is_err() {
                    return;
                }
                continue;
            }
            let Some(old) = lock(&self.slot).take() else {
                return;
            };
            drop(old);
            // Wait for the old instance to go, or the new one is merely queued
            // behind it and advertising is never switched off and on.
            for _ in 0..20 {
                if self
                    .adapter
                    .active_advertising_instances()
                    .await
                    .unwrap_or(0)
                    == 0
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            match self.adapter.advertise(self.template.clone()).await {
                Ok(h) => *lock(&self.slot) = Some(h),
                Err(_) => return,
            }
        }
    }
}

/// The GATT application for `decl`: reads answer from `shared.values`,
/// writes (either type) go to `writes` in the order they arrived, and each
/// subscription's notifier is kept in `shared.notifiers` for
/// [`Peripheral::notify`].
///
/// WRITE ORDER. Every write, Write Command or Write Request, reaches us as a
/// D-Bus `WriteValue` call; bluetoothd sends them in the order of the ATT
/// PDUs, and the D-Bus connection delivers them in that order. Stock bluer
/// 0.17 then spawns a tokio task per call and calls the write function in
/// it, on this peripheral's multi-thread runtime, where tasks do not start in
/// spawn order (the LIFO slot runs the newest first, the other worker
/// steals): writes sent back to back reached the emulator swapped under load
/// (Muse: `expected [version, preset, start, stop], got [version, start,
/// preset, stop]`; `bluez/tests/bluez_writes.rs` saw writes 1 and 2 of 150
/// swapped in its first round with two busy loops on the host). The bluer in
/// `third_party/bluer` (see its BOARDLOOP-PATCH.md) calls the write function
/// while the call is dispatched, one call after the other, and the function
/// above sends into the channel in that call: the emulator reads the writes
/// in the order they were on the air, by construction.
///
/// Not AcquireWrite (`CharacteristicWriteMethod::Io`, one ordered socket):
/// bluetoothd 5.66 (and master) queues the writes that arrive while its
/// `AcquireWrite` call is pending with a pointer into the ATT receive buffer,
/// not a copy (`pending_write_new` in src/gatt-database.c), and sends them on
/// the new socket once it has it, by then with the bytes of a later PDU:
/// Ganglion's first six writes (`N 1 n ! N 2`) all arrived as `2`, Muse's
/// `version` and `preset` as garbage. A driver's first commands come back to
/// back (Muse's prepare), so that path loses them.
///
/// HANDLES. Services and characteristics are registered in the profile's
/// order (bluetoothd allocates handles in registration order; see
/// `third_party/dbus-crossroads/BOARDLOOP-PATCH.md` for why that order was
/// random before). With [`Handles::Shifted`], each asks for the profile's
/// `handle` (BlueZ 5.66 reads a characteristic's `Handle` as its value
/// handle, the declaration one before, as the profile does).
fn application(
    decl: &BleDecl,
    shared: &Arc<Shared>,
    writes: mpsc::Sender<(String, Vec<u8>)>,
    handles: Handles,
) -> io::Result<Application> {
    let handle = |h: Option<u16>| match handles {
        Handles::Shifted(shift) => h.and_then(|h| NonZeroU16::new(h.checked_add(shift)?)),
        Handles::Auto => None,
    };
    let mut services = Vec::new();
    for s in &decl.services {
        let mut characteristics = Vec::new();
        for c in &s.characteristics {
            let key = full_uuid(&c.uuid);
            let has = |p: CharProperty| c.properties.contains(&p);
            let mut ch = Characteristic {
                uuid: parse_uuid(&c.uuid)?,
                handle: handle(c.handle),
                ..Default::default()
            };
            if has(CharProperty::Read) {
                let (sh, k) = (shared.clone(), key.clone());
                ch.read = Some(CharacteristicRead {
                    read: true,
                    fun: Box::new(move |req| {
                        sh.link_mtu.store(req.mtu, Ordering::Relaxed);
                        let v = lock(&sh.values).get(&k).cloned().unwrap_or_default();
                        async move { Ok(v) }.boxed()
                    }),
                    ..Default::default()
                });
            }
            if has(CharProperty::Write) || has(CharProperty::WriteWithoutResponse) {
                let (tx, k, sh) = (writes.clone(), key.clone(), shared.clone());
                ch.write = Some(CharacteristicWrite {
                    write: has(CharProperty::Write),
                    write_without_response: has(CharProperty::WriteWithoutResponse),
                    method: CharacteristicWriteMethod::Fun(Box::new(move |value, req| {
                        sh.link_mtu.store(req.mtu, Ordering::Relaxed);
                        // Sent here, in the call, not in the returned future:
                        // see WRITE ORDER below.
                        // The receiver only goes away with the peripheral.
                        let _ = tx.send((k.clone(), value));
                        async { Ok(()) }.boxed()
                    })),
                    ..Default::default()
                });
            }
            if has(CharProperty::Notify) {
                let (sh, k) = (shared.clone(), key.clone());
                ch.notify = Some(CharacteristicNotify {
                    notify: true,
                    method: CharacteristicNotifyMethod::Fun(Box::new(move |notifier| {
                        // A new session (subscribe) replaces any earlier one.
                        tracing::debug!("StartNotify {k}: a new notification session");
                        lock(&sh.notifiers).insert(k.clone(), notifier);
                        async {}.boxed()
                    })),
                    ..Default::default()
                });
            }
            characteristics.push(ch);
        }
        services.push(Service {
            uuid: parse_uuid(&s.uuid)?,
            handle: handle(s.handle),
            primary: true,
            characteristics,
            ..Default::default()
        });
    }
    Ok(Application {
        services,
        ..Default::default()
    })
}

/// Whether [`application`] asks bluetoothd for the profile's handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handles {
    /// Each service and characteristic asks for its `handle` plus this
    /// shift, if it has one (0: the real device's handles).
    Shifted(u16),
    /// bluetoothd chooses every handle.
    Auto,
}

/// How far above the real handles [`register`] looks for room: bluetoothd
/// 5.66's own services end at 0x0014, 9 below where a Muse's table fits.
const MAX_HANDLE_SHIFT: u16 = 64;

/// Registers `decl`'s application on `a`: at the profile's handles where
/// bluetoothd can place them, else the same layout at the lowest shift that
/// fits, else with handles bluetoothd chooses. bluetoothd refuses a whole
/// application when a requested handle is taken (its own GAP, GATT and
/// Device Information services hold 0x0001-0x0014 in 5.66, where a Muse's
/// service starts at 0x000c), and what it chooses itself grows with every
/// registration in its life (0x0041 for a Muse table after four Ganglion ones):
/// a fixed shift keeps a device's handles the same on every start, the
/// previous table's freed first (`BluerPeripheral`'s drop waits for that).
async fn register(
    a: &bluer::Adapter,
    adapter: &str,
    decl: &BleDecl,
    shared: &Arc<Shared>,
    writes: &mpsc::Sender<(String, Vec<u8>)>,
) -> Result<ApplicationHandle, String> {
    let build =
        |handles| application(decl, shared, writes.clone(), handles).map_err(|e| e.to_string());
    let refused = |e: bluer::Error| format!("registering the GATT application on {adapter}: {e}");
    if !has_handles(decl) {
        return a
            .serve_gatt_application(build(Handles::Auto)?)
            .await
            .map_err(refused);
    }
    let mut first_error = None;
    for shift in 0..=MAX_HANDLE_SHIFT {
        match a
            .serve_gatt_application(build(Handles::Shifted(shift))?)
            .await
        {
            Ok(h) => {
                if shift > 0 {
                    tracing::info!(
                        "bluetoothd could not place the profile's handles on {adapter} ({}); \
                         the table is {shift} handles higher",
                        first_error.unwrap_or_default()
                    );
                }
                return Ok(h);
            }
            Err(e) => {
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    tracing::info!(
        "bluetoothd placed the profile's handles nowhere up to {MAX_HANDLE_SHIFT} above them on \
         {adapter} ({}); registering with handles it chooses",
        first_error.unwrap_or_default()
    );
    a.serve_gatt_application(build(Handles::Auto)?)
        .await
        .map_err(refused)
}

/// Whether `decl` names any handle.
fn has_handles(decl: &BleDecl) -> bool {
    decl.services
        .iter()
        .any(|s| s.handle.is_some() || s.characteristics.iter().any(|c| c.handle.is_some()))
}

impl Peripheral for BluerPeripheral {
    fn set_value(&self, uuid: &str, value: &[u8]) {
        lock(&self.shared.values).insert(full_uuid(uuid), value.to_vec());
    }

    fn notify(&self, uuid: &str, value: &[u8]) -> bool {
        let key = full_uuid(uuid);
        // Taken out so the lock is not held across the await; the emulator
        // notifies from one thread, so nothing else sends on it meanwhile.
        let Some(mut n) = lock(&self.shared.notifiers).remove(&key) else {
            tracing::warn!("notify {key}: no notification session (not subscribed)");
            return false;
        };
        if n.is_stopped() {
            tracing::warn!("notify {key}: the notification session was stopped");
            return false;
        }
        let wait = if self.uncapped.load(Ordering::Relaxed) {
            Duration::ZERO
        } else {
            let mut next = lock(&self.next_notify);
            let mut on = lock(&self.next_notify_on);
            let now = std::time::Instant::now();
            let mine = on.entry(key.clone()).or_insert(now);
            let at = (*next).max(*mine).max(now);
            *next = at + Duration::from_secs_f64(1.0 / MAX_NOTIFY_RATE);
            *mine = at + Duration::from_secs_f64(1.0 / MAX_NOTIFY_RATE_PER_CHARACTERISTIC);
            at - now
        };
        std::thread::sleep(wait);
        // The timer must be created inside the runtime, hence the async block.
        let sent = self.rt.block_on(async {
            tokio::time::timeout(NOTIFY_TIMEOUT, n.notify(value.to_vec())).await
        });
        match sent {
            Ok(Ok(())) => {}
            // dbus-tokio's `SyncConnection::send` reports an error when it
            // queued the message but found its IO task's wake-up already
            // pending (the socket to the bus was full), and bluer calls any
            // send error NotificationSessionStopped. The message is in
            // libdbus' queue and leaves with the next flush; the session
            // lives. Dropping it, as this did before, lost every later
            // notification of that characteristic: muse_2::aux_signal over
            // BlueZ in the lab VM under load, about 1 trial in 6, accel or an
            // EEG channel silent from mid-stream on. A notification that
            // really went missing shows at the host as a gap in its sequence.
            Ok(Err(e)) if !n.is_stopped() => {
                tracing::debug!("notify {key}: {e} on a live session (queued; kept)");
            }
            _ => {
                tracing::warn!("notify {key}: {sent:?}");
                return false;
            }
        }
        // Put it back unless a new subscription replaced it meanwhile.
        lock(&self.shared.notifiers).entry(key).or_insert(n);
        true
    }

    fn recv_write(&self, timeout: Duration) -> Option<(String, Vec<u8>)> {
        lock(&self.writes).recv_timeout(timeout).ok()
    }

    fn max_notify_len(&self) -> Option<usize> {
        match self.shared.link_mtu.load(Ordering::Relaxed) {
            0 => None,
            mtu => Some(usize::from(mtu).saturating_sub(3)),
        }
    }

    fn drop_link(&self) {
        lock(&self.shared.notifiers).clear();
        // The next link negotiates its own.
        self.shared.link_mtu.store(0, Ordering::Relaxed);
        // `notify` returns once the value is queued for bluetoothd, not once
        // it is on the air; the emulator's contract (like the memory
        // peripheral's) is that packets notified before the fault reach the
        // central. Give the last one time to leave before cutting the link,
        // but not much: the central must see the loss promptly (a scenario
        // calls `stop` 200 ms after its last row and expects it to fail).
        std::thread::sleep(DRAIN_BEFORE_DROP);
        // Disconnect every central connected to this adapter now, as a device
        // going out of range would (the central sees a link loss).
        let (a, name) = (&self.adapter, self.adapter_name.as_str());
        if let Err(e) = self.rt.block_on(cut_links_on(a, name)) {
            tracing::warn!("drop_link: {e}");
        }
    }
}

/// Drops every link of adapter `adapter` (`hciN`) at once, through the
/// kernel's management interface (see the `mgmt` module: bluetoothd's own
/// calls wait out a 2-s timer first). Falls back to `RemoveDevice` where
/// mgmt is refused (no CAP_NET_ADMIN). Returns how many links were cut.
pub fn cut_links(adapter: &str) -> io::Result<usize> {
    let rt = Rt::new("bluer-cut")?;
    rt.block_on(async {
        let session = bluer::Session::new().await.map_err(io::Error::other)?;
        let a = session.adapter(adapter).map_err(io::Error::other)?;
        cut_links_on(&a, adapter).await
    })
}

async fn cut_links_on(a: &bluer::Adapter, adapter: &str) -> io::Result<usize> {
    {
        let mut cut = 0;
        for addr in a.device_addresses().await.unwrap_or_default() {
            let Ok(d) = a.device(addr) else { continue };
            if !d.is_connected().await.unwrap_or(false) {
                continue;
            }
            let kind = match d.address_type().await {
                Ok(bluer::AddressType::LeRandom) => MgmtAddressType::LeRandom,
                Ok(bluer::AddressType::BrEdr) => MgmtAddressType::BrEdr,
                _ => MgmtAddressType::LePublic,
            };
            let (name, text) = (adapter.to_string(), addr.to_string());
            let r = tokio::task::spawn_blocking(move || {
                mgmt::disconnect(&name, &text, kind, Duration::from_secs(2))
            })
            .await
            .map_err(io::Error::other)?;
            match r {
                Ok(()) => cut += 1,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
                Err(e) => {
                    tracing::info!("mgmt disconnect of {addr} on {adapter}: {e}; removing it");
                    let r =
                        tokio::time::timeout(Duration::from_secs(5), a.remove_device(addr)).await;
                    if matches!(r, Ok(Ok(()))) {
                        cut += 1;
                    }
                }
            }
        }
        tracing::info!("cut {cut} link(s) on {adapter}");
        Ok(cut)
    }
}

/// Makes adapters `a` and `b` forget each other (each removes the other's
/// address from its known devices, disconnecting it), then waits up to 3 s
/// until neither lists the other: a trial must start with no connection or
/// cached device left over from the previous one.
///
/// Fails when a device is still listed as connected after that: bluetoothd answers
/// `RemoveDevice` of a device it believes connected only once the link is
/// down, and a device it marked connected without a connection
/// (`No matching connection for device` in its log) stays so until it
/// restarts; a connect to it then waits for services that never come.
pub fn forget_each_other(a: &str, b: &str) -> io::Result<()> {
    let rt = Rt::new("bluer-forget")?;
    rt.block_on(async {
        let session = bluer::Session::new().await.map_err(io::Error::other)?;
        let (aa, ab) = (
            session.adapter(a).map_err(io::Error::other)?,
            session.adapter(b).map_err(io::Error::other)?,
        );
        let (addr_a, addr_b) = (
            aa.address().await.map_err(io::Error::other)?,
            ab.address().await.map_err(io::Error::other)?,
        );
        let pairs = [(&aa, addr_b, a), (&ab, addr_a, b)];
        let deadline = tokio::time::Instant::now() + FORGET_WAIT;
        for (x, y, _) in pairs {
            if x.device_addresses().await.unwrap_or_default().contains(&y) {
                // The reply waits for the link to go down: bounded by the
                // same deadline, which the listing below then reports.
                let _ = tokio::time::timeout_at(deadline, x.remove_device(y)).await;
            }
        }
        loop {
            let (mut left, mut connected) = (Vec::new(), Vec::new());
            for (x, y, name) in pairs {
                if x.device_addresses().await.unwrap_or_default().contains(&y) {
                    left.push(format!("{name} still lists {y}"));
                    if let Ok(d) = x.device(y) {
                        if d.is_connected().await.unwrap_or(false) {
                            connected.push(format!("{name} still lists {y} as connected"));
                        }
                    }
                }
            }
            if left.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let secs = FORGET_WAIT.as_secs_f64();
                // Merely listed (a scan found it again) is harmless: the
                // next trial's device is new.
                if connected.is_empty() {
                    tracing::info!("{} {secs:.0} s after RemoveDevice", left.join(", "));
                    return Ok(());
                }
                return Err(io::Error::other(format!(
                    "{} {secs:.0} s after RemoveDevice",
                    connected.join(", ")
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

/// How long [`forget_each_other`] waits for both adapters to drop each other:
/// bluetoothd's own disconnect timer is 2 s.
const FORGET_WAIT: Duration = Duration::from_secs(3);

#[cfg(test)]
mod tests {
    use super::*;
    use boardloop_emulators::Profile;
    use std::path::Path;

    fn muse_2() -> BleDecl {
        let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices");
        let p = Profile::load(&devices.join("muse_2.yaml")).unwrap();
        p.ble.clone().unwrap()
    }

    /// (UUID, handle) of every characteristic, in registration order.
    fn table(app: &Application) -> Vec<(String, Option<u16>)> {
        app.services
            .iter()
            .flat_map(|s| s.characteristics.iter())
            .map(|c| (c.uuid.to_string(), c.handle.map(NonZeroU16::get)))
            .collect()
    }

    #[test]
    fn the_application_lists_the_profiles_table_in_order_with_its_handles() {
        let decl = muse_2();
        let (tx, _rx) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let app = application(&decl, &shared, tx.clone(), Handles::Shifted(0)).unwrap();
        let want: Vec<(String, Option<u16>)> = decl.services[0]
            .characteristics
            .iter()
            .map(|c| (full_uuid(&c.uuid), c.handle))
            .collect();
        assert_eq!(table(&app), want);
        assert_eq!(app.services[0].handle.map(NonZeroU16::get), Some(0x000c));
        assert!(has_handles(&decl));
        // The fallback keeps the order and asks for no handle.
        let auto = application(&decl, &shared, tx, Handles::Auto).unwrap();
        let order: Vec<_> = want.iter().map(|(u, _)| (u.clone(), None)).collect();
        assert_eq!(table(&auto), order);
        assert_eq!(auto.services[0].handle, None);
    }
}

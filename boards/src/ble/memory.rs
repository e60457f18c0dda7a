//! In-memory BLE on both sides: a [`MemoryPeripheral`] with a GATT table that
//! a test or an emulator drives (pushes notifications, receives writes), and a
//! [`MemoryBle`] "adapter" implementing [`BleConnector`] whose links implement
//! [`BleLink`]. Thread-safe and fast, for driver tests without a radio.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{
    not_found, BleConnector, BleLink, CharProps, CharacteristicInfo, DeviceFilter, DeviceInfo,
    Notification, NotificationStream, Uuid, DEFAULT_ATT_MTU, MIN_ATT_MTU, NOTIFY_HEADER,
};
use crate::error::{BoardError, ExitCode, Result};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data: a panic elsewhere must not take every other user down.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn not_connected() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "BLE link lost")
}

/// A write the central made, as the peripheral receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeripheralWrite {
    /// The characteristic written.
    pub uuid: Uuid,
    /// The bytes.
    pub value: Vec<u8>,
    /// True for a write request, false for a write command.
    pub with_response: bool,
}

struct Characteristic {
    info: CharacteristicInfo,
    value: Vec<u8>,
    subscribed: bool,
}

/// Notifications of one connection, closed when the link is lost.
#[derive(Default)]
struct Queue {
    inner: Mutex<(VecDeque<Notification>, bool)>,
    ready: Condvar,
}

impl Queue {
    fn close(&self) {
        lock(&self.inner).1 = true;
        self.ready.notify_all();
    }
}

struct PeripheralState {
    chars: Vec<Characteristic>,
    /// The current connection's notification queue, if connected.
    conn: Option<Arc<Queue>>,
    writes: VecDeque<PeripheralWrite>,
    /// Writes accepted from centrals since creation (queued or taken).
    writes_total: u64,
    connections: u32,
    /// The ATT MTU this end offers (see [`MemoryPeripheral::with_mtu`]).
    mtu: u16,
    /// The MTU the current connection negotiated.
    link_mtu: u16,
}

/// Called on every write from the central, after it is queued; lets a
/// scripted fake peripheral answer commands (e.g. start notifying on `b`).
pub type WriteHook = Box<dyn FnMut(&MemoryPeripheral, &PeripheralWrite) + Send>;

/// The peripheral end: a GATT table, notifications out, writes in. Cloning
/// gives another handle to the same peripheral.
#[derive(Clone)]
pub struct MemoryPeripheral {
    info: DeviceInfo,
    state: Arc<(Mutex<PeripheralState>, Condvar)>,
    hook: Arc<Mutex<Option<WriteHook>>>,
}

impl MemoryPeripheral {
    /// A peripheral advertising `name` at `address`, with no services yet.
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Self {
        MemoryPeripheral {
            info: DeviceInfo {
                name: name.into(),
                address: address.into(),
                services: Vec::new(),
            },
            state: Arc::new((
                Mutex::new(PeripheralState {
                    chars: Vec::new(),
                    conn: None,
                    writes: VecDeque::new(),
                    writes_total: 0,
                    connections: 0,
                    mtu: DEFAULT_ATT_MTU,
                    link_mtu: MIN_ATT_MTU,
                }),
                Condvar::new(),
            )),
            hook: Arc::new(Mutex::new(None)),
        }
    }

    /// Adds a characteristic (builder style); its service is advertised.
    pub fn with_characteristic(mut self, service: Uuid, uuid: Uuid, props: CharProps) -> Self {
        if !self.info.services.contains(&service) {
            self.info.services.push(service);
        }
        lock(&self.state.0).chars.push(Characteristic {
            info: CharacteristicInfo {
                service,
                uuid,
                props,
            },
            value: Vec::new(),
            subscribed: false,
        });
        self
    }

    /// The largest ATT MTU this peripheral accepts in the exchange (builder
    /// style; [`DEFAULT_ATT_MTU`] unless set, at least [`MIN_ATT_MTU`]).
    pub fn with_mtu(self, mtu: u16) -> Self {
        lock(&self.state.0).mtu = mtu.max(MIN_ATT_MTU);
        self
    }

    /// The longest notification value the current connection carries (its
    /// negotiated MTU - 3), or `None` while no central is connected.
    pub fn max_notify_len(&self) -> Option<usize> {
        let st = lock(&self.state.0);
        st.conn
            .as_ref()
            .map(|_| usize::from(st.link_mtu) - NOTIFY_HEADER)
    }

    /// Installs the hook called on each write (replacing any earlier one).
    pub fn on_write(&self, hook: WriteHook) {
        *lock(&self.hook) = Some(hook);
    }

    /// What scanning reports about this peripheral.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Sets the value a read returns.
    pub fn set_value(&self, uuid: Uuid, value: &[u8]) {
        if let Some(c) = lock(&self.state.0)
            .chars
            .iter_mut()
            .find(|c| c.info.uuid == uuid)
        {
            c.value = value.to_vec();
        }
    }

    /// Sends a notification; true if a connected central subscribed to
    /// `uuid` will receive it. A value longer than the link carries
    /// ([`MemoryPeripheral::max_notify_len`]) is not sent: ATT has no way to
    /// (BlueZ cuts it to fit without a word; callers check first and say so).
    pub fn notify(&self, uuid: Uuid, value: &[u8]) -> bool {
        let st = lock(&self.state.0);
        let subscribed = st.chars.iter().any(|c| c.info.uuid == uuid && c.subscribed);
        let fits = value.len() <= usize::from(st.link_mtu) - NOTIFY_HEADER;
        match (&st.conn, subscribed && fits) {
            (Some(q), true) => {
                lock(&q.inner).0.push_back(Notification {
                    uuid,
                    value: value.to_vec(),
                });
                q.ready.notify_all();
                true
            }
            _ => false,
        }
    }

    /// True while a central has notifications of `uuid` enabled.
    pub fn is_subscribed(&self, uuid: Uuid) -> bool {
        let st = lock(&self.state.0);
        st.conn.is_some() && st.chars.iter().any(|c| c.info.uuid == uuid && c.subscribed)
    }

    /// True while a central is connected.
    pub fn is_connected(&self) -> bool {
        lock(&self.state.0).conn.is_some()
    }

    /// How many times a central connected.
    pub fn connections(&self) -> u32 {
        lock(&self.state.0).connections
    }

    /// Waits up to `timeout` for the next write from the central.
    pub fn recv_write(&self, timeout: Duration) -> Option<PeripheralWrite> {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.state;
        let mut st = lock(m);
        loop {
            if let Some(w) = st.writes.pop_front() {
                return Some(w);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            st = cv
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// How many writes centrals have made so far. A central's write is
    /// counted before its `write` call returns, so once the host's last call
    /// has returned this is final: an emulator that has handled this many
    /// writes has seen them all (no timing involved).
    pub fn writes_received(&self) -> u64 {
        lock(&self.state.0).writes_total
    }

    /// Removes and returns every write received so far.
    pub fn take_writes(&self) -> Vec<PeripheralWrite> {
        lock(&self.state.0).writes.drain(..).collect()
    }

    /// Simulates the device vanishing (out of range, battery): the central's
    /// notification stream ends with an error after the queued notifications,
    /// and its writes fail.
    pub fn drop_link(&self) {
        let mut st = lock(&self.state.0);
        if let Some(q) = st.conn.take() {
            q.close();
        }
        for c in &mut st.chars {
            c.subscribed = false;
        }
    }

    /// A central offering ATT MTU `central_mtu` connects; the link takes
    /// the smaller of the two ends' MTUs, as the MTU exchange does.
    fn connect(&self, central_mtu: u16) -> Arc<Queue> {
        let mut st = lock(&self.state.0);
        st.link_mtu = st.mtu.min(central_mtu).max(MIN_ATT_MTU);
        if let Some(old) = st.conn.take() {
            old.close();
        }
        for c in &mut st.chars {
            c.subscribed = false;
        }
        let q = Arc::new(Queue::default());
        st.conn = Some(q.clone());
        st.connections += 1;
        q
    }
}

/// The central's side of a connection to a [`MemoryPeripheral`].
struct MemoryLinkBle {
    periph: MemoryPeripheral,
    queue: Arc<Queue>,
    stream_taken: bool,
}

impl MemoryLinkBle {
    /// Runs `f` on the peripheral state if this connection is still current.
    fn with_char<T>(
        &self,
        uuid: Uuid,
        f: impl FnOnce(&mut Characteristic) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut st = lock(&self.periph.state.0);
        let current = st
            .conn
            .as_ref()
            .is_some_and(|q| Arc::ptr_eq(q, &self.queue));
        if !current {
            return Err(not_connected());
        }
        match st.chars.iter_mut().find(|c| c.info.uuid == uuid) {
            Some(c) => f(c),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no characteristic {uuid}"),
            )),
        }
    }
}

fn unsupported(what: &str, uuid: Uuid) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("characteristic {uuid} does not allow {what}"),
    )
}

impl BleLink for MemoryLinkBle {
    fn characteristics(&self) -> Vec<CharacteristicInfo> {
        lock(&self.periph.state.0)
            .chars
            .iter()
            .map(|c| c.info.clone())
            .collect()
    }

    fn write(&mut self, uuid: Uuid, value: &[u8], with_response: bool) -> io::Result<()> {
        self.with_char(uuid, |c| {
            let p = c.info.props;
            let allowed = if with_response {
                p.write
            } else {
                p.write_without_response
            };
            if allowed {
                Ok(())
            } else {
                Err(unsupported("this write type", uuid))
            }
        })?;
        let w = PeripheralWrite {
            uuid,
            value: value.to_vec(),
            with_response,
        };
        {
            let mut st = lock(&self.periph.state.0);
            st.writes.push_back(w.clone());
            st.writes_total += 1;
        }
        self.periph.state.1.notify_all();
        // The hook runs without the state lock so it may notify or set values.
        if let Some(h) = lock(&self.periph.hook).as_mut() {
            h(&self.periph, &w);
        }
        Ok(())
    }

    fn read(&mut self, uuid: Uuid) -> io::Result<Vec<u8>> {
        self.with_char(uuid, |c| {
            if c.info.props.read {
                Ok(c.value.clone())
            } else {
                Err(unsupported("read", uuid))
            }
        })
    }

    fn subscribe(&mut self, uuid: Uuid) -> io::Result<()> {
        self.with_char(uuid, |c| {
            if c.info.props.notify {
                c.subscribed = true;
                Ok(())
            } else {
                Err(unsupported("notify", uuid))
            }
        })
    }

    fn unsubscribe(&mut self, uuid: Uuid) -> io::Result<()> {
        self.with_char(uuid, |c| {
            c.subscribed = false;
            Ok(())
        })
    }

    fn notifications(&mut self) -> io::Result<Box<dyn NotificationStream>> {
        let q = if self.stream_taken {
            // One stream per connection, as documented: later ones stay empty.
            Arc::new(Queue::default())
        } else {
            self.queue.clone()
        };
        self.stream_taken = true;
        Ok(Box::new(MemoryStream { queue: q }))
    }

    fn is_connected(&self) -> bool {
        let st = lock(&self.periph.state.0);
        st.conn
            .as_ref()
            .is_some_and(|q| Arc::ptr_eq(q, &self.queue))
    }

    fn disconnect(&mut self) -> io::Result<()> {
        let mut st = lock(&self.periph.state.0);
        if st
            .conn
            .as_ref()
            .is_some_and(|q| Arc::ptr_eq(q, &self.queue))
        {
            st.conn = None;
            for c in &mut st.chars {
                c.subscribed = false;
            }
        }
        self.queue.close();
        Ok(())
    }
}

impl Drop for MemoryLinkBle {
    fn drop(&mut self) {
        let _ = self.disconnect();
    }
}

struct MemoryStream {
    queue: Arc<Queue>,
}

impl NotificationStream for MemoryStream {
    fn recv(&mut self, timeout: Duration) -> io::Result<Option<Notification>> {
        let deadline = Instant::now() + timeout;
        let mut g = lock(&self.queue.inner);
        loop {
            if let Some(n) = g.0.pop_front() {
                return Ok(Some(n));
            }
            if g.1 {
                return Err(not_connected());
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            g = self
                .queue
                .ready
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// The in-memory "adapter": peripherals added here are found by scanning and
/// connected to through [`BleConnector`].
#[derive(Clone)]
pub struct MemoryBle {
    peripherals: Arc<Mutex<Vec<MemoryPeripheral>>>,
    mtu: u16,
}

impl Default for MemoryBle {
    fn default() -> Self {
        MemoryBle {
            peripherals: Arc::default(),
            mtu: DEFAULT_ATT_MTU,
        }
    }
}

impl MemoryBle {
    /// An adapter with nothing in range, offering [`DEFAULT_ATT_MTU`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The ATT MTU this central offers in the exchange (builder style).
    pub fn with_mtu(mut self, mtu: u16) -> Self {
        self.mtu = mtu;
        self
    }

    /// Brings `p` into range (it is found by later scans).
    pub fn add(&self, p: &MemoryPeripheral) {
        lock(&self.peripherals).push(p.clone());
    }
}

impl BleConnector for MemoryBle {
    fn find(&mut self, filter: &DeviceFilter, timeout: Duration) -> Result<DeviceInfo> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen: Vec<DeviceInfo> = lock(&self.peripherals)
                .iter()
                .map(|p| p.info.clone())
                .collect();
            if let Some(d) = seen.iter().find(|d| filter.matches(d)) {
                return Ok(d.clone());
            }
            if Instant::now() >= deadline {
                return Err(not_found(filter, timeout, &seen));
            }
            // Peripherals may be added from another thread while "scanning".
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn connect(&mut self, device: &DeviceInfo) -> Result<Box<dyn BleLink>> {
        let p = lock(&self.peripherals)
            .iter()
            .find(|p| p.info == *device)
            .cloned()
            .ok_or_else(|| {
                BoardError::new(
                    ExitCode::BoardNotReady,
                    format!(
                        "unable to connect to {:?} ({}): out of range",
                        device.name, device.address
                    ),
                )
            })?;
        let queue = p.connect(self.mtu);
        Ok(Box::new(MemoryLinkBle {
            periph: p,
            queue,
            stream_taken: false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVC: Uuid = Uuid::from_u16(0xFE84);
    const NOTIFY: Uuid = Uuid::from_u16(0x0001);
    const CMD: Uuid = Uuid::from_u16(0x0002);
    const REV: Uuid = Uuid::from_u16(0x2A28);

    fn periph() -> MemoryPeripheral {
        MemoryPeripheral::new("Ganglion-ab", "AA:BB")
            .with_characteristic(SVC, NOTIFY, CharProps::NOTIFY)
            .with_characteristic(
                SVC,
                CMD,
                CharProps {
                    write_without_response: true,
                    ..CharProps::default()
                },
            )
            .with_characteristic(SVC, REV, CharProps::READ)
    }

    #[test]
    fn scan_connect_write_read_notify_and_drop() {
        let p = periph();
        p.set_value(REV, b"3.1.2");
        let mut ble = MemoryBle::new();
        ble.add(&p);
        let filter = DeviceFilter::NamePrefix(vec!["Ganglion".into()]);
        let (dev, mut link) = ble
            .find_and_connect(&filter, Duration::from_millis(50))
            .unwrap();
        assert_eq!(dev.address, "AA:BB");
        assert!(p.is_connected());
        assert_eq!(link.characteristics().len(), 3);
        assert_eq!(link.read(REV).unwrap(), b"3.1.2");
        assert_eq!(
            link.read(CMD).unwrap_err().kind(),
            io::ErrorKind::Unsupported
        );
        assert_eq!(
            link.write(CMD, b"b", true).unwrap_err().kind(),
            io::ErrorKind::Unsupported
        );
        link.write(CMD, b"b", false).unwrap();
        assert_eq!(
            p.recv_write(Duration::ZERO).unwrap(),
            PeripheralWrite {
                uuid: CMD,
                value: b"b".to_vec(),
                with_response: false
            }
        );
        let mut rx = link.notifications().unwrap();
        assert!(!p.notify(NOTIFY, &[1]), "not subscribed yet");
        link.subscribe(NOTIFY).unwrap();
        assert!(p.is_subscribed(NOTIFY));
        assert!(p.notify(NOTIFY, &[2]));
        assert!(p.notify(NOTIFY, &[3]));
        assert_eq!(rx.recv(Duration::ZERO).unwrap().unwrap().value, vec![2]);
        assert!(rx.recv(Duration::from_millis(1)).unwrap().is_some());
        assert!(rx.recv(Duration::from_millis(1)).unwrap().is_none());
        assert!(p.notify(NOTIFY, &[4]));
        p.drop_link();
        // Queued notifications survive the loss; then the error.
        assert_eq!(rx.recv(Duration::ZERO).unwrap().unwrap().value, vec![4]);
        assert_eq!(
            rx.recv(Duration::ZERO).unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
        assert!(!link.is_connected());
        assert_eq!(
            link.write(CMD, b"s", false).unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
    }

    #[test]
    fn not_found_names_the_filter() {
        let mut ble = MemoryBle::new();
        ble.add(&periph());
        let e = ble
            .find(
                &DeviceFilter::Address("11:22:33:44:55:66".into()),
                Duration::from_millis(20),
            )
            .unwrap_err();
        assert_eq!(e.code, ExitCode::BoardNotReady);
        assert!(e.message.contains("11:22:33:44:55:66"), "{}", e.message);
        assert!(e.message.contains("Ganglion-ab"), "{}", e.message);
    }

    #[test]
    fn hook_answers_writes() {
        let p = periph();
        p.on_write(Box::new(|p, w| {
            if w.value == b"b" {
                p.notify(NOTIFY, b"data");
            }
        }));
        let mut ble = MemoryBle::new();
        ble.add(&p);
        let dev = ble
            .find(&DeviceFilter::Service(SVC), Duration::from_millis(10))
            .unwrap();
        let mut link = ble.connect(&dev).unwrap();
        let mut rx = link.notifications().unwrap();
        link.subscribe(NOTIFY).unwrap();
        link.write(CMD, b"b", false).unwrap();
        assert_eq!(rx.recv(Duration::ZERO).unwrap().unwrap().value, b"data");
        link.disconnect().unwrap();
        assert!(!p.is_connected());
        assert!(rx.recv(Duration::ZERO).is_err());
    }
}

//! Which centrals are connected to one adapter, learnt from bluetoothd's
//! D-Bus signals alone: [`LinkWatch`] never calls bluetoothd once it runs.
//!
//! WHY NO CALL. While a central resolves a device's services, bluetoothd
//! (5.66 and master, `gdbus/object.c`) queues each object's D-Bus changes
//! and emits them from an idle callback, newest change last. But any message
//! it *sends* first flushes that queue in the order objects were first
//! queued (`g_dbus_flush`), and the device object was queued (its `UUIDs`,
//! set in `register_gatt_services`) before its services and characteristics
//! were exported. So a method reply sent by bluetoothd during the export,
//! about 300 ms in the lab VM, emits `ServicesResolved = true` before the
//! `InterfacesAdded` of the device's services. A central that lists services
//! as soon as it sees `ServicesResolved` then finds some without their
//! characteristics: BrainFlow 5.23's GANGLION_NATIVE (SimpleBLE) did, and
//! returned STATUS_OK from `prepare_session` without its characteristics, so
//! `start_stream` failed with BOARD_NOT_CREATED_ERROR. Observed with
//! dbus-monitor in the lab VM: a client asking bluetoothd for a property
//! every 20 ms made that happen on two attempts in two; the emulator's own
//! advertising refresher, which polled bluetoothd once a second for
//! connected devices, made it happen in about one BrainFlow Ganglion trial
//! in three. A real device asks the central's bluetoothd nothing, and
//! neither may the emulator: signals cost bluetoothd no reply.

use dbus::arg::{prop_cast, PropMap};
use dbus::blocking::stdintf::org_freedesktop_dbus::{
    ObjectManager, ObjectManagerInterfacesAdded, ObjectManagerInterfacesRemoved,
    PropertiesPropertiesChanged,
};
use dbus::blocking::Connection;
use dbus::message::MatchRule;
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::watch;

const DEVICE_IFACE: &str = "org.bluez.Device1";

/// How long the watcher waits for a message before it looks at its stop
/// flag: the longest a drop waits for the thread.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// The devices of one adapter and whether each is connected, by object path.
struct Links {
    /// `/org/bluez/hciN/dev_`: a device object is this plus its address.
    prefix: String,
    connected: HashMap<String, bool>,
    count: watch::Sender<usize>,
}

impl Links {
    fn is_device(&self, path: &str) -> bool {
        path.strip_prefix(&self.prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
    }

    fn set(&mut self, path: &str, connected: bool) {
        self.connected.insert(path.to_string(), connected);
        self.publish();
    }

    fn remove(&mut self, path: &str) {
        self.connected.remove(path);
        self.publish();
    }

    fn publish(&self) {
        let n = self.connected.values().filter(|c| **c).count();
        self.count
            .send_if_modified(|old| std::mem::replace(old, n) != n);
    }

    /// A device object's properties as `InterfacesAdded` or
    /// `GetManagedObjects` report them.
    fn added(&mut self, path: &str, interfaces: &HashMap<String, PropMap>) {
        if !self.is_device(path) {
            return;
        }
        if let Some(props) = interfaces.get(DEVICE_IFACE) {
            let c = prop_cast::<bool>(props, "Connected").copied();
            self.set(path, c.unwrap_or(false));
        }
    }
}

/// Watches one adapter's links on its own D-Bus connection and thread.
/// Dropping it stops the thread.
pub(crate) struct LinkWatch {
    count: watch::Receiver<usize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LinkWatch {
    /// Subscribes to the signals of `adapter`'s devices, then takes one
    /// snapshot of them (the only call to bluetoothd, made before the caller
    /// advertises); returns once both are done, so no change is missed.
    pub(crate) fn start(adapter: &str) -> io::Result<LinkWatch> {
        let (tx, rx) = watch::channel(0usize);
        let links = Links {
            prefix: format!("/org/bluez/{adapter}/dev_"),
            connected: HashMap::new(),
            count: tx,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel();
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("links-{adapter}"))
            .spawn(move || match subscribe(links) {
                Ok(conn) => {
                    let _ = ready_tx.send(Ok(()));
                    while !s.load(Ordering::SeqCst) {
                        if let Err(e) = conn.process(STOP_CHECK) {
                            tracing::warn!("link watch: D-Bus connection lost: {e}");
                            return;
                        }
                    }
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(LinkWatch {
                count: rx,
                stop,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(io::Error::other(format!(
                    "watching the links of {adapter}: {e}"
                )))
            }
            Err(_) => Err(io::Error::other(
                "link watch thread ended before it was ready",
            )),
        }
    }

    /// The number of connected centrals, updated as signals arrive.
    pub(crate) fn connected(&self) -> watch::Receiver<usize> {
        self.count.clone()
    }
}

impl Drop for LinkWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Opens a connection, adds the match rules, then reads the snapshot: a
/// change after the snapshot arrives as a signal, one before it is in it.
fn subscribe(links: Links) -> Result<Connection, dbus::Error> {
    let conn = Connection::new_system()?;
    let adapter_path = links.prefix.trim_end_matches("/dev_").to_string();
    let links = Arc::new(Mutex::new(links));
    let l = links.clone();
    conn.add_match(
        MatchRule::new_signal("org.freedesktop.DBus.ObjectManager", "InterfacesAdded")
            .with_sender("org.bluez")
            .static_clone(),
        move |s: ObjectManagerInterfacesAdded, _: &Connection, _| {
            guard(&l).added(&s.object, &s.interfaces);
            true
        },
    )?;
    let l = links.clone();
    conn.add_match(
        MatchRule::new_signal("org.freedesktop.DBus.ObjectManager", "InterfacesRemoved")
            .with_sender("org.bluez")
            .static_clone(),
        move |s: ObjectManagerInterfacesRemoved, _: &Connection, _| {
            let mut g = guard(&l);
            if g.is_device(&s.object) && s.interfaces.iter().any(|i| i == DEVICE_IFACE) {
                g.remove(&s.object);
            }
            true
        },
    )?;
    let l = links.clone();
    conn.add_match(
        MatchRule::new_signal("org.freedesktop.DBus.Properties", "PropertiesChanged")
            .with_sender("org.bluez")
            .with_namespaced_path(adapter_path)
            .static_clone(),
        move |s: PropertiesPropertiesChanged, _: &Connection, m: &dbus::Message| {
            if s.interface_name != DEVICE_IFACE {
                return true;
            }
            let Some(path) = m.path() else { return true };
            let mut g = guard(&l);
            if g.is_device(&path) {
                if let Some(c) = prop_cast::<bool>(&s.changed_properties, "Connected") {
                    g.set(&path, *c);
                }
            }
            true
        },
    )?;
    let proxy = conn.with_proxy("org.bluez", "/", Duration::from_secs(5));
    let objects = proxy.get_managed_objects()?;
    let mut g = guard(&links);
    for (path, interfaces) in &objects {
        g.added(path, interfaces);
    }
    drop(g);
    Ok(conn)
}

fn guard(l: &Mutex<Links>) -> std::sync::MutexGuard<'_, Links> {
    // Plain data: a panic elsewhere must not take the watcher down.
    l.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbus::arg::{RefArg, Variant};

    fn links() -> (Links, watch::Receiver<usize>) {
        let (tx, rx) = watch::channel(0);
        let l = Links {
            prefix: "/org/bluez/hci1/dev_".into(),
            connected: HashMap::new(),
            count: tx,
        };
        (l, rx)
    }

    fn device(connected: Option<bool>) -> HashMap<String, PropMap> {
        let mut props = PropMap::new();
        if let Some(c) = connected {
            props.insert("Connected".into(), Variant(Box::new(c) as Box<dyn RefArg>));
        }
        HashMap::from([(DEVICE_IFACE.to_string(), props)])
    }

    #[test]
    fn counts_connected_devices_of_its_adapter_only() {
        let (mut l, rx) = links();
        l.added("/org/bluez/hci1/dev_00_AA_01_00_00_00", &device(Some(true)));
        assert_eq!(*rx.borrow(), 1);
        // Another adapter's device, a service object, a device without the
        // property: none counts.
        l.added("/org/bluez/hci0/dev_00_AA_01_01_00_01", &device(Some(true)));
        l.added(
            "/org/bluez/hci1/dev_00_AA_01_00_00_00/service0008",
            &device(Some(true)),
        );
        l.added("/org/bluez/hci1/dev_11_22_33_44_55_66", &device(None));
        assert_eq!(*rx.borrow(), 1);
        l.set("/org/bluez/hci1/dev_11_22_33_44_55_66", true);
        assert_eq!(*rx.borrow(), 2);
        l.set("/org/bluez/hci1/dev_00_AA_01_00_00_00", false);
        assert_eq!(*rx.borrow(), 1);
        l.remove("/org/bluez/hci1/dev_11_22_33_44_55_66");
        assert_eq!(*rx.borrow(), 0);
    }

    #[test]
    fn an_unchanged_count_wakes_no_one() {
        let (mut l, mut rx) = links();
        rx.mark_unchanged();
        l.added(
            "/org/bluez/hci1/dev_00_AA_01_00_00_00",
            &device(Some(false)),
        );
        assert!(!rx.has_changed().unwrap());
        l.set("/org/bluez/hci1/dev_00_AA_01_00_00_00", true);
        assert!(rx.has_changed().unwrap());
    }
}

//! Recording a BLE link from the device's side: a [`Peripheral`] in front of
//! another (the in-memory one, BlueZ) that passes every call through and
//! writes the host's writes and the device's notifications into a recording
//! ([`crate::recording`], `@transport ble`).
//!
//! A host we do not build cannot be recorded from its own side: BrainFlow's
//! native BLE drivers talk to BlueZ themselves (SimpleBLE), so the only place
//! that sees their session is the device they talk to. The emulator sees
//! every write the host makes and every notification it sends, and knows its
//! own GATT table, so the recording has the same `@gatt` lines, writes and
//! notifications as one taken by `RecordingConnector` on the host's side, and
//! the same replay plays it.
//!
//! What this side cannot see, and so does not record (the [`Peripheral`]
//! trait does not report it; a replay needs none of it except read values):
//! * reads: a peripheral answers them from the values the emulator set, unseen.
//!   A host that reads (the Ganglion's firmware revision) therefore needs a
//!   host-side recording to replay;
//! * subscriptions (the `s`/`u` lines): a replay does not match them;
//! * whether a write asked for a response: written as `wn` (a write command)
//!   where the characteristic allows one, as every BLE board's driver here
//!   and BrainFlow's write their commands, else `w`. The replay does not
//!   compare it.
//!
//! Notifications are recorded once the peripheral took them for a subscribed
//! host ([`Peripheral::notify`] returned true): one no host received (the
//! Muse's replies to a host that did not subscribe to them) is not on the
//! link. All events come from the emulator's one thread, so their order is
//! the order the device saw them in.

use crate::ble::Peripheral;
use crate::profile::{full_uuid, BleDecl, CharProperty};
use crate::recording::{GattChar, Op, RecordingWriter};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The characteristics of `ble` as a recording's `@gatt` lines, in the
/// profile's order (the order a peripheral registers them in, so its handle
/// order), named as the profile names them.
pub fn gatt_table(ble: &BleDecl) -> Vec<GattChar> {
    ble.services
        .iter()
        .flat_map(|s| s.characteristics.iter().map(move |c| (s, c)))
        .map(|(s, c)| {
            let mut props = c.properties.clone();
            props.sort_by_key(|p| *p as u8);
            props.dedup();
            GattChar {
                name: c.name.clone(),
                service: full_uuid(&s.uuid),
                uuid: full_uuid(&c.uuid),
                props,
            }
        })
        .collect()
}

struct State {
    path: PathBuf,
    writer: RecordingWriter,
    started: Instant,
    /// The table's characteristics, by index.
    table: Vec<GattChar>,
    /// The first error writing the recording, if any.
    error: Option<String>,
}

impl State {
    fn log(&mut self, uuid: &str, op: impl FnOnce(u16, &GattChar) -> Op, bytes: &[u8]) {
        let Some(i) = self.table.iter().position(|c| c.uuid == uuid) else {
            self.fail(format!("{uuid} is not in the device's GATT table"));
            return;
        };
        let op = op(i as u16, &self.table[i]);
        if let Err(e) = self.writer.event(self.started.elapsed(), op, bytes) {
            self.fail(format!("cannot write {}: {e}", self.path.display()));
        }
    }

    fn fail(&mut self, msg: String) {
        tracing::warn!("BLE recording (device side): {msg}");
        self.error.get_or_insert(msg);
    }
}

/// A peripheral whose link is recorded from the device's side.
pub struct RecordingPeripheral {
    inner: Arc<dyn Peripheral>,
    state: Mutex<State>,
}

impl RecordingPeripheral {
    /// Records what crosses `inner`, which serves `ble`, into `path`
    /// (created now, with `header`, `@side device` and the table's `@gatt`
    /// lines; `transport ble` is added where `header` lacks it). Time counts
    /// from now.
    pub fn create(
        inner: Arc<dyn Peripheral>,
        ble: &BleDecl,
        path: &Path,
        header: &[(String, String)],
    ) -> std::io::Result<RecordingPeripheral> {
        let table = gatt_table(ble);
        let mut header = header.to_vec();
        if !header.iter().any(|(k, _)| k == "transport") {
            header.insert(0, ("transport".into(), "ble".into()));
        }
        // Whoever reads it later: which side's view it is (see the module).
        header.push(("side".into(), "device".into()));
        header.extend(table.iter().map(|c| ("gatt".to_string(), c.render())));
        let writer = RecordingWriter::create(path, &header)?;
        Ok(RecordingPeripheral {
            inner,
            state: Mutex::new(State {
                path: path.to_path_buf(),
                writer,
                started: Instant::now(),
                table,
                error: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.lock().writer.events()
    }

    /// The first error recording (an unknown characteristic, a failed
    /// write to the file), if any: the link's calls pass through regardless.
    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }
}

impl Peripheral for RecordingPeripheral {
    fn set_value(&self, uuid: &str, value: &[u8]) {
        self.inner.set_value(uuid, value);
    }

    fn notify(&self, uuid: &str, value: &[u8]) -> bool {
        let delivered = self.inner.notify(uuid, value);
        if delivered {
            self.lock()
                .log(&full_uuid(uuid), |c, _| Op::Notify(c), value);
        }
        delivered
    }

    fn recv_write(&self, timeout: Duration) -> Option<(String, Vec<u8>)> {
        let (uuid, bytes) = self.inner.recv_write(timeout)?;
        let op = |char, c: &GattChar| Op::GattWrite {
            char,
            response: !c.props.contains(&CharProperty::WriteWithoutResponse),
        };
        self.lock().log(&full_uuid(&uuid), op, &bytes);
        Some((uuid, bytes))
    }

    fn drop_link(&self) {
        self.inner.drop_link();
    }

    fn writes_received(&self) -> Option<u64> {
        self.inner.writes_received()
    }

    fn max_notify_len(&self) -> Option<usize> {
        self.inner.max_notify_len()
    }
}

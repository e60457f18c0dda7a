//! Recording a BLE board's link: a [`BleConnector`] in front of any other
//! (the in-memory link, BlueZ) that passes every call through unchanged and
//! writes what crossed the link into a recording
//! ([`boardloop_emulators::recording`], `@transport ble`): the GATT table
//! the link discovered, the host's writes, reads (with the value returned)
//! and subscriptions, and every notification, each with when it happened.
//!
//! It lives here because it joins the boards' BLE traits to the emulators'
//! recording format, and `boards` and `emulators` never depend on each other.
//!
//! Order is what a replay needs: a write or a subscription is recorded
//! before it is passed on, so the notifications it causes come after it in
//! the recording whichever thread logs them first (the in-memory emulator
//! can notify before `write` returns). A write the link then fails is still
//! in the recording (the log says so).

use boardloop_boards::ble::{
    BleConnector, BleLink, CharacteristicInfo, DeviceFilter, DeviceInfo, Notification,
    NotificationStream, Uuid,
};
use boardloop_boards::error::{BoardError, ExitCode, Result};
use boardloop_emulators::profile::{full_uuid, BleDecl, CharProperty};
use boardloop_emulators::recording::{GattChar, Op, RecordingWriter};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a recording of a BLE link did so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BleRecordStats {
    /// Events written.
    pub events: u64,
    /// The first error writing the recording, if any (the link's calls
    /// still pass through).
    pub error: Option<String>,
}

struct State {
    path: PathBuf,
    header: Vec<(String, String)>,
    /// Profile name of each characteristic UUID (full, lower case).
    names: BTreeMap<String, String>,
    writer: Option<RecordingWriter>,
    /// The recorded GATT table's UUIDs, by index.
    table: Vec<Uuid>,
    started: Instant,
    error: Option<String>,
}

impl State {
    fn log(&mut self, op: impl FnOnce(u16) -> Op, uuid: Uuid, bytes: &[u8]) {
        let Some(i) = self.table.iter().position(|u| *u == uuid) else {
            self.fail(format!("{uuid} is not in the recorded GATT table"));
            return;
        };
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        let r = w.event(self.started.elapsed(), op(i as u16), bytes);
        if let Err(e) = r {
            self.fail(format!("cannot write {}: {e}", self.path.display()));
        }
    }

    fn fail(&mut self, msg: String) {
        tracing::warn!("BLE recording: {msg}");
        self.error.get_or_insert(msg);
    }

    /// Starts the recording with the first link's GATT table.
    fn open(&mut self, chars: &[CharacteristicInfo]) {
        if self.writer.is_some() {
            // A reconnection: the same peripheral, the table recorded.
            if chars.iter().any(|c| !self.table.contains(&c.uuid)) {
                self.fail("the peripheral's GATT table changed on reconnection".into());
            }
            return;
        }
        let mut header = self.header.clone();
        if !header.iter().any(|(k, _)| k == "transport") {
            header.insert(0, ("transport".into(), "ble".into()));
        }
        for (i, c) in chars.iter().enumerate() {
            let uuid = c.uuid.to_string();
            let props = [
                (c.props.read, CharProperty::Read),
                (c.props.write, CharProperty::Write),
                (
                    c.props.write_without_response,
                    CharProperty::WriteWithoutResponse,
                ),
                (c.props.notify, CharProperty::Notify),
            ];
            let g = GattChar {
                name: self
                    .names
                    .get(&uuid)
                    .cloned()
                    .unwrap_or_else(|| format!("c{i}")),
                service: c.service.to_string(),
                uuid,
                props: props
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, p)| *p)
                    .collect(),
            };
            header.push(("gatt".into(), g.render()));
        }
        self.table = chars.iter().map(|c| c.uuid).collect();
        match RecordingWriter::create(&self.path, &header) {
            Ok(w) => {
                self.writer = Some(w);
                self.started = Instant::now();
            }
            Err(e) => self.fail(format!("cannot create {}: {e}", self.path.display())),
        }
    }
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// A connector that records the links it opens into one file.
pub struct RecordingConnector {
    inner: Box<dyn BleConnector>,
    state: Shared,
}

/// Reads a [`RecordingConnector`]'s figures after the board took it.
#[derive(Clone)]
pub struct BleRecorder(Shared);

impl BleRecorder {
    /// What was recorded so far.
    pub fn stats(&self) -> BleRecordStats {
        let s = lock(&self.0);
        BleRecordStats {
            events: s.writer.as_ref().map_or(0, |w| w.events()),
            error: s.error.clone(),
        }
    }
}

impl RecordingConnector {
    /// Records the links `inner` opens into `path` (created on the first
    /// connection, when the GATT table is known), with `header` (`profile`,
    /// `scenario`, `source`; `transport ble` is added). Characteristics are
    /// named as `ble` (the device profile's GATT table) names them, else
    /// `c0`, `c1`, … in table order.
    pub fn new(
        inner: Box<dyn BleConnector>,
        path: &Path,
        header: &[(String, String)],
        ble: Option<&BleDecl>,
    ) -> (RecordingConnector, BleRecorder) {
        let names = ble
            .iter()
            .flat_map(|b| &b.services)
            .flat_map(|s| &s.characteristics)
            .map(|c| (full_uuid(&c.uuid), c.name.clone()))
            .collect();
        let state = Arc::new(Mutex::new(State {
            path: path.to_path_buf(),
            header: header.to_vec(),
            names,
            writer: None,
            table: Vec::new(),
            started: Instant::now(),
            error: None,
        }));
        (
            RecordingConnector {
                inner,
                state: state.clone(),
            },
            BleRecorder(state),
        )
    }

    /// `inner`, recorded into `record` (a path and the recording's header,
    /// as the targets' `recording_for` gives them) when it is set:
    /// one home for every BLE target that may record its link.
    pub fn wrap(
        inner: Box<dyn BleConnector>,
        record: Option<(PathBuf, Vec<(String, String)>)>,
        ble: Option<&BleDecl>,
    ) -> Box<dyn BleConnector> {
        match record {
            None => inner,
            Some((path, header)) => Box::new(RecordingConnector::new(inner, &path, &header, ble).0),
        }
    }
}

impl BleConnector for RecordingConnector {
    fn find(&mut self, filter: &DeviceFilter, timeout: Duration) -> Result<DeviceInfo> {
        self.inner.find(filter, timeout)
    }

    fn connect(&mut self, device: &DeviceInfo) -> Result<Box<dyn BleLink>> {
        let link = self.inner.connect(device)?;
        let mut s = lock(&self.state);
        s.open(&link.characteristics());
        if let Some(e) = s.error.clone().filter(|_| s.writer.is_none()) {
            return Err(BoardError::new(
                ExitCode::GeneralError,
                format!("BLE recording: {e}"),
            ));
        }
        drop(s);
        Ok(Box::new(RecordingLink {
            inner: link,
            state: self.state.clone(),
        }))
    }
}

struct RecordingLink {
    inner: Box<dyn BleLink>,
    state: Shared,
}

impl BleLink for RecordingLink {
    fn characteristics(&self) -> Vec<CharacteristicInfo> {
        self.inner.characteristics()
    }

    fn write(&mut self, uuid: Uuid, value: &[u8], with_response: bool) -> io::Result<()> {
        let op = |char| Op::GattWrite {
            char,
            response: with_response,
        };
        lock(&self.state).log(op, uuid, value);
        self.inner.write(uuid, value, with_response)
    }

    fn read(&mut self, uuid: Uuid) -> io::Result<Vec<u8>> {
        let v = self.inner.read(uuid)?;
        lock(&self.state).log(Op::GattRead, uuid, &v);
        Ok(v)
    }

    fn subscribe(&mut self, uuid: Uuid) -> io::Result<()> {
        lock(&self.state).log(Op::Subscribe, uuid, &[]);
        self.inner.subscribe(uuid)
    }

    fn unsubscribe(&mut self, uuid: Uuid) -> io::Result<()> {
        lock(&self.state).log(Op::Unsubscribe, uuid, &[]);
        self.inner.unsubscribe(uuid)
    }

    fn notifications(&mut self) -> io::Result<Box<dyn NotificationStream>> {
        Ok(Box::new(RecordingStream {
            inner: self.inner.notifications()?,
            state: self.state.clone(),
        }))
    }

    fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }

    fn disconnect(&mut self) -> io::Result<()> {
        self.inner.disconnect()
    }

    fn has_characteristic(&self, uuid: Uuid) -> bool {
        self.inner.has_characteristic(uuid)
    }
}

struct RecordingStream {
    inner: Box<dyn NotificationStream>,
    state: Shared,
}

impl NotificationStream for RecordingStream {
    fn recv(&mut self, timeout: Duration) -> io::Result<Option<Notification>> {
        let n = self.inner.recv(timeout)?;
        if let Some(n) = &n {
            lock(&self.state).log(Op::Notify, n.uuid, &n.value);
        }
        Ok(n)
    }
}

//! Replaying a BLE recording as a device: a GATT peripheral (in memory or
//! served by BlueZ, built from the device profile named by `@profile`)
//! notifies what the recording notified, at the recorded offset from the
//! host write before it (divided by the speed), answers reads with the
//! recorded values, and reports where the host's writes deviate from the
//! recorded ones. Timing and matching are the serial replay's
//! ([`crate::replay`]'s `Script`), with writes matched one by one on the
//! characteristic recorded: a BLE write arrives whole. Whether a write
//! asked for a response is not compared: a [`Peripheral`] does not report it.

use crate::ble::Peripheral;
use crate::profile::BleDecl;
use crate::record_ble::gatt_table;
use crate::recording::{GattChar, Op, Recording};
use crate::replay::{lock, ReplayOptions, ReplayStats, Running, Script};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Checks a BLE recording's GATT table against a profile's: every
/// characteristic of the profile is recorded with the same service and
/// properties, and every characteristic an event uses is the profile's.
/// Characteristics only the recording has (a real device's Generic Access
/// service) are allowed while no event uses them. Returns the recorded table.
pub fn check_gatt(rec: &Recording, profile: &str, ble: &BleDecl) -> Result<Vec<GattChar>, String> {
    let table = rec.gatt()?;
    let differs = |what: String| {
        format!("the recording's GATT table differs from profile `{profile}`'s: {what}")
    };
    let profiled = gatt_table(ble);
    for c in &profiled {
        let uuid = &c.uuid;
        let Some(r) = table.iter().find(|r| r.uuid == *uuid) else {
            return Err(differs(format!("`{}` ({uuid}) is not recorded", c.name)));
        };
        if r.service != c.service || r.props != c.props {
            return Err(differs(format!(
                "`{}` ({uuid}) is recorded as `{}`, the profile has service {} and {:?}",
                c.name,
                r.render(),
                c.service,
                c.props
            )));
        }
    }
    let known = |u: &str| profiled.iter().any(|c| c.uuid == u);
    for e in &rec.events {
        if let Some(c) = e.op.characteristic() {
            let r = &table[c as usize];
            if !known(&r.uuid) {
                return Err(differs(format!(
                    "line {} uses `{}` ({}), which the profile lacks",
                    e.line, r.name, r.uuid
                )));
            }
        }
    }
    Ok(table)
}

/// A BLE recording played on a peripheral; dropping it stops it.
pub struct BleReplay {
    handled: Arc<AtomicU64>,
    peripheral: Arc<dyn Peripheral>,
    run: Running,
}

impl BleReplay {
    /// Starts playing `rec` on `peripheral`, which serves `ble` (the GATT
    /// table of the profile `profile`): the recorded table must match it
    /// ([`check_gatt`]).
    pub fn spawn(
        rec: Recording,
        profile: &str,
        ble: &BleDecl,
        peripheral: Arc<dyn Peripheral>,
        opts: ReplayOptions,
    ) -> io::Result<BleReplay> {
        if !rec.is_ble() {
            return Err(io::Error::other(format!(
                "a `{}` recording cannot be replayed on a BLE peripheral",
                rec.get("transport").unwrap_or("serial")
            )));
        }
        opts.check()?;
        let table = check_gatt(&rec, profile, ble).map_err(io::Error::other)?;
        let handled = Arc::new(AtomicU64::new(0));
        let mut reads: Vec<Vec<usize>> = vec![Vec::new(); table.len()];
        for (i, e) in rec.events.iter().enumerate() {
            if let Op::GattRead(c) = e.op {
                reads[c as usize].push(i);
            }
        }
        let (p2, h2) = (peripheral.clone(), handled.clone());
        // Read values exist before the host can connect and read them: the
        // player serves them before `spawn` returns.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let run = Running::spawn("replay-ble", move |stop, stats| {
            let mut player = BlePlayer {
                served: vec![None; table.len()],
                uuids: table.into_iter().map(|c| c.uuid).collect(),
                script: Script::new(rec, opts, stats),
                peripheral: p2,
                reads,
                handled: h2,
            };
            player.serve_reads();
            let _ = ready_tx.send(());
            player.run(stop);
        })?;
        let _ = ready_rx.recv();
        Ok(BleReplay {
            handled,
            peripheral,
            run,
        })
    }

    /// Loads a recording file and plays it (see [`BleReplay::spawn`]).
    pub fn load(
        path: &Path,
        profile: &str,
        ble: &BleDecl,
        peripheral: Arc<dyn Peripheral>,
        opts: ReplayOptions,
    ) -> io::Result<BleReplay> {
        let rec = Recording::load(path).map_err(|e| io::Error::other(e.to_string()))?;
        BleReplay::spawn(rec, profile, ble, peripheral, opts)
    }

    /// What the replay did so far.
    pub fn stats(&self) -> ReplayStats {
        self.run.stats()
    }

    /// Waits until the writes the host made so far have been matched, where
    /// the peripheral counts them exactly (the in-memory link); elsewhere
    /// returns at once. Bounded (10 s) so a wedged replay cannot hang.
    pub fn settle(&self) {
        let Some(sent) = self.peripheral.writes_received() else {
            return;
        };
        let give_up = Instant::now() + Duration::from_secs(10);
        while self.handled.load(Ordering::SeqCst) < sent
            && Instant::now() < give_up
            && !self.run.is_finished()
        {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// One line saying what the replay did, for a trial's artifacts.
    pub fn summary(&self) -> String {
        self.run.summary("notifications")
    }

    /// Stops the replay (after matching the writes already received).
    pub fn stop(mut self) -> ReplayStats {
        self.run.halt()
    }
}

struct BlePlayer {
    script: Script,
    /// The recorded table's UUIDs (full, lower case), by index.
    uuids: Vec<String>,
    peripheral: Arc<dyn Peripheral>,
    /// Per characteristic, the events that read it, in order.
    reads: Vec<Vec<usize>>,
    /// Per characteristic, the read event whose value is served now.
    served: Vec<Option<usize>>,
    handled: Arc<AtomicU64>,
}

impl BlePlayer {
    fn run(mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::SeqCst) {
            while let Some((i, due)) = self.script.pop_due(Instant::now()) {
                let e = &self.script.rec.events[i];
                match e.op {
                    Op::Notify(c) => {
                        if self.peripheral.notify(&self.uuids[c as usize], &e.bytes) {
                            self.script.sent(due);
                        } else {
                            lock(&self.script.stats).undelivered += 1;
                        }
                    }
                    Op::GattRead(_) => self.serve_reads(),
                    // The peripheral reports no subscriptions: nothing to
                    // match, nothing to send.
                    _ => {}
                }
            }
            if self.script.played_all() {
                lock(&self.script.stats).at_end = true;
            }
            // 50 ms bounds how long a stop request waits.
            let wait = self.script.wait(Duration::from_millis(50));
            if let Some((uuid, bytes)) = self.peripheral.recv_write(wait) {
                self.write(&uuid, bytes);
            }
        }
        // Writes the host made before the replay was stopped still count.
        while let Some((uuid, bytes)) = self.peripheral.recv_write(Duration::ZERO) {
            self.write(&uuid, bytes);
        }
        if self.script.played_all() {
            lock(&self.script.stats).at_end = true;
        }
    }

    fn write(&mut self, uuid: &str, mut bytes: Vec<u8>) {
        let now = Instant::now();
        match self.uuids.iter().position(|u| u == uuid) {
            Some(c) => {
                self.script.match_host(&mut bytes, Some(c as u16), now);
                self.serve_reads();
            }
            None => {
                let msg = format!("the host wrote to {uuid}, which the recording does not have");
                tracing::warn!("replay: {msg}");
                lock(&self.script.stats).deviations.push(msg);
            }
        }
        self.handled.fetch_add(1, Ordering::SeqCst);
    }

    /// Serves, per characteristic, the value of its next recorded read (the
    /// first at or after the replay's position; the last once past them).
    fn serve_reads(&mut self) {
        let at = self.script.position();
        for (c, reads) in self.reads.iter().enumerate() {
            if reads.is_empty() {
                continue;
            }
            let k = reads.partition_point(|&i| i < at).min(reads.len() - 1);
            if self.served[c] != Some(reads[k]) {
                self.served[c] = Some(reads[k]);
                let e = &self.script.rec.events[reads[k]];
                self.peripheral.set_value(&self.uuids[c], &e.bytes);
            }
        }
    }
}

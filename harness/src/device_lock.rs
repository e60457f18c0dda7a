//! One user per device: a trial on a rig's device holds an exclusive lock on
//! it from opening the board until the trial is over, so two trials never
//! share a physical device, whether they run in one `boardloop run`, in two
//! processes, or as nextest tests.
//!
//! The lock is `flock(2)` on a file named after the device in a lock folder.
//! flock belongs to the open file, not to the process, so it excludes two
//! threads of one process as well as two processes; the kernel drops it when
//! the holder exits or crashes, so a killed run never leaves a stale lock.
//! The folder is `BOARDLOOP_LOCK_DIR`, else `boardloop-locks` in the system's
//! temporary folder (one per machine: every user of the machine sees it).

use crate::rig::RigBoard;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A held device lock; dropping it lets the next trial have the device.
#[derive(Debug)]
pub struct DeviceLock {
    _lock: Flock<File>,
    /// The lock file, for messages.
    pub path: PathBuf,
}

/// The folder device locks live in.
pub fn lock_dir() -> PathBuf {
    std::env::var_os("BOARDLOOP_LOCK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("boardloop-locks"))
}

/// What identifies a rig's device on this machine: a serial port by its
/// resolved path (so `/dev/serial/by-id/…` and `/dev/ttyUSB0` are one
/// device), a BLE device by its address, else by its advertised name, each
/// with its adapter when the rig names one.
pub fn device_key(device: &RigBoard) -> String {
    let at = match (&device.serial_port, &device.mac_address, &device.name) {
        (Some(p), _, _) => std::fs::canonicalize(p)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| p.clone()),
        (None, Some(m), _) => format!("ble-{}", m.to_ascii_uppercase()),
        (None, None, Some(n)) => format!("ble-name-{n}"),
        (None, None, None) => "nowhere".into(),
    };
    match (&device.serial_port, &device.adapter) {
        (None, Some(a)) => format!("{at}-on-{a}"),
        _ => at,
    }
}

/// The lock file's name for a device key: its letters and digits, every run
/// of anything else one `_` (`/dev/ttyUSB0` → `dev_ttyUSB0.lock`).
pub fn lock_file_name(key: &str) -> String {
    let mut name = String::new();
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    format!("{}.lock", name.trim_end_matches('_'))
}

/// Takes the device's lock for `holder` (a trial's name), waiting while
/// another trial has it. `log` gets a line when it had to wait: whom it
/// waited for and how long.
pub fn acquire(
    device: &RigBoard,
    holder: &str,
    log: &mut Vec<String>,
) -> Result<DeviceLock, String> {
    acquire_in(&lock_dir(), device, holder, log)
}

/// [`acquire`] with the lock folder given.
pub fn acquire_in(
    dir: &Path,
    device: &RigBoard,
    holder: &str,
    log: &mut Vec<String>,
) -> Result<DeviceLock, String> {
    let key = device_key(device);
    create_shared_dir(dir).map_err(|e| format!("lock folder {}: {e}", dir.display()))?;
    let path = dir.join(lock_file_name(&key));
    let file = open_lock_file(&path).map_err(|e| format!("lock {}: {e}", path.display()))?;
    let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(l) => l,
        Err((file, nix::errno::Errno::EWOULDBLOCK)) => {
            let other = read_holder(&path);
            let started = std::time::Instant::now();
            // Printed, not only logged (as a retry is): a run that stands
            // still must say why, in every CI log.
            eprintln!("{holder}: waiting for {key}, in use by {other}");
            let l = Flock::lock(file, FlockArg::LockExclusive)
                .map_err(|(_, e)| format!("lock {}: {e}", path.display()))?;
            log.push(format!(
                "waited {} ms for {key}, in use by {other}",
                started.elapsed().as_millis()
            ));
            l
        }
        Err((_, e)) => return Err(format!("lock {}: {e}", path.display())),
    };
    // Who holds it, for whoever waits next. Best effort: another user's lock
    // file may be read-only to us, and the lock holds all the same.
    let _ = lock.set_len(0).and_then(|_| {
        lock.rewind()?;
        writeln!(lock, "pid {} ({holder})", std::process::id())
    });
    Ok(DeviceLock { _lock: lock, path })
}

/// The lock folder, writable by every user of the machine (sticky, as /tmp).
fn create_shared_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    // Another user's run may have made it meanwhile: then it is theirs to set.
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777));
    Ok(())
}

/// Opens (creating) a lock file: read-write when we may, else read-only,
/// which is all flock needs.
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .open(path)
        .or_else(|_| File::open(path))
}

fn read_holder(path: &Path) -> String {
    let mut s = String::new();
    let _ = File::open(path).and_then(|mut f| f.read_to_string(&mut s));
    match s.trim() {
        "" => "another trial".into(),
        t => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serial(p: &str) -> RigBoard {
        RigBoard {
            serial_port: Some(p.into()),
            ..Default::default()
        }
    }

    #[test]
    fn keys_name_the_device_not_the_path_to_it() {
        let dir = std::env::temp_dir().join(format!("bl-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let real = dir.join("ttyUSB7");
        std::fs::write(&real, b"").unwrap();
        let link = dir.join("by-id-usb-FTDI");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let a = device_key(&serial(real.to_str().unwrap()));
        assert_eq!(a, device_key(&serial(link.to_str().unwrap())));
        let ble = |m: &str, a: Option<&str>| RigBoard {
            mac_address: Some(m.into()),
            adapter: a.map(Into::into),
            ..Default::default()
        };
        assert_eq!(
            device_key(&ble("00:55:da:b0:06:d6", None)),
            device_key(&ble("00:55:DA:B0:06:D6", None))
        );
        assert_ne!(
            device_key(&ble("00:55:DA:B0:06:D6", Some("hci0"))),
            device_key(&ble("00:55:DA:B0:06:D6", Some("hci1")))
        );
        assert_eq!(lock_file_name("/dev/ttyUSB0"), "dev_ttyUSB0.lock");
        assert_eq!(
            lock_file_name("ble-00:55:DA:B0:06:D6-on-hci0"),
            "ble-00_55_DA_B0_06_D6-on-hci0.lock"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_second_holder_waits_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("bl-locks-{}", std::process::id()));
        let dev = serial("/nonexistent/ttyBL0");
        let mut log = Vec::new();
        let first = acquire_in(&dir, &dev, "first::trial::device", &mut log).unwrap();
        assert!(log.is_empty(), "{log:?}");
        let (tx, rx) = std::sync::mpsc::channel();
        let in_dir = dir.clone();
        let second = std::thread::spawn(move || {
            let mut log = Vec::new();
            let lock = acquire_in(&in_dir, &dev, "second::trial::device", &mut log).unwrap();
            tx.send(()).unwrap();
            drop(lock);
            log
        });
        // The second holder is blocked in flock: it has not got the device
        // while the first still has it (it would have sent by now if it had
        // not waited: taking a free lock is microseconds).
        assert!(rx
            .recv_timeout(std::time::Duration::from_millis(200))
            .is_err());
        drop(first);
        rx.recv().unwrap();
        let log = second.join().unwrap();
        assert_eq!(log.len(), 1, "{log:?}");
        assert!(
            log[0].contains("in use by pid ") && log[0].contains("(first::trial::device)"),
            "{log:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Cutting an LE link at once, through the kernel's Bluetooth management
//! interface (the `mgmt` control channel that bluetoothd itself uses).
//!
//! bluetoothd has no D-Bus call that drops a link now: `Device1.Disconnect`
//! and `Adapter1.RemoveDevice` first detach its services and only then, after
//! its 2-s disconnect timer, ask the kernel to disconnect; closing the ATT
//! channel instead leaves the kernel's idle timer (4 s on the peripheral
//! side). A device going out of range, as an emulator's link-loss fault
//! plays it, must drop the link within milliseconds, so the emulator sends
//! `MGMT_OP_DISCONNECT` itself. Needs CAP_NET_ADMIN (root in the lab VM).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

const BTPROTO_HCI: libc::c_int = 1;
const HCI_DEV_NONE: u16 = 0xffff;
const HCI_CHANNEL_CONTROL: u16 = 3;
const MGMT_OP_DISCONNECT: u16 = 0x0014;
const MGMT_EV_CMD_COMPLETE: u16 = 0x0001;
const MGMT_EV_CMD_STATUS: u16 = 0x0002;

/// Address types as the management interface numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MgmtAddressType {
    /// BR/EDR.
    BrEdr = 0,
    /// LE public.
    LePublic = 1,
    /// LE random.
    LeRandom = 2,
}

#[repr(C)]
struct SockaddrHci {
    family: libc::sa_family_t,
    dev: u16,
    channel: u16,
}

/// The controller index of `hciN`.
pub fn adapter_index(adapter: &str) -> io::Result<u16> {
    adapter
        .strip_prefix("hci")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{adapter:?} is not an adapter name like hci0"),
            )
        })
}

/// Parses `AA:BB:CC:DD:EE:FF` into the little-endian `bdaddr_t` layout.
fn bdaddr(address: &str) -> io::Result<[u8; 6]> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad address {address:?}"),
        )
    };
    let parts: Vec<&str> = address.split(':').collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut out = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        out[5 - i] = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// The `MGMT_OP_DISCONNECT` command for controller `index`.
fn disconnect_command(index: u16, address: &str, kind: MgmtAddressType) -> io::Result<Vec<u8>> {
    let mut cmd = Vec::with_capacity(13);
    cmd.extend_from_slice(&MGMT_OP_DISCONNECT.to_le_bytes());
    cmd.extend_from_slice(&index.to_le_bytes());
    cmd.extend_from_slice(&7u16.to_le_bytes());
    cmd.extend_from_slice(&bdaddr(address)?);
    cmd.push(kind as u8);
    Ok(cmd)
}

fn open_control() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); the result is checked before use.
    let fd = unsafe {
        libc::socket(
            libc::AF_BLUETOOTH,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            BTPROTO_HCI,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let addr = SockaddrHci {
        family: libc::AF_BLUETOOTH as libc::sa_family_t,
        dev: HCI_DEV_NONE,
        channel: HCI_CHANNEL_CONTROL,
    };
    // SAFETY: `addr` is a valid sockaddr_hci of the size given.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const SockaddrHci).cast(),
            std::mem::size_of::<SockaddrHci>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Disconnects `address` on controller `adapter` (`hciN`) now, and waits up
/// to `timeout` for the kernel's answer. The mgmt status 0x02 ("not
/// connected") is `NotConnected`.
pub fn disconnect(
    adapter: &str,
    address: &str,
    kind: MgmtAddressType,
    timeout: Duration,
) -> io::Result<()> {
    let index = adapter_index(adapter)?;
    let cmd = disconnect_command(index, address, kind)?;
    let fd = open_control()?;
    // SAFETY: writing our buffer to our socket.
    let n = unsafe { libc::write(fd.as_raw_fd(), cmd.as_ptr().cast(), cmd.len()) };
    if n != cmd.len() as isize {
        return Err(io::Error::last_os_error());
    }
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no answer to the disconnect of {address} on {adapter}"),
            ));
        }
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, left.as_millis().max(1) as libc::c_int) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        if r == 0 {
            continue;
        }
        // SAFETY: reading into our buffer from our socket.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if let Some(status) = answer_to(&buf[..n as usize], index, MGMT_OP_DISCONNECT) {
            return match status {
                0 => Ok(()),
                0x02 => Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!("{address} is not connected on {adapter}"),
                )),
                s => Err(io::Error::other(format!(
                    "disconnecting {address} on {adapter}: mgmt status {s:#04x}"
                ))),
            };
        }
    }
}

/// The status of a Command Complete/Status event for `opcode` on `index`;
/// other events on the control channel are not ours.
fn answer_to(ev: &[u8], index: u16, opcode: u16) -> Option<u8> {
    if ev.len() < 9 {
        return None;
    }
    let code = u16::from_le_bytes([ev[0], ev[1]]);
    let idx = u16::from_le_bytes([ev[2], ev[3]]);
    let op = u16::from_le_bytes([ev[6], ev[7]]);
    ((code == MGMT_EV_CMD_COMPLETE || code == MGMT_EV_CMD_STATUS) && idx == index && op == opcode)
        .then_some(ev[8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_disconnect_command_little_endian() {
        let c = disconnect_command(1, "00:AA:01:00:00:02", MgmtAddressType::LePublic).unwrap();
        assert_eq!(
            c,
            [0x14, 0x00, 0x01, 0x00, 0x07, 0x00, 0x02, 0x00, 0x00, 0x01, 0xAA, 0x00, 0x01]
        );
    }

    #[test]
    fn refuses_bad_addresses_and_adapters() {
        assert!(disconnect_command(0, "00:AA:01", MgmtAddressType::LePublic).is_err());
        assert!(disconnect_command(0, "zz:AA:01:00:00:02", MgmtAddressType::LePublic).is_err());
        assert_eq!(adapter_index("hci12").unwrap(), 12);
        assert!(adapter_index("usb0").is_err());
    }

    #[test]
    fn matches_only_its_own_answer() {
        // Command Complete, index 1, len 10, opcode 0x0014, status 0.
        let ok = [0x01, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x14, 0x00, 0x00];
        assert_eq!(answer_to(&ok, 1, MGMT_OP_DISCONNECT), Some(0));
        assert_eq!(answer_to(&ok, 0, MGMT_OP_DISCONNECT), None);
        // Command Status "not connected".
        let nc = [0x02, 0x00, 0x01, 0x00, 0x03, 0x00, 0x14, 0x00, 0x02];
        assert_eq!(answer_to(&nc, 1, MGMT_OP_DISCONNECT), Some(2));
        // Device Disconnected event (0x000C): not an answer.
        let ev = [0x0c, 0x00, 0x01, 0x00, 0x08, 0x00, 0x14, 0x00, 0x00];
        assert_eq!(answer_to(&ev, 1, MGMT_OP_DISCONNECT), None);
        assert_eq!(answer_to(&ok[..5], 1, MGMT_OP_DISCONNECT), None);
    }
}

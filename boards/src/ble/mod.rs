//! The BLE transport seam: drivers talk to a [`BleLink`] found and opened by a
//! [`BleConnector`], so the same driver code runs over a real radio or
//! memory ([`memory`]).
//!
//! The shapes follow btleplug 0.13 (`api::Peripheral`, `Characteristic` with a
//! service UUID and `CharPropFlags`, `WriteType::WithoutResponse`, a
//! notification stream of `ValueNotification { uuid, value }`), minus async:
//! a btleplug backend is a thin adapter that blocks on its runtime. Link loss
//! shows up as an error from [`NotificationStream::recv`] and from writes.

use std::fmt;
use std::io;
use std::time::Duration;

use crate::error::{BoardError, ExitCode, Result};

pub mod memory;

pub use memory::{MemoryBle, MemoryPeripheral, PeripheralWrite};

/// The largest ATT MTU either end offers unless told otherwise: BlueZ's
/// (`ExchangeMTU` defaults to 517, the most ATT allows), which every link in
/// the lab VM negotiated.
pub const DEFAULT_ATT_MTU: u16 = 517;

/// ATT's minimum MTU, what a link has before (or without) an exchange.
pub const MIN_ATT_MTU: u16 = 23;

/// Bytes of a notification's ATT header (opcode and handle): a notification
/// carries at most MTU - 3 bytes of value.
pub const NOTIFY_HEADER: usize = 3;

/// A 128-bit Bluetooth UUID (kept as a plain `u128` so this crate needs no
/// UUID dependency; `uuid::Uuid::from_u128` converts for btleplug).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub u128);

/// The Bluetooth base UUID `00000000-0000-1000-8000-00805f9b34fb`.
const BASE_UUID: u128 = 0x0000_0000_0000_1000_8000_0080_5f9b_34fb;

impl Uuid {
    /// A 16-bit assigned number (e.g. `0x2A28`) on the Bluetooth base UUID.
    pub const fn from_u16(short: u16) -> Uuid {
        Uuid(BASE_UUID | ((short as u128) << 96))
    }

    /// The value as a `u128` (big-endian reading of the canonical form).
    pub const fn as_u128(self) -> u128 {
        self.0
    }

    /// Parses the canonical hyphenated form (case-insensitive) or a 4-hex-digit
    /// short form; `None` if it is neither.
    pub fn parse(s: &str) -> Option<Uuid> {
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        let ok = hex.chars().all(|c| c.is_ascii_hexdigit());
        match hex.len() {
            4 if ok => u16::from_str_radix(&hex, 16).ok().map(Uuid::from_u16),
            32 if ok && s.len() == 36 => u128::from_str_radix(&hex, 16).ok().map(Uuid),
            _ => None,
        }
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = format!("{:032x}", self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What a characteristic allows (a subset of btleplug's `CharPropFlags`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CharProps {
    /// Readable.
    pub read: bool,
    /// Writable with response (ATT write request).
    pub write: bool,
    /// Writable without response (ATT write command).
    pub write_without_response: bool,
    /// Sends notifications.
    pub notify: bool,
}

impl CharProps {
    /// Read only.
    pub const READ: CharProps = CharProps {
        read: true,
        write: false,
        write_without_response: false,
        notify: false,
    };
    /// Notify only.
    pub const NOTIFY: CharProps = CharProps {
        read: false,
        write: false,
        write_without_response: false,
        notify: true,
    };
    /// Write with and without response (how command characteristics usually look).
    pub const WRITE: CharProps = CharProps {
        read: false,
        write: true,
        write_without_response: true,
        notify: false,
    };
}

/// One characteristic of a connected peripheral's GATT table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CharacteristicInfo {
    /// The service it belongs to.
    pub service: Uuid,
    /// The characteristic's UUID.
    pub uuid: Uuid,
    /// What it allows.
    pub props: CharProps,
}

/// A notification (btleplug's `ValueNotification`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The characteristic that notified.
    pub uuid: Uuid,
    /// The value.
    pub value: Vec<u8>,
}

/// Receives the notifications of every subscribed characteristic of one
/// link, in arrival order. Owned by a reader thread, independent of the
/// [`BleLink`] so writes never wait behind a blocking receive.
pub trait NotificationStream: Send {
    /// Waits up to `timeout` for the next notification: `Ok(None)` on timeout;
    /// an error (kind `NotConnected`) once the link is lost and every
    /// notification received before the loss has been returned.
    fn recv(&mut self, timeout: Duration) -> io::Result<Option<Notification>>;
}

/// A connection to one peripheral.
///
/// Errors are `io::Error`s: `NotConnected` when the link is gone, `NotFound`
/// for a characteristic the peripheral lacks, `Unsupported` for an operation
/// its properties do not allow.
pub trait BleLink: Send {
    /// The peripheral's GATT table (services were discovered on connect).
    fn characteristics(&self) -> Vec<CharacteristicInfo>;
    /// Writes `value`; `with_response` picks an ATT write request (acknowledged)
    /// over a write command (btleplug's `WriteType::WithoutResponse`).
    fn write(&mut self, uuid: Uuid, value: &[u8], with_response: bool) -> io::Result<()>;
    /// Reads a characteristic's value.
    fn read(&mut self, uuid: Uuid) -> io::Result<Vec<u8>>;
    /// Enables notifications of `uuid`; they arrive on [`BleLink::notifications`].
    fn subscribe(&mut self, uuid: Uuid) -> io::Result<()>;
    /// Disables notifications of `uuid`.
    fn unsubscribe(&mut self, uuid: Uuid) -> io::Result<()>;
    /// The stream of notifications of this link. Call once per connection; a
    /// second call may return a stream that receives nothing.
    fn notifications(&mut self) -> io::Result<Box<dyn NotificationStream>>;
    /// False once the link is lost or disconnected.
    fn is_connected(&self) -> bool;
    /// Disconnects (idempotent).
    fn disconnect(&mut self) -> io::Result<()>;

    /// True if the peripheral has `uuid` among its characteristics.
    fn has_characteristic(&self, uuid: Uuid) -> bool {
        self.characteristics().iter().any(|c| c.uuid == uuid)
    }
}

/// Which peripheral to connect to (BrainFlow: `mac_address`, else
/// `serial_number` as the exact name, else the board's name prefixes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceFilter {
    /// Advertised local name starts with any of these.
    NamePrefix(Vec<String>),
    /// Advertised local name equals this.
    Name(String),
    /// Address (MAC on Linux) equals this, case-insensitively.
    Address(String),
    /// Advertises this service UUID.
    Service(Uuid),
}

impl DeviceFilter {
    /// BrainFlow's choice from the input params: `mac_address` if set, else
    /// `serial_number` as the exact name, else the board's `prefixes`.
    pub fn from_params(mac_address: &str, serial_number: &str, prefixes: &[&str]) -> Self {
        if !mac_address.is_empty() {
            DeviceFilter::Address(mac_address.to_string())
        } else if !serial_number.is_empty() {
            DeviceFilter::Name(serial_number.to_string())
        } else {
            DeviceFilter::NamePrefix(prefixes.iter().map(|p| p.to_string()).collect())
        }
    }

    /// True if `dev` passes the filter.
    pub fn matches(&self, dev: &DeviceInfo) -> bool {
        match self {
            DeviceFilter::NamePrefix(ps) => ps.iter().any(|p| dev.name.starts_with(p.as_str())),
            DeviceFilter::Name(n) => dev.name == *n,
            DeviceFilter::Address(a) => dev.address.eq_ignore_ascii_case(a),
            DeviceFilter::Service(u) => dev.services.contains(u),
        }
    }
}

impl fmt::Display for DeviceFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceFilter::NamePrefix(ps) => {
                let q: Vec<String> = ps.iter().map(|p| format!("{p:?}")).collect();
                write!(f, "a device whose name starts with {}", q.join(" or "))
            }
            DeviceFilter::Name(n) => write!(f, "a device named {n:?}"),
            DeviceFilter::Address(a) => write!(f, "a device with address {a}"),
            DeviceFilter::Service(u) => write!(f, "a device advertising service {u}"),
        }
    }
}

/// A peripheral seen while scanning (btleplug's `PeripheralProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Advertised local name.
    pub name: String,
    /// Address (MAC on Linux, an opaque id on macOS).
    pub address: String,
    /// Advertised service UUIDs.
    pub services: Vec<Uuid>,
}

/// Finds peripherals and connects to them (btleplug's `Central` of one adapter).
pub trait BleConnector: Send {
    /// Scans until a peripheral passes `filter` or `timeout` expires. On
    /// timeout: `BoardNotReady` with a message naming what was searched for.
    fn find(&mut self, filter: &DeviceFilter, timeout: Duration) -> Result<DeviceInfo>;
    /// Connects and discovers services. Failure: `BoardNotReady`.
    fn connect(&mut self, device: &DeviceInfo) -> Result<Box<dyn BleLink>>;

    /// [`BleConnector::find`] then [`BleConnector::connect`].
    fn find_and_connect(
        &mut self,
        filter: &DeviceFilter,
        timeout: Duration,
    ) -> Result<(DeviceInfo, Box<dyn BleLink>)> {
        let dev = self.find(filter, timeout)?;
        let link = self.connect(&dev)?;
        Ok((dev, link))
    }
}

/// The error a connector returns when scanning found nothing.
pub fn not_found(filter: &DeviceFilter, timeout: Duration, seen: &[DeviceInfo]) -> BoardError {
    let seen: Vec<String> = seen
        .iter()
        .map(|d| format!("{:?} ({})", d.name, d.address))
        .collect();
    BoardError::new(
        ExitCode::BoardNotReady,
        format!(
            "no BLE device found within {:.1} s: searched for {filter}; seen: [{}]",
            timeout.as_secs_f64(),
            seen.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_forms() {
        let sw = Uuid::from_u16(0x2A28);
        assert_eq!(sw.to_string(), "00002a28-0000-1000-8000-00805f9b34fb");
        assert_eq!(
            Uuid::parse("00002A28-0000-1000-8000-00805F9B34FB"),
            Some(sw)
        );
        assert_eq!(Uuid::parse("2a28"), Some(sw));
        assert_eq!(Uuid::parse("2a2"), None);
        assert_eq!(Uuid::parse("zz002a28-0000-1000-8000-00805f9b34fb"), None);
        let g = Uuid::parse("2d30c082-f39f-4ce6-923f-3484ea480596").unwrap();
        assert_eq!(g.to_string(), "2d30c082-f39f-4ce6-923f-3484ea480596");
    }

    #[test]
    fn filters() {
        let d = DeviceInfo {
            name: "Ganglion-1234".into(),
            address: "AA:BB:CC:DD:EE:FF".into(),
            services: vec![Uuid::from_u16(0xFE84)],
        };
        assert!(DeviceFilter::from_params("", "", &["Ganglion", "Simblee"]).matches(&d));
        assert!(DeviceFilter::from_params("aa:bb:cc:dd:ee:ff", "x", &[]).matches(&d));
        assert!(!DeviceFilter::from_params("", "Ganglion", &[]).matches(&d));
        assert!(DeviceFilter::Service(Uuid::from_u16(0xFE84)).matches(&d));
        let msg = DeviceFilter::NamePrefix(vec!["Muse".into()]).to_string();
        assert!(msg.contains("\"Muse\""), "{msg}");
    }
}

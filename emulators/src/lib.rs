//! Emulators for biosensor boards: device profiles and scenarios as YAML, the
//! packet layouts built from them, a sans-IO engine, and transports (pty) that make
//! an emulated device appear on this machine as the real one would.

pub mod ble;
pub mod commands;
pub mod device;
pub mod expr;
pub mod extends;
pub mod join;
pub mod layout;
pub mod limits;
pub mod load;
pub mod notify_frames;
pub mod plan;
pub mod portable;
pub mod profile;
pub mod pty;
pub mod realistic;
pub mod record;
pub mod record_ble;
pub mod recording;
pub mod replay;
pub mod replay_ble;
mod running;
pub mod scenario;
pub mod schedule;
pub mod schema;
pub mod serial;
pub mod signal;
pub mod state;
pub mod transcript;

pub use ble::{BleEmulator, BleOptions, Peripheral};
pub use device::{ChannelModel, CounterModel, Device, Expected, Output};
pub use load::LoadError;
pub use profile::Profile;
pub use scenario::{Pacing, Scenario, ScenarioLoader};
pub use serial::{HoldAt, SerialEmulator, SerialOptions};

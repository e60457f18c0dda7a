//! Board drivers, sans-IO codecs and a BrainFlow-style session API for
//! biosensor boards (OpenBCI Cyton, Cyton+Daisy and Ganglion; Muse 2, S and
//! 2016; NeuroPawn Knight), and C/C++ boards loaded as plugins ([`plugin`]).
//!
//! Layers, bottom up:
//! * [`codec`]: pure byte-to-row decoders, no I/O;
//! * [`link`]: the serial transport seam ([`link::SerialLink`]), with a real
//!   serial backend and an in-memory pair for tests;
//! * [`ble`]: the BLE transport seam ([`ble::BleLink`], [`ble::BleConnector`])
//!   with an in-memory peripheral/central pair ([`ble::MemoryBle`]);
//! * [`steps`]: each protocol's handshake, start, stop and config as sans-IO
//!   state machines (time passed in, actions out);
//! * [`board`]: sessions with BrainFlow's semantics, implemented once per
//!   transport ([`serial_board::SerialBoard`], [`ble_board::BleBoard`]) over
//!   a protocol (`CytonProtocol`, `KnightProtocol`, `GanglionProtocol`,
//!   `MuseProtocol`), with a streaming thread and a [`ring::RingBuffer`] per
//!   preset;
//! * [`registry`]: one declaration per board (id, name, layouts, BrainFlow
//!   quirks, how to build its driver), which everything else iterates.

#![warn(missing_docs)]

pub mod aavaa_board;
pub mod ble;
pub mod ble_board;
mod ble_session;
pub mod board;
pub mod brainalive_board;
pub mod codec;
pub mod cyton_board;
pub mod data;
pub mod descr;
pub mod error;
pub mod freeeeg_board;
pub mod ganglion_board;
pub mod host_session;
pub mod ids;
pub mod knight_board;
pub mod link;
pub mod muse_athena_board;
pub mod muse_board;
pub mod outlet;
pub mod params;
pub mod playback;
pub mod plugin;
pub mod registry;
pub mod rfc2217_link;
pub mod ring;
pub mod serial_board;
mod serial_session;
pub mod shimmer3_board;
pub mod steps;
pub mod streamer;
pub mod streaming;
pub mod synthetic;

pub use ble::{BleConnector, BleLink, MemoryBle, MemoryPeripheral};
pub use board::{create_board, Board, StreamStats};
pub use codec::cyton::{CytonDecoder, CytonVariant, DaisyPairing};
pub use codec::ganglion::{GanglionDecoder, GanglionFirmware, SignConvention};
pub use codec::muse::{MuseDecoder, MuseModel};
pub use codec::{DecodeStats, Decoder, Input, Rows};
pub use cyton_board::CytonBoard;
pub use data::Data;
pub use descr::{board_descr, BoardDescr};
pub use error::{BoardError, ExitCode, Result};
pub use ganglion_board::GanglionBoard;
pub use ids::{BoardId, Preset};
pub use knight_board::KnightBoard;
pub use link::{MemoryLink, SerialLink, SerialPortLink};
pub use muse_athena_board::MuseAthenaBoard;
pub use muse_board::MuseBoard;
pub use params::InputParams;
pub use plugin::{Plugin, PluginBoard};
pub use registry::{BoardDecl, Connection};
pub use ring::RingBuffer;
pub use serial_session::LinkOpener;

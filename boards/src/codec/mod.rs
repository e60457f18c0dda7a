//! Sans-IO decoders: they turn received bytes into rows and never touch a
//! port, sleep or spawn, so they can be tested and fuzzed directly.

pub mod aavaa;
pub mod brainalive;
pub mod cyton;
pub mod decoder;
pub mod framed;
pub mod freeeeg;
pub mod gain;
pub mod ganglion;
pub mod knight;
pub mod lockstep;
pub mod muse;
pub mod muse_athena;
mod resync;
pub mod rows;
pub mod shimmer3;

pub use decoder::{DecodeStats, Decoder, Input, PresetRows};
pub use rows::Rows;

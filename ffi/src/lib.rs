//! A BrainFlow-compatible `libBoardController` built from the Rust boards.
//!
//! Exports BrainFlow's C API (`board_controller.h` and `board_info_getter.h`)
//! with the same names, signatures and exit codes, so BrainFlow's bindings
//! (Python `BoardShim`, C++, Java, ...) load this library in place of
//! BrainFlow's own and drive the boards of `boardloop-boards`. The generated
//! header is `include/boardloop/board_controller.h`.
//!
//! Every export catches panics (`GENERAL_ERROR`), checks its pointers and
//! lengths, and returns BrainFlow's codes. Where BrainFlow crashes (null
//! pointers, negative counts) this library returns `INVALID_ARGUMENTS_ERROR`.
//! Boards not implemented in Rust yet give `UNSUPPORTED_BOARD_ERROR`.

#![warn(missing_docs)]
// The library must be named BoardController for BrainFlow's loaders to find it.
#![allow(non_snake_case)]

pub mod controller;
mod guard;
pub mod info;
pub mod logger;
mod sessions;
mod tracing_bridge;

pub use controller::*;
pub use info::*;
pub use logger::{
    log_message_board_controller, set_log_file_board_controller, set_log_level_board_controller,
};

//! BrainFlow's streamer strings (`start_stream`'s `streamer_params`,
//! `add_streamer`, `delete_streamer`).
//!
//! The Rust boards have no streamer hook yet, so no streamer is ever running.
//! A malformed string gives `INVALID_ARGUMENTS_ERROR` (BrainFlow's code for
//! it); a well-formed one gives `UNSUPPORTED_BOARD_ERROR` when added, rather
//! than succeeding without streaming anything; deleting one gives
//! `INVALID_ARGUMENTS_ERROR`, BrainFlow's code for a streamer that was never
//! added.

use boardloop_boards::streamer::Streamer;
use boardloop_boards::{BoardError, ExitCode};

/// Checks `spec` against BrainFlow's forms (see [`Streamer::parse`]).
pub(crate) fn validate(spec: &str) -> Result<(), BoardError> {
    Streamer::parse(spec).map(|_| ())
}

/// The error for a well-formed streamer: not implemented.
pub(crate) fn unsupported(spec: &str) -> BoardError {
    BoardError::new(
        ExitCode::UnsupportedBoard,
        format!(
            "streamer {spec:?}: streamers are not implemented by boardloop's libBoardController"
        ),
    )
}

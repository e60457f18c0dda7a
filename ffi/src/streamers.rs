//! BrainFlow's streamer strings (`start_stream`'s `streamer_params`,
//! `add_streamer`, `delete_streamer`).
//!
//! The Rust boards have no streamer hook yet, so no streamer is ever running.
//! A malformed string gives `INVALID_ARGUMENTS_ERROR` (BrainFlow's code for
//! it); a well-formed one gives `UNSUPPORTED_BOARD_ERROR` when added, rather
//! than succeeding without streaming anything; deleting one gives
//! `INVALID_ARGUMENTS_ERROR`, BrainFlow's code for a streamer that was never
//! added.

use boardloop_boards::{BoardError, ExitCode};

use crate::guard::invalid;

/// Checks `spec` against BrainFlow's forms: `file://PATH:w|a`,
/// `streaming_board://IP:PORT`, `plotjuggler_udp://IP:PORT`.
pub(crate) fn validate(spec: &str) -> Result<(), BoardError> {
    let bad = || invalid(format!("malformed streamer string {spec:?}"));
    let (kind, rest) = spec.split_once("://").ok_or_else(bad)?;
    let (dest, last) = rest.rsplit_once(':').ok_or_else(bad)?;
    let ok = !dest.is_empty()
        && match kind {
            "file" => last == "w" || last == "a",
            "streaming_board" | "plotjuggler_udp" => last.parse::<u16>().is_ok(),
            _ => false,
        };
    if ok {
        Ok(())
    } else {
        Err(bad())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        for ok in [
            "file:///tmp/x.csv:w",
            "file://out.csv:a",
            "streaming_board://225.1.1.1:6677",
            "plotjuggler_udp://127.0.0.1:9870",
        ] {
            validate(ok).unwrap();
        }
        for bad in [
            "",
            "foo://bar",
            "file:///tmp/x.csv",
            "file://:w",
            "streaming_board://1.2.3.4:x",
        ] {
            assert_eq!(validate(bad).unwrap_err().code, ExitCode::InvalidArguments);
        }
    }
}

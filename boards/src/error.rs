//! BrainFlow-compatible exit codes and the crate's error type.

use std::fmt;

/// BrainFlow's exit codes (`brainflow_exit_codes.h`), with the same numeric
/// values so a C ABI or a harness can return them unchanged.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitCode {
    /// Success.
    Ok = 0,
    /// The port is already open.
    PortAlreadyOpen = 1,
    /// The port could not be opened.
    UnableToOpenPort = 2,
    /// The port could not be configured.
    SetPort = 3,
    /// Writing to the board failed.
    BoardWrite = 4,
    /// Reading from the board failed or returned something unexpected.
    IncommingMsg = 5,
    /// The board's initial message was wrong.
    InitialMsg = 6,
    /// The board did not answer the handshake.
    BoardNotReady = 7,
    /// A stream is already running.
    StreamAlreadyRun = 8,
    /// The requested ring-buffer size is invalid.
    InvalidBufferSize = 9,
    /// The streaming thread failed.
    StreamThread = 10,
    /// No stream is running.
    StreamThreadIsNotRunning = 11,
    /// The buffer is empty.
    EmptyBuffer = 12,
    /// An argument is invalid.
    InvalidArguments = 13,
    /// The board (or preset) is not supported.
    UnsupportedBoard = 14,
    /// The session was not prepared.
    BoardNotCreated = 15,
    /// Another board is already created.
    AnotherBoardIsCreated = 16,
    /// Anything else.
    GeneralError = 17,
    /// Synchronisation timed out.
    SyncTimeout = 18,
    /// A JSON description was not found.
    JsonNotFound = 19,
    /// The JSON description lacks the requested field.
    NoSuchDataInJson = 20,
}

impl ExitCode {
    /// Every code, in numeric order.
    pub const ALL: [ExitCode; 21] = [
        ExitCode::Ok,
        ExitCode::PortAlreadyOpen,
        ExitCode::UnableToOpenPort,
        ExitCode::SetPort,
        ExitCode::BoardWrite,
        ExitCode::IncommingMsg,
        ExitCode::InitialMsg,
        ExitCode::BoardNotReady,
        ExitCode::StreamAlreadyRun,
        ExitCode::InvalidBufferSize,
        ExitCode::StreamThread,
        ExitCode::StreamThreadIsNotRunning,
        ExitCode::EmptyBuffer,
        ExitCode::InvalidArguments,
        ExitCode::UnsupportedBoard,
        ExitCode::BoardNotCreated,
        ExitCode::AnotherBoardIsCreated,
        ExitCode::GeneralError,
        ExitCode::SyncTimeout,
        ExitCode::JsonNotFound,
        ExitCode::NoSuchDataInJson,
    ];

    /// The numeric value BrainFlow returns.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// BrainFlow's name for the code (as in its Python `BrainFlowExitCodes`).
    pub fn name(self) -> &'static str {
        match self {
            ExitCode::Ok => "STATUS_OK",
            ExitCode::PortAlreadyOpen => "PORT_ALREADY_OPEN_ERROR",
            ExitCode::UnableToOpenPort => "UNABLE_TO_OPEN_PORT_ERROR",
            ExitCode::SetPort => "SER_PORT_ERROR",
            ExitCode::BoardWrite => "BOARD_WRITE_ERROR",
            ExitCode::IncommingMsg => "INCOMMING_MSG_ERROR",
            ExitCode::InitialMsg => "INITIAL_MSG_ERROR",
            ExitCode::BoardNotReady => "BOARD_NOT_READY_ERROR",
            ExitCode::StreamAlreadyRun => "STREAM_ALREADY_RUN_ERROR",
            ExitCode::InvalidBufferSize => "INVALID_BUFFER_SIZE_ERROR",
            ExitCode::StreamThread => "STREAM_THREAD_ERROR",
            ExitCode::StreamThreadIsNotRunning => "STREAM_THREAD_IS_NOT_RUNNING",
            ExitCode::EmptyBuffer => "EMPTY_BUFFER_ERROR",
            ExitCode::InvalidArguments => "INVALID_ARGUMENTS_ERROR",
            ExitCode::UnsupportedBoard => "UNSUPPORTED_BOARD_ERROR",
            ExitCode::BoardNotCreated => "BOARD_NOT_CREATED_ERROR",
            ExitCode::AnotherBoardIsCreated => "ANOTHER_BOARD_IS_CREATED_ERROR",
            ExitCode::GeneralError => "GENERAL_ERROR",
            ExitCode::SyncTimeout => "SYNC_TIMEOUT_ERROR",
            ExitCode::JsonNotFound => "JSON_NOT_FOUND_ERROR",
            ExitCode::NoSuchDataInJson => "NO_SUCH_DATA_IN_JSON_ERROR",
        }
    }
}

impl TryFrom<i32> for ExitCode {
    type Error = BoardError;

    fn try_from(v: i32) -> Result<Self> {
        ExitCode::ALL
            .iter()
            .copied()
            .find(|c| c.code() == v)
            .ok_or_else(|| {
                BoardError::new(ExitCode::InvalidArguments, format!("unknown exit code {v}"))
            })
    }
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error carrying a BrainFlow exit code and a human-readable message.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("{message} ({code})")]
pub struct BoardError {
    /// The BrainFlow exit code.
    pub code: ExitCode,
    /// What went wrong, for humans.
    pub message: String,
}

impl BoardError {
    /// Builds an error from a code and a message.
    pub fn new(code: ExitCode, message: impl Into<String>) -> Self {
        BoardError {
            code,
            message: message.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, BoardError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_codes() {
        let e = BoardError::new(ExitCode::BoardNotReady, "no banner");
        assert_eq!(e.to_string(), "no banner (BOARD_NOT_READY_ERROR)");
        for (i, c) in ExitCode::ALL.iter().enumerate() {
            assert_eq!(c.code(), i as i32);
            assert_eq!(ExitCode::try_from(i as i32).unwrap(), *c);
        }
        assert!(ExitCode::try_from(21).is_err());
    }
}

//! The host side of a trial: whatever drives the board under test. The Rust boards
//! and BrainFlow's own drivers (through Python) answer the same calls, so the same
//! steps and checks apply to both.

use boardloop_boards::{Board, Data, ExitCode, Preset, StreamStats};
use std::fmt;

/// A failed call, with BrainFlow's exit code.
#[derive(Debug, Clone, PartialEq)]
pub struct HostError {
    /// BrainFlow exit code.
    pub code: i32,
    /// What the board said.
    pub message: String,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} = {})",
            self.message,
            code_name(self.code),
            self.code
        )
    }
}

/// Result of a host call.
pub type HostResult<T> = Result<T, HostError>;

/// BrainFlow's name for an exit code (the boards crate's table).
pub fn code_name(code: i32) -> &'static str {
    ExitCode::try_from(code).map_or("UNKNOWN_CODE", |c| c.name())
}

/// Parses an exit code given by name (`BOARD_NOT_READY_ERROR`, case-insensitive,
/// `_ERROR` optional) or number.
pub fn parse_code(text: &str) -> Option<i32> {
    if let Ok(n) = text.trim().parse::<i32>() {
        return Some(n);
    }
    let want = text.trim().to_ascii_uppercase();
    ExitCode::ALL
        .iter()
        .find(|c| c.name() == want || c.name().strip_suffix("_ERROR") == Some(want.as_str()))
        .map(|c| *c as i32)
}

/// The calls a trial makes.
pub trait Host {
    /// `prepare_session`.
    fn prepare(&mut self) -> HostResult<()>;
    /// `start_stream`.
    fn start(&mut self, buffer_size: usize) -> HostResult<()>;
    /// `stop_stream`.
    fn stop(&mut self) -> HostResult<()>;
    /// `release_session`.
    fn release(&mut self) -> HostResult<()>;
    /// `config_board`.
    fn config(&mut self, command: &str) -> HostResult<String>;
    /// `insert_marker` on the default preset.
    fn marker(&mut self, value: f64) -> HostResult<()>;
    /// `get_board_data_count` of `preset`.
    fn count_of(&mut self, preset: Preset) -> HostResult<usize>;
    /// `get_board_data` of `preset` (everything it buffered).
    fn data_of(&mut self, preset: Preset) -> HostResult<Data>;
    /// `get_board_data_count` of the default preset (BrainFlow's default
    /// argument).
    fn count(&mut self) -> HostResult<usize> {
        self.count_of(Preset::Default)
    }
    /// `get_board_data` of the default preset (everything it buffered).
    fn data(&mut self) -> HostResult<Data> {
        self.data_of(Preset::Default)
    }
    /// Driver statistics, where the driver reports them.
    fn stats(&mut self) -> Option<StreamStats>;
}

/// A Rust board.
pub struct RustHost(pub Box<dyn Board>);

fn err(e: boardloop_boards::BoardError) -> HostError {
    HostError {
        code: e.code as i32,
        message: e.message,
    }
}

impl Host for RustHost {
    fn prepare(&mut self) -> HostResult<()> {
        self.0.prepare_session().map_err(err)
    }
    fn start(&mut self, buffer_size: usize) -> HostResult<()> {
        self.0.start_stream(buffer_size).map_err(err)
    }
    fn stop(&mut self) -> HostResult<()> {
        self.0.stop_stream().map_err(err)
    }
    fn release(&mut self) -> HostResult<()> {
        self.0.release_session().map_err(err)
    }
    fn config(&mut self, command: &str) -> HostResult<String> {
        self.0.config_board(command).map_err(err)
    }
    fn marker(&mut self, value: f64) -> HostResult<()> {
        self.0.insert_marker(value, Preset::Default).map_err(err)
    }
    fn count_of(&mut self, preset: Preset) -> HostResult<usize> {
        self.0.get_board_data_count(preset).map_err(err)
    }
    fn data_of(&mut self, preset: Preset) -> HostResult<Data> {
        self.0.get_board_data(None, preset).map_err(err)
    }
    fn stats(&mut self) -> Option<StreamStats> {
        Some(self.0.stream_stats())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_by_name_and_number() {
        assert_eq!(parse_code("BOARD_NOT_READY_ERROR"), Some(7));
        assert_eq!(parse_code("board_not_ready"), Some(7));
        assert_eq!(parse_code("13"), Some(13));
        assert_eq!(parse_code("NO_SUCH_CODE"), None);
        assert_eq!(code_name(3), "SER_PORT_ERROR");
        assert_eq!(code_name(99), "UNKNOWN_CODE");
    }
}

//! BrainFlow's JSON input parameters (`BrainFlowInputParams`).

use serde::{Deserialize, Serialize};

use crate::error::{BoardError, ExitCode, Result};

/// BrainFlow's `NO_BOARD` id, the default `master_board`.
pub const NO_BOARD: i32 = -100;

fn no_board() -> i32 {
    NO_BOARD
}

/// The parameters BrainFlow passes as JSON to every board call. Unknown keys
/// are ignored (newer BrainFlow versions add keys); missing keys take
/// BrainFlow's defaults.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(default)]
pub struct InputParams {
    /// Serial device path (e.g. `/dev/ttyUSB0`).
    pub serial_port: String,
    /// Bluetooth MAC address.
    pub mac_address: String,
    /// IP address.
    pub ip_address: String,
    /// IP address for the auxiliary preset.
    pub ip_address_aux: String,
    /// IP address for the ancillary preset.
    pub ip_address_anc: String,
    /// Free-form board-specific options.
    pub other_info: String,
    /// Device serial number or name.
    pub serial_number: String,
    /// File path (playback boards).
    pub file: String,
    /// File path for the auxiliary preset.
    pub file_aux: String,
    /// File path for the ancillary preset.
    pub file_anc: String,
    /// IP port.
    pub ip_port: i32,
    /// IP port for the auxiliary preset.
    pub ip_port_aux: i32,
    /// IP port for the ancillary preset.
    pub ip_port_anc: i32,
    /// BrainFlow's `IpProtocolTypes` value.
    pub ip_protocol: i32,
    /// Timeout in seconds; 0 means the board's default.
    pub timeout: i32,
    /// Master board id for streaming/playback boards; `NO_BOARD` (-100) by default.
    #[serde(default = "no_board")]
    pub master_board: i32,
}

impl Default for InputParams {
    fn default() -> Self {
        InputParams {
            serial_port: String::new(),
            mac_address: String::new(),
            ip_address: String::new(),
            ip_address_aux: String::new(),
            ip_address_anc: String::new(),
            other_info: String::new(),
            serial_number: String::new(),
            file: String::new(),
            file_aux: String::new(),
            file_anc: String::new(),
            ip_port: 0,
            ip_port_aux: 0,
            ip_port_anc: 0,
            ip_protocol: 0,
            timeout: 0,
            master_board: NO_BOARD,
        }
    }
}

impl InputParams {
    /// Parameters with only the serial port set.
    pub fn with_serial_port(port: impl Into<String>) -> Self {
        InputParams {
            serial_port: port.into(),
            ..Default::default()
        }
    }

    /// Parses BrainFlow's JSON; malformed JSON or wrong value types give
    /// `InvalidArguments`.
    pub fn from_json(s: &str) -> Result<Self> {
        let invalid = |e: String| {
            BoardError::new(
                ExitCode::InvalidArguments,
                format!("invalid input params JSON: {e}"),
            )
        };
        let v: serde_json::Value = serde_json::from_str(s).map_err(|e| invalid(e.to_string()))?;
        // serde would also accept a JSON array as a struct; BrainFlow wants an object.
        if !v.is_object() {
            return Err(invalid("expected a JSON object".into()));
        }
        serde_json::from_value(v).map_err(|e| invalid(e.to_string()))
    }

    /// Serialises to BrainFlow's JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_partial() {
        let p = InputParams::from_json("{}").unwrap();
        assert_eq!(p, InputParams::default());
        assert_eq!(p.master_board, -100);
        let p = InputParams::from_json(
            r#"{"serial_port":"/dev/ttyUSB0","timeout":3,"unknown_key":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(p.serial_port, "/dev/ttyUSB0");
        assert_eq!(p.timeout, 3);
        assert_eq!(p.master_board, -100);
    }

    #[test]
    fn round_trip_python_style() {
        // What brainflow's Python BrainFlowInputParams.to_json() produces.
        let js = r#"{"serial_port": "COM3", "mac_address": "", "ip_address": "", "ip_address_aux": "", "ip_address_anc": "", "ip_port": 0, "ip_port_aux": 0, "ip_port_anc": 0, "ip_protocol": 0, "other_info": "", "timeout": 0, "serial_number": "", "file": "", "file_aux": "", "file_anc": "", "master_board": -100}"#;
        let p = InputParams::from_json(js).unwrap();
        assert_eq!(p.serial_port, "COM3");
        assert_eq!(InputParams::from_json(&p.to_json()).unwrap(), p);
    }

    #[test]
    fn wrong_types_are_invalid_arguments() {
        for bad in [
            r#"{"timeout":"5"}"#,
            r#"{"serial_port":5}"#,
            "not json",
            "[]",
        ] {
            assert_eq!(
                InputParams::from_json(bad).unwrap_err().code,
                ExitCode::InvalidArguments
            );
        }
    }
}

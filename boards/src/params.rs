//! BrainFlow's JSON input parameters (`BrainFlowInputParams`).

use serde::{Deserialize, Serialize};

use crate::error::{BoardError, ExitCode, Result};
use serde_json::{Map, Value};

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

    /// Parses the JSON BrainFlow's bindings pass with every session call, as
    /// its C API reads it. pip brainflow 5.23's `libBoardController` returns
    /// `GENERAL_ERROR` (17) for text that is not JSON, for a JSON value that
    /// is not an object, for an object missing any of the 16 keys and for a
    /// value of the wrong type; it ignores extra keys and truncates a float
    /// given for an int (checked with `ci/probe_brainflow_codes.py`). A
    /// drop-in library must accept and reject the same inputs.
    pub fn from_json(json: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(json).map_err(|e| general(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| general("expected a JSON object".into()))?;
        Ok(InputParams {
            serial_port: string(obj, "serial_port")?,
            mac_address: string(obj, "mac_address")?,
            ip_address: string(obj, "ip_address")?,
            ip_address_aux: string(obj, "ip_address_aux")?,
            ip_address_anc: string(obj, "ip_address_anc")?,
            other_info: string(obj, "other_info")?,
            serial_number: string(obj, "serial_number")?,
            file: string(obj, "file")?,
            file_aux: string(obj, "file_aux")?,
            file_anc: string(obj, "file_anc")?,
            ip_port: int(obj, "ip_port")?,
            ip_port_aux: int(obj, "ip_port_aux")?,
            ip_port_anc: int(obj, "ip_port_anc")?,
            ip_protocol: int(obj, "ip_protocol")?,
            timeout: int(obj, "timeout")?,
            master_board: int(obj, "master_board")?,
        })
    }

    /// Serialises to BrainFlow's JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn general(msg: String) -> BoardError {
    BoardError::new(
        ExitCode::GeneralError,
        format!("unable to parse input params: {msg}"),
    )
}

fn string(obj: &Map<String, Value>, key: &str) -> Result<String> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(general(format!("{key} must be a string, got {other}"))),
        None => Err(general(format!("missing key {key}"))),
    }
}

fn int(obj: &Map<String, Value>, key: &str) -> Result<i32> {
    let v = obj
        .get(key)
        .ok_or_else(|| general(format!("missing key {key}")))?;
    if let Some(i) = v.as_i64() {
        return i32::try_from(i).map_err(|_| general(format!("{key} out of range: {i}")));
    }
    // nlohmann::json converts a float to int by truncation; so do we.
    match v.as_f64() {
        Some(f) if f.is_finite() && f >= i32::MIN as f64 && f <= i32::MAX as f64 => Ok(f as i32),
        _ => Err(general(format!("{key} must be an integer, got {v}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_python_json_parses_and_incomplete_does_not() {
        let full = InputParams::with_serial_port("/dev/x").to_json();
        let p = InputParams::from_json(&full).unwrap();
        assert_eq!(p.serial_port, "/dev/x");
        assert_eq!(p.master_board, -100);
        assert_eq!(InputParams::from_json(&p.to_json()).unwrap(), p);
        for bad in ["{}", "[]", "nope", r#"{"serial_port": ""}"#] {
            assert_eq!(
                InputParams::from_json(bad).unwrap_err().code,
                ExitCode::GeneralError
            );
        }
        let float = full.replace("\"timeout\":0", "\"timeout\":3.7");
        assert_eq!(InputParams::from_json(&float).unwrap().timeout, 3);
        let wrong = full.replace("\"timeout\":0", "\"timeout\":\"3\"");
        assert!(InputParams::from_json(&wrong).is_err());
        let extra = full.replace("{", "{\"unknown_key\":[1,2],");
        assert_eq!(InputParams::from_json(&extra).unwrap(), p);
    }

    #[test]
    fn python_style_spacing() {
        // What brainflow's Python BrainFlowInputParams.to_json() produces.
        let js = r#"{"serial_port": "COM3", "mac_address": "", "ip_address": "", "ip_address_aux": "", "ip_address_anc": "", "ip_port": 0, "ip_port_aux": 0, "ip_port_anc": 0, "ip_protocol": 0, "other_info": "", "timeout": 0, "serial_number": "", "file": "", "file_aux": "", "file_anc": "", "master_board": -100}"#;
        let p = InputParams::from_json(js).unwrap();
        assert_eq!(p.serial_port, "COM3");
    }
}

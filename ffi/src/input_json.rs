//! BrainFlow's `json_brainflow_input_params` as its C API reads it.
//!
//! Stricter than [`InputParams::from_json`] on purpose: pip brainflow 5.23's
//! `libBoardController` returns `GENERAL_ERROR` (17) for text that is not JSON,
//! for a JSON value that is not an object, for an object missing any of the 16
//! keys and for a value of the wrong type; it ignores extra keys and truncates
//! a float given for an int (checked with `ci/probe_brainflow_codes.py`). A
//! drop-in library must accept and reject the same inputs.

use boardloop_boards::params::InputParams;
use boardloop_boards::{BoardError, ExitCode};
use serde_json::{Map, Value};

fn general(msg: String) -> BoardError {
    BoardError::new(
        ExitCode::GeneralError,
        format!("unable to parse input params: {msg}"),
    )
}

fn string(obj: &Map<String, Value>, key: &str) -> Result<String, BoardError> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(general(format!("{key} must be a string, got {other}"))),
        None => Err(general(format!("missing key {key}"))),
    }
}

fn int(obj: &Map<String, Value>, key: &str) -> Result<i32, BoardError> {
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

/// Parses the JSON a BrainFlow binding passes with every session call.
pub fn parse_input_params(json: &str) -> Result<InputParams, BoardError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_python_json_parses_and_incomplete_does_not() {
        let full = InputParams::with_serial_port("/dev/x").to_json();
        let p = parse_input_params(&full).unwrap();
        assert_eq!(p.serial_port, "/dev/x");
        assert_eq!(p.master_board, -100);
        for bad in ["{}", "[]", "nope", r#"{"serial_port": ""}"#] {
            assert_eq!(
                parse_input_params(bad).unwrap_err().code,
                ExitCode::GeneralError
            );
        }
        let float = full.replace("\"timeout\":0", "\"timeout\":3.7");
        assert_eq!(parse_input_params(&float).unwrap().timeout, 3);
        let wrong = full.replace("\"timeout\":0", "\"timeout\":\"3\"");
        assert!(parse_input_params(&wrong).is_err());
    }
}

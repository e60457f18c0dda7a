//! BrainFlow's own drivers as a host: `ci/brainflow_host.py` runs BoardShim from the
//! `brainflow` Python package and answers the harness's calls as JSON lines.

use crate::host::{Host, HostError, HostResult};
use boardloop_boards::{Data, Preset, StreamStats};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The Python interpreter to use: `$BOARDLOOP_PYTHON`, else the project venv made by
/// `ci/setup.sh` (`.venv/bin/python`), if it can import `brainflow`.
pub fn find_python() -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match std::env::var_os("BOARDLOOP_PYTHON") {
        Some(p) => vec![PathBuf::from(p)],
        None => vec![crate::catalog::repo_root().join(".venv/bin/python")],
    };
    for py in candidates {
        if let Some(found) = venv_has_brainflow(&py) {
            if found {
                return Ok(py);
            }
            continue;
        }
        let ok = Command::new(&py)
            .args([
                "-c",
                "import importlib.util as u, sys; sys.exit(u.find_spec('brainflow') is None)",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(py);
        }
    }
    Err(
        "BrainFlow's Python package is not installed: run `bash ci/setup.sh` (makes .venv \
         with `pip install brainflow`) or set BOARDLOOP_PYTHON"
            .into(),
    )
}

/// Whether the venv of interpreter `py` (`<venv>/bin/python`, with
/// `<venv>/pyvenv.cfg`) has BrainFlow in its `site-packages`; `None` when
/// `py` is not in a venv. Looking costs a few stats where starting the
/// interpreter costs seconds in the lab VM's emulated CPU, in every trial
/// process that plans a BrainFlow trial.
fn venv_has_brainflow(py: &Path) -> Option<bool> {
    let venv = py.parent()?.parent()?;
    if !venv.join("pyvenv.cfg").is_file() {
        return None;
    }
    let lib = std::fs::read_dir(venv.join("lib")).ok()?;
    Some(lib.flatten().any(|d| {
        d.file_name().to_string_lossy().starts_with("python")
            && d.path()
                .join("site-packages/brainflow/__init__.py")
                .is_file()
    }))
}

/// The Python of the drop-in venv made by `ci/make-dropin-venv.sh` (BrainFlow's
/// binding with its `libBoardController.so` replaced by ours):
/// `$BOARDLOOP_DROPIN_PYTHON`, else `.venv-dropin/bin/python`.
pub fn find_dropin_python() -> Result<PathBuf, String> {
    let py = std::env::var_os("BOARDLOOP_DROPIN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::catalog::repo_root().join(".venv-dropin/bin/python"));
    if py.exists() {
        Ok(py)
    } else {
        Err(format!(
            "no drop-in venv at {}: run `bash ci/make-dropin-venv.sh` (builds our \
             libBoardController.so and puts it in a throwaway BrainFlow venv)",
            py.display()
        ))
    }
}

/// The script that drives BoardShim.
pub fn host_script() -> PathBuf {
    crate::catalog::repo_root().join("ci/brainflow_host.py")
}

/// One `ci/brainflow_host.py` process.
struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_process(python: &Path, ble_adapter: Option<&str>) -> std::io::Result<Process> {
    let mut cmd = Command::new(python);
    if let Some(a) = ble_adapter {
        cmd.env(boardloop_bluez::ADAPTER_ENV, a);
    }
    let mut child = cmd
        .arg(host_script())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdin = child.stdin.take().expect("piped");
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    Ok(Process {
        child,
        stdin,
        stdout,
    })
}

/// A BrainFlow session in its own host process.
pub struct PythonHost {
    proc: Process,
}

/// How BoardShim finds the device: the `BrainFlowInputParams` field set.
#[derive(Debug, Clone, Copy)]
pub enum Connect<'a> {
    /// `serial_port` (the serial boards).
    Serial(&'a str),
    /// `mac_address` (the native BLE boards), from the host adapter named
    /// (given to our library as `BOARDLOOP_BLE_ADAPTER`; BrainFlow's own
    /// SimpleBLE takes the first adapter and ignores it).
    Mac {
        /// The device's address.
        address: &'a str,
        /// The adapter to connect from (`hci0`).
        adapter: &'a str,
    },
}

impl PythonHost {
    /// Starts a host process of `python` and opens BoardShim for `board_id`
    /// in it, finding the device by `connect`. One process per session:
    /// SimpleBLE keeps the peripherals it has seen for the life of the
    /// process and does not report them to a second scan.
    pub fn spawn(
        python: &Path,
        board_id: i32,
        connect: Connect,
        timeout: i32,
    ) -> std::io::Result<Self> {
        let adapter = match connect {
            Connect::Serial(_) => None,
            Connect::Mac { adapter, .. } => Some(adapter),
        };
        let mut host = PythonHost::start(python, adapter)?;
        host.open(board_id, connect, timeout, "")?;
        Ok(host)
    }

    /// Starts a host process of `python` (BLE from `ble_adapter`), which
    /// imports BrainFlow while the caller gets the device ready: the import
    /// takes 0.4 s here and tens of seconds in the lab VM's emulated CPU.
    pub fn start(python: &Path, ble_adapter: Option<&str>) -> std::io::Result<Self> {
        Ok(PythonHost {
            proc: start_process(python, ble_adapter)?,
        })
    }

    /// Opens BoardShim for `board_id` in a host from [`PythonHost::start`],
    /// finding the device by `connect`, with BrainFlow's `timeout` and
    /// `other_info` params.
    pub fn open(
        &mut self,
        board_id: i32,
        connect: Connect,
        timeout: i32,
        other_info: &str,
    ) -> std::io::Result<()> {
        let (key, value) = match connect {
            Connect::Serial(p) => ("serial_port", p),
            Connect::Mac { address, .. } => ("mac_address", address),
        };
        self.call(
            json!({"op": "open", "board_id": board_id, key: value, "timeout": timeout,
                         "other_info": other_info}),
        )
        .map(drop)
        .map_err(|e| std::io::Error::other(e.message))
    }

    fn call(&mut self, req: Value) -> HostResult<Value> {
        let io = |e: std::io::Error| HostError {
            code: 17,
            message: format!("BrainFlow host process: {e}"),
        };
        let p = &mut self.proc;
        writeln!(p.stdin, "{req}").map_err(io)?;
        p.stdin.flush().map_err(io)?;
        let mut line = String::new();
        p.stdout.read_line(&mut line).map_err(io)?;
        let v: Value = serde_json::from_str(&line).map_err(|e| HostError {
            code: 17,
            message: format!("BrainFlow host answered {line:?}: {e}"),
        })?;
        if v["ok"].as_bool() == Some(true) {
            Ok(v)
        } else {
            Err(HostError {
                code: v["code"].as_i64().unwrap_or(17) as i32,
                message: v["message"].as_str().unwrap_or("no message").to_string(),
            })
        }
    }
}

impl Host for PythonHost {
    fn prepare(&mut self) -> HostResult<()> {
        self.call(json!({"op": "prepare"})).map(drop)
    }
    fn start(&mut self, buffer_size: usize) -> HostResult<()> {
        self.call(json!({"op": "start", "buffer_size": buffer_size}))
            .map(drop)
    }
    fn stop(&mut self) -> HostResult<()> {
        self.call(json!({"op": "stop"})).map(drop)
    }
    fn release(&mut self) -> HostResult<()> {
        self.call(json!({"op": "release"})).map(drop)
    }
    fn config(&mut self, command: &str) -> HostResult<String> {
        let v = self.call(json!({"op": "config", "command": command}))?;
        Ok(v["reply"].as_str().unwrap_or_default().to_string())
    }
    fn marker(&mut self, value: f64) -> HostResult<()> {
        self.call(json!({"op": "marker", "value": value})).map(drop)
    }
    fn count_of(&mut self, preset: Preset) -> HostResult<usize> {
        let v = self.call(json!({"op": "count", "preset": preset as i32}))?;
        Ok(v["value"].as_u64().unwrap_or(0) as usize)
    }
    fn data_of(&mut self, preset: Preset) -> HostResult<Data> {
        let v = self.call(json!({"op": "data", "preset": preset as i32}))?;
        let values: Vec<f64> = v["values"]
            .as_array()
            .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
            .unwrap_or_default();
        Ok(Data {
            num_rows: v["num_rows"].as_u64().unwrap_or(0) as usize,
            num_samples: v["num_samples"].as_u64().unwrap_or(0) as usize,
            values,
        })
    }
    fn stats(&mut self) -> Option<StreamStats> {
        None
    }
}

impl PythonHost {
    /// `BoardShim.get_version()`: which libBoardController the binding loaded.
    pub fn version(&mut self) -> HostResult<String> {
        let v = self.call(json!({"op": "version"}))?;
        Ok(v["value"].as_str().unwrap_or_default().to_string())
    }
}

#[cfg(test)]
mod venv_tests {
    use super::venv_has_brainflow;

    /// A venv is recognised by its `pyvenv.cfg`; BrainFlow by its package
    /// in `lib/python*/site-packages`; anything else is left to the
    /// interpreter.
    #[test]
    fn venv_lookup_without_starting_python() {
        let root = std::env::temp_dir().join(format!("boardloop-venv-{}", std::process::id()));
        let py = root.join("bin/python");
        let pkg = root.join("lib/python3.11/site-packages");
        std::fs::create_dir_all(&pkg).unwrap();
        assert_eq!(venv_has_brainflow(&py), None, "no pyvenv.cfg: not a venv");
        std::fs::write(root.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        assert_eq!(venv_has_brainflow(&py), Some(false));
        std::fs::create_dir_all(pkg.join("brainflow")).unwrap();
        std::fs::write(pkg.join("brainflow/__init__.py"), "").unwrap();
        assert_eq!(venv_has_brainflow(&py), Some(true));
        std::fs::remove_dir_all(&root).unwrap();
    }
}

//! `cpp`: the built-in emulator read by the board's C++ implementation,
//! loaded as a plugin (`PluginBoard`), exactly as `emulated` runs the Rust
//! board: both implementations held to the same scenarios.

use super::{serial_emulator, Emulator, Session, TargetKind, TargetPlan};
use crate::binding::BoardBinding;
use crate::host::{Host, RustHost};
use crate::plan::{cpp_plugin, Planning};
use crate::run::Trial;
use boardloop_boards::{Board, InputParams, PluginBoard};
use boardloop_emulators::Scenario;
use std::path::PathBuf;

/// The built-in emulator, read by the board's C++ implementation loaded as a
/// plugin (`PluginBoard`), exactly as [`super::Emulated`] runs the Rust board.
#[derive(Debug, Clone, PartialEq)]
pub struct Cpp {
    /// The plugin library (`libboardloop_<board>_cpp.so`).
    pub plugin: PathBuf,
}

impl TargetKind for Cpp {
    fn name(&self) -> &'static str {
        "cpp"
    }

    fn open(
        &self,
        trial: &Trial,
        params: &InputParams,
        log: &mut Vec<String>,
    ) -> Result<Session, String> {
        let (emu, port, recorder) = serial_emulator(trial, log)?;
        let plugin = &self.plugin;
        let params = InputParams {
            serial_port: port.clone(),
            ..params.clone()
        };
        let host: Box<dyn Host> = match PluginBoard::load(plugin, &params) {
            Ok(b) if b.board_id() == trial.board.id => {
                log.push(format!(
                    "plugin {} ({})",
                    b.plugin().name(),
                    plugin.display()
                ));
                Box::new(RustHost(Box::new(b)))
            }
            Ok(b) => {
                return Err(format!(
                    "plugin {} implements {}, not {}",
                    plugin.display(),
                    b.board_id(),
                    trial.board.id
                ))
            }
            Err(e) => return Err(format!("cannot load the plugin: {e}")),
        };
        Ok(Session {
            host,
            emulator: Some(Emulator::Serial(emu)),
            guard: recorder.map(|r| Box::new(r) as _),
        })
    }
}

/// Serial scenarios of the boards whose registry declaration names a C++
/// plugin; ignored until `ci/build-plugins.sh` has built it.
pub(super) fn plan(_: &Planning, board: &BoardBinding, sc: &Scenario) -> Option<TargetPlan> {
    if sc.profile.ble.is_some() {
        return None;
    }
    let plugin = cpp_plugin(board.name)?;
    let ignored = (!plugin.is_file()).then(|| {
        format!(
            "C++ plugin {} is not built: run `bash ci/build-plugins.sh` \
             (CMake; output goes to $CARGO_TARGET_DIR/plugins)",
            plugin.display()
        )
    });
    Some(TargetPlan::new(Cpp { plugin }, ignored))
}

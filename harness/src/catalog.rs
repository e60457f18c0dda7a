//! Finding and loading every scenario and profile under `scenarios/`.

use boardloop_emulators::limits::MAX_FILE_BYTES;
use boardloop_emulators::load::read_limited;
use boardloop_emulators::{LoadError, Profile, Scenario, ScenarioLoader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The repository (no `harness/..` in the paths people read): the one cargo
/// or nextest names at run time, so a test binary from a nextest archive
/// (`--workspace-remap`) reads the runner's checkout; else the one this
/// harness was built from.
pub fn repo_root() -> &'static Path {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let built = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            // Only this harness's own manifest folder: `CARGO_MANIFEST_DIR`
            // of some other package (a `cargo run` elsewhere) is no repo of ours.
            .filter(|m| m.ends_with("harness") && m.join("../scenarios").is_dir())
            .unwrap_or_else(|| built.to_path_buf())
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| built.to_path_buf())
    })
}

/// `path` as a person reads it: relative to the current directory when it is
/// inside it, else as given.
pub fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// The scenarios folder: `$BOARDLOOP_SCENARIOS`, else `./scenarios` when it exists,
/// else the one in this source tree.
pub fn scenarios_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BOARDLOOP_SCENARIOS") {
        return PathBuf::from(d);
    }
    let local = PathBuf::from("scenarios");
    if local.join("devices").is_dir() {
        return local;
    }
    repo_root().join("scenarios")
}

/// Where failure artifacts go: `$CARGO_TARGET_DIR/boardloop` or `target/boardloop`
/// at the workspace root.
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("boardloop")
}

/// A scenario file and what came of loading it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The board folder it sits in.
    pub folder: String,
    /// File stem.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// The scenario, or why it could not be loaded.
    pub scenario: Result<Arc<Scenario>, LoadError>,
}

/// Every `scenarios/<board>/*.yaml`, sorted by board then name.
pub fn discover(root: &Path) -> Vec<Entry> {
    discover_where(root, &|_, _, _| true)
}

/// The scenarios of [`discover`] for which `keep(folder, stem, path)` holds;
/// the others are not read at all (nor their profiles, if no kept scenario
/// uses them). Loading everything costs 0.34 G instructions in a debug build
/// (callgrind: 55 % profiles, the rest scenarios), 20-35 s in the lab VM's
/// emulated CPU, paid by every trial process started there.
pub fn discover_where(root: &Path, keep: &dyn Fn(&str, &str, &Path) -> bool) -> Vec<Entry> {
    let devices = root.join("devices");
    let mut loader = ScenarioLoader::default();
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(root) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = dirs
        .filter_map(|d| d.ok().map(|d| d.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "devices" && n != "data"))
        .collect();
    dirs.sort();
    for dir in dirs {
        let folder = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if !keep(&folder, &name, &path) {
                continue;
            }
            let scenario = loader.load(&path, &devices).map(Arc::new);
            out.push(Entry {
                folder: folder.clone(),
                name,
                path,
                scenario,
            });
        }
    }
    out
}

/// Validates files given on the command line: profiles (under a `devices` folder
/// or with a `transport:` key) and scenarios. Returns one result per file.
pub fn check_files(files: &[PathBuf]) -> Vec<(PathBuf, Result<String, LoadError>)> {
    files
        .iter()
        .map(|f| {
            let is_profile = f
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|n| n == "devices")
                // Bounded, as the load itself is: the file may be a link to
                // `/dev/zero`.
                || read_limited(f, MAX_FILE_BYTES).is_ok_and(|t| {
                    String::from_utf8_lossy(&t)
                        .lines()
                        .any(|l| l.starts_with("transport:"))
                });
            let r = if is_profile {
                Profile::load(f).map(|p| {
                    format!(
                        "profile `{}`: {} commands, {} packet layout(s)",
                        p.decl.name,
                        p.commands.rules.len(),
                        p.streams.iter().map(|s| s.packets.len()).sum::<usize>()
                    )
                })
            } else {
                let devices = f
                    .parent()
                    .and_then(|p| p.parent())
                    .map(|p| p.join("devices"))
                    .unwrap_or_else(|| scenarios_dir().join("devices"));
                let devices = if devices.is_dir() {
                    devices
                } else {
                    scenarios_dir().join("devices")
                };
                Scenario::load(f, &devices).map(|s| {
                    format!(
                        "scenario `{}` on `{}` for {}: {} steps, {} faults",
                        s.name,
                        s.decl.device,
                        s.decl.boards.join(", "),
                        s.decl.steps.len(),
                        s.decl.faults.len()
                    )
                })
            };
            (f.clone(), r)
        })
        .collect()
}

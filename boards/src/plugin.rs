//! Boards written in C or C++, loaded from a shared library through the plain
//! C plugin ABI of `ffi/include/boardloop/board_plugin.h` (version 1).
//!
//! [`PluginBoard`] implements [`Board`] over the plugin's function table. Every
//! value coming back from C is checked (null tables, entries, sessions and
//! strings, negative counts, unknown exit codes) and turned into a
//! [`BoardError`]; nothing here panics on a misbehaving plugin.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::board::{Board, StreamStats};
use crate::codec::DecodeStats;
use crate::data::Data;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::params::InputParams;
use crate::streamer::Streamer;

/// The ABI version this host implements (`BOARDLOOP_PLUGIN_ABI_VERSION`).
pub const ABI_VERSION: u32 = 1;
/// The symbol every plugin exports (`BOARDLOOP_PLUGIN_ENTRY`).
pub const ENTRY_SYMBOL: &str = "boardloop_plugin_v1";
/// Largest reply accepted from `config_board`.
const MAX_REPLY: usize = 64 * 1024;
/// Largest statistics JSON accepted from `get_stats`.
const MAX_STATS: usize = 16 * 1024;

/// `boardloop_board_plugin`, field for field (see the header).
#[repr(C)]
#[allow(missing_docs)]
pub struct PluginTable {
    pub abi_version: u32,
    pub struct_size: u32,
    pub name: *const c_char,
    pub board_id: i32,
    pub num_rows: i32,
    pub create: Option<unsafe extern "C" fn(*const c_char, *mut i32) -> *mut c_void>,
    pub destroy: Option<unsafe extern "C" fn(*mut c_void)>,
    pub prepare_session: Option<unsafe extern "C" fn(*mut c_void) -> i32>,
    pub start_stream: Option<unsafe extern "C" fn(*mut c_void, i32) -> i32>,
    pub stop_stream: Option<unsafe extern "C" fn(*mut c_void) -> i32>,
    pub release_session: Option<unsafe extern "C" fn(*mut c_void) -> i32>,
    pub config_board:
        Option<unsafe extern "C" fn(*mut c_void, *const c_char, *mut c_char, *mut i32, i32) -> i32>,
    pub insert_marker: Option<unsafe extern "C" fn(*mut c_void, f64) -> i32>,
    pub get_board_data_count: Option<unsafe extern "C" fn(*mut c_void, *mut i32) -> i32>,
    pub get_board_data: Option<unsafe extern "C" fn(*mut c_void, i32, *mut f64) -> i32>,
    pub get_stats: Option<unsafe extern "C" fn(*mut c_void, *mut c_char, *mut i32, i32) -> i32>,
    pub last_error: Option<unsafe extern "C" fn(*mut c_void) -> *const c_char>,
}

type EntryFn = unsafe extern "C" fn() -> *const PluginTable;

/// The entries a session needs, checked non-null once at load.
#[derive(Clone, Copy)]
struct Entries {
    create: unsafe extern "C" fn(*const c_char, *mut i32) -> *mut c_void,
    destroy: unsafe extern "C" fn(*mut c_void),
    prepare_session: unsafe extern "C" fn(*mut c_void) -> i32,
    start_stream: unsafe extern "C" fn(*mut c_void, i32) -> i32,
    stop_stream: unsafe extern "C" fn(*mut c_void) -> i32,
    release_session: unsafe extern "C" fn(*mut c_void) -> i32,
    config_board:
        unsafe extern "C" fn(*mut c_void, *const c_char, *mut c_char, *mut i32, i32) -> i32,
    insert_marker: unsafe extern "C" fn(*mut c_void, f64) -> i32,
    get_board_data_count: unsafe extern "C" fn(*mut c_void, *mut i32) -> i32,
    get_board_data: unsafe extern "C" fn(*mut c_void, i32, *mut f64) -> i32,
    get_stats: unsafe extern "C" fn(*mut c_void, *mut c_char, *mut i32, i32) -> i32,
    last_error: unsafe extern "C" fn(*mut c_void) -> *const c_char,
}

/// A loaded plugin library and its validated table.
pub struct Plugin {
    entries: Entries,
    name: String,
    board_id: BoardId,
    num_rows: usize,
    path: PathBuf,
    // Declared last: dropped after everything that points into it.
    _lib: libloading::Library,
}

fn load_err(path: &Path, why: impl std::fmt::Display) -> BoardError {
    BoardError::new(
        ExitCode::GeneralError,
        format!("board plugin {}: {why}", path.display()),
    )
}

impl Plugin {
    /// Loads `path`, calls its `boardloop_plugin_v1` and validates the table:
    /// ABI version, struct size, every entry present, a known board id and a
    /// positive row count. Failures are `GeneralError` naming the file.
    pub fn load(path: &Path) -> Result<Plugin> {
        // SAFETY: loading runs the library's initialisers; the caller chose
        // to trust this file as a board plugin.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| load_err(path, e))?;
        // SAFETY: the symbol's type is fixed by the ABI header.
        let entry: EntryFn = unsafe {
            *lib.get::<EntryFn>(ENTRY_SYMBOL.as_bytes())
                .map_err(|e| load_err(path, format!("no `{ENTRY_SYMBOL}` symbol ({e})")))?
        };
        // SAFETY: calling the plugin's entry point as the ABI defines it.
        let table = unsafe { entry() };
        if table.is_null() {
            return Err(load_err(path, format!("`{ENTRY_SYMBOL}` returned NULL")));
        }
        // The two leading u32s exist in every version: read them before
        // trusting the rest of the layout.
        // SAFETY: non-null, and every version starts with these two fields.
        let (version, size) = unsafe { ((*table).abi_version, (*table).struct_size) };
        if version != ABI_VERSION {
            return Err(load_err(
                path,
                format!("ABI version {version}, this host speaks {ABI_VERSION}"),
            ));
        }
        let want = std::mem::size_of::<PluginTable>();
        if (size as usize) < want {
            return Err(load_err(
                path,
                format!("table is {size} bytes, ABI v{ABI_VERSION} needs {want}"),
            ));
        }
        // SAFETY: version and size say the table has this layout; the plugin
        // keeps it alive while loaded.
        let t = unsafe { &*table };
        let missing = |what: &str| load_err(path, format!("entry `{what}` is NULL"));
        let entries = Entries {
            create: t.create.ok_or_else(|| missing("create"))?,
            destroy: t.destroy.ok_or_else(|| missing("destroy"))?,
            prepare_session: t
                .prepare_session
                .ok_or_else(|| missing("prepare_session"))?,
            start_stream: t.start_stream.ok_or_else(|| missing("start_stream"))?,
            stop_stream: t.stop_stream.ok_or_else(|| missing("stop_stream"))?,
            release_session: t
                .release_session
                .ok_or_else(|| missing("release_session"))?,
            config_board: t.config_board.ok_or_else(|| missing("config_board"))?,
            insert_marker: t.insert_marker.ok_or_else(|| missing("insert_marker"))?,
            get_board_data_count: t
                .get_board_data_count
                .ok_or_else(|| missing("get_board_data_count"))?,
            get_board_data: t.get_board_data.ok_or_else(|| missing("get_board_data"))?,
            get_stats: t.get_stats.ok_or_else(|| missing("get_stats"))?,
            last_error: t.last_error.ok_or_else(|| missing("last_error"))?,
        };
        // SAFETY: a non-null name is a NUL-terminated static string per the ABI.
        let name = unsafe { c_string(t.name) }.unwrap_or_else(|| "<unnamed>".into());
        let board_id = BoardId::try_from(t.board_id)
            .map_err(|_| load_err(path, format!("unknown board id {}", t.board_id)))?;
        let num_rows = usize::try_from(t.num_rows)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| load_err(path, format!("bad num_rows {}", t.num_rows)))?;
        Ok(Plugin {
            entries,
            name,
            board_id,
            num_rows,
            path: path.to_path_buf(),
            _lib: lib,
        })
    }

    /// The implementation's name as the plugin gives it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The board it implements.
    pub fn board_id(&self) -> BoardId {
        self.board_id
    }

    /// Rows per sample.
    pub fn num_rows(&self) -> usize {
        self.num_rows
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Copies a NUL-terminated C string; `None` for NULL.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string.
unsafe fn c_string(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
}

/// The plugin's statistics JSON (every field optional).
#[derive(Deserialize, Default)]
#[serde(default)]
struct StatsJson {
    packets: u64,
    rows: u64,
    lost_packets: u64,
    garbage_bytes: u64,
    bad_end_bytes: u64,
    resyncs: u64,
    unpaired: u64,
    bytes_read: u64,
    link_error: Option<String>,
}

/// A session of a plugin board.
pub struct PluginBoard {
    plugin: std::sync::Arc<Plugin>,
    session: *mut c_void,
    prepared: bool,
    /// Set by a successful `start_stream`, cleared by `stop_stream` and
    /// `release_session` (the ABI has no call that asks the plugin).
    streaming: bool,
}

// SAFETY: the ABI requires a session to accept calls from any one thread at a
// time; `Board: Send` moves the session between threads, never shares it.
unsafe impl Send for PluginBoard {}

impl PluginBoard {
    /// Loads `path` and creates a session for `params` (BrainFlow's input
    /// params, passed as JSON).
    pub fn load(path: &Path, params: &InputParams) -> Result<PluginBoard> {
        Self::create(std::sync::Arc::new(Plugin::load(path)?), params)
    }

    /// Creates a session of an already loaded plugin.
    pub fn create(plugin: std::sync::Arc<Plugin>, params: &InputParams) -> Result<PluginBoard> {
        let json = serde_json::to_string(params).map_err(|e| {
            BoardError::new(ExitCode::InvalidArguments, format!("params to JSON: {e}"))
        })?;
        let json = CString::new(json).map_err(|_| {
            BoardError::new(ExitCode::InvalidArguments, "params contain a NUL byte")
        })?;
        let mut code: i32 = ExitCode::GeneralError.code();
        // SAFETY: valid NUL-terminated JSON and a valid out pointer.
        let session = unsafe { (plugin.entries.create)(json.as_ptr(), &mut code) };
        if session.is_null() {
            let code = ExitCode::try_from(code)
                .ok()
                .filter(|c| *c != ExitCode::Ok)
                .unwrap_or(ExitCode::GeneralError);
            return Err(BoardError::new(
                code,
                format!("plugin {} could not create a session", plugin.name),
            ));
        }
        Ok(PluginBoard {
            plugin,
            session,
            prepared: false,
            streaming: false,
        })
    }

    /// The loaded plugin.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// Turns an exit code into a result, with the plugin's message.
    fn check(&self, what: &str, code: i32) -> Result<()> {
        if code == 0 {
            return Ok(());
        }
        // SAFETY: the session is live; the message is NUL-terminated or NULL.
        let msg = unsafe { c_string((self.plugin.entries.last_error)(self.session)) }
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| format!("{what} failed"));
        match ExitCode::try_from(code) {
            Ok(c) => Err(BoardError::new(c, msg)),
            Err(_) => Err(BoardError::new(
                ExitCode::GeneralError,
                format!(
                    "{what}: plugin {} returned unknown exit code {code}: {msg}",
                    self.plugin.name
                ),
            )),
        }
    }

    fn check_preset(&self, preset: Preset) -> Result<()> {
        if preset == Preset::Default {
            Ok(())
        } else {
            Err(BoardError::new(
                ExitCode::InvalidArguments,
                format!("plugin boards have only the default preset, not {preset:?}"),
            ))
        }
    }

    fn count(&self) -> Result<usize> {
        let mut n: i32 = -1;
        // SAFETY: live session, valid out pointer.
        let code = unsafe { (self.plugin.entries.get_board_data_count)(self.session, &mut n) };
        self.check("get_board_data_count", code)?;
        usize::try_from(n).map_err(|_| {
            BoardError::new(
                ExitCode::GeneralError,
                format!("plugin {} reported {n} samples", self.plugin.name),
            )
        })
    }

    fn pop(&mut self, n: usize) -> Result<Data> {
        let rows = self.plugin.num_rows;
        if n == 0 {
            return Ok(Data {
                num_rows: rows,
                num_samples: 0,
                values: Vec::new(),
            });
        }
        let count = i32::try_from(n)
            .map_err(|_| BoardError::new(ExitCode::InvalidArguments, "too many samples"))?;
        let mut values = vec![0.0f64; rows * n];
        // SAFETY: the buffer holds num_rows * n doubles, as the ABI requires.
        let code = unsafe {
            (self.plugin.entries.get_board_data)(self.session, count, values.as_mut_ptr())
        };
        self.check("get_board_data", code)?;
        Ok(Data {
            num_rows: rows,
            num_samples: n,
            values,
        })
    }
}

impl Board for PluginBoard {
    fn board_id(&self) -> BoardId {
        self.plugin.board_id
    }

    fn prepare_session(&mut self) -> Result<()> {
        // SAFETY: live session.
        let code = unsafe { (self.plugin.entries.prepare_session)(self.session) };
        self.check("prepare_session", code)?;
        self.prepared = true;
        Ok(())
    }

    fn is_prepared(&self) -> bool {
        self.prepared
    }

    fn is_streaming(&self) -> bool {
        self.streaming
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        // Out of i32 range is refused here as the plugin would refuse it.
        let size = i32::try_from(buffer_size).map_err(|_| {
            BoardError::new(
                ExitCode::InvalidBufferSize,
                format!("buffer size {buffer_size} too large"),
            )
        })?;
        // SAFETY: live session.
        let code = unsafe { (self.plugin.entries.start_stream)(self.session, size) };
        self.check("start_stream", code)?;
        self.streaming = true;
        Ok(())
    }

    fn stop_stream(&mut self) -> Result<()> {
        // SAFETY: live session.
        let code = unsafe { (self.plugin.entries.stop_stream)(self.session) };
        self.streaming = false;
        self.check("stop_stream", code)
    }

    fn release_session(&mut self) -> Result<()> {
        // SAFETY: live session.
        let code = unsafe { (self.plugin.entries.release_session)(self.session) };
        self.check("release_session", code)?;
        self.prepared = false;
        self.streaming = false;
        Ok(())
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        let c = CString::new(config).map_err(|_| {
            BoardError::new(ExitCode::InvalidArguments, "config contains a NUL byte")
        })?;
        let mut buf = vec![0u8; MAX_REPLY];
        let mut len: i32 = 0;
        // SAFETY: NUL-terminated config; buffer of MAX_REPLY bytes.
        let code = unsafe {
            (self.plugin.entries.config_board)(
                self.session,
                c.as_ptr(),
                buf.as_mut_ptr().cast(),
                &mut len,
                MAX_REPLY as i32,
            )
        };
        self.check("config_board", code)?;
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l <= MAX_REPLY)
            .ok_or_else(|| {
                BoardError::new(
                    ExitCode::GeneralError,
                    format!("plugin {} gave reply length {len}", self.plugin.name),
                )
            })?;
        Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        self.check_preset(preset)?;
        // SAFETY: live session.
        let code = unsafe { (self.plugin.entries.insert_marker)(self.session, value) };
        self.check("insert_marker", code)
    }

    fn get_board_data_count(&self, preset: Preset) -> Result<usize> {
        self.check_preset(preset)?;
        self.count()
    }

    fn get_board_data(&mut self, n: Option<usize>, preset: Preset) -> Result<Data> {
        self.check_preset(preset)?;
        if n == Some(0) {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                "requested 0 samples",
            ));
        }
        let have = self.count()?;
        self.pop(n.map_or(have, |n| n.min(have)))
    }

    fn get_current_board_data(&self, _n: usize, preset: Preset) -> Result<Data> {
        self.check_preset(preset)?;
        // ABI v1 has no non-destructive read; say so rather than emulate it.
        Err(BoardError::new(
            ExitCode::UnsupportedBoard,
            "plugin ABI v1 has no get_current_board_data",
        ))
    }

    fn stream_stats(&self) -> StreamStats {
        let mut buf = vec![0u8; MAX_STATS];
        let mut len: i32 = 0;
        // SAFETY: buffer of MAX_STATS bytes, valid out pointer.
        let code = unsafe {
            (self.plugin.entries.get_stats)(
                self.session,
                buf.as_mut_ptr().cast(),
                &mut len,
                MAX_STATS as i32,
            )
        };
        let parsed = usize::try_from(len)
            .ok()
            .filter(|l| code == 0 && *l <= MAX_STATS)
            .ok_or_else(|| format!("get_stats returned {code} with length {len}"))
            .and_then(|l| {
                serde_json::from_slice::<StatsJson>(&buf[..l])
                    .map_err(|e| format!("get_stats JSON: {e}"))
            });
        match parsed {
            Ok(s) => StreamStats {
                decode: DecodeStats {
                    packets: s.packets,
                    rows: s.rows,
                    lost_packets: s.lost_packets,
                    garbage_bytes: s.garbage_bytes,
                    bad_end_bytes: s.bad_end_bytes,
                    resyncs: s.resyncs,
                    unpaired: s.unpaired,
                },
                link_error: s.link_error,
                bytes_read: s.bytes_read,
                streamers: Vec::new(),
            },
            // Stats are infallible in the trait: report the broken plugin as
            // a link error so a harness sees it.
            Err(why) => StreamStats {
                link_error: Some(format!("plugin {}: {why}", self.plugin.name)),
                ..StreamStats::default()
            },
        }
    }

    /// A plugin keeps its rows on its side of the ABI (version 1 has no
    /// row callback), so the session layer never sees them to stream.
    fn add_streamer(&mut self, streamer: &Streamer, _preset: Preset) -> Result<()> {
        Err(BoardError::new(
            ExitCode::UnsupportedBoard,
            format!(
                "streamer {streamer}: a plugin board keeps its rows in the plugin \
                 (plugin ABI 1 has no row callback), so it has no streamers"
            ),
        ))
    }

    /// No streamer is ever added (see `add_streamer`).
    fn delete_streamer(&mut self, streamer: &Streamer, _preset: Preset) -> Result<()> {
        Err(BoardError::new(
            ExitCode::InvalidArguments,
            format!("no streamer {streamer} was added to this plugin board"),
        ))
    }
}

impl Drop for PluginBoard {
    fn drop(&mut self) {
        // SAFETY: the session came from this plugin's create and is freed once.
        unsafe { (self.plugin.entries.destroy)(self.session) };
    }
}

#[cfg(test)]
mod tests;

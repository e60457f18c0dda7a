//! Reading YAML files with errors that name the file, line, column and field.

use crate::limits::{ALLOW_OUTSIDE_PATHS_ENV, MAX_FILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// A profile or scenario that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file that was being read.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field path (`stream.packets[0].fields[2].scale`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl LoadError {
    /// An error about a whole file (unreadable, wrong kind).
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }
}

/// Reads and deserializes a YAML file; unknown fields are errors (the types say
/// `deny_unknown_fields`), and every error carries the file and position. Files
/// over [`MAX_FILE_BYTES`] and text that is not UTF-8 are refused before parsing.
pub fn read_yaml<T: DeserializeOwned>(path: &Path) -> Result<(T, String), LoadError> {
    let text = read_text(path)?;
    let value = parse_yaml(path, &text)?;
    Ok((value, text))
}

/// Reads a YAML file's text: at most [`MAX_FILE_BYTES`], UTF-8 (an error
/// names the first byte that is not).
pub(crate) fn read_text(path: &Path) -> Result<String, LoadError> {
    let bytes = read_limited(path, MAX_FILE_BYTES)?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let (line, column) = line_column(&bytes[..at]);
        LoadError {
            file: path.to_path_buf(),
            line: Some(line),
            column: Some(column),
            field: None,
            message: format!("not UTF-8 text (byte {at} is 0x{:02X})", bytes[at]),
        }
    })
}

/// Reads a regular file of at most `limit` bytes. Anything else (a device such
/// as `/dev/zero`, a pipe, a larger file) is an error rather than a read that
/// may never end.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, LoadError> {
    let cannot = |e: std::io::Error| LoadError::file(path, format!("cannot read: {e}"));
    let file = std::fs::File::open(path).map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(LoadError::file(path, "not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(LoadError::file(
            path,
            format!("larger than the limit of {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// The 1-based line and column just after `before`.
fn line_column(before: &[u8]) -> (usize, usize) {
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
}

/// Deserializes YAML text that came from `path`.
pub fn parse_yaml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, LoadError> {
    prescan(path, text)?;
    // Enums are written as one-key maps (`transport: { serial: … }`, `- config: …`)
    // rather than YAML tags, which is what people expect to type.
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_yaml_ng::with::singleton_map_recursive::deserialize(de).map_err(
        |e: serde_yaml_ng::Error| {
            let loc = e.location();
            let msg = e.to_string();
            // serde_yaml_ng prefixes the message with the field path ("a.b[2]: ...") and
            // suffixes " at line L column C"; split both out so the error reads cleanly.
            let msg = match msg.rfind(" at line ") {
                Some(i) if loc.is_some() => msg[..i].to_string(),
                _ => msg,
            };
            let (field, message) = split_field_path(&msg);
            LoadError {
                file: path.to_path_buf(),
                line: loc.as_ref().map(|l| l.line()),
                column: loc.as_ref().map(|l| l.column()),
                field,
                message,
            }
        },
    )
}

/// Checks YAML text with libyaml's own event stream, before serde_yaml_ng
/// loads it, for what would make loading slow or its result unbounded: nesting
/// deeper than [`MAX_YAML_DEPTH`], and aliases that expand the document past
/// [`MAX_YAML_NODES`] (an alias bomb) or into themselves. libyaml parses lazily,
/// so this stops a few tokens past the limit instead of scanning a 100,000-deep
/// nesting to the end, which is quadratic (measured: 30,000 flow levels took
/// 3.2 s to reject, 100,000 took 39 s). Syntax errors are left to the
/// deserializer, which reports them the usual way.
pub(crate) fn prescan(path: &Path, text: &str) -> Result<(), LoadError> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::file(
            path,
            format!("larger than the limit of {MAX_FILE_BYTES} bytes"),
        ));
    }
    let at = |mark: Mark, field: &str, message: String| LoadError {
        file: path.to_path_buf(),
        line: Some(mark.line + 1),
        column: Some(mark.column + 1),
        field: (!field.is_empty()).then(|| field.to_string()),
        message,
    };
    let mut paths = Paths::default();
    // Open collections: anchor, nodes counted before it, deepest level reached
    // inside it (aliases expanded).
    let mut open: Vec<(Option<Vec<u8>>, usize, usize)> = Vec::new();
    // Each anchor's node: how many nodes it expands to, how many levels it nests.
    let mut anchors: HashMap<Vec<u8>, (usize, usize)> = HashMap::new();
    // Nodes with every alias expanded, as serde_yaml_ng will build them.
    let mut nodes = 0usize;
    let mut documents = 0usize;
    let mut ended: Option<Mark> = None;
    let mut events = EventReader::new(text);
    while let Some((event, mark)) = events.next() {
        // The field the event is in, for errors.
        let field = match paths.step(&event, mark) {
            Some((p, _)) => p,
            None => paths.current().unwrap_or_default().to_string(),
        };
        let reach = match event {
            YamlEvent::Start(anchor, _) => {
                nodes += 1;
                open.push((anchor, nodes - 1, open.len() + 1));
                open.len()
            }
            YamlEvent::End => {
                let Some((anchor, before, deepest)) = open.pop() else {
                    break;
                };
                nodes += 1;
                if let Some(a) = anchor {
                    anchors.insert(a, (nodes - before, deepest - open.len()));
                }
                deepest
            }
            YamlEvent::Scalar(anchor, _) => {
                nodes += 1;
                if let Some(a) = anchor {
                    anchors.insert(a, (1, 0));
                }
                open.len()
            }
            YamlEvent::Alias(name) => {
                if open.iter().any(|(a, ..)| a.as_deref() == Some(&name[..])) {
                    return Err(at(mark, &field, "an alias inside the node it names".into()));
                }
                // An unknown anchor is the deserializer's error to report.
                let (size, levels) = anchors.get(&name).copied().unwrap_or((1, 0));
                nodes = nodes.saturating_add(size);
                open.len() + levels
            }
            YamlEvent::Document => {
                documents += 1;
                // serde_yaml_ng refuses a second document with no position.
                if documents > 1 {
                    return Err(at(
                        mark,
                        "",
                        "a second YAML document starts here (`---`): a file holds one".into(),
                    ));
                }
                open.len()
            }
            YamlEvent::DocumentEnd => {
                // An implicit end is marked where the next token starts.
                ended = Some(mark);
                open.len()
            }
            YamlEvent::Other => open.len(),
            // After a document, serde_yaml_ng takes any error for the start
            // of a second document and says so with no position.
            YamlEvent::Error => match ended {
                Some(end) => {
                    return Err(at(
                        end,
                        "",
                        "text after the end of the document that starts no other".into(),
                    ))
                }
                None => break,
            },
        };
        if let Some(top) = open.last_mut() {
            top.2 = top.2.max(reach);
        }
        if nodes > MAX_YAML_NODES {
            return Err(at(
                mark,
                &field,
                format!("more than {MAX_YAML_NODES} YAML nodes (aliases expanded)"),
            ));
        }
        if reach > MAX_YAML_DEPTH {
            return Err(at(
                mark,
                &field,
                format!("nested more than {MAX_YAML_DEPTH} levels deep"),
            ));
        }
    }
    Ok(())
}

/// What [`prescan`] needs of a libyaml event: anchors and alias names.
pub(crate) enum YamlEvent {
    /// A sequence (`false`) or mapping (`true`) starts, with its anchor.
    Start(Option<Vec<u8>>, bool),
    /// A sequence or mapping ends.
    End,
    /// A scalar, with its anchor and value.
    Scalar(Option<Vec<u8>>, Vec<u8>),
    /// An alias, by anchor name.
    Alias(Vec<u8>),
    /// A document starts.
    Document,
    /// A document ends.
    DocumentEnd,
    /// Stream boundaries, and a document's end.
    Other,
    /// A syntax error: the deserializer reports it, unless it comes after
    /// the first document.
    Error,
}

/// libyaml's parser over a string, one event at a time (serde_yaml_ng keeps
/// its own private; this one can stop early).
pub(crate) struct EventReader<'a> {
    parser: Box<std::mem::MaybeUninit<unsafe_libyaml::yaml_parser_t>>,
    initialized: bool,
    done: bool,
    _text: std::marker::PhantomData<&'a str>,
}

impl<'a> EventReader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut parser = Box::new(std::mem::MaybeUninit::<unsafe_libyaml::yaml_parser_t>::uninit());
        // SAFETY: the parser is initialized in place, on the heap, so it never
        // moves; `text` outlives it (the lifetime 'a), and it is deleted in Drop
        // only when initialization succeeded.
        let initialized = unsafe {
            let p = parser.as_mut_ptr();
            let ok = !unsafe_libyaml::yaml_parser_initialize(p).fail;
            if ok {
                unsafe_libyaml::yaml_parser_set_encoding(p, unsafe_libyaml::YAML_UTF8_ENCODING);
                unsafe_libyaml::yaml_parser_set_input_string(p, text.as_ptr(), text.len() as u64);
            }
            ok
        };
        EventReader {
            parser,
            initialized,
            done: !initialized,
            _text: std::marker::PhantomData,
        }
    }

    pub(crate) fn next(&mut self) -> Option<(YamlEvent, Mark)> {
        if self.done {
            return None;
        }
        let mut event = std::mem::MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
        // SAFETY: the parser was initialized (`done` is false); a successful
        // `yaml_parser_parse` initializes the event, which is read and then
        // deleted once; anchor pointers are NUL-terminated strings or null.
        unsafe {
            let p = self.parser.as_mut_ptr();
            if unsafe_libyaml::yaml_parser_parse(p, event.as_mut_ptr()).fail {
                self.done = true;
                // libyaml keeps the problem's position in private fields.
                return Some((YamlEvent::Error, Mark::default()));
            }
            let e = event.as_mut_ptr();
            let anchor = |ptr: *mut u8| {
                (!ptr.is_null()).then(|| {
                    std::ffi::CStr::from_ptr(ptr as *const std::ffi::c_char)
                        .to_bytes()
                        .to_vec()
                })
            };
            let kind = match (*e).type_ {
                unsafe_libyaml::YAML_SEQUENCE_START_EVENT => {
                    YamlEvent::Start(anchor((*e).data.sequence_start.anchor), false)
                }
                unsafe_libyaml::YAML_MAPPING_START_EVENT => {
                    YamlEvent::Start(anchor((*e).data.mapping_start.anchor), true)
                }
                unsafe_libyaml::YAML_SEQUENCE_END_EVENT
                | unsafe_libyaml::YAML_MAPPING_END_EVENT => YamlEvent::End,
                unsafe_libyaml::YAML_SCALAR_EVENT => {
                    let s = (*e).data.scalar;
                    YamlEvent::Scalar(
                        anchor(s.anchor),
                        std::slice::from_raw_parts(s.value, s.length as usize).to_vec(),
                    )
                }
                unsafe_libyaml::YAML_ALIAS_EVENT => {
                    YamlEvent::Alias(anchor((*e).data.alias.anchor).unwrap_or_default())
                }
                unsafe_libyaml::YAML_DOCUMENT_START_EVENT => YamlEvent::Document,
                unsafe_libyaml::YAML_DOCUMENT_END_EVENT => YamlEvent::DocumentEnd,
                unsafe_libyaml::YAML_STREAM_END_EVENT => {
                    self.done = true;
                    YamlEvent::Other
                }
                _ => YamlEvent::Other,
            };
            let m = (*e).start_mark;
            unsafe_libyaml::yaml_event_delete(e);
            Some((
                kind,
                Mark {
                    line: m.line as usize,
                    column: m.column as usize,
                },
            ))
        }
    }
}

impl Drop for EventReader<'_> {
    fn drop(&mut self) {
        // SAFETY: see `new`; a parser whose initialization failed was not set up.
        if self.initialized {
            unsafe { unsafe_libyaml::yaml_parser_delete(self.parser.as_mut_ptr()) }
        }
    }
}

/// A 0-based position in YAML text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

fn split_field_path(msg: &str) -> (Option<String>, String) {
    if let Some((head, rest)) = msg.split_once(": ") {
        let looks_like_path = !head.is_empty()
            && !head.contains(' ')
            && head
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-'));
        if looks_like_path {
            return (Some(head.to_string()), rest.to_string());
        }
    }
    (None, msg.to_string())
}

/// Set by [`allow_outside_paths`].
static OUTSIDE_PATHS_ALLOWED: AtomicBool = AtomicBool::new(false);

/// Lets scenarios name device profiles and CSV files outside their scenarios
/// folder, for this process (`boardloop check --allow-outside-paths`); setting
/// [`ALLOW_OUTSIDE_PATHS_ENV`] to `1` does the same.
pub fn allow_outside_paths(allow: bool) {
    OUTSIDE_PATHS_ALLOWED.store(allow, Ordering::Relaxed);
}

/// Whether paths outside the scenarios folder are allowed (see
/// [`allow_outside_paths`]).
pub fn outside_paths_allowed() -> bool {
    OUTSIDE_PATHS_ALLOWED.load(Ordering::Relaxed)
        || std::env::var_os(ALLOW_OUTSIDE_PATHS_ENV).is_some_and(|v| v == "1")
}

/// `base` joined with `relative`, a path a file names, if it stays inside
/// `root`, or the reason it does not. Files arrive in pull requests and are
/// loaded in CI, where `device: ../../../x` or a CSV at `/dev/zero` would read
/// whatever the runner can; so `..`, absolute paths and links that lead out of
/// `root` are refused unless [`outside_paths_allowed`].
pub fn confine(root: &Path, base: &Path, relative: &str) -> Result<PathBuf, String> {
    confine_unless(outside_paths_allowed(), root, base, relative)
}

/// [`confine`], with the permission given.
fn confine_unless(
    allowed: bool,
    root: &Path,
    base: &Path,
    relative: &str,
) -> Result<PathBuf, String> {
    let joined = base.join(relative);
    if allowed {
        return Ok(joined);
    }
    let outside = || {
        format!(
            "`{relative}` is outside {} (set {ALLOW_OUTSIDE_PATHS_ENV}=1 or pass \
             --allow-outside-paths to allow it)",
            root.display()
        )
    };
    let inside = match (lexical(&joined), lexical(root)) {
        (Some(p), Some(r)) => p.starts_with(r),
        _ => false,
    };
    if !inside {
        return Err(outside());
    }
    // A link inside may still lead out.
    if let (Ok(real), Ok(real_root)) = (joined.canonicalize(), root.canonicalize()) {
        if !real.starts_with(real_root) {
            return Err(outside());
        }
    }
    Ok(joined)
}

/// `path` made absolute with `.` and `..` resolved by name (the file need not
/// exist); `None` if it cannot be.
fn lexical(path: &Path) -> Option<PathBuf> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let mut out = PathBuf::new();
    for c in std::path::absolute(path).ok()?.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    Some(out)
}

/// Builds a semantic error (found after parsing) for `field`, locating its line by
/// searching the source for `needle` (the offending text), since serde gives no spans
/// once a value has been deserialized.
pub fn semantic_error(
    path: &Path,
    source: &str,
    field: impl Into<String>,
    needle: &str,
    message: impl Into<String>,
) -> LoadError {
    let field = field.into();
    // The field's own position when the source has it; else the first line with
    // the needle; else the position of the nearest enclosing field there is.
    let (located, exact) = locate(source, &field);
    let by_needle = (!needle.is_empty())
        .then(|| {
            source
                .lines()
                .position(|l| l.contains(needle))
                .map(|i| i + 1)
        })
        .flatten();
    let (line, column) = match (located, exact, by_needle) {
        (Some(m), true, _) => (Some(m.line + 1), Some(m.column + 1)),
        (_, _, Some(l)) => (Some(l), None),
        (m, _, None) => (m.map(|m| m.line + 1), None),
    };
    LoadError {
        file: path.to_path_buf(),
        line,
        column,
        field: Some(field),
        message: message.into(),
    }
}

/// Where in YAML `source` the field path `field` (`stream.packets[0].bits`)
/// is written: its key (or list item), and whether that is the field itself
/// (`true`) or the nearest enclosing field found (`false`).
fn locate(source: &str, field: &str) -> (Option<Mark>, bool) {
    let mut paths = Paths::default();
    let mut best: Option<(usize, Mark)> = None;
    let mut events = EventReader::new(source);
    while let Some((event, mark)) = events.next() {
        if let YamlEvent::Error = event {
            break;
        }
        if let Some((p, m)) = paths.step(&event, mark) {
            if p == field {
                return (Some(m), true);
            }
            let encloses = field.starts_with(p.as_str())
                && (p.is_empty() || matches!(field.as_bytes()[p.len()], b'.' | b'['));
            if encloses && best.as_ref().is_none_or(|(len, _)| p.len() > *len) {
                best = Some((p.len(), m));
            }
        }
    }
    (best.map(|(_, m)| m), false)
}

/// Follows the field path (`stream.packets[0].bits`, as serde_yaml_ng and
/// the semantic checks name fields) through a YAML event stream.
#[derive(Default)]
struct Paths {
    /// Per open collection: its path, and for a mapping the key awaiting its
    /// value, for a sequence the next index.
    open: Vec<PathStep>,
}

/// One open collection of [`Paths`].
enum PathStep {
    Map(String, Option<(String, Mark)>),
    Seq(String, usize),
}

impl Paths {
    /// Takes the next event; for a node that is a value (not a mapping key),
    /// returns its path and where it is written (its key, or itself).
    fn step(&mut self, event: &YamlEvent, mark: Mark) -> Option<(String, Mark)> {
        if !matches!(
            event,
            YamlEvent::Start(..) | YamlEvent::Scalar(..) | YamlEvent::Alias(_)
        ) {
            if let YamlEvent::End = event {
                self.open.pop();
            }
            return None;
        }
        let path = match self.open.last_mut() {
            None => Some((String::new(), mark)),
            Some(PathStep::Map(_, key @ None)) => {
                // A key: remembered (a complex key matches no field).
                let name = match event {
                    YamlEvent::Scalar(_, v) => String::from_utf8_lossy(v).into_owned(),
                    _ => "?".into(),
                };
                *key = Some((name, mark));
                None
            }
            Some(PathStep::Map(parent, key @ Some(_))) => {
                let (k, key_mark) = key.take().unwrap_or_default();
                let p = if parent.is_empty() {
                    k
                } else {
                    format!("{parent}.{k}")
                };
                Some((p, key_mark))
            }
            Some(PathStep::Seq(parent, next)) => {
                *next += 1;
                Some((format!("{parent}[{}]", *next - 1), mark))
            }
        };
        if let YamlEvent::Start(_, is_map) = event {
            // A collection that is a key: its path, and its children's, match
            // no field.
            let here = path.as_ref().map_or_else(|| "?".into(), |(p, _)| p.clone());
            self.open.push(if *is_map {
                PathStep::Map(here, None)
            } else {
                PathStep::Seq(here, 0)
            });
        }
        path
    }

    /// The path of the innermost open collection.
    fn current(&self) -> Option<&str> {
        self.open.last().map(|s| match s {
            PathStep::Map(p, _) | PathStep::Seq(p, _) => p.as_str(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        rate: f64,
    }
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        items: Vec<Inner>,
    }

    #[test]
    fn unknown_field_names_file_line_and_path() {
        let text = "name: x\nitems:\n  - rate: 1\n  - rat: 2\n";
        let e = parse_yaml::<Outer>(Path::new("f.yaml"), text).unwrap_err();
        assert_eq!(e.line, Some(4));
        assert_eq!(e.field.as_deref(), Some("items[1]"));
        assert!(e.message.contains("unknown field `rat`"), "{e}");
        assert!(e.to_string().starts_with("f.yaml:4:"), "{e}");
    }

    #[test]
    fn a_second_document_is_located() {
        // serde_yaml_ng says "more than one document" with no line; found by
        // the scenario_loader and profile_loader fuzz targets.
        let text = "name: x\nitems: []\n---\nname: y\n";
        let e = parse_yaml::<Outer>(Path::new("f.yaml"), text).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("second YAML document"), "{e}");
        // What libyaml cannot start a document with, after one: serde_yaml_ng
        // calls it a second document too (found by the scenario_loader target).
        let text = "&a {name: x, items: []},####\n";
        let e = parse_yaml::<Outer>(Path::new("f.yaml"), text).unwrap_err();
        assert_eq!((e.line, e.column), (Some(1), Some(24)), "{e}"); // the comma
        assert!(
            e.message.starts_with("text after the end of the document"),
            "{e}"
        );
        // One document, with its own `---` and `...`, is fine.
        let one = "---\nname: x\nitems: []\n...\n";
        assert!(parse_yaml::<Outer>(Path::new("f.yaml"), one).is_ok());
    }

    #[test]
    fn wrong_type_is_located() {
        let text = "name: x\nitems:\n  - rate: fast\n";
        let e = parse_yaml::<Outer>(Path::new("f.yaml"), text).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("invalid type"), "{e}");
    }

    #[test]
    fn paths_stay_inside_the_root_unless_allowed() {
        let tmp = std::env::temp_dir().join(format!("boardloop-confine-{}", std::process::id()));
        let root = tmp.join("scenarios");
        std::fs::create_dir_all(root.join("devices")).unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::create_dir_all(root.join("cyton")).unwrap();
        let devices = root.join("devices");
        let base = root.join("cyton");
        assert!(confine_unless(false, &devices, &devices, "cyton.yaml").is_ok());
        assert!(confine_unless(false, &root, &base, "../data/x.csv").is_ok());
        for bad in ["../../../x.yaml", "/abs/path/evil.yaml", "../x.yaml"] {
            let e = confine_unless(false, &devices, &devices, bad).unwrap_err();
            assert!(
                e.contains("is outside") && e.contains("--allow-outside-paths"),
                "{e}"
            );
        }
        assert!(confine_unless(false, &root, &base, "/dev/zero").is_err());
        // A link inside that leads out.
        std::os::unix::fs::symlink("/etc", root.join("data/etc")).unwrap();
        assert!(confine_unless(false, &root, &base, "../data/etc/hostname").is_err());
        // Allowed: anything.
        assert!(confine_unless(true, &devices, &devices, "../../../x.yaml").is_ok());
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let e = read_limited(Path::new("/dev/zero"), 16).unwrap_err();
        assert_eq!(e.message, "not a regular file");
        let f = std::env::temp_dir().join(format!("boardloop-big-{}", std::process::id()));
        std::fs::write(&f, [b'a'; 17]).unwrap();
        assert!(read_limited(&f, 16)
            .unwrap_err()
            .message
            .contains("limit of 16 bytes"));
        assert_eq!(read_limited(&f, 17).unwrap().len(), 17);
        std::fs::remove_file(&f).unwrap();
    }

    #[test]
    fn fields_are_located_by_their_path() {
        let src =
            "a: 1\nitems:\n  - rate: 1\n  - { rate: 2, more: [x, y] }\nz:\n  deep:\n    k: v\n";
        let line = |f: &str| locate(src, f).0.map(|m| m.line + 1);
        assert_eq!(
            locate(src, "items[1].rate"),
            (locate(src, "items[1].rate").0, true)
        );
        assert_eq!(line("a"), Some(1));
        assert_eq!(line("items[0].rate"), Some(3));
        assert_eq!(line("items[1].more[1]"), Some(4));
        assert_eq!(line("z.deep.k"), Some(7));
        // Not written: the nearest enclosing field.
        assert_eq!(
            locate(src, "z.deep.other"),
            (locate(src, "z.deep").0, false)
        );
        assert_eq!(line("z.deep"), Some(6));
        let e = semantic_error(Path::new("p.yaml"), src, "items[1].rate", "", "bad");
        assert_eq!(e.to_string(), "p.yaml:4:7: items[1].rate: bad");
    }

    #[test]
    fn deep_nesting_and_alias_bombs_are_refused_with_a_line() {
        let deep = format!("a: {}", "[".repeat(100_000));
        let t = std::time::Instant::now();
        let e = parse_yaml::<Outer>(Path::new("d.yaml"), &deep).unwrap_err();
        assert!(
            t.elapsed() < std::time::Duration::from_millis(200),
            "{:?}",
            t.elapsed()
        );
        assert_eq!((e.line, e.column), (Some(1), Some(67)), "{e}");
        assert!(e.message.contains("nested more than 64"), "{e}");
        // Exactly at the limit it is the deserializer that answers.
        let ok = format!("a: {}{}", "[".repeat(63), "]".repeat(63));
        let e = parse_yaml::<Outer>(Path::new("d.yaml"), &ok).unwrap_err();
        assert!(!e.message.contains("nested"), "{e}");
        let mut bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_string();
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            bomb += &format!("a{i}: &a{i} [{refs}]\n");
        }
        let e = parse_yaml::<Outer>(Path::new("b.yaml"), &bomb).unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert_eq!(e.field.as_deref(), Some("a4[7]"), "{e}");
        assert!(e.message.contains("more than 100000 YAML nodes"), "{e}");
        // An alias used sensibly is fine.
        let text = "name: &n x\nitems: [{ rate: 1 }]\n";
        assert!(parse_yaml::<Outer>(Path::new("ok.yaml"), text).is_ok());
    }

    #[test]
    fn text_that_is_not_utf8_is_located() {
        let f = std::env::temp_dir().join(format!("boardloop-utf8-{}", std::process::id()));
        std::fs::write(&f, b"name: x\nitems: [] # caf\xe9\n").unwrap();
        let e = read_yaml::<Outer>(&f).unwrap_err();
        std::fs::remove_file(&f).unwrap();
        assert_eq!((e.line, e.column), (Some(2), Some(16)), "{e}");
        assert!(e.message.contains("not UTF-8"), "{e}");
    }

    #[test]
    fn semantic_error_finds_the_line() {
        let src = "a: 1\nscale: gian[i]\n";
        let e = semantic_error(Path::new("p.yaml"), src, "scale", "gian[i]", "unknown");
        assert_eq!(e.line, Some(2));
        assert_eq!(e.to_string(), "p.yaml:2:1: scale: unknown");
    }
}

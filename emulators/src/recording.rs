//! Recordings: everything that crossed a device's link, with timestamps, in a
//! text format meant to be read, diffed and edited.
//!
//! The format follows umockdev's script format (`r`/`w` lines, one per
//! transfer, each with the delay since the previous one), which a line diff
//! reads well: inserting one transfer shifts no later timestamp. Kept from it:
//! the operation letters and relative delays. Changed: delays in milliseconds
//! with microsecond decimals (umockdev's whole milliseconds cannot measure a
//! 250-Hz stream's jitter); binary data as hex (umockdev escapes every byte of
//! a 33-byte packet); a header of `@key value` lines saying what was recorded.
//!
//! ```text
//! # boardloop recording 1
//! @transport serial
//! @profile cyton
//! @source /dev/ttyUSB0
//! w 0.000 "v"
//! r 2.137 "OpenBCI V3 8-16 channel\r\n"
//! r 4.003 a0 00 00 00 01 …
//!   4c 00 00 c0
//! ```
//!
//! * `w DELAY DATA`: the host wrote DATA; `r DELAY DATA`: the device sent it.
//!   DELAY is milliseconds since the previous line's transfer (the first:
//!   since recording started).
//! * `f DELAY`: the host flushed its port (`tcflush`), discarding what it had
//!   not read yet. Not a byte on the wire, but a device that streams on its
//!   own (FreeEEG, Knight) starts its stream at the host's flush, and a
//!   replay times that stream from it.
//! * DATA is a quoted string (printable ASCII, `\r \n \t \\ \"` and `\xNN`)
//!   or hex bytes. A transfer longer than one line goes on in indented lines.
//! * `#` starts a comment line; blank lines are ignored.
//!
//! A BLE recording (`@transport ble`) declares the peripheral's GATT table in
//! its header, one `@gatt NAME SERVICE CHARACTERISTIC PROPERTIES` line per
//! characteristic (UUIDs in full or 16-bit short form; properties as a
//! profile names them: `read`, `write`, `write_without_response`, `notify`,
//! comma-separated). NAME is the characteristic's name in the recording
//! (the profile's, where the recorder knew the profile), and every event
//! names the characteristic it crossed:
//!
//! ```text
//! # boardloop recording 1
//! @transport ble
//! @profile ganglion
//! @gatt data fe84 2d30c082-f39f-4ce6-923f-3484ea480596 notify
//! @gatt command fe84 2d30c083-f39f-4ce6-923f-3484ea480596 write,write_without_response
//! @gatt software_revision 180a 2a28 read
//! r 12.500 software_revision "3.0.0"
//! s 0.310 data
//! wn 0.820 command "b"
//! n 4.975 data 00 03 e8 …
//! u 1002.113 data
//! ```
//!
//! * `w DELAY NAME DATA`: the host wrote DATA with a response (an ATT write
//!   request); `wn DELAY NAME DATA`: without one (a write command).
//! * `r DELAY NAME DATA`: the host read NAME and the device returned DATA.
//! * `n DELAY NAME DATA`: the device notified DATA.
//! * `s DELAY NAME`, `u DELAY NAME`: the host subscribed to (unsubscribed
//!   from) NAME's notifications.
//!
//! ATT handles are not recorded: btleplug, whose shapes the boards' BLE links
//! follow, does not expose them; the table's order is the peripheral's.

use crate::profile::{full_uuid, CharProperty};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The first line of every recording; the number is the format's version.
pub const MAGIC: &str = "# boardloop recording 1";

/// Bytes of hex per line: 48 keeps a line under 150 characters and a Cyton
/// packet (33 bytes) on one line.
const HEX_PER_LINE: usize = 48;

/// What crossed the link: a serial transfer (`Write`, `Read`), or a BLE
/// operation on the characteristic at an index of the recording's GATT
/// table ([`Recording::gatt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The host wrote to the device (`w`).
    Write,
    /// The device sent to the host (`r`, what the host reads).
    Read,
    /// The host flushed its serial port (`f`; no bytes).
    Flush,
    /// BLE: the host wrote a characteristic (`w` with a response, `wn`
    /// without).
    GattWrite {
        /// The characteristic's index in the GATT table.
        char: u16,
        /// An ATT write request (acknowledged) rather than a write command.
        response: bool,
    },
    /// BLE: the host read a characteristic; the event's bytes are the value
    /// the device returned (`r`).
    GattRead(u16),
    /// BLE: the device notified a characteristic's value (`n`).
    Notify(u16),
    /// BLE: the host subscribed to a characteristic's notifications (`s`).
    Subscribe(u16),
    /// BLE: the host unsubscribed (`u`).
    Unsubscribe(u16),
}

impl Op {
    fn letter(self) -> &'static str {
        match self {
            Op::Write | Op::GattWrite { response: true, .. } => "w",
            Op::GattWrite {
                response: false, ..
            } => "wn",
            Op::Read | Op::GattRead(_) => "r",
            Op::Flush => "f",
            Op::Notify(_) => "n",
            Op::Subscribe(_) => "s",
            Op::Unsubscribe(_) => "u",
        }
    }

    /// The GATT characteristic a BLE operation is on (`None`: serial).
    pub fn characteristic(self) -> Option<u16> {
        match self {
            Op::Write | Op::Read | Op::Flush => None,
            Op::GattWrite { char, .. }
            | Op::GattRead(char)
            | Op::Notify(char)
            | Op::Subscribe(char)
            | Op::Unsubscribe(char) => Some(char),
        }
    }

    /// True for what the host wrote (serial `w`, BLE `w` and `wn`).
    pub fn is_host_write(self) -> bool {
        matches!(self, Op::Write | Op::GattWrite { .. })
    }

    /// True for what the device sent unasked (serial `r`, BLE `n`).
    pub fn is_device_transfer(self) -> bool {
        matches!(self, Op::Read | Op::Notify(_))
    }

    /// Whether the line carries data (not `s`/`u`).
    fn has_data(self) -> bool {
        !matches!(self, Op::Subscribe(_) | Op::Unsubscribe(_) | Op::Flush)
    }
}

/// One characteristic of a BLE recording's GATT table (an `@gatt` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GattChar {
    /// Its name in the recording (events name it).
    pub name: String,
    /// The service's UUID, full and lower case.
    pub service: String,
    /// The characteristic's UUID, full and lower case.
    pub uuid: String,
    /// What it allows, in the order `read`, `write`,
    /// `write_without_response`, `notify`.
    pub props: Vec<CharProperty>,
}

impl GattChar {
    /// Parses an `@gatt` line's value: `NAME SERVICE CHARACTERISTIC PROPERTIES`
    /// (comma separated, or `-` for none of them).
    pub fn parse(v: &str) -> Result<GattChar, String> {
        let words: Vec<&str> = v.split_ascii_whitespace().collect();
        let [name, service, uuid, props] = words[..] else {
            return Err(format!(
                "`@gatt {v}`: expected `@gatt NAME SERVICE CHARACTERISTIC PROPERTIES`"
            ));
        };
        let uuid_of = |u: &str| {
            let full = full_uuid(u);
            let hex: String = full.chars().filter(|c| *c != '-').collect();
            (full.len() == 36 && hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()))
                .then_some(full)
                .ok_or_else(|| format!("`@gatt {v}`: `{u}` is not a UUID (128-bit or 16-bit)"))
        };
        let mut set = [false; 4];
        // `-`: none of the four (bluetoothd's own Service Changed
        // characteristic only indicates).
        for p in props.split(',').filter(|p| *p != NO_PROPS) {
            let i = PROPS.iter().position(|(n, _)| *n == p).ok_or_else(|| {
                format!(
                    "`@gatt {v}`: unknown property `{p}` (expected read, write, \
                         write_without_response or notify)"
                )
            })?;
            set[i] = true;
        }
        Ok(GattChar {
            name: name.to_string(),
            service: uuid_of(service)?,
            uuid: uuid_of(uuid)?,
            props: (0..4).filter(|&i| set[i]).map(|i| PROPS[i].1).collect(),
        })
    }

    /// The `@gatt` line's value.
    pub fn render(&self) -> String {
        let props = self.props_text();
        format!("{} {} {} {props}", self.name, self.service, self.uuid)
    }

    /// Its properties as the `@gatt` line writes them (`read,notify`; `-`
    /// for none).
    pub fn props_text(&self) -> String {
        let props: Vec<&str> = PROPS
            .iter()
            .filter(|(_, p)| self.props.contains(p))
            .map(|(n, _)| *n)
            .collect();
        match props.join(",") {
            p if p.is_empty() => NO_PROPS.to_string(),
            p => p,
        }
    }
}

/// The properties field of a characteristic with none of [`PROPS`]: a BLE
/// table discovered through BlueZ holds bluetoothd's own GATT service,
/// whose Service Changed characteristic (`2a05`) only indicates.
const NO_PROPS: &str = "-";

/// Property names as profiles spell them, in canonical order.
const PROPS: [(&str, CharProperty); 4] = [
    ("read", CharProperty::Read),
    ("write", CharProperty::Write),
    ("write_without_response", CharProperty::WriteWithoutResponse),
    ("notify", CharProperty::Notify),
];

/// One transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Time since the recording started.
    pub at: Duration,
    /// Direction.
    pub op: Op,
    /// The bytes, as one read or write returned them.
    pub bytes: Vec<u8>,
    /// The line the event starts on (1-based; 0 for events not read from a file).
    pub line: usize,
}

/// A recording: its header and its transfers in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recording {
    /// `@key value` lines, in file order (`transport`, `profile`, `scenario`,
    /// `source`, `baud`, …).
    pub header: Vec<(String, String)>,
    /// The transfers.
    pub events: Vec<Event>,
}

/// A recording that cannot be read: the file, line and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {msg}", file.display())]
pub struct RecordingError {
    /// The file.
    pub file: PathBuf,
    /// The line (1-based; 0 when the file could not be read at all).
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl Recording {
    /// The value of header `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.header
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets header `key` (replacing an earlier value).
    pub fn set(&mut self, key: &str, value: &str) {
        match self.header.iter_mut().find(|(k, _)| k == key) {
            Some(kv) => kv.1 = value.to_string(),
            None => self.header.push((key.to_string(), value.to_string())),
        }
    }

    /// Reads a recording file.
    pub fn load(path: &Path) -> Result<Recording, RecordingError> {
        let text = std::fs::read_to_string(path).map_err(|e| RecordingError {
            file: path.to_path_buf(),
            line: 0,
            msg: format!("cannot read: {e}"),
        })?;
        Recording::parse(&text).map_err(|(line, msg)| RecordingError {
            file: path.to_path_buf(),
            line,
            msg,
        })
    }

    /// Parses a recording's text; the error is the line and what is wrong.
    pub fn parse(text: &str) -> Result<Recording, (usize, String)> {
        let mut rec = Recording::default();
        let mut at = Duration::ZERO;
        let mut first = true;
        // `@transport ble`: events name a characteristic of the `@gatt` table.
        let mut ble = false;
        let mut names: Vec<String> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            if first {
                first = false;
                if raw.trim_end() != MAGIC {
                    return Err((
                        n,
                        format!("not a recording: the first line must be `{MAGIC}`"),
                    ));
                }
                continue;
            }
            let line = raw.trim_end();
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                let Some(last) = rec.events.last_mut() else {
                    return Err((n, "a continuation line before any transfer".into()));
                };
                if !last.op.has_data() {
                    return Err((n, "a continuation line after an event without data".into()));
                }
                last.bytes
                    .extend(parse_data(line.trim()).map_err(|m| (n, m))?);
                continue;
            }
            if let Some(h) = line.strip_prefix('@') {
                let (k, v) = h.split_once(' ').unwrap_or((h, ""));
                if k.is_empty() {
                    return Err((n, "a header line needs a key: `@key value`".into()));
                }
                if !rec.events.is_empty() {
                    return Err((n, format!("header `@{k}` after the first transfer")));
                }
                if k == "transport" {
                    ble = v.trim() == "ble";
                }
                if k == "gatt" {
                    let c = GattChar::parse(v.trim()).map_err(|m| (n, m))?;
                    if names.contains(&c.name) {
                        return Err((n, format!("characteristic `{}` declared twice", c.name)));
                    }
                    names.push(c.name);
                }
                rec.header.push((k.to_string(), v.trim().to_string()));
                continue;
            }
            let mut parts = line.splitn(if ble { 4 } else { 3 }, ' ');
            let word = parts.next().expect("a non-empty line has a first word");
            let op = match (ble, word) {
                (false, "w") => Op::Write,
                (false, "r") => Op::Read,
                (false, "f") => Op::Flush,
                (true, "w" | "wn" | "r" | "n" | "s" | "u") => Op::Subscribe(0),
                (false, other) => {
                    return Err((
                        n,
                        format!(
                            "unknown operation `{other}` (expected `w`, `r`, `f`, `@key` or `#`)"
                        ),
                    ))
                }
                (true, other) => {
                    return Err((
                        n,
                        format!(
                            "unknown BLE operation `{other}` (expected `w`, `wn`, `r`, `n`, \
                             `s`, `u`, `@key` or `#`)"
                        ),
                    ))
                }
            };
            let delay = parts
                .next()
                .ok_or((n, "missing delay (milliseconds)".into()))?;
            let op = if ble {
                let name = parts
                    .next()
                    .filter(|w| !w.is_empty())
                    .ok_or((n, "missing characteristic name".into()))?;
                let i = names.iter().position(|c| c == name).ok_or_else(|| {
                    (
                        n,
                        format!(
                            "characteristic `{name}` is not in the `@gatt` table (declared: {})",
                            names.join(", ")
                        ),
                    )
                })? as u16;
                let op = match word {
                    "w" => Op::GattWrite {
                        char: i,
                        response: true,
                    },
                    "wn" => Op::GattWrite {
                        char: i,
                        response: false,
                    },
                    "r" => Op::GattRead(i),
                    "n" => Op::Notify(i),
                    "s" => Op::Subscribe(i),
                    _ => Op::Unsubscribe(i),
                };
                if !op.has_data() && parts.next().is_some_and(|d| !d.trim().is_empty()) {
                    return Err((n, format!("`{word}` takes no data")));
                }
                op
            } else {
                op
            };
            let ms: f64 = delay
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    (
                        n,
                        format!("delay `{delay}`: not a number of milliseconds ≥ 0"),
                    )
                })?;
            let bytes = parse_data(parts.next().unwrap_or("").trim()).map_err(|m| (n, m))?;
            if op == Op::Flush && !bytes.is_empty() {
                return Err((n, "a flush (`f`) carries no data".into()));
            }
            at += Duration::from_nanos((ms * 1e6).round() as u64);
            rec.events.push(Event {
                at,
                op,
                bytes,
                line: n,
            });
        }
        if first {
            return Err((1, format!("empty file: the first line must be `{MAGIC}`")));
        }
        Ok(rec)
    }

    /// The recording as text (see the module's documentation).
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(64 + self.events.len() * 120);
        s.push_str(MAGIC);
        s.push('\n');
        for (k, v) in &self.header {
            let _ = writeln!(s, "@{k} {v}");
        }
        let names = gatt_names(&self.header);
        let mut prev = Duration::ZERO;
        for e in &self.events {
            s.push_str(&render_named(
                e.op,
                e.at.saturating_sub(prev),
                &names,
                &e.bytes,
            ));
            prev = e.at;
        }
        s
    }

    /// True for a BLE recording (`@transport ble`).
    pub fn is_ble(&self) -> bool {
        self.get("transport") == Some("ble")
    }

    /// A BLE recording's GATT table (its `@gatt` lines, in order: an
    /// operation's characteristic index points into it).
    pub fn gatt(&self) -> Result<Vec<GattChar>, String> {
        self.header
            .iter()
            .filter(|(k, _)| k == "gatt")
            .map(|(_, v)| GattChar::parse(v))
            .collect()
    }
}

/// The names of the `@gatt` lines of a header, in order.
fn gatt_names(header: &[(String, String)]) -> Vec<String> {
    header
        .iter()
        .filter(|(k, _)| k == "gatt")
        .filter_map(|(_, v)| v.split_ascii_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// One transfer's lines, ending in a newline (a BLE operation's
/// characteristic shows as its index, `#N`: [`render_named`] gives names).
pub fn render_event(op: Op, delay: Duration, bytes: &[u8]) -> String {
    render_named(op, delay, &[], bytes)
}

/// One event's lines, a BLE operation naming its characteristic from
/// `names` (the GATT table's names, in order).
pub fn render_named(op: Op, delay: Duration, names: &[String], bytes: &[u8]) -> String {
    let mut s = String::with_capacity(24 + bytes.len() * 3);
    let _ = write!(s, "{} {:.3}", op.letter(), delay.as_secs_f64() * 1e3);
    if op == Op::Flush {
        s.push('\n');
        return s;
    }
    s.push(' ');
    if let Some(c) = op.characteristic() {
        match names.get(c as usize) {
            Some(name) => s.push_str(name),
            None => {
                let _ = write!(s, "#{c}");
            }
        }
        if !op.has_data() {
            s.push('\n');
            return s;
        }
        s.push(' ');
    }
    if !bytes.is_empty() && bytes.iter().all(|&b| printable(b)) {
        s.push('"');
        for &b in bytes {
            match b {
                b'\r' => s.push_str("\\r"),
                b'\n' => s.push_str("\\n"),
                b'\t' => s.push_str("\\t"),
                b'\\' => s.push_str("\\\\"),
                b'"' => s.push_str("\\\""),
                _ => s.push(b as char),
            }
        }
        s.push_str("\"\n");
        return s;
    }
    for (i, chunk) in bytes.chunks(HEX_PER_LINE).enumerate() {
        if i > 0 {
            s.push_str("  ");
        }
        for (j, b) in chunk.iter().enumerate() {
            if j > 0 {
                s.push(' ');
            }
            let _ = write!(s, "{b:02x}");
        }
        s.push('\n');
    }
    if bytes.is_empty() {
        s.push_str("\"\"\n");
    }
    s
}

/// Text a reader takes for text: printable ASCII and line endings.
fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\r' || b == b'\n' || b == b'\t'
}

/// DATA: a quoted string with escapes, or hex bytes separated by spaces.
fn parse_data(s: &str) -> Result<Vec<u8>, String> {
    if let Some(body) = s.strip_prefix('"') {
        let body = body
            .strip_suffix('"')
            .ok_or_else(|| format!("data `{s}`: the string has no closing quote"))?;
        let mut out = Vec::with_capacity(body.len());
        let mut it = body.bytes();
        while let Some(b) = it.next() {
            if b != b'\\' {
                out.push(b);
                continue;
            }
            match it.next() {
                Some(b'r') => out.push(b'\r'),
                Some(b'n') => out.push(b'\n'),
                Some(b't') => out.push(b'\t'),
                Some(b'\\') => out.push(b'\\'),
                Some(b'"') => out.push(b'"'),
                Some(b'x') => {
                    let hi = it.next();
                    let lo = it.next();
                    let hex = [hi.unwrap_or(b' '), lo.unwrap_or(b' ')];
                    let v = std::str::from_utf8(&hex)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or_else(|| format!("data `{s}`: `\\x` needs two hex digits"))?;
                    out.push(v);
                }
                other => {
                    return Err(format!(
                        "data `{s}`: unknown escape `\\{}`",
                        other.map(|c| c as char).unwrap_or(' ')
                    ))
                }
            }
        }
        return Ok(out);
    }
    s.split_ascii_whitespace()
        .map(|h| {
            if h.len() != 2 {
                return Err(format!("data: `{h}` is not one hex byte (two digits)"));
            }
            u8::from_str_radix(h, 16).map_err(|_| format!("data: `{h}` is not a hex byte"))
        })
        .collect()
}

/// Writes a recording as transfers happen, one whole line per `write` call,
/// so a process killed mid-recording leaves every transfer before the kill.
pub struct RecordingWriter {
    out: std::fs::File,
    prev: Duration,
    events: u64,
    /// The header's GATT names, for BLE operations.
    names: Vec<String>,
}

impl RecordingWriter {
    /// Creates `path` and writes the magic line and `header`.
    pub fn create(path: &Path, header: &[(String, String)]) -> std::io::Result<RecordingWriter> {
        use std::io::Write as _;
        let mut out = std::fs::File::create(path)?;
        let mut s = format!("{MAGIC}\n");
        for (k, v) in header {
            let _ = writeln!(s, "@{k} {v}");
        }
        out.write_all(s.as_bytes())?;
        Ok(RecordingWriter {
            out,
            prev: Duration::ZERO,
            events: 0,
            names: gatt_names(header),
        })
    }

    /// Appends a transfer that happened `at` after recording started.
    pub fn event(&mut self, at: Duration, op: Op, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write as _;
        let at = at.max(self.prev);
        let line = render_named(op, at - self.prev, &self.names, bytes);
        self.prev = at;
        self.events += 1;
        self.out.write_all(line.as_bytes())
    }

    /// Transfers written so far.
    pub fn events(&self) -> u64 {
        self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Recording {
        Recording {
            header: vec![
                ("transport".into(), "serial".into()),
                ("profile".into(), "cyton".into()),
            ],
            events: vec![
                Event {
                    at: Duration::from_micros(1500),
                    op: Op::Write,
                    bytes: b"v".to_vec(),
                    line: 0,
                },
                Event {
                    at: Duration::from_micros(3637),
                    op: Op::Read,
                    bytes: b"OpenBCI \"V3\"\r\n\\$$$".to_vec(),
                    line: 0,
                },
                Event {
                    at: Duration::from_micros(5000),
                    op: Op::Flush,
                    bytes: Vec::new(),
                    line: 0,
                },
                Event {
                    at: Duration::from_micros(7640),
                    op: Op::Read,
                    bytes: (0..=255u8).collect(),
                    line: 0,
                },
            ],
        }
    }

    #[test]
    fn render_then_parse_is_identity() {
        let rec = sample();
        let text = rec.render();
        let back = Recording::parse(&text).unwrap();
        assert_eq!(back.header, rec.header);
        assert_eq!(back.events.len(), 4);
        for (a, b) in back.events.iter().zip(&rec.events) {
            assert_eq!((a.op, &a.bytes, a.at), (b.op, &b.bytes, b.at));
        }
        // 256 bytes of hex: 48 per line, so 6 lines for the last event.
        assert_eq!(text.lines().filter(|l| l.starts_with("  ")).count(), 5);
        assert!(text.contains("w 1.500 \"v\"\n"), "{text}");
        assert!(text.contains("r 2.137 \"OpenBCI \\\"V3\\\"\\r\\n\\\\$$$\"\n"));
        assert!(text.contains("\nf 1.363\n"), "{text}");
        assert_eq!(back.events[3].line, 7);
    }

    #[test]
    fn errors_name_the_line_and_what_is_wrong() {
        let bad = |t: &str| Recording::parse(t).unwrap_err();
        assert_eq!(bad("hello\n").0, 1);
        let m = format!("{MAGIC}\n@transport serial\nw 1.0 \"v\"\nx 2 ab\n");
        assert_eq!(bad(&m).0, 4);
        assert!(bad(&m).1.contains("unknown operation `x`"));
        let m = format!("{MAGIC}\nr -1 ab\n");
        assert!(bad(&m).1.contains("delay `-1`"));
        let m = format!("{MAGIC}\nr 1 abc\n");
        assert!(bad(&m).1.contains("`abc` is not one hex byte"));
        let m = format!("{MAGIC}\nr 1 \"open\n");
        assert!(bad(&m).1.contains("no closing quote"));
        let m = format!("{MAGIC}\nf 1 ab\n");
        assert!(bad(&m).1.contains("carries no data"));
        let m = format!("{MAGIC}\n  ab\n");
        assert!(bad(&m).1.contains("continuation"));
        let m = format!("{MAGIC}\nr 1 ab\n@late x\n");
        assert_eq!(
            bad(&m),
            (3, "header `@late` after the first transfer".into())
        );
    }

    const BLE: &str = "# boardloop recording 1
@transport ble
@profile ganglion
@gatt data fe84 2d30c082-f39f-4ce6-923f-3484ea480596 notify
@gatt command fe84 2d30c083-f39f-4ce6-923f-3484ea480596 write_without_response,write
@gatt software_revision 180a 2a28 read
r 12.500 software_revision \"3.0.0\"
s 0.310 data
wn 0.820 command \"b\"
n 4.975 data 00 03 e8
  ff
w 1.000 command \"s\"
u 1.000 data
";

    #[test]
    fn ble_events_name_their_characteristic_and_render_back() {
        let rec = Recording::parse(BLE).unwrap();
        assert!(rec.is_ble());
        let gatt = rec.gatt().unwrap();
        assert_eq!(gatt[2].uuid, "00002a28-0000-1000-8000-00805f9b34fb");
        assert_eq!(gatt[2].service, "0000180a-0000-1000-8000-00805f9b34fb");
        assert_eq!(
            gatt[1].props,
            [CharProperty::Write, CharProperty::WriteWithoutResponse]
        );
        let ops: Vec<Op> = rec.events.iter().map(|e| e.op).collect();
        assert_eq!(
            ops,
            [
                Op::GattRead(2),
                Op::Subscribe(0),
                Op::GattWrite {
                    char: 1,
                    response: false
                },
                Op::Notify(0),
                Op::GattWrite {
                    char: 1,
                    response: true
                },
                Op::Unsubscribe(0),
            ]
        );
        assert_eq!(rec.events[3].bytes, [0, 3, 0xe8, 0xff]);
        assert_eq!(rec.events[3].line, 10);
        assert_eq!(rec.events[5].at, Duration::from_micros(20_605));
        // Rendering keeps the header as written, names and data; only the
        // continuation line joins its transfer's (under 48 bytes).
        let text = rec.render();
        assert_eq!(text, BLE.replace("e8\n  ff", "e8 ff"));
        let back = Recording::parse(&text).unwrap();
        let strip = |r: &Recording| -> Vec<(Op, Vec<u8>, Duration)> {
            r.events
                .iter()
                .map(|e| (e.op, e.bytes.clone(), e.at))
                .collect()
        };
        assert_eq!(strip(&back), strip(&rec));
    }

    #[test]
    fn a_characteristic_with_none_of_the_properties_renders_as_a_dash() {
        // bluetoothd's Service Changed, as a table discovered through BlueZ
        // holds it (it only indicates); an empty field would not parse back.
        let g = GattChar {
            name: "c0".into(),
            service: full_uuid("1801"),
            uuid: full_uuid("2a05"),
            props: Vec::new(),
        };
        let line = g.render();
        assert!(line.ends_with(" -"), "{line}");
        assert_eq!(GattChar::parse(&line).unwrap(), g);
    }

    #[test]
    fn ble_errors_name_the_line() {
        let bad = |t: &str| Recording::parse(t).unwrap_err();
        let head = "# boardloop recording 1\n@transport ble\n";
        let e = bad(&format!("{head}@gatt data fe84 zz notify\n"));
        assert_eq!(e.0, 3);
        assert!(e.1.contains("`zz` is not a UUID"), "{}", e.1);
        let e = bad(&format!("{head}@gatt data fe84 2a28 notify,indicate\n"));
        assert!(e.1.contains("unknown property `indicate`"), "{}", e.1);
        let e = bad(&format!("{head}@gatt data fe84 2a28\n"));
        assert!(e.1.contains("expected `@gatt NAME SERVICE"), "{}", e.1);
        let g = "@gatt data fe84 2a28 notify\n";
        let e = bad(&format!("{head}{g}{g}"));
        assert_eq!(e, (4, "characteristic `data` declared twice".into()));
        let e = bad(&format!("{head}{g}n 1.0 cmd 01\n"));
        assert_eq!(e.0, 4);
        assert!(e
            .1
            .contains("`cmd` is not in the `@gatt` table (declared: data)"));
        let e = bad(&format!("{head}{g}x 1.0 data 01\n"));
        assert!(e.1.contains("unknown BLE operation `x`"), "{}", e.1);
        let e = bad(&format!("{head}{g}s 1.0 data 01\n"));
        assert_eq!(e, (4, "`s` takes no data".into()));
        let e = bad(&format!("{head}{g}n 1.0\n"));
        assert_eq!(e, (4, "missing characteristic name".into()));
    }

    #[test]
    fn writer_output_parses_to_the_same_events() {
        let dir = std::env::temp_dir().join(format!("blrec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.rec");
        let rec = sample();
        let mut w = RecordingWriter::create(&path, &rec.header).unwrap();
        for e in &rec.events {
            w.event(e.at, e.op, &e.bytes).unwrap();
        }
        drop(w);
        let back = Recording::load(&path).unwrap();
        assert_eq!(back.render(), rec.render());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! The byte transcript of an emulated link, kept for failure reports.

use std::fmt::Write as _;
use std::time::Duration;

/// Direction of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Host to device (commands).
    ToDevice,
    /// Device to host (replies, packets, garbage).
    ToHost,
}

/// One transfer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Time since the emulator started.
    pub at: Duration,
    /// Direction.
    pub dir: Dir,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// A note (`drop`, `garbage`, `unplug`, …) for injected faults.
    pub note: Option<String>,
}

/// A bounded transcript: host bytes are always kept (they are few); device bytes
/// up to a limit, after which only a count is kept.
#[derive(Debug, Clone)]
pub struct Transcript {
    entries: Vec<Entry>,
    device_bytes_kept: usize,
    limit: usize,
    device_bytes_omitted: u64,
}

impl Transcript {
    /// A transcript keeping at most `limit` device bytes.
    pub fn new(limit: usize) -> Self {
        Transcript {
            entries: Vec::new(),
            device_bytes_kept: 0,
            limit,
            device_bytes_omitted: 0,
        }
    }

    /// Records a transfer.
    pub fn record(&mut self, at: Duration, dir: Dir, bytes: &[u8], note: Option<&str>) {
        if dir == Dir::ToHost && note.is_none() {
            if self.device_bytes_kept + bytes.len() > self.limit {
                self.device_bytes_omitted += bytes.len() as u64;
                return;
            }
            self.device_bytes_kept += bytes.len();
        }
        self.entries.push(Entry {
            at,
            dir,
            bytes: bytes.to_vec(),
            note: note.map(str::to_string),
        });
    }

    /// The entries kept.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Renders as text: time, direction, hex and printable characters.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for e in &self.entries {
            let dir = match e.dir {
                Dir::ToDevice => "host->dev",
                Dir::ToHost => "dev->host",
            };
            let _ = write!(
                s,
                "{:>10.3} ms  {dir}  {:>5} B",
                e.at.as_secs_f64() * 1e3,
                e.bytes.len()
            );
            if let Some(n) = &e.note {
                let _ = write!(s, "  [{n}]");
            }
            s.push('\n');
            for chunk in e.bytes.chunks(33) {
                let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
                let txt: String = chunk
                    .iter()
                    .map(|&b| {
                        if (0x20..0x7f).contains(&b) {
                            b as char
                        } else {
                            '.'
                        }
                    })
                    .collect();
                let _ = writeln!(s, "    {}  |{txt}|", hex.join(" "));
            }
        }
        if self.device_bytes_omitted > 0 {
            let _ = writeln!(s, "({} device bytes not kept)", self.device_bytes_omitted);
        }
        s
    }
}

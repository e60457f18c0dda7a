//! `boardloop diff`: where two recordings of one scenario disagree, typically
//! our emulator (A) against a physical device (B), to find what a profile
//! gets wrong about the hardware.
//!
//! Compared, each in its own module: the host's writes and the replies to
//! them outside streaming ([`replies`]); the stream's packets, cut by the
//! profile's layout: length, header, counter step, end byte ([`framing`]);
//! packets per second and inter-arrival gaps ([`rates`]); each channel's
//! range of raw counts ([`ranges`]). BLE recordings add their GATT tables
//! ([`gatt`]) and compare each stream characteristic's notifications as
//! packets.

pub mod exchange;
pub mod framing;
pub mod gatt;
pub mod ranges;
pub mod rates;
pub mod replies;

use boardloop_emulators::profile::TransportDecl;
use boardloop_emulators::recording::Recording;
use boardloop_emulators::Profile;
use exchange::Exchange;
use framing::{Framed, Shape};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// What counts as a disagreement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffOptions {
    /// Largest accepted difference of the packet rates, as a fraction of B's.
    pub rate_tolerance: f64,
    /// Largest accepted ratio of two channel ranges' spans.
    pub span_factor: f64,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            // The rate is the slope of the line under the arrival times (see
            // `rates`): emulator runs of 250 packets measured 249.99-250.01
            // packets/s on an idle host and beside two busy loops alike,
            // unless the reads stalled (those runs are not compared, see
            // `rates::STALL_MS`), while a profile's wrong rate is a whole step
            // of a device's rate table (Cyton 250 → 500 Hz).
            rate_tolerance: 0.01,
            // A span of the same signal moves little between runs (a sine's
            // peak-to-peak is exact once a period is in), noise's most: the
            // spans of two runs of 250 Gaussian samples were more than 1.5x
            // apart in 0.4 % of 2000 simulated pairs (1.4x: 1.4 %, 1.25x:
            // 10 %). A wrong gain or scale moves a span by the ratio of two
            // gain steps: 2 for most of the Cyton's (1, 2, 4, 8 → 24 by
            // doubling, 12 → 24), which 1.5 catches; 4 → 6, 6 → 8 and
            // 8 → 12 (1.5x and less) it does not.
            span_factor: 1.5,
        }
    }
}

/// The outcome: a readable report and the disagreements found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The report, line by line, sections as the modules wrote them.
    pub text: String,
    /// One line per disagreement (each is also in `text`).
    pub disagreements: Vec<String>,
}

impl Report {
    /// Appends a line.
    pub fn line(&mut self, s: impl AsRef<str>) {
        self.text.push_str(s.as_ref());
        self.text.push('\n');
    }

    /// Appends a section title.
    pub fn section(&mut self, title: &str) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.line(title);
    }

    /// Records a disagreement (its line goes into the text, marked).
    pub fn differs(&mut self, s: String) {
        self.line(format!("  DIFFERS: {s}"));
        self.disagreements.push(s);
    }

    /// Whether the recordings agree.
    pub fn agrees(&self) -> bool {
        self.disagreements.is_empty()
    }
}

/// One recording as the comparisons see it.
pub struct Side {
    /// What its runs are called in the report: `stream` on a serial link,
    /// the characteristic's stream name on BLE (`tp9`).
    pub label: String,
    /// Its pairs and runs.
    pub exchange: Exchange,
    /// Each run cut into packets.
    pub framed: Vec<Framed>,
}

impl Side {
    /// Cuts serial recording `rec` for comparison under `profile`.
    pub fn of(rec: &Recording, profile: &Arc<Profile>, shape: Option<&Shape>) -> Side {
        let exchange = Exchange::of(rec, profile);
        let framed = match shape {
            Some(s) => exchange.runs.iter().map(|r| s.split(r)).collect(),
            None => Vec::new(),
        };
        Side {
            label: "stream".into(),
            exchange,
            framed,
        }
    }

    /// Cuts BLE recording `rec`'s stream `i` for comparison: one packet per
    /// notification of its characteristic.
    pub fn of_ble(
        rec: &Recording,
        profile: &Arc<Profile>,
        i: usize,
        shape: &Shape,
    ) -> Result<Side, String> {
        let exchange = Exchange::of_ble(rec, profile, Some(i))?;
        let framed = exchange
            .runs
            .iter()
            .map(|r| shape.per_notification(r))
            .collect();
        Ok(Side {
            label: profile.streams[i].name.clone(),
            exchange,
            framed,
        })
    }
}

/// Compares recording `a` against `b` under `profile`: a serial one, or a
/// BLE one (see [`diff_ble`]).
pub fn diff(a: &Recording, b: &Recording, profile: &Arc<Profile>, opts: &DiffOptions) -> Report {
    if profile.ble.is_some() {
        return diff_ble(a, b, profile, opts);
    }
    let shape = profile
        .stream()
        .map(|s| Shape::of(s, &profile.initial_state));
    let (sa, sb) = (
        Side::of(a, profile, shape.as_ref()),
        Side::of(b, profile, shape.as_ref()),
    );
    let mut report = Report::default();
    replies::compare(&sa.exchange, &sb.exchange, &mut report);
    if let Some(shape) = &shape {
        framing::compare(shape, &sa, &sb, &mut report);
        rates::compare(shape, &sa, &sb, opts, &mut report);
        ranges::compare(shape, &sa, &sb, opts, &mut report);
    }
    conclude(&mut report);
    report
}

/// Compares two BLE recordings: the GATT tables ([`gatt`]), the writes to
/// the command characteristics and the notifications of the replies one
/// ([`replies`]), then each stream characteristic's notifications as
/// packets ([`framing`], [`rates`], [`ranges`]).
pub fn diff_ble(
    a: &Recording,
    b: &Recording,
    profile: &Arc<Profile>,
    opts: &DiffOptions,
) -> Report {
    let mut report = Report::default();
    gatt::compare(a, b, &mut report);
    match (
        Exchange::of_ble(a, profile, None),
        Exchange::of_ble(b, profile, None),
    ) {
        (Ok(ea), Ok(eb)) => replies::compare(&ea, &eb, &mut report),
        (Err(e), _) | (_, Err(e)) => report.differs(format!("cannot read the recordings: {e}")),
    }
    for (i, stream) in profile.streams.iter().enumerate() {
        let shape = Shape::of(stream, &profile.initial_state);
        let (sa, sb) = match (
            Side::of_ble(a, profile, i, &shape),
            Side::of_ble(b, profile, i, &shape),
        ) {
            (Ok(x), Ok(y)) => (x, y),
            (Err(e), _) | (_, Err(e)) => {
                report.differs(format!("cannot read the recordings: {e}"));
                break;
            }
        };
        // A stream neither side notified (a preset that does not use it).
        if sa
            .framed
            .iter()
            .chain(&sb.framed)
            .all(|f| f.packets.is_empty())
        {
            continue;
        }
        framing::compare(&shape, &sa, &sb, &mut report);
        rates::compare(&shape, &sa, &sb, opts, &mut report);
        ranges::compare(&shape, &sa, &sb, opts, &mut report);
    }
    conclude(&mut report);
    report
}

/// The report's last section: agreement, or the count and the first.
fn conclude(report: &mut Report) {
    report.section("result");
    match report.disagreements.len() {
        0 => report.line("  A and B agree"),
        n => {
            let first = report.disagreements[0].clone();
            report.line(format!("  {n} disagreement(s); the first: {first}"));
        }
    }
}

/// The profile to compare under: `explicit` (a name in `devices`, or a
/// `.yaml` path), else the recordings' `@profile` (which must then agree).
pub fn profile_for(
    a: &Recording,
    b: &Recording,
    explicit: Option<&str>,
    devices: &Path,
) -> Result<Arc<Profile>, String> {
    let name = match (explicit, a.get("profile"), b.get("profile")) {
        (Some(n), _, _) => n.to_string(),
        (None, Some(x), Some(y)) if x != y => {
            return Err(format!(
                "A was recorded with profile `{x}`, B with `{y}`: choose one with --profile"
            ))
        }
        (None, Some(x), _) | (None, None, Some(x)) => x.to_string(),
        (None, None, None) => {
            return Err("neither recording names its profile (`@profile`): use --profile".into())
        }
    };
    let path = if name.ends_with(".yaml") || name.contains('/') {
        Path::new(&name).to_path_buf()
    } else {
        devices.join(format!("{name}.yaml"))
    };
    let profile = Profile::load(&path).map_err(|e| e.to_string())?;
    let transport = match profile.decl.transport {
        TransportDecl::Ble(_) => "ble",
        _ => "serial",
    };
    for (side, rec) in [("A", a), ("B", b)] {
        let t = rec.get("transport").unwrap_or("serial");
        if t != transport {
            return Err(format!(
                "{side} is a `{t}` recording, but `{}` is a {transport} device",
                profile.decl.name
            ));
        }
    }
    Ok(Arc::new(profile))
}

/// `bytes` escaped as a Rust byte string would show them, around `at`: at
/// most 24 bytes before it and 40 from it, cut ends marked with `…`.
pub fn shown(bytes: &[u8], at: usize) -> String {
    let from = at.saturating_sub(24);
    let to = (at + 40).min(bytes.len());
    let mut s = String::from("\"");
    if from > 0 {
        s.insert(0, '…');
    }
    for &b in &bytes[from.min(to)..to] {
        let _ = write!(s, "{}", std::ascii::escape_default(b));
    }
    s.push('"');
    if to < bytes.len() {
        s.push('…');
    }
    s
}

/// `bytes` as hex, space separated.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use boardloop_emulators::recording::{Event, Op};
    use std::time::Duration;

    /// `v` and a reply, `b`, the packets (one read each, 4 ms apart), `s`.
    fn session(packets: &[Vec<u8>]) -> Recording {
        let mut events = vec![(Op::Write, b"v".to_vec()), (Op::Read, b"V3$$$".to_vec())];
        events.push((Op::Write, b"b".to_vec()));
        events.extend(packets.iter().map(|p| (Op::Read, p.clone())));
        events.push((Op::Write, b"s".to_vec()));
        Recording {
            header: vec![("profile".into(), "cyton".into())],
            events: events
                .into_iter()
                .enumerate()
                .map(|(i, (op, bytes))| Event {
                    at: Duration::from_millis(4 * i as u64),
                    op,
                    bytes,
                    line: i + 2,
                })
                .collect(),
        }
    }

    fn packet(counter: u8, len: usize) -> Vec<u8> {
        let mut p = vec![0u8; len];
        (p[0], p[1], p[len - 1]) = (0xA0, counter, 0xC0);
        p[4] = counter;
        p
    }

    fn cyton() -> Arc<Profile> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices/cyton.yaml");
        Arc::new(Profile::load(&path).unwrap())
    }

    #[test]
    fn a_longer_packet_and_a_lost_one_are_named_by_packet_and_byte() {
        let good: Vec<Vec<u8>> = (0..30).map(|k| packet(k, 33)).collect();
        let a = session(&good);
        let mut long = good.clone();
        long[1] = packet(1, 34);
        let r = diff(&a, &session(&long), &cyton(), &DiffOptions::default());
        // Byte 66 is where A's packet 2 starts (line 7) and B's packet 1
        // ends (line 6).
        assert_eq!(
            r.disagreements,
            ["stream 1 packet 1 (stream byte 66; A line 7, B line 6): length 33 in A, 34 in B"],
            "{}",
            r.text
        );
        // Packet 3 lost: packet 3 of B is the device's 4th, its counter steps 2.
        let mut lost = good.clone();
        lost.remove(3);
        let r = diff(&a, &session(&lost), &cyton(), &DiffOptions::default());
        assert_eq!(
            r.disagreements[0],
            "stream 1 packet 3 (stream byte 100; A line 8, B line 8): counter step 1 in A, 2 in B",
            "{}",
            r.text
        );
        // Channel 1 carries the counter in its low byte: constant in B.
        let flat: Vec<Vec<u8>> = (0..30)
            .map(|k| {
                let mut p = packet(k, 33);
                p[4] = 7;
                p
            })
            .collect();
        let r = diff(&a, &session(&flat), &cyton(), &DiffOptions::default());
        assert_eq!(
            r.disagreements,
            ["eeg1: constant in B, varies in A (spans 29 and 0)"],
            "{}",
            r.text
        );
        assert!(diff(&a, &a, &cyton(), &DiffOptions::default()).agrees());
    }

    #[test]
    fn shown_escapes_and_cuts_around_the_offset() {
        assert_eq!(shown(b"v3.1.5\r\n$$$", 3), "\"v3.1.5\\r\\n$$$\"");
        assert_eq!(shown(&[0xa0, 0x00], 0), "\"\\xa0\\x00\"");
        let long = vec![b'x'; 100];
        let s = shown(&long, 50);
        assert!(s.starts_with("…\"") && s.ends_with("\"…"), "{s}");
        assert_eq!(s.matches('x').count(), 64);
        assert_eq!(shown(b"ab", 2), "\"ab\"");
    }
}

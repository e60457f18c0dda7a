//! What every fuzz target checks, beyond "no panic". The targets in
//! `fuzz_targets/` are one line each: a decoder (or parser) and its layout.
//!
//! Serial decoders ([`check_serial`]): the input is cut into arbitrary chunks
//! (sizes drawn from the input itself), and after every chunk
//! * every byte is accounted for: `packets × packet length + garbage +
//!   pending` equals the bytes fed;
//! * no counter goes backwards (packets, rows, lost packets, garbage);
//! * every row has the layout's width, and the rows counted equal the rows
//!   emitted;
//!
//! and at the end the chunked run gave exactly the rows and counters of one
//! run over the whole input: chunking never changes what a decoder reads.
//!
//! BLE decoders ([`check_ganglion`], [`check_muse`]): the input is a sequence
//! of notifications; each is accepted or rejected (counted with its bytes),
//! counters never go backwards, and rows have their preset's width.

use boardloop_boards::codec::cyton::CytonDecoder;
use boardloop_boards::codec::framed::{FrameFormat, FramedDecoder};
use boardloop_boards::codec::ganglion::{GanglionDecoder, GanglionFirmware};
use boardloop_boards::codec::muse::{MuseChar, MuseDecoder, MuseModel, MuseRows};
use boardloop_boards::codec::shimmer3::{Inquiry, Shimmer3Decoder, NUM_ROWS};
use boardloop_boards::codec::DecodeStats;
use boardloop_boards::codec::{Decoder, Input, PresetRows, Rows};
use boardloop_boards::Preset;

/// A byte-stream decoder as the fuzz targets drive it.
pub trait SerialDecoder {
    /// Feeds bytes, appending rows.
    fn feed(&mut self, bytes: &[u8], out: &mut Rows);
    /// Counters so far.
    fn counters(&self) -> DecodeStats;
    /// Bytes held back for a partial packet.
    fn pending(&self) -> usize;
    /// Bytes of one packet.
    fn packet_len(&self) -> usize;
    /// Rows of the layout.
    fn width(&self) -> usize;
}

impl SerialDecoder for CytonDecoder {
    fn feed(&mut self, bytes: &[u8], out: &mut Rows) {
        self.push(bytes, out)
    }
    fn counters(&self) -> DecodeStats {
        self.stats().clone()
    }
    fn pending(&self) -> usize {
        self.pending_bytes()
    }
    fn packet_len(&self) -> usize {
        33
    }
    fn width(&self) -> usize {
        self.num_rows()
    }
}

impl<F: FrameFormat> SerialDecoder for FramedDecoder<F> {
    fn feed(&mut self, bytes: &[u8], out: &mut Rows) {
        self.push(bytes, out)
    }
    fn counters(&self) -> DecodeStats {
        self.stats().clone()
    }
    fn pending(&self) -> usize {
        self.pending_bytes()
    }
    fn packet_len(&self) -> usize {
        self.format().packet_len()
    }
    fn width(&self) -> usize {
        self.format().num_rows()
    }
}

/// The Shimmer3 inquiry of `scenarios/devices/shimmer3.yaml` (512 Hz,
/// buffer size 1, 19 channels of every width and byte order).
pub const SHIMMER3_INQUIRY: [u8; 27] = [
    64, 0, 0, 0, 0, 0, 19, 1, 0x03, 0x1C, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,
    0x1A, 0x1B, 0x1D, 0x1E, 0x1F, 0x20, 0x21, 0x22,
];

/// A Shimmer3 decoder with the profile's layout.
pub fn shimmer3_decoder() -> Shimmer3Decoder {
    // The constant is a valid inquiry (the boards crate's tests parse it too).
    Shimmer3Decoder::with_layout(Inquiry::parse(&SHIMMER3_INQUIRY).expect("valid inquiry"))
}

impl SerialDecoder for Shimmer3Decoder {
    fn feed(&mut self, bytes: &[u8], out: &mut Rows) {
        // Never empty here: an empty input means an idle link, which the
        // chunking must not invent.
        let mut rows = PresetRows::default();
        self.decode(Input::Bytes(bytes), &mut rows);
        out.append(&mut rows[0]);
    }
    fn counters(&self) -> DecodeStats {
        self.stats(Preset::Default)
    }
    fn pending(&self) -> usize {
        self.pending_bytes()
    }
    fn packet_len(&self) -> usize {
        self.layout().map_or(1, Inquiry::packet_len)
    }
    fn width(&self) -> usize {
        NUM_ROWS
    }
}

/// Chunk sizes drawn from the input: a small xorshift seeded by its first
/// bytes, so libFuzzer's mutations explore chunkings too.
fn chunks(data: &[u8]) -> (u64, &[u8]) {
    let (seed, rest) = data.split_at(data.len().min(4));
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    for &b in seed {
        s = (s ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
    }
    (s | 1, rest)
}

fn next_len(state: &mut u64, max: usize) -> usize {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    // Mostly short chunks (packets split anywhere), sometimes long ones.
    let cap = if *state % 8 == 0 { max } else { 40 };
    1 + (*state >> 8) as usize % cap.max(1)
}

fn monotonic(before: &DecodeStats, after: &DecodeStats) {
    assert!(after.packets >= before.packets, "packets went back");
    assert!(after.rows >= before.rows, "rows went back");
    assert!(
        after.lost_packets >= before.lost_packets,
        "lost packets went back"
    );
    assert!(
        after.garbage_bytes >= before.garbage_bytes,
        "garbage went back"
    );
    assert!(after.resyncs >= before.resyncs, "resyncs went back");
}

fn same_rows(a: &Rows, b: &Rows) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        })
}

/// Feeds `data` to decoders made by `make`, chunked and whole; see the
/// module docs for what is asserted.
pub fn check_serial<D: SerialDecoder>(data: &[u8], make: impl Fn() -> D) {
    let (mut state, bytes) = chunks(data);
    let mut d = make();
    let mut rows = Rows::default();
    let mut fed = 0usize;
    let mut pos = 0;
    while pos < bytes.len() {
        let n = next_len(&mut state, bytes.len()).min(bytes.len() - pos);
        let before = d.counters();
        let had = rows.len();
        d.feed(&bytes[pos..pos + n], &mut rows);
        pos += n;
        fed += n;
        let after = d.counters();
        monotonic(&before, &after);
        assert_eq!(
            (after.rows - before.rows) as usize,
            rows.len() - had,
            "rows counted differ from rows emitted"
        );
        let accounted =
            after.packets as usize * d.packet_len() + after.garbage_bytes as usize + d.pending();
        assert_eq!(accounted, fed, "bytes not accounted for: {after:?}");
    }
    for r in &rows {
        assert_eq!(r.len(), d.width(), "row width");
    }
    let mut whole = make();
    let mut whole_rows = Rows::default();
    whole.feed(bytes, &mut whole_rows);
    assert!(same_rows(&rows, &whole_rows), "chunking changed the rows");
    assert_eq!(
        d.counters(),
        whole.counters(),
        "chunking changed the counters"
    );
    assert_eq!(
        d.pending(),
        whole.pending(),
        "chunking changed what is pending"
    );
}

/// Notifications from the input: each a length byte (mod `max + 1`) and that
/// many bytes, with the first byte of each picking `tag`.
fn notifications(data: &[u8], max: usize) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 1 < data.len() {
        let tag = data[pos];
        let len = usize::from(data[pos + 1]) % (max + 1);
        pos += 2;
        let end = (pos + len).min(data.len());
        out.push((tag, &data[pos..end]));
        pos = end;
    }
    out
}

/// Ganglion notifications (the first input byte picks the firmware).
pub fn check_ganglion(data: &[u8], firmware: GanglionFirmware) {
    let mut d = GanglionDecoder::new(firmware);
    let mut rows = Rows::default();
    let (mut n, mut bytes_rejected) = (0u64, 0u64);
    for (_, value) in notifications(data, 24) {
        let before = d.stats().clone();
        let had = rows.len();
        d.decode(value, &mut rows);
        let after = d.stats().clone();
        n += 1;
        if after.rejected > before.rejected {
            bytes_rejected += value.len() as u64;
        }
        monotonic(&before.decode, &after.decode);
        assert_eq!(
            (after.decode.rows - before.decode.rows) as usize,
            rows.len() - had
        );
        assert_eq!(
            after.decode.packets + after.rejected,
            n,
            "notification not accounted for"
        );
        assert_eq!(after.decode.garbage_bytes, bytes_rejected);
    }
    for r in &rows {
        assert_eq!(r.len(), 15, "row width");
    }
}

/// Muse notifications of any characteristic (the tag byte picks it), then a
/// flush at the end, as at stop.
pub fn check_muse(data: &[u8], model: MuseModel) {
    let mut d = MuseDecoder::new(model);
    if data.first().is_some_and(|b| b & 1 == 1) {
        d.expect_aux(true);
    }
    let mut out = MuseRows::default();
    let mut n = 0u64;
    let total = |s: &boardloop_boards::codec::muse::MuseStats| {
        s.default.packets + s.aux.packets + s.anc.packets + s.rejected
    };
    // `stats()` builds the per-characteristic table: take it once per
    // notification, the previous one serving as "before".
    let mut before = d.stats();
    for (tag, value) in notifications(data.get(1..).unwrap_or_default(), 24) {
        let ch = MuseChar::ALL[usize::from(tag) % MuseChar::ALL.len()];
        d.decode(ch, value, &mut out);
        let after = d.stats();
        n += 1;
        monotonic(&before.default, &after.default);
        monotonic(&before.aux, &after.aux);
        monotonic(&before.anc, &after.anc);
        assert_eq!(total(&after), n, "notification not accounted for");
        before = after;
    }
    d.flush(&mut out);
    let s = d.stats();
    assert_eq!(s.default.rows as usize, out.default.len());
    assert_eq!(s.aux.rows as usize, out.aux.len());
    assert_eq!(s.anc.rows as usize, out.anc.len());
    for r in &out.default {
        assert_eq!(r.len(), model.default_rows());
    }
    for r in &out.aux {
        assert_eq!(r.len(), 9);
    }
    for r in &out.anc {
        assert_eq!(r.len(), 6);
    }
}

pub mod profile_gen;
pub mod scenario_gen;
pub mod yaml;

use boardloop_emulators::load::{parse_yaml, LoadError};
use boardloop_emulators::profile::{Profile, ProfileDecl};
use boardloop_emulators::scenario::{Scenario, ScenarioDecl};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// What the loader targets assert of an error: it names the file and a line.
fn located(e: &LoadError, file: &str) {
    assert!(e.to_string().contains(file), "error without the file: {e}");
    assert!(e.line.is_some(), "error without a line: {e}");
}

/// Outcome of one loader run, for the generators' statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    /// Loaded and validated.
    Ok,
    /// Refused, with a located error.
    Err,
    /// Not checked (a scenario naming no shipped device).
    Skipped,
}

/// The device-profile loader on `text`, as file `fuzz/dev.yaml`: it loads
/// or fails with an error naming the file and a line. (Memory is bounded by
/// the run's `-rss_limit_mb`.)
pub fn check_profile(text: &str) -> Loaded {
    match load_profile(text) {
        Ok(_) => Loaded::Ok,
        Err(e) => {
            located(&e, "dev.yaml");
            Loaded::Err
        }
    }
}

fn load_profile(text: &str) -> Result<Profile, LoadError> {
    let path = Path::new("fuzz/dev.yaml");
    parse_yaml::<ProfileDecl>(path, text).and_then(|decl| Profile::from_decl(path, text, decl))
}

/// The profile loader's verdict on `text`: `Ok(true)` loaded, or the error.
pub fn check_profile_result(text: &str) -> Result<bool, String> {
    load_profile(text).map(|_| true).map_err(|e| e.to_string())
}

/// The scenario loader's verdict on `text`: `Ok(true)` loaded, `Ok(false)`
/// no shipped device named, or the error.
pub fn check_scenario_result(text: &str) -> Result<bool, String> {
    load_scenario(text)
        .map(|s| s.is_some())
        .map_err(|e| e.to_string())
}

/// Every shipped profile, loaded once.
pub fn shipped_profiles() -> &'static [Arc<Profile>] {
    static P: OnceLock<Vec<Arc<Profile>>> = OnceLock::new();
    P.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/devices");
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .expect("scenarios/devices")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        v.sort();
        v.iter()
            .map(|p| Arc::new(Profile::load(p).expect("a shipped profile loads")))
            .collect()
    })
}

/// The scenario loader on `text`, as file `scenarios/fuzz/sc.yaml` (inside
/// the scenario tree, so relative CSV paths resolve as they would), with
/// every shipped profile available by name: it loads or fails with an error
/// naming the file and a line.
pub fn check_scenario(text: &str) -> Loaded {
    match load_scenario(text) {
        Ok(Some(_)) => Loaded::Ok,
        Ok(None) => Loaded::Skipped,
        Err(e) => {
            located(&e, "sc.yaml");
            Loaded::Err
        }
    }
}

fn load_scenario(text: &str) -> Result<Option<Scenario>, LoadError> {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/fuzz/sc.yaml"
    ));
    parse_yaml::<ScenarioDecl>(path, text).and_then(|decl| {
        let Some(p) = shipped_profiles()
            .iter()
            .find(|p| p.decl.name == decl.device)
        else {
            return Ok(None);
        };
        Scenario::with_profile(path, text, decl, p.clone()).map(Some)
    })
}

/// With `BOARDLOOP_FUZZ_STATS=N` set, prints every N runs how many inputs
/// loaded, were refused or skipped (how deep a generator gets), to stderr.
pub fn tally(outcome: Loaded) {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    static EVERY: OnceLock<u64> = OnceLock::new();
    static COUNTS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
    let every = *EVERY.get_or_init(|| {
        std::env::var("BOARDLOOP_FUZZ_STATS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    });
    if every == 0 {
        return;
    }
    COUNTS[outcome as usize].fetch_add(1, Relaxed);
    let [ok, err, skipped] = [0, 1, 2].map(|i| COUNTS[i].load(Relaxed));
    let n = ok + err + skipped;
    if n % every == 0 {
        eprintln!(
            "loader outcomes after {n}: ok {ok} ({:.1}%), refused {err} ({:.1}%), skipped {skipped} ({:.1}%)",
            100.0 * ok as f64 / n as f64,
            100.0 * err as f64 / n as f64,
            100.0 * skipped as f64 / n as f64
        );
    }
}

//! Expectations that hold on a physical device as well as on our emulator:
//! the stream's timing measured from the data (`expect.stream`) and each
//! channel's spectrum (`expect.spectral`), and which of a scenario's
//! expectations are portable (`expect.portable`). The harness computes them
//! (`harness/src/portable.rs`); these are their declarations.

use schemars::JsonSchema;
use serde::Deserialize;

/// The expectations a scenario may call portable, by their key in `expect`.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    /// `expect.rows`.
    Rows,
    /// `expect.lost_packets`.
    LostPackets,
    /// `expect.garbage_bytes`.
    GarbageBytes,
    /// `expect.bad_end_bytes`.
    BadEndBytes,
    /// `expect.signal`.
    Signal,
    /// `expect.link_lost`.
    LinkLost,
    /// `expect.commands`.
    Commands,
    /// `expect.error`.
    Error,
    /// `expect.device_state`.
    DeviceState,
    /// `expect.presets`.
    Presets,
    /// `expect.stream`.
    Stream,
    /// `expect.spectral`.
    Spectral,
}

impl CheckName {
    /// Its key in `expect`.
    pub fn key(self) -> &'static str {
        match self {
            CheckName::Rows => "rows",
            CheckName::LostPackets => "lost_packets",
            CheckName::GarbageBytes => "garbage_bytes",
            CheckName::BadEndBytes => "bad_end_bytes",
            CheckName::Signal => "signal",
            CheckName::LinkLost => "link_lost",
            CheckName::Commands => "commands",
            CheckName::Error => "error",
            CheckName::DeviceState => "device_state",
            CheckName::Presets => "presets",
            CheckName::Stream => "stream",
            CheckName::Spectral => "spectral",
        }
    }
}

/// The stream's timing and completeness, measured from the rows' host
/// timestamps and packet counters (no emulator needed).
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StreamExpect {
    /// Nominal sample rate of the rows, Hz, to compare with the rate measured
    /// from the rows' timestamps against their sample index (lost samples
    /// counted): the slope of the line under every row, as rows can arrive
    /// late but never early.
    pub rate_hz: f64,
    /// The measured rate may differ from `rate_hz` by this many percent.
    #[serde(default)]
    pub tolerance_pct: Option<f64>,
    /// Or by this many ppm (with `tolerance_pct`: the wider one).
    #[serde(default)]
    pub tolerance_ppm: Option<f64>,
    /// Inter-arrival jitter bounds: |row interval − 1 / measured rate|, ms,
    /// at these percentiles.
    #[serde(default)]
    pub jitter_ms: Option<JitterExpect>,
    /// The longest interval between two consecutive rows, ms, at most.
    pub max_gap_ms: Option<f64>,
    /// Packets lost, from the counters in the rows (not the driver's
    /// statistics, which a foreign driver may not report).
    pub lost: Option<u64>,
    /// Rows at the start of each stream left out of the timing (a device's
    /// first packets come as the host's read loop starts).
    #[serde(default)]
    pub skip_rows: usize,
}

/// Jitter percentiles, each at most the given ms.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct JitterExpect {
    /// The median.
    pub p50: Option<f64>,
    /// The 99th percentile.
    pub p99: Option<f64>,
}

/// One spectral check: on each channel it names, over each stream.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpectralExpect {
    /// Channels (signal names, or prefix patterns: `eeg*`).
    pub channels: Vec<String>,
    /// The dominant frequency (the largest peak above DC), Hz.
    pub hz: f64,
    /// ± Hz around `hz`.
    pub tolerance_hz: f64,
    /// The signal's RMS (mean removed), in the channel's unit.
    pub rms: Option<f64>,
    /// Its peak-to-peak (between the 1st and 99th percentiles, so a noise
    /// spike does not count), in the channel's unit.
    pub peak_to_peak: Option<f64>,
    /// ± percent for `rms` and `peak_to_peak`.
    #[serde(default = "ten")]
    pub tolerance_pct: f64,
    /// Signal-to-noise ratio at least this many dB: the power at the
    /// dominant frequency and its harmonics over the rest (DC excluded).
    pub snr_db: Option<f64>,
    /// Rows at the start of each stream left out (a command's effect
    /// settling).
    #[serde(default)]
    pub skip_rows: usize,
}

fn ten() -> f64 {
    10.0
}

//! Declared signals: what each channel of an emulated device measures.
//!
//! Every signal is a pure function of the sample index and the sample rate, so the
//! harness can compute the value any sample should have without replaying the
//! emulator (random access: noise is a hash of seed and index, not a stream).

use crate::expr::Expr;
use crate::limits::MAX_CSV_BYTES;
use crate::load::LoadError;
use crate::state::{Scope, State};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// A signal as written in a scenario, in the channel's physical unit (µV, g, …).
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SignalDecl {
    /// `amplitude * sin(2π hz t + phase) + offset`
    Sine(Periodic),
    /// `+amplitude` for the first half of each period, `-amplitude` for the second.
    Square(Periodic),
    /// Rises linearly from `-amplitude` to `+amplitude` once per period.
    Sawtooth(Periodic),
    /// The same value on every sample.
    Constant(f64),
    /// Uniform noise in `[-amplitude, amplitude] + offset`, reproducible from the seed.
    Noise(NoiseDecl),
    /// Values from a CSV column, looping when the file ends.
    Csv(CsvDecl),
}

/// Parameters of a periodic signal.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Periodic {
    /// Frequency in Hz.
    pub hz: f64,
    /// Peak amplitude in the channel's unit.
    pub amplitude: f64,
    /// Added to every value.
    #[serde(default)]
    pub offset: f64,
    /// Phase in degrees.
    #[serde(default)]
    pub phase_deg: f64,
}

/// Parameters of seeded noise.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NoiseDecl {
    /// The seed; the same seed gives the same samples.
    pub seed: u64,
    /// Half-width of the uniform distribution.
    pub amplitude: f64,
    /// Added to every value.
    #[serde(default)]
    pub offset: f64,
}

/// Samples from a CSV file.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CsvDecl {
    /// Path relative to the scenario file.
    pub file: String,
    /// Zero-based column index.
    #[serde(default)]
    pub column: usize,
    /// Whether the first line is a header to skip.
    #[serde(default)]
    pub header: bool,
}

/// A signal ready to evaluate.
#[derive(Debug, Clone)]
pub enum Signal {
    /// See [`SignalDecl::Sine`].
    Sine(Periodic),
    /// See [`SignalDecl::Square`].
    Square(Periodic),
    /// See [`SignalDecl::Sawtooth`].
    Sawtooth(Periodic),
    /// See [`SignalDecl::Constant`].
    Constant(f64),
    /// See [`SignalDecl::Noise`].
    Noise(NoiseDecl),
    /// Loaded CSV samples.
    Samples(Arc<Vec<f64>>),
    /// A signal as a physical device's input sees it: the signal plus the
    /// analog imperfections of a scenario's `realistic` block (the device's
    /// side only; the harness compares with the signal without them).
    Impaired(Box<Signal>, Impairment),
}

/// What a real input adds to a signal: seeded, so a run is reproducible and
/// any sample's value can be computed alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Impairment {
    /// The seed of this channel's noise and hum phase (the scenario's seed
    /// mixed with the channel's name, so channels differ).
    pub seed: u64,
    /// Gaussian noise, RMS in the channel's unit.
    pub noise_rms: f64,
    /// Mains hum frequency, Hz (0: none).
    pub mains_hz: f64,
    /// Mains hum peak amplitude in the channel's unit.
    pub mains_amplitude: f64,
    /// DC offset in the channel's unit.
    pub offset: f64,
}

impl Impairment {
    /// What it adds at sample `n` of a stream sampled at `rate` Hz.
    pub fn value(&self, n: u64, rate: f64) -> f64 {
        let mut v = self.offset;
        if self.mains_hz > 0.0 {
            // A phase of its own per channel, from the seed.
            let phase = unit(splitmix64(self.seed ^ 0x4D41_494E)) * std::f64::consts::TAU;
            let t = n as f64 / rate;
            v += self.mains_amplitude * (std::f64::consts::TAU * self.mains_hz * t + phase).sin();
        }
        if self.noise_rms > 0.0 {
            // Box-Muller on two hashes of (seed, n): Gaussian, random access.
            let k = self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let u1 = unit(splitmix64(k)).max(f64::MIN_POSITIVE);
            let u2 = unit(splitmix64(k ^ 0xD1B5_4A32_D192_ED03));
            v += self.noise_rms * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        }
        v
    }
}

/// 53 random bits of `u` as a number in [0, 1).
fn unit(u: u64) -> f64 {
    (u >> 11) as f64 / (1u64 << 53) as f64
}

/// A stable 64-bit hash of a channel name (FNV-1a), to give each channel its
/// own noise from one scenario seed.
pub fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

impl Signal {
    /// The signal a declaration stands for, or the file it reads (`csv`,
    /// which needs a path to resolve: see [`SignalSet::build`]).
    pub fn of_decl(decl: &SignalDecl) -> Result<Signal, &CsvDecl> {
        Ok(match decl {
            SignalDecl::Sine(p) => Signal::Sine(p.clone()),
            SignalDecl::Square(p) => Signal::Square(p.clone()),
            SignalDecl::Sawtooth(p) => Signal::Sawtooth(p.clone()),
            SignalDecl::Constant(v) => Signal::Constant(*v),
            SignalDecl::Noise(n) => Signal::Noise(n.clone()),
            SignalDecl::Csv(c) => return Err(c),
        })
    }

    /// The value at sample `n` of a stream sampled at `rate` Hz.
    pub fn value(&self, n: u64, rate: f64) -> f64 {
        let t = n as f64 / rate;
        match self {
            Signal::Sine(p) => {
                p.amplitude * (std::f64::consts::TAU * p.hz * t + p.phase_deg.to_radians()).sin()
                    + p.offset
            }
            Signal::Square(p) => {
                let phase = (p.hz * t + p.phase_deg / 360.0).rem_euclid(1.0);
                let v = if phase < 0.5 {
                    p.amplitude
                } else {
                    -p.amplitude
                };
                v + p.offset
            }
            Signal::Sawtooth(p) => {
                let phase = (p.hz * t + p.phase_deg / 360.0).rem_euclid(1.0);
                p.amplitude * (2.0 * phase - 1.0) + p.offset
            }
            Signal::Constant(v) => *v,
            Signal::Noise(d) => {
                let u = splitmix64(d.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                // 53 random bits -> [0, 1) -> [-1, 1)
                let unit = (u >> 11) as f64 / (1u64 << 53) as f64;
                d.amplitude * (2.0 * unit - 1.0) + d.offset
            }
            Signal::Samples(v) => {
                if v.is_empty() {
                    0.0
                } else {
                    v[(n % v.len() as u64) as usize]
                }
            }
            Signal::Impaired(s, i) => s.value(n, rate) + i.value(n, rate),
        }
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The signals of one scenario, by channel name. Keys may end in `*` to cover every
/// channel with that prefix (`eeg*`); an exact name wins over a pattern.
/// A device's own signals (a profile's `signals`, such as the ADS1299's test
/// signal) replace the scenario's while their `when` holds; a device side's
/// set may add analog imperfections ([`SignalSet::impaired`]).
#[derive(Debug, Clone, Default)]
pub struct SignalSet {
    exact: BTreeMap<String, Signal>,
    patterns: Vec<(String, Signal)>,
    generated: Vec<Generated>,
    impairments: Vec<(String, Impairment)>,
}

/// A signal the device makes itself while a condition on its state holds
/// (a profile's `signals` entry, compiled).
#[derive(Debug, Clone)]
pub struct Generated {
    /// The channels it replaces: a name, or a prefix pattern ending in `*`.
    pub channels: String,
    /// It replaces them while this holds in the device's state.
    pub when: Expr,
    /// The signal.
    pub signal: Signal,
}

/// Whether `pattern` (a name, or a prefix ending in `*`) covers `name`.
pub fn covers(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

impl SignalSet {
    /// Builds the set from a scenario's declarations; CSV paths are relative to
    /// `base` and must stay inside `root` (see [`crate::load::confine`]);
    /// errors name the `scenario` file and their line in its text, `source`.
    pub fn build(
        decls: &BTreeMap<String, SignalDecl>,
        base: &Path,
        root: &Path,
        scenario: &Path,
        source: &str,
    ) -> Result<Self, LoadError> {
        let mut set = SignalSet::default();
        for (name, decl) in decls {
            let sig = match Signal::of_decl(decl) {
                Ok(s) => s,
                Err(c) => Signal::Samples(Arc::new(read_csv_column(
                    c,
                    base,
                    root,
                    (scenario, source),
                    name,
                )?)),
            };
            match name.strip_suffix('*') {
                Some(prefix) => set.patterns.push((prefix.to_string(), sig)),
                None => {
                    set.exact.insert(name.clone(), sig);
                }
            }
        }
        // Longest prefix first, so `eeg1*` beats `eeg*`.
        set.patterns.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        Ok(set)
    }

    /// The signal for a channel, if the scenario declared one.
    pub fn get(&self, name: &str) -> Option<&Signal> {
        self.exact.get(name).or_else(|| {
            self.patterns
                .iter()
                .find(|(p, _)| name.starts_with(p.as_str()))
                .map(|(_, s)| s)
        })
    }

    /// The value of channel `name` at sample `n`; undeclared channels read 0.
    pub fn value(&self, name: &str, n: u64, rate: f64) -> f64 {
        self.get(name).map_or(0.0, |s| s.value(n, rate))
    }

    /// The same set with the device's own signals (first match wins).
    pub fn with_generated(mut self, generated: Vec<Generated>) -> Self {
        self.generated = generated;
        self
    }

    /// The same set with analog imperfections on the channels each pattern
    /// covers (a name, or a prefix ending in `*`; the first that covers a
    /// channel applies): what the device's inputs see.
    pub fn impaired(mut self, impairments: Vec<(String, Impairment)>) -> Self {
        self.impairments = impairments;
        self
    }

    /// What channel `name` carries in device state `state`: the device's own
    /// signal if one's `when` holds, else the scenario's; with its
    /// imperfections, if any. `None`: nothing declared (zeros).
    pub fn resolve(&self, name: &str, state: &State) -> Option<Signal> {
        let scope = Scope {
            state,
            extra: &[],
            bindings: &[],
        };
        let base = self
            .generated
            .iter()
            .find(|g| covers(&g.channels, name) && g.when.eval(&scope).is_ok_and(|v| v != 0.0))
            .map(|g| &g.signal)
            .or_else(|| self.get(name))
            .cloned();
        match self.impairments.iter().find(|(p, _)| covers(p, name)) {
            Some((_, imp)) => {
                let mut imp = imp.clone();
                imp.seed ^= name_hash(name);
                Some(Signal::Impaired(
                    Box::new(base.unwrap_or(Signal::Constant(0.0))),
                    imp,
                ))
            }
            None => base,
        }
    }

    /// The value of channel `name` at sample `n` in device state `state`
    /// (see [`SignalSet::resolve`]); 0 when nothing is declared.
    pub fn value_in(&self, name: &str, state: &State, n: u64, rate: f64) -> f64 {
        self.resolve(name, state).map_or(0.0, |s| s.value(n, rate))
    }
}

fn read_csv_column(
    c: &CsvDecl,
    base: &Path,
    root: &Path,
    (scenario, source): (&Path, &str),
    name: &str,
) -> Result<Vec<f64>, LoadError> {
    let field = format!("signals.{name}.csv");
    let err = |m: String| crate::load::semantic_error(scenario, source, field.clone(), &c.file, m);
    let path = crate::load::confine(root, base, &c.file).map_err(err)?;
    // A regular file of bounded size: `/dev/zero` grew without bound.
    let bytes = crate::load::read_limited(&path, MAX_CSV_BYTES)
        .map_err(|e| err(format!("{}: {}", path.display(), e.message)))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(c.header)
        .flexible(true)
        .from_reader(&bytes[..]);
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| err(format!("{}: {e}", path.display())))?;
        let cell = rec.get(c.column).ok_or_else(|| {
            err(format!(
                "{} record {}: no column {}",
                path.display(),
                i + 1,
                c.column
            ))
        })?;
        let v = cell.trim().parse::<f64>().map_err(|_| {
            err(format!(
                "{} record {}: `{cell}` is not a number",
                path.display(),
                i + 1
            ))
        })?;
        out.push(v);
    }
    if out.is_empty() {
        return Err(err(format!("{} has no samples", path.display())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(hz: f64, a: f64) -> Periodic {
        Periodic {
            hz,
            amplitude: a,
            offset: 0.0,
            phase_deg: 0.0,
        }
    }

    #[test]
    fn periodic_shapes() {
        let s = Signal::Sine(p(10.0, 100.0));
        assert!((s.value(25, 1000.0) - 100.0).abs() < 1e-9); // quarter period
        let q = Signal::Square(p(1.0, 5.0));
        assert_eq!(q.value(0, 4.0), 5.0);
        assert_eq!(q.value(2, 4.0), -5.0);
        let w = Signal::Sawtooth(p(1.0, 1.0));
        assert_eq!(w.value(0, 4.0), -1.0);
        assert_eq!(w.value(2, 4.0), 0.0);
    }

    #[test]
    fn noise_is_reproducible_and_bounded() {
        let n = Signal::Noise(NoiseDecl {
            seed: 7,
            amplitude: 3.0,
            offset: 1.0,
        });
        let a: Vec<f64> = (0..1000).map(|i| n.value(i, 250.0)).collect();
        let b: Vec<f64> = (0..1000).map(|i| n.value(i, 250.0)).collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (-2.0..4.0).contains(v)));
        let distinct = a.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(distinct > 990);
    }

    #[test]
    fn patterns_and_exact_names() {
        let mut d = BTreeMap::new();
        d.insert("eeg*".to_string(), SignalDecl::Constant(1.0));
        d.insert("eeg3".to_string(), SignalDecl::Constant(3.0));
        let s =
            SignalSet::build(&d, Path::new("."), Path::new("."), Path::new("s.yaml"), "").unwrap();
        assert_eq!(s.value("eeg1", 0, 250.0), 1.0);
        assert_eq!(s.value("eeg3", 0, 250.0), 3.0);
        assert_eq!(s.value("accel_x", 0, 250.0), 0.0);
    }
}

//! A scenario's `realistic` block: what a physical device does that our
//! emulator otherwise does not (analog noise, mains hum, DC offsets, a clock
//! that drifts, and the host's serial adapter delivering bytes in bursts).
//! Everything is seeded, so a run is reproducible, and only the device's side
//! sees it: the harness's exact comparison keeps the declared signal, so it
//! fails on a realistic device as it does on hardware, while the portable
//! checks (`expect.stream`, `expect.spectral`) hold on both.

use crate::limits::{MAX_CLOCK_PPM, MAX_DELIVERY_MS};
use crate::load::LoadError;
use crate::signal::{Impairment, SignalSet};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Hardware-like behaviour of the emulated device.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RealisticDecl {
    /// The seed of every channel's noise and hum phase (mixed with the
    /// channel's name, so channels differ).
    #[serde(default)]
    pub seed: u64,
    /// What each channel's input adds to its signal, by channel name or
    /// prefix pattern (`eeg*`); an exact name wins over a pattern, a longer
    /// pattern over a shorter one, and the entry that applies applies whole.
    #[serde(default)]
    pub analog: BTreeMap<String, AnalogDecl>,
    /// The device's clock error in ppm: it streams `rate * (1 + ppm / 1e6)`
    /// packets per host second (and its own signals, made from that clock,
    /// run fast or slow with it).
    #[serde(default)]
    pub clock_ppm: f64,
    /// Serial only: the host receives the device's bytes in bursts, every
    /// this many ms, as an FTDI adapter's latency timer delivers them (16 ms
    /// by default on Linux: the cause of BrainFlow's clumped Cyton
    /// timestamps, its issue #298).
    pub delivery_ms: Option<u64>,
}

/// What one channel's input adds to its signal.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AnalogDecl {
    /// Gaussian noise floor, RMS in the channel's unit (µV for ExG).
    #[serde(default)]
    pub noise_rms: f64,
    /// Mains hum.
    pub mains: Option<MainsDecl>,
    /// DC offset in the channel's unit (an electrode's half-cell potential).
    #[serde(default)]
    pub offset: f64,
}

/// Mains hum on a channel.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MainsDecl {
    /// 50 or 60 Hz.
    pub hz: f64,
    /// Peak amplitude in the channel's unit.
    pub amplitude: f64,
}

impl RealisticDecl {
    /// The clock factor: device packets per host second over the nominal rate.
    pub fn clock_factor(&self) -> f64 {
        1.0 + self.clock_ppm / 1e6
    }

    /// `signals` as the device's inputs see them.
    pub fn impair(&self, signals: &SignalSet) -> SignalSet {
        let mut list: Vec<(String, Impairment)> = self
            .analog
            .iter()
            .map(|(k, a)| {
                let (mains_hz, mains_amplitude) =
                    a.mains.as_ref().map_or((0.0, 0.0), |m| (m.hz, m.amplitude));
                (
                    k.clone(),
                    Impairment {
                        seed: self.seed,
                        noise_rms: a.noise_rms,
                        mains_hz,
                        mains_amplitude,
                        offset: a.offset,
                    },
                )
            })
            .collect();
        // Exact names first, then the longer pattern (the first that covers
        // a channel applies).
        list.sort_by_key(|(k, _)| (k.ends_with('*'), std::cmp::Reverse(k.len())));
        signals.clone().impaired(list)
    }

    /// Refuses values that make no sense, naming the field.
    pub fn validate(
        &self,
        ble: bool,
        err: &dyn Fn(String, &str, String) -> LoadError,
    ) -> Result<(), LoadError> {
        let finite = |v: f64| v.is_finite();
        if !finite(self.clock_ppm) || self.clock_ppm.abs() > MAX_CLOCK_PPM {
            return Err(err(
                "realistic.clock_ppm".into(),
                "clock_ppm",
                format!("must be within ±{MAX_CLOCK_PPM}"),
            ));
        }
        match self.delivery_ms {
            Some(_) if ble => {
                return Err(err(
                    "realistic.delivery_ms".into(),
                    "delivery_ms",
                    "is a serial adapter's behaviour; this device is BLE".into(),
                ))
            }
            Some(ms) if ms == 0 || ms > MAX_DELIVERY_MS => {
                return Err(err(
                    "realistic.delivery_ms".into(),
                    "delivery_ms",
                    format!("must be 1..={MAX_DELIVERY_MS}"),
                ))
            }
            _ => {}
        }
        for (k, a) in &self.analog {
            let m = a.mains.as_ref().map_or((0.0, 0.0), |m| (m.hz, m.amplitude));
            let ok = a.noise_rms >= 0.0
                && finite(a.noise_rms)
                && finite(a.offset)
                && m.0 >= 0.0
                && finite(m.0)
                && finite(m.1);
            if !ok {
                return Err(err(
                    format!("realistic.analog.{k}"),
                    k,
                    "needs finite values, `noise_rms` and `mains.hz` not negative".into(),
                ));
            }
        }
        Ok(())
    }
}

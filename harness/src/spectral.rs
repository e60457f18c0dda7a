//! `expect.spectral`: a channel's dominant frequency, amplitude and
//! signal-to-noise ratio, measured from its rows. These hold whatever noise,
//! hum and offset a physical input adds (within the bounds a scenario gives),
//! where the exact comparison with the declared signal cannot.

use crate::timing::percentile;
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

/// What one channel's rows measure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spectrum {
    /// Values used.
    pub n: usize,
    /// The largest spectral peak above DC, Hz (Hann window, the peak's
    /// position refined between bins by a Gaussian fit of its three bins).
    pub dominant_hz: f64,
    /// RMS with the mean removed.
    pub rms: f64,
    /// The 99th percentile minus the 1st.
    pub peak_to_peak: f64,
    /// Signal-to-noise ratio, dB (see [`noise_rms`]).
    pub snr_db: f64,
}

/// The broadband noise of `x`, RMS: from the median absolute second
/// difference (a white noise of σ gives second differences of σ·√6, and
/// their median absolute value is 0.6745 of their σ). The median ignores a
/// square wave's edges, and a signal far below the sample rate barely moves
/// a second difference (a 2 Hz wave at 250 Hz: 0.25 % of its amplitude), so
/// what is left is the noise, mains hum included.
pub fn noise_rms(x: &[f64]) -> f64 {
    let mut d2: Vec<f64> = x
        .windows(3)
        .map(|w| (w[2] - 2.0 * w[1] + w[0]).abs())
        .collect();
    percentile(&mut d2, 50.0) / 0.6745 / 6f64.sqrt()
}

/// `x` without the missing samples (NaN, BrainFlow's "no value") at its
/// start and end, and how many were cut at each. A stream stopped between a
/// batch's notifications ends in a batch whose other channels never came
/// (the Muse driver emits it at stop with NaN there; over BlueZ in the lab
/// VM a stop landed mid-batch in a rehearsal of `muse_2::generator_sine::bluez`,
/// and 12 NaN rows on eeg1-3 poisoned the whole spectrum). A NaN inside the series is a sample lost
/// mid-stream and stays, so the measure fails on it.
pub fn trim_missing(x: &[f64]) -> (&[f64], usize, usize) {
    let lead = x.iter().take_while(|v| v.is_nan()).count();
    let rest = &x[lead..];
    let tail = rest.iter().rev().take_while(|v| v.is_nan()).count();
    (&rest[..rest.len() - tail], lead, tail)
}

/// Measures `x`, sampled at `rate` Hz; `None` for fewer than 16 values.
pub fn measure(x: &[f64], rate: f64) -> Option<Spectrum> {
    let n = x.len();
    if n < 16 {
        return None;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let centred: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let rms = (centred.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
    let mut sorted = centred.clone();
    let p2p = percentile(&mut sorted, 99.0) - percentile(&mut sorted, 1.0);
    let mut buf: Vec<Complex<f64>> = centred
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos();
            Complex::new(v * w, 0.0)
        })
        .collect();
    FftPlanner::new().plan_fft_forward(n).process(&mut buf);
    let mag: Vec<f64> = buf[..n / 2].iter().map(|c| c.norm()).collect();
    // Bin 1 still holds the window's leakage of what DC the mean left.
    let k = (2..mag.len().saturating_sub(1)).max_by(|a, b| mag[*a].total_cmp(&mag[*b]))?;
    let (a, b, c) = (mag[k - 1].ln(), mag[k].ln(), mag[k + 1].ln());
    let denom = a - 2.0 * b + c;
    let delta = if denom.abs() > 1e-12 {
        (0.5 * (a - c) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    let noise = noise_rms(x);
    let signal_var = (rms * rms - noise * noise).max(0.0);
    let snr_db = if noise > 0.0 {
        10.0 * (signal_var / (noise * noise)).log10()
    } else {
        f64::INFINITY
    };
    Some(Spectrum {
        n,
        dominant_hz: (k as f64 + delta) * rate / n as f64,
        rms,
        peak_to_peak: p2p,
        snr_db,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use boardloop_emulators::signal::{Impairment, Periodic, Signal};

    fn series(sig: &Signal, n: u64, rate: f64) -> Vec<f64> {
        (0..n).map(|i| sig.value(i, rate)).collect()
    }

    fn square(hz: f64, amplitude: f64) -> Signal {
        Signal::Square(Periodic {
            hz,
            amplitude,
            offset: 0.0,
            phase_deg: 0.0,
        })
    }

    #[test]
    fn a_test_signal_with_noise_hum_and_offset_measures_as_declared() {
        // The Cyton's fast 1x test signal (1.953125 Hz, ±1875 µV), 3 s at
        // 250 Hz, with 2 µV RMS noise, 10 µV of 50 Hz hum and 300 µV offset.
        let sig = Signal::Impaired(
            Box::new(square(1.953125, 1875.0)),
            Impairment {
                seed: 3,
                noise_rms: 2.0,
                mains_hz: 50.0,
                mains_amplitude: 10.0,
                offset: 300.0,
            },
        );
        let s = measure(&series(&sig, 750, 250.0), 250.0).unwrap();
        assert!((s.dominant_hz - 1.953125).abs() < 0.05, "{s:?}");
        assert!((s.rms / 1875.0 - 1.0).abs() < 0.02, "{s:?}");
        assert!((s.peak_to_peak / 3750.0 - 1.0).abs() < 0.02, "{s:?}");
        // 1875 µV over about 7.4 µV of noise and hum: about 48 dB.
        assert!(s.snr_db > 40.0 && s.snr_db < 60.0, "{s:?}");
    }

    #[test]
    fn noise_alone_has_a_low_snr_and_the_noise_estimate_is_its_rms() {
        let sig = Signal::Impaired(
            Box::new(Signal::Constant(0.0)),
            Impairment {
                seed: 9,
                noise_rms: 5.0,
                mains_hz: 0.0,
                mains_amplitude: 0.0,
                offset: 0.0,
            },
        );
        let x = series(&sig, 2000, 250.0);
        assert!((noise_rms(&x) / 5.0 - 1.0).abs() < 0.1);
        let s = measure(&x, 250.0).unwrap();
        assert!(s.snr_db < 0.0, "{s:?}");
    }

    #[test]
    fn missing_samples_are_cut_at_the_ends_only() {
        let nan = f64::NAN;
        let x = [nan, 1.0, 2.0, nan, 3.0, nan, nan];
        let (v, lead, tail) = trim_missing(&x);
        assert_eq!((v.len(), lead, tail), (4, 1, 2));
        assert!(v[2].is_nan(), "a NaN inside stays");
        assert_eq!(trim_missing(&[nan, nan]).0.len(), 0);
        assert_eq!(trim_missing(&[1.0]), (&[1.0][..], 0, 0));
    }

    #[test]
    fn a_sine_between_bins_is_found_within_a_tenth_of_a_bin() {
        let sig = Signal::Sine(Periodic {
            hz: 10.3,
            amplitude: 50.0,
            offset: 0.0,
            phase_deg: 0.0,
        });
        // 2 s at 250 Hz: bins of 0.5 Hz; 10.3 Hz sits between two.
        let s = measure(&series(&sig, 500, 250.0), 250.0).unwrap();
        assert!((s.dominant_hz - 10.3).abs() < 0.05, "{s:?}");
        assert!((s.rms - 50.0 / 2f64.sqrt()).abs() < 0.5, "{s:?}");
    }
}

//! BrainFlow's synthetic board (id -1): no device, the host makes rows of the
//! same layout, rate and kinds of signal as BrainFlow 5.23's
//! `synthetic_board.cpp`, so a program can be written and tried with no
//! hardware on either library.
//!
//! Per row, at 250 Hz (paced to the clock, not by a sleep per row):
//! * EXG row `i` (0..16): a sine of 5(i+1) Hz around `a = 10(i+1)`,
//!   `a + (a + u(±a·0.1(i+1)/2))·√2·sin(phase + 0.05 i)`; for `i > 5`, around
//!   every `250 / (i+1)`-th counter value the amplitude is scaled by
//!   `2·u(0.9, 1.1)` (a spike);
//! * accelerometer and gyroscope `u(0.9, 1.1) − 0.1`, EDA `u(0.9, 1.1)`, PPG
//!   `500·u` and `253500·u`, temperature `u/10 + 36.5`, resistance `1000·u`,
//!   battery `(u − 0.1)·100`, the package counter 0..=255, host time;
//! * the auxiliary preset's rows the same kinds, its "other" rows their own
//!   row index.
//!
//! `u` is uniform; the generator is seeded from the clock, as BrainFlow's.
//! `config_board` answers `Config:` and the command, as BrainFlow's does.

use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::descr::BoardDescr;
use crate::error::{BoardError, ExitCode, Result};
use crate::host_session::{Feed, HostBoard, HostSource, Layouts};
use crate::ids::{BoardId, Preset};
use crate::registry::{self, BoardDecl, Driver, PresetLayout};
use crate::serial_session::unix_now;

/// BrainFlow's SYNTHETIC_BOARD.
pub static SYNTHETIC: BoardDecl = BoardDecl {
    id: BoardId::Synthetic,
    name: "synthetic",
    layouts: &[
        PresetLayout {
            preset: Preset::Default,
            json: r#"{"accel_channels":[17,18,19],"battery_channel":29,"ecg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eda_channels":[23],"eeg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eeg_names":"Fz,C3,Cz,C4,Pz,PO7,Oz,PO8,F5,F7,F3,F1,F2,F4,F6,F8","emg_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"eog_channels":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"gyro_channels":[20,21,22],"marker_channel":31,"name":"Synthetic","num_rows":32,"package_num_channel":0,"ppg_channels":[24,25],"resistance_channels":[27,28],"sampling_rate":250,"temperature_channels":[26],"timestamp_channel":30}"#,
        },
        PresetLayout {
            preset: Preset::Auxiliary,
            json: r#"{"accel_channels":[2,3,4],"battery_channel":1,"eda_channels":[8],"gyro_channels":[5,6,7],"marker_channel":19,"name":"SyntheticAux","num_rows":20,"other_channels":[14,15,16,17],"package_num_channel":0,"ppg_channels":[9,10],"resistance_channels":[12,13],"sampling_rate":250,"temperature_channels":[11],"timestamp_channel":18}"#,
        },
    ],
    other_rows: &[],
    brainflow_withheld_rows: [0; 3],
    brainflow_command_overrun: 0,
    driver: Driver::Host(|_| Box::new(SyntheticBoard::new())),
    cpp_plugin: None,
};

/// The presets the synthetic board streams.
const PRESETS: [Preset; 2] = [Preset::Default, Preset::Auxiliary];

/// A session of BrainFlow's synthetic board.
pub type SyntheticBoard = HostBoard<Synthetic>;

/// The synthetic board's rows (see the module's documentation).
#[derive(Debug, Default)]
pub struct Synthetic;

impl SyntheticBoard {
    /// An unprepared session.
    pub fn new() -> SyntheticBoard {
        HostBoard::with_source(Synthetic)
    }
}

impl Default for SyntheticBoard {
    fn default() -> Self {
        Self::new()
    }
}

impl HostSource for Synthetic {
    fn board_id(&self) -> BoardId {
        BoardId::Synthetic
    }

    fn prepare(&mut self) -> Result<Layouts> {
        let decl = registry::by_id(BoardId::Synthetic)?;
        let mut layouts: Layouts = Default::default();
        for p in PRESETS {
            layouts[p as usize] = Some(decl.layout(p)?.clone());
        }
        Ok(layouts)
    }

    fn start(&mut self, layouts: &Layouts, feed: &Feed) -> Result<Vec<JoinHandle<()>>> {
        let missing = || BoardError::new(ExitCode::GeneralError, "synthetic layouts missing");
        let default = layouts[Preset::Default as usize]
            .clone()
            .ok_or_else(missing)?;
        let aux = layouts[Preset::Auxiliary as usize]
            .clone()
            .ok_or_else(missing)?;
        let feed = feed.clone();
        let t = std::thread::Builder::new()
            .name("synthetic".into())
            .spawn(move || generate(&default, &aux, &feed))
            .map_err(|e| {
                BoardError::new(ExitCode::StreamThread, format!("unable to start: {e}"))
            })?;
        Ok(vec![t])
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        Ok(format!("Config:{config}"))
    }
}

/// xorshift64*: enough for test signals, and no dependency.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        Rng(t | 1)
    }

    /// Uniform in `[lo, hi)`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        lo + (hi - lo) * (x as f64 / (1u64 << 53) as f64)
    }

    /// BrainFlow's `dist_around_one`.
    fn around_one(&mut self) -> f64 {
        self.uniform(0.9, 1.1)
    }
}

/// The kinds of row every preset fills alike.
fn fill_common(d: &BoardDescr, row: &mut [f64], rng: &mut Rng) {
    for &c in d.accel_channels.iter().chain(&d.gyro_channels) {
        row[c] = rng.around_one() - 0.1;
    }
    for &c in &d.eda_channels {
        row[c] = rng.around_one();
    }
    for (k, &c) in d.ppg_channels.iter().enumerate() {
        row[c] = if k == 0 { 500.0 } else { 253_500.0 } * rng.around_one();
    }
    for &c in &d.temperature_channels {
        row[c] = rng.around_one() / 10.0 + 36.5;
    }
    for &c in &d.resistance_channels {
        row[c] = 1000.0 * rng.around_one();
    }
    if let Some(b) = d.battery_channel {
        row[b] = (rng.around_one() - 0.1) * 100.0;
    }
}

/// The generator thread: one row per preset every 1/rate s of the clock.
fn generate(default: &BoardDescr, aux: &BoardDescr, feed: &Feed) {
    let rate = f64::from(default.sampling_rate.max(1));
    let mut rng = Rng::seeded();
    let exg = &default.eeg_channels;
    let mut phase = vec![0.0f64; exg.len()];
    let mut row = vec![0.0; default.num_rows];
    let mut aux_row = vec![0.0; aux.num_rows];
    let start = Instant::now();
    let mut k: u64 = 0;
    loop {
        let counter = (k % 256) as i64;
        row[default.package_num_channel] = counter as f64;
        for (i, &c) in exg.iter().enumerate() {
            let n = (i + 1) as f64;
            let mut amplitude = 10.0 * n;
            let range = amplitude * 0.1 * n / 2.0;
            let freq = 5.0 * n;
            let peak = (rate as i64 / (i as i64 + 1)).max(1);
            phase[i] += 2.0 * std::f64::consts::PI * freq / rate;
            if phase[i] > 2.0 * std::f64::consts::PI {
                phase[i] -= 2.0 * std::f64::consts::PI;
            }
            // As BrainFlow's: the counter as an int, so counter - 1 is -1 at 0.
            if i > 5
                && (counter % peak == 0 || (counter - 1) % peak == 0 || (counter + 1) % peak == 0)
            {
                amplitude *= rng.around_one() * 2.0;
            }
            let noise = rng.uniform(-range, range);
            row[c] = amplitude
                + (amplitude + noise)
                    * std::f64::consts::SQRT_2
                    * (phase[i] + 0.05 * i as f64).sin();
        }
        fill_common(default, &mut row, &mut rng);
        for &c in &aux.other_channels {
            aux_row[c] = c as f64;
        }
        aux_row[aux.package_num_channel] = counter as f64;
        fill_common(aux, &mut aux_row, &mut rng);
        let now = unix_now();
        row[default.timestamp_channel] = now;
        aux_row[aux.timestamp_channel] = now;
        feed.with(|outlets, stats| {
            outlets[Preset::Default as usize].push_marked(&mut row, default.marker_channel);
            outlets[Preset::Auxiliary as usize].push_marked(&mut aux_row, aux.marker_channel);
            stats.packets += 1;
            stats.rows += 1;
        });
        k += 1;
        // Paced to the clock: row k is due k/rate s after the start, so the
        // rate holds however long a row took or a sleep overslept.
        if !feed.sleep_until(start + Duration::from_secs_f64(k as f64 / rate)) {
            return;
        }
    }
}

#[cfg(test)]
mod tests;

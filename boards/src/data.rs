//! The 2-D sample matrix returned by `get_board_data`.

use serde::Serialize;

/// A `num_rows × num_samples` matrix in BrainFlow's channel-major order:
/// `values[row * num_samples + sample]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Data {
    /// Rows per sample (the board's `num_rows`).
    pub num_rows: usize,
    /// Number of samples (columns).
    pub num_samples: usize,
    /// Channel-major values.
    pub values: Vec<f64>,
}

impl Data {
    /// An empty matrix with the given row count.
    pub fn empty(num_rows: usize) -> Self {
        Data {
            num_rows,
            num_samples: 0,
            values: Vec::new(),
        }
    }

    /// Builds a channel-major matrix from sample-major rows (each of `num_rows`
    /// values). Rows shorter than `num_rows` are padded with zeros.
    pub fn from_samples<S: AsRef<[f64]>>(num_rows: usize, samples: &[S]) -> Self {
        let n = samples.len();
        let mut values = vec![0.0; num_rows * n];
        for (s, sample) in samples.iter().enumerate() {
            for (r, v) in sample.as_ref().iter().take(num_rows).enumerate() {
                values[r * n + s] = *v;
            }
        }
        Data {
            num_rows,
            num_samples: n,
            values,
        }
    }

    /// One channel's values across all samples. Panics if `r >= num_rows`.
    pub fn row(&self, r: usize) -> &[f64] {
        &self.values[r * self.num_samples..(r + 1) * self.num_samples]
    }

    /// One sample's values across all rows. Panics if `s >= num_samples`.
    pub fn sample(&self, s: usize) -> Vec<f64> {
        assert!(s < self.num_samples, "sample index out of range");
        (0..self.num_rows)
            .map(|r| self.values[r * self.num_samples + s])
            .collect()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.num_samples == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_channel_major() {
        let d = Data::from_samples(3, &[vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
        assert_eq!(d.values, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(d.row(1), &[2.0, 5.0]);
        assert_eq!(d.sample(1), vec![4.0, 5.0, 6.0]);
        assert!(!d.is_empty());
        assert!(Data::empty(3).is_empty());
    }
}

//! One flat container of decoded rows, reused from call to call.
//!
//! Decoders used to append one `Vec<f64>` per sample: an allocation (and a
//! free, once the session had copied it into its ring) for every 24 values.
//! At the Cyton's 33-byte packets that capped the decoder near 270 MiB/s of
//! input (per CPU second); writing into [`Rows`] alone took it to about
//! 910 MiB/s, so some 70 % of its time went to those allocations. [`Rows`]
//! keeps every row of one width back to back in a single `Vec<f64>`, so
//! after the first few calls a decoder writes rows without allocating at
//! all: the session clears the container after storing its rows and the
//! capacity stays.

use serde::ser::{Serialize, SerializeSeq, Serializer};

/// Rows of one width, stored sample-major in one buffer:
/// row `i` is `as_flat()[i * width..(i + 1) * width]`.
///
/// A default container has width 0, "not chosen yet": the decoder that
/// fills it sets its width ([`Rows::set_width`]) on the first row.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    width: usize,
    data: Vec<f64>,
}

impl Rows {
    /// An empty container of rows `width` values wide.
    pub fn new(width: usize) -> Self {
        Rows {
            width,
            data: Vec::new(),
        }
    }

    /// An empty container with room for `rows` rows before it reallocates.
    pub fn with_capacity(width: usize, rows: usize) -> Self {
        Rows {
            width,
            data: Vec::with_capacity(width * rows),
        }
    }

    /// Values per row (0 while no decoder has chosen it).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Makes the rows `width` wide. A decoder calls this before writing, so a
    /// default container takes the decoder's width.
    ///
    /// # Panics
    /// If rows of another width are held: two decoders writing into one
    /// container is a caller's bug, and mixing widths would misalign every
    /// later row.
    #[inline]
    pub fn set_width(&mut self, width: usize) {
        if self.width != width {
            assert!(
                self.data.is_empty(),
                "Rows holds rows {} wide, cannot add rows {width} wide",
                self.width
            );
            self.width = width;
        }
    }

    /// Number of rows held.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.width).unwrap_or(0)
    }

    /// True when no row is held.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `i`. Panics if `i >= len()`.
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.width..(i + 1) * self.width]
    }

    /// Row `i`, writable. Panics if `i >= len()`.
    #[inline]
    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.data[i * self.width..(i + 1) * self.width]
    }

    /// The newest row, if any.
    pub fn last(&self) -> Option<&[f64]> {
        self.len().checked_sub(1).map(|i| self.row(i))
    }

    /// The rows, oldest first.
    pub fn iter(&self) -> std::slice::ChunksExact<'_, f64> {
        // `chunks_exact` refuses 0; a width-0 container holds no data anyway.
        self.data.chunks_exact(self.width.max(1))
    }

    /// The rows, oldest first, writable (the sessions stamp timestamp and
    /// marker in place before copying rows into their ring).
    pub fn iter_mut(&mut self) -> std::slice::ChunksExactMut<'_, f64> {
        self.data.chunks_exact_mut(self.width.max(1))
    }

    /// Appends a row of zeros and returns it for the decoder to fill.
    ///
    /// Zeros keep this safe and leave the rows a decoder does not write
    /// (timestamp, marker) at 0, as the sessions expect. The fill of a
    /// runtime width is a `memset` call; hot paths with a fixed width use
    /// [`Rows::push_zeroed_array`].
    #[inline]
    pub fn push_zeroed(&mut self) -> &mut [f64] {
        debug_assert!(self.width > 0, "Rows::push_zeroed before set_width");
        let start = self.data.len();
        self.data.resize(start + self.width, 0.0);
        &mut self.data[start..]
    }

    /// [`Rows::push_zeroed`] for a width known at compile time: the zeros
    /// are a few inlined vector stores instead of a `memset` call, and the
    /// fixed-size row lets the compiler drop bounds checks. The call was
    /// 15 % of the Cyton decoder's time (perf, 4 KiB reads).
    ///
    /// # Panics
    /// If the width is not `N`.
    #[inline]
    pub fn push_zeroed_array<const N: usize>(&mut self) -> &mut [f64; N] {
        assert_eq!(self.width, N, "row width");
        let start = self.data.len();
        self.data.extend_from_slice(&[0.0; N]);
        let row: &mut [f64] = &mut self.data[start..];
        row.try_into().expect("N values were just appended")
    }

    /// Appends a copy of `row`.
    ///
    /// # Panics
    /// If `row.len()` is not the width.
    pub fn push_row(&mut self, row: &[f64]) {
        assert_eq!(row.len(), self.width, "row width");
        self.data.extend_from_slice(row);
    }

    /// Keeps the first `n` rows (all if fewer are held).
    pub fn truncate(&mut self, n: usize) {
        self.data.truncate(n.saturating_mul(self.width));
    }

    /// Removes every row; the width and the capacity stay.
    #[inline]
    pub fn clear(&mut self) {
        self.data.clear();
    }

    /// Moves every row of `other` to the end of `self`, leaving `other`
    /// empty (its capacity stays, for its next rows).
    ///
    /// # Panics
    /// If both hold rows of different widths.
    pub fn append(&mut self, other: &mut Rows) {
        if other.is_empty() {
            return;
        }
        self.set_width(other.width);
        self.data.append(&mut other.data);
    }

    /// Every value, row after row.
    pub fn as_flat(&self) -> &[f64] {
        &self.data
    }

    /// Copies the rows out as one `Vec` each (tests, tools; not a hot path).
    pub fn to_vecs(&self) -> Vec<Vec<f64>> {
        self.iter().map(<[f64]>::to_vec).collect()
    }
}

/// Equal when both hold the same rows (value by value, so NaN ≠ NaN, as
/// `Vec<Vec<f64>>` compared); two empty containers are equal whatever their
/// widths.
impl PartialEq for Rows {
    fn eq(&self, other: &Rows) -> bool {
        self.data.len() == other.data.len()
            && (self.data.is_empty() || self.width == other.width)
            && self.data == other.data
    }
}

impl std::ops::Index<usize> for Rows {
    type Output = [f64];

    fn index(&self, i: usize) -> &[f64] {
        self.row(i)
    }
}

impl std::ops::IndexMut<usize> for Rows {
    fn index_mut(&mut self, i: usize) -> &mut [f64] {
        self.row_mut(i)
    }
}

impl<'a> IntoIterator for &'a Rows {
    type Item = &'a [f64];
    type IntoIter = std::slice::ChunksExact<'a, f64>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Serialised as a list of rows, as `Vec<Vec<f64>>` was (the
/// `decode_file` example prints rows as JSON for comparison with BrainFlow).
impl Serialize for Rows {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for row in self {
            seq.serialize_element(row)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_flat_and_reused() {
        let mut r = Rows::default();
        assert_eq!((r.width(), r.len()), (0, 0));
        assert_eq!(r.iter().count(), 0);
        r.set_width(3);
        r.push_zeroed()[1] = 2.0;
        r.push_zeroed_array::<3>()[..].copy_from_slice(&[4.0, 5.0, 6.0]);
        assert_eq!(r.len(), 2);
        assert_eq!(&r[0], &[0.0, 2.0, 0.0]);
        assert_eq!(r.row(1), &[4.0, 5.0, 6.0]);
        assert_eq!(r.last(), Some(&[4.0, 5.0, 6.0][..]));
        assert_eq!(r.as_flat(), &[0.0, 2.0, 0.0, 4.0, 5.0, 6.0]);
        for row in r.iter_mut() {
            row[2] = 9.0;
        }
        assert_eq!(r.to_vecs(), vec![vec![0.0, 2.0, 9.0], vec![4.0, 5.0, 9.0]]);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            "[[0.0,2.0,9.0],[4.0,5.0,9.0]]"
        );
        let cap = r.data.capacity();
        r.clear();
        assert!(r.is_empty());
        r.push_zeroed();
        assert_eq!(r.data.capacity(), cap, "clear keeps the buffer");
        r.truncate(0);
        // Empty: another width may be chosen.
        r.set_width(2);
        assert_eq!(r, Rows::new(5), "empty containers are equal");
        let mut other = Rows::new(2);
        other.push_row(&[1.0, 2.0]);
        assert_eq!(other.as_flat(), &[1.0, 2.0]);
        r.append(&mut other);
        assert!(other.is_empty());
        assert_eq!(r.len(), 1);
    }

    #[test]
    #[should_panic(expected = "cannot add rows 4 wide")]
    fn widths_never_mix() {
        let mut r = Rows::new(3);
        r.push_zeroed();
        r.set_width(4);
    }
}

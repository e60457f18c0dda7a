//! BrainFlow's ring buffer of rows: fixed capacity, oldest overwritten.

use crate::data::Data;

/// A fixed-capacity FIFO of samples (each `num_rows` values). When full, a push
/// overwrites the oldest sample, like BrainFlow's `DataBuffer`.
#[derive(Clone, Debug)]
pub struct RingBuffer {
    num_rows: usize,
    capacity: usize,
    /// Sample-major storage: slot `i` occupies `buf[i*num_rows..(i+1)*num_rows]`.
    buf: Vec<f64>,
    /// Slot of the oldest sample.
    head: usize,
    count: usize,
}

impl RingBuffer {
    /// A buffer holding up to `capacity_samples` samples of `num_rows` values.
    /// A zero capacity is bumped to 1 so pushes never divide by zero; the
    /// session API rejects 0 before getting here.
    pub fn new(capacity_samples: usize, num_rows: usize) -> Self {
        let capacity = capacity_samples.max(1);
        RingBuffer {
            num_rows,
            capacity,
            buf: vec![0.0; capacity * num_rows],
            head: 0,
            count: 0,
        }
    }

    /// Values per sample.
    pub fn num_rows(&self) -> usize {
        self.num_rows
    }

    /// Maximum number of samples held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Appends one sample; values beyond `num_rows` are ignored, missing ones
    /// are zero. Overwrites the oldest sample when full.
    pub fn push(&mut self, sample: &[f64]) {
        let slot = (self.head + self.count) % self.capacity;
        let dst = &mut self.buf[slot * self.num_rows..(slot + 1) * self.num_rows];
        let n = sample.len().min(self.num_rows);
        dst[..n].copy_from_slice(&sample[..n]);
        dst[n..].fill(0.0);
        if self.count == self.capacity {
            self.head = (self.head + 1) % self.capacity;
        } else {
            self.count += 1;
        }
    }

    /// Samples currently held.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Removes all samples.
    pub fn clear(&mut self) {
        self.head = 0;
        self.count = 0;
    }

    /// Copies `n` samples starting `offset` after the oldest.
    fn copy_range(&self, offset: usize, n: usize) -> Data {
        let mut values = vec![0.0; self.num_rows * n];
        for s in 0..n {
            let slot = (self.head + offset + s) % self.capacity;
            let src = &self.buf[slot * self.num_rows..(slot + 1) * self.num_rows];
            for (r, v) in src.iter().enumerate() {
                values[r * n + s] = *v;
            }
        }
        Data {
            num_rows: self.num_rows,
            num_samples: n,
            values,
        }
    }

    /// Removes and returns the oldest `n` samples (fewer if fewer are held).
    pub fn pop_oldest(&mut self, n: usize) -> Data {
        let n = n.min(self.count);
        let d = self.copy_range(0, n);
        self.head = (self.head + n) % self.capacity;
        self.count -= n;
        d
    }

    /// Copies the newest `n` samples (fewer if fewer are held), oldest first,
    /// without removing them.
    pub fn peek_newest(&self, n: usize) -> Data {
        let n = n.min(self.count);
        self.copy_range(self.count - n, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: f64) -> Vec<f64> {
        vec![v, v * 10.0]
    }

    #[test]
    fn push_pop_peek() {
        let mut rb = RingBuffer::new(4, 2);
        assert_eq!(rb.count(), 0);
        assert!(rb.pop_oldest(3).is_empty());
        for i in 0..3 {
            rb.push(&s(i as f64));
        }
        assert_eq!(rb.count(), 3);
        let p = rb.peek_newest(2);
        assert_eq!(p.row(0), &[1.0, 2.0]);
        assert_eq!(p.row(1), &[10.0, 20.0]);
        assert_eq!(rb.count(), 3, "peek does not remove");
        let d = rb.pop_oldest(2);
        assert_eq!(d.row(0), &[0.0, 1.0]);
        assert_eq!(rb.count(), 1);
        let d = rb.pop_oldest(10);
        assert_eq!(d.row(0), &[2.0]);
        assert_eq!(rb.count(), 0);
    }

    #[test]
    fn overwrite_oldest_when_full() {
        let mut rb = RingBuffer::new(3, 2);
        for i in 0..7 {
            rb.push(&s(i as f64));
        }
        assert_eq!(rb.count(), 3);
        assert_eq!(rb.peek_newest(5).row(0), &[4.0, 5.0, 6.0]);
        assert_eq!(rb.peek_newest(1).row(0), &[6.0]);
        assert_eq!(rb.pop_oldest(2).row(0), &[4.0, 5.0]);
        rb.push(&s(7.0));
        rb.push(&s(8.0));
        rb.push(&s(9.0));
        assert_eq!(rb.pop_oldest(100).row(0), &[7.0, 8.0, 9.0]);
    }

    #[test]
    fn short_and_long_samples() {
        let mut rb = RingBuffer::new(2, 3);
        rb.push(&[1.0]);
        rb.push(&[1.0, 2.0, 3.0, 4.0]);
        let d = rb.pop_oldest(2);
        assert_eq!(d.sample(0), vec![1.0, 0.0, 0.0]);
        assert_eq!(d.sample(1), vec![1.0, 2.0, 3.0]);
        let mut z = RingBuffer::new(0, 1);
        z.push(&[5.0]);
        assert_eq!(z.count(), 1);
    }
}

//! OpenBCI channel-gain tracking, following BrainFlow's `OpenBCIGainTracker`:
//! the host must know each channel's PGA gain to scale raw counts to µV, and
//! the only way to know it is to watch the configuration commands sent.

/// ADS1299 gain for each gain-index character `'0'..='6'`.
pub const GAIN_VALUES: [f64; 7] = [1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 24.0];

/// The power-on default gain.
pub const DEFAULT_GAIN: f64 = 24.0;

/// Channel letters in a `x C P G I B S2 S1 X` block: `1`–`8` for the main
/// board, `QWERTYUI` for the Daisy's channels 9–16.
pub const CHANNEL_LETTERS: &[u8; 16] = b"12345678QWERTYUI";

/// Tracks the gain of up to 16 channels from configuration strings.
#[derive(Clone, Debug, PartialEq)]
pub struct GainTracker {
    gains: Vec<f64>,
}

impl GainTracker {
    /// A tracker for `num_channels` channels (8 or 16), all at the default gain.
    pub fn new(num_channels: usize) -> Self {
        GainTracker {
            gains: vec![DEFAULT_GAIN; num_channels.min(CHANNEL_LETTERS.len())],
        }
    }

    /// Current gains, one per channel.
    pub fn gains(&self) -> &[f64] {
        &self.gains
    }

    /// Replaces the gains (extra values ignored, missing ones unchanged).
    pub fn set_gains(&mut self, gains: &[f64]) {
        for (g, v) in self.gains.iter_mut().zip(gains) {
            *g = *v;
        }
    }

    /// Scans a configuration string and updates gains. Returns true if any
    /// gain changed or was reset. Only well-formed 9-character blocks count,
    /// because the firmware rejects the others (`Failure: ...`) and leaves the
    /// channel as it was.
    pub fn apply_config(&mut self, config: &str) -> bool {
        if config == "d" {
            self.gains.fill(DEFAULT_GAIN);
            return true;
        }
        let b = config.as_bytes();
        let mut changed = false;
        let mut i = 0;
        while i + 9 <= b.len() {
            if let Some((ch, gain)) = parse_block(&b[i..i + 9]) {
                if ch < self.gains.len() {
                    self.gains[ch] = gain;
                    changed = true;
                }
                i += 9;
            } else {
                i += 1;
            }
        }
        changed
    }
}

impl GainTracker {
    /// Checks a configuration string the way BrainFlow does before sending it:
    /// every 9-character span that starts with `x` and ends with `X` must be a
    /// valid channel-settings block for a channel this board has. BrainFlow
    /// refuses such a command with INVALID_ARGUMENTS and never sends it, so
    /// the host's gains cannot drift from the device's.
    pub fn check(&self, config: &str) -> Result<(), String> {
        let b = config.as_bytes();
        let mut i = 0;
        while i + 9 <= b.len() {
            if b[i] == b'x' && b[i + 8] == b'X' {
                let block = &b[i..i + 9];
                match parse_block(block) {
                    Some((ch, _)) if ch < self.gains.len() => {}
                    _ => {
                        return Err(format!(
                            "invalid channel settings block {:?} for a {}-channel board",
                            String::from_utf8_lossy(block),
                            self.gains.len()
                        ))
                    }
                }
                i += 9;
            } else {
                i += 1;
            }
        }
        Ok(())
    }
}

/// Parses one `x C P G I B S2 S1 X` block into (channel index, gain).
fn parse_block(b: &[u8]) -> Option<(usize, f64)> {
    if b.len() != 9 || b[0] != b'x' || b[8] != b'X' {
        return None;
    }
    let ch = CHANNEL_LETTERS.iter().position(|&c| c == b[1])?;
    let bit = |c: u8| c == b'0' || c == b'1';
    let gain_idx = b[3].checked_sub(b'0').filter(|g| *g <= 6)?;
    let input_ok = (b'0'..=b'7').contains(&b[4]);
    if bit(b[2]) && input_ok && bit(b[5]) && bit(b[6]) && bit(b[7]) {
        Some((ch, GAIN_VALUES[gain_idx as usize]))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_set_gains() {
        let mut t = GainTracker::new(16);
        assert!(t.apply_config("x1030110X"));
        assert_eq!(t.gains()[0], 6.0);
        // Stacked blocks, Daisy letters, and garbage around them.
        assert!(t.apply_config("zzx2000000Xx8160000XxQ000000XxI610111X"));
        assert_eq!(t.gains()[1], 1.0);
        assert_eq!(t.gains()[7], 24.0);
        assert_eq!(t.gains()[8], 1.0);
        assert_eq!(t.gains()[15], 24.0);
        assert_eq!(t.gains()[2], 24.0);
    }

    #[test]
    fn invalid_blocks_ignored() {
        let mut t = GainTracker::new(8);
        for bad in [
            "x1070110X", // gain index 7
            "x1238110X", // input 8
            "x1030110Y", // 9th char not X
            "x9030110X", // bad channel letter
            "x2030210X", // bias not 0/1
            "x103011X",  // too short
            "xQ030110X", // Daisy channel on an 8-channel board
        ] {
            assert!(!t.apply_config(bad), "{bad}");
        }
        assert!(t.gains().iter().all(|g| *g == 24.0));
    }

    #[test]
    fn check_refuses_what_brainflow_refuses() {
        let t = GainTracker::new(8);
        assert!(t.check("x1030110X").is_ok());
        assert!(
            t.check("x106X").is_ok(),
            "not a block: the device answers it"
        );
        assert!(t.check("v").is_ok());
        for bad in ["x9030110X", "xQ030110X", "x1070110X", "x1030110Xx2038110X"] {
            let e = t.check(bad).unwrap_err();
            assert!(e.contains("invalid channel settings block"), "{bad}: {e}");
        }
        assert!(GainTracker::new(16).check("xQ030110X").is_ok());
    }

    #[test]
    fn d_resets() {
        let mut t = GainTracker::new(8);
        t.apply_config("x3000000X");
        assert_eq!(t.gains()[2], 1.0);
        assert!(!t.apply_config("dd"));
        assert_eq!(t.gains()[2], 1.0);
        assert!(t.apply_config("d"));
        assert_eq!(t.gains()[2], 24.0);
        t.set_gains(&[2.0; 20]);
        assert!(t.gains().iter().all(|g| *g == 2.0));
    }
}

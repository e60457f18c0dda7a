//! Resynchronisation shared by the OpenBCI-style framings (Cyton, Knight):
//! a start byte, a counter, payload, an end byte. After garbage, a start byte
//! inside packet data could pose as a packet, so a candidate frame is only
//! accepted once the bytes around it confirm it.

/// Outcome of checking a candidate frame while resynchronising.
pub(crate) enum Confirm {
    /// The candidate is a real packet.
    Accept,
    /// The candidate is not a packet: skip its start byte.
    Reject,
    /// The answer depends on bytes not received yet.
    Wait,
}

/// The framing a candidate is checked against.
pub(crate) struct Framing {
    /// Start byte of every packet.
    pub start_byte: u8,
    /// Full packet length including start and end bytes.
    pub packet_len: usize,
    /// Which end bytes make a valid frame (Cyton has several, Knight one).
    pub is_end_byte: fn(u8) -> bool,
    /// How far past a candidate to look for the next start byte; bounds the
    /// bytes held back while resynchronising.
    pub max_gap: usize,
}

/// Decides whether the candidate frame at `pos` (start byte and end byte
/// already valid) is real while resynchronising. Confirmed if
/// * its counter continues `last_counter`, or
/// * the byte right after it is a start byte (back-to-back packets), or
/// * after a gap of non-start bytes, the next frame is valid and its
///   counter follows the candidate's (packets separated by junk).
///
/// Waits for more bytes when the answer depends on bytes not yet received.
pub(crate) fn confirm(f: &Framing, last_counter: Option<u8>, buf: &[u8], pos: usize) -> Confirm {
    let counter = buf[pos + 1];
    if last_counter.map(|c| c.wrapping_add(1)) == Some(counter) {
        return Confirm::Accept;
    }
    let after = pos + f.packet_len;
    let window_end = buf.len().min(after + f.max_gap);
    match buf[after..window_end]
        .iter()
        .position(|&b| b == f.start_byte)
    {
        Some(0) => Confirm::Accept,
        Some(off) => match buf.get(after + off..after + off + f.packet_len) {
            None => Confirm::Wait,
            Some(next)
                if (f.is_end_byte)(next[f.packet_len - 1])
                    && next[1] == counter.wrapping_add(1) =>
            {
                Confirm::Accept
            }
            Some(_) => Confirm::Reject,
        },
        // No start byte yet: a later one may still confirm the candidate.
        None if buf.len() < after + f.max_gap => Confirm::Wait,
        None => Confirm::Reject,
    }
}

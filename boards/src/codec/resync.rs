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

/// Feeds `bytes` to `scan` (which decodes what it can of a slice and returns
/// how many bytes it consumed, stopping only where it needs bytes not there
/// yet), keeping the unconsumed tail in `pending` for the next call.
///
/// The decoders used to append every input to `pending` and scan that, so
/// each byte was copied once more and the tail moved down after each call.
/// Here the input is scanned in place whenever nothing is pending. With a
/// pending tail shorter than a packet (the usual case: a packet cut by the
/// read), exactly the bytes that complete it are appended, so in sync the
/// scan consumes all of `pending` and the rest of the input is again scanned
/// in place; a longer tail (a candidate waiting for confirmation while
/// resynchronising) gets up to `lookahead` bytes, enough to decide it.
///
/// Reads of at most [`SMALL_INPUT`] bytes are simply appended to a pending
/// tail and scanned together: there the second scan call cost more than the
/// copy saved (Cyton, 64-byte reads: 770 against 860 MiB/s of CPU time).
///
/// The result equals scanning `pending ++ bytes` in one go because `scan`
/// is resumable: it stops only before a step that needs more bytes, with no
/// side effect of that step done, which is also what makes the decoders
/// chunking-invariant (the fuzz targets check it).
/// Below this many input bytes, [`feed`] appends the input to a pending tail
/// rather than completing the tail and scanning the input in place.
const SMALL_INPUT: usize = 512;

pub(crate) fn feed(
    pending: &mut Vec<u8>,
    bytes: &[u8],
    packet_len: usize,
    lookahead: usize,
    mut scan: impl FnMut(&[u8]) -> usize,
) {
    let mut rest = bytes;
    if !pending.is_empty() && rest.len() <= SMALL_INPUT {
        // Small reads: one scan over the joined bytes is cheaper than
        // completing the tail first and scanning twice.
        pending.extend_from_slice(rest);
        let consumed = scan(&pending[..]);
        pending.drain(..consumed);
        return;
    }
    while !pending.is_empty() && !rest.is_empty() {
        let old = pending.len();
        let want = if old < packet_len {
            packet_len - old
        } else {
            lookahead
        };
        let take = rest.len().min(want);
        pending.extend_from_slice(&rest[..take]);
        let consumed = scan(&pending[..]);
        if consumed >= old {
            // The pending bytes are decided: go on from the input itself.
            rest = &rest[consumed - old..];
            pending.clear();
        } else {
            rest = &rest[take..];
            pending.drain(..consumed);
        }
    }
    if pending.is_empty() {
        let consumed = scan(rest);
        pending.extend_from_slice(&rest[consumed..]);
    }
}

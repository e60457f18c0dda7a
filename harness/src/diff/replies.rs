//! Commands and replies: the host's writes in order, and the device's reply
//! to each one outside streaming, byte for byte.

use super::exchange::{Exchange, Pair};
use super::{shown, Report};

/// How a pair is named in the report.
fn label(i: usize, p: &Pair) -> String {
    if i == 0 {
        "before the first write".into()
    } else {
        format!("write {i} {}", shown(&p.write, 0))
    }
}

/// The first offset where `a` and `b` differ (the shorter one's length when
/// one is the other's start); `None` when equal.
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => Some(i),
        None if a.len() != b.len() => Some(a.len().min(b.len())),
        None => None,
    }
}

/// Compares the writes, then the replies outside streaming; reports the
/// first pair that differs.
pub fn compare(a: &Exchange, b: &Exchange, out: &mut Report) {
    out.section("commands and replies");
    let (na, nb) = (a.pairs.len() - 1, b.pairs.len() - 1);
    let mut same_writes = true;
    for (i, (pa, pb)) in a.pairs.iter().zip(&b.pairs).enumerate().skip(1) {
        if let Some(at) = first_difference(&pa.write, &pb.write) {
            out.differs(format!(
                "write {i} (A line {}, B line {}) differs at byte {at}",
                pa.line, pb.line
            ));
            out.line(format!("    A: {}", shown(&pa.write, at)));
            out.line(format!("    B: {}", shown(&pb.write, at)));
            same_writes = false;
            break;
        }
    }
    if same_writes && na != nb {
        out.differs(format!(
            "A has {na} writes, B {nb}; the first {} are the same",
            na.min(nb)
        ));
        same_writes = false;
    }
    if same_writes {
        out.line(format!("  {na} writes, the same in A and B"));
    }
    let mut compared = 0;
    for (i, (pa, pb)) in a.pairs.iter().zip(&b.pairs).enumerate() {
        if pa.write != pb.write {
            // Replies to different commands say nothing about the profile.
            break;
        }
        if pa.in_stream || pb.in_stream {
            continue;
        }
        compared += 1;
        if let Some(at) = first_difference(&pa.reply, &pb.reply) {
            out.differs(format!(
                "reply {} (A line {}, B line {}) differs at byte {at} ({} bytes in A, {} in B)",
                label(i, pa),
                pa.reply_line,
                pb.reply_line,
                pa.reply.len(),
                pb.reply.len()
            ));
            out.line(format!("    A: {}", shown(&pa.reply, at)));
            out.line(format!("    B: {}", shown(&pb.reply, at)));
            return;
        }
    }
    out.line(format!(
        "  {compared} replies outside streaming, the same in A and B"
    ));
}

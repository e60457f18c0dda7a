//! Value ranges: each channel's raw counts, decoded with the profile's
//! layout from every whole packet, as min and max side by side.

use super::framing::Shape;
use super::{DiffOptions, Report, Side};

/// A channel's smallest and largest raw count, and how many it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// The channel (its signal's name).
    pub name: String,
    /// Smallest count.
    pub min: i64,
    /// Largest count.
    pub max: i64,
    /// Values seen.
    pub count: u64,
}

impl Range {
    /// max − min, as a float (a 64-bit span does not fit an i64).
    pub fn span(&self) -> f64 {
        self.max as f64 - self.min as f64
    }
}

/// Every channel's range over a side's packets, in the layout's order.
pub fn ranges(shape: &Shape, side: &Side) -> Vec<Range> {
    let mut out: Vec<Range> = Vec::new();
    for (run, framed) in side.exchange.runs.iter().zip(&side.framed) {
        for p in &framed.packets {
            // A packet of another length is a framing difference, not values.
            if p.len != shape.lens[p.slot] {
                continue;
            }
            let bytes = &run.bytes[p.start..p.start + p.len];
            for f in &shape.channels[p.slot] {
                let v = f.decode(bytes);
                match out.iter_mut().find(|r| r.name == f.name) {
                    Some(r) => {
                        r.min = r.min.min(v);
                        r.max = r.max.max(v);
                        r.count += 1;
                    }
                    None => out.push(Range {
                        name: f.name.clone(),
                        min: v,
                        max: v,
                        count: 1,
                    }),
                }
            }
        }
    }
    out
}

/// Shows the ranges side by side; a channel constant on one side only, or
/// spans further apart than the factor, is a disagreement.
pub fn compare(shape: &Shape, a: &Side, b: &Side, opts: &DiffOptions, out: &mut Report) {
    out.section(&format!(
        "value ranges (raw counts){:>12}{:>12}{:>12}{:>12}",
        "A min", "A max", "B min", "B max"
    ));
    let (ra, rb) = (ranges(shape, a), ranges(shape, b));
    if ra.is_empty() && rb.is_empty() {
        out.line("  no channel values in either recording");
        return;
    }
    for x in &ra {
        let Some(y) = rb.iter().find(|y| y.name == x.name) else {
            out.line(format!(
                "  {:<25}{:>12}{:>12}   (not in B)",
                x.name, x.min, x.max
            ));
            continue;
        };
        out.line(format!(
            "  {:<25}{:>12}{:>12}{:>12}{:>12}",
            x.name, x.min, x.max, y.min, y.max
        ));
        let (sa, sb) = (x.span(), y.span());
        if (sa == 0.0) != (sb == 0.0) {
            let (c, v) = if sa == 0.0 { ("A", "B") } else { ("B", "A") };
            out.differs(format!(
                "{}: constant in {c}, varies in {v} (spans {sa} and {sb})",
                x.name
            ));
        } else if sa > 0.0 && (sa / sb).max(sb / sa) > opts.span_factor {
            out.differs(format!(
                "{}: span {sa} in A, {sb} in B ({:.2}x apart, more than {}x)",
                x.name,
                (sa / sb).max(sb / sa),
                opts.span_factor
            ));
        }
    }
    for y in rb.iter().filter(|y| !ra.iter().any(|x| x.name == y.name)) {
        out.line(format!(
            "  {:<25}{:>12}{:>12}{:>12}{:>12}   (not in A)",
            y.name, "", "", y.min, y.max
        ));
    }
}

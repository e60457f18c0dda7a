//! BLE: the two recordings' GATT tables (their `@gatt` lines), compared by
//! service and characteristic UUID. A central finds characteristics by UUID,
//! so a missing one or one with other properties is what breaks a host; the
//! order is the handle order, which clients that address characteristics by
//! handle depend on (see the README's Muse handle table).

use super::Report;
use boardloop_emulators::recording::{GattChar, Recording};

/// A characteristic's identity: service and characteristic UUID.
fn key(g: &GattChar) -> (&str, &str) {
    (g.service.as_str(), g.uuid.as_str())
}

/// Compares the GATT tables of `a` and `b`.
pub fn compare(a: &Recording, b: &Recording, out: &mut Report) {
    out.section("GATT table");
    let (ta, tb) = match (a.gatt(), b.gatt()) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => {
            out.differs(format!("a GATT table cannot be read: {e}"));
            return;
        }
    };
    out.line(format!(
        "  {} characteristics in A, {} in B",
        ta.len(),
        tb.len()
    ));
    for x in &ta {
        match tb.iter().find(|y| key(y) == key(x)) {
            None => out.differs(format!(
                "characteristic {} ({}) of service {} is in A, not in B",
                x.uuid, x.name, x.service
            )),
            Some(y) if y.props != x.props => out.differs(format!(
                "characteristic {} ({}): properties `{}` in A, `{}` in B",
                x.uuid,
                x.name,
                x.props_text(),
                y.props_text()
            )),
            Some(_) => {}
        }
    }
    for y in tb.iter().filter(|y| !ta.iter().any(|x| key(x) == key(y))) {
        out.differs(format!(
            "characteristic {} ({}) of service {} is in B, not in A",
            y.uuid, y.name, y.service
        ));
    }
    // The order of the characteristics both have.
    let common = |t: &[GattChar], other: &[GattChar]| -> Vec<String> {
        t.iter()
            .filter(|x| other.iter().any(|y| key(x) == key(y)))
            .map(|x| x.uuid.clone())
            .collect()
    };
    let (oa, ob) = (common(&ta, &tb), common(&tb, &ta));
    if let Some(i) = (0..oa.len().min(ob.len())).find(|&i| oa[i] != ob[i]) {
        out.differs(format!(
            "the characteristics come in another order: number {} is {} in A, {} in B",
            i + 1,
            oa[i],
            ob[i]
        ));
    }
}

//! BlueZ lab: shared facts for the `ble-peripheral` (bluer) and `ble-central`
//! (btleplug) examples that prove the VM chain of `ci/ble-vm.sh` end to end.
//!
//! The GATT table is a minimal Ganglion look-alike:
//! service 0xFE84 with a notify characteristic (…c082), a write-without-response
//! command characteristic (…c083), and a Device Information service with the
//! software revision string 0x2A28. Writing `b` starts a stream of 20-byte
//! notifications whose first byte increments (wrapping at 256); `s` stops it.
//! The payload is not Ganglion data: these examples test the transport only.
// Each example uses part of it.
#![allow(dead_code)]

use std::time::Duration;
use uuid::Uuid;

/// Expands a 16-bit Bluetooth SIG UUID to its 128-bit form.
pub const fn uuid16(short: u16) -> Uuid {
    Uuid::from_u128(((short as u128) << 96) | 0x0000_0000_0000_1000_8000_0080_5f9b_34fb)
}

/// Ganglion's primary service, 0xFE84.
pub const SERVICE_UUID: Uuid = uuid16(0xFE84);
/// Ganglion's notify (data) characteristic.
pub const NOTIFY_UUID: Uuid = Uuid::from_u128(0x2d30c082_f39f_4ce6_923f_3484ea480596);
/// Ganglion's command characteristic (written without response).
pub const WRITE_UUID: Uuid = Uuid::from_u128(0x2d30c083_f39f_4ce6_923f_3484ea480596);
/// Device Information service, 0x180A (holds the software revision).
pub const DEVICE_INFO_UUID: Uuid = uuid16(0x180A);
/// Software revision string characteristic, 0x2A28.
pub const SOFTWARE_REVISION_UUID: Uuid = uuid16(0x2A28);
/// The software revision the lab peripheral reports (Ganglion firmware 3).
pub const SOFTWARE_REVISION: &str = "3.0.0";
/// Length of every notification, as on a Ganglion.
pub const PACKET_LEN: usize = 20;

/// Builds the lab packet number `id`: byte 0 is `id`, the rest a pattern
/// derived from it so a corrupted payload is detectable.
pub fn packet(id: u8) -> [u8; PACKET_LEN] {
    let mut p = [0u8; PACKET_LEN];
    p[0] = id;
    for (i, b) in p.iter_mut().enumerate().skip(1) {
        *b = id.wrapping_mul(31).wrapping_add(i as u8);
    }
    p
}

/// Checks a received packet against [`packet`] for its own first byte.
pub fn packet_is_valid(p: &[u8]) -> bool {
    p.len() == PACKET_LEN && p == packet(p[0])
}

/// Returns the index of the first packet whose first byte is not its
/// predecessor's plus one (mod 256), or `None` if the sequence has no gap.
pub fn first_gap(first_bytes: &[u8]) -> Option<usize> {
    first_bytes
        .windows(2)
        .position(|w| w[1] != w[0].wrapping_add(1))
        .map(|i| i + 1)
}

/// Formats a duration in milliseconds with one decimal, for timing reports.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid16_expands_to_the_sig_base() {
        assert_eq!(
            SERVICE_UUID.to_string(),
            "0000fe84-0000-1000-8000-00805f9b34fb"
        );
        assert_eq!(
            SOFTWARE_REVISION_UUID.to_string(),
            "00002a28-0000-1000-8000-00805f9b34fb"
        );
        assert_eq!(
            WRITE_UUID.to_string(),
            "2d30c083-f39f-4ce6-923f-3484ea480596"
        );
    }

    #[test]
    fn packets_round_trip_and_gaps_are_found() {
        assert!(packet_is_valid(&packet(0)));
        assert!(packet_is_valid(&packet(255)));
        let mut bad = packet(7);
        bad[5] ^= 1;
        assert!(!packet_is_valid(&bad));
        assert_eq!(first_gap(&[254, 255, 0, 1]), None);
        assert_eq!(first_gap(&[1, 2, 4, 5]), Some(2));
        assert_eq!(first_gap(&[]), None);
    }
}

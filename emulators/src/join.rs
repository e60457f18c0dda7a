//! How a device joins packets into notifications (a characteristic's `join`,
//! see [`crate::profile::JoinDecl`]): the one home of the packing rule, for
//! the BLE emulator and for tests that build notifications from a [`Device`].
//!
//! The Muse S Athena fills a buffer with blocks of every sensor in the order
//! they are sampled and notifies it when the next block would not fit: its
//! captured notifications are 207-244 bytes, and each is followed by a block
//! that would have taken it past 244 (`boards/tests/captures/openmuse/`).
//! Sans-IO: the caller builds packets and sends what comes out.

use crate::device::Device;
use crate::layout::PacketVars;
use std::collections::BTreeMap;

/// Joins packets into notifications, per characteristic. `T` tags each
/// packet (the BLE emulator's faults on it), so a notification carries the
/// tags of the packets in it.
#[derive(Debug, Clone)]
pub struct Joiner<T> {
    pending: BTreeMap<String, Pending<T>>,
    /// Notifications completed per characteristic since the last
    /// [`Joiner::clear`]: the next one's `notification` variable.
    completed: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
struct Pending<T> {
    /// The variables of the notification's first packet.
    first: PacketVars,
    /// The packets so far, without the header.
    body: Vec<u8>,
    tags: Vec<T>,
}

/// A notification ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification<T> {
    /// The characteristic it goes on (`None`: a serial device's packet).
    pub ch: Option<String>,
    /// Its bytes, header included.
    pub bytes: Vec<u8>,
    /// The tags of the packets it carries, in order.
    pub tags: Vec<T>,
}

impl<T> Default for Joiner<T> {
    fn default() -> Self {
        Joiner {
            pending: BTreeMap::new(),
            completed: BTreeMap::new(),
        }
    }
}

impl<T> Joiner<T> {
    /// A joiner with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds stream `i`'s next packet on `device` and returns the
    /// notifications to send now, in order: the packet itself where its
    /// characteristic joins nothing; else the characteristic's pending
    /// notification if the packet does not fit beside it (the packet then
    /// starts the next one), or none. A notification holds the profile's
    /// `join.max` bytes, or `link_max` if the link carries fewer (a device
    /// fills what its MTU allows). `None` when the stream is not running.
    pub fn next_of(
        &mut self,
        device: &mut Device,
        i: usize,
        link_max: Option<usize>,
        tag: T,
    ) -> Option<Vec<Notification<T>>> {
        let mut bytes = Vec::new();
        let (slot, vars) = device.next_packet_vars_into(i, &mut bytes)?;
        let ch = device.profile().streams[i].characteristics[slot].clone();
        let Some((name, join)) = ch
            .as_ref()
            .and_then(|n| device.profile().joins.get_key_value(n))
        else {
            return Some(vec![Notification {
                ch,
                bytes,
                tags: vec![tag],
            }]);
        };
        let (name, header) = (name.clone(), join.header.len);
        let max = link_max.map_or(join.max, |l| l.min(join.max));
        let done = match self.pending.get_mut(&name) {
            Some(p) if header + p.body.len() + bytes.len() <= max => {
                p.body.extend_from_slice(&bytes);
                p.tags.push(tag);
                None
            }
            _ => self.pending.insert(
                name.clone(),
                Pending {
                    first: vars,
                    body: bytes,
                    tags: vec![tag],
                },
            ),
        };
        Some(
            done.map(|p| self.complete(device, name, p))
                .into_iter()
                .collect(),
        )
    }

    /// The header before `p`'s packets, and the count moved on.
    fn complete(&mut self, device: &Device, ch: String, p: Pending<T>) -> Notification<T> {
        let n = self.completed.entry(ch.clone()).or_default();
        let header = device.profile().joins[&ch].header.len;
        let vars = PacketVars {
            notification: *n,
            length: (header + p.body.len()) as u64,
            ..p.first
        };
        *n += 1;
        let mut bytes = Vec::with_capacity(header + p.body.len());
        device.join_header_into(&ch, &vars, &mut bytes);
        bytes.extend_from_slice(&p.body);
        Notification {
            ch: Some(ch),
            bytes,
            tags: p.tags,
        }
    }

    /// Forgets every pending packet and counts notifications from 0 again:
    /// the streams started again, or the link dropped (a device that loses
    /// its central does not send it what it had buffered).
    pub fn clear(&mut self) {
        self.pending.clear();
        self.completed.clear();
    }

    /// Packets waiting in a notification that is not complete, over every
    /// characteristic.
    pub fn pending_packets(&self) -> usize {
        self.pending.values().map(|p| p.tags.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::parse_yaml;
    use crate::profile::{Profile, ProfileDecl};
    use crate::signal::SignalSet;
    use std::path::Path;
    use std::sync::Arc;

    /// Two streams on one joined characteristic: `a` of 10-byte packets
    /// (tag 0xA0, counter), `b` of 30-byte packets (0xB0); the header is
    /// [length, notification, a's `first` of the first packet].
    const PROFILE: &str = r#"
name: joined
transport:
  ble:
    name: "J"
    services:
      - uuid: fe00
        characteristics:
          - { name: cmd, uuid: fe01, properties: [write], commands: true }
          - name: data
            uuid: fe02
            properties: [notify]
            join:
              max: 64
              header:
                - { name: length, bits: 8, value: "length" }
                - { name: index, bits: 8, value: "notification" }
                - { name: first, bits: 8, value: "first % 256" }
          - { name: alone, uuid: fe03, properties: [notify] }
commands:
  - { name: start, match: "b", stream: start }
streams:
  - name: a
    characteristic: data
    rate: "100"
    packets:
      - fields:
          - { name: tag, bits: 8, value: "160" }
          - { name: n, bits: 8, value: counter }
          - { repeat: 8, fields: [{ name: len, bits: 8, value: "length" }] }
  - name: b
    characteristic: data
    rate: "10"
    packets:
      - fields:
          - { name: tag, bits: 8, value: "176" }
          - { repeat: 29, fields: [{ name: z, bits: 8, value: "0" }] }
  - name: c
    characteristic: alone
    rate: "1"
    packets:
      - fields: [{ name: x, bits: 8, value: "7" }]
"#;

    fn device(text: &str) -> Result<Device, String> {
        let path = Path::new("/virtual/joined.yaml");
        let decl: ProfileDecl = parse_yaml(path, text).map_err(|e| e.to_string())?;
        let p = Profile::from_decl(path, text, decl).map_err(|e| e.to_string())?;
        let state = p.initial_state.clone();
        let mut d = Device::new(Arc::new(p), Arc::new(SignalSet::default()), state);
        d.feed(b"b");
        Ok(d)
    }

    #[test]
    fn packets_fill_a_notification_until_the_next_does_not_fit() {
        let mut d = device(PROFILE).unwrap();
        let mut j = Joiner::new();
        let mut out = Vec::new();
        // a a b a: 3 + 10 + 10 + 30 + 10 = 63; a would make 73 > 64, so
        // the first notification is complete when it comes.
        let order = [
            (0, 1),
            (0, 2),
            (1, 3),
            (0, 4),
            (0, 5),
            (0, 6),
            (1, 7),
            (0, 8),
            (0, 9),
        ];
        for (stream, tag) in order {
            out.extend(j.next_of(&mut d, stream, None, tag).unwrap());
        }
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].tags, [1, 2, 3, 4]);
        assert_eq!(out[0].bytes.len(), 63);
        // The header: its length, notification 0, the first packet's `first`.
        assert_eq!(out[0].bytes[..3], [63, 0, 0]);
        // Packets as built, in order: a's counter 0 and 1, `length` = 10.
        assert_eq!(out[0].bytes[3..6], [0xA0, 0, 10]);
        assert_eq!(out[0].bytes[13..15], [0xA0, 1]);
        assert_eq!(out[0].bytes[23], 0xB0);
        assert_eq!(out[0].bytes[53..55], [0xA0, 2]);
        // The second starts with a's fourth packet (its `first` is 3).
        assert_eq!(out[1].tags, [5, 6, 7, 8]);
        assert_eq!(out[1].bytes[..3], [63, 1, 3]);
        assert_eq!(j.pending_packets(), 1);
        // A characteristic without `join` sends every packet at once.
        let c = j.next_of(&mut d, 2, None, 9).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].ch.as_deref(), &c[0].bytes[..]),
            (Some("alone"), &[7][..])
        );
    }

    #[test]
    fn a_smaller_link_gets_smaller_notifications_and_clear_starts_over() {
        let mut d = device(PROFILE).unwrap();
        let mut j = Joiner::new();
        let mut out = Vec::new();
        for tag in 0..6 {
            out.extend(j.next_of(&mut d, 0, Some(23), tag).unwrap());
        }
        // 3 + 10 + 10 = 23: two packets per notification.
        let lens: Vec<usize> = out.iter().map(|n| n.bytes.len()).collect();
        assert_eq!(lens, [23, 23]);
        assert_eq!(out[1].bytes[1], 1);
        j.clear();
        assert_eq!(j.pending_packets(), 0);
        let mut out = Vec::new();
        for tag in 0..3 {
            out.extend(j.next_of(&mut d, 0, Some(23), tag).unwrap());
        }
        assert_eq!(out[0].bytes[1], 0, "counted from 0 after clear");
    }

    #[test]
    fn a_packet_that_cannot_fit_is_refused_at_load() {
        let text = PROFILE.replace("max: 64", "max: 32");
        let e = device(&text).unwrap_err();
        assert!(
            e.contains("streams[1].packets[0]")
                && e.contains("a packet of 30 bytes does not fit in a notification of `data`"),
            "{e}"
        );
        let text = PROFILE.replace("max: 64", "max: 600");
        let e = device(&text).unwrap_err();
        assert!(e.contains("join.max") && e.contains("at most 512"), "{e}");
        let text = PROFILE.replace(
            "properties: [notify]\n            join",
            "properties: [read]\n            join",
        );
        let e = device(&text).unwrap_err();
        assert!(e.contains("needs the `notify` property"), "{e}");
    }
}

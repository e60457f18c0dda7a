//! How a BLE device cuts a reply into notifications
//! ([`crate::profile::NotifyFramingDecl`]), sans-IO: the reply's bytes in,
//! the notifications out, with the device's one reused buffer as state.
//!
//! The Muse is the model (its captures are cited in `scenarios/devices/muse_2.yaml`):
//! a JSON reply goes out one member per notification (a piece ends after each
//! `,`), a piece longer than 19 bytes is cut at 19, every notification is 20
//! bytes with the piece's length in byte 0, and the bytes past the piece are
//! whatever the previous notification left in the same buffer.

use crate::profile::NotifyFramingDecl;

/// Cuts replies into notifications for one characteristic.
#[derive(Debug, Clone)]
pub struct NotifyFramer {
    decl: NotifyFramingDecl,
    /// The device's notification buffer as the last notification left it
    /// (zeros at power-on: no capture shows what a fresh device holds).
    buffer: Vec<u8>,
}

impl NotifyFramer {
    /// A framer with a zeroed buffer of `decl.size` bytes.
    pub fn new(decl: &NotifyFramingDecl) -> NotifyFramer {
        NotifyFramer {
            decl: decl.clone(),
            buffer: vec![0; decl.size],
        }
    }

    /// Payload bytes one notification carries.
    fn room(&self) -> usize {
        self.decl.size - usize::from(self.decl.length_prefix)
    }

    /// The pieces of `reply`: each ends after a byte of `split_after` or at
    /// the end, and is cut into `room`-byte parts when longer.
    fn pieces<'a>(&self, reply: &'a [u8]) -> Vec<&'a [u8]> {
        let split = self.decl.split_after.as_bytes();
        let mut out = Vec::new();
        let mut start = 0;
        for (i, b) in reply.iter().enumerate() {
            if split.contains(b) || i + 1 == reply.len() {
                out.extend(reply[start..=i].chunks(self.room()));
                start = i + 1;
            }
        }
        out
    }

    /// The notifications that carry `reply`, in order; the buffer they leave
    /// is kept for the next reply.
    pub fn frame(&mut self, reply: &[u8]) -> Vec<Vec<u8>> {
        let pieces = self.pieces(reply);
        let mut out = Vec::with_capacity(pieces.len());
        let at = usize::from(self.decl.length_prefix);
        for piece in pieces {
            if !self.decl.stale_tail {
                self.buffer.fill(0);
            }
            if self.decl.length_prefix {
                // Profile validation keeps `size` ≤ 256 with a length byte,
                // so a piece is at most 255 bytes.
                self.buffer[0] = piece.len() as u8;
            }
            self.buffer[at..at + piece.len()].copy_from_slice(piece);
            out.push(self.buffer.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn muse() -> NotifyFramer {
        NotifyFramer::new(&NotifyFramingDecl {
            size: 20,
            length_prefix: true,
            split_after: ",".into(),
            stale_tail: true,
        })
    }

    #[test]
    fn a_member_per_notification_long_ones_cut_at_the_room() {
        let f = muse();
        let pieces: Vec<&[u8]> = f.pieces(br#"{"ab":1,"sn":"2031-TZRW-1324","rc":0}"#);
        let want: [&[u8]; 4] = [
            &br#"{"ab":1,"#[..],
            &br#""sn":"2031-TZRW-132"#[..],
            &br#"4","#[..],
            &br#""rc":0}"#[..],
        ];
        assert_eq!(pieces, want);
    }

    #[test]
    fn the_tail_keeps_the_previous_notification() {
        let mut f = muse();
        let n = f.frame(br#""0123456789abcdef",{"rc":0}"#);
        assert_eq!(n.len(), 2);
        assert_eq!(n[0][0], 19);
        assert_eq!(&n[0][1..], br#""0123456789abcdef","#);
        assert_eq!(&n[1][..9], b"\x08{\"rc\":0}");
        assert_eq!(&n[1][9..], &n[0][9..]);
    }

    #[test]
    fn without_stale_tail_the_rest_is_zero() {
        let mut f = NotifyFramer::new(&NotifyFramingDecl {
            size: 8,
            length_prefix: false,
            split_after: String::new(),
            stale_tail: false,
        });
        let n = f.frame(b"abcdefghij");
        assert_eq!(n, [b"abcdefgh".to_vec(), b"ij\0\0\0\0\0\0".to_vec()]);
    }
}

//! Property tests of the Cyton decoder against an independent encoder, and
//! of the Muse S Athena decoder on random packets.

use boardloop_boards::codec::knight::KnightDecoder;
use boardloop_boards::{CytonDecoder, CytonVariant, Rows};
use proptest::prelude::*;

/// Test-side encoder, written from the packet spec, not from the decoder.
fn encode(counter: u8, eeg: &[i32; 8], aux: &[u8; 6], end: u8) -> Vec<u8> {
    let mut f = Vec::with_capacity(33);
    f.push(0xA0);
    f.push(counter);
    for v in eeg {
        let b = v.to_be_bytes();
        f.extend_from_slice(&b[1..4]);
    }
    f.extend_from_slice(aux);
    f.push(end);
    f
}

prop_compose! {
    fn frame()(
        eeg in prop::array::uniform8(-8_388_608i32..=8_388_607),
        aux in prop::array::uniform6(any::<u8>()),
        end in 0xC2u8..=0xC6,
    ) -> ([i32; 8], [u8; 6], u8) {
        (eeg, aux, end)
    }
}

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        any::<u8>().prop_filter("no start byte", |b| *b != 0xA0),
        0..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..20),
        daisy in any::<bool>(),
    ) {
        let variant = if daisy { CytonVariant::Daisy } else { CytonVariant::Cyton };
        let mut d = CytonDecoder::new(variant);
        let mut out = Rows::default();
        let mut total = 0u64;
        for c in &chunks {
            d.push(c, &mut out);
            total += c.len() as u64;
        }
        let s = d.stats().clone();
        // Every byte is accounted for: packet, garbage, or still pending.
        prop_assert_eq!(s.packets * 33 + s.garbage_bytes + d.pending_bytes() as u64, total);
        prop_assert_eq!(s.rows as usize, out.len());
        for row in &out {
            prop_assert_eq!(row.len(), variant.num_rows());
        }
    }

    #[test]
    fn frames_between_garbage_decode_exactly(
        start in any::<u8>(),
        items in prop::collection::vec((garbage(), frame()), 1..40),
        split in 1usize..64,
    ) {
        let mut bytes = Vec::new();
        let mut expected = Vec::new();
        for (i, (junk, (eeg, aux, end))) in items.iter().enumerate() {
            bytes.extend_from_slice(junk);
            let counter = start.wrapping_add(i as u8);
            bytes.extend(encode(counter, eeg, aux, *end));
            expected.push((counter, *eeg, *aux, *end));
        }
        // A final start byte confirms the last frame if it followed garbage.
        bytes.push(0xA0);
        let mut d = CytonDecoder::new(CytonVariant::Cyton);
        let mut out = Rows::default();
        for c in bytes.chunks(split) {
            d.push(c, &mut out);
        }
        prop_assert_eq!(out.len(), expected.len());
        prop_assert_eq!(d.stats().lost_packets, 0);
        let junk: usize = items.iter().map(|(g, _)| g.len()).sum();
        prop_assert_eq!(d.stats().garbage_bytes, junk as u64);
        let scale = 4.5 / 8_388_607.0 / 24.0 * 1e6;
        for (row, (counter, eeg, aux, end)) in out.iter().zip(&expected) {
            prop_assert_eq!(row[0], f64::from(*counter));
            for ch in 0..8 {
                let want = f64::from(eeg[ch]) * scale;
                prop_assert!((row[1 + ch] - want).abs() <= 1e-9 * want.abs().max(1.0));
            }
            prop_assert_eq!(row[12], f64::from(*end));
            for k in 0..6 {
                prop_assert_eq!(row[13 + k], f64::from(aux[k]));
            }
        }
    }

    /// Reads of any size, below and above the size where the decoders stop
    /// copying input into their pending buffer and scan it in place, give the
    /// rows, counters and pending bytes of one read of everything, also
    /// through garbage, cut packets and false starts.
    #[test]
    fn read_sizes_never_change_the_result(
        items in prop::collection::vec((garbage(), frame(), 0usize..40), 1..120),
        sizes in prop::collection::vec(1usize..1500, 1..12),
        kind in 0u8..3,
    ) {
        let mut bytes = Vec::new();
        for (i, (junk, (eeg, aux, end), cut)) in items.iter().enumerate() {
            bytes.extend_from_slice(junk);
            let f = encode(i as u8, eeg, aux, *end);
            // Some packets are cut short (a false start to resync from).
            let keep = if *cut < 33 && i % 5 == 4 { *cut } else { 33 };
            bytes.extend_from_slice(&f[..keep]);
            if kind == 2 {
                // Knight-sized frames out of the same bytes: start, counter, 18 bytes, end.
                bytes.extend_from_slice(&[0xA0, i as u8]);
                bytes.extend_from_slice(&f[2..20]);
                bytes.push(0xC0);
            }
        }
        enum D { C(Box<CytonDecoder>), K(KnightDecoder) }
        impl D {
            fn push(&mut self, b: &[u8], out: &mut Rows) {
                match self { D::C(d) => d.push(b, out), D::K(d) => d.push(b, out) }
            }
            fn state(&self) -> (boardloop_boards::DecodeStats, usize) {
                match self {
                    D::C(d) => (d.stats().clone(), d.pending_bytes()),
                    D::K(d) => (d.stats().clone(), d.pending_bytes()),
                }
            }
        }
        let make = || match kind {
            0 => D::C(Box::new(CytonDecoder::new(CytonVariant::Cyton))),
            1 => D::C(Box::new(CytonDecoder::new(CytonVariant::Daisy))),
            _ => D::K(KnightDecoder::new()),
        };
        let mut whole = make();
        let mut want = Rows::default();
        whole.push(&bytes, &mut want);
        let mut d = make();
        let mut got = Rows::default();
        let mut pos = 0;
        for n in sizes.iter().cycle() {
            if pos == bytes.len() {
                break;
            }
            let end = (pos + n).min(bytes.len());
            d.push(&bytes[pos..end], &mut got);
            pos = end;
        }
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(d.state(), whole.state());
    }
}

/// A Muse S Athena packet made from random bytes: its length byte, primary
/// tag and sub-packet tags are drawn from what a device sends (and a few
/// that no device does), so the decoder's every path is reached.
fn athena_notification() -> impl Strategy<Value = Vec<u8>> {
    const TAGS: [u8; 11] = [
        0x11, 0x12, 0x34, 0x35, 0x36, 0x47, 0x53, 0x88, 0x98, 0x00, 0x77,
    ];
    (
        prop::collection::vec(any::<u8>(), 0..260),
        prop::collection::vec(0..TAGS.len(), 0..8),
        any::<bool>(),
    )
        .prop_map(|(mut v, tags, honest_len)| {
            if v.len() > 9 {
                v[9] = TAGS[tags.first().copied().unwrap_or(0)];
            }
            // Sub-packet tags at the offsets a 28-byte primary block leaves.
            let mut at = 14 + 28;
            for t in tags.iter().skip(1) {
                if at < v.len() {
                    v[at] = TAGS[*t];
                }
                at += 5 + 28;
            }
            if honest_len && !v.is_empty() {
                v[0] = v.len().min(255) as u8;
            }
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn athena_never_panics_and_counts_what_it_emits(
        notifications in prop::collection::vec(athena_notification(), 0..20),
    ) {
        use boardloop_boards::codec::muse_athena::{AthenaDecoder, DATA_1};
        let mut d = AthenaDecoder::new();
        let mut out = [Rows::default(), Rows::default(), Rows::default()];
        for n in &notifications {
            d.decode(DATA_1, n, &mut out);
        }
        let s = d.stats();
        prop_assert_eq!(s.default.rows as usize, out[0].len());
        prop_assert_eq!(s.aux.rows as usize, out[1].len());
        prop_assert_eq!(s.anc.rows as usize, out[2].len());
        let total: usize = notifications.iter().map(Vec::len).sum();
        prop_assert!(s.default.garbage_bytes as usize <= total);
    }
}

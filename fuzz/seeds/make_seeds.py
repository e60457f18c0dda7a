#!/usr/bin/env python3
"""Writes the seed corpora of the decoder fuzz targets (fuzz/corpus/<target>/):
well-formed packets of each board, back to back, then with a few faults (a
dropped packet, garbage, a truncated packet), so libFuzzer starts from inputs
that reach every branch of a decoder instead of hunting for start bytes.

Run from anywhere: python3 fuzz/seeds/make_seeds.py
"""
import os
import random
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


def framed(counter, payload, end=0xC0):
    return [0xA0, counter & 0xFF] + list(payload) + [end]


def serial_seeds(target, packet):
    rnd = random.Random(target)
    # The first 4 bytes seed the chunking (fuzz/src/lib.rs).
    chunking = [rnd.randrange(256) for _ in range(4)]
    clean = sum((packet(c, rnd) for c in range(6)), [])
    write(target, "clean", chunking + clean)
    dropped = sum((packet(c, rnd) for c in [0, 1, 4, 5, 6]), [])
    write(target, "dropped", chunking + dropped)
    garbage = packet(0, rnd) + [0x00, 0xA0, 0xC0, 0xA0, 0x13] + packet(1, rnd)
    write(target, "garbage", chunking + garbage)
    p = packet(2, rnd)
    truncated = packet(0, rnd) + packet(1, rnd) + p[: len(p) // 2] + packet(3, rnd)
    write(target, "truncated", chunking + truncated)
    wrap = sum((packet(c, rnd) for c in [254, 255, 0, 1]), [])
    write(target, "wrap", chunking + wrap)


def cyton(c, rnd, end=0xC0):
    return framed(c, [rnd.randrange(256) for _ in range(30)], end)


serial_seeds("decode_cyton", cyton)
serial_seeds("decode_daisy", cyton)
serial_seeds("decode_knight", lambda c, rnd: framed(c, [rnd.randrange(256) for _ in range(18)]))
# Knight IMU: the Knight's 18 bytes, then nine float32 LE (IMU-like values, so the
# floats are ordinary numbers, not random bit patterns).
serial_seeds(
    "decode_knight_imu",
    lambda c, rnd: framed(
        c,
        [rnd.randrange(256) for _ in range(18)]
        + list(struct.pack("<9f", *(rnd.uniform(-300, 300) for _ in range(9)))),
    ),
)
serial_seeds("decode_freeeeg32", lambda c, rnd: framed(c, [rnd.randrange(256) for _ in range(96)]))
serial_seeds("decode_freeeeg128", lambda c, rnd: framed(c, [rnd.randrange(256) for _ in range(384)]))


def shimmer3(c, rnd):
    """0x00, a 3-byte LE timestamp (64 ticks a sample: 512 Hz), 41 data bytes."""
    ts = (c * 64) % (1 << 24)
    return [0x00, ts & 0xFF, (ts >> 8) & 0xFF, ts >> 16] + [rnd.randrange(256) for _ in range(41)]


# Counters 254..1 are timestamps near 16,000 ticks: the wrap seed is ordinary.
serial_seeds("decode_shimmer3", shimmer3)
rnd = random.Random(3)
write("decode_shimmer3", "timestamp_wrap", [1, 2, 3, 4] + sum((shimmer3(c, rnd) for c in range(262140, 262148)), []))
# Cyton's other end bytes (0xC1-0xC6: timestamped and analog modes).
rnd = random.Random(1)
write("decode_cyton", "end_bytes", [1, 2, 3, 4] + sum((cyton(c, rnd, 0xC0 + c % 7) for c in range(8)), []))


def notes(items):
    """[tag, len, bytes...] per notification, as fuzz/src/lib.rs reads them."""
    out = []
    for tag, value in items:
        out += [tag, len(value)] + list(value)
    return out


rnd = random.Random(2)
for fw, ids in (("fw2", [0, 1, 2, 3, 100, 101, 102, 200, 1]), ("fw3", [0, 1, 2, 99, 100, 101, 199, 100, 0])):
    packets = [(0, [i] + [rnd.randrange(256) for _ in range(19)]) for i in ids]
    write(f"decode_ganglion_{fw}", "stream", notes(packets))
    imp = [(0, [201 + k] + list(b"%dZ" % (1000 * k + 7))) for k in range(5)]
    write(f"decode_ganglion_{fw}", "impedance", notes(imp + packets[:3]))
    write(f"decode_ganglion_{fw}", "rejected", notes([(0, [5] * 7), (0, [250] * 20), (0, [])] + packets[:2]))

rnd = random.Random(3)
for model in ("muse_2", "muse_s", "muse_2016"):
    items = []
    for seq in range(4):
        for tag in range(10):  # every characteristic, in MuseChar::ALL order
            items.append((tag, [0, seq] + [rnd.randrange(256) for _ in range(18)]))
    write(f"decode_{model}", "stream", [0] + notes(items))
    write(f"decode_{model}", "aux_expected", [1] + notes(items))
    lossy = [it for k, it in enumerate(items) if k % 7 != 3] + [(2, [1, 2, 3])]
    write(f"decode_{model}", "lossy", [0] + notes(lossy))

#!/usr/bin/env python3
"""Cross-check boardloop's Cyton/Daisy decoder against BrainFlow's own driver.

Generates 600 Cyton packets (all end bytes 0xC0..0xC6, accel every 10th
standard packet, analog packets, counter wrap), serves them to BrainFlow
(`pip install brainflow`) from a fake board on a pseudo-terminal, and decodes
the same bytes with `examples/decode_file.rs`. Every row except timestamp and
marker must agree. Needs: cargo build -p boardloop-boards --example decode_file
(found in $CARGO_TARGET_DIR, else the repository's target/; or set DECODE_FILE
to the binary).
"""
import os, sys, threading, time, json, struct, random, subprocess, tty
from pathlib import Path
REPO = Path(__file__).resolve().parents[2]
DECODE_FILE = os.environ.get('DECODE_FILE') or str(
    Path(os.environ.get('CARGO_TARGET_DIR') or REPO / 'target') / 'debug/examples/decode_file')
from brainflow.board_shim import BoardShim, BrainFlowInputParams, BoardIds
random.seed(7)
def packet(counter, end, eeg, aux):
    p = bytes([0xA0, counter])
    for v in eeg: p += (v & 0xFFFFFF).to_bytes(3, 'big')
    return p + bytes(aux) + bytes([end])
stream = b''
n = 600
for i in range(n):
    c = (i + 1) % 256
    eeg = [random.randint(-8388608, 8388607) for _ in range(8)]
    if i < 200:
        end = 0xC0
        aux = list(struct.pack('>hhh', random.randint(-2000, 2000) or 1, random.randint(-2000, 2000), random.randint(-2000, 2000))) if i % 10 == 0 else [0]*6
    elif i < 300:
        end = 0xC1; aux = list(struct.pack('>hhh', *[random.randint(-32768, 32767) for _ in range(3)]))
    else:
        end = random.choice([0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC0]); aux = [random.randint(0, 255) for _ in range(6)]
        if end == 0xC0: aux = [0]*6
    stream += packet(c, end, eeg, aux)
open('/tmp/bf_stream.bin', 'wb').write(stream)
BANNER = b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\nLIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$"
def device(m, stop):
    while not stop.is_set():
        try: b = os.read(m, 64)
        except OSError: return
        for ch in b:
            ch = bytes([ch])
            if ch == b'v': os.write(m, BANNER)
            elif ch == b'd': os.write(m, b"updating channel settings to default$$$")
            elif ch == b'b':
                for k in range(0, len(stream), 330):
                    os.write(m, stream[k:k+330]); time.sleep(0.005)
            elif ch in b'xX0123456789QWERTYUI': pass
def run(board_id, configs):
    m, s = os.openpty(); tty.setraw(s)
    path = os.ttyname(s)
    stop = threading.Event()
    t = threading.Thread(target=device, args=(m, stop), daemon=True); t.start()
    p = BrainFlowInputParams(); p.serial_port = path
    b = BoardShim(board_id, p)
    b.prepare_session()
    for c in configs: b.config_board(c)
    b.start_stream(10000)
    time.sleep(2.0)
    data = b.get_board_data()
    b.stop_stream(); b.release_session(); stop.set()
    return data
def compare(board_id, variant, configs):
    bf = run(board_id, configs)
    out = json.loads(subprocess.check_output([DECODE_FILE, variant, '/tmp/bf_stream.bin'] + configs))
    rows = out['rows']
    descr = BoardShim.get_board_descr(board_id)
    ts, mk = descr['timestamp_channel'], descr['marker_channel']
    print(f"board {board_id}: brainflow {bf.shape[1]} samples, ours {len(rows)}; stats {out['stats']}")
    n = min(bf.shape[1], len(rows)); worst = 0.0; bad = []
    for i in range(n):
        for r in range(descr['num_rows']):
            if r in (ts, mk): continue
            a, b = bf[r, i], rows[i][r]
            d = abs(a - b) / max(1.0, abs(a))
            if d > 1e-6: bad.append((i, r, a, b))
            worst = max(worst, d)
    print(f"  compared {n} samples x {descr['num_rows']-2} rows, worst rel diff {worst:.3g}, mismatches {len(bad)}")
    rowsbad = sorted(set(r for _, r, _, _ in bad)); print("  mismatching rows:", rowsbad, bad[:6])
    return not bad and bf.shape[1] == len(rows)

ok = all([
    compare(0, 'cyton', []),
    compare(0, 'cyton', ['x3020000X', 'x5060000X']),
    compare(2, 'daisy-bf', []),
    compare(2, 'daisy-bf', ['xE010000X', 'x2030000X']),
])
print('OK' if ok else 'MISMATCH')
sys.exit(0 if ok else 1)

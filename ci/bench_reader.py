#!/usr/bin/env python3
"""One reader of ci/bench-vs-brainflow.sh: BrainFlow's Python binding reading
an emulated Cyton, through whichever libBoardController the venv it runs in
holds (pip's own, BrainFlow's C++ driver; or .venv-dropin's, boardloop's).

Usage: bench_reader.py PORT PACKETS SECONDS
  Streams until PACKETS rows are in (or 1.5 x SECONDS + 5 s have passed),
  draining the buffer every 10 ms as an application would, then prints one
  JSON line: rows, lost (package-number gaps), seconds from start_stream to
  the last row, cpu_s (user + system of this whole process, BrainFlow's
  reader thread included, over that span) and cpu_us_per_packet.
Usage: bench_reader.py PORT --calls N
  Measures the call cost: fills the buffer, stops, then times N calls of
  get_board_data_count and of get_board_data(1); prints count_us, data_us.
"""
import json
import resource
import sys
import time

from brainflow.board_shim import BoardShim, BrainFlowInputParams

CYTON = 0


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def open_board(port: str) -> BoardShim:
    BoardShim.disable_board_logger()
    params = BrainFlowInputParams()
    params.serial_port = port
    board = BoardShim(CYTON, params)
    board.prepare_session()
    return board


def stream(port: str, packets: int, seconds: float) -> dict:
    board = open_board(port)
    counters = []
    rows = 0
    c0 = cpu()
    t0 = time.monotonic()
    # The buffer covers half a second at the top step; it is drained every 10 ms.
    board.start_stream(min(packets, 1_000_000) + 100_000)
    deadline = t0 + seconds * 1.5 + 5
    while rows < packets and time.monotonic() < deadline:
        time.sleep(0.01)
        data = board.get_board_data()
        if data.shape[1]:
            counters.append(data[0].astype(int))
            rows += data.shape[1]
    elapsed = time.monotonic() - t0
    used = cpu() - c0
    board.stop_stream()
    board.release_session()
    lost = 0
    prev = None
    for chunk in counters:
        for c in chunk.tolist():
            if prev is not None:
                lost += (c - prev - 1) % 256
            prev = c
    return {
        "rows": rows,
        "lost": lost,
        "seconds": round(elapsed, 3),
        "cpu_s": round(used, 3),
        "cpu_us_per_packet": round(used / rows * 1e6, 3) if rows else None,
    }


def calls(port: str, n: int) -> dict:
    board = open_board(port)
    board.start_stream(4 * n)
    while board.get_board_data_count() < 2 * n:
        time.sleep(0.01)
    board.stop_stream()
    t = time.perf_counter()
    for _ in range(n):
        board.get_board_data_count()
    count_us = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    for _ in range(n):
        board.get_board_data(1)
    data_us = (time.perf_counter() - t) / n * 1e6
    board.release_session()
    return {"count_us": round(count_us, 3), "data_us": round(data_us, 3)}


def main() -> int:
    port = sys.argv[1]
    if sys.argv[2] == "--calls":
        out = calls(port, int(sys.argv[3]))
    else:
        out = stream(port, int(sys.argv[2]), float(sys.argv[3]))
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

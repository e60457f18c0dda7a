"""Multicast streaming measured end to end through BrainFlow's Python binding, on
whichever libBoardController the interpreter loads (ci/bench-streaming.sh runs it
on BrainFlow's own and on ours, side by side).

  bench_streaming.py RATE SECONDS

A PLAYBACK_FILE_BOARD replays a FreeEEG32-layout file (master board 17, 36 rows)
of RATE rows per second of its timestamps with a `streaming_board://` streamer,
and a STREAMING_BOARD in the same process reads the group. Prints one line:
rows replayed, rows received of those sent (whole batches), loss, the replay's
achieved rate, and the process's
CPU time per received row (both boards and the binding together).
"""

import os
import sys
import tempfile
import time

from brainflow.board_shim import BoardShim, BrainFlowInputParams, BoardIds

MASTER = BoardIds.FREEEEG32_BOARD


def main(rate, seconds):
    rate, seconds = float(rate), float(seconds)
    BoardShim.disable_board_logger()
    n = int(rate * seconds)
    width = BoardShim.get_num_rows(MASTER)
    ts = BoardShim.get_timestamp_channel(MASTER)
    fd, path = tempfile.mkstemp(suffix=".csv")
    with os.fdopen(fd, "w") as f:
        for k in range(n):
            row = [float(k % 1000 + r) for r in range(width)]
            row[ts] = 1.7e9 + k / rate
            f.write("\t".join("%f" % v for v in row) + "\n")

    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    group = "225.1.1.3"

    rp = BrainFlowInputParams()
    rp.ip_address, rp.ip_port, rp.master_board = group, port, MASTER
    reader = BoardShim(BoardIds.STREAMING_BOARD, rp)
    reader.prepare_session()
    reader.start_stream(n + 1000, "")

    pp = BrainFlowInputParams()
    pp.file, pp.master_board = path, MASTER
    player = BoardShim(BoardIds.PLAYBACK_FILE_BOARD, pp)
    player.prepare_session()
    player.config_board("old_timestamps")
    cpu0, t0 = time.process_time(), time.monotonic()
    player.start_stream(n + 1000, f"streaming_board://{group}:{port}")
    # Polls counts (the events); bounded.
    while player.get_board_data_count() < n and time.monotonic() - t0 < seconds * 4 + 30:
        time.sleep(0.01)
    replay_s = time.monotonic() - t0
    played = player.get_board_data_count()
    last, still = -1, time.monotonic()
    while time.monotonic() - still < 0.5:
        c = reader.get_board_data_count()
        if c != last:
            last, still = c, time.monotonic()
        time.sleep(0.02)
    cpu = time.process_time() - cpu0
    player.stop_stream()
    player.release_session()
    reader.stop_stream()
    got = reader.get_board_data_count()
    reader.release_session()
    os.unlink(path)
    # The streamer sends whole batches only (BRAINFLOW_BATCH_SIZE, default 3):
    # the rows of a last, short batch are not lost, they are never sent.
    batch = int(os.environ.get("BRAINFLOW_BATCH_SIZE", "3"))
    sent = played - played % batch
    loss = 100.0 * (sent - got) / sent if sent else 0.0
    print(f"{BoardShim.get_version():>7}  {rate:>8.0f} Hz asked  {played:>7} replayed at "
          f"{played / replay_s:>8.0f} rows/s  {got:>7} of {sent} sent received ({loss:5.2f} % lost)  "
          f"{1e6 * cpu / max(got, 1):6.1f} us CPU per row")


if __name__ == "__main__":
    main(*sys.argv[1:])

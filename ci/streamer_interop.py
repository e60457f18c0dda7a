"""Streamers against BrainFlow 5.23 (ci/streamers.sh runs it): one step per
call, each in the interpreter of the library it needs (BrainFlow's own in
.venv, ours in .venv-dropin).

  session PORT SPEC SECONDS OUT.json
      A Cyton session on PORT streaming with streamer SPEC for SECONDS; every
      row of get_board_data goes to OUT.json (row-major), with the library's
      version. For plotjuggler_udp://127.0.0.1:P, the datagrams received on
      P go there too.
  check-plotjuggler OURS.json BRAINFLOWS.json
      Every row of ours gave one message, with BrainFlow's shape (the same
      keys at every level) and the row's values.
  check-file CSV DATA.json
      CSV, as the file streamer wrote it, against the rows of DATA.json: each
      line is the row as C's "%lf\\t...%lf\\n" prints it (what BrainFlow's
      FileStreamer writes), and DataFilter.read_file reads it back.
  read-stream GROUP PORT MASTER SECONDS OUT.json READY
      BrainFlow's STREAMING_BOARD on GROUP:PORT for board MASTER; touches
      READY once it streams, then keeps every row it gets for SECONDS.
  check-stream STREAMED.json DATA.json
      Every row STREAMING_BOARD got is a row of DATA.json, every value equal,
      in order; rows it missed in between are counted.
  playback CSV MASTER OUT.json
      PLAYBACK_FILE_BOARD replays CSV in board MASTER's layout, with the
      file's own timestamps (old_timestamps), until it has every line; its
      rows go to OUT.json.
  synthetic SECONDS OUT.json
      SYNTHETIC_BOARD's default and auxiliary rows for SECONDS.
  check-synthetic OURS.json BRAINFLOWS.json
      Ours makes the same kind of rows as BrainFlow's: the same layout and
      rate, on EXG row i a sine of 5(i+1) Hz (the spectrum's peak) whose mean
      and spread agree with BrainFlow's, every other row in the range
      BrainFlow's draws it from, the package counter counting by one.
  check-playback PLAYED.json CSV
      The replay gave every line of CSV once, in order, every value equal but
      the marker row, which the playback board sets to 0 (BrainFlow's
      push_package).
"""

import json
import sys
import time

from brainflow.board_shim import BoardShim, BrainFlowInputParams, BoardIds


def session(port, spec, seconds, out):
    import socket
    import threading

    BoardShim.disable_board_logger()
    messages, sock, done = [], None, threading.Event()
    if spec.startswith("plotjuggler_udp://"):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(("127.0.0.1", int(spec.rsplit(":", 1)[1])))
        sock.settimeout(0.2)

        def receive():
            while True:
                try:
                    messages.append(json.loads(sock.recv(65536)))
                except socket.timeout:
                    if done.is_set():
                        return

        receiver = threading.Thread(target=receive)
        receiver.start()
    p = BrainFlowInputParams()
    p.serial_port = port
    b = BoardShim(BoardIds.CYTON_BOARD, p)
    b.prepare_session()
    b.start_stream(45000, spec)
    time.sleep(float(seconds))
    b.stop_stream()
    data = b.get_board_data()
    b.release_session()
    if sock is not None:
        done.set()
        receiver.join()
    rows = data.T.tolist()
    with open(out, "w") as f:
        json.dump({"version": BoardShim.get_version(), "rows": rows, "messages": messages}, f)
    print(f"session: {len(rows)} rows through {spec} ({BoardShim.get_version()})"
          + (f", {len(messages)} messages received" if sock is not None else ""))


def shape(v):
    """The keys at every level of a message."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    return None


def leaves(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from leaves(x)
    else:
        yield v


def check_plotjuggler(ours_json, theirs_json):
    ours, theirs = json.load(open(ours_json)), json.load(open(theirs_json))
    # Ours sends every row it took, the last ones before release returns.
    # BrainFlow's thread stops at release with what it has not sent yet,
    # so only its shape is compared.
    assert len(ours["messages"]) == len(ours["rows"]), \
        f"ours: {len(ours['messages'])} messages for {len(ours['rows'])} rows"
    assert theirs["messages"], "BrainFlow sent no PlotJuggler message"
    assert shape(ours["messages"][0]) == shape(theirs["messages"][0]), \
        f"shapes differ:\n ours {shape(ours['messages'][0])}\n BrainFlow's {shape(theirs['messages'][0])}"
    for m, row in zip(ours["messages"], ours["rows"]):
        values = set(row)
        assert all(x in values for x in leaves(m)), f"a value of {m} is not in its row {row}"
    print(f"check-plotjuggler: {len(ours['messages'])} messages, one per row, "
          f"shaped as BrainFlow's ({len(theirs['messages'])} from BrainFlow), values from their rows")


def check_file(csv, data_json):
    from brainflow.data_filter import DataFilter

    rows = json.load(open(data_json))["rows"]
    text = open(csv).read()
    lines = text.splitlines(keepends=True)
    assert len(lines) == len(rows), f"{csv}: {len(lines)} lines for {len(rows)} rows"
    for i, (line, row) in enumerate(zip(lines, rows)):
        want = "\t".join("%f" % v for v in row) + "\n"
        assert line == want, f"{csv} line {i + 1}:\n  got  {line!r}\n  want {want!r}"
    back = DataFilter.read_file(csv)
    assert back.shape == (len(rows[0]), len(rows)), f"read_file shape {back.shape}"
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            assert abs(back[j][i] - float("%f" % v)) <= 1e-9 * max(1.0, abs(v)), (i, j, v)
    print(f"check-file: {len(lines)} lines byte-equal to C's %lf of the rows; "
          f"DataFilter.read_file reads {back.shape[1]} rows x {back.shape[0]} channels back")


def read_stream(group, port, master, seconds, out, ready):
    BoardShim.disable_board_logger()
    p = BrainFlowInputParams()
    p.ip_address = group
    p.ip_port = int(port)
    p.master_board = int(master)
    b = BoardShim(BoardIds.STREAMING_BOARD, p)
    b.prepare_session()
    b.start_stream(45000, "")
    open(ready, "w").close()
    time.sleep(float(seconds))
    b.stop_stream()
    data = b.get_board_data()
    b.release_session()
    with open(out, "w") as f:
        json.dump({"version": BoardShim.get_version(), "rows": data.T.tolist()}, f)
    print(f"read-stream: STREAMING_BOARD got {data.shape[1]} rows")


def check_stream(streamed_json, data_json):
    got = json.load(open(streamed_json))["rows"]
    sent = json.load(open(data_json))["rows"]
    assert got, "STREAMING_BOARD got no row"
    # Every row it got is a row we sent, in order. Rows it did not get are
    # counted, not failed: its socket buffer is 65,000 bytes, so a reader
    # thread descheduled long enough loses datagrams (that is BrainFlow's
    # receiver; our sender never drops a full batch).
    index = {json.dumps(r): i for i, r in enumerate(sent)}
    at = [index.get(json.dumps(r)) for r in got]
    assert None not in at, f"a streamed row is no row of the session: {got[at.index(None)]}"
    assert at == sorted(at) and len(set(at)) == len(at), "streamed rows out of order or repeated"
    missing = at[-1] - at[0] + 1 - len(at)
    print(f"check-stream: {len(got)} rows equal to rows of the session's {len(sent)}, "
          f"in order, from row {at[0]} to {at[-1]} ({missing} missing in between)")


def playback(csv, master, out):
    BoardShim.disable_board_logger()
    lines = sum(1 for _ in open(csv))
    p = BrainFlowInputParams()
    p.file = csv
    p.master_board = int(master)
    b = BoardShim(BoardIds.PLAYBACK_FILE_BOARD, p)
    b.prepare_session()
    b.config_board("old_timestamps")
    b.start_stream(45000, "")
    # Wait for the replay to reach the file's end (bounded): the count is the
    # event, the sleep only its polling period.
    deadline = time.monotonic() + 60
    while b.get_board_data_count() < lines and time.monotonic() < deadline:
        time.sleep(0.05)
    b.stop_stream()
    data = b.get_board_data()
    b.release_session()
    with open(out, "w") as f:
        json.dump({"version": BoardShim.get_version(), "master": int(master),
                   "rows": data.T.tolist()}, f)
    print(f"playback: {data.shape[1]} rows of {lines} lines replayed ({BoardShim.get_version()})")


def check_playback(played_json, csv):
    played = json.load(open(played_json))
    marker = BoardShim.get_marker_channel(played["master"])
    want = [[float(x) for x in line.rstrip("\n").split("\t")] for line in open(csv)]
    got = played["rows"]
    assert len(got) == len(want), f"{len(got)} rows replayed for {len(want)} lines"
    for i, (g, w) in enumerate(zip(got, want)):
        w[marker] = 0.0
        assert g == w, f"row {i}: got {g}\n want {w}"
    print(f"check-playback: {len(got)} rows, each equal to its line of {csv.rsplit('/', 1)[-1]} "
          f"(marker row 0)")


def synthetic(seconds, out):
    from brainflow.board_shim import BrainFlowPresets

    BoardShim.disable_board_logger()
    b = BoardShim(BoardIds.SYNTHETIC_BOARD, BrainFlowInputParams())
    b.prepare_session()
    b.start_stream(45000, "")
    time.sleep(float(seconds))
    b.stop_stream()
    rows = {"default": b.get_board_data(preset=BrainFlowPresets.DEFAULT_PRESET).tolist(),
            "auxiliary": b.get_board_data(preset=BrainFlowPresets.AUXILIARY_PRESET).tolist()}
    b.release_session()
    with open(out, "w") as f:
        json.dump({"version": BoardShim.get_version(), "rows": rows}, f)
    print(f"synthetic: {len(rows['default'][0])} rows in {seconds} s ({BoardShim.get_version()})")


def check_synthetic(ours_json, theirs_json):
    import numpy as np
    from brainflow.board_shim import BrainFlowPresets

    ours, theirs = json.load(open(ours_json)), json.load(open(theirs_json))
    sid = BoardIds.SYNTHETIC_BOARD
    d = {k: (np.array(ours["rows"][k]), np.array(theirs["rows"][k])) for k in ours["rows"]}
    o, t = d["default"]
    assert o.shape[0] == t.shape[0] == BoardShim.get_num_rows(sid), (o.shape, t.shape)
    rate = BoardShim.get_sampling_rate(sid)
    ts = BoardShim.get_timestamp_channel(sid)
    for name, x in (("ours", o), ("BrainFlow's", t)):
        measured = (x.shape[1] - 1) / (x[ts][-1] - x[ts][0])
        # The host clock paces both, each catching up after a late row, so
        # only a thread still behind at the stop moves this: by its lag over
        # the 2 s (200 ms of lag is 10 %). A wrong rate is off by far more.
        assert abs(measured - rate) < 0.1 * rate, f"{name}: {measured:.1f} Hz, not {rate}"
        counter = x[BoardShim.get_package_num_channel(sid)]
        assert np.all(np.diff(counter) % 256 == 1), f"{name}: package counter skips"
    n = min(o.shape[1], t.shape[1])
    for i, row in enumerate(BoardShim.get_exg_channels(sid)):
        want_hz = 5.0 * (i + 1)
        for name, x in (("ours", o), ("BrainFlow's", t)):
            v = x[row][:n] - x[row][:n].mean()
            peak = np.fft.rfftfreq(n, 1.0 / rate)[np.argmax(np.abs(np.fft.rfft(v)))]
            assert abs(peak - want_hz) <= rate / n, f"{name} EXG {i}: peak at {peak} Hz, not {want_hz}"
        # Mean and spread: the same within 6 standard errors of the
        # difference. The noise on row i is uniform in ±a·0.1(i+1)/2, as large
        # as the offset a = 10(i+1) on the last rows, so 2 s of it moves a
        # mean by ~0.04 a (measured: up to 0.052 a apart in 4 runs): a fixed
        # bound near that would fail now and then. Six standard errors (about
        # 0.4 a for the mean, 27 % for the spread at 500 rows) fail on noise
        # about once in 10^8 runs and still catch a wrong offset, a wrong
        # amplitude or a missing sine.
        a = 10.0 * (i + 1)
        se = np.sqrt(o[row].var() / o.shape[1] + t[row].var() / t.shape[1])
        assert abs(o[row].mean() - t[row].mean()) < 6 * se, (i, a, o[row].mean(), t[row].mean(), se)
        assert abs(o[row].std() / t[row].std() - 1) < 6 / np.sqrt(n), (i, o[row].std(), t[row].std())
    for preset, key in ((BrainFlowPresets.DEFAULT_PRESET, "default"),
                        (BrainFlowPresets.AUXILIARY_PRESET, "auxiliary")):
        descr = BoardShim.get_board_descr(sid, preset)
        # BrainFlow's draws: around_one = U(0.9, 1.1).
        ranges = {"accel_channels": (0.8, 1.0), "gyro_channels": (0.8, 1.0),
                  "eda_channels": (0.9, 1.1), "temperature_channels": (36.59, 36.61),
                  "resistance_channels": (900, 1100)}
        for field, (lo, hi) in ranges.items():
            for row in descr.get(field, []):
                for name, x in zip(("ours", "BrainFlow's"), d[key]):
                    assert lo <= x[row].min() and x[row].max() <= hi, \
                        f"{name} {key} {field} row {row}: {x[row].min()}..{x[row].max()} not in {lo}..{hi}"
        for name, x in zip(("ours", "BrainFlow's"), d[key]):
            b = x[descr["battery_channel"]]
            assert 80 <= b.min() and b.max() <= 100, f"{name} {key} battery {b.min()}..{b.max()}"
            ppg = descr.get("ppg_channels", [])
            for k, row in enumerate(ppg):
                base = 500.0 if k == 0 else 253500.0
                assert 0.9 * base <= x[row].min() and x[row].max() <= 1.1 * base, (name, key, row)
    print(f"check-synthetic: ours and BrainFlow's at {rate} Hz ({o.shape[1]} and {t.shape[1]} rows), "
          f"{len(BoardShim.get_exg_channels(sid))} EXG sines at 5(i+1) Hz with matching mean and spread, "
          f"the other rows in BrainFlow's ranges on both presets")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"session": session, "check-file": check_file, "read-stream": read_stream,
     "check-stream": check_stream, "check-plotjuggler": check_plotjuggler,
     "playback": playback, "check-playback": check_playback,
     "synthetic": synthetic, "check-synthetic": check_synthetic}[cmd](*args)

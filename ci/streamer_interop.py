"""Streamers against BrainFlow 5.23 (ci/streamers.sh runs it): one step per
call, each in the interpreter of the library it needs (BrainFlow's own in
.venv, ours in .venv-dropin).

  session PORT SPEC SECONDS OUT.json
      A Cyton session on PORT streaming with streamer SPEC for SECONDS; every
      row of get_board_data goes to OUT.json (row-major), with the library's
      version.
  check-file CSV DATA.json
      CSV, as the file streamer wrote it, against the rows of DATA.json: each
      line is the row as C's "%lf\\t...%lf\\n" prints it (what BrainFlow's
      FileStreamer writes), and DataFilter.read_file reads it back.
  read-stream GROUP PORT MASTER SECONDS OUT.json READY
      BrainFlow's STREAMING_BOARD on GROUP:PORT for board MASTER; touches
      READY once it streams, then keeps every row it gets for SECONDS.
  check-stream STREAMED.json DATA.json
      The rows STREAMING_BOARD got are a run of consecutive rows of DATA.json,
      every value equal.
"""

import json
import sys
import time

from brainflow.board_shim import BoardShim, BrainFlowInputParams, BoardIds


def session(port, spec, seconds, out):
    BoardShim.disable_board_logger()
    p = BrainFlowInputParams()
    p.serial_port = port
    b = BoardShim(BoardIds.CYTON_BOARD, p)
    b.prepare_session()
    b.start_stream(45000, spec)
    time.sleep(float(seconds))
    b.stop_stream()
    data = b.get_board_data()
    b.release_session()
    rows = data.T.tolist()
    with open(out, "w") as f:
        json.dump({"version": BoardShim.get_version(), "rows": rows}, f)
    print(f"session: {len(rows)} rows through {spec} ({BoardShim.get_version()})")


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
    at = next((i for i, r in enumerate(sent) if r == got[0]), None)
    assert at is not None, f"the first streamed row is no row of the session: {got[0]}"
    assert sent[at:at + len(got)] == got, "streamed rows differ from the session's"
    print(f"check-stream: {len(got)} rows equal to rows {at}..{at + len(got) - 1} "
          f"of the session's {len(sent)}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"session": session, "check-file": check_file, "read-stream": read_stream,
     "check-stream": check_stream}[cmd](*args)

#!/usr/bin/env python3
"""Drives one of BrainFlow's own board drivers for the boardloop harness.

Reads one JSON request per line on stdin and answers one JSON line on stdout, so the
harness plays the same scenario steps through BrainFlow's BoardShim as through the
Rust boards. Requests: {"op": "open", "board_id": N, "serial_port": "...",
"mac_address": "...", "timeout": N, "other_info": "..."} creates the BoardShim (one board per process);
then "prepare"|"start"|"stop"|"release"|"config"|"marker"|"count"|"data"|"version";
"count" and "data" take an optional "preset" (0 default, 1 auxiliary, 2 ancillary).
Answers: {"ok": true, ...} or {"ok": false, "code": N, "message": "..."} with
BrainFlow's exit code.
"""
import json
import math
import os
import sys

from brainflow.board_shim import BoardShim, BrainFlowError, BrainFlowInputParams


def main() -> int:
    # BOARDLOOP_BRAINFLOW_LOG=FILE: BrainFlow's own trace log of each session
    # (appended), for debugging its drivers against ours.
    log = os.environ.get("BOARDLOOP_BRAINFLOW_LOG")
    if log:
        BoardShim.enable_dev_board_logger()
        BoardShim.set_log_file(log)
    else:
        BoardShim.disable_board_logger()
    board = None

    def need():
        if board is None:
            raise BrainFlowError("no board: send `open` first", 15)
        return board

    def handle(req):
        nonlocal board
        op = req["op"]
        if op == "open":
            if board is not None:
                raise BrainFlowError("a board is already open", 13)
            params = BrainFlowInputParams()
            params.serial_port = req.get("serial_port", "")
            params.mac_address = req.get("mac_address", "")
            params.timeout = int(req.get("timeout", 0))
            params.other_info = req.get("other_info", "")
            board = BoardShim(int(req["board_id"]), params)
        elif op == "prepare":
            need().prepare_session()
        elif op == "start":
            need().start_stream(int(req.get("buffer_size", 450000)))
        elif op == "stop":
            need().stop_stream()
        elif op == "release":
            need().release_session()
        elif op == "config":
            return {"reply": need().config_board(req["command"])}
        elif op == "marker":
            need().insert_marker(float(req["value"]))
        elif op == "count":
            # BrainFlow's presets are ints (BrainFlowPresets is an IntEnum).
            return {"value": int(need().get_board_data_count(int(req.get("preset", 0))))}
        elif op == "version":
            return {"value": BoardShim.get_version()}
        elif op == "data":
            data = need().get_board_data(preset=int(req.get("preset", 0)))
            return {
                "num_rows": int(data.shape[0]),
                "num_samples": int(data.shape[1]),
                # JSON has no NaN (a row the device did not fill, e.g. Muse's
                # AUX): null, read back as NaN by the harness.
                "values": [v if math.isfinite(v) else None
                           for v in data.flatten(order="C").tolist()],
            }
        else:
            return {"ok": False, "code": 13, "message": f"unknown op {op!r}"}
        return {}

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            answer = {"ok": True}
            answer.update(handle(json.loads(line)) or {})
        except BrainFlowError as e:
            answer = {"ok": False, "code": int(e.exit_code), "message": str(e)}
        except Exception as e:  # report, never die mid-trial
            answer = {"ok": False, "code": 17, "message": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

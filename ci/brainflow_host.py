#!/usr/bin/env python3
"""Drives one of BrainFlow's own board drivers for the boardloop harness.

Reads one JSON request per line on stdin and answers one JSON line on stdout, so the
harness plays the same scenario steps through BrainFlow's BoardShim as through the
Rust boards. Requests: {"op": "prepare"|"start"|"stop"|"release"|"config"|"marker"|
"count"|"data"|"version", ...}; "count" and "data" take an optional "preset"
(0 default, 1 auxiliary, 2 ancillary). Answers: {"ok": true, ...} or {"ok": false, "code": N,
"message": "..."} with BrainFlow's exit code.
"""
import argparse
import json
import sys

from brainflow.board_shim import BoardShim, BrainFlowError, BrainFlowInputParams


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--board-id", type=int, required=True)
    ap.add_argument("--serial-port", required=True)
    ap.add_argument("--timeout", type=int, default=0)
    args = ap.parse_args()
    BoardShim.disable_board_logger()
    params = BrainFlowInputParams()
    params.serial_port = args.serial_port
    params.timeout = args.timeout
    board = BoardShim(args.board_id, params)

    def handle(req):
        op = req["op"]
        if op == "prepare":
            board.prepare_session()
        elif op == "start":
            board.start_stream(int(req.get("buffer_size", 450000)))
        elif op == "stop":
            board.stop_stream()
        elif op == "release":
            board.release_session()
        elif op == "config":
            return {"reply": board.config_board(req["command"])}
        elif op == "marker":
            board.insert_marker(float(req["value"]))
        elif op == "count":
            # BrainFlow's presets are ints (BrainFlowPresets is an IntEnum).
            return {"value": int(board.get_board_data_count(int(req.get("preset", 0))))}
        elif op == "version":
            return {"value": BoardShim.get_version()}
        elif op == "data":
            data = board.get_board_data(preset=int(req.get("preset", 0)))
            return {
                "num_rows": int(data.shape[0]),
                "num_samples": int(data.shape[1]),
                "values": data.flatten(order="C").tolist(),
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

#!/usr/bin/env python3
"""Prints the exit code of libBoardController for edge cases of BrainFlow's C API.

Run it with BrainFlow's own library and with boardloop's, then diff the two outputs:

    python ci/probe_brainflow_codes.py --serial-port /dev/pts/N            # pip brainflow's lib
    python ci/probe_brainflow_codes.py --serial-port /dev/pts/N --lib $CARGO_TARGET_DIR/release/libBoardController.so

The session cases use a Cyton (board 0) on --serial-port, e.g. an emulator started with
`cargo run -p boardloop-harness -- emulate scenarios/cyton/known_signal.yaml`.
Cases where BrainFlow itself crashes (null output pointers, negative counts) are left out.
"""
import argparse
import ctypes
import json
import os
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", help="libBoardController.so to load (default: pip brainflow's)")
    ap.add_argument("--serial-port", required=True)
    args = ap.parse_args()
    path = args.lib
    if path is None:
        import brainflow

        path = os.path.join(os.path.dirname(brainflow.__file__), "lib", "libBoardController.so")
    lib = ctypes.CDLL(path)
    lib.insert_marker.argtypes = [ctypes.c_double, ctypes.c_int, ctypes.c_int, ctypes.c_char_p]
    lib.set_log_level_board_controller(6)

    params = {
        "serial_port": args.serial_port, "mac_address": "", "ip_address": "",
        "ip_address_aux": "", "ip_address_anc": "", "ip_port": 0, "ip_port_aux": 0,
        "ip_port_anc": 0, "ip_protocol": 0, "other_info": "", "timeout": 0,
        "serial_number": "", "file": "", "file_aux": "", "file_anc": "", "master_board": -100,
    }
    full = json.dumps(params).encode()
    v = ctypes.c_int(0)
    buf = (ctypes.c_double * 200000)()
    text = ctypes.create_string_buffer(16000)
    chans = (ctypes.c_int * 512)()

    def case(name, code, extra=""):
        print(f"{name}: {code}{(' ' + str(extra)) if extra != '' else ''}", flush=True)

    case("prepare bad json", lib.prepare_session(0, b"not json"))
    case("prepare {}", lib.prepare_session(0, b"{}"))
    case("prepare array", lib.prepare_session(0, b"[]"))
    for k in params:
        d = dict(params)
        del d[k]
        case(f"prepare missing {k}", lib.prepare_session(0, json.dumps(d).encode()))
    case("prepare wrong type", lib.prepare_session(0, full.replace(b'"timeout": 0', b'"timeout": "x"')))
    case("prepare unknown board", lib.prepare_session(999, full))
    case("release unprepared", lib.release_session(0, full))
    case("stop unprepared", lib.stop_stream(0, full))
    case("start unprepared", lib.start_stream(100, None, 0, full))
    case("count unprepared", lib.get_board_data_count(0, ctypes.byref(v), 0, full))
    case("data unprepared", lib.get_board_data(1, 0, buf, 0, full))
    case("config unprepared", lib.config_board(b"v", text, ctypes.byref(v), 4096, 0, full))
    case("is_prepared unprepared", lib.is_prepared(ctypes.byref(v), 0, full), v.value)
    case("prepare", lib.prepare_session(0, full))
    case("prepare again", lib.prepare_session(0, full))
    case("is_prepared reformatted json", lib.is_prepared(ctypes.byref(v), 0, json.dumps(params, indent=2).encode()), v.value)
    d = dict(params, timeout=3)
    case("is_prepared other timeout", lib.is_prepared(ctypes.byref(v), 0, json.dumps(d).encode()), v.value)
    d = dict(params, extra_key=1)
    case("is_prepared extra key", lib.is_prepared(ctypes.byref(v), 0, json.dumps(d).encode()), v.value)
    case("board rate", lib.get_board_sampling_rate(0, ctypes.byref(v), 0, full), v.value)
    case("count before start", lib.get_board_data_count(0, ctypes.byref(v), 0, full))
    case("marker before start", lib.insert_marker(1.0, 0, 0, full))
    case("current before start", lib.get_current_board_data(1, 0, buf, ctypes.byref(v), 0, full))
    case("stop before start", lib.stop_stream(0, full))
    case("start size 0", lib.start_stream(0, None, 0, full))
    case("start size -1", lib.start_stream(-1, None, 0, full))
    case("start size max+1", lib.start_stream(86400 * 250 + 1, None, 0, full))
    case("start bad streamer", lib.start_stream(1000, b"foo://bar", 0, full))
    case("start", lib.start_stream(45000, None, 0, full))
    case("start again", lib.start_stream(45000, None, 0, full))
    case("add bad streamer", lib.add_streamer(b"foo://bar", 0, 0, full))
    case("add null streamer", lib.add_streamer(None, 0, 0, full))
    case("delete unknown streamer", lib.delete_streamer(b"file:///tmp/never.csv:w", 0, 0, full))
    case("marker 0", lib.insert_marker(0.0, 0, 0, full))
    case("marker bad preset", lib.insert_marker(1.0, 7, 0, full))
    case("marker", lib.insert_marker(1.0, 0, 0, full))
    time.sleep(0.5)
    case("count", lib.get_board_data_count(0, ctypes.byref(v), 0, full), "> 0" if v.value > 0 else v.value)
    case("count null", lib.get_board_data_count(0, None, 0, full))
    case("count bad preset", lib.get_board_data_count(9, ctypes.byref(v), 0, full))
    case("data null buf", lib.get_board_data(5, 0, None, 0, full))
    case("data 0", lib.get_board_data(0, 0, buf, 0, full))
    case("data 5", lib.get_board_data(5, 0, buf, 0, full))
    case("current 0", lib.get_current_board_data(0, 0, buf, ctypes.byref(v), 0, full), v.value)
    case("current 3", lib.get_current_board_data(3, 0, buf, ctypes.byref(v), 0, full), v.value)
    case("current null returned", lib.get_current_board_data(3, 0, buf, None, 0, full))
    case("config null", lib.config_board(None, text, ctypes.byref(v), 4096, 0, full))
    case("stop", lib.stop_stream(0, full))
    case("stop again", lib.stop_stream(0, full))
    case("release", lib.release_session(0, full))
    case("release again", lib.release_session(0, full))
    case("release_all", lib.release_all_sessions())

    case("descr small", lib.get_board_descr(0, 0, text, ctypes.byref(v), 10), v.value)
    case("descr unknown board", lib.get_board_descr(999, 0, text, ctypes.byref(v), 16000))
    case("descr cyton preset 1", lib.get_board_descr(0, 1, text, ctypes.byref(v), 16000))
    case("descr cyton", lib.get_board_descr(0, 0, text, ctypes.byref(v), 16000), text.value.decode())
    case("rate cyton", lib.get_sampling_rate(0, 0, ctypes.byref(v)), v.value)
    case("rate unknown", lib.get_sampling_rate(999, 0, ctypes.byref(v)))
    case("battery cyton", lib.get_battery_channel(0, 0, ctypes.byref(v)))
    for kind in ["eeg", "exg", "emg", "ecg", "eog", "eda", "ppg", "optical", "accel", "rotation",
                 "analog", "gyro", "other", "temperature", "resistance", "magnetometer"]:
        f = getattr(lib, f"get_{kind}_channels")
        v.value = 0
        code = f(2, 0, chans, ctypes.byref(v))
        case(f"{kind} daisy", code, list(chans[: v.value]) if code == 0 else "")
    case("eeg names small", lib.get_eeg_names(0, 0, text, ctypes.byref(v), 5), v.value)
    case("eeg names", lib.get_eeg_names(0, 0, text, ctypes.byref(v), 4096), text.value.decode())
    case("device name", lib.get_device_name(2, 0, text, ctypes.byref(v), 4096), text.value.decode())
    case("presets cyton", lib.get_board_presets(0, chans, ctypes.byref(v)), list(chans[: v.value]))
    case("log level 99", lib.set_log_level_board_controller(99))
    case("log file bad dir", lib.set_log_file_board_controller(b"/nonexistent/dir/x.log"))
    case("log message", lib.log_message_board_controller(2, b"probe"))
    case("log message level -1", lib.log_message_board_controller(-1, b"probe"))
    case("log message level 7", lib.log_message_board_controller(7, b"probe"))
    case("log message null", lib.log_message_board_controller(2, None))
    case("log level -5", lib.set_log_level_board_controller(-5))
    case("log file null", lib.set_log_file_board_controller(None))


if __name__ == "__main__":
    main()

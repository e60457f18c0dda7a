#!/usr/bin/env bash
# Checks that nextest itself accepts the test groups `boardloop rig-groups`
# makes from a rig file, and puts each device's `::device` trials (and only
# those) in a group of one thread: boards on one port share its group. The rig
# file lists no scenarios, so only the portable ones run on its devices (a
# physical device cannot pass the exact checks).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
T="${CARGO_TARGET_DIR:-$REPO/target}"
rig="$T/rig-example.yaml"
groups="$T/rig-groups.toml"
cat >"$rig" <<'YAML'
rig: example
boards:
  cyton: { serial_port: /dev/ttyUSB0 }
  freeeeg32: { serial_port: /dev/ttyUSB1 }
  ironbci32: { serial_port: /dev/ttyUSB1 }
YAML
cargo run -q -p boardloop-harness -- rig-groups "$rig" -o "$groups"
BOARDLOOP_RIG="$rig" cargo nextest show-config test-groups --workspace \
    --test matrix --tool-config-file "boardloop:$groups" >"$groups.shown"
python3 - "$groups.shown" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
groups = {m.group(1): m.group(2) for m in
          re.finditer(r"group: (\S+) \(max threads = 1\)(.*?)(?=group: |\Z)", text, re.S)}
usb0 = groups["@tool:boardloop:dev_ttyUSB0"]
usb1 = groups["@tool:boardloop:dev_ttyUSB1"]
assert "cyton::test_signal_fast::device" in usb0, usb0
assert "cyton::known_signal::device" not in usb0, usb0  # not portable
assert "freeeeg32::" not in usb0 and "::emulated" not in usb0, usb0
assert "freeeeg32::generator_sine::device" in usb1, usb1
assert "ironbci32::generator_sine::device" in usb1, usb1
trials = {k: len(re.findall(r"::device\b", v)) for k, v in groups.items()}
print(f"nextest test groups of one thread: {trials}")
PY

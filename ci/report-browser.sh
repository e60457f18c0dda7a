#!/usr/bin/env bash
# The HTML report in a real headless browser (Debian's chromium, installed
# if missing): a run of two Cyton scenarios, one passing with lost packets
# and one whose signal check fails on a corrupted value, writes its report;
# chromium loads it, and its DOM (after the page's own script counted what
# rendered) must show one rendered plot per compared channel and the failed
# trial marked. Also takes the screenshot README.md shows:
#   bash ci/report-browser.sh [SCREENSHOT.png]   (default target/report-check/report.png)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
T="${CARGO_TARGET_DIR:-$REPO/target}"
OUT="$T/report-check"
SHOT="${1:-$OUT/report.png}"

browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$browser" ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
    browser="$(command -v chromium)"
fi

rm -rf "$OUT"
mkdir -p "$OUT/scenarios/devices" "$OUT/scenarios/cyton"
cp scenarios/devices/cyton.yaml "$OUT/scenarios/devices/"
cat >"$OUT/scenarios/cyton/a_lost_packets.yaml" <<'YAML'
description: Passes; the device skips 3 packets at 200 and 2 at 450.
device: cyton
pacing: max
packets: 600
signals:
  eeg1: { sine: { hz: 4, amplitude: 90 } }
  eeg2: { square: { hz: 3, amplitude: 40 } }
  eeg*: { sine: { hz: 9, amplitude: 50 } }
faults:
  - { at_packet: 200, drop: 3 }
  - { at_packet: 450, drop: 2 }
steps: [prepare, start, { wait_samples: 595 }, stop, release]
expect:
  lost_packets: 5
  signal: { tolerance_lsb: 1 }
YAML
cat >"$OUT/scenarios/cyton/b_corrupted_value.yaml" <<'YAML'
description: Fails; one byte of eeg1 in packet 300 is flipped on the wire and the framing survives, so the value arrives wrong.
device: cyton
pacing: max
packets: 600
signals:
  eeg*: { sine: { hz: 4, amplitude: 90 } }
faults:
  - { at_packet: 300, corrupt: { offset: 3, xor: 0x40 } }
steps: [prepare, start, { wait_samples: 600 }, stop, release]
expect:
  lost_packets: 0
  signal: { tolerance_lsb: 1 }
YAML

cargo build -q -p boardloop-harness
bin="$T/debug/boardloop"
rc=0
"$bin" run --scenarios "$OUT/scenarios" --html "$OUT/report.html" ::emulated >"$OUT/run.log" 2>&1 || rc=$?
tail -n 3 "$OUT/run.log"
if [[ $rc -ne 1 ]]; then
    echo "expected the run to fail (one failing trial), got exit $rc" >&2
    cat "$OUT/run.log" >&2
    exit 1
fi

flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=5000)
"$browser" "${flags[@]}" --dump-dom "file://$OUT/report.html" >"$OUT/dom.html" 2>"$OUT/browser.log"
"$browser" "${flags[@]}" --window-size=1100,1500 --screenshot="$SHOT" \
    "file://$OUT/report.html" >>"$OUT/browser.log" 2>&1
python3 - "$OUT/report.html" "$OUT/dom.html" "$SHOT" <<'PY'
import re, sys, os
src, dom, shot = (open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3])
body = re.search(r"<body([^>]*)>", dom).group(1)
attr = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body))
channels = sum(int(n) for n in re.findall(r'data-channels="(\d+)"', src))
assert channels >= 16, f"two Cyton trials compare 8 channels each, got {channels}"
assert attr.get("channel-plots") == str(channels), (attr, channels)
assert attr.get("rendered-plots") == str(channels), f"plots the browser drew with no size: {attr}"
assert attr.get("failed-trials") == "1", attr
assert int(attr.get("marked-samples", "0")) >= 1, f"no channel marks a differing sample: {attr}"
fail = re.search(r'<section class="trial fail" id="cyton--b_corrupted_value--emulated"', dom)
assert fail, "the failed trial is not marked as failed"
assert "packets lost at" in dom, "no loss timeline for the trial that lost packets"
assert os.path.getsize(shot) > 10_000, "screenshot missing or blank"
print(f"browser: {attr['rendered-plots']} of {channels} channel plots rendered, "
      f"{attr['failed-trials']} failed trial marked, {attr['marked-samples']} channel(s) "
      f"with marked samples; screenshot {shot}")
PY

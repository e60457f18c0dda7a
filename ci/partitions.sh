#!/usr/bin/env bash
# The scenario matrix spread over several runners, with nextest's own
# machinery: the matrix is built and archived once (`cargo nextest archive`),
# then each runner runs its share from the archive (`--partition hash:I/N`)
# and writes its own JUnit. Here the N runners take turns on this machine,
# and the script checks what a CI with N machines relies on: every partition
# ran without failure, no trial ran twice, and the union of the partitions'
# JUnit is exactly the matrix nextest lists from the archive.
#
# Usage: bash ci/partitions.sh [N]   (default 2)
# On real runners: the build job runs the `archive` line below and uploads
# the archive; each runner checks out the same commit (for scenarios/ and
# the venvs) and runs the `run` line with its own I, `--workspace-remap` set
# to its checkout. README.md "The matrix over several machines".
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
N="${1:-2}"
T="${CARGO_TARGET_DIR:-$REPO/target}"
OUT="$T/partitions"
ARCHIVE="$OUT/matrix.tar.zst"
rm -rf "$OUT"
mkdir -p "$OUT"

# --workspace (with --test, it builds just the matrix): cargo resolves the
# dependencies' features for the packages selected, so `-p boardloop-harness`
# built 50 crates a second time with other features than the workspace build
# of the tests step (measured on a fresh clone: 4:31 here, and 2:35 and 1:39
# more for the soak and lab binaries). Every CI script builds tests so.
cargo nextest archive --workspace --test matrix --archive-file "$ARCHIVE"

# The whole matrix, as the archive lists it: every trial nextest runs by
# default (ignored trials, which need a rig or the VM, are not run).
cargo nextest list --archive-file "$ARCHIVE" --workspace-remap "$REPO" \
    --message-format json >"$OUT/list.json"

for i in $(seq 1 "$N"); do
    echo "--- partition $i/$N"
    # Each runner extracts the archive to a folder of its own.
    mkdir -p "$OUT/runner-$i"
    cargo nextest run --archive-file "$ARCHIVE" --workspace-remap "$REPO" \
        --extract-to "$OUT/runner-$i" --profile ci --partition "hash:$i/$N"
    # nextest keeps its store (the JUnit) in the workspace's target folder.
    cp "$T/nextest/ci/junit.xml" "$OUT/partition-$i.xml"
done

python3 - "$OUT" "$N" <<'EOF'
import json, sys, xml.etree.ElementTree as ET
out, n = sys.argv[1], int(sys.argv[2])
listed = json.load(open(f"{out}/list.json"))
whole = set()
for suite in listed["rust-suites"].values():
    for name, case in suite["testcases"].items():
        if not case["ignored"] and case["filter-match"]["status"] == "matches":
            whole.add(name)
seen, runs = set(), []
for i in range(1, n + 1):
    root = ET.parse(f"{out}/partition-{i}.xml").getroot()
    names = [c.get("name") for c in root.iter("testcase")]
    bad = [c.get("name") for c in root.iter("testcase")
           if c.find("failure") is not None or c.find("error") is not None]
    assert not bad, f"partition {i}: failed: {bad}"
    twice = seen.intersection(names)
    assert not twice, f"partition {i} ran trials another partition ran: {sorted(twice)[:5]}"
    assert len(set(names)) == len(names), f"partition {i} lists a trial twice"
    seen.update(names)
    runs.append(len(names))
missing, extra = whole - seen, seen - whole
assert not missing, f"{len(missing)} trials ran in no partition: {sorted(missing)[:5]}"
assert not extra, f"{len(extra)} trials not in the matrix: {sorted(extra)[:5]}"
print(f"partitions: {' + '.join(map(str, runs))} = {len(seen)} trials, "
      f"exactly the {len(whole)} the archive lists to run; none twice, none failed")
EOF

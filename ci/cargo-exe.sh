#!/usr/bin/env bash
# Prints the path of the executable a cargo build command produces for one
# target, from cargo's own JSON report (the hash in its name changes).
# Usage: ci/cargo-exe.sh TARGET_NAME cargo ARGS... (without --message-format)
# e.g.   ci/cargo-exe.sh matrix cargo test --workspace --test matrix --no-run
set -euo pipefail
name="$1"
shift
"$@" --message-format=json | python3 -c '
import json, sys
name = sys.argv[1]
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == name \
            and m.get("executable"):
        print(m["executable"])
' "$name"

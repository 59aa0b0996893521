#!/usr/bin/env bash
# Web page speed: every page of the portal on the demo archive, timed at the HTTP socket.
#
#   benchsuite/pages.sh [REQUESTS_PER_PAGE]          # default 500
#
# Starts `seqbank demo` (release build) on 127.0.0.1:8097, then benchsuite/pages.py fetches each
# page REQUESTS times in turn over one keep-alive connection, as an anonymous visitor, the
# submitter alice or the curator carol, and prints p50, p99 and max per page. The client runs on
# the same machine, so the figures are the server's time plus loopback and client parsing: an
# upper bound on the server-side time.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
cargo build --release -q -p seqbank
OUT=$(mktemp)
./target/release/seqbank demo --listen 127.0.0.1:8097 >"$OUT" 2>&1 &
DEMO=$!
trap 'kill $DEMO 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 1 60); do grep -q "Ctrl-C" "$OUT" && break; sleep 0.5; done
token() { awk -v who="$1" '$2 == who { print $3 }' "$OUT"; }
sleep 2  # the demo's validation jobs and the search index settle
SEQBANK_URL=http://127.0.0.1:8097 ALICE=$(token alice) CAROL=$(token carol) \
    python3 benchsuite/pages.py "$N"

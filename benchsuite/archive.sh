#!/usr/bin/env bash
# Whole-program benchmark of the archive core: accession allocation, and a 10,000-sample
# spreadsheet (records of ../shared/bench/biosample_model.py) submitted end to end (upload, validation, storage; then submit and approve),
# on SQLite and, when BENCH_POSTGRES_URL names a server (postgres://USER@HOST:PORT), on PostgreSQL.
#
#   benchsuite/archive.sh [N_SAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
cargo build --release -q -p seqbank
cargo build --release -q -p seqbank-metastore --example accessions
BIN=target/release/seqbank
WORK=$(mktemp -d /tmp/seqbank-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# The samples come from the shared BioSample model (../shared/bench/biosample_model.py).
python3 benchsuite/biosample_sheet.py "$N" > "$WORK/samples.tsv"

run() {
    local name=$1 url=$2
    target/release/examples/accessions "$url"
    local data="$WORK/$name"
    mkdir -p "$data"
    export SEQBANK_METASTORE_URL="$url"
    local token curator
    token=$($BIN user add "bench-$name-$$" --role submitter --data "$data")
    curator=$($BIN user add "cur-$name-$$" --role curator --data "$data")
    $BIN serve --data "$data" --listen 127.0.0.1:18181 2>"$WORK/serve-$name.log" &
    local pid=$!
    sleep 1
    local api=http://127.0.0.1:18181/api/v1
    local id
    id=$(curl -s -H "Authorization: Bearer $token" -d '{}' $api/submissions | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    local t0 t1 t2 t3
    t0=$(date +%s.%N)
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" --data-binary @"$WORK/samples.tsv" "$api/submissions/$id/spreadsheet" | grep -q 201
    t1=$(date +%s.%N)
    curl -s -o /dev/null -H "Authorization: Bearer $token" -X POST "$api/submissions/$id/submit"
    t2=$(date +%s.%N)
    curl -s -o /dev/null -H "Authorization: Bearer $curator" -X POST "$api/submissions/$id/approve"
    t3=$(date +%s.%N)
    python3 -c "print(f'$name: $N samples from a spreadsheet: add {$t1-$t0:.2f} s ({$N/($t1-$t0):.0f} samples/s), submit+checks {$t2-$t1:.2f} s, approve+accessions {$t3-$t2:.2f} s')"
    kill $pid
    wait $pid 2>/dev/null || true
    unset SEQBANK_METASTORE_URL
}

run sqlite "sqlite://$WORK/bench-sqlite.db"
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
    db="seqbank_bench_$$"
    psql "$BENCH_POSTGRES_URL/postgres" -qc "CREATE DATABASE $db"
    run postgres "$BENCH_POSTGRES_URL/$db"
    psql "$BENCH_POSTGRES_URL/postgres" -qc "DROP DATABASE $db"
fi

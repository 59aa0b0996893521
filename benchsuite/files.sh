#!/usr/bin/env bash
# Whole-program benchmark of files over loopback: a 2 GiB run (reads of ../shared/bench/gen_fastq.py) uploaded with `seqbank upload`
# (tus) and downloaded with curl from /files, on a local folder and on an S3-compatible store,
# next to curl putting and getting the same file on the S3 server directly; then 50 concurrent
# uploads of 20 MiB each, with the server's peak memory.
#
#   BENCH_S3_ENDPOINT=http://127.0.0.1:8333 BENCH_S3_BUCKET=seqbank-test benchsuite/files.sh [GIB]
#
# The S3 half is skipped without BENCH_S3_ENDPOINT. The S3 server must allow unsigned requests
# (SeaweedFS does by default) so that curl can be the anchor.
set -euo pipefail
cd "$(dirname "$0")/.."
GIB=${1:-2}
cargo build --release -q -p seqbank
BIN=$PWD/target/release/seqbank
WORK=$(mktemp -d /tmp/seqbank-bench-files.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18182
BASE=http://127.0.0.1:$PORT

secs() { python3 -c 'import sys,time; print(time.time())'; }
rate() { python3 -c "import sys; b=$1; t=$2; print(f'{b/t/2**20:8.1f} MiB/s ({t:6.2f} s)')"; }

# The workload: R1 of the shared NovaSeq-like generator (../shared/bench/gen_fastq.py), with
# enough pairs for GIB GiB (3,000,000 pairs make 1.07 GB per mate).
python3 -c 'import numpy' 2>/dev/null || python3 -m pip install --quiet numpy
PAIRS=$(python3 -c "print(int($GIB * 2**30 / 1.07e9 * 3000000) + 1)")
python3 ../shared/bench/gen_fastq.py "$WORK/gen" --pairs "$PAIRS" --seed 42 >/dev/null 2>&1
mv "$WORK/gen/reads_R1.fastq" "$WORK/big.fastq"
rm -rf "$WORK/gen"
SIZE=$(stat -c %s "$WORK/big.fastq")
MD5=$(md5sum "$WORK/big.fastq" | cut -d' ' -f1)
echo "file: $SIZE bytes, md5 $MD5"

start_server() {
    local data=$1
    shift
    env "$@" SEQBANK_JOBS_WORKERS=1 "$BIN" serve --data "$data" --listen 127.0.0.1:$PORT 2>"$data.log" &
    SERVER=$!
    for _ in $(seq 1 50); do curl -sf "$BASE/api/v1/openapi.json" -o /dev/null && return; sleep 0.1; done
    echo "server did not start"; cat "$data.log"; exit 1
}

metadata() {
    local token=$1 files=$2 tag=$3
    local id
    id=$(curl -sf -X POST -H "Authorization: Bearer $token" "$BASE/api/v1/submissions" -d '{}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    python3 - "$files" "$tag" > "$WORK/batch.json" <<'EOF'
import json, sys
files = [l.split() for l in open(sys.argv[1])]
t = sys.argv[2]
runs = [{"alias": f"{t}r{i}", "experiment": t + "e", "files": [{"name": name, "type": "fastq", "md5": md5}]} for i, (name, md5) in enumerate(files)]
print(json.dumps({
  "projects": [{"alias": t + "p", "title": "Bench", "description": "Throughput."}],
  "samples": [{"alias": t + "s", "title": "S", "project": t + "p", "checklist": "generic", "organism": {"taxon_id": 562, "scientific_name": "Escherichia coli"},
               "attributes": {"collection_date": "2024-07", "geo_loc_name": "France: Lyon"}}],
  "experiments": [{"alias": t + "e", "title": "WGS", "sample": t + "s", "platform": "ILLUMINA", "instrument_model": "Illumina NovaSeq X",
                   "library": {"strategy": "WGS", "source": "GENOMIC", "selection": "RANDOM", "layout": "SINGLE"}}],
  "runs": runs}))
EOF
    curl -sf -X POST -H "Authorization: Bearer $token" "$BASE/api/v1/submissions/$id/objects" --data-binary @"$WORK/batch.json" -o /dev/null
    echo "$id"
}

bench() {
    local name=$1
    shift
    local data="$WORK/data-$name"
    local alice carol
    alice=$(env "$@" "$BIN" user add alice --role submitter --data "$data")
    carol=$(env "$@" "$BIN" user add carol --role curator --data "$data")
    start_server "$data" "$@"
    echo "big.fastq $MD5" > "$WORK/files.txt"
    local id t0 t1
    id=$(metadata "$alice" "$WORK/files.txt" big)
    t0=$(secs)
    SEQBANK_SERVER=$BASE SEQBANK_TOKEN=$alice "$BIN" upload "$WORK/big.fastq" --run bigr0 --no-wait --state "$WORK/state-$name" >/dev/null 2>&1
    t1=$(secs)
    echo "$name upload   (seqbank upload, tus): $(rate "$SIZE" "$(python3 -c "print($t1-$t0)")")"
    # Validation, review, approval, archiving; then the download.
    until curl -sf -H "Authorization: Bearer $alice" "$BASE/api/v1/uploads" | grep -q '"state":"valid"'; do sleep 0.5; done
    curl -sf -X POST -H "Authorization: Bearer $alice" "$BASE/api/v1/submissions/$id/submit" -o /dev/null
    curl -sf -X POST -H "Authorization: Bearer $carol" "$BASE/api/v1/submissions/$id/approve" -o /dev/null
    local url="$BASE/files/runs/SBR000/SBR000001/big.fastq"
    until curl -sfI "$url" -o /dev/null; do sleep 0.5; done
    t0=$(secs)
    curl -sf "$url" -o "$WORK/down"
    t1=$(secs)
    echo "$name download (curl from /files):     $(rate "$SIZE" "$(python3 -c "print($t1-$t0)")")"
    [ "$(md5sum < "$WORK/down" | cut -d' ' -f1)" = "$MD5" ] || { echo "download differs"; exit 1; }
    rm -f "$WORK/down"

    # 50 concurrent uploads of 20 MiB.
    : > "$WORK/files50.txt"
    for i in $(seq 0 49); do
        dd if="$WORK/big.fastq" of="$WORK/c$i.fastq" bs=1M skip=$((i * 20)) count=20 status=none
        echo "c$i.fastq $(md5sum < "$WORK/c$i.fastq" | cut -d' ' -f1)" >> "$WORK/files50.txt"
    done
    metadata "$alice" "$WORK/files50.txt" c >/dev/null
    t0=$(secs)
    local pids=()
    for i in $(seq 0 49); do
        SEQBANK_SERVER=$BASE SEQBANK_TOKEN=$alice "$BIN" upload "$WORK/c$i.fastq" --run "cr$i" --no-wait --state "$WORK/state50-$name-$i" >/dev/null 2>"$WORK/c$i.log" &
        pids+=($!)
    done
    wait "${pids[@]}" || { cat "$WORK"/c*.log | sort | uniq -c | head; exit 1; }
    t1=$(secs)
    echo "$name 50 concurrent uploads of 20 MiB: $(rate $((50 * 20 << 20)) "$(python3 -c "print($t1-$t0)")")"
    echo "$name server peak memory: $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MiB"}')"
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
    rm -f "$WORK"/c*.fastq
}

bench local

if [ -n "${BENCH_S3_ENDPOINT:-}" ]; then
    BUCKET=${BENCH_S3_BUCKET:-seqbank-test}
    PREFIX=bench$$
    t0=$(secs)
    curl -sf -T "$WORK/big.fastq" "$BENCH_S3_ENDPOINT/$BUCKET/$PREFIX-direct" -o /dev/null
    t1=$(secs)
    echo "s3 anchor upload   (curl PUT to S3):   $(rate "$SIZE" "$(python3 -c "print($t1-$t0)")")"
    t0=$(secs)
    curl -sf "$BENCH_S3_ENDPOINT/$BUCKET/$PREFIX-direct" -o /dev/null
    t1=$(secs)
    echo "s3 anchor download (curl GET from S3): $(rate "$SIZE" "$(python3 -c "print($t1-$t0)")")"
    curl -sf -X DELETE "$BENCH_S3_ENDPOINT/$BUCKET/$PREFIX-direct" -o /dev/null || true
    bench s3 SEQBANK_STORAGE_URL="s3://$BUCKET/$PREFIX" SEQBANK_S3_ENDPOINT="$BENCH_S3_ENDPOINT"
fi

#!/usr/bin/env bash
# Search benchmark: the shared workload (../shared/bench) on seqbank and on its anchors,
# PostgreSQL 15 full-text search (GIN) and SQLite FTS5, in one run.
#
#   benchsuite/search.sh [RECORDS] [WORK_DIR]        # default 5000000 records, /tmp/seqbank-bench-search
#
# 1. RECORDS BioSample-like records from ../shared/bench/gen_search_data.py (seed 2).
# 2. seqbank: the records loaded as mirrored NCBI samples into a fresh index
#    (crates/seqbank-search/examples/load_tsv.rs: records/s, peak RSS, size on disk), served by
#    `seqbank serve`, and the 200 queries of ../shared/bench/queries.jsonl timed at the HTTP API
#    (benchsuite/search_http.py: one client, then 16 concurrent clients).
# 3. Anchors: ../shared/bench/search_load.py and search_bench.py on SQLite FTS5 and on a private
#    PostgreSQL cluster (port 5433, settings as in ../shared/research/perf-anchors.md §3).
#    ANCHOR_REPS timed passes each (default 1; the anchors take minutes per pass).
#
# Needs python3 with numpy and psycopg (pip install numpy 'psycopg[binary]'), PostgreSQL 15
# server binaries (apt-get install postgresql), and runs as root (the cluster runs as postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000000}
W=${2:-/tmp/seqbank-bench-search}
REPS=${ANCHOR_REPS:-1}
BENCH=$PWD/../shared/bench
mkdir -p "$W"
chmod 755 "$W"
python3 -c 'import numpy, psycopg' 2>/dev/null || python3 -m pip install --quiet numpy 'psycopg[binary]'

if [ ! -s "$W/records.tsv" ]; then
    echo "== generating $N records"
    for s in 0 1; do
        python3 "$BENCH/gen_search_data.py" --records "$N" --seed 2 --shard $s --nshards 2 > "$W/records.$s.tsv" &
    done
    wait
    cat "$W/records.0.tsv" "$W/records.1.tsv" > "$W/records.tsv"
    rm "$W/records.0.tsv" "$W/records.1.tsv"
    chmod 644 "$W/records.tsv"
fi

echo "== building"
cargo build --release -q -p seqbank -p seqbank-search --example load_tsv
BIN=$PWD/target/release

echo "== seqbank: index"
/usr/bin/time -f '{"wall_s": %e, "user_s": %U, "sys_s": %S, "max_rss_kb": %M}' -o "$W/seqbank-load-time.json" \
    "$BIN/examples/load_tsv" "$W/records.tsv" "$W/index" | tee "$W/seqbank-load.json"
cat "$W/seqbank-load-time.json"
du -sb "$W/index" | awk '{print "index on disk: " $1 " bytes"}'

echo "== seqbank: queries at the HTTP API"
rm -rf "$W/data"
mkdir -p "$W/data"
SEQBANK_SEARCH_INDEX="$W/index" "$BIN/seqbank" serve --data "$W/data" --listen 127.0.0.1:18183 2> "$W/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf 'http://127.0.0.1:18183/api/v1/search?limit=0' -o /dev/null && break; sleep 0.1; done
python3 benchsuite/search_http.py --base http://127.0.0.1:18183 --queries "$BENCH/queries.jsonl" --out "$W/seqbank-queries.json"
python3 benchsuite/search_http.py --base http://127.0.0.1:18183 --queries "$BENCH/queries.jsonl" --clients 16 --reps 1 --out "$W/seqbank-16.json"
grep VmHWM "/proc/$SERVER/status" || true
kill $SERVER
trap - EXIT

echo "== SQLite FTS5"
if [ ! -s "$W/fts.sqlite" ]; then
    python3 "$BENCH/search_load.py" --engine sqlite --db "$W/fts.sqlite" --tsv "$W/records.tsv" | tee "$W/sqlite-load.json"
fi
python3 "$BENCH/search_bench.py" --engine sqlite --db "$W/fts.sqlite" --queries "$BENCH/queries.jsonl" --reps "$REPS" --out "$W/sqlite-queries.json"

echo "== PostgreSQL FTS"
PG=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
if [ ! -d "$W/pg" ]; then
    mkdir -p "$W/pg"
    chown postgres "$W/pg"
    su postgres -c "$PG/initdb -D $W/pg/data -A trust -E UTF8 --locale=C.UTF-8" > /dev/null
    cat >> "$W/pg/data/postgresql.conf" <<CONF
shared_buffers = 6GB
effective_cache_size = 16GB
work_mem = 64MB
maintenance_work_mem = 1GB
jit = off
max_parallel_workers_per_gather = 2
port = 5433
unix_socket_directories = '/tmp'
listen_addresses = ''
CONF
    su postgres -c "$PG/pg_ctl -D $W/pg/data -l $W/pg/log start" > /dev/null
    sleep 2
    su postgres -c "psql -h /tmp -p 5433 -qc 'CREATE DATABASE bench'"
    python3 "$BENCH/search_load.py" --engine pg --dsn "host=/tmp port=5433 dbname=bench user=postgres" --tsv "$W/records.tsv" | tee "$W/pg-load.json"
else
    su postgres -c "$PG/pg_ctl -D $W/pg/data -l $W/pg/log start" > /dev/null || true
    sleep 2
fi
python3 "$BENCH/search_bench.py" --engine pg --dsn "host=/tmp port=5433 dbname=bench user=postgres" --queries "$BENCH/queries.jsonl" --reps "$REPS" --out "$W/pg-queries.json"
su postgres -c "$PG/pg_ctl -D $W/pg/data stop" > /dev/null

echo "== results in $W"

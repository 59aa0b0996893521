#!/usr/bin/env bash
# Mirror benchmark: parse and import of a synthetic NCBI BioSample dump, with the anchors in the
# same run.
#
#   benchsuite/mirror.sh [RECORDS] [WORK_DIR] [POSTGRES_URL]   # default 2000000, /tmp/seqbank-bench-mirror
#
# 1. RECORDS records from ../shared/bench/gen_biosample_xml.py (seed 1), the real dump's layout.
# 2. Parse: ../shared/bench/xml_lxml.py (lxml iterparse, the usual Python baseline),
#    `xmllint --stream --noout`, and `seqbank mirror import --check` (parse only, same fields).
# 3. Full import (parse, metastore upsert, search indexing) into SQLite and, with POSTGRES_URL,
#    PostgreSQL: wall time, records/s, peak RSS (GNU time).
# 4. A daily increment: the first 100,000 records again with a newer last_update, applied over
#    the full mirror.
# Needs python3 with lxml (pip install lxml), xmllint (libxml2-utils) and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}
W=${2:-/tmp/seqbank-bench-mirror}
PG=${3:-}
BENCH=$PWD/../shared/bench
mkdir -p "$W"
python3 -c 'import lxml' 2>/dev/null || python3 -m pip install --quiet lxml
DUMP=$W/biosample_set.xml
if [ ! -s "$DUMP" ]; then
    echo "== generating $N records"
    for s in 0 1; do
        python3 "$BENCH/gen_biosample_xml.py" --records "$N" --seed 1 --shard $s --nshards 2 > "$W/s$s.xml" &
    done
    wait
    cat "$W/s0.xml" "$W/s1.xml" > "$DUMP"
    rm "$W/s0.xml" "$W/s1.xml"
fi
INC=$W/increment/biosample_set_increment.xml
if [ ! -s "$INC" ]; then
    mkdir -p "$W/increment"
    # The first 100,000 records, changed: a newer last_update and a new title word.
    awk -v n=100000 '/<BioSample /{c++} c>n && /<BioSample /{exit} {print} END{print "</BioSampleSet>"}' "$DUMP" \
        | sed -e 's/last_update="20[0-9][0-9]/last_update="2026/' -e 's|<Title>|<Title>Revised |' > "$INC"
fi
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p seqbank
SB=$PWD/target/release/seqbank
T() { /usr/bin/time -f "%e s wall, %U s user, %M KiB peak RSS" "$@"; }

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(du -h "$DUMP" | cut -f1) dump, $N records"
echo "== parse"
echo "-- lxml iterparse (xml_lxml.py)"; T python3 "$BENCH/xml_lxml.py" "$DUMP"
echo "-- xmllint --stream"; T xmllint --stream --noout "$DUMP"
echo "-- seqbank mirror import --check"; T "$SB" mirror import --check biosample "$DUMP"
echo "== full import, SQLite"
rm -rf "$W/sqlite"
T "$SB" mirror import --data "$W/sqlite" --dump-date 2026-11-20 biosample "$DUMP"
echo "== daily increment over the SQLite mirror"
T "$SB" mirror import --data "$W/sqlite" --dump-date 2026-11-21 biosample "$INC"
if [ -n "$PG" ]; then
    echo "== full import, PostgreSQL"
    psql "$PG" -qc 'DROP DATABASE IF EXISTS seqbank_bench_mirror' -c 'CREATE DATABASE seqbank_bench_mirror'
    URL="${PG%/*}/seqbank_bench_mirror"
    rm -rf "$W/pgdata"
    SEQBANK_METASTORE_URL=$URL T "$SB" mirror import --data "$W/pgdata" --dump-date 2026-11-20 biosample "$DUMP"
    echo "== daily increment over the PostgreSQL mirror"
    SEQBANK_METASTORE_URL=$URL T "$SB" mirror import --data "$W/pgdata" --dump-date 2026-11-21 biosample "$INC"
fi

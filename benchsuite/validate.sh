#!/usr/bin/env bash
# Whole-program benchmark of `seqbank validate` against the anchor tools, in one run.
#
#   benchsuite/validate.sh DATA [RESULTS.jsonl]
#
# DATA holds the ../shared/bench FASTQ workload (gen_all.sh's fastq/ step: reads_R{1,2}.fastq.gz,
# reads_R{1,2}.bgzf.fastq.gz, reads.unaligned.bam). Needs Debian's hyperfine-free tools:
# gzip, seqkit, fastp, fastqc, samtools, GNU time. Each line of the results is one command's
# median of 3 runs (after a warm-up), from ../shared/bench/timeit.py.
set -euo pipefail
D=${1:?data dir}/fastq
OUT=${2:-benchsuite/results-validate.jsonl}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T="python3 $ROOT/../shared/bench/timeit.py"
cargo build --release -q -p seqbank --manifest-path "$ROOT/Cargo.toml"
cargo build --release -q -p seqbank-formats --example inflate --manifest-path "$ROOT/Cargo.toml"
SB=$ROOT/target/release/seqbank
INFLATE=$ROOT/target/release/examples/inflate
R1=$D/reads_R1.fastq.gz; R2=$D/reads_R2.fastq.gz
B1=$D/reads_R1.bgzf.fastq.gz; B2=$D/reads_R2.bgzf.fastq.gz
BAM=$D/reads.unaligned.bam
GZ=$(( $(stat -c %s "$R1") + $(stat -c %s "$R2") ))
TEXT=$(( $(stat -c %s "$D/reads_R1.fastq") + $(stat -c %s "$D/reads_R2.fastq") ))
: > "$OUT"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run() { local name=$1; shift; $T --name "$name" --runs 3 --in-bytes "$GZ" --out-bytes "$TEXT" --records 6000000 --log "$OUT" -- "$@"; }
run zcat_pair "zcat $R1 $R2 > /dev/null"
run inflate_pair_zlib_rs "$INFLATE $R1 $R2 > /dev/null"
run seqbank_validate_gzip_pair "$SB validate --quiet $R1 $R2"
run seqbank_validate_bgzf_pair "$SB validate --quiet $B1 $B2"
run seqkit_stats_a_j2 "seqkit stats -a -j 2 $R1 $R2 > /dev/null"
run fastp_w2 "fastp -w 2 -i $R1 -I $R2 -j /dev/null -h /dev/null 2> /dev/null"
TMP=$(mktemp -d); run fastqc_t2 "fastqc -q -t 2 -o $TMP $R1 $R2"; rm -rf "$TMP"
$T --name samtools_flagstat_at2 --runs 3 --in-bytes "$(stat -c %s "$BAM")" --records 6000000 --log "$OUT" -- "samtools flagstat -@ 2 $BAM > /dev/null"
$T --name seqbank_validate_bam --runs 3 --in-bytes "$(stat -c %s "$BAM")" --records 6000000 --log "$OUT" -- "$SB validate --quiet $BAM"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cat "$OUT"

#!/usr/bin/env python3
"""Writes seqbank's validation test corpus (testdata/) from scratch.

Every case is a few records, written here to show one finding (or none). Run from the repository
root: `python3 testdata/make.py`. Needs python3 only; BAM/CRAM cases need samtools.
"""
import bz2
import gzip
import os
import shutil
import subprocess
import zlib

ROOT = os.path.dirname(os.path.abspath(__file__))

H = "A00123:8:H5KJ3DSXX:1:1101"
Q = "FFFF:FFFF,FFFFFFFF#F"  # NovaSeq-style binned qualities, 20 long
S = "ACGTTGCAAGGCTTACNGTA"


def rec(name, seq=S, qual=Q, plus="+", comment=" 1:N:0:ACGTACGT"):
    return f"@{name}{comment}\n{seq}\n{plus}\n{qual}\n"


def reads(n, start=1000, mate=1, **kw):
    return "".join(rec(f"{H}:{start + i}:{2000 + i}", comment=f" {mate}:N:0:ACGTACGT", **kw) for i in range(n))


def write(path, data):
    path = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def gz(data, mtime=0):
    return gzip.compress(data.encode() if isinstance(data, str) else data, 6, mtime=mtime)


def bgzf_block(data):
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    cdata = comp.compress(data) + comp.flush()
    bsize = len(cdata) + 25
    header = bytes([31, 139, 8, 4, 0, 0, 0, 0, 0, 255, 6, 0, 66, 67, 2, 0]) + (bsize).to_bytes(2, "little")
    return header + cdata + (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "little") + len(data).to_bytes(4, "little")


BGZF_EOF = bgzf_block(b"")


def bgzf(data, eof=True):
    data = data.encode()
    out = b"".join(bgzf_block(data[i:i + 300]) for i in range(0, len(data), 300))
    return out + (BGZF_EOF if eof else b"")


def main():
    for d in ("fastq", "run", "sam", "bam", "cram"):
        shutil.rmtree(os.path.join(ROOT, d), ignore_errors=True)
    ok = reads(5)
    # -- valid files (warnings allowed) --
    write("fastq/valid/casava.fastq", ok)
    write("fastq/valid/casava.fastq.gz", gz(ok))
    write("fastq/valid/multimember.fastq.gz", gz(reads(2)) + gz(reads(3, start=5000)))
    write("fastq/valid/casava.bgzf.fastq.gz", bgzf(ok))
    write("fastq/valid/casava.fastq.bz2", bz2.compress(ok.encode()))
    write("fastq/valid/legacy_illumina.fastq", "".join(rec(f"HWUSI-EAS100R:6:73:941:{1973 + i}#0/1", comment="") for i in range(3)))
    write("fastq/valid/mgi.fastq", "".join(rec(f"V300012345L1C001R00{1000000 + i}/1", comment="") for i in range(3)))
    write("fastq/valid/nanopore.fastq", "".join(rec(f"0f5e3c1a-1d2b-4c3d-8e9f-0a1b2c3d4e5{i}", comment=" runid=9f0e7d ch=12 start_time=2024-01-01T00:00:00Z") for i in range(3)))
    write("fastq/valid/pacbio.fastq", "".join(rec(f"m64011_190830_220126/{i}/ccs", comment="", qual="~" * 19 + "5") for i in range(1, 4)))
    write("fastq/valid/sra.fastq", "".join(rec(f"SRR1234567.{i}", comment=f" {i} length=20") for i in range(1, 4)))
    write("fastq/valid/separator_repeats_name.fastq", "".join(rec(f"{H}:1:{i}", plus=f"+{H}:1:{i} 1:N:0:ACGTACGT") for i in range(3)))
    write("fastq/valid/iupac.fastq", rec(f"{H}:1:1", seq="ACGTRYSWKMBDHVNACGTU") + rec(f"{H}:1:2"))
    write("fastq/valid/phred64.fastq", "".join(rec(f"{H}:1:{i}", qual="hhhhhhhhhhBBBBBcccch") for i in range(3)))
    write("fastq/valid/ambiguous_encoding.fastq", "".join(rec(f"{H}:1:{i}", qual="IIIIIIIIIIIIIIIIIIII") for i in range(2)))
    write("fastq/valid/lowercase.fastq", rec(f"{H}:1:1") + rec(f"{H}:1:2", seq="acgttgcaAGGCTTACNGTA"))
    write("fastq/valid/gaps.fastq", rec(f"{H}:1:1", seq="ACGT.GCAAGGCTTAC-GTA"))
    write("fastq/valid/crlf.fastq", ok.replace("\n", "\r\n"))
    write("fastq/valid/missing_final_newline.fastq", ok[:-1])
    write("fastq/valid/multiline.fastq", f"@{H}:1:1\nACGTTGCAAG\nGCTTACNGTA\n+\nFFFF:FFFF,\nFFFFFFFF#F\n" + rec(f"{H}:1:2"))
    write("fastq/valid/mixed_read_labels.fastq", reads(2, mate=1) + reads(2, start=9000, mate=2))
    # -- invalid files --
    write("fastq/invalid/header_missing_at.fastq", rec(f"{H}:1:1") + "this is not a header\n" + rec(f"{H}:1:2"))
    write("fastq/invalid/name_missing.fastq", rec("", comment=""))
    write("fastq/invalid/name_too_long.fastq", rec("r" * 300, comment=""))
    write("fastq/invalid/separator_missing.fastq", f"@{H}:1:1\n{S}\n" + rec(f"{H}:1:2"))
    write("fastq/invalid/separator_mismatch.fastq", rec(f"{H}:1:1", plus="+another_read"))
    write("fastq/invalid/sequence_empty.fastq", rec(f"{H}:1:1", seq="", qual="") + rec(f"{H}:1:2"))
    write("fastq/invalid/quality_missing.fastq", rec(f"{H}:1:1", qual=""))
    write("fastq/invalid/quality_length_mismatch.fastq", rec(f"{H}:1:1") + rec(f"{H}:1:2", qual=Q[:-3]))
    write("fastq/invalid/quality_out_of_range.fastq", rec(f"{H}:1:1", qual="FFFF FFFFFFFFFFFFFFF"))
    write("fastq/invalid/invalid_base.fastq", rec(f"{H}:1:1", seq="ACGT1GCAAGGCTTACNGTA"))
    write("fastq/invalid/too_many_non_acgt.fastq", rec(f"{H}:1:1", seq="NNNNNNNNNNNNNNNACGTA"))
    write("fastq/invalid/gaps_rejected_policy_default_is_warning.fastq", rec(f"{H}:1:1", seq="A" * 5 + "." * 15))
    write("fastq/invalid/truncated_record.fastq", ok + f"@{H}:1:99 1:N:0:ACGTACGT\nACGT")
    write("fastq/invalid/truncated.fastq.gz", gz(reads(200))[:-200])
    write("fastq/invalid/garbage_appended.fastq.gz", gz(ok) + b"<html>503 Service Unavailable</html>\n")
    damaged = bytearray(gz(reads(200)))
    damaged[len(damaged) // 2: len(damaged) // 2 + 16] = b"\xff" * 16
    write("fastq/invalid/corrupt.fastq.gz", bytes(damaged))
    write("fastq/invalid/truncated.bgzf.fastq.gz", bgzf(ok, eof=False))
    write("fastq/invalid/truncated.fastq.bz2", bz2.compress(reads(200).encode())[:-100])
    write("fastq/invalid/duplicate_name.fastq", ok + rec(f"{H}:1002:2002"))
    write("fastq/invalid/name_style_mixed.fastq", reads(2) + rec("SRR1234567.3", comment=""))
    write("fastq/invalid/empty.fastq", "")
    write("fastq/invalid/empty.fastq.gz", gz(""))
    write("fastq/invalid/binary.fastq", bytes(range(256)) * 4)
    write("fastq/invalid/not_fastq.fastq", ">seq1\nACGT\n")
    # -- runs: each folder is the files of one run, in name order --
    write("run/valid/casava_pair/R1.fastq", reads(4, mate=1))
    write("run/valid/casava_pair/R2.fastq.gz", gz(reads(4, mate=2)))
    write("run/valid/slash_pair/R1.fastq", "".join(rec(f"frag{i}/1", comment="") for i in range(4)))
    write("run/valid/slash_pair/R2.fastq", "".join(rec(f"frag{i}/2", comment="") for i in range(4)))
    write("run/invalid/count_mismatch/R1.fastq", reads(4, mate=1))
    write("run/invalid/count_mismatch/R2.fastq", reads(3, mate=2))
    write("run/invalid/name_mismatch/R1.fastq", reads(4, mate=1))
    write("run/invalid/name_mismatch/R2.fastq", reads(2, mate=2) + reads(2, start=7000, mate=2))
    write("run/invalid/format_mismatch/R1.fastq", reads(2))
    write("run/invalid/format_mismatch/R2.sam", "@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:100\nr1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tFFFF\n")
    # -- SAM --
    hd = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n@SQ\tSN:chr2\tLN:50\n@RG\tID:rg1\tSM:s1\tPL:ILLUMINA\n@PG\tID:bwa\tPN:bwa\n"
    def aln(name, flag, rname, pos, cigar, seq="ACGTACGTAC", qual="FFFFFFFFFF", rnext="*", pnext=0):
        return f"{name}\t{flag}\t{rname}\t{pos}\t60\t{cigar}\t{rnext}\t{pnext}\t0\t{seq}\t{qual}\tRG:Z:rg1\n"
    good = hd + aln("r1", 0, "chr1", 1, "10M") + aln("r2", 16, "chr1", 50, "5M1I4M") + aln("r3", 0, "chr2", 3, "10M") + aln("r4", 4, "*", 0, "*")
    write("sam/valid/sorted.sam", good)
    write("sam/invalid/reference_unknown.sam", hd + aln("r1", 0, "chr1", 1, "10M") + aln("r2", 0, "chr9", 1, "10M"))
    write("sam/valid/warn_position_out_of_range.sam", hd + aln("r1", 0, "chr2", 45, "10M"))
    write("sam/invalid/cigar_length_mismatch.sam", hd + aln("r1", 0, "chr1", 1, "8M"))
    write("sam/invalid/quality_length_mismatch.sam", hd + aln("r1", 0, "chr1", 1, "10M", qual="FFFFFFFFF"))
    write("sam/invalid/sort_order_violated.sam", hd + aln("r1", 0, "chr1", 50, "10M") + aln("r2", 0, "chr1", 1, "10M"))
    write("sam/invalid/flag_inconsistent.sam", hd + aln("r1", 0, "*", 0, "*"))
    write("sam/valid/warn_mate_inconsistent.sam", hd + aln("r1", 1, "chr1", 1, "10M", rnext="chr7", pnext=5))
    write("sam/invalid/header_invalid.sam", "@HD\tVN:1.6\n@SQ\tSN:chr1\n" + aln("r1", 4, "*", 0, "*"))
    write("sam/valid/warn_no_records.sam", hd)
    write("sam/invalid/record_invalid.sam", hd + "r1\tnotaflag\tchr1\t1\t60\t10M\t*\t0\t0\tACGTACGTAC\tFFFFFFFFFF\n")
    if shutil.which("samtools"):
        sam = os.path.join(ROOT, "sam/valid/sorted.sam")
        bam = os.path.join(ROOT, "bam/valid/sorted.bam")
        os.makedirs(os.path.dirname(bam), exist_ok=True)
        subprocess.run(["samtools", "view", "--no-PG", "-b", "-o", bam, sam], check=True)
        data = open(bam, "rb").read()
        write("bam/invalid/truncated.bam", data[: len(data) - 28])
        write("bam/invalid/cut_mid_block.bam", data[: len(data) // 2])
        write("bam/invalid/garbage_appended.bam", data + b"garbage")


if __name__ == "__main__":
    main()

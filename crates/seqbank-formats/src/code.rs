//! The catalogue of finding codes: each with its stable name, severity, meaning and fix hint.
//!
//! Codes are part of seqbank's public contract (submitters script against them, curators search
//! for them), so a code is never renamed or reused; `docs/validation-codes.md` lists them all and a
//! test keeps that page and this table in step.

use seqbank_core::Severity;

macro_rules! codes {
    ($($variant:ident => $name:literal, $severity:ident, $meaning:literal, $hint:literal;)*) => {
        /// A stable finding code.
        #[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
        pub enum Code {
            $(
                #[doc = $meaning]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable name, e.g. `fastq.quality_length_mismatch`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name),* }
            }

            /// The severity findings of this code have.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity),* }
            }

            /// What the code means, in one sentence.
            pub fn meaning(self) -> &'static str {
                match self { $(Code::$variant => $meaning),* }
            }

            /// How to fix the data.
            pub fn hint(self) -> &'static str {
                match self { $(Code::$variant => $hint),* }
            }
        }
    };
}

codes! {
    InputEmpty => "input.empty", Error,
        "The file has no bytes at all.",
        "Upload the file again; an empty file usually means the transfer or the export failed.";
    InputUnknownFormat => "input.unknown_format", Error,
        "The content is not FASTQ, SAM, BAM or CRAM (after any gzip, BGZF or bzip2 compression).",
        "Check that you chose the right file; read files must be FASTQ (optionally gzip or bzip2 compressed), SAM, BAM or CRAM.";
    InputFormatMismatch => "input.format_mismatch", Error,
        "The content is not in the format that was asked for.",
        "Declare the file's real format, or convert the file to the declared one.";
    CompressionCorrupt => "compression.corrupt", Error,
        "The compressed data is damaged and cannot be decompressed past this point.",
        "Compress the original file again (gzip, bgzip or bzip2) and upload the new copy; compare MD5 checksums with the source.";
    CompressionTruncated => "compression.truncated", Error,
        "The compressed stream ends before its end marker: the file was cut short.",
        "The file is incomplete, usually from an interrupted transfer; upload it again and compare its MD5 with the original.";
    CompressionTrailingGarbage => "compression.trailing_garbage", Error,
        "Bytes that are not compressed data follow the end of the compressed stream.",
        "Something was appended to the file (often by a failed or repeated transfer); re-create the file from the original reads.";
    BgzfMissingEof => "bgzf.missing_eof", Error,
        "The BGZF end-of-file marker block is missing, so the file was very likely truncated.",
        "Upload the file again; `samtools quickcheck` reports the same problem on the copy you have.";
    FastqNoReads => "fastq.no_reads", Error,
        "The file contains no reads.",
        "Check that the right file was uploaded; a read file must contain at least one read.";
    FastqHeaderMissingAt => "fastq.header_missing_at", Error,
        "A record does not start with a header line beginning with '@'.",
        "Every FASTQ record is four lines: '@name', bases, '+', qualities. Look at the lines around this one for a missing or extra line.";
    FastqNameMissing => "fastq.name_missing", Error,
        "The header line has no read name after '@'.",
        "Give every read a name, e.g. the one the sequencer wrote.";
    FastqNameTooLong => "fastq.name_too_long", Error,
        "The read name is longer than the archive accepts.",
        "Shorten the read names (keep the first word the sequencer wrote); names over 256 characters are refused.";
    FastqSeparatorMissing => "fastq.separator_missing", Error,
        "The line after the bases does not start with '+'.",
        "Each record needs a '+' line between bases and qualities; the record may be missing lines.";
    FastqSeparatorMismatch => "fastq.separator_mismatch", Error,
        "The '+' line repeats a name that differs from the header's.",
        "Leave the '+' line empty or repeat exactly the header after '@'.";
    FastqSequenceEmpty => "fastq.sequence_empty", Error,
        "A read has no bases.",
        "Remove empty reads (e.g. `seqkit seq -m 1`), or keep them as 'N' with one quality if their position matters for pairing.";
    FastqQualityMissing => "fastq.quality_missing", Error,
        "A read has bases but an empty quality line.",
        "Every base needs one quality character; FASTA reads cannot be submitted as FASTQ without qualities.";
    FastqQualityLengthMismatch => "fastq.quality_length_mismatch", Error,
        "The number of quality characters differs from the number of bases.",
        "The record was cut or edited; regenerate the FASTQ from the instrument output.";
    FastqQualityOutOfRange => "fastq.quality_out_of_range", Error,
        "A quality character is outside the printable range '!' to '~'.",
        "Qualities must be Phred scores written as ASCII 33-126; check for tabs, spaces or binary bytes in the quality line.";
    FastqInvalidBase => "fastq.invalid_base", Error,
        "A base is not an IUPAC nucleotide code.",
        "Bases must be IUPAC codes (ACGTUN and RYSWKMBDHV); check for digits, spaces or colour-space reads.";
    FastqLowercaseBases => "fastq.lowercase_bases", Warning,
        "Some bases are lower case.",
        "Lower case carries no meaning in reads and is stored in upper case; convert with `seqkit seq -u` to silence this.";
    FastqGapBases => "fastq.gap_bases", Warning,
        "Some bases are '.' or '-', which are stored as 'N'.",
        "Replace '.' and '-' with 'N'.";
    FastqTooManyNonAcgt => "fastq.too_many_non_acgt", Error,
        "More than half of all bases in the file are not A, C, G, T or U.",
        "The file is probably not nucleotide reads (or is mostly 'N'); check the export.";
    FastqCrlfLineEndings => "fastq.crlf_line_endings", Warning,
        "Lines end with CR LF (Windows line endings).",
        "Convert to Unix line endings (`dos2unix`); the archive stores LF.";
    FastqTruncatedRecord => "fastq.truncated_record", Error,
        "The file ends in the middle of a record.",
        "The file is incomplete; upload it again and compare its MD5 with the original.";
    FastqMissingFinalNewline => "fastq.missing_final_newline", Warning,
        "The last line has no line ending.",
        "Harmless here, but some tools drop the last read; add a final newline.";
    FastqMultiline => "fastq.multiline", Warning,
        "Sequences or qualities are wrapped over several lines.",
        "Unwrap to one line each (`seqkit seq -w 0`); many tools read only four-line records.";
    FastqDuplicateName => "fastq.duplicate_name", Error,
        "The same read name occurs more than once in the file.",
        "Read names must be unique within a file; the file may contain the same reads twice (files concatenated twice?).";
    FastqPhred64 => "fastq.phred64", Warning,
        "Qualities use the old Phred+64 (Illumina 1.3-1.7) encoding.",
        "The archive converts to Phred+33; to do it yourself: `seqtk seq -Q64 -V`.";
    FastqQualityEncodingAmbiguous => "fastq.quality_encoding_ambiguous", Warning,
        "All quality characters fit both Phred+33 and Phred+64, so the encoding cannot be told apart; Phred+33 is assumed.",
        "If the reads are from an Illumina 1.3-1.7 pipeline, convert them to Phred+33 before submitting.";
    FastqNameStyleMixed => "fastq.name_style_mixed", Error,
        "Read names change style within the file (e.g. Illumina then SRA-style), which usually means files were merged.",
        "Submit reads from different runs or instruments as separate runs.";
    FastqMixedReadLabels => "fastq.mixed_read_labels", Warning,
        "Reads of different mates (/1 and /2, or 1: and 2: in the comment) are in one file.",
        "Interleaved pairs are archived as two files; split them (`seqfu deinterleave` or `seqkit split2`).";
    FastqRecordTooLong => "fastq.record_too_long", Error,
        "A record is larger than the validator's record limit.",
        "Reads this long are not FASTQ from a sequencer; check the file, or raise the record limit.";
    RunReadCountMismatch => "run.read_count_mismatch", Error,
        "The files of one run hold different numbers of reads.",
        "Mate files must hold the same reads in the same order; one file is probably truncated or filtered on its own.";
    RunNameMismatch => "run.name_mismatch", Error,
        "Mate files disagree on a read name at the same position.",
        "Mate files must list mates in the same order; re-export them together, or re-pair with `seqkit pair`.";
    RunTooManyFiles => "run.too_many_files", Error,
        "A run has more than four read files.",
        "A run holds one spot's reads: up to R1, R2 and two index reads. Submit other files as separate runs.";
    RunFormatMismatch => "run.format_mismatch", Error,
        "The files of one run are in different formats.",
        "Submit a run either as FASTQ files or as one BAM/CRAM, not both.";
    SamHeaderInvalid => "sam.header_invalid", Error,
        "The SAM header is malformed.",
        "Fix the header line named in the message (`samtools view -H` shows it); header lines are tab-separated TAG:VALUE fields.";
    SamNoRecords => "sam.no_records", Warning,
        "The file has a header but no reads.",
        "Check that the right file was uploaded.";
    SamRecordInvalid => "sam.record_invalid", Error,
        "A record cannot be parsed.",
        "Run `samtools view` on the file to see the record; the file may be damaged.";
    SamReferenceUnknown => "sam.reference_unknown", Error,
        "A record names a reference sequence that is not in the header.",
        "Every reference used by a record needs an @SQ line; re-create the header with `samtools reheader`.";
    SamPositionOutOfRange => "sam.position_out_of_range", Warning,
        "An alignment starts or ends beyond the end of its reference sequence (a warning, as in the SAM conformance suite).",
        "The header's @SQ LN does not match the reference the reads were aligned to; realign or fix the header.";
    SamCigarLengthMismatch => "sam.cigar_length_mismatch", Error,
        "The CIGAR's query length differs from the sequence length.",
        "The record is corrupt or was edited; re-create the alignment.";
    SamQualityLengthMismatch => "sam.quality_length_mismatch", Error,
        "The number of quality scores differs from the number of bases.",
        "The record is corrupt or was edited; re-create it from the reads.";
    SamFlagInconsistent => "sam.flag_inconsistent", Error,
        "The FLAG contradicts itself or the record (e.g. mate flags on an unpaired read, a mapped read with no position).",
        "Fix the flags with `samtools fixmate` or re-create the alignment.";
    SamMateInconsistent => "sam.mate_inconsistent", Warning,
        "Mate information (RNEXT, PNEXT) is inconsistent with the flags or the header.",
        "Run `samtools fixmate` to recompute mate fields.";
    SamSortOrderViolated => "sam.sort_order_violated", Error,
        "Records are not in the order the header's @HD SO declares.",
        "Sort the file (`samtools sort`, or `samtools sort -n` for queryname) or correct SO in the header.";
    CramReferenceMissing => "cram.reference_missing", Error,
        "A reference sequence the CRAM file was compressed against cannot be found by its MD5.",
        "Put the reference FASTA in the reference folder (or register it with the archive), or convert the file to BAM.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_dotted() {
        let mut names: Vec<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        for name in &names {
            let (prefix, rest) = name.split_once('.').expect("a code has a prefix");
            assert!(!prefix.is_empty() && !rest.is_empty(), "{name}");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase()
                    || b == b'.'
                    || b == b'_'
                    || b.is_ascii_digit()),
                "{name}"
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
    }
}

//! The result of validating one file: findings, statistics and checksums.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use seqbank_core::{Finding, Md5, Sha256};

use crate::{Code, fastq::duplicates::Candidates};

/// The data format of a file, after decompression.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Format {
    /// FASTQ reads.
    Fastq,
    /// SAM text alignments.
    Sam,
    /// BAM binary alignments.
    Bam,
    /// CRAM reference-compressed alignments.
    Cram,
    /// Not recognised (see the `input.*` findings).
    Unknown,
}

impl Format {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fastq => "fastq",
            Self::Sam => "sam",
            Self::Bam => "bam",
            Self::Cram => "cram",
            Self::Unknown => "unknown",
        }
    }
}

/// The compression a file's bytes were in.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip, one or more members.
    Gzip,
    /// Blocked gzip (BGZF), as written by `bgzip` and in BAM.
    Bgzf,
    /// bzip2, one or more streams.
    Bzip2,
}

impl Compression {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Bgzf => "bgzf",
            Self::Bzip2 => "bzip2",
        }
    }
}

/// How quality scores are written as characters.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum QualityEncoding {
    /// Sanger / Illumina 1.8+: Phred + 33.
    Phred33,
    /// Illumina 1.3–1.7: Phred + 64.
    Phred64,
    /// Binary Phred scores, as in BAM and CRAM.
    Binary,
}

impl QualityEncoding {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Phred33 => "phred33",
            Self::Phred64 => "phred64",
            Self::Binary => "binary",
        }
    }

    pub(crate) fn offset(self) -> u8 {
        match self {
            Self::Phred33 => 33,
            Self::Phred64 => 64,
            Self::Binary => 0,
        }
    }
}

/// Statistics over every read of a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadStats {
    pub(crate) reads: u64,
    pub(crate) bases: u64,
    pub(crate) min_length: u64,
    pub(crate) max_length: u64,
    pub(crate) lengths: Lengths,
    pub(crate) gc_bases: u64,
    pub(crate) n_bases: u64,
    pub(crate) q20_bases: u64,
    pub(crate) q30_bases: u64,
    pub(crate) quality_sum: u64,
    pub(crate) quality_bases: u64,
    pub(crate) quality_encoding: Option<QualityEncoding>,
    pub(crate) name_style: Option<&'static str>,
    pub(crate) platform: Option<&'static str>,
    pub(crate) instruments: BTreeSet<String>,
    pub(crate) runs: BTreeSet<String>,
    pub(crate) flowcells: BTreeSet<String>,
    pub(crate) mapped: Option<u64>,
    pub(crate) paired: Option<u64>,
}

/// The most distinct values kept for instrument, run and flowcell ids.
pub(crate) const MAX_IDS: usize = 16;

impl ReadStats {
    /// Number of reads (records).
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// Number of bases over all reads.
    pub fn bases(&self) -> u64 {
        self.bases
    }

    /// Shortest read length (0 when there are no reads).
    pub fn min_length(&self) -> u64 {
        self.min_length
    }

    /// Longest read length.
    pub fn max_length(&self) -> u64 {
        self.max_length
    }

    /// Mean read length.
    pub fn mean_length(&self) -> f64 {
        ratio(self.bases, self.reads)
    }

    /// Read length histogram as `(length_from, length_to, reads)` bins, at most 100 of them:
    /// exact lengths while there are at most 100 distinct ones, equal-width bins otherwise.
    pub fn length_histogram(&self) -> Vec<(u64, u64, u64)> {
        self.lengths.histogram(100)
    }

    /// G and C as a percentage of all bases.
    pub fn gc_percent(&self) -> f64 {
        100.0 * ratio(self.gc_bases, self.bases)
    }

    /// N as a percentage of all bases.
    pub fn n_percent(&self) -> f64 {
        100.0 * ratio(self.n_bases, self.bases)
    }

    /// Percentage of bases with quality 20 or more (of the bases that have a quality).
    pub fn q20_percent(&self) -> f64 {
        100.0 * ratio(self.q20_bases, self.quality_bases)
    }

    /// Percentage of bases with quality 30 or more.
    pub fn q30_percent(&self) -> f64 {
        100.0 * ratio(self.q30_bases, self.quality_bases)
    }

    /// Mean Phred quality over all bases that have one.
    pub fn mean_quality(&self) -> f64 {
        ratio(self.quality_sum, self.quality_bases)
    }

    /// The quality encoding, where one was determined.
    pub fn quality_encoding(&self) -> Option<QualityEncoding> {
        self.quality_encoding
    }

    /// The read-name style (e.g. `illumina_casava18`), for FASTQ.
    pub fn name_style(&self) -> Option<&str> {
        self.name_style
    }

    /// The sequencing platform read from the names (INSDC platform term), where recognised.
    pub fn platform(&self) -> Option<&str> {
        self.platform
    }

    /// Instrument ids seen in read names (at most 16).
    pub fn instruments(&self) -> impl Iterator<Item = &str> {
        self.instruments.iter().map(String::as_str)
    }

    /// Run ids seen in read names (at most 16).
    pub fn runs(&self) -> impl Iterator<Item = &str> {
        self.runs.iter().map(String::as_str)
    }

    /// Flowcell ids seen in read names (at most 16).
    pub fn flowcells(&self) -> impl Iterator<Item = &str> {
        self.flowcells.iter().map(String::as_str)
    }

    /// Number of mapped records, for alignment files.
    pub fn mapped(&self) -> Option<u64> {
        self.mapped
    }

    /// Number of records flagged as paired, for alignment files.
    pub fn paired(&self) -> Option<u64> {
        self.paired
    }

    pub(crate) fn add_length(&mut self, length: u64) {
        if self.reads == 0 || length < self.min_length {
            self.min_length = length;
        }
        self.max_length = self.max_length.max(length);
        self.reads += 1;
        self.bases += length;
        self.lengths.add(length);
    }

    pub(crate) fn add_id(set: &mut BTreeSet<String>, id: &[u8]) {
        if set.len() < MAX_IDS && !id.is_empty() {
            let id = String::from_utf8_lossy(id);
            if !set.contains(id.as_ref()) {
                set.insert(id.into_owned());
            }
        }
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Read length counts: a dense table for short reads, a map for long ones.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Lengths {
    short: Vec<u64>,
    long: HashMap<u64, u64>,
}

const DENSE_LENGTHS: u64 = 4096;

impl Lengths {
    pub(crate) fn add(&mut self, length: u64) {
        if length < DENSE_LENGTHS {
            let i = length as usize;
            if i >= self.short.len() {
                self.short.resize(i + 1, 0);
            }
            self.short[i] += 1;
        } else {
            *self.long.entry(length).or_default() += 1;
        }
    }

    fn histogram(&self, max_bins: u64) -> Vec<(u64, u64, u64)> {
        let mut exact: BTreeMap<u64, u64> = self.long.iter().map(|(&l, &n)| (l, n)).collect();
        for (length, &n) in self.short.iter().enumerate() {
            if n > 0 {
                exact.insert(length as u64, n);
            }
        }
        if exact.len() as u64 <= max_bins {
            return exact.into_iter().map(|(l, n)| (l, l, n)).collect();
        }
        let (Some((&min, _)), Some((&max, _))) = (exact.first_key_value(), exact.last_key_value())
        else {
            return Vec::new();
        };
        let width = (max - min) / max_bins + 1;
        let mut bins: BTreeMap<u64, u64> = BTreeMap::new();
        for (length, n) in exact {
            *bins.entry((length - min) / width).or_default() += n;
        }
        bins.into_iter()
            .map(|(bin, n)| (min + bin * width, min + bin * width + width - 1, n))
            .collect()
    }
}

/// Collects findings, keeping at most a configured number per code and counting the rest.
#[derive(Debug)]
pub(crate) struct Findings {
    list: Vec<Finding>,
    counts: HashMap<Code, u64>,
    cap: u64,
}

impl Findings {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            list: Vec::new(),
            counts: HashMap::new(),
            cap: cap.max(1) as u64,
        }
    }

    /// Counts one finding of `code`; builds and keeps it only while under the cap.
    pub(crate) fn add(&mut self, code: Code, build: impl FnOnce() -> Finding) {
        let count = self.counts.entry(code).or_default();
        *count += 1;
        if *count <= self.cap {
            self.list.push(build());
        }
    }

    /// Records a finding of `code` with `message` and optional record, line and offset.
    pub(crate) fn push(
        &mut self,
        code: Code,
        message: impl FnOnce() -> String,
        record: Option<u64>,
        line: Option<u64>,
        offset: Option<u64>,
    ) {
        self.add(code, || {
            let mut finding =
                Finding::new(code.as_str(), code.severity(), message()).with_hint(code.hint());
            if let Some(record) = record {
                finding = finding.with_record(record);
            }
            if let Some(line) = line {
                finding = finding.with_line(line);
            }
            if let Some(offset) = offset {
                finding = finding.with_offset(offset);
            }
            finding
        });
    }

    pub(crate) fn has(&self, code: Code) -> bool {
        self.counts.contains_key(&code)
    }

    pub(crate) fn into_parts(self) -> (Vec<Finding>, BTreeMap<String, u64>) {
        let omitted = self
            .counts
            .into_iter()
            .filter(|&(_, n)| n > self.cap)
            .map(|(code, n)| (code.as_str().to_owned(), n - self.cap))
            .collect();
        (self.list, omitted)
    }
}

/// The validation report of one file.
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) format: Format,
    pub(crate) compression: Compression,
    pub(crate) size: u64,
    pub(crate) md5: Option<Md5>,
    pub(crate) sha256: Option<Sha256>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) omitted: BTreeMap<String, u64>,
    pub(crate) stats: Option<ReadStats>,
    pub(crate) duplicates: Option<Candidates>,
}

impl Report {
    pub(crate) fn new(format: Format, compression: Compression) -> Self {
        Self {
            format,
            compression,
            size: 0,
            md5: None,
            sha256: None,
            findings: Vec::new(),
            omitted: BTreeMap::new(),
            stats: None,
            duplicates: None,
        }
    }

    /// The detected (or requested) data format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The compression the bytes were in.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The number of bytes read, as given (compressed).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// MD5 of the bytes as given, unless checksums were turned off.
    pub fn md5(&self) -> Option<Md5> {
        self.md5
    }

    /// SHA-256 of the bytes as given, unless checksums were turned off.
    pub fn sha256(&self) -> Option<Sha256> {
        self.sha256
    }

    /// The findings kept (at most `Config::max_findings_per_code` of each code), in file order per code.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// For each code whose findings were capped, how many more there were.
    pub fn omitted(&self) -> &BTreeMap<String, u64> {
        &self.omitted
    }

    /// Read statistics, when the format was recognised.
    pub fn stats(&self) -> Option<&ReadStats> {
        self.stats.as_ref()
    }

    /// Whether the file is valid: no error findings (warnings are allowed).
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity().is_error())
            && !self.omitted.keys().any(|code| {
                Code::ALL
                    .iter()
                    .any(|c| c.as_str() == code && c.severity().is_error())
            })
    }

    /// Whether duplicate read names were suspected in the first pass and need
    /// [`Report::confirm_duplicates`] with a second reader over the same bytes.
    pub fn needs_second_pass(&self) -> bool {
        self.duplicates.as_ref().is_some_and(|c| !c.is_empty())
    }

    pub(crate) fn set_findings(&mut self, findings: Findings) {
        let (list, omitted) = findings.into_parts();
        self.findings = list;
        self.omitted = omitted;
    }

    pub(crate) fn add_findings(&mut self, findings: Findings) {
        let (list, omitted) = findings.into_parts();
        self.findings.extend(list);
        for (code, n) in omitted {
            *self.omitted.entry(code).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_exact_for_few_lengths_and_binned_for_many() {
        let mut lengths = Lengths::default();
        for l in [150, 150, 151, 10_000] {
            lengths.add(l);
        }
        assert_eq!(
            lengths.histogram(100),
            vec![(150, 150, 2), (151, 151, 1), (10_000, 10_000, 1)]
        );
        let mut lengths = Lengths::default();
        for l in 0..1000 {
            lengths.add(l);
        }
        let bins = lengths.histogram(100);
        assert_eq!(bins.len(), 100);
        assert_eq!(bins[0], (0, 9, 10));
        assert_eq!(bins.iter().map(|b| b.2).sum::<u64>(), 1000);
    }

    #[test]
    fn findings_are_capped_per_code_and_the_rest_counted() {
        let mut findings = Findings::new(2);
        for i in 0..5 {
            findings.push(
                Code::FastqInvalidBase,
                || format!("bad {i}"),
                Some(i),
                None,
                None,
            );
        }
        findings.push(Code::FastqMultiline, || "wrapped".into(), None, None, None);
        let (list, omitted) = findings.into_parts();
        assert_eq!(list.len(), 3);
        assert_eq!(omitted.get("fastq.invalid_base"), Some(&3));
        assert_eq!(omitted.len(), 1);
    }
}

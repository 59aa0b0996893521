//! SAM, BAM and CRAM: the header and every record checked against it, with read statistics.
//!
//! Parsing is noodles'; this module decides what a finding is. Checks follow the SAM
//! specification: references named by records exist in the header, alignments lie inside
//! their reference, the CIGAR's query length equals the sequence length, qualities match the
//! bases, flags and mate fields agree, and records follow the declared coordinate sort order.
//! Statistics count primary records only (as `samtools stats` does).

use std::{
    collections::HashMap,
    error::Error as _,
    fs::File,
    io::{self, BufReader, Read},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use noodles_sam::{
    self as sam,
    alignment::record::Flags,
    header::record::value::map::{header::tag as hd_tag, reference_sequence::tag as sq_tag},
};

use crate::{Code, Config, Format, QualityEncoding, ReadStats, md5::Md5Hasher, report::Findings};

/// Validates the decompressed bytes of a SAM or BAM file, or the raw bytes of a CRAM file.
pub(crate) fn validate<R: Read>(
    format: Format,
    reader: R,
    config: &Config,
    findings: &mut Findings,
) -> io::Result<ReadStats> {
    let mut checker = Checker::new(config);
    match format {
        Format::Sam => {
            let mut reader = sam::io::Reader::new(BufReader::with_capacity(1 << 16, reader));
            let Some(header) = read_header(reader.read_header(), findings) else {
                return Ok(checker.stats);
            };
            checker.start(&header);
            let mut record = sam::Record::default();
            loop {
                match reader.read_record(&mut record) {
                    Ok(0) => break,
                    Ok(_) => checker.check(&record, &header, findings),
                    Err(e) => {
                        checker.unreadable(&e, findings);
                        break;
                    }
                }
            }
        }
        Format::Bam => {
            let mut reader = noodles_bam::io::Reader::from(reader);
            let Some(header) = read_header(reader.read_header(), findings) else {
                return Ok(checker.stats);
            };
            checker.start(&header);
            let mut record = noodles_bam::Record::default();
            loop {
                match reader.read_record(&mut record) {
                    Ok(0) => break,
                    Ok(_) => checker.check_bam(&record, &header, findings),
                    Err(e) => {
                        checker.unreadable(&e, findings);
                        break;
                    }
                }
            }
        }
        Format::Cram => {
            let references = References::new(config.reference_dir.as_deref());
            let mut reader = noodles_cram::io::reader::Builder::default()
                .set_reference_sequence_repository(noodles_fasta::Repository::new(
                    references.adapter(),
                ))
                .build_from_reader(reader);
            let Some(header) = read_header(reader.read_header(), findings) else {
                return Ok(checker.stats);
            };
            references.learn(&header);
            checker.start(&header);
            for result in reader.records(&header) {
                match result {
                    Ok(record) => checker.check(&record, &header, findings),
                    Err(e) => {
                        // A record that needs a missing reference cannot be decoded; the
                        // missing reference is the finding that explains it.
                        if !references.report_missing(config.reference_dir.as_deref(), findings) {
                            checker.unreadable(&e, findings);
                        }
                        break;
                    }
                }
            }
            references.report_missing(config.reference_dir.as_deref(), findings);
        }
        Format::Fastq | Format::Unknown => {}
    }
    checker.finish(findings);
    Ok(checker.stats)
}

fn read_header(result: io::Result<sam::Header>, findings: &mut Findings) -> Option<sam::Header> {
    match result {
        Ok(header) => Some(header),
        Err(e) => {
            findings.push(
                Code::SamHeaderInvalid,
                || format!("invalid header: {}", chain(&e)),
                None,
                None,
                None,
            );
            None
        }
    }
}

/// An error with its sources, `a: b: c`.
fn chain(error: &io::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = e.source();
    }
    message
}

struct Checker<'c> {
    config: &'c Config,
    stats: ReadStats,
    records: u64,
    coordinate_sorted: bool,
    last_key: (usize, usize),
    circular: Vec<bool>,
    quality_sum: u64,
    quality_bases: u64,
    mapped: u64,
    paired: u64,
}

crate::scan::dispatch! {
    /// G/C and N counts of BAM's packed bases, two to a byte (`=ACMGRSVTWYHKDBN`: C is 2, G
    /// is 4, N is 15).
    fn scan_packed_bases / scan_packed_bases_avx2 / scan_packed_bases_body(packed) -> (u64, u64)
}

crate::scan::dispatch! {
    /// Sum of BAM's binary quality scores, and how many are at least 20 and at least 30.
    fn scan_scores / scan_scores_avx2 / scan_scores_body(scores) -> (u64, u64, u64)
}

#[inline(always)]
fn scan_packed_bases_body(packed: &[u8]) -> (u64, u64) {
    let (mut gc, mut n) = (0u64, 0u64);
    // Each byte adds at most 2 to a count: 127 bytes fit a byte-wide counter.
    for block in packed.chunks(127) {
        let (mut g, mut nn) = (0u8, 0u8);
        for &byte in block {
            let (hi, lo) = (byte >> 4, byte & 0xf);
            g += u8::from(hi == 2 || hi == 4) + u8::from(lo == 2 || lo == 4);
            nn += u8::from(hi == 15) + u8::from(lo == 15);
        }
        gc += u64::from(g);
        n += u64::from(nn);
    }
    (gc, n)
}

#[inline(always)]
fn scan_scores_body(scores: &[u8]) -> (u64, u64, u64) {
    let (mut sum, mut q20, mut q30) = (0u64, 0u64, 0u64);
    for block in scores.chunks(255) {
        let (mut s, mut a, mut b) = (0u32, 0u8, 0u8);
        for &q in block {
            s += u32::from(q);
            a += u8::from(q >= 20);
            b += u8::from(q >= 30);
        }
        sum += u64::from(s);
        q20 += u64::from(a);
        q30 += u64::from(b);
    }
    (sum, q20, q30)
}

impl<'c> Checker<'c> {
    fn new(config: &'c Config) -> Self {
        Self {
            config,
            stats: ReadStats::default(),
            records: 0,
            coordinate_sorted: false,
            last_key: (0, 0),
            circular: Vec::new(),
            quality_sum: 0,
            quality_bases: 0,
            mapped: 0,
            paired: 0,
        }
    }

    fn start(&mut self, header: &sam::Header) {
        self.coordinate_sorted = header
            .header()
            .and_then(|hd| hd.other_fields().get(&hd_tag::SORT_ORDER))
            .is_some_and(|so| so.as_slice() == b"coordinate");
        self.circular = header
            .reference_sequences()
            .values()
            .map(|sq| {
                sq.other_fields()
                    .get(&sq_tag::MOLECULE_TOPOLOGY)
                    .is_some_and(|tp| tp.as_slice() == b"circular")
            })
            .collect();
    }

    fn unreadable(&mut self, error: &io::Error, findings: &mut Findings) {
        let record = self.records + 1;
        findings.push(
            Code::SamRecordInvalid,
            || {
                format!(
                    "record {record} cannot be read: {}; validation stopped here",
                    chain(error)
                )
            },
            Some(record),
            None,
            None,
        );
    }

    /// Checks the fields every format shares; returns the flags when the record is primary.
    fn check_fields(
        &mut self,
        record: &impl sam::alignment::Record,
        header: &sam::Header,
        findings: &mut Findings,
    ) -> Option<Flags> {
        self.records += 1;
        let n = self.records;
        if n.is_multiple_of(1 << 16)
            && let Some(progress) = &self.config.progress
        {
            progress.add_records(1 << 16);
        }
        let invalid = |findings: &mut Findings, what: &str, e: &io::Error| {
            findings.push(
                Code::SamRecordInvalid,
                || format!("invalid {what}: {}", chain(e)),
                Some(n),
                None,
                None,
            );
        };
        let flags = match record.flags() {
            Ok(flags) => flags,
            Err(e) => {
                invalid(findings, "FLAG", &e);
                return None;
            }
        };
        let references = header.reference_sequences();

        let reference_id = match record.reference_sequence_id(header).transpose() {
            Ok(id) => id,
            Err(e) => {
                findings.push(
                    Code::SamReferenceUnknown,
                    || format!("RNAME is not in the header: {}", chain(&e)),
                    Some(n),
                    None,
                    None,
                );
                return None;
            }
        };
        if let Some(id) = reference_id
            && id >= references.len()
        {
            findings.push(
                Code::SamReferenceUnknown,
                || {
                    format!(
                        "reference id {id} is not in the header, which has {} references",
                        references.len()
                    )
                },
                Some(n),
                None,
                None,
            );
            return None;
        }
        let start = match record.alignment_start().transpose() {
            Ok(start) => start,
            Err(e) => {
                invalid(findings, "POS", &e);
                return None;
            }
        };

        if !flags.is_unmapped() && (reference_id.is_none() || start.is_none()) {
            findings.push(
                Code::SamFlagInconsistent,
                || "the read is flagged as mapped (0x4 unset) but has no RNAME or POS".into(),
                Some(n),
                None,
                None,
            );
        }

        if let (Some(id), Some(start)) = (reference_id, start) {
            let (name, sq) = references
                .get_index(id)
                .expect("reference id checked above");
            let length = sq.length().get();
            let start = usize::from(start);
            let end = if flags.is_unmapped() || self.circular[id] {
                start
            } else {
                record
                    .cigar()
                    .alignment_span()
                    .map_or(start, |span| start + span.max(1) - 1)
            };
            if start > length || end > length {
                findings.push(
                    Code::SamPositionOutOfRange,
                    || {
                        format!(
                            "alignment {start}-{end} lies beyond the end of {} (length {length})",
                            String::from_utf8_lossy(name)
                        )
                    },
                    Some(n),
                    None,
                    None,
                );
            }
        }

        if self.coordinate_sorted {
            let key = (
                reference_id.unwrap_or(usize::MAX),
                start.map_or(0, usize::from),
            );
            if key < self.last_key {
                findings.push(
                    Code::SamSortOrderViolated,
                    || "the header declares SO:coordinate but this record comes before the previous one".into(),
                    Some(n),
                    None,
                    None,
                );
            }
            self.last_key = key;
        }

        let cigar = record.cigar();
        let sequence_length = record.sequence().len();
        if !cigar.is_empty() && sequence_length > 0 {
            match cigar.read_length() {
                Ok(length) if length != sequence_length => findings.push(
                    Code::SamCigarLengthMismatch,
                    || format!("CIGAR covers {length} read bases but the sequence has {sequence_length}"),
                    Some(n),
                    None,
                    None,
                ),
                Ok(_) => {}
                Err(e) => invalid(findings, "CIGAR", &e),
            }
        }
        let quality_length = record.quality_scores().len();
        if quality_length > 0 && sequence_length > 0 && quality_length != sequence_length {
            findings.push(
                Code::SamQualityLengthMismatch,
                || format!("{quality_length} quality scores for {sequence_length} bases"),
                Some(n),
                None,
                None,
            );
        }

        if flags.is_segmented() && !flags.is_mate_unmapped() {
            match record.mate_reference_sequence_id(header).transpose() {
                Ok(Some(id)) if id >= references.len() => findings.push(
                    Code::SamMateInconsistent,
                    || format!("mate reference id {id} is not in the header"),
                    Some(n),
                    None,
                    None,
                ),
                Ok(_) => {}
                Err(e) => findings.push(
                    Code::SamMateInconsistent,
                    || format!("RNEXT is not in the header: {}", chain(&e)),
                    Some(n),
                    None,
                    None,
                ),
            }
        }

        if flags.is_secondary() || flags.is_supplementary() {
            return None;
        }
        self.stats.add_length(sequence_length as u64);
        self.mapped += u64::from(!flags.is_unmapped());
        self.paired += u64::from(flags.is_segmented());
        Some(flags)
    }

    fn check(
        &mut self,
        record: &impl sam::alignment::Record,
        header: &sam::Header,
        findings: &mut Findings,
    ) {
        if self.check_fields(record, header, findings).is_none() {
            return;
        }
        for base in record.sequence().iter() {
            match base.to_ascii_uppercase() {
                b'G' | b'C' => self.stats.gc_bases += 1,
                b'N' => self.stats.n_bases += 1,
                _ => {}
            }
        }
        let qualities = record.quality_scores();
        let mut sum = 0u64;
        let mut count = 0u64;
        for score in qualities.iter().flatten() {
            sum += u64::from(score);
            count += 1;
            self.stats.q20_bases += u64::from(score >= 20);
            self.stats.q30_bases += u64::from(score >= 30);
        }
        self.quality_sum += sum;
        self.quality_bases += count;
    }

    fn check_bam(
        &mut self,
        record: &noodles_bam::Record,
        header: &sam::Header,
        findings: &mut Findings,
    ) {
        if self.check_fields(record, header, findings).is_none() {
            return;
        }
        let (gc, n) = scan_packed_bases(record.sequence().as_bytes());
        self.stats.gc_bases += gc;
        self.stats.n_bases += n;
        let qualities = record.quality_scores().as_bytes();
        if qualities.first().is_some_and(|&q| q != 0xff) {
            let (sum, q20, q30) = scan_scores(qualities);
            self.quality_sum += sum;
            self.quality_bases += qualities.len() as u64;
            self.stats.q20_bases += q20;
            self.stats.q30_bases += q30;
        }
    }

    fn finish(&mut self, findings: &mut Findings) {
        if self.records == 0 && !findings.has(Code::SamRecordInvalid) {
            findings.push(
                Code::SamNoRecords,
                || "the file has a header but no reads".into(),
                None,
                None,
                None,
            );
        }
        self.stats.quality_sum = self.quality_sum;
        self.stats.quality_bases = self.quality_bases;
        if self.quality_bases > 0 {
            self.stats.quality_encoding = Some(QualityEncoding::Binary);
        }
        self.stats.mapped = Some(self.mapped);
        self.stats.paired = Some(self.paired);
    }
}

/// Reference sequences for CRAM, found by the MD5 of their bases in a folder of FASTA files.
#[derive(Clone, Default)]
struct References {
    /// Lowercase hex MD5 → (file, sequence name).
    by_md5: Arc<HashMap<String, (PathBuf, Vec<u8>)>>,
    /// The CRAM header's reference names → their M5, filled once the header is read.
    header_md5: Arc<Mutex<HashMap<Vec<u8>, String>>>,
    /// References the decoder asked for and that could not be found, in order.
    missing: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// Bases of N added past the end of each CRAM reference for reads that overhang it.
const REFERENCE_PADDING: usize = 1 << 16;

const FASTA_EXTENSIONS: &[&str] = &["fa", "fasta", "fna", "fas", "ref"];

impl References {
    fn new(dir: Option<&Path>) -> Self {
        let mut by_md5 = HashMap::new();
        if let Some(dir) = dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for path in paths {
                let is_fasta = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| FASTA_EXTENSIONS.contains(&e));
                if is_fasta {
                    // An unreadable file only means its sequences are not found; the
                    // cram.reference_missing finding says which.
                    let _ = index_fasta(&path, &mut by_md5);
                }
            }
        }
        Self {
            by_md5: Arc::new(by_md5),
            header_md5: Arc::default(),
            missing: Arc::default(),
        }
    }

    fn learn(&self, header: &sam::Header) {
        let mut header_md5 = self
            .header_md5
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (name, sq) in header.reference_sequences() {
            if let Some(md5) = sq.other_fields().get(&sq_tag::MD5_CHECKSUM) {
                header_md5.insert(name.to_vec(), md5.to_string().to_ascii_lowercase());
            }
        }
    }

    /// Adds a finding per reference that was needed and not found; returns whether there were any.
    fn report_missing(&self, dir: Option<&Path>, findings: &mut Findings) -> bool {
        let missing =
            std::mem::take(&mut *self.missing.lock().unwrap_or_else(PoisonError::into_inner));
        let header_md5 = self
            .header_md5
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for name in &missing {
            let md5 = header_md5.get(name);
            let name = String::from_utf8_lossy(name);
            let place = dir.map_or_else(
                || "no reference folder was given".to_owned(),
                |d| format!("not found in {}", d.display()),
            );
            findings.push(
                Code::CramReferenceMissing,
                || match md5 {
                    Some(m) => format!("reference {name} (M5 {m}) is needed to decode the reads and is {place}"),
                    None => format!("reference {name} has no M5 in the header, so it cannot be identified ({place})"),
                },
                None,
                None,
                None,
            );
        }
        !missing.is_empty()
    }

    fn adapter(&self) -> ByMd5 {
        ByMd5 {
            references: self.clone(),
            names: HashMap::new(),
        }
    }
}

fn index_fasta(path: &Path, by_md5: &mut HashMap<String, (PathBuf, Vec<u8>)>) -> io::Result<()> {
    let mut reader = noodles_fasta::io::Reader::new(BufReader::new(File::open(path)?));
    for result in reader.records() {
        let record = result?;
        let mut hasher = Md5Hasher::new();
        for chunk in record.sequence().as_ref().chunks(1 << 16) {
            hasher.update(&chunk.to_ascii_uppercase());
        }
        let md5 = hasher.finalize().to_string();
        by_md5
            .entry(md5)
            .or_insert_with(|| (path.to_owned(), record.name().to_vec()));
    }
    Ok(())
}

/// A noodles repository adapter: a CRAM reference name → its M5 → the FASTA record.
struct ByMd5 {
    references: References,
    names: HashMap<Vec<u8>, noodles_fasta::Record>,
}

impl noodles_fasta::repository::Adapter for ByMd5 {
    fn get(&mut self, name: &[u8]) -> Option<io::Result<noodles_fasta::Record>> {
        if let Some(record) = self.names.get(name) {
            return Some(Ok(record.clone()));
        }
        // The adapter is asked by name; the header says which M5 that name must have.
        let found = self
            .references
            .header_md5
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .and_then(|md5| self.references.by_md5.get(md5))
            .cloned();
        let Some((path, stored_name)) = found else {
            self.references
                .missing
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(name.to_vec());
            let name = String::from_utf8_lossy(name);
            return Some(Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("reference {name} not found"),
            )));
        };
        let result = (|| {
            let mut reader = noodles_fasta::io::Reader::new(BufReader::new(File::open(&path)?));
            for result in reader.records() {
                let record = result?;
                if record.name() == stored_name.as_slice() {
                    // Reads may run past the end of their reference (the conformance suite has
                    // such a file); as htslib does, the bases past the end read as N.
                    let mut bases = record.sequence().as_ref().to_vec();
                    bases.resize(bases.len() + REFERENCE_PADDING, b'N');
                    return Ok(noodles_fasta::Record::new(
                        record.definition().clone(),
                        bases.into(),
                    ));
                }
            }
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                "reference sequence vanished",
            ))
        })();
        if let Ok(record) = &result {
            self.names.insert(name.to_vec(), record.clone());
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_count_like_a_naive_loop() {
        // Every byte value, at lengths around the vector widths and the counters' blocks.
        let bytes: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        for len in [0, 1, 31, 32, 33, 126, 127, 128, 254, 255, 256, 700] {
            let data = &bytes[..len];
            let nibbles = || data.iter().flat_map(|b| [b >> 4, b & 0xf]);
            let gc = nibbles().filter(|&x| x == 2 || x == 4).count() as u64;
            let n = nibbles().filter(|&x| x == 15).count() as u64;
            let sum: u64 = data.iter().map(|&q| u64::from(q)).sum();
            let q20 = data.iter().filter(|&&q| q >= 20).count() as u64;
            let q30 = data.iter().filter(|&&q| q >= 30).count() as u64;
            // The build for this processor (AVX2 where there is one) and the baseline build.
            assert_eq!(scan_packed_bases(data), (gc, n), "{len}");
            assert_eq!(scan_packed_bases_body(data), (gc, n), "{len}");
            assert_eq!(scan_scores(data), (sum, q20, q30), "{len}");
            assert_eq!(scan_scores_body(data), (sum, q20, q30), "{len}");
        }
    }
}

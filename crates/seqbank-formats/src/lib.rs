//! Validation of sequencing read files: FASTQ (plain, gzip, BGZF, bzip2), SAM, BAM and CRAM.
//!
//! Every record of every file is checked — there is no sampling — and the result is a
//! [`Report`]: [`Finding`](seqbank_core::Finding)s with stable codes (see [`Code`]), read
//! statistics, and the MD5 and SHA-256 of the bytes exactly as given, computed in the same single
//! pass on other threads. Malformed input is never an `Err`: `Err` means only that the bytes
//! could not be read.
//!
//! Every format has the same shape: `validate(reader, &Config) -> io::Result<Report>`
//! ([`fastq::validate`], [`sam::validate`], [`bam::validate`], [`cram::validate`], and
//! [`validate`] which detects the format). The files of one run are checked together by
//! [`validate_run`], which also compares mate files record by record.
//!
//! This crate is synchronous and knows nothing of HTTP, SQL, object stores or async runtimes.
//!
//! # Examples
//!
//! ```
//! use seqbank_formats::{Config, Format, validate};
//!
//! let data = b"@r1\nACGT\n+\nIII\n";
//! let report = validate(&data[..], &Config::default())?;
//! assert_eq!(report.format(), Format::Fastq);
//! assert!(!report.is_valid());
//! assert_eq!(report.findings()[0].code(), "fastq.quality_length_mismatch");
//! assert_eq!(report.findings()[0].record(), Some(1));
//! # Ok::<(), std::io::Error>(())
//! ```

mod alignment;
pub mod bam;
pub mod blocks;
mod code;
mod compression;
pub mod cram;
pub mod fastq;
pub mod json;
pub mod md5;
mod pipe;
mod report;
mod run;
pub mod sam;
mod scan;
pub mod sha256;
mod source;

use std::{
    io::{self, BufRead, Read},
    panic::{self, AssertUnwindSafe},
    path::PathBuf,
    sync::Arc,
};

pub use self::{
    code::Code,
    report::{Compression, Format, QualityEncoding, ReadStats, Report},
    run::{MAX_RUN_FILES, RunReport, validate_run},
    source::Progress,
};
use self::{compression::Decoder, fastq::PairSink, report::Findings};

/// What to do with bases that are valid but unusual (lower case, `.`/`-` gaps).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum BasePolicy {
    /// Accept silently.
    Allow,
    /// Accept with a warning.
    #[default]
    Warn,
    /// Refuse with an error.
    Reject,
}

/// Validation settings; the defaults are what the archive applies to submissions.
#[derive(Clone, Debug)]
pub struct Config {
    /// The format to validate as; `None` detects it from the content.
    pub format: Option<Format>,
    /// A folder of FASTA files in which CRAM references are found by the MD5 of their bases.
    pub reference_dir: Option<PathBuf>,
    /// Findings kept per code; further ones are only counted.
    pub max_findings_per_code: usize,
    /// Policy for lower-case bases.
    pub lowercase: BasePolicy,
    /// Policy for `.` and `-` in FASTQ sequences.
    pub gaps: BasePolicy,
    /// Longest read name accepted (ENA's limit is 256).
    pub max_name_length: usize,
    /// Largest share of bases that may be other than A, C, G, T, U in a file.
    pub max_non_acgt_fraction: f64,
    /// Largest FASTQ record, in bytes, held in memory.
    pub max_record_bytes: usize,
    /// Whether to look for duplicate read names.
    pub duplicate_names: bool,
    /// Memory for read-name fingerprints before they spill to temporary files.
    pub duplicate_memory_bytes: usize,
    /// Where spilled fingerprints go (the system temporary folder by default).
    pub temp_dir: Option<PathBuf>,
    /// Whether to compute MD5 and SHA-256.
    pub checksums: bool,
    /// Counters to poll for progress.
    pub progress: Option<Arc<Progress>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            format: None,
            reference_dir: None,
            max_findings_per_code: 20,
            lowercase: BasePolicy::Warn,
            gaps: BasePolicy::Warn,
            max_name_length: 256,
            max_non_acgt_fraction: 0.5,
            max_record_bytes: 64 << 20,
            duplicate_names: true,
            duplicate_memory_bytes: 64 << 20,
            temp_dir: None,
            checksums: true,
            progress: None,
        }
    }
}

/// Validates one file, detecting its compression and format from the content.
///
/// If [`Report::needs_second_pass`] is then true, call [`Report::confirm_duplicates`] with a
/// fresh reader over the same bytes to turn suspected duplicate read names into findings.
pub fn validate<R: Read + Send>(reader: R, config: &Config) -> io::Result<Report> {
    validate_as(reader, config, config.format, None, 1, None)
}

/// Bytes of decompressed data looked at to tell the format.
const SNIFF_LEN: usize = 1 << 12;

/// Validates one file; `alongside` is how many files (this one included) are validated at the
/// same time, and `lane` the file's place in their shared checksum thread, if they have one.
pub(crate) fn validate_as<R: Read + Send>(
    reader: R,
    config: &Config,
    forced: Option<Format>,
    pair: Option<PairSink>,
    alongside: usize,
    lane: Option<source::ChecksumLane>,
) -> io::Result<Report> {
    // With a core to spare, a compressed file is inflated on a thread of its own (see `pipe`).
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let apart = alongside < cores;
    let (result, digests) = source::with_input(
        reader,
        config.checksums,
        lane,
        config.progress.as_deref(),
        |input| validate_input(input, config, forced, pair, apart),
    )?;
    let (mut report, mut findings) = result?;
    report.size = digests.size;
    report.md5 = digests.md5;
    report.sha256 = digests.sha256;
    if report.compression == Compression::Bgzf && digests.tail != compression::BGZF_EOF {
        findings.push(
            Code::BgzfMissingEof,
            || "the file does not end with the BGZF end-of-file marker".into(),
            None,
            None,
            Some(digests.size),
        );
    }
    report.add_findings(findings);
    Ok(report)
}

fn validate_input(
    input: &mut source::Input,
    config: &Config,
    forced: Option<Format>,
    pair: Option<PairSink>,
    apart: bool,
) -> io::Result<(Report, Findings)> {
    let mut findings = Findings::new(config.max_findings_per_code);
    let head = input.fill_buf()?;
    if head.is_empty() {
        findings.push(
            Code::InputEmpty,
            || "the file is empty (0 bytes)".into(),
            None,
            None,
            None,
        );
        return Ok((
            Report::new(forced.unwrap_or(Format::Unknown), Compression::None),
            findings,
        ));
    }
    let compression = compression::detect(head);
    let mut decoder = Decoder::new(input, compression);
    let mut prefix = Vec::with_capacity(SNIFF_LEN);
    (&mut decoder)
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut prefix)?;
    let detected = detect_format(&prefix);
    let format = match forced {
        Some(format) if detected != Format::Unknown && detected != format => {
            findings.push(
                Code::InputFormatMismatch,
                || {
                    format!(
                        "the file was declared {} but its content is {}",
                        format.as_str(),
                        detected.as_str()
                    )
                },
                None,
                None,
                None,
            );
            return Ok((Report::new(detected, compression), findings));
        }
        Some(format) => format,
        None => detected,
    };
    let mut report = Report::new(format, compression);
    match format {
        Format::Fastq => {
            let mut validator = fastq::Validator::new(config, pair);
            decoded(&mut decoder, apart, |reader| validator.run(reader, &prefix))?;
            let (fastq_findings, stats, candidates) = validator.finish()?;
            report.set_findings(fastq_findings);
            report.stats = Some(stats);
            report.duplicates = candidates;
        }
        Format::Sam | Format::Bam | Format::Cram => {
            // noodles is trusted to report malformed data as errors, but a decoder panic must
            // still end as a finding, never as a crashed validation.
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                decoded(&mut decoder, apart, |reader| {
                    let reader = io::Cursor::new(&prefix).chain(reader);
                    alignment::validate(format, reader, config, &mut findings)
                })
            }));
            match outcome {
                Ok(stats) => report.stats = Some(stats?),
                Err(_) => findings.push(
                    Code::SamRecordInvalid,
                    || "the file is malformed in a way the decoder could not handle; validation stopped".into(),
                    None,
                    None,
                    None,
                ),
            }
        }
        Format::Unknown if prefix.is_empty() => findings.push(
            Code::InputEmpty,
            || {
                format!(
                    "the file decompresses ({}) to no data",
                    compression.as_str()
                )
            },
            None,
            None,
            None,
        ),
        Format::Unknown => {
            let what = describe_content(&prefix);
            findings.push(
                Code::InputUnknownFormat,
                || format!("the content is not FASTQ, SAM, BAM or CRAM: {what}"),
                None,
                None,
                Some(0),
            );
        }
    }
    decoder.report(&mut findings);
    Ok((report, findings))
}

/// Runs `consume` over the decompressed stream: inflated on a thread of its own when `apart`
/// and the file is compressed, else on this one.
fn decoded<T>(
    decoder: &mut Decoder<'_>,
    apart: bool,
    consume: impl FnOnce(&mut dyn Read) -> T,
) -> T {
    if apart && decoder.is_compressed() {
        pipe::on_thread(decoder, |pipe| consume(pipe))
    } else {
        consume(decoder)
    }
}

/// Tells the format from the first decompressed bytes.
fn detect_format(head: &[u8]) -> Format {
    if head.starts_with(b"CRAM") {
        Format::Cram
    } else if head.starts_with(b"BAM\x01") {
        Format::Bam
    } else if head.len() >= 4
        && head[0] == b'@'
        && head[1].is_ascii_uppercase()
        && head[2].is_ascii_alphabetic()
        && head[3] == b'\t'
    {
        Format::Sam
    } else if head.first() == Some(&b'@') {
        Format::Fastq
    } else {
        let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
        if line.iter().filter(|&&b| b == b'\t').count() >= 10
            && line.iter().all(|b| b.is_ascii() && *b != 0)
        {
            Format::Sam
        } else {
            Format::Unknown
        }
    }
}

fn describe_content(head: &[u8]) -> String {
    let printable = head
        .iter()
        .take(512)
        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    if printable * 10 < head.len().min(512) * 9 {
        "it looks like binary data".to_owned()
    } else {
        let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
        format!(
            "it starts with '{}'",
            String::from_utf8_lossy(&line[..line.len().min(40)]).trim_end()
        )
    }
}

impl Report {
    /// The exact second pass over a FASTQ file whose first pass found repeated read-name
    /// fingerprints: adds a `fastq.duplicate_name` finding per name that really repeats.
    ///
    /// `reader` must yield the same bytes as the first pass. Does nothing when no second pass is
    /// needed.
    pub fn confirm_duplicates<R: Read + Send>(
        &mut self,
        reader: R,
        config: &Config,
    ) -> io::Result<()> {
        let Some(candidates) = self.duplicates.take() else {
            return Ok(());
        };
        if candidates.is_empty() {
            return Ok(());
        }
        let (findings, _) = source::with_input(reader, false, None, None, |input| {
            let head = input.fill_buf()?;
            let compression = compression::detect(head);
            fastq::confirm(Decoder::new(input, compression), &[], &candidates, config)
        })?;
        self.add_findings(findings?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(detect_format(b"@HD\tVN:1.6\n"), Format::Sam);
        assert_eq!(detect_format(b"@r1 1:N:0\nACGT\n"), Format::Fastq);
        assert_eq!(detect_format(b"BAM\x01...."), Format::Bam);
        assert_eq!(detect_format(b"CRAM\x03\x00"), Format::Cram);
        assert_eq!(
            detect_format(b"r\t0\t*\t0\t0\t*\t*\t0\t0\tACGT\tII#I\n"),
            Format::Sam
        );
        assert_eq!(detect_format(b"\x7fELF\x02\x01"), Format::Unknown);
    }

    #[test]
    fn duplicates_are_confirmed_exactly() -> io::Result<()> {
        let data = b"@a\nA\n+\n#\n@b\nA\n+\n#\n@a\nA\n+\n#\n";
        let config = Config::default();
        let mut report = validate(&data[..], &config)?;
        assert!(report.needs_second_pass());
        assert!(report.is_valid());
        report.confirm_duplicates(&data[..], &config)?;
        assert!(!report.needs_second_pass());
        let found: Vec<_> = report
            .findings()
            .iter()
            .map(|f| (f.code(), f.record()))
            .collect();
        assert_eq!(found, [("fastq.duplicate_name", Some(3))]);
        assert!(!report.is_valid());
        Ok(())
    }
}

//! FASTQ: every record of a (possibly compressed) FASTQ file, checked and counted.
//!
//! A FASTQ record is a header line (`@` then the read name and an optional comment), the bases,
//! a separator line (`+`, optionally repeating the header) and one quality character per base.
//! Records are normally four lines; wrapped records (several sequence and quality lines) are
//! read correctly and reported. Every record is checked — there is no sampling window — and the
//! verdict never depends on read order: quality encoding and base composition are decided over
//! the whole file.

pub(crate) mod duplicates;
pub(crate) mod name;

use std::{
    borrow::Cow,
    collections::HashMap,
    io::{self, Read},
    sync::mpsc::SyncSender,
};

use memchr::memchr;
use seqbank_core::{Finding, Severity};

use self::{
    duplicates::{Candidates, Detector, fingerprint},
    name::NameStyle,
};
use crate::{
    BasePolicy, Code, Config, Format, QualityEncoding, ReadStats, Report, report::Findings,
};

/// Validates a FASTQ file (plain, gzip, BGZF or bzip2), whatever its name says.
///
/// # Examples
///
/// ```
/// use seqbank_formats::{Config, fastq};
///
/// let data = b"@r1\nACGT\n+\nII#I\n@r2\nACG\n+\nI#I\n";
/// let report = fastq::validate(&data[..], &Config::default())?;
/// assert!(report.is_valid());
/// assert_eq!(report.stats().map(|s| s.reads()), Some(2));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn validate<R: Read + Send>(reader: R, config: &Config) -> io::Result<Report> {
    crate::validate_as(reader, config, Some(Format::Fastq), None, 1, None)
}

const BUFFER_SIZE: usize = 1 << 20;
/// Records per chunk of names sent to the mate comparison.
pub(crate) const PAIR_CHUNK: usize = 1 << 14;
const PROGRESS_EVERY: u64 = 1 << 16;

/// Names of consecutive records of one file, sent to the comparison of a run's mate files.
#[derive(Debug, Default)]
pub(crate) struct NameChunk {
    pub(crate) names: Vec<u8>,
    pub(crate) ends: Vec<u32>,
}

impl NameChunk {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.names[start..self.ends[i] as usize]
    }
}

pub(crate) struct PairSink {
    tx: SyncSender<NameChunk>,
    chunk: NameChunk,
    open: bool,
}

impl PairSink {
    pub(crate) fn new(tx: SyncSender<NameChunk>) -> Self {
        Self {
            tx,
            chunk: NameChunk::default(),
            open: true,
        }
    }

    fn push(&mut self, name: &[u8]) {
        if !self.open {
            return;
        }
        self.chunk.names.extend_from_slice(name);
        self.chunk.ends.push(self.chunk.names.len() as u32);
        if self.chunk.len() == PAIR_CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.chunk.len() > 0 {
            // The next chunk is as large as this one: no growing, copying and faulting in.
            let next = NameChunk {
                names: Vec::with_capacity(self.chunk.names.len() + self.chunk.names.len() / 8),
                ends: Vec::with_capacity(PAIR_CHUNK),
            };
            let chunk = std::mem::replace(&mut self.chunk, next);
            // The comparison stops listening once it has found its divergence.
            self.open = self.tx.send(chunk).is_ok();
        }
    }
}

/// A record as it stands in the file, before any check of its content.
struct RawRecord<'a> {
    /// Header without `@` and line ending.
    header: &'a [u8],
    sequence: Cow<'a, [u8]>,
    /// Separator line without line ending (starts with `+`), empty if missing.
    separator: &'a [u8],
    quality: Cow<'a, [u8]>,
    lines: u64,
    problem: Option<Structure>,
    multiline: bool,
    crlf: bool,
    missing_final_newline: bool,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Structure {
    Truncated,
    SeparatorMissing,
}

enum Parsed<'a> {
    Record(RawRecord<'a>, usize),
    /// A line that cannot start a record (with CR if any), skipped.
    Junk(usize),
    NeedMore,
}

#[inline]
fn strip_cr(line: &[u8]) -> (&[u8], bool) {
    match line {
        [rest @ .., b'\r'] => (rest, true),
        _ => (line, false),
    }
}

/// The common case: four complete lines, `@` and `+` where they belong.
#[inline]
fn parse_fast(b: &[u8]) -> Option<(RawRecord<'_>, usize)> {
    if b.first() != Some(&b'@') {
        return None;
    }
    let e1 = memchr(b'\n', b)?;
    let e2 = e1 + 1 + memchr(b'\n', &b[e1 + 1..])?;
    if b.get(e2 + 1) != Some(&b'+') {
        return None;
    }
    let e3 = e2 + 1 + memchr(b'\n', &b[e2 + 1..])?;
    let e4 = e3 + 1 + memchr(b'\n', &b[e3 + 1..])?;
    let (header, c1) = strip_cr(&b[1..e1]);
    let (sequence, c2) = strip_cr(&b[e1 + 1..e2]);
    let (separator, c3) = strip_cr(&b[e2 + 1..e3]);
    let (quality, c4) = strip_cr(&b[e3 + 1..e4]);
    Some((
        RawRecord {
            header,
            sequence: Cow::Borrowed(sequence),
            separator,
            quality: Cow::Borrowed(quality),
            lines: 4,
            problem: None,
            multiline: false,
            crlf: c1 | c2 | c3 | c4,
            missing_final_newline: false,
        },
        e4 + 1,
    ))
}

/// Lines of a buffer; at end of file the last line may lack its newline.
struct Lines<'a> {
    b: &'a [u8],
    pos: usize,
    eof: bool,
    missing_final_newline: bool,
    crlf: bool,
}

impl<'a> Lines<'a> {
    /// The next line, `Err(())` when more data is needed, `Ok(None)` at end of file.
    fn next(&mut self) -> Result<Option<&'a [u8]>, ()> {
        let rest = &self.b[self.pos..];
        if rest.is_empty() {
            return if self.eof { Ok(None) } else { Err(()) };
        }
        let (line, advance) = match memchr(b'\n', rest) {
            Some(end) => (&rest[..end], end + 1),
            None if self.eof => {
                self.missing_final_newline = true;
                (rest, rest.len())
            }
            None => return Err(()),
        };
        self.pos += advance;
        let (line, cr) = strip_cr(line);
        self.crlf |= cr;
        Ok(Some(line))
    }

    fn peek_starts_with(&self, byte: u8) -> bool {
        self.b.get(self.pos) == Some(&byte)
    }
}

/// Everything else: wrapped records, missing lines, junk, the last record of the file.
fn parse_slow(b: &[u8], eof: bool) -> Parsed<'_> {
    let mut lines = Lines {
        b,
        pos: 0,
        eof,
        missing_final_newline: false,
        crlf: false,
    };
    let header = match lines.next() {
        Err(()) => return Parsed::NeedMore,
        Ok(None) => return Parsed::NeedMore,
        Ok(Some(line)) => line,
    };
    if header.first() != Some(&b'@') {
        return Parsed::Junk(lines.pos);
    }
    let header = &header[1..];
    let mut record = RawRecord {
        header,
        sequence: Cow::Borrowed(b""),
        separator: b"",
        quality: Cow::Borrowed(b""),
        lines: 1,
        problem: None,
        multiline: false,
        crlf: false,
        missing_final_newline: false,
    };

    // Sequence lines, up to the separator.
    let mut sequence_lines = 0;
    loop {
        if lines.peek_starts_with(b'@') {
            record.problem = Some(Structure::SeparatorMissing);
            break;
        }
        match lines.next() {
            Err(()) => return Parsed::NeedMore,
            Ok(None) => {
                record.problem = Some(Structure::Truncated);
                break;
            }
            Ok(Some(line)) if line.first() == Some(&b'+') => {
                record.separator = line;
                record.lines += 1;
                break;
            }
            Ok(Some(line)) => {
                record.lines += 1;
                sequence_lines += 1;
                append(&mut record.sequence, line);
            }
        }
    }

    // Quality lines: one, or (for wrapped records) as many as it takes to cover the bases.
    if record.problem.is_none() {
        let mut quality_lines = 0;
        loop {
            let enough = quality_lines > 0
                && (sequence_lines <= 1 || record.quality.len() >= record.sequence.len());
            if enough {
                break;
            }
            match lines.next() {
                Err(()) => return Parsed::NeedMore,
                Ok(None) => {
                    record.problem = Some(Structure::Truncated);
                    break;
                }
                Ok(Some(line)) => {
                    record.lines += 1;
                    quality_lines += 1;
                    append(&mut record.quality, line);
                }
            }
        }
        record.multiline = sequence_lines > 1 || quality_lines > 1;
    }
    record.crlf = lines.crlf;
    record.missing_final_newline = lines.missing_final_newline;
    let consumed = lines.pos;
    Parsed::Record(record, consumed)
}

fn append<'a>(target: &mut Cow<'a, [u8]>, line: &'a [u8]) {
    if target.is_empty() {
        *target = Cow::Borrowed(line);
    } else {
        target.to_mut().extend_from_slice(line);
    }
}

/// What a record consumer does with each record; the validator and the duplicate confirmation
/// share the parser.
trait Sink {
    fn record(&mut self, record: RawRecord<'_>, offset: u64) -> io::Result<()>;
    fn junk(&mut self, line: &[u8], offset: u64);
    fn too_long(&mut self, offset: u64, limit: usize);
}

/// Parses every record from `reader`, starting with the bytes in `prefix`.
fn parse<R: Read>(
    mut reader: R,
    prefix: &[u8],
    max_record_bytes: usize,
    sink: &mut impl Sink,
) -> io::Result<()> {
    let mut buf = vec![0u8; BUFFER_SIZE.max(prefix.len() * 2)];
    buf[..prefix.len()].copy_from_slice(prefix);
    let mut start = 0;
    let mut end = prefix.len();
    let mut eof = false;
    let mut base_offset = 0u64;
    loop {
        loop {
            let available = &buf[start..end];
            if available.is_empty() {
                break;
            }
            let offset = base_offset + start as u64;
            if let Some((record, consumed)) = parse_fast(available) {
                sink.record(record, offset)?;
                start += consumed;
                continue;
            }
            match parse_slow(available, eof) {
                Parsed::Record(record, consumed) => {
                    sink.record(record, offset)?;
                    start += consumed;
                }
                Parsed::Junk(consumed) => {
                    sink.junk(&available[..consumed], offset);
                    start += consumed;
                }
                Parsed::NeedMore => break,
            }
        }
        if eof {
            return Ok(());
        }
        // Keep the partial record, then read more after it.
        buf.copy_within(start..end, 0);
        end -= start;
        base_offset += start as u64;
        start = 0;
        if end == buf.len() {
            if buf.len() >= max_record_bytes {
                sink.too_long(base_offset, max_record_bytes);
                return Ok(());
            }
            buf.resize((buf.len() * 2).min(max_record_bytes), 0);
        }
        loop {
            match reader.read(&mut buf[end..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    end += n;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

crate::scan::dispatch! {
    /// Counts G/C and N and tells whether every base is one of `ACGTN`.
    fn scan_bases / scan_bases_avx2 / scan_bases_body(sequence) -> (u64, u64, bool)
}

crate::scan::dispatch! {
    /// Sums, bounds and threshold counts of a read's quality characters.
    fn scan_quality / scan_quality_avx2 / scan_quality_body(quality) -> QualityScan
}

#[inline(always)]
fn scan_bases_body(sequence: &[u8]) -> (u64, u64, bool) {
    let (mut gc, mut n, mut other) = (0u64, 0u64, 0u64);
    for chunk in sequence.chunks(255) {
        let (mut g, mut nn, mut o) = (0u8, 0u8, 0u8);
        for &c in chunk {
            g += u8::from(c == b'G' || c == b'C');
            nn += u8::from(c == b'N');
            o += u8::from(!(c == b'A' || c == b'C' || c == b'G' || c == b'T' || c == b'N'));
        }
        gc += u64::from(g);
        n += u64::from(nn);
        other += u64::from(o);
    }
    (gc, n, other == 0)
}

/// Base classes for the slow path.
#[derive(Clone, Copy, Eq, PartialEq)]
enum BaseClass {
    At,
    Gc,
    N,
    /// Other IUPAC ambiguity codes (RYSWKMBDHV).
    Ambiguous,
    Gap,
    Invalid,
}

fn classify(c: u8) -> (BaseClass, bool) {
    let lower = c.is_ascii_lowercase();
    let class = match c.to_ascii_uppercase() {
        b'A' | b'T' | b'U' => BaseClass::At,
        b'G' | b'C' => BaseClass::Gc,
        b'N' => BaseClass::N,
        b'R' | b'Y' | b'S' | b'W' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V' => BaseClass::Ambiguous,
        b'.' | b'-' => BaseClass::Gap,
        _ => BaseClass::Invalid,
    };
    (class, lower)
}

/// Per-read quality summary over the raw characters.
#[derive(Clone, Copy)]
struct QualityScan {
    sum: u64,
    min: u8,
    max: u8,
    /// Characters at or above the Q20/Q30 thresholds of Phred+33 and Phred+64.
    at_least: [u64; 4],
}

const THRESHOLDS: [u8; 4] = [33 + 20, 33 + 30, 64 + 20, 64 + 30];

#[inline(always)]
fn scan_quality_body(quality: &[u8]) -> QualityScan {
    let (mut sum, mut min, mut max) = (0u64, u8::MAX, 0u8);
    let mut at_least = [0u64; 4];
    for chunk in quality.chunks(255) {
        let mut s = 0u32;
        let mut counts = [0u8; 4];
        for &c in chunk {
            s += u32::from(c);
            min = min.min(c);
            max = max.max(c);
            for (count, threshold) in counts.iter_mut().zip(THRESHOLDS) {
                *count += u8::from(c >= threshold);
            }
        }
        sum += u64::from(s);
        for (total, count) in at_least.iter_mut().zip(counts) {
            *total += u64::from(count);
        }
    }
    QualityScan {
        sum,
        min,
        max,
        at_least,
    }
}

/// The first place where a base class appears in a file.
#[derive(Clone, Copy, Default)]
struct FirstSeen {
    count: u64,
    record: u64,
    line: u64,
}

impl FirstSeen {
    fn add(&mut self, count: u64, record: u64, line: u64) {
        if self.count == 0 {
            self.record = record;
            self.line = line;
        }
        self.count += count;
    }
}

pub(crate) struct Validator<'c> {
    config: &'c Config,
    pub(crate) findings: Findings,
    pub(crate) stats: ReadStats,
    records: u64,
    line: u64,
    in_junk: bool,
    style: Option<NameStyle>,
    labels: [u64; 5],
    last_id_prefix: Vec<u8>,
    crlf: Option<(u64, u64)>,
    multiline: Option<(u64, u64)>,
    missing_final_newline: Option<(u64, u64)>,
    lowercase: FirstSeen,
    gaps: FirstSeen,
    non_acgtu: u64,
    quality_min: u8,
    quality_max: u8,
    quality_sum: u64,
    quality_bases: u64,
    at_least: [u64; 4],
    duplicates: Option<Detector>,
    pair: Option<PairSink>,
    stopped_at_too_long: bool,
}

impl<'c> Validator<'c> {
    pub(crate) fn new(config: &'c Config, pair: Option<PairSink>) -> Self {
        Self {
            config,
            findings: Findings::new(config.max_findings_per_code),
            stats: ReadStats::default(),
            records: 0,
            line: 1,
            in_junk: false,
            style: None,
            labels: [0; 5],
            last_id_prefix: Vec::new(),
            crlf: None,
            multiline: None,
            missing_final_newline: None,
            lowercase: FirstSeen::default(),
            gaps: FirstSeen::default(),
            non_acgtu: 0,
            quality_min: u8::MAX,
            quality_max: 0,
            quality_sum: 0,
            quality_bases: 0,
            at_least: [0; 4],
            duplicates: config
                .duplicate_names
                .then(|| Detector::new(config.duplicate_memory_bytes, config.temp_dir.clone())),
            pair,
            stopped_at_too_long: false,
        }
    }

    /// Validates the decompressed stream (`prefix` then `reader`).
    pub(crate) fn run<R: Read>(&mut self, reader: R, prefix: &[u8]) -> io::Result<()> {
        parse(reader, prefix, self.config.max_record_bytes, self)
    }

    fn check_name(&mut self, header: &[u8], separator: &[u8], record: u64, line: u64) -> usize {
        let name_end = memchr::memchr2(b' ', b'\t', header).unwrap_or(header.len());
        let name = &header[..name_end];
        if name.is_empty() {
            self.findings.push(
                Code::FastqNameMissing,
                || "the header line has no read name after '@'".into(),
                Some(record),
                Some(line),
                None,
            );
        } else if name.len() > self.config.max_name_length {
            let limit = self.config.max_name_length;
            self.findings.push(
                Code::FastqNameTooLong,
                || {
                    format!(
                        "read name is {} characters long; at most {limit} are accepted",
                        name.len()
                    )
                },
                Some(record),
                Some(line),
                None,
            );
        }
        if separator.len() > 1 {
            let repeated = &separator[1..];
            if repeated != header && repeated != name {
                self.findings.push(
                    Code::FastqSeparatorMismatch,
                    || {
                        format!(
                            "the '+' line repeats '{}' but the read is '{}'",
                            String::from_utf8_lossy(repeated),
                            String::from_utf8_lossy(name)
                        )
                    },
                    Some(record),
                    Some(line + 2),
                    None,
                );
            }
        }
        name_end
    }

    fn check_style(&mut self, header: &[u8], name_end: usize, record: u64, line: u64) {
        let name = &header[..name_end];
        let comment = header.get(name_end + 1..).unwrap_or(b"");
        let parsed = name::parse(name, comment);
        match self.style {
            None => {
                self.style = Some(parsed.style);
                self.stats.name_style = Some(parsed.style.as_str());
                self.stats.platform = parsed.style.platform();
            }
            Some(style) if style != parsed.style => {
                self.findings.push(
                    Code::FastqNameStyleMixed,
                    || {
                        format!(
                            "read name '{}' is {} style, but the file started with {} style names",
                            String::from_utf8_lossy(name),
                            parsed.style.as_str(),
                            style.as_str()
                        )
                    },
                    Some(record),
                    Some(line),
                    None,
                );
            }
            Some(_) => {}
        }
        self.labels[usize::from(parsed.label.unwrap_or(0))] += 1;
        // Ids change rarely: look at them only when the name's leading part changes.
        let prefix_len = parsed.flowcell.len() + parsed.run.len() + parsed.instrument.len();
        let prefix = &name[..prefix_len.min(name.len())];
        if prefix != self.last_id_prefix.as_slice() || self.stats.reads == 0 {
            self.last_id_prefix.clear();
            self.last_id_prefix.extend_from_slice(prefix);
            ReadStats::add_id(&mut self.stats.instruments, parsed.instrument);
            ReadStats::add_id(&mut self.stats.runs, parsed.run);
            ReadStats::add_id(&mut self.stats.flowcells, parsed.flowcell);
        }
    }

    fn check_bases(&mut self, sequence: &[u8], record: u64, line: u64) {
        let (gc, n, plain) = scan_bases(sequence);
        if plain {
            self.stats.gc_bases += gc;
            self.stats.n_bases += n;
            self.non_acgtu += n;
            return;
        }
        let (mut gc, mut n, mut lower, mut gaps, mut other) = (0u64, 0u64, 0u64, 0u64, 0u64);
        let mut invalid = None;
        for (i, &c) in sequence.iter().enumerate() {
            let (class, is_lower) = classify(c);
            lower += u64::from(is_lower);
            match class {
                BaseClass::At => {}
                BaseClass::Gc => gc += 1,
                BaseClass::N => n += 1,
                BaseClass::Ambiguous => other += 1,
                BaseClass::Gap => {
                    gaps += 1;
                    n += 1;
                }
                BaseClass::Invalid => {
                    other += 1;
                    if invalid.is_none() {
                        invalid = Some((i, c));
                    }
                }
            }
        }
        self.stats.gc_bases += gc;
        self.stats.n_bases += n;
        self.non_acgtu += n + other;
        if lower > 0 {
            self.lowercase.add(lower, record, line);
        }
        if gaps > 0 {
            self.gaps.add(gaps, record, line);
        }
        if let Some((position, c)) = invalid {
            self.findings.push(
                Code::FastqInvalidBase,
                || {
                    format!(
                        "base {} is {}, not a nucleotide code",
                        position + 1,
                        describe_byte(c)
                    )
                },
                Some(record),
                Some(line + 1),
                None,
            );
        }
    }

    fn check_quality(&mut self, quality: &[u8], record: u64, line: u64) {
        let scan = scan_quality(quality);
        if scan.min < b'!' || scan.max > b'~' {
            let (position, c) = quality
                .iter()
                .enumerate()
                .find(|&(_, &c)| !(b'!'..=b'~').contains(&c))
                .map_or((0, 0), |(i, &c)| (i, c));
            self.findings.push(
                Code::FastqQualityOutOfRange,
                || {
                    format!(
                        "quality character {} is {}, outside '!' to '~'",
                        position + 1,
                        describe_byte(c)
                    )
                },
                Some(record),
                Some(line + 3),
                None,
            );
        }
        self.quality_min = self.quality_min.min(scan.min);
        self.quality_max = self.quality_max.max(scan.max);
        self.quality_sum += scan.sum;
        self.quality_bases += quality.len() as u64;
        for (total, count) in self.at_least.iter_mut().zip(scan.at_least) {
            *total += count;
        }
    }

    /// Whole-file verdicts: they are decided only once every record was seen.
    pub(crate) fn finish(mut self) -> io::Result<(Findings, ReadStats, Option<Candidates>)> {
        if let Some(pair) = &mut self.pair {
            pair.flush();
        }
        if let Some((record, line)) = self.crlf {
            self.findings.push(
                Code::FastqCrlfLineEndings,
                || "lines end with CR LF".into(),
                Some(record),
                Some(line),
                None,
            );
        }
        if let Some((record, line)) = self.multiline {
            self.findings.push(
                Code::FastqMultiline,
                || "sequence or quality is wrapped over several lines (first here)".into(),
                Some(record),
                Some(line),
                None,
            );
        }
        if let Some((record, line)) = self.missing_final_newline {
            self.findings.push(
                Code::FastqMissingFinalNewline,
                || "the last line has no line ending".into(),
                Some(record),
                Some(line),
                None,
            );
        }
        let lowercase = self.lowercase;
        self.policy(
            self.config.lowercase,
            Code::FastqLowercaseBases,
            lowercase,
            "lower-case",
        );
        let gaps = self.gaps;
        self.policy(self.config.gaps, Code::FastqGapBases, gaps, "'.' or '-'");

        if self.records == 0 && !self.stopped_at_too_long {
            self.findings.push(
                Code::FastqNoReads,
                || "the file contains no reads".into(),
                None,
                None,
                None,
            );
        }
        let bases = self.stats.bases;
        if bases > 0 && self.non_acgtu as f64 > self.config.max_non_acgt_fraction * bases as f64 {
            let (non, fraction) = (self.non_acgtu, self.config.max_non_acgt_fraction);
            self.findings.push(
                Code::FastqTooManyNonAcgt,
                || {
                    format!(
                        "{non} of {bases} bases ({:.1} %) are not A, C, G, T or U; at most {:.0} % are accepted",
                        100.0 * non as f64 / bases as f64,
                        100.0 * fraction
                    )
                },
                None,
                None,
                None,
            );
        }

        if self.quality_bases > 0 {
            let encoding = self.quality_encoding();
            let (q20, q30) = match encoding {
                QualityEncoding::Phred64 => (self.at_least[2], self.at_least[3]),
                _ => (self.at_least[0], self.at_least[1]),
            };
            self.stats.quality_encoding = Some(encoding);
            self.stats.q20_bases = q20;
            self.stats.q30_bases = q30;
            self.stats.quality_bases = self.quality_bases;
            let offset = u64::from(encoding.offset()) * self.quality_bases;
            self.stats.quality_sum = self.quality_sum.saturating_sub(offset);
        }

        let mates = self.labels[1..].iter().filter(|&&n| n > 0).count();
        if mates > 1 {
            let counts: Vec<String> = (1..5)
                .filter(|&i| self.labels[i] > 0)
                .map(|i| format!("{} reads of mate {i}", self.labels[i]))
                .collect();
            self.findings.push(
                Code::FastqMixedReadLabels,
                || format!("the file mixes mates: {}", counts.join(", ")),
                None,
                None,
                None,
            );
        }

        let candidates = self.duplicates.take().map(Detector::finish).transpose()?;
        Ok((self.findings, self.stats, candidates))
    }

    fn quality_encoding(&mut self) -> QualityEncoding {
        let (min, max) = (self.quality_min, self.quality_max);
        // ';' (59) is the lowest Phred+64 (Solexa) character; 'i' (105) is Q41 in Phred+64, and
        // higher characters occur only in Phred+33 (e.g. PacBio HiFi's '~').
        if min < b';' || max > b'i' {
            QualityEncoding::Phred33
        } else if max > b'J' {
            let (lo, hi) = (min as char, max as char);
            self.findings.push(
                Code::FastqPhred64,
                || format!("quality characters range from '{lo}' to '{hi}', which is Phred+64"),
                None,
                None,
                None,
            );
            QualityEncoding::Phred64
        } else {
            let (lo, hi) = (min as char, max as char);
            self.findings.push(
                Code::FastqQualityEncodingAmbiguous,
                || format!("quality characters range from '{lo}' to '{hi}', which fits Phred+33 and Phred+64"),
                None,
                None,
                None,
            );
            QualityEncoding::Phred33
        }
    }

    fn policy(&mut self, policy: BasePolicy, code: Code, seen: FirstSeen, what: &str) {
        if seen.count == 0 || policy == BasePolicy::Allow {
            return;
        }
        let severity = if policy == BasePolicy::Reject {
            Severity::Error
        } else {
            code.severity()
        };
        let message = format!(
            "{} bases are {what}; the first in record {}",
            seen.count, seen.record
        );
        self.findings.add(code, || {
            Finding::new(code.as_str(), severity, message)
                .with_hint(code.hint())
                .with_record(seen.record)
                .with_line(seen.line + 1)
        });
    }
}

fn describe_byte(c: u8) -> String {
    if c.is_ascii_graphic() {
        format!("'{}'", c as char)
    } else {
        format!("byte 0x{c:02x}")
    }
}

impl Sink for Validator<'_> {
    fn record(&mut self, record: RawRecord<'_>, offset: u64) -> io::Result<()> {
        self.in_junk = false;
        self.records += 1;
        let (number, line) = (self.records, self.line);
        self.line += record.lines;
        if record.crlf && self.crlf.is_none() {
            self.crlf = Some((number, line));
        }
        if record.multiline && self.multiline.is_none() {
            self.multiline = Some((number, line));
        }
        if record.missing_final_newline && record.problem.is_none() {
            self.missing_final_newline = Some((number, line + record.lines - 1));
        }
        if number.is_multiple_of(PROGRESS_EVERY)
            && let Some(progress) = &self.config.progress
        {
            progress.add_records(PROGRESS_EVERY);
        }

        let name_end = self.check_name(record.header, record.separator, number, line);
        let name = &record.header[..name_end];
        if let Some(pair) = &mut self.pair {
            pair.push(name);
        }
        if let Some(duplicates) = &mut self.duplicates
            && !name.is_empty()
        {
            duplicates.add(fingerprint(name))?;
        }
        self.check_style(record.header, name_end, number, line);

        match record.problem {
            Some(Structure::Truncated) => {
                self.findings.push(
                    Code::FastqTruncatedRecord,
                    || "the file ends inside this record".into(),
                    Some(number),
                    Some(line),
                    Some(offset),
                );
                return Ok(());
            }
            Some(Structure::SeparatorMissing) => {
                self.findings.push(
                    Code::FastqSeparatorMissing,
                    || {
                        format!(
                            "no '+' line after the bases; the next record starts at line {}",
                            self.line
                        )
                    },
                    Some(number),
                    Some(line),
                    Some(offset),
                );
                return Ok(());
            }
            None => {}
        }

        let (sequence, quality) = (&record.sequence[..], &record.quality[..]);
        self.stats.add_length(sequence.len() as u64);
        if sequence.is_empty() {
            self.findings.push(
                Code::FastqSequenceEmpty,
                || "the read has no bases".into(),
                Some(number),
                Some(line + 1),
                Some(offset),
            );
        } else if quality.is_empty() {
            self.findings.push(
                Code::FastqQualityMissing,
                || format!("the read has {} bases and no qualities", sequence.len()),
                Some(number),
                Some(line + 3),
                Some(offset),
            );
        } else if quality.len() != sequence.len() {
            self.findings.push(
                Code::FastqQualityLengthMismatch,
                || {
                    format!(
                        "{} quality characters for {} bases",
                        quality.len(),
                        sequence.len()
                    )
                },
                Some(number),
                Some(line + 3),
                Some(offset),
            );
        }
        self.check_bases(sequence, number, line);
        self.check_quality(quality, number, line);
        Ok(())
    }

    fn junk(&mut self, line_bytes: &[u8], offset: u64) {
        let line = self.line;
        self.line += 1;
        if std::mem::replace(&mut self.in_junk, true) {
            return;
        }
        let shown = String::from_utf8_lossy(&line_bytes[..line_bytes.len().min(40)])
            .trim_end()
            .to_owned();
        self.findings.push(
            Code::FastqHeaderMissingAt,
            || format!("expected a header line starting with '@', found '{shown}'; skipped to the next '@' line"),
            Some(self.records + 1),
            Some(line),
            Some(offset),
        );
    }

    fn too_long(&mut self, offset: u64, limit: usize) {
        self.stopped_at_too_long = true;
        self.findings.push(
            Code::FastqRecordTooLong,
            || {
                format!(
                    "record {} is larger than {limit} bytes; validation stopped here",
                    self.records + 1
                )
            },
            Some(self.records + 1),
            Some(self.line),
            Some(offset),
        );
    }
}

/// The second pass: exact names of the reads whose fingerprints repeated.
struct Confirmer<'a> {
    candidates: &'a Candidates,
    records: u64,
    line: u64,
    /// name → (first record, first line, second record, occurrences)
    names: HashMap<Vec<u8>, (u64, u64, u64, u64)>,
}

impl Sink for Confirmer<'_> {
    fn record(&mut self, record: RawRecord<'_>, _offset: u64) -> io::Result<()> {
        self.records += 1;
        let line = self.line;
        self.line += record.lines;
        let name_end = memchr::memchr2(b' ', b'\t', record.header).unwrap_or(record.header.len());
        let name = &record.header[..name_end];
        if !name.is_empty() && self.candidates.fingerprints.contains(&fingerprint(name)) {
            let entry = self
                .names
                .entry(name.to_vec())
                .or_insert((self.records, line, 0, 0));
            entry.3 += 1;
            if entry.3 == 2 {
                entry.2 = self.records;
            }
        }
        Ok(())
    }

    fn junk(&mut self, _line: &[u8], _offset: u64) {
        self.line += 1;
    }

    fn too_long(&mut self, _offset: u64, _limit: usize) {}
}

/// Runs the exact second pass over a decompressed FASTQ stream.
pub(crate) fn confirm<R: Read>(
    reader: R,
    prefix: &[u8],
    candidates: &Candidates,
    config: &Config,
) -> io::Result<Findings> {
    let mut confirmer = Confirmer {
        candidates,
        records: 0,
        line: 1,
        names: HashMap::new(),
    };
    parse(reader, prefix, config.max_record_bytes, &mut confirmer)?;
    let mut duplicates: Vec<_> = confirmer
        .names
        .into_iter()
        .filter(|(_, v)| v.3 > 1)
        .collect();
    duplicates.sort_by_key(|(_, v)| v.2);
    let mut findings = Findings::new(config.max_findings_per_code);
    for (name, (first, _first_line, second, count)) in duplicates {
        findings.push(
            Code::FastqDuplicateName,
            || {
                format!(
                    "read name '{}' occurs {count} times: records {first} and {second}{}",
                    String::from_utf8_lossy(&name),
                    if count > 2 { " and more" } else { "" }
                )
            },
            Some(second),
            None,
            None,
        );
    }
    if candidates.overflowed {
        findings.push(
            Code::FastqDuplicateName,
            || {
                format!(
                    "more than {} distinct read names repeat; only those were checked",
                    duplicates::MAX_CANDIDATES
                )
            },
            None,
            None,
            None,
        );
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(data: &[u8]) -> Vec<String> {
        let report = validate(data, &Config::default()).expect("in memory");
        report
            .findings()
            .iter()
            .map(|f| format!("{}@{:?}", f.code(), f.record()))
            .collect()
    }

    #[test]
    fn accepts_plain_records() {
        assert!(codes(b"@a\nACGT\n+\nII#I\n@b\nAC\n+b\n#I\n").is_empty());
    }

    #[test]
    fn finds_structural_problems() {
        assert_eq!(
            codes(b"@a\nACGT\n+\nI#I\n"),
            ["fastq.quality_length_mismatch@Some(1)"]
        );
        assert_eq!(
            codes(b"@a\nACGT\n+\nII#I\n@b\nAC"),
            ["fastq.truncated_record@Some(2)"]
        );
        assert_eq!(
            codes(b"@a\nACGT\n+\nII#I"),
            ["fastq.missing_final_newline@Some(1)"]
        );
        assert_eq!(
            codes(b"@a\nAC\nGT\n+\n#I\nII\n"),
            ["fastq.multiline@Some(1)"]
        );
        assert_eq!(
            codes(b"@a\nACGT\n@b\nACGT\n+\nII#I\n"),
            ["fastq.separator_missing@Some(1)"]
        );
        assert_eq!(
            codes(b"junk\nmore\n@a\nACGT\n+\nII#I\n"),
            ["fastq.header_missing_at@Some(1)"]
        );
        assert_eq!(codes(b""), ["input.empty@None"]);
        assert_eq!(codes(b"@a\nACGT\n"), ["fastq.truncated_record@Some(1)"]);
    }

    #[test]
    fn scans_count_like_a_naive_loop() {
        // The build for this processor (AVX2 where there is one) and the baseline build.
        type BaseScan = fn(&[u8]) -> (u64, u64, bool);
        let bases: [BaseScan; 2] = [scan_bases, scan_bases_body];
        let qualities: [fn(&[u8]) -> QualityScan; 2] = [scan_quality, scan_quality_body];
        for (scan_bases, scan_quality) in bases.into_iter().zip(qualities) {
            let sequence = b"ACGTNNGGCCAT".repeat(50);
            let (gc, n, plain) = scan_bases(&sequence);
            assert_eq!(
                gc,
                sequence.iter().filter(|&&c| c == b'G' || c == b'C').count() as u64
            );
            assert_eq!(n, 100);
            assert!(plain);
            assert!(!scan_bases(b"ACGR").2);
            // Lengths around the vector widths and the 255-byte blocks.
            for len in [1, 15, 16, 17, 31, 32, 33, 254, 255, 256, 600] {
                let mut odd = b"ACGTN".repeat(len).split_off(4 * len);
                odd[len - 1] = b'r';
                assert!(!scan_bases(&odd).2, "{len}");
                assert_eq!(
                    scan_bases(&odd).1,
                    odd.iter().filter(|&&c| c == b'N').count() as u64
                );
            }
            let quality: Vec<u8> = (33..127).cycle().take(1000).collect();
            let scan = scan_quality(&quality);
            assert_eq!(scan.sum, quality.iter().map(|&c| u64::from(c)).sum::<u64>());
            assert_eq!((scan.min, scan.max), (33, 126));
            for (at_least, threshold) in scan.at_least.iter().zip(THRESHOLDS) {
                assert_eq!(
                    *at_least,
                    quality.iter().filter(|&&c| c >= threshold).count() as u64
                );
            }
            assert_eq!(scan_quality(b"II\x1fI").min, 0x1f);
        }
    }
}

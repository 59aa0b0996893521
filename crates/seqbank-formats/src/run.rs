//! Runs of several files: mates (R1/R2, index reads) must hold the same spots in the same order.

use std::{
    collections::BTreeMap,
    io::{self, Read},
    sync::mpsc::{Receiver, sync_channel},
    thread,
};

use seqbank_core::Finding;

use crate::{
    Code, Config, Format, Report,
    fastq::{NameChunk, PAIR_CHUNK, PairSink},
    report::Findings,
    source::SharedChecksums,
};

/// The most files one spot's reads may be split into (R1, R2, I1, I2: the 10x layouts).
pub const MAX_RUN_FILES: usize = 4;

/// The validation report of a run: each file's report and the findings about the set.
#[derive(Clone, Debug)]
pub struct RunReport {
    files: Vec<Report>,
    findings: Vec<Finding>,
    omitted: BTreeMap<String, u64>,
}

impl RunReport {
    /// The reports of the files, in the order given.
    pub fn files(&self) -> &[Report] {
        &self.files
    }

    /// Mutable access to the file reports (e.g. for [`Report::confirm_duplicates`]).
    pub fn files_mut(&mut self) -> &mut [Report] {
        &mut self.files
    }

    /// Findings about the files together (`run.*` codes).
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// For each run-level code whose findings were capped, how many more there were.
    pub fn omitted(&self) -> &BTreeMap<String, u64> {
        &self.omitted
    }

    /// Whether every file is valid and the files agree.
    pub fn is_valid(&self) -> bool {
        self.files.iter().all(Report::is_valid)
            && !self.findings.iter().any(|f| f.severity().is_error())
    }
}

/// Validates the files of one run together: each file fully, on its own thread, and FASTQ
/// mates against each other record by record.
///
/// Each file comes with a label (its name) used in the run-level messages.
///
/// # Examples
///
/// ```
/// use seqbank_formats::{Config, validate_run};
///
/// let r1 = &b"@s1/1\nACGT\n+\nII#I\n@s2/1\nACGT\n+\nII#I\n"[..];
/// let r2 = &b"@s1/2\nTTTT\n+\nII#I\n@s3/2\nTTTT\n+\nII#I\n"[..];
/// let report = validate_run(vec![("r1.fq".to_owned(), r1), ("r2.fq".to_owned(), r2)], &Config::default())?;
/// assert!(!report.is_valid());
/// assert_eq!(report.findings()[0].code(), "run.name_mismatch");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn validate_run<R: Read + Send>(
    files: Vec<(String, R)>,
    config: &Config,
) -> io::Result<RunReport> {
    let labels: Vec<String> = files.iter().map(|(label, _)| label.clone()).collect();
    let mut findings = Findings::new(config.max_findings_per_code);
    if files.len() > MAX_RUN_FILES {
        findings.push(
            Code::RunTooManyFiles,
            || {
                format!(
                    "{} files were given for one run; at most {MAX_RUN_FILES} are accepted",
                    files.len()
                )
            },
            None,
            None,
            None,
        );
    }

    let pairing = files.len() > 1;
    let alongside = files.len();
    let validate = |reader, sink, lane| {
        crate::validate_as(reader, config, config.format, sink, alongside, lane)
    };
    let (reports, divergence) = thread::scope(|scope| {
        // The files share one checksum thread, which hashes two of them at a time.
        let mut lanes = Vec::new();
        if pairing && config.checksums {
            let (shared, shared_lanes) = SharedChecksums::new(files.len());
            scope.spawn(move || shared.run());
            lanes = shared_lanes;
        }
        let mut lanes = lanes.into_iter();
        let mut receivers = Vec::new();
        let mut handles = Vec::new();
        for (_, reader) in files {
            let lane = lanes.next();
            let sink = if pairing {
                let (tx, rx) = sync_channel(4);
                receivers.push(rx);
                Some(PairSink::new(tx))
            } else {
                None
            };
            handles.push(scope.spawn(move || validate(reader, sink, lane)));
        }
        let divergence = compare(receivers);
        let reports: io::Result<Vec<Report>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| io::Error::other("validation thread panicked"))?
            })
            .collect();
        reports.map(|r| (r, divergence))
    })?;

    let formats: Vec<Format> = reports.iter().map(Report::format).collect();
    if formats.windows(2).any(|w| w[0] != w[1]) {
        let list: Vec<String> = labels
            .iter()
            .zip(&formats)
            .map(|(l, f)| format!("{l} is {}", f.as_str()))
            .collect();
        findings.push(
            Code::RunFormatMismatch,
            || list.join(", "),
            None,
            None,
            None,
        );
    } else if pairing && formats.first() == Some(&Format::Fastq) {
        let counts: Vec<u64> = reports
            .iter()
            .map(|r| r.stats().map_or(0, |s| s.reads()))
            .collect();
        if counts.windows(2).any(|w| w[0] != w[1]) {
            let list: Vec<String> = labels
                .iter()
                .zip(&counts)
                .map(|(l, n)| format!("{l} has {n}"))
                .collect();
            findings.push(
                Code::RunReadCountMismatch,
                || {
                    format!(
                        "mate files hold different numbers of reads: {}",
                        list.join(", ")
                    )
                },
                None,
                None,
                None,
            );
        }
        if let Some(d) = divergence {
            let (a, b) = (&labels[0], &labels[d.file]);
            findings.push(
                Code::RunNameMismatch,
                || {
                    format!(
                        "first divergence: {a} record {} is '{}' but {b} record {} is '{}'",
                        d.record,
                        String::from_utf8_lossy(&d.first),
                        d.record,
                        String::from_utf8_lossy(&d.other)
                    )
                },
                Some(d.record),
                None,
                None,
            );
        }
    }
    let (findings, omitted) = findings.into_parts();
    Ok(RunReport {
        files: reports,
        findings,
        omitted,
    })
}

struct Divergence {
    record: u64,
    file: usize,
    first: Vec<u8>,
    other: Vec<u8>,
}

/// Compares the files' read names chunk by chunk until the first divergence.
fn compare(receivers: Vec<Receiver<NameChunk>>) -> Option<Divergence> {
    let mut base = 0u64;
    loop {
        let chunks: Vec<Option<NameChunk>> = receivers.iter().map(|rx| rx.recv().ok()).collect();
        let Some(Some(first)) = chunks.first() else {
            return None;
        };
        for (file, chunk) in chunks.iter().enumerate().skip(1) {
            let Some(chunk) = chunk else { continue };
            for i in 0..first.len().min(chunk.len()) {
                let (a, b) = (first.get(i), chunk.get(i));
                if !mates_match(a, b) {
                    // Dropping the receivers stops the other threads' name collection.
                    return Some(Divergence {
                        record: base + i as u64 + 1,
                        file,
                        first: a.to_vec(),
                        other: b.to_vec(),
                    });
                }
            }
        }
        if chunks
            .iter()
            .any(|c| c.as_ref().is_none_or(|c| c.len() < PAIR_CHUNK))
        {
            return None;
        }
        base += PAIR_CHUNK as u64;
    }
}

/// Mate names agree when equal, or equal but for a final mate number after `/`, `.`, `_` or `:`.
fn mates_match(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let n = a.len();
    n >= 2
        && n == b.len()
        && a[..n - 1] == b[..n - 1]
        && matches!(a[n - 2], b'/' | b'.' | b'_' | b':')
        && a[n - 1].is_ascii_digit()
        && b[n - 1].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mate_suffixes_match() {
        assert!(mates_match(b"A:1:FC:1:1:1:1", b"A:1:FC:1:1:1:1"));
        assert!(mates_match(b"frag/1", b"frag/2"));
        assert!(mates_match(b"frag_1", b"frag_2"));
        assert!(!mates_match(b"frag/1", b"frah/2"));
        assert!(!mates_match(b"frag1", b"frag2"));
    }

    fn fastq(names: impl Iterator<Item = String>) -> Vec<u8> {
        names
            .flat_map(|n| format!("@{n}\nACGT\n+\nII#I\n").into_bytes())
            .collect()
    }

    #[test]
    fn late_divergence_is_found_with_its_record_number() -> io::Result<()> {
        let r1 = fastq((1..=40_000).map(|i| format!("s{i}/1")));
        let r2 = fastq((1..=40_000).map(|i| {
            if i == 33_333 {
                "x/2".to_owned()
            } else {
                format!("s{i}/2")
            }
        }));
        let report = validate_run(
            vec![("a".into(), &r1[..]), ("b".into(), &r2[..])],
            &Config::default(),
        )?;
        let codes: Vec<_> = report
            .findings()
            .iter()
            .map(|f| (f.code(), f.record()))
            .collect();
        assert_eq!(codes, [("run.name_mismatch", Some(33_333))]);
        Ok(())
    }

    #[test]
    fn count_mismatch_is_found() -> io::Result<()> {
        let r1 = fastq((1..=20_000).map(|i| format!("s{i}/1")));
        let r2 = fastq((1..=19_999).map(|i| format!("s{i}/2")));
        let report = validate_run(
            vec![("a".into(), &r1[..]), ("b".into(), &r2[..])],
            &Config::default(),
        )?;
        let codes: Vec<_> = report.findings().iter().map(Finding::code).collect();
        assert_eq!(codes, ["run.read_count_mismatch"]);
        assert!(report.files().iter().all(Report::is_valid));
        Ok(())
    }
}

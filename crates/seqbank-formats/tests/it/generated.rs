//! Inputs too large to commit, generated at test time.

use std::io::Write;

use seqbank_formats::{Config, validate, validate_run};

fn record(out: &mut Vec<u8>, i: u64, mate: u8, quality: &[u8]) {
    write!(
        out,
        "@A00123:8:H5KJ3DSXX:1:1101:{}:{} {mate}:N:0:ACGT\nACGTACGTAC\n+\n",
        i / 100_000,
        i % 100_000
    )
    .expect("in memory");
    out.extend_from_slice(quality);
    out.push(b'\n');
}

/// Every record is checked: the only bad record is record 1,000,001, past any sampling window
/// (ENA's quick check reads 100,000 reads).
#[test]
fn the_bad_record_beyond_a_million_is_found() -> std::io::Result<()> {
    let mut data = Vec::with_capacity(80 << 20);
    for i in 1..=1_000_005u64 {
        let quality: &[u8] = if i == 1_000_001 {
            b"FFFFFFFFF"
        } else {
            b"FFFF:FF#FF"
        };
        record(&mut data, i, 1, quality);
    }
    let report = validate(&data[..], &Config::default())?;
    let findings: Vec<_> = report
        .findings()
        .iter()
        .map(|f| (f.code(), f.record(), f.line()))
        .collect();
    assert_eq!(
        findings,
        [(
            "fastq.quality_length_mismatch",
            Some(1_000_001),
            Some(4_000_004)
        )]
    );
    assert_eq!(report.stats().map(|s| s.reads()), Some(1_000_005));
    Ok(())
}

/// Mates that agree for 50,000 records and then diverge: the first divergence is reported
/// with its record number, across chunk boundaries of the comparison.
#[test]
fn pairs_that_diverge_late_are_reported_at_the_first_divergence() -> std::io::Result<()> {
    let (mut r1, mut r2) = (Vec::new(), Vec::new());
    for i in 1..=60_000u64 {
        record(&mut r1, i, 1, b"FFFF:FF#FF");
        record(
            &mut r2,
            if i >= 50_001 { i + 1 } else { i },
            2,
            b"FFFF:FF#FF",
        );
    }
    let report = validate_run(
        vec![("R1".into(), &r1[..]), ("R2".into(), &r2[..])],
        &Config::default(),
    )?;
    let findings: Vec<_> = report
        .findings()
        .iter()
        .map(|f| (f.code(), f.record()))
        .collect();
    assert_eq!(findings, [("run.name_mismatch", Some(50_001))]);
    assert!(
        report.findings()[0].message().contains("R1 record 50001"),
        "{}",
        report.findings()[0]
    );
    Ok(())
}

/// The files of a run share one MD5 thread, which hashes two of them at a time: each file
/// still gets its own digests, whatever the sizes, however far one file runs ahead of the
/// others and when one has no bytes at all.
#[test]
fn each_file_of_a_run_gets_its_own_checksums() -> std::io::Result<()> {
    use md5::Digest as _;
    let mut files = vec![Vec::new(); 4];
    for i in 1..=60_000u64 {
        record(&mut files[0], i, 1, b"FFFF:FF#FF");
        record(&mut files[1], i, 2, b"FFFF:FF#FF");
        // Junk between records makes the second file over three times as long as the first
        // (only the checksums matter here).
        files[1].extend_from_slice(&[b'A'; 150]);
        if i <= 5_000 {
            record(&mut files[2], i, 3, b"FFFF:FF#FF");
        }
    }
    let inputs = files
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("file{i}"), &f[..]))
        .collect();
    let report = validate_run(inputs, &Config::default())?;
    for (file, report) in files.iter().zip(report.files()) {
        let md5: [u8; 16] = md5::Md5::digest(file).into();
        let sha256: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(file).into();
        assert_eq!(report.md5().map(|m| *m.as_bytes()), Some(md5));
        assert_eq!(report.sha256().map(|s| *s.as_bytes()), Some(sha256));
        assert_eq!(report.size(), file.len() as u64);
    }
    Ok(())
}

/// Duplicate detection spills fingerprints to disk beyond its memory budget and still finds
/// the one repeated name, exactly.
#[test]
fn duplicates_are_found_beyond_the_memory_budget() -> std::io::Result<()> {
    let mut data = Vec::new();
    for i in 1..=50_000u64 {
        record(&mut data, if i == 45_000 { 7 } else { i }, 1, b"FFFF:FF#FF");
    }
    let config = Config {
        duplicate_memory_bytes: 8 * 4096,
        ..Config::default()
    };
    let mut report = validate(&data[..], &config)?;
    assert!(report.needs_second_pass());
    report.confirm_duplicates(&data[..], &config)?;
    let findings: Vec<_> = report
        .findings()
        .iter()
        .map(|f| (f.code(), f.record()))
        .collect();
    assert_eq!(findings, [("fastq.duplicate_name", Some(45_000))]);
    assert!(
        report.findings()[0]
            .message()
            .contains("records 7 and 45000"),
        "{}",
        report.findings()[0]
    );
    Ok(())
}

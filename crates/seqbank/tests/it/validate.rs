//! `seqbank validate` as a submitter runs it: exit codes, summaries, JSON, hostile inputs.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

fn testdata(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

fn seqbank(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqbank"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 test path")
}

#[test]
fn a_valid_pair_exits_zero_with_a_summary() {
    let r1 = testdata("run/valid/casava_pair/R1.fastq");
    let r2 = testdata("run/valid/casava_pair/R2.fastq.gz");
    let output = seqbank(&["validate", path_str(&r1), path_str(&r2)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("R2.fastq.gz: fastq (gzip)"), "{out}");
    assert!(out.contains("4 reads, 80 bases"), "{out}");
    assert!(
        out.ends_with("valid: 2 files, 0 errors, 0 warnings shown\n"),
        "{out}"
    );
}

#[test]
fn an_invalid_file_exits_one_and_names_code_and_location() {
    let path = testdata("fastq/invalid/quality_length_mismatch.fastq");
    let output = seqbank(&["validate", path_str(&path)]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(out.contains("error fastq.quality_length_mismatch line 8 record 2 offset 90: 17 quality characters for 20 bases"), "{out}");
    assert!(out.contains("hint: "), "{out}");
}

#[test]
fn json_report_has_the_documented_shape() {
    let path = testdata("fastq/invalid/truncated_record.fastq");
    let output = seqbank(&["validate", "--json", "-", path_str(&path)]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("stdout is only JSON");
    assert_eq!(report["seqbank_report_version"], 1);
    assert_eq!(report["valid"], false);
    let file = &report["files"][0];
    for key in [
        "path",
        "format",
        "compression",
        "size",
        "md5",
        "sha256",
        "valid",
        "stats",
        "findings",
    ] {
        assert!(file.get(key).is_some(), "missing {key}: {file}");
    }
    assert_eq!(file["format"], "fastq");
    assert_eq!(file["md5"].as_str().map(str::len), Some(32));
    assert_eq!(file["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(file["stats"]["reads"], 5);
    let finding = &file["findings"][0];
    assert_eq!(finding["code"], "fastq.truncated_record");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["record"], 6);
    assert_eq!(finding["line"], 21);
    assert!(finding["hint"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(report["run"]["findings"].as_array().map(Vec::len), Some(0));
}

#[test]
fn json_to_a_file_and_md5_matches_md5sum_semantics() {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("report.json");
    let path = testdata("fastq/valid/casava.fastq.gz");
    let output = seqbank(&[
        "validate",
        "--quiet",
        "--json",
        path_str(&json),
        path_str(&path),
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty(), "--quiet prints nothing");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&json).expect("report written")).expect("JSON");
    let bytes = std::fs::read(&path).expect("test file");
    let size = bytes.len() as u64;
    assert_eq!(report["files"][0]["size"], size);
    assert_eq!(report["files"][0]["compression"], "gzip");
}

/// Hostile inputs: each gives a finding or a one-line error, never a panic or a hang.
#[test]
fn truncated_garbage_empty_and_binary_inputs_give_findings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..2000 {
        write!(gz, "@r{i}\nACGTACGTAC\n+\nFFFF:FF#FF\n").expect("in memory");
    }
    let gz = gz.finish().expect("in memory");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.fastq.gz",
            gz[..gz.len() / 2].to_vec(),
            "compression.truncated",
        ),
        (
            "garbage.fastq.gz",
            [gz.clone(), b"trailing junk".to_vec()].concat(),
            "compression.trailing_garbage",
        ),
        ("empty.fastq", Vec::new(), "input.empty"),
        (
            "binary.fastq",
            (0..=255u8).cycle().take(10_000).collect(),
            "input.unknown_format",
        ),
    ];
    for (name, bytes, code) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        let output = seqbank(&["validate", "--json", "-", path_str(&path)]);
        assert_eq!(output.status.code(), Some(1), "{name}: {}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"), "{name}");
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let codes: Vec<&str> = report["files"][0]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        assert!(codes.contains(&code), "{name}: {codes:?}");
    }
}

#[test]
fn a_declared_format_that_does_not_match_is_a_finding() {
    let path = testdata("fastq/valid/casava.fastq");
    let output = seqbank(&["validate", "--format", "bam", path_str(&path)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("input.format_mismatch"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn could_not_run_exits_two_with_one_line() {
    for args in [
        vec!["validate", "/no/such/file.fastq"],
        vec!["validate", "--reference", "/no/such/dir", "x.cram"],
        vec!["validate", "/"],
        vec!["validate"],
        vec!["validate", "--format", "vcf", "x"],
    ] {
        let output = seqbank(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert!(!err.trim().is_empty(), "{args:?}");
        if !args.contains(&"--format") && args.len() > 1 {
            assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        }
    }
}

#[test]
fn cram_with_reference_folder_is_valid() {
    let corpora = std::env::var_os("SEQBANK_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora"));
    let cram = corpora.join("hts-specs/test/cram/3.0/passed/0500_mapped.cram");
    if !cram.exists() {
        eprintln!("skipped: {} not found", cram.display());
        return;
    }
    let reference = corpora.join("hts-specs/test/cram");
    let output = seqbank(&[
        "validate",
        "--reference",
        path_str(&reference),
        path_str(&cram),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let output = seqbank(&["validate", path_str(&cram)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("cram.reference_missing"),
        "{}",
        stdout(&output)
    );
}

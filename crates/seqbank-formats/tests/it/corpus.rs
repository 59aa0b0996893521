//! `testdata/<format>/{valid,invalid}/<case>` against `<case>.report`, and the hts-specs files.

use std::{collections::BTreeSet, fs::File, path::Path};

use expect_test::expect_file;
use seqbank_formats::{Code, Config, validate, validate_run};

use crate::support::{corpora, render, render_run, testdata};

fn cases(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut cases: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    cases.retain(|p| p.extension().is_none_or(|e| e != "report"));
    cases.sort();
    cases
}

fn check_file(path: &Path, config: &Config) -> String {
    let mut report = validate(File::open(path).expect("test file"), config).expect("readable");
    report
        .confirm_duplicates(File::open(path).expect("test file"), config)
        .expect("readable");
    let text = render(&report);
    expect_file![format!("{}.report", path.display())].assert_eq(&text);
    text
}

/// Every case of every format; also checks that valid/ cases are valid and invalid/ ones not,
/// and that together they show every finding code except those tested elsewhere.
#[test]
fn testdata_cases_match_their_reports() {
    let config = Config::default();
    let mut seen = String::new();
    for format in ["fastq", "sam", "bam"] {
        for verdict in ["valid", "invalid"] {
            for path in cases(&testdata().join(format).join(verdict)) {
                let text = check_file(&path, &config);
                assert_eq!(
                    text.contains("valid: true"),
                    verdict == "valid",
                    "{} is in {verdict}/ but its report says otherwise",
                    path.display()
                );
                seen.push_str(&text);
            }
        }
    }
    for verdict in ["valid", "invalid"] {
        for dir in cases(&testdata().join("run").join(verdict)) {
            let files = cases(&dir);
            let names: Vec<String> = files
                .iter()
                .map(|p| p.file_name().expect("file").to_string_lossy().into_owned())
                .collect();
            let inputs = names
                .iter()
                .cloned()
                .zip(files.iter().map(|p| File::open(p).expect("test file")))
                .collect();
            let report = validate_run(inputs, &config).expect("readable");
            let text = render_run(&names, &report);
            expect_file![format!("{}.report", dir.display())].assert_eq(&text);
            assert_eq!(report.is_valid(), verdict == "valid", "{}", dir.display());
            seen.push_str(&text);
        }
    }

    // Codes shown by other tests: unit tests in the crate and the corpus test below.
    let elsewhere: BTreeSet<&str> = [
        "fastq.no_reads",
        "fastq.record_too_long",
        "run.too_many_files",
        "cram.reference_missing",
        "input.format_mismatch",
    ]
    .into();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| {
            !elsewhere.contains(c)
                && !seen.contains(&format!(" {c} "))
                && !seen.contains(&format!(" {c}:"))
        })
        .collect();
    assert!(missing.is_empty(), "no testdata case shows {missing:?}");
}

/// The hts-specs conformance files that must pass are accepted: no errors (warnings, e.g. for
/// header-only files or alignments past a reference's end, are allowed).
#[test]
fn hts_specs_passed_files_are_valid() {
    let Some(corpora) = corpora() else { return };
    let test = corpora.join("hts-specs/test");
    let config = Config {
        reference_dir: Some(test.join("cram")),
        ..Config::default()
    };
    let mut checked = 0;
    for dir in ["sam/passed", "bam/passed", "cram/3.0/passed"] {
        for path in cases(&test.join(dir)) {
            let name = path
                .file_name()
                .expect("file")
                .to_string_lossy()
                .into_owned();
            // The CRAM folder also holds each file's expected decoding as SAM: skip those.
            let wanted = if dir.starts_with("cram") {
                ".cram"
            } else {
                &dir[..3]
            };
            if !name.ends_with(wanted) {
                continue;
            }
            let report =
                validate(File::open(&path).expect("corpus file"), &config).expect("readable");
            let errors: Vec<String> = report
                .findings()
                .iter()
                .filter(|f| f.severity().is_error())
                .map(ToString::to_string)
                .collect();
            assert!(errors.is_empty(), "{dir}/{name}: {errors:#?}");
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} corpus files found");
}

/// Without the reference folder a CRAM file names the reference it needs.
#[test]
fn cram_without_reference_names_the_missing_md5() {
    let Some(corpora) = corpora() else { return };
    let path = corpora.join("hts-specs/test/cram/3.0/passed/0500_mapped.cram");
    if !path.exists() {
        eprintln!("skipped: {} not found", path.display());
        return;
    }
    let report =
        validate(File::open(&path).expect("corpus file"), &Config::default()).expect("readable");
    let missing: Vec<_> = report
        .findings()
        .iter()
        .filter(|f| f.code() == "cram.reference_missing")
        .collect();
    assert!(!missing.is_empty(), "{:#?}", report.findings());
    assert!(missing[0].message().contains("M5"), "{}", missing[0]);
    assert!(!report.is_valid());
}

/// `docs/validation-codes.md` lists every code with its severity, meaning and hint; this test
/// regenerates it under `UPDATE_EXPECT=1` and fails when it is out of date.
#[test]
fn the_code_catalogue_page_is_up_to_date() {
    let mut page = String::from(
        "# Validation finding codes\n\n\
         Every finding seqbank's read validation reports has one of these codes. Codes are stable: \
         a code is never renamed or given another meaning. Severity `error` makes the file invalid; \
         `warning` does not. This page is generated from `crates/seqbank-formats/src/code.rs` by \
         `UPDATE_EXPECT=1 cargo test -p seqbank-formats`.\n\n\
         | code | severity | meaning | how to fix |\n| --- | --- | --- | --- |\n",
    );
    for code in Code::ALL {
        page.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            code.as_str(),
            code.severity(),
            code.meaning(),
            code.hint().replace('|', "\\|")
        ));
    }
    expect_file![crate::support::repo_root().join("docs/validation-codes.md")].assert_eq(&page);
}

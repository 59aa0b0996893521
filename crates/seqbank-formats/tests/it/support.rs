//! Rendering reports as stable text and finding test inputs.

use std::{
    fmt::Write,
    path::{Path, PathBuf},
};

use seqbank_core::Finding;
use seqbank_formats::{Report, RunReport};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository exists")
}

pub fn testdata() -> PathBuf {
    repo_root().join("testdata")
}

/// `../shared/corpora`, or `SEQBANK_CORPORA`; `None` (with a printed reason) when absent.
pub fn corpora() -> Option<PathBuf> {
    let path = std::env::var_os("SEQBANK_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpora"));
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!(
            "skipped: corpora not found at {} (set SEQBANK_CORPORA)",
            path.display()
        );
        None
    }
}

fn render_findings(
    out: &mut String,
    findings: &[Finding],
    omitted: &std::collections::BTreeMap<String, u64>,
) {
    for finding in findings {
        writeln!(out, "  {finding}").expect("string");
    }
    for (code, n) in omitted {
        writeln!(out, "  ({n} more {code})").expect("string");
    }
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "format: {} ({})",
        report.format().as_str(),
        report.compression().as_str()
    )
    .expect("string");
    writeln!(out, "size: {}", report.size()).expect("string");
    if let Some(md5) = report.md5() {
        writeln!(out, "md5: {md5}").expect("string");
    }
    writeln!(out, "valid: {}", report.is_valid()).expect("string");
    if let Some(s) = report.stats() {
        writeln!(
            out,
            "stats: reads={} bases={} length={}-{} mean={:.2} gc={:.2} n={:.2} q20={:.2} q30={:.2} mean_quality={:.2} encoding={} style={} platform={}",
            s.reads(),
            s.bases(),
            s.min_length(),
            s.max_length(),
            s.mean_length(),
            s.gc_percent(),
            s.n_percent(),
            s.q20_percent(),
            s.q30_percent(),
            s.mean_quality(),
            s.quality_encoding().map_or("-", |e| e.as_str()),
            s.name_style().unwrap_or("-"),
            s.platform().unwrap_or("-"),
        )
        .expect("string");
        let ids = |v: Vec<&str>| {
            if v.is_empty() {
                "-".to_owned()
            } else {
                v.join(",")
            }
        };
        writeln!(
            out,
            "ids: instruments={} runs={} flowcells={}",
            ids(s.instruments().collect()),
            ids(s.runs().collect()),
            ids(s.flowcells().collect())
        )
        .expect("string");
        if let (Some(mapped), Some(paired)) = (s.mapped(), s.paired()) {
            writeln!(out, "alignments: mapped={mapped} paired={paired}").expect("string");
        }
    }
    writeln!(out, "findings:").expect("string");
    render_findings(&mut out, report.findings(), report.omitted());
    out
}

pub fn render_run(names: &[String], report: &RunReport) -> String {
    let mut out = String::new();
    for (name, file) in names.iter().zip(report.files()) {
        writeln!(out, "== {name}").expect("string");
        out.push_str(&render(file));
    }
    writeln!(out, "== run: valid={}", report.is_valid()).expect("string");
    render_findings(&mut out, report.findings(), report.omitted());
    out
}

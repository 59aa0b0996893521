//! The validation report as JSON: the shape `seqbank validate --json` prints and the archive
//! stores for every uploaded file.

use seqbank_core::Finding;
use serde_json::{Value, json};

use crate::{Report, RunReport};

/// Version of the JSON report's shape; bumped when fields change meaning.
pub const REPORT_VERSION: u64 = 1;

fn round(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

/// A finding as JSON.
pub fn finding_json(finding: &Finding) -> Value {
    json!({
        "code": finding.code(),
        "severity": finding.severity().as_str(),
        "message": finding.message(),
        "hint": finding.hint(),
        "line": finding.line(),
        "record": finding.record(),
        "offset": finding.offset(),
    })
}

/// One file's report as JSON, labelled with its path or name.
pub fn file_json(label: &str, report: &Report) -> Value {
    let stats = report.stats().map(|s| {
        json!({
            "reads": s.reads(),
            "bases": s.bases(),
            "min_length": s.min_length(),
            "max_length": s.max_length(),
            "mean_length": round(s.mean_length(), 2),
            "length_histogram": s.length_histogram().iter().map(|&(from, to, n)| json!([from, to, n])).collect::<Vec<_>>(),
            "gc_percent": round(s.gc_percent(), 2),
            "n_percent": round(s.n_percent(), 3),
            "q20_percent": round(s.q20_percent(), 2),
            "q30_percent": round(s.q30_percent(), 2),
            "mean_quality": round(s.mean_quality(), 2),
            "quality_encoding": s.quality_encoding().map(|e| e.as_str()),
            "name_style": s.name_style(),
            "platform": s.platform(),
            "instruments": s.instruments().collect::<Vec<_>>(),
            "runs": s.runs().collect::<Vec<_>>(),
            "flowcells": s.flowcells().collect::<Vec<_>>(),
            "mapped": s.mapped(),
            "paired": s.paired(),
        })
    });
    json!({
        "path": label,
        "format": report.format().as_str(),
        "compression": report.compression().as_str(),
        "size": report.size(),
        "md5": report.md5().map(|m| m.to_string()),
        "sha256": report.sha256().map(|s| s.to_string()),
        "valid": report.is_valid(),
        "stats": stats,
        "findings": report.findings().iter().map(finding_json).collect::<Vec<_>>(),
        "omitted_findings": report.omitted(),
    })
}

/// A run's report as JSON; `labels` name the files in order.
pub fn run_json(labels: &[String], report: &RunReport) -> Value {
    json!({
        "seqbank_report_version": REPORT_VERSION,
        "valid": report.is_valid(),
        "files": labels.iter().zip(report.files()).map(|(l, r)| file_json(l, r)).collect::<Vec<_>>(),
        "run": {
            "findings": report.findings().iter().map(finding_json).collect::<Vec<_>>(),
            "omitted_findings": report.omitted(),
        },
    })
}

//! The real dump heads and INSDC examples in the shared corpora, read record by record.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use seqbank_mirror::{Item, MirrorRecord, Source, read_path};

fn corpora() -> Option<PathBuf> {
    let dir = std::env::var_os("SEQBANK_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
        });
    if dir.join("ncbi-metadata").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: no corpora at {} (set SEQBANK_CORPORA)",
            dir.display()
        );
        None
    }
}

fn all(source: Source, path: &std::path::Path) -> (Vec<MirrorRecord>, Vec<String>) {
    let mut records = Vec::new();
    let mut skipped = Vec::new();
    for item in read_path(source, path).unwrap() {
        match item.unwrap() {
            Item::Record(r) => records.push(*r),
            Item::Skipped(s) => skipped.push(s.to_string()),
        }
    }
    (records, skipped)
}

#[test]
fn the_biosample_head_reads_every_record_with_its_fields() {
    let Some(dir) = corpora() else { return };
    let (records, skipped) = all(
        Source::Biosample,
        &dir.join("ncbi-metadata/biosample_set.head.xml.gz"),
    );
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(records.len(), 10);
    let first = &records[0];
    assert_eq!(first.accession, "SAMN00000002");
    assert_eq!(first.kind, "sample");
    assert_eq!(first.origin, "NCBI");
    assert_eq!(first.title, "Alistipes putredinis DSM 17216");
    assert_eq!(first.tax_id, Some(445970));
    assert_eq!(first.status.as_deref(), Some("live"));
    assert_eq!(
        first.last_update.as_deref(),
        Some("2022-09-25T02:00:02.729")
    );
    assert!(
        first
            .attributes
            .contains(&("host".into(), "Homo sapiens".into()))
    );
    assert!(first.links.contains(&"SRS000002".to_owned()));
    assert!(first.raw.starts_with("<BioSample ") && first.raw.ends_with("</BioSample>"));
}

#[test]
fn the_bioproject_head_reads_projects_with_organism_and_links() {
    let Some(dir) = corpora() else { return };
    let (records, skipped) = all(
        Source::Bioproject,
        &dir.join("ncbi-metadata/bioproject.head.xml"),
    );
    assert!(skipped.is_empty(), "{skipped:?}");
    assert!(records.len() >= 10, "{}", records.len());
    let first = &records[0];
    assert_eq!(first.accession, "PRJNA3");
    assert_eq!(first.title, "Causes Lyme disease");
    assert_eq!(
        first.organism.as_deref(),
        Some("Borreliella burgdorferi B31")
    );
    assert_eq!(first.tax_id, Some(224326));
    assert!(
        first
            .description
            .as_deref()
            .unwrap()
            .contains("Lyme-disease tick isolate")
    );
    assert!(first.links.contains(&"PRJNA19847".to_owned()));
    assert!(
        first
            .attributes
            .contains(&("pubmed".into(), "14731275".into()))
    );
}

#[test]
fn every_insdc_example_reads() {
    let Some(dir) = corpora() else { return };
    let examples = dir.join("insdc-xml/examples");
    let (records, skipped) = all(Source::Sra, &examples);
    assert!(skipped.is_empty(), "{skipped:?}");
    let files = std::fs::read_dir(&examples).unwrap().count();
    assert!(
        records.len() >= files,
        "{} records from {files} files",
        records.len()
    );
    let find = |acc: &str| {
        records
            .iter()
            .find(|r| r.accession == acc)
            .unwrap_or_else(|| panic!("{acc}"))
    };
    let experiment = find("ERX000119");
    assert_eq!(experiment.kind, "experiment");
    assert_eq!(experiment.origin, "ENA");
    assert!(experiment.links.contains(&"SRP000031".to_owned()));
    assert!(experiment.library_strategy.is_some());
    let sample = find("SRS001433");
    assert_eq!(sample.organism.as_deref(), Some("Homo sapiens"));
    assert!(
        sample
            .attributes
            .contains(&("population".into(), "CHB".into()))
    );
    assert!(sample.links.contains(&"SAMN00000985".to_owned()));
    assert_eq!(find("SRP000539").kind, "project");
    assert_eq!(find("PRJNA294609").kind, "project");
    assert_eq!(find("ERZ266973").kind, "analysis");
    assert_eq!(find("ERA521986").kind, "submission");
    let receipt = find("PRJEB44969");
    assert_eq!(receipt.status.as_deref(), Some("unpublished"));
    assert!(receipt.status_only);
}

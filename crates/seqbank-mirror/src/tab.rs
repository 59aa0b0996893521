//! Tab-separated dumps: `SRA_Accessions.tab` and `assembly_summary_*.txt`.

use std::io::{BufRead, BufReader, Read};

use crate::{Error, Item, MirrorRecord, Skip, open_stream, origin_of, read_error, xml};

/// Which table.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Accessions,
    Assembly,
}

/// Columns of `SRA_Accessions.tab`.
const ACCESSIONS: &[&str] = &[
    "Accession",
    "Submission",
    "Status",
    "Updated",
    "Published",
    "Received",
    "Type",
    "Center",
    "Visibility",
    "Alias",
    "Experiment",
    "Sample",
    "Study",
    "Loaded",
    "Spots",
    "Bases",
    "Md5sum",
    "BioSample",
    "BioProject",
    "ReplacedBy",
];

/// The 20 columns of the old assembly summaries.
const ASSEMBLY_20: &[&str] = &[
    "assembly_accession",
    "bioproject",
    "biosample",
    "wgs_master",
    "refseq_category",
    "taxid",
    "species_taxid",
    "organism_name",
    "infraspecific_name",
    "isolate",
    "version_status",
    "assembly_level",
    "release_type",
    "genome_rep",
    "seq_rel_date",
    "asm_name",
    "submitter",
    "gbrs_paired_asm",
    "paired_asm_comp",
    "ftp_path",
];

/// The 38 columns of the current assembly summaries.
const ASSEMBLY_38: &[&str] = &[
    "assembly_accession",
    "bioproject",
    "biosample",
    "wgs_master",
    "refseq_category",
    "taxid",
    "species_taxid",
    "organism_name",
    "infraspecific_name",
    "isolate",
    "version_status",
    "assembly_level",
    "release_type",
    "genome_rep",
    "seq_rel_date",
    "asm_name",
    "asm_submitter",
    "gbrs_paired_asm",
    "paired_asm_comp",
    "ftp_path",
    "excluded_from_refseq",
    "relation_to_type_material",
    "asm_not_live_date",
    "assembly_type",
    "group",
    "genome_size",
    "genome_size_ungapped",
    "gc_percent",
    "replicon_count",
    "scaffold_count",
    "contig_count",
    "annotation_provider",
    "annotation_name",
    "annotation_date",
    "total_gene_count",
    "protein_coding_gene_count",
    "non_coding_gene_count",
    "pubmed_id",
];

pub(crate) struct Lines {
    input: BufReader<Box<dyn Read + Send>>,
    file: String,
    kind: Kind,
    columns: Vec<String>,
    line: u64,
    offset: u64,
    number: u64,
    buf: Vec<u8>,
    failed: bool,
}

fn wrong(file: &str, message: String) -> Error {
    Error::WrongFile {
        file: file.to_owned(),
        message,
    }
}

pub(crate) fn read(input: Box<dyn Read + Send>, name: &str, kind: Kind) -> Result<Lines, Error> {
    let (stream, head) = open_stream(input, name)?;
    if head.is_empty() {
        return Err(wrong(name, "the file is empty".into()));
    }
    if head.contains(&0) || head.starts_with(b"<") {
        return Err(wrong(
            name,
            "this is not a tab-separated text file (binary data or XML)".into(),
        ));
    }
    let mut input = BufReader::with_capacity(
        1 << 20,
        Box::new(std::io::Cursor::new(head).chain(stream)) as Box<dyn Read + Send>,
    );
    let mut lines = Lines {
        input: BufReader::new(Box::new(std::io::empty())),
        file: name.to_owned(),
        kind,
        columns: Vec::new(),
        line: 0,
        offset: 0,
        number: 0,
        buf: Vec::new(),
        failed: false,
    };
    // Find the header: the first line for the accessions table; the last `#` line for
    // assembly summaries (or none, in which case the column count decides).
    let mut pending = Vec::new();
    loop {
        pending.clear();
        let n = input
            .read_until(b'\n', &mut pending)
            .map_err(|e| read_error(name, lines.offset, &e))?;
        if n == 0 {
            break;
        }
        let text = xml::decode(&pending)
            .trim_end_matches(['\n', '\r'])
            .to_owned();
        match kind {
            Kind::Accessions => {
                lines.line += 1;
                lines.offset += n as u64;
                let cols: Vec<String> = text.split('\t').map(str::to_owned).collect();
                if cols.first().map(String::as_str) != Some("Accession")
                    || !cols.iter().any(|c| c == "Status")
                {
                    return Err(wrong(
                        name,
                        format!(
                            "expected the SRA_Accessions.tab header ({} …), found {:?}",
                            ACCESSIONS[..4].join(", "),
                            text.chars().take(80).collect::<String>()
                        ),
                    ));
                }
                lines.columns = cols;
                pending.clear();
                break;
            }
            Kind::Assembly => {
                if let Some(comment) = text.strip_prefix('#') {
                    lines.line += 1;
                    lines.offset += n as u64;
                    let comment = comment.trim_start();
                    if comment.starts_with("assembly_accession") {
                        lines.columns = comment.split('\t').map(str::to_owned).collect();
                    }
                    continue;
                }
                if lines.columns.is_empty() {
                    let count = text.split('\t').count();
                    let known = match count {
                        20 => ASSEMBLY_20,
                        38 => ASSEMBLY_38,
                        _ => {
                            return Err(wrong(
                                name,
                                format!(
                                    "expected an assembly summary (a '# assembly_accession' header, or 20 or 38 columns), found {count} columns"
                                ),
                            ));
                        }
                    };
                    lines.columns = known.iter().map(|c| (*c).to_owned()).collect();
                }
                if !text.starts_with("GC") {
                    return Err(wrong(
                        name,
                        format!(
                            "expected assembly accessions (GCA_…, GCF_…), found {:?}",
                            text.chars().take(40).collect::<String>()
                        ),
                    ));
                }
                break;
            }
        }
    }
    if lines.columns.is_empty() {
        return Err(wrong(name, "no header line and no records".into()));
    }
    lines.buf = pending;
    lines.input = input;
    Ok(lines)
}

impl Iterator for Lines {
    type Item = Result<Item, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            if self.buf.is_empty() {
                match self.input.read_until(b'\n', &mut self.buf) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(read_error(&self.file, self.offset, &e)));
                    }
                }
            }
            let bytes = std::mem::take(&mut self.buf);
            self.line += 1;
            let offset = self.offset;
            self.offset += bytes.len() as u64;
            let text = xml::decode(&bytes);
            let text = text.trim_end_matches(['\n', '\r']);
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            self.number += 1;
            let fields: Vec<&str> = text.split('\t').collect();
            let skip = |reason: String| Skip {
                record: self.number,
                file: self.file.clone(),
                offset,
                line: self.line,
                accession: fields.first().map(|a| (*a).to_owned()),
                reason,
            };
            if fields.len() != self.columns.len() {
                return Some(Ok(Item::Skipped(skip(format!(
                    "{} columns where the header has {}",
                    fields.len(),
                    self.columns.len()
                )))));
            }
            let row: Vec<(&str, &str)> = self
                .columns
                .iter()
                .map(String::as_str)
                .zip(fields.iter().copied())
                .collect();
            let mapped = match self.kind {
                Kind::Accessions => accession_row(&row),
                Kind::Assembly => assembly_row(&row),
            };
            return Some(Ok(match mapped {
                Ok(mut record) => {
                    let raw: serde_json::Map<String, serde_json::Value> = row
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                        .collect();
                    record.raw = serde_json::Value::Object(raw).to_string();
                    Item::Record(Box::new(record))
                }
                Err(e) => Item::Skipped(skip(e)),
            }));
        }
    }
}

fn get<'a>(row: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    row.iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && *v != "-" && *v != "na")
}

/// `2020-01-02T03:04:05Z`, `2020/01/02` or `2020-01-02 03:04:05` as an ISO date-time prefix.
fn iso(date: &str) -> String {
    date.replace('/', "-").replacen(' ', "T", 1)
}

fn accession_row(row: &[(&str, &str)]) -> Result<MirrorRecord, String> {
    let accession = get(row, "Accession").ok_or("no Accession")?;
    let kind = match get(row, "Type").unwrap_or("") {
        "STUDY" => "project",
        "SAMPLE" => "sample",
        "EXPERIMENT" => "experiment",
        "RUN" => "run",
        "ANALYSIS" => "analysis",
        "SUBMISSION" => "submission",
        other => return Err(format!("unknown Type {other:?}")),
    };
    let mut record = MirrorRecord {
        accession: accession.to_owned(),
        kind,
        origin: origin_of(accession),
        status: Some(get(row, "Status").unwrap_or("live").to_lowercase()),
        last_update: get(row, "Updated").map(iso),
        published: get(row, "Published").map(iso),
        submitted: get(row, "Received").map(iso),
        title: accession.to_owned(),
        replaced_by: get(row, "ReplacedBy").map(str::to_owned),
        status_only: true,
        ..MirrorRecord::default()
    };
    for column in [
        "Submission",
        "Experiment",
        "Sample",
        "Study",
        "BioSample",
        "BioProject",
    ] {
        if let Some(other) = get(row, column)
            && other != accession
        {
            record.links.push(other.to_owned());
        }
    }
    for (column, tag) in [
        ("Visibility", "visibility"),
        ("Center", "center_name"),
        ("Alias", "alias"),
        ("Spots", "spots"),
        ("Bases", "bases"),
        ("Md5sum", "md5"),
    ] {
        if let Some(v) = get(row, column) {
            record.attributes.push((tag.to_owned(), v.to_owned()));
        }
    }
    Ok(record)
}

fn assembly_row(row: &[(&str, &str)]) -> Result<MirrorRecord, String> {
    let accession = get(row, "assembly_accession").ok_or("no assembly_accession")?;
    if !accession.starts_with("GC") {
        return Err(format!("{accession:?} is not an assembly accession"));
    }
    let status = match get(row, "version_status") {
        Some("replaced") => "replaced",
        Some("suppressed") => "suppressed",
        _ => "live",
    };
    let organism = get(row, "organism_name").map(str::to_owned);
    let name = get(row, "asm_name").unwrap_or(accession);
    let released = get(row, "seq_rel_date").map(iso);
    let mut record = MirrorRecord {
        accession: accession.to_owned(),
        kind: "assembly",
        origin: origin_of(accession),
        status: Some(status.to_owned()),
        title: match &organism {
            Some(o) => format!("{o} {name}"),
            None => name.to_owned(),
        },
        organism,
        tax_id: get(row, "taxid").and_then(|t| t.parse().ok()),
        last_update: get(row, "annotation_date")
            .map(iso)
            .or_else(|| released.clone()),
        published: released,
        ..MirrorRecord::default()
    };
    for column in ["bioproject", "biosample", "gbrs_paired_asm"] {
        if let Some(other) = get(row, column) {
            record.links.push(other.to_owned());
        }
    }
    const MAPPED: &[&str] = &[
        "assembly_accession",
        "bioproject",
        "biosample",
        "gbrs_paired_asm",
        "taxid",
        "organism_name",
        "version_status",
        "seq_rel_date",
    ];
    for (column, value) in row {
        let value = value.trim();
        if !MAPPED.contains(column) && !matches!(value, "" | "-" | "na") {
            record
                .attributes
                .push(((*column).to_owned(), value.to_owned()));
        }
    }
    Ok(record)
}

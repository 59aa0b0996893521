//! Spreadsheets: batch submission from TSV or XLSX, and the templates to fill in.
//!
//! A workbook has up to four sheets, `projects`, `samples`, `experiments` and `runs`; a TSV file
//! is one sheet, named by its first line (`#seqbank:samples`, which templates carry) or by the
//! caller. The first row that is not a comment is the header. Lines starting with `#` are comments,
//! except a row whose first cell is `#units`, which gives the unit of each column below it.
//! In `samples`, every column that is not a fixed one is an attribute.
//! Places are named as `sheet!CELL`, e.g. `samples!D7`.

use std::{collections::BTreeMap, io::Cursor};

use seqbank_core::ObjectKind;

use crate::{
    Attribute, Batch, Checklist, Experiment, Finding, Library, Organism, ParseError, Project,
    Publication, Run, RunFile, Sample, checklist::Requirement,
};

/// A batch read from a spreadsheet, with the cell each field came from.
#[derive(Debug, Default)]
pub struct SheetBatch {
    /// The objects.
    pub batch: Batch,
    cells: BTreeMap<String, String>,
}

impl SheetBatch {
    /// Returns the cell a field path came from (`samples[2].attributes.collection_date` → `samples!D5`),
    /// or the row of the object when the field has no column.
    pub fn cell_of(&self, path: &str) -> Option<&str> {
        let mut key = path;
        loop {
            if let Some(cell) = self.cells.get(key) {
                return Some(cell);
            }
            let cut = key.rfind(['.', '['])?;
            key = &key[..cut];
        }
    }

    /// Rewrites the paths of findings to cells.
    pub fn locate(&self, findings: &mut [Finding]) {
        for finding in findings {
            if let Some(cell) = self.cell_of(&finding.path) {
                finding.path = format!("{cell} ({})", finding.path);
            }
        }
    }
}

const FIXED_SAMPLE_COLUMNS: &[&str] = &[
    "alias",
    "title",
    "description",
    "taxon_id",
    "scientific_name",
    "checklist",
    "project",
];
const PROJECT_COLUMNS: &[&str] = &[
    "alias",
    "title",
    "description",
    "type",
    "relevance",
    "taxon_id",
    "scientific_name",
    "umbrella",
    "pmid",
    "doi",
];
const EXPERIMENT_COLUMNS: &[&str] = &[
    "alias",
    "title",
    "project",
    "sample",
    "library_name",
    "library_strategy",
    "library_source",
    "library_selection",
    "library_layout",
    "insert_size",
    "library_construction_protocol",
    "platform",
    "instrument_model",
    "design_description",
];
const MAX_RUN_FILES: usize = 10;

/// Reads a TSV sheet. `sheet` names its kind when the file does not (`samples`).
pub fn read_tsv(text: &[u8], sheet: Option<&str>) -> Result<SheetBatch, ParseError> {
    let text = std::str::from_utf8(text).map_err(|e| {
        ParseError::new(
            format!("byte {}", e.valid_up_to()),
            "the file is not UTF-8 text",
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows: Vec<Vec<String>> = text
        .lines()
        .map(|line| {
            line.strip_suffix('\r')
                .unwrap_or(line)
                .split('\t')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    let named = rows
        .first()
        .and_then(|r| r.first())
        .and_then(|c| c.strip_prefix("#seqbank:"))
        .map(|s| s.split_whitespace().next().unwrap_or("").to_owned());
    let name = named.as_deref().or(sheet).ok_or_else(|| {
        ParseError::new("line 1", "name the sheet: start the file with '#seqbank:samples' (or projects, experiments, runs), as templates do")
    })?;
    let mut out = SheetBatch::default();
    read_sheet(name, &rows, &mut out)?;
    Ok(out)
}

/// Reads an XLSX workbook; sheets other than `projects`, `samples`, `experiments` and `runs` are ignored.
pub fn read_xlsx(bytes: &[u8]) -> Result<SheetBatch, ParseError> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| ParseError::new("workbook", format!("not a readable XLSX workbook: {e}")))?;
    let mut out = SheetBatch::default();
    let mut seen = false;
    for name in workbook.sheet_names() {
        if ObjectKind::from_plural(&name).is_none() {
            continue;
        }
        seen = true;
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| ParseError::new(name.as_str(), format!("cannot read sheet: {e}")))?;
        // Rows are numbered from the sheet's first row, which calamine may skip when empty.
        let first_row = range.start().map_or(0, |(row, _)| row as usize);
        let first_col = range.start().map_or(0, |(_, col)| col as usize);
        let mut rows: Vec<Vec<String>> = vec![Vec::new(); first_row];
        for row in range.rows() {
            let mut cells = vec![String::new(); first_col];
            cells.extend(row.iter().map(|cell| match cell {
                Data::Empty => String::new(),
                Data::String(s) => s.trim().to_owned(),
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                Data::Float(f) => f.to_string(),
                Data::Int(i) => i.to_string(),
                Data::Bool(b) => b.to_string(),
                Data::DateTime(d) => excel_date(d.as_f64()),
                Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                Data::Error(e) => format!("#ERROR {e:?}"),
            }));
            rows.push(cells);
        }
        read_sheet(&name, &rows, &mut out)?;
    }
    if !seen {
        return Err(ParseError::new(
            "workbook",
            "no sheet named projects, samples, experiments or runs",
        ));
    }
    Ok(out)
}

/// Formats an Excel serial date (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> String {
    let epoch = jiff::civil::date(1899, 12, 30);
    match epoch.checked_add(jiff::Span::new().days(serial.floor() as i64)) {
        Ok(date) => date.to_string(),
        Err(_) => serial.to_string(),
    }
}

/// Returns the spreadsheet name of a 0-based column (0 → A, 26 → AA).
pub fn column_name(mut idx: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (idx % 26) as u8);
        if idx < 26 {
            break;
        }
        idx = idx / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII letters")
}

struct Row<'a> {
    sheet: &'a str,
    number: usize,
    cells: &'a [String],
    header: &'a [String],
    units: &'a [String],
}

impl Row<'_> {
    fn cell(&self, column: &str) -> String {
        let idx = self
            .header
            .iter()
            .position(|h| h == column)
            .unwrap_or(self.header.len());
        format!("{}!{}{}", self.sheet, column_name(idx), self.number)
    }

    fn get(&self, column: &str) -> Option<&str> {
        let idx = self.header.iter().position(|h| h == column)?;
        self.cells
            .get(idx)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    fn text(&self, column: &str) -> String {
        self.get(column).unwrap_or_default().to_owned()
    }

    fn required(&self, column: &str) -> Result<String, ParseError> {
        self.get(column)
            .map(str::to_owned)
            .ok_or_else(|| ParseError::new(self.cell(column), format!("{column} is empty")))
    }

    fn number<T: std::str::FromStr>(&self, column: &str) -> Result<Option<T>, ParseError> {
        match self.get(column) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ParseError::new(
                    self.cell(column),
                    format!("{column} {v:?} is not a whole number"),
                )
            }),
        }
    }
}

fn read_sheet(name: &str, rows: &[Vec<String>], out: &mut SheetBatch) -> Result<(), ParseError> {
    let kind = ObjectKind::from_plural(name).ok_or_else(|| {
        ParseError::new(
            name,
            format!("unknown sheet {name:?}; use projects, samples, experiments or runs"),
        )
    })?;
    let is_comment = |row: &Vec<String>| {
        row.first()
            .is_some_and(|c| c.starts_with('#') && c != "#units")
    };
    let is_blank = |row: &Vec<String>| row.iter().all(String::is_empty);
    let Some(header_idx) = rows.iter().position(|r| !is_comment(r) && !is_blank(r)) else {
        return Err(ParseError::new(
            format!("{name}!A1"),
            "the sheet has no header row",
        ));
    };
    let header: Vec<String> = rows[header_idx]
        .iter()
        .map(|h| crate::checklist::normalize_tag(h))
        .collect();
    for required in ["alias"] {
        if !header.iter().any(|h| h == required) {
            return Err(ParseError::new(
                format!("{name}!A{}", header_idx + 1),
                format!("the header has no {required} column"),
            ));
        }
    }
    let mut units: Vec<String> = Vec::new();
    for (idx, cells) in rows.iter().enumerate().skip(header_idx + 1) {
        if cells.first().is_some_and(|c| c == "#units") {
            units = cells.clone();
            continue;
        }
        if is_comment(cells) || is_blank(cells) {
            continue;
        }
        if cells.len() > header.len() && cells[header.len()..].iter().any(|c| !c.is_empty()) {
            return Err(ParseError::new(
                format!("{name}!{}{}", column_name(header.len()), idx + 1),
                "a value in a column without a header",
            ));
        }
        let row = Row {
            sheet: name,
            number: idx + 1,
            cells,
            header: &header,
            units: &units,
        };
        read_row(kind, &row, out)?;
    }
    Ok(())
}

fn read_row(kind: ObjectKind, row: &Row<'_>, out: &mut SheetBatch) -> Result<(), ParseError> {
    let batch = &mut out.batch;
    let (prefix, columns): (String, Vec<(String, String)>) = match kind {
        ObjectKind::Project => {
            let organism = match (row.number::<u64>("taxon_id")?, row.get("scientific_name")) {
                (Some(taxon_id), Some(name)) => Some(Organism {
                    taxon_id,
                    scientific_name: name.to_owned(),
                }),
                (None, None) => None,
                _ => {
                    return Err(ParseError::new(
                        row.cell("taxon_id"),
                        "give both taxon_id and scientific_name, or neither",
                    ));
                }
            };
            let mut publications: Vec<Publication> = split_list(row.get("pmid"))
                .map(|p| Publication {
                    pmid: Some(p),
                    doi: None,
                })
                .collect();
            publications.extend(split_list(row.get("doi")).map(|d| Publication {
                pmid: None,
                doi: Some(d),
            }));
            batch.projects.push(Project {
                alias: row.required("alias")?,
                title: row.text("title"),
                description: row.text("description"),
                project_type: row.get("type").map(str::to_owned),
                relevance: row.get("relevance").map(str::to_owned),
                organism,
                grants: Vec::new(),
                publications,
                umbrella: row.get("umbrella").map(str::to_owned),
                external_ids: Vec::new(),
                attributes: extra_attributes(row, PROJECT_COLUMNS),
            });
            let prefix = format!("projects[{}]", batch.projects.len() - 1);
            (
                prefix,
                PROJECT_COLUMNS
                    .iter()
                    .map(|c| (c.to_string(), c.to_string()))
                    .collect(),
            )
        }
        ObjectKind::Sample => {
            let taxon_id = row
                .number::<u64>("taxon_id")?
                .ok_or_else(|| ParseError::new(row.cell("taxon_id"), "taxon_id is empty"))?;
            let attributes = extra_attributes(row, FIXED_SAMPLE_COLUMNS);
            batch.samples.push(Sample {
                alias: row.required("alias")?,
                title: row.text("title"),
                description: row.get("description").map(str::to_owned),
                organism: Organism {
                    taxon_id,
                    scientific_name: row.text("scientific_name"),
                },
                checklist: row.get("checklist").unwrap_or("generic").to_owned(),
                project: row.get("project").map(str::to_owned),
                external_ids: Vec::new(),
                attributes,
            });
            let prefix = format!("samples[{}]", batch.samples.len() - 1);
            let mut columns: Vec<(String, String)> = vec![
                ("organism.taxon_id".into(), "taxon_id".into()),
                ("organism.scientific_name".into(), "scientific_name".into()),
            ];
            columns.extend(
                ["alias", "title", "description", "checklist", "project"]
                    .iter()
                    .map(|c| (c.to_string(), c.to_string())),
            );
            for column in row
                .header
                .iter()
                .filter(|h| !FIXED_SAMPLE_COLUMNS.contains(&h.as_str()))
            {
                columns.push((format!("attributes.{column}"), column.clone()));
            }
            (prefix, columns)
        }
        ObjectKind::Experiment => {
            batch.experiments.push(Experiment {
                alias: row.required("alias")?,
                title: row.text("title"),
                project: row.get("project").map(str::to_owned),
                sample: row.required("sample")?,
                library: Library {
                    name: row.get("library_name").map(str::to_owned),
                    strategy: row.required("library_strategy")?,
                    source: row.required("library_source")?,
                    selection: row.required("library_selection")?,
                    layout: row.required("library_layout")?.to_ascii_uppercase(),
                    insert_size: row.number("insert_size")?,
                    insert_size_sd: None,
                    construction_protocol: row
                        .get("library_construction_protocol")
                        .map(str::to_owned),
                },
                platform: row.required("platform")?,
                instrument_model: row.required("instrument_model")?,
                design_description: row.get("design_description").map(str::to_owned),
                external_ids: Vec::new(),
                attributes: extra_attributes(row, EXPERIMENT_COLUMNS),
            });
            let prefix = format!("experiments[{}]", batch.experiments.len() - 1);
            let columns = EXPERIMENT_COLUMNS
                .iter()
                .map(|c| {
                    let path = match *c {
                        "library_name" => "library.name".to_owned(),
                        "library_construction_protocol" => {
                            "library.construction_protocol".to_owned()
                        }
                        c if c.starts_with("library_") => format!("library.{}", &c[8..]),
                        "insert_size" => "library.insert_size".to_owned(),
                        c => c.to_owned(),
                    };
                    (path, c.to_string())
                })
                .collect();
            (prefix, columns)
        }
        ObjectKind::Run => {
            let mut files = Vec::new();
            let mut columns: Vec<(String, String)> = vec![
                ("alias".into(), "alias".into()),
                ("experiment".into(), "experiment".into()),
            ];
            for n in 1..=MAX_RUN_FILES {
                let name_col = format!("file_{n}");
                let Some(name) = row.get(&name_col) else {
                    continue;
                };
                let md5_col = format!("file_{n}_md5");
                let file_type = row
                    .get("file_type")
                    .map(str::to_owned)
                    .unwrap_or_else(|| guess_file_type(name).to_owned());
                let idx = files.len();
                files.push(RunFile {
                    name: name.to_owned(),
                    file_type,
                    md5: row.text(&md5_col),
                    read_type: None,
                });
                columns.push((format!("files[{idx}].name"), name_col));
                columns.push((format!("files[{idx}].md5"), md5_col));
                columns.push((format!("files[{idx}].type"), "file_type".into()));
            }
            batch.runs.push(Run {
                alias: row.required("alias")?,
                title: row.get("title").map(str::to_owned),
                experiment: row.required("experiment")?,
                files,
                external_ids: Vec::new(),
                attributes: BTreeMap::new(),
            });
            let prefix = format!("runs[{}]", batch.runs.len() - 1);
            columns.push(("files".into(), "file_1".into()));
            (prefix, columns)
        }
    };
    out.cells
        .insert(prefix.clone(), format!("{}!A{}", row.sheet, row.number));
    for (path, column) in columns {
        out.cells
            .insert(format!("{prefix}.{path}"), row.cell(&column));
    }
    Ok(())
}

fn split_list(value: Option<&str>) -> impl Iterator<Item = String> + '_ {
    value
        .into_iter()
        .flat_map(|v| v.split([';', ',']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn extra_attributes(row: &Row<'_>, fixed: &[&str]) -> BTreeMap<String, Attribute> {
    let mut attributes = BTreeMap::new();
    for (idx, column) in row.header.iter().enumerate() {
        if fixed.contains(&column.as_str()) || column.is_empty() {
            continue;
        }
        let Some(value) = row.cells.get(idx).filter(|v| !v.is_empty()) else {
            continue;
        };
        let unit = row
            .units
            .get(idx)
            .filter(|u| !u.is_empty() && *u != "#units")
            .cloned();
        attributes.insert(
            column.clone(),
            Attribute {
                value: value.clone(),
                unit,
            },
        );
    }
    attributes
}

fn guess_file_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".bam") {
        "bam"
    } else if lower.ends_with(".cram") {
        "cram"
    } else {
        "fastq"
    }
}

/// Returns the columns of a sheet: (name, requirement, unit choices, description).
pub fn template_columns(
    kind: ObjectKind,
    checklist: &Checklist,
) -> Vec<(String, Requirement, Vec<String>, String)> {
    let fixed =
        |names: &[(&str, Requirement, &str)]| -> Vec<(String, Requirement, Vec<String>, String)> {
            names
                .iter()
                .map(|(n, r, d)| (n.to_string(), *r, Vec::new(), d.to_string()))
                .collect()
        };
    use Requirement::{Mandatory as M, Optional as O, Recommended as R};
    match kind {
        ObjectKind::Project => fixed(&[
            ("alias", M, "your unique name for the project"),
            ("title", M, "descriptive title"),
            ("description", M, "what the project is about"),
            ("type", O, "e.g. Genome sequencing"),
            (
                "relevance",
                O,
                "Agricultural, Medical, Industrial, Environmental, Evolution, Model organism, Other",
            ),
            ("taxon_id", O, "NCBI taxonomy id of the organism studied"),
            (
                "scientific_name",
                O,
                "scientific name of the organism studied",
            ),
            ("umbrella", O, "alias or accession of an umbrella project"),
            ("pmid", O, "PubMed ids, separated by ;"),
            ("doi", O, "DOIs, separated by ;"),
        ]),
        ObjectKind::Sample => {
            let mut columns = fixed(&[
                ("alias", M, "your unique name for the sample"),
                ("title", M, "descriptive title"),
                ("description", O, "free text"),
                ("taxon_id", M, "NCBI taxonomy id, e.g. 9606"),
                ("scientific_name", M, "scientific name, e.g. Homo sapiens"),
                ("checklist", M, "checklist name"),
                ("project", O, "alias or accession of the project"),
            ]);
            columns.extend(checklist.fields.iter().map(|f| {
                (
                    f.name.clone(),
                    f.requirement,
                    f.units.clone(),
                    f.description.clone(),
                )
            }));
            columns
        }
        ObjectKind::Experiment => fixed(&[
            ("alias", M, "your unique name for the experiment"),
            ("title", M, "descriptive title"),
            ("project", O, "alias or accession of the project"),
            ("sample", M, "alias or accession of the sample"),
            ("library_name", O, "library name"),
            (
                "library_strategy",
                M,
                "INSDC library strategy, e.g. WGS, RNA-Seq, AMPLICON",
            ),
            (
                "library_source",
                M,
                "INSDC library source, e.g. GENOMIC, TRANSCRIPTOMIC, METAGENOMIC",
            ),
            (
                "library_selection",
                M,
                "INSDC library selection, e.g. RANDOM, PCR, PolyA",
            ),
            ("library_layout", M, "SINGLE or PAIRED"),
            ("insert_size", R, "nominal insert size in bp (paired)"),
            ("library_construction_protocol", O, "protocol"),
            (
                "platform",
                M,
                "INSDC platform, e.g. ILLUMINA, OXFORD_NANOPORE",
            ),
            (
                "instrument_model",
                M,
                "INSDC instrument model, e.g. Illumina NovaSeq 6000",
            ),
            ("design_description", O, "design"),
        ]),
        ObjectKind::Run => fixed(&[
            ("alias", M, "your unique name for the run"),
            ("title", O, "title"),
            ("experiment", M, "alias or accession of the experiment"),
            (
                "file_type",
                O,
                "fastq, bam or cram (guessed from the file name when empty)",
            ),
            ("file_1", M, "first file name"),
            ("file_1_md5", M, "MD5 of the first file"),
            ("file_2", O, "second file name (paired libraries)"),
            ("file_2_md5", O, "MD5 of the second file"),
        ]),
    }
}

/// Writes a TSV template for a sheet.
pub fn template_tsv(kind: ObjectKind, checklist: &Checklist) -> String {
    let columns = template_columns(kind, checklist);
    let mut out = format!("#seqbank:{} checklist={}\n", kind.plural(), checklist.name);
    for (name, requirement, units, description) in &columns {
        let units = if units.is_empty() {
            String::new()
        } else {
            format!(" [units: {}]", units.join(", "))
        };
        out.push_str(&format!(
            "# {name} ({}): {description}{units}\n",
            requirement.as_str()
        ));
    }
    out.push_str(
        &columns
            .iter()
            .map(|c| c.0.as_str())
            .collect::<Vec<_>>()
            .join("\t"),
    );
    out.push('\n');
    if columns.iter().any(|c| !c.2.is_empty()) {
        let units: Vec<&str> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    "#units"
                } else {
                    c.2.first().map_or("", String::as_str)
                }
            })
            .collect();
        out.push_str(&units.join("\t"));
        out.push('\n');
    }
    out
}

/// Writes an XLSX template with the four sheets, samples following `checklist`.
pub fn template_xlsx(checklist: &Checklist) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Note, Workbook};
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let mandatory = Format::new()
        .set_bold()
        .set_font_color(rust_xlsxwriter::Color::Red);
    for kind in ObjectKind::ALL {
        let sheet = workbook.add_worksheet();
        sheet.set_name(kind.plural())?;
        let columns = template_columns(*kind, checklist);
        let has_units = columns.iter().any(|c| !c.2.is_empty());
        for (col, (name, requirement, units, description)) in columns.iter().enumerate() {
            let col = u16::try_from(col).expect("templates have few columns");
            let format = if *requirement == Requirement::Mandatory {
                &mandatory
            } else {
                &bold
            };
            sheet.write_string_with_format(0, col, name, format)?;
            sheet.insert_note(
                0,
                col,
                &Note::new(format!("{} — {description}", requirement.as_str())),
            )?;
            if has_units {
                let unit = if col == 0 {
                    "#units"
                } else {
                    units.first().map_or("", String::as_str)
                };
                sheet.write_string(1, col, unit)?;
            }
            sheet.set_column_width(col, 18)?;
        }
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_rows_become_objects_and_cells() {
        let tsv = "#seqbank:samples\nalias\ttitle\ttaxon_id\tscientific_name\tchecklist\tcollection_date\tgeo_loc_name\tage\n#units\t\t\t\t\t\t\tyears\ns1\tA\t9606\tHomo sapiens\thuman\t2020\tChina\t40\n\ns2\tB\t9606\tHomo sapiens\thuman\tyesterday\tChina\t41\n";
        let sheet = read_tsv(tsv.as_bytes(), None).unwrap();
        assert_eq!(sheet.batch.samples.len(), 2);
        assert_eq!(
            sheet.batch.samples[1].attributes["age"],
            Attribute {
                value: "41".into(),
                unit: Some("years".into())
            }
        );
        assert_eq!(
            sheet.cell_of("samples[1].attributes.collection_date"),
            Some("samples!F6")
        );
        assert_eq!(
            sheet.cell_of("samples[1].organism.taxon_id"),
            Some("samples!C6")
        );
        assert_eq!(
            sheet.cell_of("samples[0].attributes.unknown_thing"),
            Some("samples!A4")
        );
    }

    #[test]
    fn tsv_errors_name_the_cell() {
        let tsv = "alias\ttitle\ttaxon_id\tscientific_name\ns1\tA\tnine\tHomo sapiens\n";
        let err = read_tsv(tsv.as_bytes(), Some("samples")).unwrap_err();
        assert_eq!(err.path, "samples!C2");
        let err = read_tsv(b"alias\n", None).unwrap_err();
        assert_eq!(err.path, "line 1");
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(27), "AB");
    }

    #[test]
    fn filled_workbooks_read_with_cells() {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.set_name("samples").unwrap();
        for (col, name) in [
            "alias",
            "title",
            "taxon_id",
            "scientific_name",
            "collection_date",
            "geo_loc_name",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(0, col as u16, *name).unwrap();
        }
        for row in 1..=3u32 {
            sheet.write_string(row, 0, format!("s{row}")).unwrap();
            sheet.write_string(row, 1, "Soil").unwrap();
            sheet.write_number(row, 2, 410658.0).unwrap();
            sheet.write_string(row, 3, "soil metagenome").unwrap();
            sheet.write_string(row, 5, "Kenya").unwrap();
        }
        // A date typed into Excel is a serial number with a date format.
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 5, 17).unwrap();
        let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet
            .write_datetime_with_format(3, 4, &date, &format)
            .unwrap();
        let bytes = workbook.save_to_buffer().unwrap();
        let read = read_xlsx(&bytes).unwrap();
        assert_eq!(read.batch.samples.len(), 3);
        assert_eq!(read.batch.samples[0].organism.taxon_id, 410658);
        assert_eq!(
            read.batch.samples[2].attributes["collection_date"].value,
            "2024-05-17"
        );
        assert_eq!(
            read.cell_of("samples[2].attributes.collection_date"),
            Some("samples!E4")
        );
        assert!(read_xlsx(b"PK\x03\x04 not really").is_err());
    }

    #[test]
    fn templates_read_back() {
        let checklist = Checklist::get("human").unwrap();
        let tsv = template_tsv(ObjectKind::Sample, checklist);
        let sheet = read_tsv(tsv.as_bytes(), None).unwrap();
        assert!(sheet.batch.is_empty());
        let xlsx = template_xlsx(checklist).unwrap();
        let sheet = read_xlsx(&xlsx).unwrap();
        assert!(sheet.batch.is_empty());
    }
}

//! The fields a query may name and a result may return: the catalogue behind `searchFields` and
//! `returnFields`.

use serde::Serialize;

/// How a field is matched.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Words, stemmed: `title:carcinoma`, `title:"bone marrow"`, `title:carcin*`.
    Text,
    /// One whole value, case-insensitive: `organism:"Homo sapiens"`, `platform:illumina`.
    Keyword,
    /// A whole number, exact or a range: `tax_id:9606`, `tax_id:[9600 TO 9700]`.
    Number,
    /// A date, exact or a range of days, months or years: `released:[2020 TO 2023]`.
    Date,
}

/// One field of the catalogue.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FieldInfo {
    /// Name used in queries and results.
    pub name: &'static str,
    /// How it is matched.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Whether a query may name it.
    pub searchable: bool,
    /// Whether facet counts can be asked for it.
    pub facet: bool,
    /// What it holds.
    pub description: &'static str,
}

const fn field(
    name: &'static str,
    kind: FieldType,
    searchable: bool,
    facet: bool,
    description: &'static str,
) -> FieldInfo {
    FieldInfo {
        name,
        kind,
        searchable,
        facet,
        description,
    }
}

use FieldType::{Date, Keyword, Number, Text};

/// Every named field, in the order results list them. Sample attributes are searchable too, by
/// their tag (`tissue:liver`), and returned under `attributes`.
pub const FIELDS: &[FieldInfo] = &[
    field(
        "accession",
        Keyword,
        true,
        false,
        "Accession (PRJ…, SAM…, SRX…, SRR…, or the archive's own prefixes).",
    ),
    field(
        "type",
        Keyword,
        true,
        true,
        "Object type: project, sample, experiment or run.",
    ),
    field(
        "source",
        Keyword,
        true,
        true,
        "Where the record comes from: seqbank for this center's own, or the archive it was mirrored from (NCBI, ENA, DDBJ).",
    ),
    field("title", Text, true, false, "Title."),
    field("description", Text, true, false, "Description or abstract."),
    field(
        "text",
        Text,
        true,
        false,
        "Every word of the record: title, organism, attributes, description, library and platform. Words without a field search here.",
    ),
    field(
        "organism",
        Keyword,
        true,
        true,
        "Scientific name of the organism, whole (experiments and runs carry their sample's).",
    ),
    field(
        "tax_id",
        Number,
        true,
        false,
        "NCBI Taxonomy id of the organism.",
    ),
    field(
        "platform",
        Keyword,
        true,
        true,
        "Sequencing platform (ILLUMINA, OXFORD_NANOPORE, PACBIO_SMRT, …).",
    ),
    field(
        "instrument",
        Keyword,
        true,
        false,
        "Instrument model (Illumina NovaSeq 6000, …).",
    ),
    field(
        "library_strategy",
        Keyword,
        true,
        true,
        "Library strategy (WGS, RNA-Seq, AMPLICON, …).",
    ),
    field(
        "library_source",
        Keyword,
        true,
        true,
        "Library source (GENOMIC, TRANSCRIPTOMIC, METAGENOMIC, …).",
    ),
    field(
        "library_selection",
        Keyword,
        true,
        false,
        "Library selection (RANDOM, PCR, PolyA, …).",
    ),
    field(
        "library_layout",
        Keyword,
        true,
        true,
        "Library layout: PAIRED or SINGLE.",
    ),
    field(
        "status",
        Keyword,
        true,
        true,
        "Lifecycle state (public; draft, submitted, in_review, approved for their owners and curators).",
    ),
    field(
        "access",
        Keyword,
        true,
        true,
        "Who may see the record: public, or private (its owner and curators).",
    ),
    field(
        "submitted",
        Date,
        true,
        false,
        "Date the record was created or first submitted.",
    ),
    field(
        "released",
        Date,
        true,
        false,
        "Date the record was made public.",
    ),
    field(
        "updated",
        Date,
        true,
        false,
        "Date the record last changed.",
    ),
    field(
        "year",
        Number,
        true,
        true,
        "Year of release, or of submission for records not yet released.",
    ),
    field(
        "linked",
        Keyword,
        true,
        false,
        "Accessions of related records: a run's experiment, sample and project, a project's samples, …",
    ),
    field(
        "attributes",
        Text,
        false,
        false,
        "Attributes as tag: value (search one with its tag as the field: `tissue:liver`).",
    ),
];

/// Returns the catalogue entry of a named field.
pub fn lookup(name: &str) -> Option<&'static FieldInfo> {
    FIELDS.iter().find(|f| f.name == name)
}

/// Names a result may return: the catalogue plus `score`.
pub fn returnable(name: &str) -> bool {
    name == "score" || lookup(name).is_some_and(|f| f.name != "text")
}

/// Normalizes an attribute tag the way both documents and queries use it.
pub fn normalize_tag(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len());
    push_tag(&mut out, tag, '_');
    out
}

/// Appends `tag` as [`normalize_tag`] makes it, with `between` in place of its underscores.
pub(crate) fn push_tag(out: &mut String, tag: &str, between: char) {
    for c in tag.trim().chars() {
        out.push(if c.is_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            between
        });
    }
}

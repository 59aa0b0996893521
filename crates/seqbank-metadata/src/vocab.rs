//! INSDC controlled vocabularies, embedded from `vocab/` (written by `vocab/make.py` from the SRA XML schemas).

use std::sync::OnceLock;

/// A closed list of terms.
#[derive(Debug)]
pub struct Vocabulary {
    name: &'static str,
    terms: Vec<&'static str>,
}

impl Vocabulary {
    fn from_lines(name: &'static str, text: &'static str) -> Self {
        let terms = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        Self { name, terms }
    }

    /// Returns the vocabulary's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Returns the terms.
    pub fn terms(&self) -> &[&'static str] {
        &self.terms
    }

    /// Returns whether `term` is in the list, exactly.
    pub fn contains(&self, term: &str) -> bool {
        self.terms.contains(&term)
    }

    /// Returns the term that equals `term` ignoring case, spaces, `-` and `_`, to suggest a fix.
    pub fn suggest(&self, term: &str) -> Option<&'static str> {
        let wanted = fold(term);
        self.terms.iter().copied().find(|t| fold(t) == wanted)
    }
}

fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

macro_rules! vocabulary {
    ($fn:ident, $name:literal, $file:literal) => {
        /// Returns the vocabulary of this name.
        pub fn $fn() -> &'static Vocabulary {
            static CELL: OnceLock<Vocabulary> = OnceLock::new();
            CELL.get_or_init(|| {
                Vocabulary::from_lines($name, include_str!(concat!("../vocab/", $file)))
            })
        }
    };
}

vocabulary!(library_strategy, "library strategy", "library_strategy.txt");
vocabulary!(library_source, "library source", "library_source.txt");
vocabulary!(
    library_selection,
    "library selection",
    "library_selection.txt"
);
vocabulary!(country, "country", "country.txt");

/// Returns the vocabulary named in a checklist (`country`).
pub fn by_name(name: &str) -> Option<&'static Vocabulary> {
    match name {
        "country" => Some(country()),
        "library_strategy" => Some(library_strategy()),
        "library_source" => Some(library_source()),
        "library_selection" => Some(library_selection()),
        _ => None,
    }
}

/// Library layouts.
pub const LAYOUTS: &[&str] = &["SINGLE", "PAIRED"];

/// Run file types seqbank validates record by record.
pub const RUN_FILE_TYPES: &[&str] = &["fastq", "bam", "cram"];

/// Other run file types of the INSDC SRA schema (`SRA.run.xsd`), archived without content checks.
pub const LEGACY_RUN_FILE_TYPES: &[&str] = &[
    "sra",
    "srf",
    "sff",
    "fasta",
    "tab",
    "454_native",
    "454_native_seq",
    "454_native_qual",
    "Helicos_native",
    "Illumina_native",
    "Illumina_native_seq",
    "Illumina_native_prb",
    "Illumina_native_int",
    "Illumina_native_qseq",
    "Illumina_native_scarf",
    "SOLiD_native",
    "SOLiD_native_csfasta",
    "SOLiD_native_qual",
    "PacBio_HDF5",
    "CompleteGenomics_native",
    "OxfordNanopore_native",
];

/// The INSDC missing-value terms, accepted in place of a mandatory value.
pub const MISSING_VALUE_TERMS: &[&str] = &[
    "not applicable",
    "not collected",
    "not provided",
    "restricted access",
    "missing",
    "missing: control sample",
    "missing: sample group",
    "missing: synthetic construct",
    "missing: lab stock",
    "missing: third party data",
    "missing: data agreement established pre-2023",
    "missing: endangered species",
    "missing: human-identifiable",
];

/// Placeholders submitters write for "no value" that are not INSDC terms.
pub const PLACEHOLDERS: &[&str] = &[
    "na", "n/a", "n.a.", "none", "null", "nan", "unknown", "-", "--", "?", "tbd", ".",
];

/// Platform and instrument model pairs.
pub fn instruments() -> &'static [(&'static str, &'static str)] {
    static CELL: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    CELL.get_or_init(|| {
        include_str!("../vocab/instrument_model.tsv")
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .collect()
    })
}

/// Returns whether `platform` is an INSDC platform name.
pub fn is_platform(platform: &str) -> bool {
    instruments().iter().any(|(p, _)| *p == platform)
}

/// Returns the platforms an instrument model belongs to.
pub fn platforms_of(model: &str) -> Vec<&'static str> {
    instruments()
        .iter()
        .filter(|(_, m)| *m == model)
        .map(|(p, _)| *p)
        .collect()
}

/// Returns the scientific name of a taxon id among the organisms seqbank knows, and the id of a name.
pub fn taxonomy() -> &'static [(u64, &'static str)] {
    static CELL: OnceLock<Vec<(u64, &'static str)>> = OnceLock::new();
    CELL.get_or_init(|| {
        include_str!("../vocab/taxonomy.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|line| {
                let (id, name) = line.split_once('\t')?;
                Some((id.parse().ok()?, name))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_load() {
        assert_eq!(library_strategy().terms().len(), 41);
        assert!(library_source().contains("METAGENOMIC"));
        assert_eq!(library_strategy().suggest("rna-seq"), Some("RNA-Seq"));
        assert!(country().contains("Viet Nam"));
        assert_eq!(platforms_of("Illumina NovaSeq 6000"), vec!["ILLUMINA"]);
        assert!(
            taxonomy()
                .iter()
                .any(|(id, name)| *id == 9606 && *name == "Homo sapiens")
        );
    }
}

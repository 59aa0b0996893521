//! Metadata objects of seqbank and the rules they follow.
//!
//! This crate describes what a submitter sends: [`Batch`]es of projects, samples, experiments and
//! runs, read from JSON ([`parse_json`]), spreadsheets ([`sheet`]) or INSDC SRA XML ([`sraxml`]),
//! and checked by [`validate::validate_batch`] against [`Checklist`]s and the INSDC vocabularies.
//! Problems are [`Finding`]s with a stable code and the path of the field (`samples[3].attributes.collection_date`)
//! or the spreadsheet cell (`samples!D7`). It does no I/O beyond the bytes it is given, and
//! knows nothing of storage or HTTP.
//!
//! # Examples
//!
//! ```
//! use seqbank_metadata::{Batch, validate};
//!
//! let batch: Batch = seqbank_metadata::parse_json(br#"{"samples": [{
//!     "alias": "s1", "title": "Soil core 1", "checklist": "environmental",
//!     "organism": {"taxon_id": 410658, "scientific_name": "soil metagenome"},
//!     "attributes": {"collection_date": "2031-01-01", "geo_loc_name": "Kenya"}
//! }]}"#)?;
//! let today = "2026-11-21".parse()?;
//! let findings = validate::validate_batch(&batch, &validate::Context::new(today));
//! assert!(findings.iter().any(|f| f.code == "sample.date_in_future"));
//! assert!(findings.iter().any(|f| f.path == "samples[0].attributes.lat_lon"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod checklist;
mod finding;
pub mod insdc_xml;
mod model;
pub mod sheet;
pub mod sraxml;
pub mod validate;
pub mod vocab;

pub use self::{
    checklist::Checklist,
    finding::Finding,
    model::{
        Attribute, Attributes, Batch, Experiment, Grant, Library, Object, Organism, Project,
        Publication, Run, RunFile, Sample,
    },
};

/// A document that could not be read: where, and what was wrong.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Field path (`samples[2].library.layout`) or place (`line 7`, `samples!D7`).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl ParseError {
    /// Creates an error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Parses a JSON document, naming the field path of the first error.
pub fn parse_json<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, ParseError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let path = if path == "." { String::new() } else { path };
        if inner.is_syntax() || inner.is_eof() {
            ParseError::new(
                format!("line {} column {}", inner.line(), inner.column()),
                format!("malformed JSON: {}", strip_position(&inner.to_string())),
            )
        } else {
            ParseError::new(path, strip_position(&inner.to_string()))
        }
    })?;
    deserializer.end().map_err(|e| {
        ParseError::new(
            format!("line {} column {}", e.line(), e.column()),
            "malformed JSON: trailing characters",
        )
    })?;
    Ok(value)
}

/// Removes serde_json's " at line L column C" suffix, which our path already replaces.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(idx) => message[..idx].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_documented() {
        let doc = include_str!("../../../docs/metadata-codes.md");
        let sources = [
            include_str!("validate.rs"),
            include_str!("../../seqbank-service/src/service.rs"),
            include_str!("../../seqbank-service/src/files.rs"),
        ];
        let mut n_codes = 0;
        for source in sources {
            for (idx, _) in source.match_indices("Finding::") {
                let rest = &source[idx..];
                let Some(start) = rest.find('"') else {
                    continue;
                };
                let code: String = rest[start + 1..]
                    .chars()
                    .take_while(|c| *c != '"')
                    .collect();
                if code.contains('.') && !code.contains(' ') {
                    assert!(
                        doc.contains(&format!("| `{code}` |")),
                        "{code} is not in docs/metadata-codes.md"
                    );
                    n_codes += 1;
                }
            }
        }
        assert!(n_codes >= 40, "found only {n_codes} codes");
    }

    #[test]
    fn json_errors_name_the_field() {
        let err = parse_json::<Batch>(br#"{"samples": [{"alias": "a", "title": "t", "organism": {"taxon_id": "x", "scientific_name": "y"}}]}"#)
            .unwrap_err();
        assert_eq!(err.path, "samples[0].organism.taxon_id");
        assert!(
            err.message.starts_with("invalid type: string"),
            "{}",
            err.message
        );

        let err =
            parse_json::<Batch>(br#"{"runs": [{"alias": "a", "experiment": "e", "colour": 1}]}"#)
                .unwrap_err();
        assert_eq!(err.path, "runs[0].colour");
        assert!(
            err.message.contains("unknown field `colour`"),
            "{}",
            err.message
        );

        let err = parse_json::<Batch>(b"{\"projects\": [\n{\"alias\": }]}").unwrap_err();
        assert_eq!(err.path, "line 2 column 11");
        assert!(err.message.starts_with("malformed JSON"));
    }
}

//! seqbank's search index.
//!
//! One [tantivy] index holds every record the archive can show: projects, samples, experiments
//! and runs, the center's own and those mirrored from other archives. A [`Record`] is what goes
//! in; [`SearchIndex::search`] takes a [`Request`] in seqbank's query language (documented in
//! `docs/search.md`) and a [`Viewer`], and returns ranked hits with a total count, facet counts
//! and a cursor for the next page. Records a viewer may not see are filtered inside the index
//! query, so they never reach hits, counts or facets.
//!
//! The index is derived state: the metastore is the truth, and the service layer rebuilds or
//! follows it. This crate knows tantivy and nothing about SQL, HTTP or async runtimes.

mod collect;
mod doc;
mod fields;
mod index;
mod query;
mod record;
mod words;

pub use fields::{FIELDS, FieldInfo, FieldType};
pub use index::{
    DEFAULT_FIELDS, DEFAULT_LIMIT, Facet, FacetValue, Hit, IndexStats, MAX_LIMIT, Request,
    Response, SearchIndex, Sort, Viewer, Writer, tsv_cell,
};
pub use record::Record;

/// What can go wrong in the search index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The query or another parameter of the request is malformed; the message says where.
    #[error("{message}")]
    BadQuery {
        /// The request parameter at fault: query, limit, cursor, fields, facets, result, sort.
        parameter: &'static str,
        /// What is wrong, and where in the query.
        message: String,
    },
    /// The index could not be read or written.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A stored document could not be decoded.
    #[error("search index: stored record is not valid JSON: {0}")]
    Stored(#[from] serde_json::Error),
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn bad(message: impl Into<String>) -> Error {
    bad_param("query", message)
}

pub(crate) fn bad_param(parameter: &'static str, message: impl Into<String>) -> Error {
    Error::BadQuery {
        parameter,
        message: message.into(),
    }
}

//! The use cases of seqbank: describe, validate, submit, review, accession, hold and release.
//!
//! [`Service`] is what the HTTP server and the command line call. It owns the rules of the
//! lifecycle and asks [`authz`] about every access; it speaks in [`Error`] categories
//! (not found, forbidden, invalid, conflict) that transports map to their own status codes.
//! It knows nothing of HTTP.

pub mod authz;
mod clock;
mod files;
pub mod jobs;
pub mod mirror;
mod mirror_update;
mod portal;
mod search;
mod service;
mod view;

pub use self::{
    authz::Actor,
    clock::Clock,
    files::{FileEntry, FileView, JobView, UploadConfig, UploadView},
    jobs::{Worker, WorkerConfig},
    mirror_update::{MirrorPlan, MirrorSchedule, PlannedDump, dated, fetch, is_url},
    portal::{Holdings, RecordTree, TreeNode},
    search::Progress,
    service::{AccessionConfig, Config, NewSubmission, Page, Service, SheetFormat},
    view::{EventView, FindingView, ObjectView, SubmissionView, UserView},
};

use seqbank_metadata::{Finding, ParseError};
pub use seqbank_metastore::JobKinds;

/// What went wrong, in categories every transport understands.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No credentials where they are needed.
    #[error("sign in first: send an API token as 'Authorization: Bearer TOKEN'")]
    Unauthenticated,
    /// Credentials that do not match any user.
    #[error("the token or password is not valid")]
    BadCredentials,
    /// The actor may see the thing but not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing the actor may see has this name.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The request cannot be read: where and what.
    #[error("{0}")]
    BadRequest(#[from] ParseError),
    /// The request was read but breaks rules; every finding is listed.
    #[error("the metadata has {} errors", .0.iter().filter(|f| f.severity.is_error()).count())]
    Invalid(Vec<Finding>),
    /// The change conflicts with what is stored (an alias taken, a state changed meanwhile).
    #[error("{0}")]
    Conflict(String),
    /// The request is larger than allowed (a file over the size limit, an upload over quota).
    #[error("{0}")]
    TooLarge(String),
    /// The thing existed but is gone for good (an expired or cancelled upload).
    #[error("{0}")]
    Gone(String),
    /// A service this one needs (the object store) failed or cannot be reached; try again later.
    #[error("{0}")]
    Unavailable(String),
    /// Something failed inside.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// A not-found error for a kind of thing.
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(match what {
            "project" => "project",
            "sample" => "sample",
            "experiment" => "experiment",
            "run" => "run",
            "submission" => "submission",
            "user" => "user",
            "upload" => "upload",
            "file" => "file",
            _ => "object",
        })
    }
}

impl From<seqbank_metastore::Error> for Error {
    fn from(e: seqbank_metastore::Error) -> Self {
        use seqbank_metastore::Error as E;
        match e {
            E::NotFound => Self::NotFound("object"),
            E::Conflict(message) => Self::Conflict(message),
            E::StateMismatch {
                what,
                expected,
                actual,
            } => Self::Conflict(format!(
                "the {what} is {actual}; this needs it to be {expected}"
            )),
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<seqbank_storage::Error> for Error {
    fn from(e: seqbank_storage::Error) -> Self {
        match e {
            // The metastore names an object the store lacks: an inconsistency, not the caller's.
            seqbank_storage::Error::NotFound(key) => {
                Self::Internal(format!("the object store has no {key}").into())
            }
            e => Self::Unavailable(e.to_string()),
        }
    }
}

/// Result with the service's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! The metadata store of seqbank: users, submissions, objects, their history, and accession counters.
//!
//! One concrete [`Metastore`] holds either a SQLite or a PostgreSQL pool, chosen by the URL in
//! [`Metastore::connect`]; every query is written once in the SQL both understand, and each
//! backend has its own migrations (`migrations/sqlite`, `migrations/postgres`) for the schema.
//! Every method that changes state is one transaction: it happens entirely or not at all.
//! Rules (who may do what, which transitions are legal) belong to `seqbank-service`; this crate
//! only stores and checks the preconditions it is given, atomically.
//!
//! # Examples
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use seqbank_core::Role;
//! use seqbank_metastore::Metastore;
//!
//! let store = Metastore::connect("sqlite::memory:").await?;
//! let user = store.create_user("ada", Role::Submitter, None, "2026-11-21T00:00:00Z").await?;
//! let first = store.allocate_accessions("SAMSB", 100_000).await?;
//! assert_eq!((first, store.allocate_accessions("SAMSB", 1).await?), (1, 100_001));
//! assert_eq!(store.user_by_name("ada").await?.map(|u| u.id), Some(user.id));
//! # Ok::<(), seqbank_metastore::Error>(())
//! # }).unwrap();
//! ```

#[macro_use]
mod store;
mod files;
mod mirror;
#[cfg(test)]
mod tests;

pub use self::{files::*, mirror::*, store::*};

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule would be broken (an alias already used, say).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row is not in the state the change requires; someone else changed it first.
    #[error("the {what} is {actual}, not {expected}")]
    StateMismatch {
        /// What was being changed.
        what: &'static str,
        /// The states it had to be in.
        expected: String,
        /// The state it is in.
        actual: String,
    },
    /// The URL names no supported database.
    #[error("unsupported metastore URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The database failed.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// Stored data could not be read back.
    #[error("corrupt data in the metastore: {0}")]
    Corrupt(String),
    /// Migrating the schema failed.
    #[error("could not migrate the metastore schema")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Self::Conflict(db.message().to_owned())
            }
            _ => Self::Database(e),
        }
    }
}

/// Result with the store's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

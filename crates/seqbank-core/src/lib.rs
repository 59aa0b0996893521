//! Shared vocabulary types of seqbank.
//!
//! This crate holds only the types that appear in the public API of two or more seqbank crates:
//! validation [`Finding`]s with their [`Severity`], and the checksums ([`Md5`], [`Sha256`]) that
//! identify archived bytes, the object kinds, lifecycle states and roles of the archive.
//! It does no I/O and knows nothing of formats, storage or HTTP.
//!
//! # Examples
//!
//! ```
//! use seqbank_core::{Finding, Severity};
//!
//! let finding = Finding::new("fastq.quality_length_mismatch", Severity::Error, "quality is shorter than sequence")
//!     .with_record(12)
//!     .with_line(45);
//! assert!(finding.severity().is_error());
//! assert_eq!(finding.to_string(), "error fastq.quality_length_mismatch line 45 record 12: quality is shorter than sequence");
//! ```

mod checksum;
mod finding;
mod object;

pub use self::{
    checksum::{Md5, ParseChecksumError, Sha256},
    finding::{Finding, Severity},
    object::{ObjectKind, Role, Status, UnknownName},
};

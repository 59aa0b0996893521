//! End-to-end tests of the `seqbank` binary.

mod archive;
mod resume;
mod validate;

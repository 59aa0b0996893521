//! End-to-end tests of the `seqbank` binary.

mod archive;
mod browser;
mod resume;
mod validate;

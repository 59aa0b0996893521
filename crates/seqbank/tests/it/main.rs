//! End-to-end tests of the `seqbank` binary.

mod archive;
mod browser;
mod mirror;
mod resume;
mod validate;

//! End-to-end tests of the `seqbank` binary.

mod validate;

//! Data-driven tests: every case under `testdata/` against its `.report`, the hts-specs
//! conformance files, and large generated inputs.
//!
//! `UPDATE_EXPECT=1 cargo test -p seqbank-formats` rewrites the `.report` files.

mod corpus;
mod generated;
mod support;

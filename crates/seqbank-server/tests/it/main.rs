//! REST API tests: the router called without a socket, over a real SQLite metastore (and
//! PostgreSQL for the lifecycle when `SEQBANK_TEST_POSTGRES_URL` is set).

// Integration tests unwrap freely: a panic is how a test reports its failure.
#![allow(clippy::unwrap_used)]

mod authz;
mod input;
mod lifecycle;
mod support;

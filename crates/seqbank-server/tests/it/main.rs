//! REST API tests: the router called without a socket, over a real SQLite metastore (and
//! PostgreSQL for the lifecycle when `SEQBANK_TEST_POSTGRES_URL` is set); files go to a local
//! folder and, when `SEQBANK_TEST_S3_ENDPOINT` is set, to that S3-compatible server.

// Integration tests unwrap freely: a panic is how a test reports its failure.
#![allow(clippy::unwrap_used)]

mod authz;
mod files;
mod input;
mod lifecycle;
mod mirror;
mod search;
mod support;
mod web;

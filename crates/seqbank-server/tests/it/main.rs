//! REST API tests: the router called without a socket, over a real SQLite metastore (and
//! PostgreSQL for the lifecycle when `SEQBANK_TEST_POSTGRES_URL` is set).

mod authz;
mod input;
mod lifecycle;
mod support;

//! One module per subcommand.

pub(crate) mod client;
pub(crate) mod demo;
pub(crate) mod serve;
pub(crate) mod user;
pub(crate) mod validate;

//! One module per subcommand.

pub(crate) mod client;
pub(crate) mod demo;
pub(crate) mod export;
pub(crate) mod fsck;
pub(crate) mod mirror;
pub(crate) mod search;
pub(crate) mod serve;
pub(crate) mod upload;
pub(crate) mod user;
pub(crate) mod validate;
pub(crate) mod worker;

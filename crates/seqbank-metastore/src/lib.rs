//! seqbank-metastore

//! seqbank-server

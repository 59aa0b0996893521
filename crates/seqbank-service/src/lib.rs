//! seqbank-service

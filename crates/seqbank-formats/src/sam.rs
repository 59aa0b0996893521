//! SAM: validation of SAM files (see the alignment checks in the crate docs).

use std::io::{self, Read};

use crate::{Config, Format, Report};

/// Validates a SAM file, whatever its name says.
pub fn validate<R: Read + Send>(reader: R, config: &Config) -> io::Result<Report> {
    crate::validate_as(reader, config, Some(Format::Sam), None, 1, None)
}

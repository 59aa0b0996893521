//! Validation findings: what is wrong with a file or record, where, and how to fix it.

use std::{borrow::Cow, fmt};

/// How serious a finding is.
///
/// An `Error` makes the file (and its submission) invalid; a `Warning` is shown to the submitter
/// but does not stop the submission.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub enum Severity {
    /// The data cannot be archived as it is.
    Error,
    /// The data can be archived, but something looks wrong or unusual.
    Warning,
}

impl Severity {
    /// Returns the lowercase name used in reports (`error`, `warning`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }

    /// Returns whether this is an error.
    pub fn is_error(self) -> bool {
        self == Self::Error
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a validator found: a stable code, a severity, a message and where it is.
///
/// Locations are optional because not every finding has one: `record` and `line` are 1-based,
/// `offset` is a 0-based byte offset into the (uncompressed) stream.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Finding {
    code: Cow<'static, str>,
    severity: Severity,
    message: String,
    hint: Cow<'static, str>,
    line: Option<u64>,
    record: Option<u64>,
    offset: Option<u64>,
}

impl Finding {
    /// Creates a finding with no hint and no location.
    pub fn new(
        code: impl Into<Cow<'static, str>>,
        severity: Severity,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code: code.into(),
            severity,
            message: message.into(),
            hint: Cow::Borrowed(""),
            line: None,
            record: None,
            offset: None,
        }
    }

    /// Sets the fix hint.
    pub fn with_hint(mut self, hint: impl Into<Cow<'static, str>>) -> Self {
        self.hint = hint.into();
        self
    }

    /// Sets the 1-based line number.
    pub fn with_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets the 1-based record number.
    pub fn with_record(mut self, record: u64) -> Self {
        self.record = Some(record);
        self
    }

    /// Sets the 0-based byte offset.
    pub fn with_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// The stable code, e.g. `fastq.quality_length_mismatch`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The message, written for the person who made the file.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How to fix it (may be empty).
    pub fn hint(&self) -> &str {
        &self.hint
    }

    /// The 1-based line number, where it applies.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// The 1-based record number, where it applies.
    pub fn record(&self) -> Option<u64> {
        self.record
    }

    /// The 0-based byte offset, where it applies.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.severity, self.code)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if let Some(record) = self.record {
            write!(f, " record {record}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, " offset {offset}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_every_location() {
        let finding = Finding::new("x.y", Severity::Warning, "odd")
            .with_line(3)
            .with_record(1)
            .with_offset(10);
        assert_eq!(
            finding.to_string(),
            "warning x.y line 3 record 1 offset 10: odd"
        );
        assert!(!finding.severity().is_error());
    }
}

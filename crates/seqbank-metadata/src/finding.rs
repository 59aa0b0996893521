//! Metadata findings: a stable code, a severity, a message and the place.

use seqbank_core::Severity;

/// One problem with submitted metadata.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Finding {
    /// Stable code, e.g. `sample.attribute_missing`; listed in `docs/metadata-codes.md` (a test keeps the list complete).
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in words a submitter can act on.
    pub message: String,
    /// Field path (`samples[3].attributes.collection_date`) or sheet cell (`samples!D7`).
    pub path: String,
}

impl Finding {
    /// Creates an error.
    pub fn error(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            path: path.into(),
        }
    }

    /// Creates a warning.
    pub fn warning(
        code: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity: Severity::Warning,
            message: message.into(),
            path: path.into(),
        }
    }

    /// Returns whether the finding is about something not yet given, which a draft may lack
    /// until it is submitted (a mandatory attribute, a second file), rather than something given
    /// wrongly, which is refused at once.
    pub fn is_deferred(&self) -> bool {
        self.code.ends_with("_missing")
    }
}

//! The archive's object kinds, lifecycle states and user roles.

use std::{fmt, str::FromStr};

/// Defines a string-backed enum with `as_str`, `Display`, `FromStr` and `ALL`.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// Returns the lowercase name used in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownName { what: $what, name: s.to_owned() }),
                }
            }
        }
    };
}

/// A name that is not one of an enum's values.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("unknown {what} {name:?}")]
pub struct UnknownName {
    what: &'static str,
    name: String,
}

string_enum! {
    /// The kinds of metadata object the archive holds.
    ObjectKind, "object kind" {
        /// A research effort (BioProject).
        Project => "project",
        /// A biological source material (BioSample).
        Sample => "sample",
        /// A sequencing library on a platform (SRA experiment).
        Experiment => "experiment",
        /// Files of reads from one experiment (SRA run).
        Run => "run",
    }
}

impl ObjectKind {
    /// Returns the plural used in URLs and batch documents (`projects`, `samples`, …).
    pub fn plural(self) -> &'static str {
        match self {
            Self::Project => "projects",
            Self::Sample => "samples",
            Self::Experiment => "experiments",
            Self::Run => "runs",
        }
    }

    /// Parses the plural form.
    pub fn from_plural(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.plural() == s)
    }
}

string_enum! {
    /// Where a submission or an object is in its life.
    ///
    /// A submission moves `draft → submitted → in_review | returned → approved`; its objects
    /// follow it until approval, then each lives on its own: `private` (accessioned, held until its
    /// release date) `→ public`, and `suppressed` or `withdrawn` as tombstones.
    Status, "status" {
        /// Being written; the owner may change anything.
        Draft => "draft",
        /// Sent by the owner; frozen while automatic checks run.
        Submitted => "submitted",
        /// Passed automatic checks; waiting for a curator.
        InReview => "in_review",
        /// Sent back to the owner with findings or a curator's comment; editable again.
        Returned => "returned",
        /// Approved by a curator (used for submissions; their objects become private or public).
        Approved => "approved",
        /// Accessioned, not yet released.
        Private => "private",
        /// Released: anyone may see it.
        Public => "public",
        /// Hidden from listings and search; the accession still resolves to a tombstone.
        Suppressed => "suppressed",
        /// Removed on request or for cause; the accession still resolves to a tombstone.
        Withdrawn => "withdrawn",
    }
}

impl Status {
    /// Returns whether the owner may still edit metadata in place, without a new version.
    pub fn is_editable(self) -> bool {
        matches!(self, Self::Draft | Self::Returned)
    }

    /// Returns whether the object is only a tombstone.
    pub fn is_tombstone(self) -> bool {
        matches!(self, Self::Suppressed | Self::Withdrawn)
    }
}

string_enum! {
    /// What a user may do.
    Role, "role" {
        /// Describes and submits their own data.
        Submitter => "submitter",
        /// Reviews submissions, approves, returns, suppresses and withdraws.
        Curator => "curator",
        /// Everything a curator may do, plus managing users.
        Admin => "admin",
    }
}

impl Role {
    /// Returns whether this role may act as a curator.
    pub fn is_curator(self) -> bool {
        matches!(self, Self::Curator | Self::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(*status));
        }
        for kind in ObjectKind::ALL {
            assert_eq!(ObjectKind::from_plural(kind.plural()), Some(*kind));
        }
        assert!("curators".parse::<Role>().is_err());
    }
}

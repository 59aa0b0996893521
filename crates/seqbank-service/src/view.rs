//! What the service returns about objects and submissions, shaped for the API's JSON.

use seqbank_metastore::{Event, Object, Submission, User};
use serde::Serialize;

use crate::authz::Visibility;

/// A finding as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct FindingView {
    /// Stable code.
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    /// What is wrong.
    pub message: String,
    /// Field path or sheet cell.
    pub path: String,
}

impl From<&seqbank_metadata::Finding> for FindingView {
    fn from(f: &seqbank_metadata::Finding) -> Self {
        Self {
            code: f.code.to_owned(),
            severity: f.severity.as_str().to_owned(),
            message: f.message.clone(),
            path: f.path.clone(),
        }
    }
}

/// An object as the API shows it; fields the viewer may not see are absent.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectView {
    /// Row id (stable, for objects without an accession yet).
    pub id: i64,
    /// Kind.
    pub kind: &'static str,
    /// Accession, once approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accession: Option<String>,
    /// Status.
    pub status: &'static str,
    /// Why it was suppressed or withdrawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// The submitter's alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// Owner's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Submission id (owner and curators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submission_id: Option<i64>,
    /// Release date (owner and curators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_until: Option<String>,
    /// Created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Released.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released_at: Option<String>,
    /// The metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

impl ObjectView {
    /// Shapes an object for a viewer.
    pub fn new(object: &Object, visibility: Visibility) -> Self {
        let tombstone = visibility == Visibility::Tombstone;
        let full = visibility == Visibility::Full;
        let shown = |s: &str| (!tombstone).then(|| s.to_owned());
        Self {
            id: object.id,
            kind: object.kind.as_str(),
            accession: object.accession.clone(),
            status: object.status.as_str(),
            status_reason: object.status_reason.clone(),
            alias: shown(&object.alias),
            title: shown(&object.title),
            version: (!tombstone).then_some(object.version),
            owner: shown(&object.owner),
            submission_id: full.then_some(object.submission_id),
            hold_until: if full {
                object.hold_until.clone()
            } else {
                None
            },
            created_at: shown(&object.created_at),
            updated_at: shown(&object.updated_at),
            released_at: if tombstone {
                None
            } else {
                object.released_at.clone()
            },
            metadata: if tombstone {
                None
            } else {
                serde_json::from_str(&object.body).ok()
            },
        }
    }
}

/// A submission as the API shows it (owner and curators only).
#[derive(Clone, Debug, Serialize)]
pub struct SubmissionView {
    /// Row id, used in URLs.
    pub id: i64,
    /// Alias.
    pub alias: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: &'static str,
    /// Accession once approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accession: Option<String>,
    /// Owner.
    pub owner: String,
    /// Release date of its objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_until: Option<String>,
    /// Findings of the last check.
    pub findings: Vec<FindingView>,
    /// Number of objects per kind.
    pub objects: std::collections::BTreeMap<&'static str, usize>,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

impl SubmissionView {
    /// Shapes a submission.
    pub fn new(submission: &Submission, objects: &[Object]) -> Self {
        let mut counts = std::collections::BTreeMap::new();
        for object in objects {
            *counts.entry(object.kind.plural()).or_insert(0) += 1;
        }
        Self {
            id: submission.id,
            alias: submission.alias.clone(),
            title: submission.title.clone(),
            status: submission.status.as_str(),
            accession: submission.accession.clone(),
            owner: submission.owner.clone(),
            hold_until: submission.hold_until.clone(),
            findings: serde_json::from_str(&submission.findings).unwrap_or_default(),
            objects: counts,
            created_at: submission.created_at.clone(),
            updated_at: submission.updated_at.clone(),
        }
    }
}

/// A recorded change.
#[derive(Clone, Debug, Serialize)]
pub struct EventView {
    /// What happened.
    pub action: String,
    /// State before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// State after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Who (absent for the scheduler).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When.
    pub at: String,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        Self {
            action: e.action,
            from: e.from_status,
            to: e.to_status,
            by: e.actor,
            reason: e.reason,
            at: e.at,
        }
    }
}

/// A user as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct UserView {
    /// Name.
    pub name: String,
    /// Role.
    pub role: &'static str,
    /// Created.
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            name: u.name.clone(),
            role: u.role.as_str(),
            created_at: u.created_at.clone(),
        }
    }
}

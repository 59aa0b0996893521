//! Authorization: every decision about who may see or do what is made here, and nowhere else.
//!
//! The rules: anyone may see public objects and the tombstones of suppressed or withdrawn
//! ones; owners see and edit their own; curators and admins see everything and review; only
//! admins manage users. What a user may not see is reported as not found, never as forbidden,
//! so probing for private accessions learns nothing.

use seqbank_core::{Role, Status};
use seqbank_metastore::{Object, Submission, User};

use crate::Error;

/// Who is asking.
#[derive(Clone, Debug, PartialEq)]
pub enum Actor {
    /// No credentials.
    Anonymous,
    /// A signed-in user.
    User(User),
}

impl Actor {
    /// Returns the user, or `Unauthenticated` for an anonymous actor.
    pub fn user(&self) -> Result<&User, Error> {
        match self {
            Self::User(user) => Ok(user),
            Self::Anonymous => Err(Error::Unauthenticated),
        }
    }

    /// Returns whether the actor is a curator or admin.
    pub fn is_curator(&self) -> bool {
        matches!(self, Self::User(u) if u.role.is_curator())
    }

    fn owns(&self, owner_id: i64) -> bool {
        matches!(self, Self::User(u) if u.id == owner_id)
    }

    fn user_id(&self) -> Option<i64> {
        match self {
            Self::User(u) => Some(u.id),
            Self::Anonymous => None,
        }
    }
}

/// What the actor wants to do.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Action {
    /// Read.
    View,
    /// Change metadata, add objects, submit.
    Edit,
    /// Return or approve a submission.
    Review,
    /// Release an approved object early (owners) or restore a suppressed one (curators).
    Release,
    /// Suppress or withdraw.
    Suppress,
}

/// How much of an object the actor may see.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Visibility {
    /// Everything, including private fields (release date, submission).
    Full,
    /// The public record.
    Public,
    /// Only the tombstone: accession, status and reason.
    Tombstone,
}

/// Decides what the actor may see of an object, or `NotFound`.
pub fn object_visibility(actor: &Actor, object: &Object) -> Result<Visibility, Error> {
    if actor.owns(object.owner_id) || actor.is_curator() {
        return Ok(Visibility::Full);
    }
    match object.status {
        Status::Public => Ok(Visibility::Public),
        status if status.is_tombstone() && object.accession.is_some() => Ok(Visibility::Tombstone),
        _ => Err(Error::not_found(object.kind.as_str())),
    }
}

/// Decides whether the actor may act on an object.
pub fn check_object(actor: &Actor, object: &Object, action: Action) -> Result<Visibility, Error> {
    let visibility = object_visibility(actor, object)?;
    if action == Action::View {
        return Ok(visibility);
    }
    let user = actor.user()?;
    let allowed = match action {
        Action::View => true,
        Action::Edit => actor.owns(object.owner_id) || user.role == Role::Admin,
        Action::Release => actor.owns(object.owner_id) || actor.is_curator(),
        Action::Review | Action::Suppress => actor.is_curator(),
    };
    if allowed {
        Ok(visibility)
    } else {
        Err(Error::Forbidden(format!(
            "you may not {} this {}",
            verb(action),
            object.kind
        )))
    }
}

/// Decides whether the actor may act on a submission; those who may not see it get `NotFound`.
pub fn check_submission(
    actor: &Actor,
    submission: &Submission,
    action: Action,
) -> Result<(), Error> {
    let owner = actor.owns(submission.owner_id);
    if !owner && !actor.is_curator() {
        // Anonymous callers are asked to sign in; other submitters learn nothing.
        return match actor {
            Actor::Anonymous => Err(Error::Unauthenticated),
            Actor::User(_) => Err(Error::not_found("submission")),
        };
    }
    let allowed = match action {
        Action::View => true,
        Action::Edit => owner || matches!(actor, Actor::User(u) if u.role == Role::Admin),
        Action::Review => actor.is_curator(),
        Action::Release | Action::Suppress => actor.is_curator(),
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "you may not {} this submission",
            verb(action)
        )))
    }
}

/// Decides whether the actor may manage users.
pub fn check_admin(actor: &Actor) -> Result<(), Error> {
    match actor {
        Actor::User(u) if u.role == Role::Admin => Ok(()),
        Actor::User(_) => Err(Error::Forbidden("only admins manage users".into())),
        Actor::Anonymous => Err(Error::Unauthenticated),
    }
}

/// Returns which objects the actor may list.
pub fn listing_visibility(actor: &Actor) -> seqbank_metastore::Visibility {
    if actor.is_curator() {
        seqbank_metastore::Visibility::All
    } else {
        match actor.user_id() {
            Some(id) => seqbank_metastore::Visibility::PublicOrOwnedBy(id),
            None => seqbank_metastore::Visibility::Public,
        }
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::View => "view",
        Action::Edit => "edit",
        Action::Review => "review",
        Action::Release => "release",
        Action::Suppress => "suppress or withdraw",
    }
}

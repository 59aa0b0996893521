//! What the web pages need beyond the API's use cases: self-registration, a user's tokens, an
//! object with its whole hierarchy, and what the archive holds.

use seqbank_core::{ObjectKind, Role};
use seqbank_metastore::{Object, TokenInfo};
use serde::Serialize;

use crate::{
    Actor, Error, FileView, ObjectView, Result, Service, UserView,
    authz::{self, Visibility},
    service::{hash_token, new_token},
};

/// How far down a record page follows the hierarchy.
const TREE_LIMIT: usize = 500;

/// An object with where it sits: its parents up to the project, and everything below it.
#[derive(Clone, Debug, Serialize)]
pub struct RecordTree {
    /// The object itself.
    pub object: ObjectView,
    /// Its files, when it is a run the viewer may see.
    pub files: Vec<FileView>,
    /// Ancestors, the project first.
    pub parents: Vec<ObjectView>,
    /// Descendants in depth-first order, each with its depth below the object (1 = child).
    pub children: Vec<TreeNode>,
    /// Whether the descendants were cut at the limit.
    pub truncated: bool,
}

/// One descendant on a record page.
#[derive(Clone, Debug, Serialize)]
pub struct TreeNode {
    /// 1 for a child, 2 for a grandchild, ….
    pub depth: usize,
    /// The object.
    pub object: ObjectView,
    /// Its files (runs).
    pub files: Vec<FileView>,
}

/// What the archive holds, as the viewer may see it.
#[derive(Clone, Debug, Serialize)]
pub struct Holdings {
    /// Archived files of public runs.
    pub files: i64,
    /// Their bytes.
    pub bytes: i64,
}

impl Service {
    /// Creates a submitter account from the sign-up form, when the archive allows it, and returns
    /// a first token.
    pub async fn register(&self, name: &str, password: &str) -> Result<(UserView, String)> {
        if !self.config.open_registration {
            return Err(Error::Forbidden(
                "this archive does not take sign-ups: ask its administrators for an account".into(),
            ));
        }
        if password.chars().count() < 8 {
            return Err(
                seqbank_metadata::ParseError::new("password", "use at least 8 characters").into(),
            );
        }
        self.create_user_unchecked(name, Role::Submitter, Some(password))
            .await
    }

    /// Signs out: forgets the token.
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        self.store.delete_token_hash(&hash_token(token)).await?;
        Ok(())
    }

    /// Lists the caller's API tokens (labels and dates only).
    pub async fn tokens(&self, actor: &Actor) -> Result<Vec<TokenInfo>> {
        let user = actor.user()?;
        Ok(self.store.tokens(user.id).await?)
    }

    /// Makes a new API token for the caller; it is shown only now.
    pub async fn create_token(&self, actor: &Actor, label: &str) -> Result<String> {
        let user = actor.user()?;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(seqbank_metadata::ParseError::new(
                "label",
                "name the token (1–100 characters), e.g. 'laptop upload script'",
            )
            .into());
        }
        let token = new_token()?;
        self.store
            .add_token(user.id, &hash_token(&token), label, &self.clock.now_text())
            .await?;
        Ok(token)
    }

    /// Revokes one of the caller's tokens.
    pub async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<()> {
        let user = actor.user()?;
        if self.store.delete_token(user.id, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("object"))
        }
    }

    /// Counts the public archived files and bytes.
    pub async fn holdings(&self) -> Result<Holdings> {
        let (files, bytes) = self.store.public_file_totals().await?;
        Ok(Holdings { files, bytes })
    }

    /// Returns an object with its parents and descendants that the actor may see, and the files
    /// of every run among them.
    pub async fn record_tree(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        key: &str,
    ) -> Result<RecordTree> {
        let (object, visibility) = self
            .load_object(actor, kind, key, authz::Action::View)
            .await?;
        let view = ObjectView::new(&object, visibility);
        if visibility == Visibility::Tombstone {
            return Ok(RecordTree {
                object: view,
                files: Vec::new(),
                parents: Vec::new(),
                children: Vec::new(),
                truncated: false,
            });
        }
        let files = self.visible_files(actor, &object).await?;
        let mut parents = Vec::new();
        let mut current = object.id;
        while let Some(parent) = self.visible_links(actor, current, true).await?.pop() {
            current = parent.0.id;
            parents.push(ObjectView::new(&parent.0, parent.1));
            if parents.len() > 8 {
                break;
            }
        }
        parents.reverse();
        let mut children = Vec::new();
        let mut stack: Vec<(usize, i64)> = vec![(0, object.id)];
        let mut truncated = false;
        while let Some((depth, id)) = stack.pop() {
            let below = self.visible_links(actor, id, false).await?;
            for (child, visibility) in below {
                if children.len() >= TREE_LIMIT {
                    truncated = true;
                    break;
                }
                let files = if visibility == Visibility::Tombstone {
                    Vec::new()
                } else {
                    self.visible_files(actor, &child).await?
                };
                stack.push((depth + 1, child.id));
                children.push((depth + 1, id, child, visibility, files));
            }
        }
        let children = order_tree(children, object.id);
        Ok(RecordTree {
            object: view,
            files,
            parents,
            children,
            truncated,
        })
    }

    async fn visible_links(
        &self,
        actor: &Actor,
        id: i64,
        upwards: bool,
    ) -> Result<Vec<(Object, Visibility)>> {
        let ids = if upwards {
            self.store.links_from(id).await?
        } else {
            self.store.links_to(id).await?
        };
        let mut out = Vec::new();
        for id in ids {
            let object = match self.store.object(id).await {
                Ok(o) => o,
                Err(seqbank_metastore::Error::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            if let Ok(visibility) = authz::object_visibility(actor, &object) {
                out.push((object, visibility));
            }
        }
        Ok(out)
    }

    pub(crate) async fn visible_files(
        &self,
        actor: &Actor,
        object: &Object,
    ) -> Result<Vec<FileView>> {
        if object.kind != ObjectKind::Run || (object.status.is_tombstone() && !actor.is_curator()) {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .files_of_run(object.id)
            .await?
            .iter()
            .map(FileView::from)
            .collect())
    }
}

/// A descendant as found: depth, the object it was found under, itself, what the viewer may see,
/// its files.
type Found = (usize, i64, Object, Visibility, Vec<FileView>);

/// Lists found descendants as a tree: each node followed by its own descendants, siblings by id.
fn order_tree(found: Vec<Found>, root: i64) -> Vec<TreeNode> {
    let mut by_parent: std::collections::HashMap<i64, Vec<Found>> = Default::default();
    for node in found {
        by_parent.entry(node.1).or_default().push(node);
    }
    for list in by_parent.values_mut() {
        list.sort_by_key(|node| std::cmp::Reverse(node.2.id));
    }
    let mut out = Vec::new();
    // Children are sorted descending, so popping from their end yields ascending ids.
    let mut pending: Vec<Found> = by_parent.remove(&root).unwrap_or_default();
    while let Some((depth, _, object, visibility, files)) = pending.pop() {
        let id = object.id;
        out.push(TreeNode {
            depth,
            object: ObjectView::new(&object, visibility),
            files,
        });
        if let Some(below) = by_parent.remove(&id) {
            pending.extend(below);
        }
    }
    out
}

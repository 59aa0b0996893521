//! Search: the index follows the metastore's change feed, and every search is filtered by what
//! the caller may see.
//!
//! Each process keeps its own index (a folder, or memory) and applies the feed itself, so any
//! number of servers can each hold a replica without coordinating: the feed is the metastore's
//! `object_changes` table, written by triggers in the same transaction as every object write.
//! The index stores the last change it applied with each commit; a process that restarts, or a
//! replica that starts empty, catches up from there.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::{Duration, Instant},
};

use seqbank_core::{ObjectKind, Status};
use seqbank_metadata::{Attributes, Experiment, Project, Run, Sample};
use seqbank_metastore::{Object, ObjectQuery, Visibility};
use seqbank_search::{Record, Request, Response, SearchIndex, Viewer};

use crate::{Actor, Error, Result, Service};

/// Changes read per round trip.
const BATCH: i64 = 2000;
/// How long a hole in the change ids is waited for (a transaction that took its id but has not
/// committed yet) before it is taken for a rolled-back one.
const GAP_PATIENCE: Duration = Duration::from_secs(30);
/// Memory for the index writer of one sync.
const SYNC_WRITER_BYTES: usize = 32 << 20;

/// Where the index stands in the feed.
#[derive(Debug, Default)]
pub(crate) struct SyncState {
    /// Every change up to here is applied.
    done: Option<i64>,
    /// Changes above `done` already applied (holes below them are still awaited).
    applied: BTreeSet<i64>,
    /// When each awaited hole was first seen.
    holes: BTreeMap<i64, Instant>,
}

/// The search side of the service.
#[derive(Debug)]
pub(crate) struct Search {
    pub(crate) index: Arc<SearchIndex>,
    pub(crate) sync: tokio::sync::Mutex<SyncState>,
}

impl Search {
    pub(crate) fn new(index: Arc<SearchIndex>) -> Self {
        Self {
            index,
            sync: tokio::sync::Mutex::new(SyncState::default()),
        }
    }
}

fn search_error(e: seqbank_search::Error) -> Error {
    match e {
        seqbank_search::Error::BadQuery { parameter, message } => {
            Error::BadRequest(seqbank_metadata::ParseError::new(parameter, message))
        }
        other => Error::Internal(Box::new(other)),
    }
}

/// Runs index work on the blocking threads, with its errors in the service's terms.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> seqbank_search::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(Box::new(e)))?
        .map_err(search_error)
}

/// Progress of a rebuild: records done and the total.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

impl Service {
    /// Replaces the search index (by default an empty one in memory).
    pub fn with_search_index(mut self, index: Arc<SearchIndex>) -> Self {
        self.search = Arc::new(Search::new(index));
        self
    }

    /// Returns the search index.
    pub fn search_index(&self) -> &Arc<SearchIndex> {
        &self.search.index
    }

    /// Searches as `actor`: records the actor may not see are neither returned nor counted.
    pub async fn search(&self, actor: &Actor, request: Request) -> Result<Response> {
        let viewer = match actor {
            Actor::Anonymous => Viewer::Anonymous,
            Actor::User(_) if actor.is_curator() => Viewer::Curator,
            Actor::User(user) => Viewer::User(user.id),
        };
        let index = self.search.index.clone();
        blocking(move || index.search(&request, viewer)).await
    }

    /// Attribute tags present in the index, most common first, with how many records have each.
    pub async fn attribute_tags(&self, limit: usize) -> Result<Vec<(String, u64)>> {
        let index = self.search.index.clone();
        blocking(move || index.attribute_tags(limit)).await
    }

    /// Applies the metastore changes the index has not seen; returns how many objects were
    /// reindexed. Cheap when nothing changed: one query.
    pub async fn sync_search(&self) -> Result<usize> {
        let mut state = self.search.sync.lock().await;
        if state.done.is_none() {
            state.done = Some(
                self.search
                    .index
                    .watermark()
                    .map_err(search_error)?
                    .unwrap_or(0),
            );
        }
        let mut total = 0;
        loop {
            let done = state.done.unwrap_or(0);
            let changes = self.store.object_changes(done, BATCH).await?;
            let fresh: Vec<(i64, i64)> = changes
                .iter()
                .copied()
                .filter(|(id, _)| !state.applied.contains(id))
                .collect();
            let objects: BTreeSet<i64> = fresh.iter().map(|(_, object)| *object).collect();
            let mut records = Vec::with_capacity(objects.len());
            for id in &objects {
                let object = self.store.object(*id).await?;
                records.push(self.record(&object).await?);
            }
            state.applied.extend(fresh.iter().map(|(id, _)| *id));
            let moved = advance(&mut state, &changes);
            if records.is_empty() && !moved {
                break;
            }
            let watermark = state.done;
            let index = self.search.index.clone();
            blocking(move || {
                let mut writer = index.writer(SYNC_WRITER_BYTES)?;
                for record in &records {
                    writer.upsert(record)?;
                }
                writer.commit(watermark)?;
                index.reload()
            })
            .await?;
            total += objects.len();
            if (changes.len() as i64) < BATCH {
                break;
            }
        }
        total += self.sync_mirror().await?;
        Ok(total)
    }

    /// Rebuilds the index from every object in the metastore.
    pub async fn reindex(&self, progress: Progress<'_>) -> Result<u64> {
        let mut state = self.search.sync.lock().await;
        let watermark = self.store.last_object_change().await?;
        let total = self
            .store
            .row_counts()
            .await?
            .into_iter()
            .find(|(table, _)| *table == "objects")
            .map_or(0, |(_, n)| n as u64);
        let index = self.search.index.clone();
        let mut writer = {
            let index = index.clone();
            blocking(move || {
                let mut writer = index.writer(SearchIndex::bulk_memory())?;
                writer.clear()?;
                Ok(writer)
            })
            .await?
        };
        let mut after_id = 0;
        let mut done = 0;
        progress(0, total);
        loop {
            let page = self
                .store
                .objects(&ObjectQuery {
                    kind: None,
                    submission_id: None,
                    owner_id: None,
                    statuses: Vec::new(),
                    visibility: Visibility::All,
                    after_id,
                    limit: 500,
                })
                .await?;
            let Some(last) = page.last() else { break };
            after_id = last.id;
            for object in &page {
                writer
                    .add(&self.record(object).await?)
                    .map_err(search_error)?;
            }
            done += page.len() as u64;
            progress(done, total.max(done));
        }
        blocking(move || {
            writer.commit(Some(watermark))?;
            writer.finish()?;
            index.reload()
        })
        .await?;
        *state = SyncState {
            done: Some(watermark),
            ..SyncState::default()
        };
        drop(state);
        Ok(done + self.sync_mirror().await? as u64)
    }

    /// Describes an object for the index.
    async fn record(&self, object: &Object) -> Result<Record> {
        let public = object.status == Status::Public;
        let mut record = Record {
            key: format!("seqbank:{}", object.id),
            readers: vec![format!("user:{}", object.owner_id)],
            accession: object.accession.clone(),
            kind: object.kind.as_str().to_owned(),
            source: "seqbank".into(),
            title: object.title.clone(),
            status: object.status.as_str().to_owned(),
            access: if public { "public" } else { "private" }.into(),
            submitted: Some(day(&object.created_at)),
            released: object.released_at.as_deref().map(day),
            updated: Some(day(&object.updated_at)),
            ..Record::default()
        };
        describe(&mut record, object);
        // Linked: every record above and below it in project → sample → experiment → run,
        // followed one way at a time, so a run lists its experiment, sample and project and a
        // project everything under it.
        let mut accessions = Vec::new();
        for upward in [true, false] {
            let mut frontier = vec![object.clone()];
            while let Some(from) = frontier.pop() {
                for next in self.store.linked_objects(from.id).await? {
                    let step = rank(next.kind) < rank(from.kind);
                    if step != upward || rank(next.kind) == rank(from.kind) {
                        continue;
                    }
                    if upward {
                        describe_inherited(&mut record, &next);
                    }
                    accessions.extend(next.accession.clone());
                    frontier.push(next);
                }
            }
        }
        accessions.sort();
        accessions.dedup();
        record.linked = accessions;
        Ok(record)
    }
}

/// The date of a timestamp.
fn day(timestamp: &str) -> String {
    timestamp.get(..10).unwrap_or(timestamp).to_owned()
}

/// Place in the hierarchy, top first.
fn rank(kind: ObjectKind) -> u8 {
    match kind {
        ObjectKind::Project => 0,
        ObjectKind::Sample => 1,
        ObjectKind::Experiment => 2,
        ObjectKind::Run => 3,
    }
}

/// Moves `done` past the contiguous changes seen, and past holes waited on long enough.
/// Returns whether it moved.
fn advance(state: &mut SyncState, changes: &[(i64, i64)]) -> bool {
    let start = state.done.unwrap_or(0);
    let mut done = start;
    let seen: BTreeSet<i64> = changes.iter().map(|(id, _)| *id).collect();
    let highest = seen.last().copied().unwrap_or(done);
    while done < highest {
        let next = done + 1;
        if seen.contains(&next) || state.applied.contains(&next) {
            state.holes.remove(&next);
            done = next;
            continue;
        }
        let since = *state.holes.entry(next).or_insert_with(Instant::now);
        if since.elapsed() < GAP_PATIENCE {
            break;
        }
        state.holes.remove(&next);
        done = next;
    }
    state.applied = state.applied.split_off(&(done + 1));
    state.done = Some(done);
    done != start
}

fn attributes(record: &mut Record, attributes: &Attributes) {
    for (tag, attribute) in attributes {
        let value = match &attribute.unit {
            Some(unit) => format!("{} {unit}", attribute.value),
            None => attribute.value.clone(),
        };
        record.attributes.push((tag.clone(), value));
    }
}

/// Fills a record from the object's own body.
fn describe(record: &mut Record, object: &Object) {
    match object.kind {
        ObjectKind::Project => {
            if let Ok(p) = serde_json::from_str::<Project>(&object.body) {
                record.description = Some(p.description).filter(|d| !d.is_empty());
                if let Some(o) = p.organism {
                    record.organism = Some(o.scientific_name);
                    record.tax_id = Some(o.taxon_id);
                }
                attributes(record, &p.attributes);
            }
        }
        ObjectKind::Sample => {
            if let Ok(s) = serde_json::from_str::<Sample>(&object.body) {
                record.description = s.description;
                record.organism = Some(s.organism.scientific_name);
                record.tax_id = Some(s.organism.taxon_id);
                attributes(record, &s.attributes);
            }
        }
        ObjectKind::Experiment => {
            if let Ok(e) = serde_json::from_str::<Experiment>(&object.body) {
                record.description = e.design_description.clone();
                library(record, &e);
                attributes(record, &e.attributes);
            }
        }
        ObjectKind::Run => {
            if let Ok(r) = serde_json::from_str::<Run>(&object.body) {
                attributes(record, &r.attributes);
            }
        }
    }
}

fn library(record: &mut Record, e: &Experiment) {
    record.platform = Some(e.platform.clone());
    record.instrument = Some(e.instrument_model.clone());
    record.library_strategy = Some(e.library.strategy.clone());
    record.library_source = Some(e.library.source.clone());
    record.library_selection = Some(e.library.selection.clone());
    record.library_layout = Some(e.library.layout.clone());
}

/// Fills what a run takes from its experiment, or an experiment or run from its sample.
fn describe_inherited(record: &mut Record, from: &Object) {
    match from.kind {
        ObjectKind::Experiment => {
            if let Ok(e) = serde_json::from_str::<Experiment>(&from.body) {
                library(record, &e);
            }
        }
        ObjectKind::Sample => {
            if let Ok(s) = serde_json::from_str::<Sample>(&from.body) {
                record.organism = Some(s.organism.scientific_name);
                record.tax_id = Some(s.organism.taxon_id);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{SyncState, advance};

    #[test]
    fn the_watermark_waits_at_a_hole_then_moves_past_applied_changes() {
        let mut state = SyncState {
            done: Some(10),
            ..SyncState::default()
        };
        // 11 and 13 arrive; 12 is still in an open transaction.
        state.applied.extend([11, 13]);
        assert!(advance(&mut state, &[(11, 1), (13, 3)]));
        assert_eq!(state.done, Some(11));
        assert!(state.holes.contains_key(&12));
        // 12 commits: the watermark jumps over 13, applied before.
        state.applied.insert(12);
        assert!(advance(&mut state, &[(12, 2), (13, 3)]));
        assert_eq!(state.done, Some(13));
        assert!(state.applied.is_empty());
        assert!(state.holes.is_empty());
    }
}

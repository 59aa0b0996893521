//! Mirroring NCBI/INSDC public metadata: importing dumps into the metastore, following them into
//! the search index, and showing mirrored records.
//!
//! Rules, in the order they apply to each record of a dump:
//! 1. an accession this center holds itself is left alone (the center's own record wins);
//! 2. a record older than the mirrored copy (`last_update` before the stored one) is unchanged;
//! 3. a record whose status, dates, fields and text are the stored ones is unchanged;
//! 4. otherwise it is written. Dumps that do not carry a status (SRA XML) keep the status
//!    already known from `SRA_Accessions.tab`, and status-only rows (that table, receipts) change
//!    status, dates and links of the stored record without touching its fields.

use std::{io::Read, path::Path};

use seqbank_metastore::{Merge, MirrorImport, MirrorRow, Raw};
use seqbank_mirror::{Item, MirrorRecord, Source};
use seqbank_search::{Record, SearchIndex};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{Actor, Error, Result, Service};

/// Items per transaction. Large, because a batch rewrites every index page its keys land on:
/// with 5,000 a batch, the accession index's pages were written again every few records
/// (ARCHITECTURE.md, "Batches are large").
const BATCH: usize = 20_000;
/// Mirrored records read from the metastore per index round.
const INDEX_BATCH: i64 = 5000;
/// Mirrored records indexed between commits of the index.
const COMMIT_EVERY: usize = 200_000;
/// The same when the index holds no mirrored record yet (a first import, a reindex): fewer,
/// larger segments, with the writer's memory below.
const BULK_COMMIT_EVERY: usize = 1_000_000;
/// The index writer's memory for a first import (less on a machine of under 6 GiB).
const BULK_MEMORY: usize = 1 << 30;

/// Where an import stands, for a progress bar.
#[derive(Clone, Debug, Default)]
pub struct ImportProgress {
    /// Records read (committed) from the start of the file.
    pub position: u64,
    /// Input bytes read.
    pub bytes: u64,
    /// The file's size, if known.
    pub total_bytes: Option<u64>,
    /// Records skipped because an earlier run had committed them.
    pub resumed_from: u64,
}

/// One record of a batch on its way to the metastore.
struct Incoming {
    row: MirrorRow,
    record: MirrorRecord,
}

/// A mirrored record as the API shows it.
#[derive(Debug, Serialize)]
pub struct MirrorView {
    /// Accession.
    pub accession: String,
    /// project, sample, experiment, run, analysis, submission or assembly.
    #[serde(rename = "type")]
    pub kind: String,
    /// The archive that issued the accession.
    pub source: String,
    /// Always true: mirrored records are read-only here.
    pub mirrored: bool,
    /// Where it was mirrored from.
    pub mirror: MirrorOrigin,
    /// live, suppressed, withdrawn, replaced or unpublished.
    pub status: String,
    /// When it last changed at its archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update: Option<String>,
    /// When it was or will be public.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Title.
    pub title: String,
    /// Everything else the dump said, in seqbank's terms.
    pub fields: Value,
}

/// Where a mirrored record came from.
#[derive(Debug, Serialize)]
pub struct MirrorOrigin {
    /// NCBI.
    pub from: &'static str,
    /// The dump: bioproject, biosample, sra, sra-accessions or assembly.
    pub dump: String,
    /// The dump's date.
    pub dump_date: String,
}

/// The mirror at a glance.
#[derive(Debug, Serialize)]
pub struct MirrorStatus {
    /// Records per type.
    pub records: std::collections::BTreeMap<String, i64>,
    /// The latest imports, newest first, with their first problems.
    pub imports: Vec<ImportView>,
    /// The daily update, if one is configured: its plan, next start and latest runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<crate::MirrorSchedule>,
}

/// One import as the API shows it.
#[derive(Debug, Serialize)]
pub struct ImportView {
    /// The import.
    #[serde(flatten)]
    pub import: MirrorImport,
    /// Its first problems.
    pub problems: Vec<String>,
}

/// What a change is judged by: status, dates, title, body and `raw`, the row's text (kept
/// compressed in the row).
fn hash_of(row: &MirrorRow, raw: &str) -> i64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for part in [
        row.status.as_str(),
        row.published.as_deref().unwrap_or(""),
        row.last_update.as_deref().unwrap_or(""),
        row.title.as_str(),
        row.body.as_str(),
        raw,
    ] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    h.digest() as i64
}

/// The stored row of a record read from a dump.
fn row_of(record: &MirrorRecord, source: Source, dump_date: &str) -> MirrorRow {
    let mut row = MirrorRow {
        accession: record.accession.clone(),
        kind: record.kind.to_owned(),
        origin: record.origin.to_owned(),
        source: source.as_str().to_owned(),
        dump_date: dump_date.to_owned(),
        status: record.status.clone().unwrap_or_else(|| "live".into()),
        last_update: record.last_update.clone(),
        published: record.published.clone(),
        title: record.title.clone(),
        body: serde_json::to_string(record).unwrap_or_else(|_| "{}".into()),
        raw: Raw::pack(&record.raw),
        hash: 0,
    };
    row.hash = hash_of(&row, &record.raw);
    row
}

/// Judges one incoming record against the stored copy.
fn merge(incoming: Incoming, stored: Option<&MirrorRow>) -> Merge {
    let Incoming { mut row, record } = incoming;
    let Some(old) = stored else {
        return Merge::Write(Box::new(row));
    };
    if let (Some(new), Some(before)) = (&record.last_update, &old.last_update)
        && new < before
    {
        return Merge::Unchanged;
    }
    if record.status_only && !old.raw.is_empty() && old.source != "sra-accessions" {
        // Status, dates and links onto the full record already here.
        let mut body: Value = serde_json::from_str(&old.body).unwrap_or_else(|_| json!({}));
        let mut next = old.clone();
        if let Some(status) = &record.status {
            next.status.clone_from(status);
            body["status"] = json!(status);
        }
        if record.published.is_some() {
            next.published.clone_from(&record.published);
            body["published"] = json!(record.published);
        }
        if record.last_update.is_some() {
            next.last_update.clone_from(&record.last_update);
        }
        if let Some(by) = &record.replaced_by {
            body["replaced_by"] = json!(by);
        }
        merge_links(&mut body, &record.links);
        next.body = body.to_string();
        next.hash = match old.raw.text() {
            Ok(raw) => hash_of(&next, &raw),
            // Unreadable: replaced by the next full record; until then, judged changed.
            Err(_) => !old.hash,
        };
        return if next.hash == old.hash {
            Merge::Unchanged
        } else {
            Merge::Write(Box::new(next))
        };
    }
    if record.status.is_none() {
        // SRA XML says nothing of status: what the accessions table said stands.
        row.status.clone_from(&old.status);
        if row.published.is_none() {
            row.published.clone_from(&old.published);
        }
        if row.last_update.is_none() {
            row.last_update.clone_from(&old.last_update);
        }
        let mut body: Value = serde_json::from_str(&row.body).unwrap_or_else(|_| json!({}));
        let old_body: Value = serde_json::from_str(&old.body).unwrap_or_else(|_| json!({}));
        for key in ["published", "replaced_by"] {
            if body.get(key).is_none()
                && let Some(value) = old_body.get(key)
            {
                body[key] = value.clone();
            }
        }
        if let Some(links) = old_body.get("links").and_then(Value::as_array) {
            let links: Vec<String> = links
                .iter()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect();
            merge_links(&mut body, &links);
        }
        body["status"] = json!(row.status);
        row.body = body.to_string();
        row.hash = hash_of(&row, &record.raw);
    }
    if row.hash == old.hash {
        Merge::Unchanged
    } else {
        Merge::Write(Box::new(row))
    }
}

fn merge_links(body: &mut Value, links: &[String]) {
    if links.is_empty() {
        return;
    }
    let mut all: Vec<String> = body
        .get("links")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for link in links {
        if !all.contains(link) {
            all.push(link.clone());
        }
    }
    body["links"] = json!(all);
}

/// Identifies a dump's content: its source, size and first mebibyte (a folder: its file names
/// and sizes), so a restarted import resumes the same content and a new dump starts afresh.
pub fn fingerprint(source: Source, path: &Path) -> std::io::Result<String> {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(source.as_str().as_bytes());
    if path.is_dir() {
        let mut names = Vec::new();
        let mut stack = vec![path.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d)? {
                let entry = entry?;
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    names.push((p.display().to_string(), entry.metadata()?.len()));
                }
            }
        }
        names.sort();
        for (name, len) in names {
            h.update(name.as_bytes());
            h.update(&len.to_le_bytes());
        }
    } else {
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        h.update(&len.to_le_bytes());
        let mut head = vec![0u8; 1 << 20];
        let mut filled = 0;
        loop {
            let n = file.read(&mut head[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
            if filled == head.len() {
                break;
            }
        }
        h.update(&head[..filled]);
    }
    Ok(format!("{:016x}", h.digest()))
}

/// The dump date a file name carries (`…_20240131.tar.gz`), if any.
pub fn date_in_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let bytes = name.as_bytes();
    (0..bytes.len().saturating_sub(7)).find_map(|i| {
        let digits = &bytes[i..i + 8];
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 8);
        if digits.iter().all(u8::is_ascii_digit)
            && !before.is_some_and(|b| b.is_ascii_digit())
            && !after.is_some_and(u8::is_ascii_digit)
            && (digits.starts_with(b"19") || digits.starts_with(b"20"))
        {
            let d = std::str::from_utf8(digits).ok()?;
            Some(format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]))
        } else {
            None
        }
    })
}

impl Service {
    /// Imports one dump file (or SRA folder) into the mirror, resuming an unfinished import of
    /// the same content. Malformed records are counted and listed in the import; a file that is
    /// not what `source` reads is an error before anything is written; a read failure part way
    /// (a truncated gzip file) keeps what was committed and ends the import as failed.
    pub async fn mirror_import(
        &self,
        source: Source,
        path: &Path,
        dump_date: Option<&str>,
        progress: &(dyn Fn(&ImportProgress) + Send + Sync),
    ) -> Result<MirrorImport> {
        let bad = |message: String| {
            Error::BadRequest(seqbank_metadata::ParseError::new(
                path.display().to_string(),
                message,
            ))
        };
        let today = self.clock.today().to_string();
        let dump_date = match dump_date {
            Some(d) => d.to_owned(),
            None => date_in_name(path).unwrap_or_else(|| today.clone()),
        };
        // Records published after their dump's date are the ones a later day may show
        // (`mirror_published_between`); a dump dated ahead would hide that from them.
        if dump_date > today {
            return Err(bad(format!(
                "the dump is dated {dump_date}, after today ({today}); give its real date with --dump-date"
            )));
        }
        let records = seqbank_mirror::read_path(source, path).map_err(|e| bad(e.to_string()))?;
        let fingerprint = fingerprint(source, path).map_err(|e| bad(e.to_string()))?;
        let total_bytes = std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        let mut import = self
            .store
            .mirror_import_start(
                source.as_str(),
                &path.display().to_string(),
                &fingerprint,
                &dump_date,
                &self.clock.now_text(),
            )
            .await?;
        let resumed_from = import.position as u64;

        // Parsing runs on its own thread, a few batches ahead of the metastore.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(2);
        let skip_to = import.position as u64;
        let date = dump_date.clone();
        let reader =
            tokio::task::spawn_blocking(move || read_batches(records, source, &date, skip_to, &tx));

        let mut failure = None;
        while let Some(chunk) = rx.recv().await {
            let bytes = chunk.bytes;
            if let Some(e) = chunk.error {
                failure = Some(e);
            }
            if chunk.items.is_empty()
                && chunk.skipped.is_empty()
                && chunk.position as i64 == import.position
            {
                continue;
            }
            import = self
                .store
                .mirror_apply(
                    &import,
                    chunk.items,
                    &chunk.skipped,
                    chunk.position as i64,
                    |i: &Incoming| i.row.accession.as_str(),
                    merge,
                )
                .await?;
            progress(&ImportProgress {
                position: import.position as u64,
                bytes,
                total_bytes,
                resumed_from,
            });
        }
        reader.await.map_err(|e| Error::Internal(Box::new(e)))?;
        let (state, error) = match &failure {
            Some(e) => ("failed", Some(e.as_str())),
            None => ("done", None),
        };
        self.store
            .mirror_import_finish(import.id, state, error, &self.clock.now_text())
            .await?;
        import.state = state.to_owned();
        import.error = failure;
        Ok(import)
    }

    /// The mirror's record counts and latest imports.
    pub async fn mirror_status(&self) -> Result<MirrorStatus> {
        let records = self.store.mirror_counts().await?.into_iter().collect();
        let imports = self
            .store
            .mirror_imports(20)
            .await?
            .into_iter()
            .map(|import| {
                let mut problems = import.problem_list();
                problems.truncate(20);
                ImportView { import, problems }
            })
            .collect();
        Ok(MirrorStatus {
            records,
            imports,
            schedule: self.mirror_schedule().await?,
        })
    }

    /// A mirrored record by accession, as `actor` may see it: unpublished records (and those
    /// whose publication date is still ahead) only to curators.
    pub async fn mirror_record(
        &self,
        actor: &Actor,
        kind: Option<&str>,
        accession: &str,
    ) -> Result<(MirrorView, String)> {
        let row = self
            .store
            .mirror_record(accession)
            .await?
            .filter(|row| kind.is_none_or(|k| k == row.kind))
            .ok_or(Error::NotFound("object"))?;
        if !actor.is_curator() && !shown(&row, &self.clock.today().to_string()) {
            return Err(Error::NotFound("object"));
        }
        let mut fields: Value = serde_json::from_str(&row.body).unwrap_or_else(|_| json!({}));
        if let Some(map) = fields.as_object_mut() {
            for key in [
                "accession",
                "kind",
                "origin",
                "status",
                "last_update",
                "published",
                "title",
            ] {
                map.remove(key);
            }
        }
        let view = MirrorView {
            accession: row.accession.clone(),
            kind: row.kind.clone(),
            source: row.origin.clone(),
            mirrored: true,
            mirror: MirrorOrigin {
                from: "NCBI",
                dump: row.source.clone(),
                dump_date: row.dump_date.clone(),
            },
            status: row.status.clone(),
            last_update: row.last_update.clone(),
            published: row.published.clone(),
            title: row.title.clone(),
            fields,
        };
        Ok((view, row.raw.text()?))
    }

    /// Applies mirrored records changed since the index last saw them; returns how many.
    pub(crate) async fn sync_mirror(&self) -> Result<usize> {
        let index = self.search.index.clone();
        let mut after = index
            .mirror_watermark()
            .map_err(|e| Error::Internal(Box::new(e)))?
            .unwrap_or(0);
        let fresh_index = after == 0;
        let commit_every = if fresh_index {
            BULK_COMMIT_EVERY
        } else {
            COMMIT_EVERY
        };
        let today = self.clock.today().to_string();
        let mut total = 0;
        let mut writer: Option<seqbank_search::Writer> = None;
        let mut since_commit = 0;
        // The next batch is read from the metastore while the last one is indexed.
        let mut next = self.store.mirror_changes(after, INDEX_BATCH).await?;
        loop {
            let changes = std::mem::take(&mut next);
            let Some(last) = changes.last() else { break };
            let mark = last.seq;
            let last_round = (changes.len() as i64) < INDEX_BATCH;
            total += changes.len();
            since_commit += changes.len();
            let commit = last_round || since_commit >= commit_every;
            if commit {
                since_commit = 0;
            }
            let index = index.clone();
            let open = writer.take();
            let day = today.clone();
            let job = tokio::task::spawn_blocking(move || -> seqbank_search::Result<_> {
                let mut writer = match open {
                    Some(writer) => writer,
                    None if fresh_index => {
                        index.writer(BULK_MEMORY.min(SearchIndex::bulk_memory()))?
                    }
                    None => index.writer(256 << 20)?,
                };
                for change in &changes {
                    let record = record_of(&change.row, &day);
                    if fresh_index {
                        writer.add(&record)?;
                    } else {
                        writer.upsert(&record)?;
                    }
                }
                if commit {
                    writer.commit_mirror(mark)?;
                    index.reload()?;
                }
                Ok(Some(writer))
            });
            let fetched = if last_round {
                Ok(Vec::new())
            } else {
                self.store.mirror_changes(mark, INDEX_BATCH).await
            };
            writer = job
                .await
                .map_err(|e| Error::Internal(Box::new(e)))?
                .map_err(|e| Error::Internal(Box::new(e)))?;
            next = fetched?;
            after = mark;
            if last_round {
                break;
            }
        }
        if let Some(mut writer) = writer {
            let pending = since_commit > 0;
            tokio::task::spawn_blocking(move || {
                if pending {
                    writer.commit_mirror(after)?;
                    index.reload()?;
                }
                writer.finish()
            })
            .await
            .map_err(|e| Error::Internal(Box::new(e)))?
            .map_err(|e| Error::Internal(Box::new(e)))?;
        }
        Ok(total + self.mirror_dates_pass().await?)
    }

    /// Once a day, shows in search the mirrored records whose publication date has come since
    /// the last pass (imported while it was ahead, they were indexed for curators only); returns
    /// how many were reindexed.
    async fn mirror_dates_pass(&self) -> Result<usize> {
        let index = self.search.index.clone();
        let internal = |e: seqbank_search::Error| Error::Internal(Box::new(e));
        let today = self.clock.today();
        let day = today.to_string();
        let last = index.mirror_day().map_err(internal)?;
        if last.as_deref().is_some_and(|last| last >= day.as_str()) {
            return Ok(0);
        }
        let mut writer = {
            let index = index.clone();
            tokio::task::spawn_blocking(move || index.writer(32 << 20))
                .await
                .map_err(|e| Error::Internal(Box::new(e)))?
                .map_err(internal)?
        };
        let mut total = 0;
        // A fresh index was just built with today's view of every record.
        if let Some(last) = last {
            let next_day = |d: &str| -> Option<String> {
                let d: jiff::civil::Date = d.get(..10)?.parse().ok()?;
                Some(d.tomorrow().ok()?.to_string())
            };
            let from = next_day(&last).unwrap_or_else(|| day.clone());
            let until = next_day(&day).unwrap_or_else(|| day.clone());
            let mut after = String::new();
            loop {
                let rows = self
                    .store
                    .mirror_published_between(&from, &until, &after, INDEX_BATCH)
                    .await?;
                let Some(last_row) = rows.last() else { break };
                after = last_row.accession.clone();
                let full = rows.len() as i64 == INDEX_BATCH;
                let records: Vec<Record> = rows.iter().map(|r| record_of(r, &day)).collect();
                total += records.len();
                writer = tokio::task::spawn_blocking(move || -> seqbank_search::Result<_> {
                    for record in &records {
                        writer.upsert(record)?;
                    }
                    Ok(writer)
                })
                .await
                .map_err(|e| Error::Internal(Box::new(e)))?
                .map_err(internal)?;
                if !full {
                    break;
                }
            }
        }
        tokio::task::spawn_blocking(move || -> seqbank_search::Result<()> {
            writer.commit_mirror_day(&day)?;
            index.reload()?;
            writer.finish()
        })
        .await
        .map_err(|e| Error::Internal(Box::new(e)))?
        .map_err(internal)?;
        Ok(total)
    }
}

/// Whether anyone may see a mirrored record: not unpublished, not published in the future.
fn shown(row: &MirrorRow, today: &str) -> bool {
    row.status != "unpublished"
        && row
            .published
            .as_deref()
            .is_none_or(|p| p.get(..10).unwrap_or(p) <= today)
}

/// The search record of a mirrored record: found by anyone when live and published, by
/// curators only otherwise.
fn record_of(row: &MirrorRow, today: &str) -> Record {
    let body: MirrorRecordBody = serde_json::from_str(&row.body).unwrap_or_default();
    let public = row.status == "live" && shown(row, today);
    let day = |d: &Option<String>| d.as_deref().map(|d| d.get(..10).unwrap_or(d).to_owned());
    Record {
        key: format!("mirror:{}", row.accession),
        readers: Vec::new(),
        accession: Some(row.accession.clone()),
        kind: row.kind.clone(),
        source: row.origin.clone(),
        title: row.title.clone(),
        description: body.description,
        organism: body.organism,
        tax_id: body.tax_id,
        attributes: body.attributes,
        platform: body.platform,
        instrument: body.instrument,
        library_strategy: body.library_strategy,
        library_source: body.library_source,
        library_selection: body.library_selection,
        library_layout: body.library_layout,
        status: row.status.clone(),
        access: if public { "public" } else { "private" }.into(),
        submitted: day(&body.submitted),
        released: day(&row.published),
        updated: day(&row.last_update),
        linked: body.links,
    }
}

/// The fields of a stored body the index needs.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct MirrorRecordBody {
    description: Option<String>,
    organism: Option<String>,
    tax_id: Option<u64>,
    attributes: Vec<(String, String)>,
    platform: Option<String>,
    instrument: Option<String>,
    library_strategy: Option<String>,
    library_source: Option<String>,
    library_selection: Option<String>,
    library_layout: Option<String>,
    submitted: Option<String>,
    links: Vec<String>,
}

/// A batch from the reading thread.
struct Chunk {
    items: Vec<Incoming>,
    skipped: Vec<String>,
    /// Records read from the start of the file after this batch.
    position: u64,
    bytes: u64,
    error: Option<String>,
}

fn read_batches(
    records: seqbank_mirror::Records,
    source: Source,
    dump_date: &str,
    skip_to: u64,
    tx: &tokio::sync::mpsc::Sender<Chunk>,
) {
    let mut records = records;
    let mut position = 0u64;
    let mut items = Vec::with_capacity(BATCH);
    let mut skipped = Vec::new();
    let send = |items: Vec<Incoming>, skipped: Vec<String>, position: u64, bytes: u64, error| {
        tx.blocking_send(Chunk {
            items,
            skipped,
            position,
            bytes,
            error,
        })
        .is_ok()
    };
    loop {
        let item = records.next();
        let bytes = records.bytes_read();
        match item {
            None => {
                send(
                    std::mem::take(&mut items),
                    std::mem::take(&mut skipped),
                    position,
                    bytes,
                    None,
                );
                return;
            }
            Some(Err(e)) => {
                send(
                    std::mem::take(&mut items),
                    std::mem::take(&mut skipped),
                    position,
                    bytes,
                    Some(e.to_string()),
                );
                return;
            }
            Some(Ok(item)) => {
                position += 1;
                if position <= skip_to {
                    continue;
                }
                match item {
                    Item::Record(record) => {
                        let row = row_of(&record, source, dump_date);
                        items.push(Incoming {
                            row,
                            record: *record,
                        });
                    }
                    Item::Skipped(skip) => skipped.push(skip.to_string()),
                }
                if items.len() + skipped.len() >= BATCH
                    && !send(
                        std::mem::take(&mut items),
                        std::mem::take(&mut skipped),
                        position,
                        bytes,
                        None,
                    )
                {
                    return;
                }
            }
        }
    }
}

/// The center name written into exported XML.
pub const CENTER_NAME: &str = "seqbank";

impl Service {
    /// A released local record as INSDC XML (`PROJECT_SET`, `SAMPLE_SET`, `EXPERIMENT_SET` or
    /// `RUN_SET`), with the accessions of the records it refers to.
    pub async fn export_xml(
        &self,
        actor: &Actor,
        kind: seqbank_core::ObjectKind,
        key: &str,
    ) -> Result<String> {
        use seqbank_core::{ObjectKind, Status};
        use seqbank_metadata::insdc_xml;
        let (object, _) = self
            .load_object(actor, kind, key, crate::authz::Action::View)
            .await?;
        if object.status != Status::Public {
            return Err(Error::Conflict(format!(
                "only released records are exported as INSDC XML; this {} is {}",
                object.kind, object.status
            )));
        }
        let accession = object.accession.clone().unwrap_or_default();
        let names = insdc_xml::Names {
            accession: &accession,
            alias: &object.alias,
            center: CENTER_NAME,
        };
        let linked = self.store.linked_objects(object.id).await?;
        let linked_accession = |kind: ObjectKind| {
            linked
                .iter()
                .find(|o| o.kind == kind)
                .and_then(|o| o.accession.clone())
                .unwrap_or_default()
        };
        let bad = |e: serde_json::Error| Error::Internal(Box::new(e));
        Ok(match object.kind {
            ObjectKind::Project => {
                insdc_xml::project(&serde_json::from_str(&object.body).map_err(bad)?, &names)
            }
            ObjectKind::Sample => {
                insdc_xml::sample(&serde_json::from_str(&object.body).map_err(bad)?, &names)
            }
            ObjectKind::Experiment => {
                let mut study = linked_accession(ObjectKind::Project);
                let sample = linked_accession(ObjectKind::Sample);
                if study.is_empty() {
                    // The project is reached through the sample.
                    if let Some(s) = linked.iter().find(|o| o.kind == ObjectKind::Sample) {
                        study = self
                            .store
                            .linked_objects(s.id)
                            .await?
                            .into_iter()
                            .find(|o| o.kind == ObjectKind::Project)
                            .and_then(|o| o.accession)
                            .unwrap_or_default();
                    }
                }
                insdc_xml::experiment(
                    &serde_json::from_str(&object.body).map_err(bad)?,
                    &names,
                    &study,
                    &sample,
                )
            }
            ObjectKind::Run => insdc_xml::run(
                &serde_json::from_str(&object.body).map_err(bad)?,
                &names,
                &linked_accession(ObjectKind::Experiment),
            ),
        })
    }

    /// Every released local record of a kind, as `(accession, XML)`, a page at a time after
    /// the row id `after`.
    pub async fn export_page(
        &self,
        kind: seqbank_core::ObjectKind,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<(String, String)>, Option<i64>)> {
        let page = self
            .store
            .objects(&seqbank_metastore::ObjectQuery {
                kind: Some(kind),
                submission_id: None,
                owner_id: None,
                statuses: vec![seqbank_core::Status::Public],
                visibility: seqbank_metastore::Visibility::All,
                after_id: after,
                limit,
            })
            .await?;
        let next = page.last().map(|o| o.id);
        let mut out = Vec::with_capacity(page.len());
        for object in &page {
            let Some(accession) = object.accession.clone() else {
                continue;
            };
            let xml = self.export_xml(&Actor::Anonymous, kind, &accession).await?;
            out.push((accession, xml));
        }
        Ok((out, next))
    }
}

//! Mirrored public records and the imports that write them.
//!
//! An import applies a dump in batches; each batch is one transaction that writes its records
//! and moves the import's position and counts, so an import killed at any point resumes at the
//! first record it had not committed and never counts one twice.

use std::collections::HashMap;

use crate::{Error, Metastore, Result, store::Backend};

/// A record's text as its dump wrote it, kept compressed (LZ4 blocks).
///
/// The XML of a BioSample is three quarters of a mirrored record's bytes, and a mirror holds
/// tens of millions of them; compressed, the metastore writes (and keeps) half as much. Rows
/// written before the text was compressed hold it plain, which reads the same.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Raw(Vec<u8>);

/// The first byte of a compressed text: no stored text starts with NUL.
const PACKED: u8 = 0;

impl Raw {
    /// Compresses `text`.
    pub fn pack(text: &str) -> Self {
        if text.is_empty() {
            return Self::default();
        }
        let bytes = text.as_bytes();
        let mut out = vec![0; 5 + lz4_flex::block::get_maximum_output_size(bytes.len())];
        out[0] = PACKED;
        out[1..5].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
        let n = lz4_flex::block::compress_into(bytes, &mut out[5..])
            .unwrap_or_else(|_| unreachable!("the buffer holds the largest possible output"));
        out.truncate(5 + n);
        Self(out)
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The stored bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text.
    pub fn text(&self) -> Result<String> {
        let corrupt = |why: String| Error::Corrupt(format!("mirrored record text: {why}"));
        let plain = match self.0.split_first() {
            None => return Ok(String::new()),
            Some((&PACKED, rest)) => {
                let (len, block) = rest
                    .split_first_chunk::<4>()
                    .ok_or_else(|| corrupt("no length".into()))?;
                lz4_flex::decompress(block, u32::from_le_bytes(*len) as usize)
                    .map_err(|e| corrupt(e.to_string()))?
            }
            Some(_) => self.0.clone(),
        };
        String::from_utf8(plain).map_err(|e| corrupt(e.to_string()))
    }
}

impl From<Vec<u8>> for Raw {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

/// One mirrored record as stored.
#[derive(Clone, Debug, Default, Eq, PartialEq, sqlx::FromRow)]
pub struct MirrorRow {
    /// Accession (the key).
    pub accession: String,
    /// project, sample, experiment, run, analysis, submission or assembly.
    pub kind: String,
    /// The archive that issued the accession.
    pub origin: String,
    /// The dump it came from (bioproject, biosample, sra, sra-accessions, assembly).
    pub source: String,
    /// The date of that dump.
    pub dump_date: String,
    /// live, suppressed, withdrawn, replaced or unpublished.
    pub status: String,
    /// When it last changed at its archive.
    pub last_update: Option<String>,
    /// When it was or will be public.
    pub published: Option<String>,
    /// Title.
    pub title: String,
    /// The record in seqbank's terms, JSON.
    pub body: String,
    /// The record as the dump wrote it.
    #[sqlx(try_from = "Vec<u8>")]
    pub raw: Raw,
    /// Hash of what a change is judged by (status, dates, body, raw).
    pub hash: i64,
}

/// A mirrored record with its place in the change order.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MirrorChange {
    /// Position in the change order.
    pub seq: i64,
    /// The record.
    #[sqlx(flatten)]
    pub row: MirrorRow,
}

/// What became of one record of a batch.
#[derive(Clone, Debug)]
pub enum Merge {
    /// Write this row (new, or changed).
    Write(Box<MirrorRow>),
    /// Nothing changed, or the stored copy is newer.
    Unchanged,
}

/// One import of one file.
#[derive(Clone, Debug, Default, Eq, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct MirrorImport {
    /// Row id.
    pub id: i64,
    /// The source.
    pub source: String,
    /// The file, as given.
    pub file: String,
    /// Identifies the file's content, so a restart resumes the same file.
    #[serde(skip)]
    pub fingerprint: String,
    /// The dump's date.
    pub dump_date: String,
    /// running, done or failed.
    pub state: String,
    /// Records read and committed, from the start of the file.
    pub position: i64,
    /// Records new to the mirror.
    pub imported: i64,
    /// Records that changed.
    pub updated: i64,
    /// Records already mirrored as they are, or older than the mirrored copy.
    pub unchanged: i64,
    /// Records that could not be read.
    pub skipped: i64,
    /// Records left alone because this center holds the accession itself.
    pub local_kept: i64,
    /// The first problems, one line each, JSON list.
    #[serde(skip)]
    pub problems: String,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started.
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
}

impl MirrorImport {
    /// The problems as a list.
    pub fn problem_list(&self) -> Vec<String> {
        serde_json::from_str(&self.problems).unwrap_or_default()
    }
}

/// Problems kept per import; the count goes on.
const KEPT_PROBLEMS: usize = 1000;
/// Rows per INSERT statement (13 parameters each).
const ROWS_PER_STATEMENT: usize = 400;
/// SQLite's page cache while a batch is written (128 MiB), and its default.
const SQLITE_BATCH_CACHE: &str = "PRAGMA cache_size = -131072";
const SQLITE_CACHE: &str = "PRAGMA cache_size = -2000";
/// Accessions per IN (…) lookup.
const KEYS_PER_LOOKUP: usize = 900;

const COLUMNS: &str =
    "accession, kind, origin, source, dump_date, status, last_update, published, title, body, hash";

/// `count` parameters numbered from `first` for PostgreSQL (`$7, $8, …`), or anonymous ones for
/// SQLite (`?, ?, …`): SQLite finds a numbered parameter by a linear search of the statement's
/// names, so binding thousands of them costs time quadratic in their number.
fn placeholders(count: usize, first: usize, postgres: bool) -> String {
    if !postgres {
        return vec!["?"; count].join(", ");
    }
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Metastore {
    fn postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// The columns of a row as it is read: `raw` as bytes (SQLite keeps the plain text of rows
    /// written before it was compressed as TEXT).
    fn mirror_columns(&self) -> String {
        let raw = if self.postgres() {
            "raw"
        } else {
            "CAST(raw AS BLOB) AS raw"
        };
        format!("{COLUMNS}, {raw}")
    }

    /// Starts an import of a file, or resumes the unfinished one with the same fingerprint.
    pub async fn mirror_import_start(
        &self,
        source: &str,
        file: &str,
        fingerprint: &str,
        dump_date: &str,
        now: &str,
    ) -> Result<MirrorImport> {
        Ok(with_tx!(self, |tx| {
            let found: Option<MirrorImport> = sqlx::query_as("SELECT * FROM mirror_imports WHERE fingerprint = $1 AND state = 'running' ORDER BY id DESC LIMIT 1")
                .bind(fingerprint)
                .fetch_optional(&mut *tx)
                .await?;
            match found {
                Some(import) => import,
                None => sqlx::query_as("INSERT INTO mirror_imports (source, file, fingerprint, dump_date, state, position, imported, updated, unchanged, skipped, local_kept, problems, started_at) VALUES ($1, $2, $3, $4, 'running', 0, 0, 0, 0, 0, 0, '[]', $5) RETURNING *")
                    .bind(source)
                    .bind(file)
                    .bind(fingerprint)
                    .bind(dump_date)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?,
            }
        }))
    }

    /// The latest import of the file with `fingerprint` that ran to its end and started at or
    /// after `since`.
    pub async fn mirror_import_done_since(
        &self,
        fingerprint: &str,
        since: &str,
    ) -> Result<Option<MirrorImport>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT * FROM mirror_imports WHERE fingerprint = $1 AND state = 'done' AND started_at >= $2 ORDER BY id DESC LIMIT 1"
        )
        .bind(fingerprint)
        .bind(since)
        .fetch_optional(pool)
        .await?
        }))
    }

    /// Applies one batch of an import in one transaction: every record is judged by `merge`
    /// against the stored copy (records whose accession this center holds itself are left
    /// alone), the changed ones are written, and the import moves to `position` with `skipped`
    /// added to its problems. Returns the import as it now stands.
    pub async fn mirror_apply<T, F>(
        &self,
        import: &MirrorImport,
        items: Vec<T>,
        skipped: &[String],
        position: i64,
        key: fn(&T) -> &str,
        merge: F,
    ) -> Result<MirrorImport>
    where
        T: Send,
        F: Fn(T, Option<&MirrorRow>) -> Merge + Send + Sync,
    {
        let keys: Vec<String> = items.iter().map(|r| key(r).to_owned()).collect();
        let postgres = self.postgres();
        Ok(with_tx!(self, |tx| {
            if postgres {
                // One writer of mirror rows at a time, so `seq` commits in order.
                sqlx::query("SELECT pg_advisory_xact_lock(7412)")
                    .execute(&mut *tx)
                    .await?;
            } else {
                // Room for every page the batch touches, so none is written out before the
                // commit and then again (set back below: the connection returns to the pool).
                sqlx::query(SQLITE_BATCH_CACHE).execute(&mut *tx).await?;
            }
            let mut stored: HashMap<String, MirrorRow> = HashMap::new();
            let mut local: std::collections::HashSet<String> = std::collections::HashSet::new();
            for chunk in keys.chunks(KEYS_PER_LOOKUP) {
                let sql = format!(
                    "SELECT {} FROM mirror_records WHERE accession IN ({})",
                    self.mirror_columns(),
                    placeholders(chunk.len(), 1, postgres)
                );
                let mut q = sqlx::query_as::<_, MirrorRow>(sqlx::AssertSqlSafe(sql));
                for key in chunk {
                    q = q.bind(key);
                }
                for row in q.fetch_all(&mut *tx).await? {
                    stored.insert(row.accession.clone(), row);
                }
                let sql = format!(
                    "SELECT accession FROM objects WHERE accession IN ({})",
                    placeholders(chunk.len(), 1, postgres)
                );
                let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
                for key in chunk {
                    q = q.bind(key);
                }
                local.extend(q.fetch_all(&mut *tx).await?);
            }
            let mut next = import.clone();
            let mut writes: Vec<MirrorRow> = Vec::new();
            // A batch may hold the same accession twice (a dump listing it again): the later
            // one is judged against the earlier.
            let mut pending: HashMap<String, usize> = HashMap::new();
            for item in items {
                let accession = key(&item).to_owned();
                if local.contains(&accession) {
                    next.local_kept += 1;
                    continue;
                }
                let earlier = pending.get(&accession).copied();
                let before = match earlier {
                    Some(i) => Some(&writes[i]),
                    None => stored.get(&accession),
                };
                let existed = before.is_some();
                match merge(item, before) {
                    Merge::Unchanged => next.unchanged += 1,
                    Merge::Write(row) => {
                        let row = *row;
                        if existed {
                            next.updated += 1;
                        } else {
                            next.imported += 1;
                        }
                        match earlier {
                            Some(i) => writes[i] = row,
                            None => {
                                pending.insert(row.accession.clone(), writes.len());
                                writes.push(row);
                            }
                        }
                    }
                }
            }
            let mut seq: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM mirror_records")
                    .fetch_one(&mut *tx)
                    .await?;
            for chunk in writes.chunks(ROWS_PER_STATEMENT) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|i| format!("({})", placeholders(13, i * 13 + 1, postgres)))
                    .collect();
                let sql = format!(
                    "INSERT INTO mirror_records ({COLUMNS}, raw, seq) VALUES {} ON CONFLICT (accession) DO UPDATE SET kind = excluded.kind, origin = excluded.origin, source = excluded.source, dump_date = excluded.dump_date, status = excluded.status, last_update = excluded.last_update, published = excluded.published, title = excluded.title, body = excluded.body, raw = excluded.raw, hash = excluded.hash, seq = excluded.seq",
                    values.join(", ")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in chunk {
                    seq += 1;
                    q = q
                        .bind(&row.accession)
                        .bind(&row.kind)
                        .bind(&row.origin)
                        .bind(&row.source)
                        .bind(&row.dump_date)
                        .bind(&row.status)
                        .bind(&row.last_update)
                        .bind(&row.published)
                        .bind(&row.title)
                        .bind(&row.body)
                        .bind(row.hash)
                        .bind(row.raw.bytes())
                        .bind(seq);
                }
                q.execute(&mut *tx).await?;
            }
            next.skipped += skipped.len() as i64;
            if !skipped.is_empty() {
                let mut problems = next.problem_list();
                problems.extend(
                    skipped
                        .iter()
                        .take(KEPT_PROBLEMS.saturating_sub(problems.len()))
                        .cloned(),
                );
                next.problems = serde_json::to_string(&problems).unwrap_or_else(|_| "[]".into());
            }
            next.position = position;
            if !postgres {
                sqlx::query(SQLITE_CACHE).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE mirror_imports SET position = $2, imported = $3, updated = $4, unchanged = $5, skipped = $6, local_kept = $7, problems = $8 WHERE id = $1")
                .bind(next.id)
                .bind(next.position)
                .bind(next.imported)
                .bind(next.updated)
                .bind(next.unchanged)
                .bind(next.skipped)
                .bind(next.local_kept)
                .bind(&next.problems)
                .execute(&mut *tx)
                .await?;
            next
        }))
    }

    /// Ends an import: `done`, or `failed` with why.
    pub async fn mirror_import_finish(
        &self,
        id: i64,
        state: &str,
        error: Option<&str>,
        now: &str,
    ) -> Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE mirror_imports SET state = $2, error = $3, finished_at = $4 WHERE id = $1"
        )
        .bind(id)
        .bind(state)
        .bind(error)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// The latest imports, newest first.
    pub async fn mirror_imports(&self, limit: i64) -> Result<Vec<MirrorImport>> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM mirror_imports ORDER BY id DESC LIMIT $1"
        )
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// One mirrored record.
    pub async fn mirror_record(&self, accession: &str) -> Result<Option<MirrorRow>> {
        let sql = format!(
            "SELECT {} FROM mirror_records WHERE accession = $1",
            self.mirror_columns()
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql)
        )
        .bind(accession)
        .fetch_optional(pool)
        .await?))
    }

    /// Mirrored records changed after `after` in the change order, oldest first, without their
    /// raw text (`raw` is empty): what the search index reads.
    pub async fn mirror_changes(&self, after: i64, limit: i64) -> Result<Vec<MirrorChange>> {
        let raw = if self.postgres() { "''::bytea" } else { "X''" };
        let sql = format!(
            "SELECT seq, {COLUMNS}, {raw} AS raw FROM mirror_records WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql)
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// Mirrored records published from the day `from` up to, not including, the day `until`
    /// (`YYYY-MM-DD`; the stored dates may carry a time), in accession order after
    /// `after_accession`: the records whose publication date has come since a day.
    ///
    /// Only records published after their dump's date are looked at: those are the ones that
    /// were ahead when imported (a dump is never dated after the day it is imported), and the
    /// only ones the index on `published` holds, which keeps it small: an index of every
    /// record's date takes an insert at a random place per record.
    pub async fn mirror_published_between(
        &self,
        from: &str,
        until: &str,
        after_accession: &str,
        limit: i64,
    ) -> Result<Vec<MirrorRow>> {
        let sql = format!(
            "SELECT {} FROM mirror_records WHERE published >= $1 AND published < $2 AND published > dump_date AND accession > $3 ORDER BY accession LIMIT $4",
            self.mirror_columns()
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql)
        )
        .bind(from)
        .bind(until)
        .bind(after_accession)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// Mirrored records per kind.
    pub async fn mirror_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT kind, COUNT(*) FROM mirror_records GROUP BY kind ORDER BY kind"
        )
        .fetch_all(pool)
        .await?))
    }

    /// A digest of every mirrored record (accession, status and hash, in accession order), to
    /// compare two mirrors.
    pub async fn mirror_digest(&self) -> Result<(i64, String)> {
        let mut hasher = 0xcbf29ce484222325_u64;
        let mut count = 0;
        let mut after = String::new();
        loop {
            let page: Vec<(String, String, i64)> = with_pool!(self, |pool| {
                sqlx::query_as(
                "SELECT accession, status, hash FROM mirror_records WHERE accession > $1 ORDER BY accession LIMIT 10000"
            )
            .bind(&after)
            .fetch_all(pool)
            .await?
            });
            let Some(last) = page.last() else { break };
            after = last.0.clone();
            for (accession, status, hash) in &page {
                for byte in accession
                    .bytes()
                    .chain([0])
                    .chain(status.bytes())
                    .chain(hash.to_le_bytes())
                {
                    hasher ^= u64::from(byte);
                    hasher = hasher.wrapping_mul(0x100000001b3);
                }
                count += 1;
            }
        }
        Ok((count, format!("{hasher:016x}")))
    }
}

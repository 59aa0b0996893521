//! Uploads, the files of runs, and the job queue.

use crate::{Error, Metastore, Result, store::Backend};

/// Where an upload is in its life.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum UploadState {
    /// Bytes are arriving.
    Receiving,
    /// Every byte arrived; waiting for validation.
    Received,
    /// Validated; the file is the run's current file.
    Valid,
    /// Validated and refused (a wrong checksum, a malformed file); see the file's report.
    Invalid,
    /// Cancelled by its owner, or replaced by a newer upload of the same file.
    Cancelled,
    /// Not finished before its expiry time.
    Expired,
}

impl UploadState {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receiving => "receiving",
            Self::Received => "received",
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "receiving" => Self::Receiving,
            "received" => Self::Received,
            "valid" => Self::Valid,
            "invalid" => Self::Invalid,
            "cancelled" => Self::Cancelled,
            "expired" => Self::Expired,
            other => {
                return Err(Error::Database(sqlx::Error::Decode(
                    format!("unknown upload state {other:?}").into(),
                )));
            }
        })
    }
}

/// An upload.
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    /// Id (random, URL-safe).
    pub id: String,
    /// Who uploads.
    pub owner_id: i64,
    /// The run the file belongs to.
    pub run_id: i64,
    /// The declared file name.
    pub file_name: String,
    /// Declared length.
    pub length: i64,
    /// Bytes durably received.
    pub received: i64,
    /// State.
    pub state: UploadState,
    /// S3 multipart id.
    pub multipart_id: Option<String>,
    /// S3 part ids.
    pub parts: Vec<String>,
    /// S3 part size.
    pub part_size: i64,
    /// Bytes in the spool file (S3).
    pub spooled: i64,
    /// When an unfinished upload is discarded.
    pub expires_at: String,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

#[derive(sqlx::FromRow)]
struct RawUpload {
    id: String,
    owner_id: i64,
    run_id: i64,
    file_name: String,
    length: i64,
    received: i64,
    state: String,
    multipart_id: Option<String>,
    parts: String,
    part_size: i64,
    spooled: i64,
    expires_at: String,
    created_at: String,
    updated_at: String,
}

impl TryFrom<RawUpload> for Upload {
    type Error = Error;

    fn try_from(r: RawUpload) -> Result<Self> {
        Ok(Upload {
            state: UploadState::parse(&r.state)?,
            parts: r
                .parts
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            id: r.id,
            owner_id: r.owner_id,
            run_id: r.run_id,
            file_name: r.file_name,
            length: r.length,
            received: r.received,
            multipart_id: r.multipart_id,
            part_size: r.part_size,
            spooled: r.spooled,
            expires_at: r.expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const UPLOAD_COLUMNS: &str = "id, owner_id, run_id, file_name, length, received, state, multipart_id, parts, part_size, spooled, expires_at, created_at, updated_at FROM uploads";

/// The current file of a run's declared file.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct FileRecord {
    /// Row id.
    pub id: i64,
    /// The run.
    pub run_id: i64,
    /// Declared name.
    pub name: String,
    /// The upload it came from.
    pub upload_id: String,
    /// Where its bytes are.
    pub storage_key: String,
    /// Size in bytes.
    pub size: i64,
    /// MD5, hex.
    pub md5: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Whether validation found no errors and the MD5 matched the declared one.
    pub valid: bool,
    /// The validation report, JSON.
    pub report: String,
    /// Whether it is at its archive key.
    pub archived: bool,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
    /// Last checksum audit.
    pub audited_at: Option<String>,
    /// Whether the last audit matched.
    pub audit_ok: Option<bool>,
}

const FILE_COLUMNS: &str = "id, run_id, name, upload_id, storage_key, size, md5, sha256, valid, report, archived, created_at, updated_at, audited_at, audit_ok FROM files";

/// A file to record after validation.
#[derive(Clone, Debug)]
pub struct NewFile {
    /// The run.
    pub run_id: i64,
    /// Declared name.
    pub name: String,
    /// The upload.
    pub upload_id: String,
    /// Where its bytes are.
    pub storage_key: String,
    /// Size.
    pub size: i64,
    /// MD5, hex.
    pub md5: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Whether it passed.
    pub valid: bool,
    /// The report, JSON.
    pub report: String,
}

/// Which kinds of job a worker takes.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum JobKinds {
    /// Every kind.
    #[default]
    All,
    /// Only this kind.
    Only(&'static str),
    /// Every kind but this one.
    AllBut(&'static str),
}

impl JobKinds {
    /// Whether `kind` is among them.
    pub fn includes(self, kind: &str) -> bool {
        match self {
            JobKinds::All => true,
            JobKinds::Only(only) => only == kind,
            JobKinds::AllBut(but) => but != kind,
        }
    }
}

/// A job.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// What to do (`validate_run`, `archive_submission`, `release_due`, `audit`, …).
    pub kind: String,
    /// What to do it to (a run id, a submission id, 0).
    pub subject_id: i64,
    /// `queued`, `running`, `done`, `failed`.
    pub state: String,
    /// Attempts so far, counting the current one.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// Not before.
    pub run_after: String,
    /// Worker holding the lease.
    pub lease_owner: Option<String>,
    /// Lease expiry.
    pub lease_until: Option<String>,
    /// Progress: units done.
    pub done: i64,
    /// Progress: units in all (0 when unknown).
    pub total: i64,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// What the job produced, in words.
    pub result: Option<String>,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

const JOB_COLUMNS: &str = "id, kind, subject_id, state, attempts, max_attempts, run_after, lease_owner, lease_until, done, total, last_error, result, created_at, updated_at";

impl Metastore {
    // ---- uploads ----

    /// Records a new upload, cancelling unfinished or unvalidated uploads of the same file.
    pub async fn create_upload(&self, upload: &Upload) -> Result<()> {
        with_tx!(self, |tx| {
            sqlx::query("UPDATE uploads SET state = 'cancelled', updated_at = $3 WHERE run_id = $1 AND file_name = $2 AND state IN ('receiving', 'received')")
                .bind(upload.run_id)
                .bind(&upload.file_name)
                .bind(&upload.created_at)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO uploads (id, owner_id, run_id, file_name, length, received, state, multipart_id, parts, part_size, spooled, expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)")
                .bind(&upload.id)
                .bind(upload.owner_id)
                .bind(upload.run_id)
                .bind(&upload.file_name)
                .bind(upload.length)
                .bind(upload.received)
                .bind(upload.state.as_str())
                .bind(&upload.multipart_id)
                .bind(upload.parts.join(","))
                .bind(upload.part_size)
                .bind(upload.spooled)
                .bind(&upload.expires_at)
                .bind(&upload.created_at)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Returns an upload.
    pub async fn upload(&self, id: &str) -> Result<Upload> {
        let sql = format!("SELECT {UPLOAD_COLUMNS} WHERE id = $1");
        let raw: Option<RawUpload> =
            with_pool!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?);
        raw.ok_or(Error::NotFound)?.try_into()
    }

    /// Lists uploads, newest first: of one owner, of one run, or in some states.
    pub async fn uploads(
        &self,
        owner_id: Option<i64>,
        run_id: Option<i64>,
        states: &[UploadState],
    ) -> Result<Vec<Upload>> {
        let mut sql = format!("SELECT {UPLOAD_COLUMNS} WHERE 1 = 1");
        if owner_id.is_some() {
            sql.push_str(" AND owner_id = $1");
        } else {
            sql.push_str(" AND $1 IS NULL");
        }
        if run_id.is_some() {
            sql.push_str(" AND run_id = $2");
        } else {
            sql.push_str(" AND $2 IS NULL");
        }
        if !states.is_empty() {
            let list: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
            sql.push_str(&format!(" AND state IN ({})", list.join(", ")));
        }
        sql.push_str(" ORDER BY created_at DESC, id");
        let raw: Vec<RawUpload> = with_pool!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner_id)
            .bind(run_id)
            .fetch_all(pool)
            .await?);
        raw.into_iter().map(Upload::try_from).collect()
    }

    /// Bytes a user has in uploads that are not cancelled or expired (for quotas).
    pub async fn upload_bytes(&self, owner_id: i64) -> Result<i64> {
        let n: Option<i64> = with_pool!(self, |pool| {
            sqlx::query_scalar(
            "SELECT CAST(SUM(length) AS BIGINT) FROM uploads WHERE owner_id = $1 AND state NOT IN ('cancelled', 'expired', 'invalid')"
        )
        .bind(owner_id)
        .fetch_one(pool)
        .await?
        });
        Ok(n.unwrap_or(0))
    }

    /// Stores an upload's progress while it is receiving; fails with a state mismatch when it was
    /// cancelled or finished meanwhile.
    pub async fn save_upload_progress(&self, upload: &Upload, now: &str) -> Result<()> {
        let n = with_pool!(self, |pool| {
            sqlx::query("UPDATE uploads SET received = $2, parts = $3, spooled = $4, state = $5, updated_at = $6 WHERE id = $1 AND state = 'receiving'")
            .bind(&upload.id)
            .bind(upload.received)
            .bind(upload.parts.join(","))
            .bind(upload.spooled)
            .bind(upload.state.as_str())
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n == 1 {
            Ok(())
        } else {
            Err(Error::StateMismatch {
                what: "upload",
                expected: "receiving".into(),
                actual: self.upload(&upload.id).await?.state.as_str().into(),
            })
        }
    }

    /// Moves an upload from one of `from` to `to`; returns whether it moved.
    pub async fn set_upload_state(
        &self,
        id: &str,
        from: &[UploadState],
        to: UploadState,
        now: &str,
    ) -> Result<bool> {
        let list: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let sql = format!(
            "UPDATE uploads SET state = $2, updated_at = $3 WHERE id = $1 AND state IN ({})",
            list.join(", ")
        );
        let n = with_pool!(self, |pool| sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(to.as_str())
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    // ---- files ----

    /// Records the validated file of a run's declared file, replacing the one before, and marks
    /// its upload valid or invalid: one transaction. Returns the replaced record, if any, so that
    /// its bytes can be removed.
    pub async fn put_file(&self, file: &NewFile, now: &str) -> Result<Option<FileRecord>> {
        let select = format!("SELECT {FILE_COLUMNS} WHERE run_id = $1 AND name = $2");
        Ok(with_tx!(self, |tx| {
            let old: Option<FileRecord> = sqlx::query_as(sqlx::AssertSqlSafe(select))
                .bind(file.run_id)
                .bind(&file.name)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(old) = &old {
                if old.upload_id == file.upload_id {
                    // A retried job: the same upload again changes nothing.
                    return Ok(None);
                }
                if old.archived {
                    return Err(Error::Conflict(format!(
                        "file {} of run {} is archived and cannot be replaced",
                        file.name, file.run_id
                    )));
                }
                sqlx::query("DELETE FROM files WHERE id = $1")
                    .bind(old.id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE uploads SET state = 'cancelled', updated_at = $2 WHERE id = $1",
                )
                .bind(&old.upload_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("INSERT INTO files (run_id, name, upload_id, storage_key, size, md5, sha256, valid, report, archived, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, $10, $10)")
                .bind(file.run_id)
                .bind(&file.name)
                .bind(&file.upload_id)
                .bind(&file.storage_key)
                .bind(file.size)
                .bind(&file.md5)
                .bind(&file.sha256)
                .bind(file.valid)
                .bind(&file.report)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let state = if file.valid {
                UploadState::Valid
            } else {
                UploadState::Invalid
            };
            sqlx::query("UPDATE uploads SET state = $2, updated_at = $3 WHERE id = $1")
                .bind(&file.upload_id)
                .bind(state.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            old
        }))
    }

    /// The current files of a run.
    pub async fn files_of_run(&self, run_id: i64) -> Result<Vec<FileRecord>> {
        let sql = format!("SELECT {FILE_COLUMNS} WHERE run_id = $1 ORDER BY id");
        Ok(with_pool!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql)
        )
        .bind(run_id)
        .fetch_all(pool)
        .await?))
    }

    /// The file stored at a key.
    pub async fn file_by_key(&self, key: &str) -> Result<Option<FileRecord>> {
        let sql = format!("SELECT {FILE_COLUMNS} WHERE storage_key = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql)
        )
        .bind(key)
        .fetch_optional(pool)
        .await?))
    }

    /// Files in id order after `after_id` (for fsck and audits).
    pub async fn files(&self, after_id: i64, limit: i64) -> Result<Vec<FileRecord>> {
        let sql = format!("SELECT {FILE_COLUMNS} WHERE id > $1 ORDER BY id LIMIT $2");
        Ok(with_pool!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql)
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// Records that a file now lives at its archive key.
    pub async fn set_file_archived(&self, id: i64, key: &str, now: &str) -> Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE files SET storage_key = $2, archived = TRUE, updated_at = $3 WHERE id = $1"
        )
        .bind(id)
        .bind(key)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Records a checksum audit of a file.
    pub async fn set_file_audit(&self, id: i64, ok: bool, now: &str) -> Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE files SET audited_at = $2, audit_ok = $3 WHERE id = $1"
        )
        .bind(id)
        .bind(now)
        .bind(ok)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    // ---- jobs ----

    /// Queues a job unless one of the same kind and subject is already queued (not running); returns its id.
    pub async fn enqueue(
        &self,
        kind: &str,
        subject_id: i64,
        max_attempts: i32,
        run_after: &str,
        now: &str,
    ) -> Result<Option<i64>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_scalar("INSERT INTO jobs (kind, subject_id, state, attempts, max_attempts, run_after, done, total, created_at, updated_at) VALUES ($1, $2, 'queued', 0, $3, $4, 0, 0, $5, $5) ON CONFLICT (kind, subject_id) WHERE state = 'queued' DO NOTHING RETURNING id")
            .bind(kind)
            .bind(subject_id)
            .bind(max_attempts)
            .bind(run_after)
            .bind(now)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Takes the next job that is due, or whose worker's lease ran out, for `worker` until
    /// `lease_until`. Jobs whose lease ran out on their last attempt fail instead.
    pub async fn claim_job(
        &self,
        worker: &str,
        lease_until: &str,
        now: &str,
    ) -> Result<Option<Job>> {
        self.claim_job_of(JobKinds::All, worker, lease_until, now)
            .await
    }

    /// [`Metastore::claim_job`], taking only jobs of the given kinds.
    pub async fn claim_job_of(
        &self,
        kinds: JobKinds,
        worker: &str,
        lease_until: &str,
        now: &str,
    ) -> Result<Option<Job>> {
        let lock = match self.backend {
            Backend::Sqlite(_) => "",
            Backend::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let (only, but) = match kinds {
            JobKinds::All => (None, None),
            JobKinds::Only(kind) => (Some(kind), None),
            JobKinds::AllBut(kind) => (None, Some(kind)),
        };
        let pick = format!(
            "SELECT id FROM jobs WHERE ((state = 'queued' AND run_after <= $1) OR (state = 'running' AND lease_until < $1)) AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR kind <> $3) ORDER BY id LIMIT 1{lock}"
        );
        let claim = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $2, lease_until = $3, updated_at = $4 WHERE id = $1 RETURNING {JOB_COLUMNS}"
        );
        Ok(with_tx!(self, |tx| {
            sqlx::query("UPDATE jobs SET state = 'failed', last_error = COALESCE(last_error, 'the worker stopped'), lease_owner = NULL, updated_at = $1 WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(pick))
                .bind(now)
                .bind(only)
                .bind(but)
                .fetch_optional(&mut *tx)
                .await?;
            match id {
                None => None,
                Some(id) => Some(
                    sqlx::query_as::<_, Job>(sqlx::AssertSqlSafe(claim))
                        .bind(id)
                        .bind(worker)
                        .bind(lease_until)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?,
                ),
            }
        }))
    }

    /// Extends a lease and records progress; returns false when the lease was lost.
    pub async fn heartbeat(
        &self,
        id: i64,
        worker: &str,
        lease_until: &str,
        done: i64,
        total: i64,
        now: &str,
    ) -> Result<bool> {
        let n = with_pool!(self, |pool| {
            sqlx::query("UPDATE jobs SET lease_until = $3, done = $4, total = $5, updated_at = $6 WHERE id = $1 AND lease_owner = $2 AND state = 'running'")
            .bind(id)
            .bind(worker)
            .bind(lease_until)
            .bind(done)
            .bind(total)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Marks a job done; returns false when the lease was lost (another worker has it).
    pub async fn complete_job(
        &self,
        id: i64,
        worker: &str,
        result: &str,
        now: &str,
    ) -> Result<bool> {
        let n = with_pool!(self, |pool| {
            sqlx::query("UPDATE jobs SET state = 'done', result = $3, lease_owner = NULL, lease_until = NULL, done = total, updated_at = $4 WHERE id = $1 AND lease_owner = $2 AND state = 'running'")
            .bind(id)
            .bind(worker)
            .bind(result)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Records a failed attempt: queued again after `retry_at`, or failed for good when no
    /// attempts are left.
    pub async fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: &str,
        now: &str,
    ) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE jobs SET state = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END, run_after = $4, last_error = $3, lease_owner = NULL, lease_until = NULL, updated_at = $5 WHERE id = $1 AND lease_owner = $2 AND state = 'running'")
            .bind(id)
            .bind(worker)
            .bind(error)
            .bind(retry_at)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    /// Returns a job.
    pub async fn job(&self, id: i64) -> Result<Job> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let job: Option<Job> = with_pool!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?);
        job.ok_or(Error::NotFound)
    }

    /// Lists jobs, newest first, optionally of one kind and subject.
    pub async fn jobs(
        &self,
        kind: Option<&str>,
        subject_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR subject_id = $2) ORDER BY id DESC LIMIT $3"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql)
        )
        .bind(kind)
        .bind(subject_id)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }
}

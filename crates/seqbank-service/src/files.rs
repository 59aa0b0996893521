//! Files: resumable uploads into staging, validation of a run's files, archiving on approval,
//! downloads by path, and the checks that keep the metastore and the object store in step.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use seqbank_core::{ObjectKind, Severity};
use seqbank_metadata::{Finding, Object as Metadata, Run};
use seqbank_metastore::{FileRecord, NewFile, Object, Upload, UploadState};
use seqbank_storage::{
    Storage, UploadState as Staged, is_safe_file_name, run_file_key, staging_key,
};
use serde::Serialize;

use crate::{
    Actor, Error, Result, Service,
    authz::{self, Action, Visibility},
};

/// Limits on uploads.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadConfig {
    /// Largest single file, bytes.
    pub max_size: u64,
    /// Bytes one user may have in uploads that are not cancelled, expired or refused.
    pub quota: u64,
    /// Hours an unfinished upload is kept.
    pub expire_hours: i64,
}

impl Default for UploadConfig {
    fn default() -> Self {
        Self {
            max_size: 1 << 40,
            quota: 10 << 40,
            expire_hours: 72,
        }
    }
}

/// Uploads being written to right now, so two requests never append to one upload at once.
#[derive(Clone, Debug, Default)]
pub(crate) struct InFlight(Arc<Mutex<HashSet<String>>>);

struct InFlightGuard(InFlight, String);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if let Ok(mut set) = (self.0).0.lock() {
            set.remove(&self.1);
        }
    }
}

impl InFlight {
    fn enter(&self, id: &str) -> Result<InFlightGuard> {
        let mut set = self
            .0
            .lock()
            .map_err(|_| Error::Internal("the upload registry is poisoned".into()))?;
        if !set.insert(id.to_owned()) {
            return Err(Error::Conflict(format!(
                "another request is writing to upload {id}; wait for it or ask for its offset"
            )));
        }
        Ok(InFlightGuard(self.clone(), id.to_owned()))
    }
}

/// An upload as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct UploadView {
    /// Id.
    pub id: String,
    /// The run's id.
    pub run_id: i64,
    /// The run's alias.
    pub run: String,
    /// The declared file name.
    pub file_name: String,
    /// Total length.
    pub length: i64,
    /// Bytes received.
    pub offset: i64,
    /// `receiving`, `received` (validation pending), `valid`, `invalid`, `cancelled`, `expired`.
    pub state: &'static str,
    /// When an unfinished upload is discarded.
    pub expires_at: String,
    /// Created.
    pub created_at: String,
    /// The validation of the run's files, once it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<JobView>,
    /// The file's checksums, stats and findings, once validated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileView>,
}

/// A job as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct JobView {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// What it works on.
    pub subject_id: i64,
    /// `queued`, `running`, `done`, `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i32,
    /// Units done (bytes for validation).
    pub done: i64,
    /// Units in all.
    pub total: i64,
    /// Last error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Result, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Queued.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

impl From<seqbank_metastore::Job> for JobView {
    fn from(j: seqbank_metastore::Job) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            subject_id: j.subject_id,
            state: j.state,
            attempts: j.attempts,
            done: j.done,
            total: j.total,
            error: j.last_error,
            result: j.result,
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

/// A run's file as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct FileView {
    /// Declared name.
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// MD5 of the bytes received.
    pub md5: String,
    /// SHA-256 of the bytes received.
    pub sha256: String,
    /// Whether it passed validation and matched its declared MD5.
    pub valid: bool,
    /// Whether it is in the archive tree (after approval).
    pub archived: bool,
    /// Download path under `/files/`, once archived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The validation report (stats and findings).
    pub report: serde_json::Value,
}

impl From<&FileRecord> for FileView {
    fn from(f: &FileRecord) -> Self {
        Self {
            name: f.name.clone(),
            size: f.size,
            md5: f.md5.clone(),
            sha256: f.sha256.clone(),
            valid: f.valid,
            archived: f.archived,
            path: f.archived.then(|| f.storage_key.clone()),
            report: serde_json::from_str(&f.report).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// How the files of a submission stand before review.
pub(crate) struct FileCheck {
    pub findings: Vec<Finding>,
    pub pending: usize,
}

/// What a path under `/files/` names.
#[derive(Debug)]
pub enum FileEntry {
    /// One file, to stream.
    File {
        /// The record (size, checksums, key).
        record: Box<FileRecord>,
        /// When it was archived, seconds since the epoch.
        modified: i64,
    },
    /// A folder: its entries (name, size, MD5; folders end with `/`).
    Listing(Vec<(String, Option<i64>, Option<String>)>),
    /// An `md5sum -c` manifest.
    Manifest(String),
}

fn run_of(object: &Object) -> Result<Run> {
    match Metadata::from_json(ObjectKind::Run, object.body.as_bytes()) {
        Ok(Metadata::Run(run)) => Ok(run),
        Ok(_) => Err(Error::Internal("a run that is not a run".into())),
        Err(e) => Err(Error::Internal(
            format!("stored run {} does not parse: {e}", object.id).into(),
        )),
    }
}

fn new_upload_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for an upload id: {e}").into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Records a durable staging state on the upload row.
fn record_staged(upload: &mut Upload, state: Staged) {
    upload.received = state.offset as i64;
    upload.parts = state.parts;
    upload.spooled = state.spooled as i64;
}

fn staged(upload: &Upload) -> Staged {
    Staged {
        id: upload.id.clone(),
        length: upload.length as u64,
        offset: upload.received as u64,
        multipart_id: upload.multipart_id.clone(),
        parts: upload.parts.clone(),
        part_size: upload.part_size as u64,
        spooled: upload.spooled as u64,
    }
}

impl Service {
    /// Returns the object store.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Returns the upload limits.
    pub fn upload_config(&self) -> &UploadConfig {
        &self.uploads
    }

    async fn run_for_upload(&self, actor: &Actor, reference: &str) -> Result<Object> {
        let user = actor.user()?;
        let object = match reference.parse::<i64>() {
            Ok(id) => match self.store.object(id).await {
                Ok(o) => Some(o),
                Err(seqbank_metastore::Error::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) => {
                self.store
                    .resolve(user.id, ObjectKind::Run, reference)
                    .await?
            }
        };
        let object = object
            .filter(|o| o.kind == ObjectKind::Run)
            .ok_or_else(|| Error::not_found("run"))?;
        authz::check_object(actor, &object, Action::Edit)?;
        Ok(object)
    }

    /// Starts a resumable upload of one declared file of a run (alias, accession or id).
    pub async fn create_upload(
        &self,
        actor: &Actor,
        run: &str,
        file_name: &str,
        length: u64,
    ) -> Result<UploadView> {
        let user = actor.user()?.clone();
        if !is_safe_file_name(file_name) {
            return Err(seqbank_metadata::ParseError::new(
                "Upload-Metadata.filename",
                format!("{file_name:?} is not a plain file name: no folders, '..', leading dots or control characters"),
            )
            .into());
        }
        let object = self.run_for_upload(actor, run).await?;
        let submission = self.store.submission(object.submission_id).await?;
        if !submission.status.is_editable() {
            return Err(Error::Conflict(format!(
                "submission {} is {}: files can be uploaded while it is a draft or returned",
                submission.id, submission.status
            )));
        }
        let declared = run_of(&object)?;
        if !declared.files.iter().any(|f| f.name == file_name) {
            let names: Vec<&str> = declared.files.iter().map(|f| f.name.as_str()).collect();
            return Err(seqbank_metadata::ParseError::new(
                "Upload-Metadata.filename",
                format!(
                    "run {} declares no file {file_name:?}; it declares {}",
                    object.alias,
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            )
            .into());
        }
        if length > self.uploads.max_size {
            return Err(Error::TooLarge(format!(
                "the file is {length} bytes; the largest allowed is {}",
                self.uploads.max_size
            )));
        }
        let used = self.store.upload_bytes(user.id).await?.max(0) as u64;
        if used + length > self.uploads.quota {
            return Err(Error::TooLarge(format!(
                "over quota: you have {used} bytes in uploads, this one adds {length}, and the quota is {}",
                self.uploads.quota
            )));
        }
        let id = new_upload_id()?;
        let state = self
            .storage
            .begin_upload(&id, length)
            .await
            .map_err(Error::from)?;
        let upload = Upload {
            id,
            owner_id: user.id,
            run_id: object.id,
            file_name: file_name.to_owned(),
            length: length as i64,
            received: 0,
            state: UploadState::Receiving,
            multipart_id: state.multipart_id,
            parts: Vec::new(),
            part_size: state.part_size as i64,
            spooled: 0,
            expires_at: self
                .clock
                .text_in(jiff::SignedDuration::from_hours(self.uploads.expire_hours)),
            created_at: self.clock.now_text(),
            updated_at: self.clock.now_text(),
        };
        self.store.create_upload(&upload).await?;
        if length == 0 {
            // Nothing to wait for: an empty file is complete at once.
            let mut appender = self
                .storage
                .append(&staged(&upload))
                .await
                .map_err(Error::from)?;
            appender.write(&[]).await.map_err(Error::from)?;
            appender.finish().await.map_err(Error::from)?;
            self.upload_complete(&upload).await?;
        }
        self.upload_view(self.store.upload(&upload.id).await?).await
    }

    async fn load_upload(&self, actor: &Actor, id: &str) -> Result<Upload> {
        let user = actor.user()?;
        let upload = match self.store.upload(id).await {
            Ok(u) => u,
            Err(seqbank_metastore::Error::NotFound) => return Err(Error::NotFound("upload")),
            Err(e) => return Err(e.into()),
        };
        if upload.owner_id != user.id && !actor.is_curator() {
            return Err(Error::NotFound("upload"));
        }
        Ok(upload)
    }

    async fn upload_view(&self, upload: Upload) -> Result<UploadView> {
        let run = self.store.object(upload.run_id).await?;
        let validation = self
            .store
            .jobs(Some("validate_run"), Some(upload.run_id), 1)
            .await?
            .into_iter()
            .next()
            .filter(|_| upload.state != UploadState::Receiving)
            .map(JobView::from);
        let file = self
            .store
            .files_of_run(upload.run_id)
            .await?
            .iter()
            .find(|f| f.upload_id == upload.id)
            .map(FileView::from);
        Ok(UploadView {
            id: upload.id,
            run_id: run.id,
            run: run.alias,
            file_name: upload.file_name,
            length: upload.length,
            offset: upload.received,
            state: upload.state.as_str(),
            expires_at: upload.expires_at,
            created_at: upload.created_at,
            validation,
            file,
        })
    }

    /// Returns an upload (its owner and curators).
    pub async fn upload(&self, actor: &Actor, id: &str) -> Result<UploadView> {
        let upload = self.load_upload(actor, id).await?;
        let upload = self.expire_if_due(upload).await?;
        self.upload_view(upload).await
    }

    /// The actor's uploads, newest first; of one run (row id) when given.
    pub async fn uploads(&self, actor: &Actor, run_id: Option<i64>) -> Result<Vec<UploadView>> {
        let user = actor.user()?;
        let mut out = Vec::new();
        for upload in self.store.uploads(Some(user.id), run_id, &[]).await? {
            out.push(self.upload_view(upload).await?);
        }
        Ok(out)
    }

    async fn expire_if_due(&self, upload: Upload) -> Result<Upload> {
        if upload.state == UploadState::Receiving && upload.expires_at < self.clock.now_text() {
            self.storage
                .abort_upload(&staged(&upload))
                .await
                .map_err(Error::from)?;
            self.store
                .set_upload_state(
                    &upload.id,
                    &[UploadState::Receiving],
                    UploadState::Expired,
                    &self.clock.now_text(),
                )
                .await?;
            return Ok(self.store.upload(&upload.id).await?);
        }
        Ok(upload)
    }

    /// Appends the bytes of one request at `offset` (which must be the upload's offset). Whatever
    /// arrives before the body ends or breaks is kept; the returned view has the new offset.
    pub async fn append_upload<S, E>(
        &self,
        actor: &Actor,
        id: &str,
        offset: u64,
        body: S,
    ) -> Result<UploadView>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let upload = self.load_upload(actor, id).await?;
        let _guard = self.in_flight.enter(id)?;
        let mut upload = self.expire_if_due(upload).await?;
        match upload.state {
            UploadState::Receiving => {}
            UploadState::Expired => {
                return Err(Error::Gone(format!(
                    "upload {id} expired at {}; start a new one",
                    upload.expires_at
                )));
            }
            UploadState::Cancelled => {
                return Err(Error::Gone(format!(
                    "upload {id} was cancelled or replaced by a newer upload of the same file"
                )));
            }
            _ => {
                return Err(Error::Conflict(format!(
                    "upload {id} is complete ({} bytes)",
                    upload.length
                )));
            }
        }
        if offset != upload.received as u64 {
            return Err(Error::Conflict(format!(
                "Upload-Offset {offset} does not match the upload's offset {}; ask for it with HEAD and resume from there",
                upload.received
            )));
        }
        let mut appender = self
            .storage
            .append(&staged(&upload))
            .await
            .map_err(Error::from)?;
        let mut body = body;
        let mut failure = None;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    tracing::info!(upload = id, "request body ended early: {e}");
                    break;
                }
            };
            match appender.write(&chunk).await {
                Ok(Some(state)) => {
                    record_staged(&mut upload, state);
                    self.store
                        .save_upload_progress(&upload, &self.clock.now_text())
                        .await?;
                }
                Ok(None) => {}
                Err(seqbank_storage::Error::Config(message)) => {
                    failure = Some(Error::BadRequest(seqbank_metadata::ParseError::new(
                        "body", message,
                    )));
                    break;
                }
                Err(e) => {
                    failure = Some(e.into());
                    break;
                }
            }
        }
        record_staged(&mut upload, appender.finish().await?);
        self.store
            .save_upload_progress(&upload, &self.clock.now_text())
            .await?;
        if upload.received == upload.length {
            self.upload_complete(&upload).await?;
        }
        if let Some(failure) = failure {
            return Err(failure);
        }
        self.upload_view(self.store.upload(id).await?).await
    }

    async fn upload_complete(&self, upload: &Upload) -> Result<()> {
        let now = self.clock.now_text();
        self.store
            .set_upload_state(
                &upload.id,
                &[UploadState::Receiving],
                UploadState::Received,
                &now,
            )
            .await?;
        self.store
            .enqueue("validate_run", upload.run_id, 5, &now, &now)
            .await?;
        Ok(())
    }

    /// Cancels an upload and discards its bytes (tus termination).
    pub async fn cancel_upload(&self, actor: &Actor, id: &str) -> Result<()> {
        let upload = self.load_upload(actor, id).await?;
        let _guard = self.in_flight.enter(id)?;
        if !matches!(upload.state, UploadState::Receiving | UploadState::Received) {
            return Err(Error::Conflict(format!(
                "upload {id} is {}; only unfinished or unvalidated uploads can be cancelled",
                upload.state.as_str()
            )));
        }
        if self
            .store
            .set_upload_state(
                id,
                &[UploadState::Receiving, UploadState::Received],
                UploadState::Cancelled,
                &self.clock.now_text(),
            )
            .await?
        {
            self.storage
                .abort_upload(&staged(&upload))
                .await
                .map_err(Error::from)?;
        }
        Ok(())
    }

    /// Discards unfinished uploads past their expiry time; returns how many.
    pub async fn expire_uploads(&self) -> Result<usize> {
        let mut n = 0;
        for upload in self
            .store
            .uploads(None, None, &[UploadState::Receiving])
            .await?
        {
            let run_id = upload.run_id;
            if self.expire_if_due(upload).await?.state == UploadState::Expired {
                n += 1;
                // A submission waiting for this file now has its answer: the file is missing.
                let run = self.store.object(run_id).await?;
                self.advance_submission(run.submission_id).await?;
            }
        }
        Ok(n)
    }

    // ---- validation ----

    /// Validates the files of a run once each declared file has arrived (the `validate_run`
    /// job). Progress goes to `progress` (bytes done, bytes in all). Returns what it did.
    pub async fn validate_run_files(
        &self,
        run_id: i64,
        progress: Arc<(AtomicU64, AtomicU64)>,
    ) -> Result<String> {
        let object = self.store.object(run_id).await?;
        let run = run_of(&object)?;
        let uploads = self.store.uploads(None, Some(run_id), &[]).await?;
        let current: Vec<Option<&Upload>> = run
            .files
            .iter()
            .map(|f| {
                uploads.iter().find(|u| {
                    u.file_name == f.name
                        && matches!(
                            u.state,
                            UploadState::Received | UploadState::Valid | UploadState::Invalid
                        )
                })
            })
            .collect();
        let missing: Vec<&str> = run
            .files
            .iter()
            .zip(&current)
            .filter(|(_, u)| u.is_none())
            .map(|(f, _)| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Ok(format!("waiting for {}", missing.join(", ")));
        }
        let current: Vec<&Upload> = current.into_iter().flatten().collect();
        if !current.iter().any(|u| u.state == UploadState::Received) {
            return Ok("every file is validated already".into());
        }
        let total: i64 = current.iter().map(|u| u.length).sum();
        progress.1.store(total as u64, Ordering::Relaxed);
        let mut readers = Vec::new();
        for (file, upload) in run.files.iter().zip(&current) {
            let reader = self
                .storage
                .reader(&staging_key(&upload.id))
                .await
                .map_err(Error::from)?;
            readers.push((
                file.name.clone(),
                Counting {
                    inner: reader,
                    done: progress.clone(),
                },
            ));
        }
        let report = tokio::task::spawn_blocking(move || {
            let config = seqbank_formats::Config::default();
            seqbank_formats::validate_run(readers, &config)
        })
        .await
        .map_err(|e| Error::Internal(Box::new(e)))?
        .map_err(|e| Error::Unavailable(format!("reading the uploaded files failed: {e}")))?;
        let run_findings: Vec<serde_json::Value> = report
            .findings()
            .iter()
            .map(seqbank_formats::json::finding_json)
            .collect();
        let run_ok = !report.findings().iter().any(|f| f.severity().is_error());
        let now = self.clock.now_text();
        let mut verdicts = Vec::new();
        for ((file, upload), file_report) in run.files.iter().zip(&current).zip(report.files()) {
            let md5 = file_report.md5().map(|m| m.to_string()).unwrap_or_default();
            let sha256 = file_report
                .sha256()
                .map(|s| s.to_string())
                .unwrap_or_default();
            let md5_ok = md5.eq_ignore_ascii_case(&file.md5);
            let mut json = seqbank_formats::json::file_json(&file.name, file_report);
            json["declared_md5"] = serde_json::Value::from(file.md5.clone());
            json["md5_matches"] = serde_json::Value::from(md5_ok);
            json["run_findings"] = serde_json::Value::from(run_findings.clone());
            let valid = md5_ok && file_report.is_valid() && run_ok;
            verdicts.push(format!(
                "{}: {}",
                file.name,
                if valid {
                    "valid"
                } else if !md5_ok {
                    "MD5 mismatch"
                } else {
                    "invalid"
                }
            ));
            let replaced = self
                .store
                .put_file(
                    &NewFile {
                        run_id,
                        name: file.name.clone(),
                        upload_id: upload.id.clone(),
                        storage_key: staging_key(&upload.id),
                        size: file_report.size() as i64,
                        md5,
                        sha256,
                        valid,
                        report: json.to_string(),
                    },
                    &now,
                )
                .await?;
            if let Some(old) = replaced {
                match self.storage.delete(&old.storage_key).await {
                    Ok(()) | Err(seqbank_storage::Error::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.advance_submission(object.submission_id).await?;
        Ok(verdicts.join("; "))
    }

    /// Checks the files of a submission's runs: errors for missing or refused files, and how
    /// many are still being received or validated.
    pub(crate) async fn check_files(&self, objects: &[Object]) -> Result<FileCheck> {
        let mut check = FileCheck {
            findings: Vec::new(),
            pending: 0,
        };
        for object in objects.iter().filter(|o| o.kind == ObjectKind::Run) {
            let run = run_of(object)?;
            let files = self.store.files_of_run(object.id).await?;
            let uploads = self.store.uploads(None, Some(object.id), &[]).await?;
            for (i, declared) in run.files.iter().enumerate() {
                let path = format!("runs[{}].files[{i}]", run.alias);
                let record = files.iter().find(|f| f.name == declared.name);
                let newer = uploads.iter().find(|u| {
                    u.file_name == declared.name
                        && matches!(u.state, UploadState::Receiving | UploadState::Received)
                });
                match (record, newer) {
                    (_, Some(_)) => check.pending += 1,
                    (None, None) => check.findings.push(Finding::error(
                        "file.not_uploaded",
                        path,
                        format!(
                            "file {} of run {} has not been uploaded; upload it with `seqbank upload {} --run {}` or any tus client",
                            declared.name, run.alias, declared.name, run.alias
                        ),
                    )),
                    (Some(f), None) if !f.md5.eq_ignore_ascii_case(&declared.md5) => {
                        check.findings.push(Finding::error(
                            "file.md5_mismatch",
                            path,
                            format!(
                                "file {} of run {} has MD5 {}, but the run declares {}: the file changed in transit or the declared MD5 is wrong",
                                declared.name, run.alias, f.md5, declared.md5
                            ),
                        ))
                    }
                    (Some(f), None) if !f.valid => check.findings.push(Finding::error(
                        "file.invalid",
                        path,
                        format!(
                            "file {} of run {} failed validation: {}",
                            declared.name,
                            run.alias,
                            summarize(&f.report)
                        ),
                    )),
                    (Some(_), None) => {}
                }
            }
        }
        Ok(check)
    }

    /// Moves the files of an approved submission's runs into the archive tree (the
    /// `archive_submission` job). Safe to run again.
    pub async fn archive_submission_files(&self, submission_id: i64) -> Result<String> {
        let objects = self.submission_objects(submission_id).await?;
        let mut moved = 0;
        for object in objects.iter().filter(|o| o.kind == ObjectKind::Run) {
            let Some(accession) = &object.accession else {
                continue;
            };
            for file in self.store.files_of_run(object.id).await? {
                if file.archived {
                    continue;
                }
                let key = run_file_key(accession, &file.name);
                self.storage
                    .commit(&file.storage_key, &key)
                    .await
                    .map_err(Error::from)?;
                self.store
                    .set_file_archived(file.id, &key, &self.clock.now_text())
                    .await?;
                moved += 1;
            }
        }
        Ok(format!("{moved} files archived"))
    }

    /// Re-reads archived files and compares their MD5 and SHA-256 with the recorded ones (the
    /// `audit` job). Returns the keys that differ or are missing.
    pub async fn audit_files(&self, progress: Arc<(AtomicU64, AtomicU64)>) -> Result<Vec<String>> {
        let mut bad = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store.files(after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            progress
                .1
                .fetch_add(page.iter().map(|f| f.size as u64).sum(), Ordering::Relaxed);
            for file in page {
                let ok = match self.hash_object(&file.storage_key, progress.clone()).await {
                    Ok((size, md5, sha256)) => {
                        size == file.size as u64 && md5 == file.md5 && sha256 == file.sha256
                    }
                    Err(Error::NotFound(_)) => false,
                    Err(e) => return Err(e),
                };
                self.store
                    .set_file_audit(file.id, ok, &self.clock.now_text())
                    .await?;
                if !ok {
                    tracing::error!(key = file.storage_key, "checksum audit failed");
                    bad.push(file.storage_key);
                }
            }
        }
        Ok(bad)
    }

    /// Hashes a stored object: size, MD5 and SHA-256, hex.
    pub async fn hash_object(
        &self,
        key: &str,
        progress: Arc<(AtomicU64, AtomicU64)>,
    ) -> Result<(u64, String, String)> {
        let mut stream = match self.storage.get(key, None).await {
            Ok(s) => s,
            Err(seqbank_storage::Error::NotFound(_)) => return Err(Error::NotFound("file")),
            Err(e) => return Err(e.into()),
        };
        let mut md5 = seqbank_formats::md5::Md5Hasher::new();
        let mut sha = <sha2::Sha256 as sha2::Digest>::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(Error::from)?;
            md5.update(&chunk);
            sha2::Digest::update(&mut sha, &chunk);
            size += chunk.len() as u64;
            progress.0.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        Ok((
            size,
            md5.finalize().to_string(),
            hex(&sha2::Digest::finalize(sha)),
        ))
    }

    // ---- downloads ----

    /// Resolves a path under `/files/` for the actor: a file, a folder listing, or a project's
    /// MD5 manifest. Private files are found only by their owner and curators.
    pub async fn file_entry(&self, actor: &Actor, path: &str) -> Result<FileEntry> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        match parts.as_slice() {
            [] => Ok(FileEntry::Listing(vec![
                ("runs/".into(), None, None),
                ("projects/".into(), None, None),
            ])),
            ["runs", group, accession, name] => {
                let key = run_file_key(accession, name);
                if !key.starts_with(&format!("runs/{group}/")) {
                    return Err(Error::NotFound("file"));
                }
                self.archived_file(actor, accession, name).await
            }
            ["runs", _, accession] => {
                let run = self.visible_run(actor, accession).await?;
                Ok(FileEntry::Listing(self.run_listing(&run, "").await?))
            }
            ["projects", project, rest @ ..] => {
                let project = self.visible(actor, ObjectKind::Project, project).await?;
                let runs = self.project_runs(actor, &project).await?;
                match rest {
                    [] => {
                        let mut out = Vec::new();
                        for run in &runs {
                            out.extend(
                                self.run_listing(run, &format!("{}/", accession_of(run)))
                                    .await?,
                            );
                        }
                        out.push(("md5sum.txt".into(), None, None));
                        Ok(FileEntry::Listing(out))
                    }
                    ["md5sum.txt"] => {
                        let mut text = String::new();
                        for run in &runs {
                            for file in self.store.files_of_run(run.id).await? {
                                if file.archived {
                                    text.push_str(&format!(
                                        "{}  {}/{}\n",
                                        file.md5,
                                        accession_of(run),
                                        file.name
                                    ));
                                }
                            }
                        }
                        Ok(FileEntry::Manifest(text))
                    }
                    [run, name] if runs.iter().any(|r| accession_of(r) == *run) => {
                        self.archived_file(actor, run, name).await
                    }
                    [run] if runs.iter().any(|r| accession_of(r) == *run) => {
                        let run = self.visible_run(actor, run).await?;
                        Ok(FileEntry::Listing(self.run_listing(&run, "").await?))
                    }
                    _ => Err(Error::NotFound("file")),
                }
            }
            _ => Err(Error::NotFound("file")),
        }
    }

    async fn visible(&self, actor: &Actor, kind: ObjectKind, accession: &str) -> Result<Object> {
        let object = self
            .store
            .object_by_accession(accession)
            .await?
            .filter(|o| o.kind == kind)
            .ok_or(Error::NotFound("file"))?;
        match authz::object_visibility(actor, &object) {
            Ok(Visibility::Full | Visibility::Public) => Ok(object),
            _ => Err(Error::NotFound("file")),
        }
    }

    async fn visible_run(&self, actor: &Actor, accession: &str) -> Result<Object> {
        self.visible(actor, ObjectKind::Run, accession).await
    }

    async fn archived_file(&self, actor: &Actor, accession: &str, name: &str) -> Result<FileEntry> {
        let run = self.visible_run(actor, accession).await?;
        let record = self
            .store
            .files_of_run(run.id)
            .await?
            .into_iter()
            .find(|f| f.name == name && f.archived)
            .ok_or(Error::NotFound("file"))?;
        let modified = record
            .updated_at
            .parse::<jiff::Timestamp>()
            .map_or(0, |t| t.as_second());
        Ok(FileEntry::File {
            record: Box::new(record),
            modified,
        })
    }

    async fn run_listing(
        &self,
        run: &Object,
        prefix: &str,
    ) -> Result<Vec<(String, Option<i64>, Option<String>)>> {
        Ok(self
            .store
            .files_of_run(run.id)
            .await?
            .into_iter()
            .filter(|f| f.archived)
            .map(|f| (format!("{prefix}{}", f.name), Some(f.size), Some(f.md5)))
            .collect())
    }

    async fn project_runs(&self, actor: &Actor, project: &Object) -> Result<Vec<Object>> {
        // Runs point at experiments, experiments at samples (and projects), samples at projects:
        // walk the links down from the project.
        let mut runs = Vec::new();
        let mut seen = HashSet::from([project.id]);
        let mut frontier = vec![project.id];
        for _ in 0..3 {
            let mut next = Vec::new();
            for id in frontier {
                for from in self.store.links_to(id).await? {
                    if !seen.insert(from) {
                        continue;
                    }
                    let object = self.store.object(from).await?;
                    if object.kind == ObjectKind::Run {
                        if object.accession.is_some()
                            && matches!(
                                authz::object_visibility(actor, &object),
                                Ok(Visibility::Full | Visibility::Public)
                            )
                        {
                            runs.push(object);
                        }
                    } else {
                        next.push(from);
                    }
                }
            }
            frontier = next;
        }
        runs.sort_by(|a, b| a.accession.cmp(&b.accession));
        Ok(runs)
    }

    /// The files of a run the actor may see, with their validation reports.
    pub async fn run_files(&self, actor: &Actor, key: &str) -> Result<Vec<FileView>> {
        let (object, _) = self
            .load_object(actor, ObjectKind::Run, key, Action::View)
            .await?;
        self.visible_files(actor, &object).await
    }

    /// Jobs, newest first (curators), or the jobs of one subject.
    pub async fn jobs(
        &self,
        actor: &Actor,
        kind: Option<&str>,
        subject_id: Option<i64>,
    ) -> Result<Vec<JobView>> {
        if !actor.is_curator() {
            actor.user()?;
            return Err(Error::Forbidden(
                "only curators and admins see the job queue".into(),
            ));
        }
        Ok(self
            .store
            .jobs(kind, subject_id, 200)
            .await?
            .into_iter()
            .map(JobView::from)
            .collect())
    }
}

fn accession_of(object: &Object) -> &str {
    object.accession.as_deref().unwrap_or("")
}

/// One line about what made a file invalid, from its stored report.
fn summarize(report: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(report) else {
        return "see its report".into();
    };
    if json["md5_matches"] == serde_json::Value::Bool(false) {
        return format!(
            "its MD5 {} differs from the declared {}",
            json["md5"].as_str().unwrap_or("?"),
            json["declared_md5"].as_str().unwrap_or("?")
        );
    }
    let errors: Vec<String> = json["findings"]
        .as_array()
        .into_iter()
        .chain(json["run_findings"].as_array())
        .flatten()
        .filter(|f| f["severity"] == Severity::Error.as_str())
        .map(|f| {
            let line = f["line"]
                .as_u64()
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            format!(
                "{}{line}: {}",
                f["code"].as_str().unwrap_or("?"),
                f["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    match errors.as_slice() {
        [] => "see its report".into(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

/// Counts bytes read into a progress pair.
struct Counting<R> {
    inner: R,
    done: Arc<(AtomicU64, AtomicU64)>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

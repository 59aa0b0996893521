//! The job worker: takes jobs from the metastore's queue under a lease, runs them, and reports
//! progress; a worker that dies loses its lease and another takes the job over.
//!
//! Every handler is idempotent: running a job twice (after a crash between its work and its
//! completion) leaves the same state as running it once.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use seqbank_metastore::JobKinds;

use crate::{Error, Result, Service};

/// Kinds of jobs.
pub mod kind {
    /// Validate a run's uploaded files (subject: run id).
    pub const VALIDATE_RUN: &str = "validate_run";
    /// Move an approved submission's files into the archive tree (subject: submission id).
    pub const ARCHIVE_SUBMISSION: &str = "archive_submission";
    /// Release objects whose hold date has come (subject 0).
    pub const RELEASE_DUE: &str = "release_due";
    /// Discard unfinished uploads past their expiry (subject 0).
    pub const EXPIRE_UPLOADS: &str = "expire_uploads";
    /// Re-hash every archived file and compare (subject 0).
    pub const AUDIT: &str = "audit";
    /// Import the day's mirror dumps (subject 0).
    pub const MIRROR_UPDATE: &str = "mirror_update";
}

/// How a worker behaves.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Name in leases (host and process by default).
    pub name: String,
    /// How long a lease lasts without a heartbeat.
    pub lease: Duration,
    /// How long to sleep when there is nothing to do.
    pub idle: Duration,
    /// Whether this worker also queues the periodic jobs (release, expiry, audit, the daily
    /// mirror update).
    pub schedule: bool,
    /// The kinds of job it takes, and of the periodic ones, those it queues.
    pub kinds: JobKinds,
    /// Days between checksum audits (0: never).
    pub audit_days: u32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            name: format!(
                "{}-{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "seqbank".into()),
                std::process::id()
            ),
            lease: Duration::from_secs(60),
            idle: Duration::from_secs(1),
            schedule: true,
            kinds: JobKinds::All,
            audit_days: 7,
        }
    }
}

fn later(service: &Service, by: Duration) -> String {
    service
        .clock()
        .text_in(jiff::SignedDuration::try_from(by).unwrap_or_default())
}

/// A job worker.
#[derive(Clone, Debug)]
pub struct Worker {
    service: Service,
    config: WorkerConfig,
}

impl Worker {
    /// Creates a worker.
    pub fn new(service: Service, config: WorkerConfig) -> Self {
        Self { service, config }
    }

    /// Runs jobs until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut last_schedule = None::<std::time::Instant>;
        loop {
            if self.config.schedule
                && last_schedule.is_none_or(|t| t.elapsed() > Duration::from_secs(60))
            {
                last_schedule = Some(std::time::Instant::now());
                if let Err(e) = self.schedule().await {
                    tracing::warn!("scheduling periodic jobs failed: {e}");
                }
            }
            let worked = match self.run_once().await {
                Ok(worked) => worked,
                Err(e) => {
                    tracing::warn!("the job queue failed: {e}");
                    false
                }
            };
            if worked {
                continue;
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.config.idle) => {}
            }
        }
    }

    /// Queues the periodic jobs (each at most once in the queue).
    pub async fn schedule(&self) -> Result<()> {
        let store = self.service.store();
        let now = self.service.clock().now_text();
        let wanted = |k: &str| self.config.kinds.includes(k);
        if wanted(kind::MIRROR_UPDATE) && self.service.mirror_update_due().await? {
            store.enqueue(kind::MIRROR_UPDATE, 0, 3, &now, &now).await?;
        }
        for periodic in [kind::RELEASE_DUE, kind::EXPIRE_UPLOADS] {
            if wanted(periodic) {
                store.enqueue(periodic, 0, 3, &now, &now).await?;
            }
        }
        if self.config.audit_days > 0 && wanted(kind::AUDIT) {
            let recent = store.jobs(Some(kind::AUDIT), Some(0), 1).await?;
            let due = recent.first().is_none_or(|j| {
                let next = j.created_at.parse::<jiff::Timestamp>().ok().and_then(|t| {
                    t.checked_add(jiff::SignedDuration::from_hours(
                        24 * i64::from(self.config.audit_days),
                    ))
                    .ok()
                });
                next.is_some_and(|next| crate::Clock::text(next) <= now)
            });
            if due {
                store.enqueue(kind::AUDIT, 0, 3, &now, &now).await?;
            }
        }
        Ok(())
    }

    /// Takes one job and runs it; returns whether there was one.
    pub async fn run_once(&self) -> Result<bool> {
        let store = self.service.store();
        let now = self.service.clock().now_text();
        let lease_until = later(&self.service, self.config.lease);
        let Some(job) = store
            .claim_job_of(self.config.kinds, &self.config.name, &lease_until, &now)
            .await?
        else {
            return Ok(false);
        };
        tracing::info!(
            job = job.id,
            kind = job.kind,
            subject = job.subject_id,
            attempt = job.attempts,
            "job started"
        );
        let progress = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let heartbeat = {
            let service = self.service.clone();
            let progress = progress.clone();
            let name = self.config.name.clone();
            let lease = self.config.lease;
            let id = job.id;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    let until = later(&service, lease);
                    let done = progress.0.load(Ordering::Relaxed) as i64;
                    let total = progress.1.load(Ordering::Relaxed) as i64;
                    match service
                        .store()
                        .heartbeat(id, &name, &until, done, total, &service.clock().now_text())
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(job = id, "lease lost; another worker has the job");
                            return;
                        }
                        Err(e) => tracing::warn!(job = id, "heartbeat failed: {e}"),
                    }
                }
            })
        };
        let outcome = self.handle(&job, progress).await;
        heartbeat.abort();
        let now = self.service.clock().now_text();
        match outcome {
            Ok(result) => {
                tracing::info!(job = job.id, kind = job.kind, "job done: {result}");
                store
                    .complete_job(job.id, &self.config.name, &result, &now)
                    .await?;
            }
            Err(e) => {
                let backoff = Duration::from_secs(5 * (1 << job.attempts.clamp(0, 10)));
                tracing::warn!(
                    job = job.id,
                    kind = job.kind,
                    attempt = job.attempts,
                    "job failed: {e}"
                );
                store
                    .fail_job(
                        job.id,
                        &self.config.name,
                        &e.to_string(),
                        &later(&self.service, backoff),
                        &now,
                    )
                    .await?;
            }
        }
        Ok(true)
    }

    async fn handle(
        &self,
        job: &seqbank_metastore::Job,
        progress: Arc<(AtomicU64, AtomicU64)>,
    ) -> Result<String> {
        let service = &self.service;
        let subject = job.subject_id;
        match job.kind.as_str() {
            kind::VALIDATE_RUN => service.validate_run_files(subject, progress).await,
            kind::ARCHIVE_SUBMISSION => service.archive_submission_files(subject).await,
            kind::RELEASE_DUE => Ok(format!("{} objects released", service.release_due().await?)),
            kind::EXPIRE_UPLOADS => Ok(format!(
                "{} uploads expired",
                service.expire_uploads().await?
            )),
            kind::AUDIT => {
                let bad = service.audit_files(progress).await?;
                if bad.is_empty() {
                    Ok("every archived file matches its checksums".into())
                } else {
                    Ok(format!(
                        "{} files differ or are missing: {}",
                        bad.len(),
                        bad.join(", ")
                    ))
                }
            }
            kind::MIRROR_UPDATE => service.mirror_update(&job.created_at, progress).await,
            other => Err(Error::Internal(
                format!("unknown job kind {other:?}").into(),
            )),
        }
    }
}

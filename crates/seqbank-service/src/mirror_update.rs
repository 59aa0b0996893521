//! The daily mirror update: a job (`mirror_update`) that a worker queues once a day at the
//! configured time and that imports the configured dumps in order.
//!
//! - A dump named by URL is downloaded into `downloads/YYYY-MM-DD/` (the day the job was queued)
//!   first; the day's folder is removed once every dump of the day has been imported, so a
//!   retry reuses what was already fetched and nothing piles up.
//! - `{date}` and `{yesterday}` in a path or URL stand for that day and the one before, as
//!   `YYYYMMDD` (NCBI names its daily SRA tarballs so).
//! - A retry of the job skips the dumps it already imported whole; an import interrupted part
//!   way resumes where it stopped, as a `seqbank mirror import` does.
//! - Any dump that fails fails the job, which is retried with backoff; the imports that did
//!   complete stay.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use seqbank_mirror::Source;
use serde::Serialize;

use crate::{Clock, Error, JobView, Result, Service, jobs::kind, mirror::ImportProgress};

/// What the daily update imports, and when (`[mirror]` in the configuration).
#[derive(Clone, Debug, Serialize)]
pub struct MirrorPlan {
    /// Time of day it starts, UTC, `HH:MM`.
    pub at: String,
    /// The dumps, applied in this order.
    pub sources: Vec<PlannedDump>,
    /// Where dumps named by URL are downloaded.
    #[serde(skip)]
    pub downloads: PathBuf,
    #[serde(skip)]
    minute_of_day: u32,
}

/// One dump of the daily update.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedDump {
    /// Which reader.
    pub source: Source,
    /// A file or folder, or an http(s) URL; may hold `{date}` or `{yesterday}`.
    pub path: String,
}

/// The daily update as the status page shows it.
#[derive(Debug, Serialize)]
pub struct MirrorSchedule {
    /// The plan.
    #[serde(flatten)]
    pub plan: MirrorPlan,
    /// When it next starts (now, if it is due and waits for a worker).
    pub next_run: String,
    /// The latest runs, newest first.
    pub runs: Vec<JobView>,
}

impl MirrorPlan {
    /// A plan starting at `at` (`HH:MM`, UTC).
    pub fn new(
        at: &str,
        sources: Vec<PlannedDump>,
        downloads: PathBuf,
    ) -> std::result::Result<Self, String> {
        let minute_of_day = at
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
            .filter(|(h, m)| *h < 24 && *m < 60 && at.len() == 5)
            .map(|(h, m)| h * 60 + m)
            .ok_or_else(|| format!("[mirror] at = {at:?} is not a time of day as HH:MM"))?;
        if sources.is_empty() {
            return Err(
                "[mirror] lists no sources: add [[mirror.sources]] with source and path".into(),
            );
        }
        Ok(Self {
            at: at.to_owned(),
            sources,
            downloads,
            minute_of_day,
        })
    }

    /// The start time on `day` (UTC).
    fn start_on(&self, day: Date) -> Timestamp {
        let (hour, minute) = (self.minute_of_day / 60, self.minute_of_day % 60);
        day.at(hour as i8, minute as i8, 0, 0)
            .to_zoned(TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// `path` with `{date}` and `{yesterday}` filled in for `day`.
pub fn dated(path: &str, day: Date) -> String {
    let compact = |d: Date| d.strftime("%Y%m%d").to_string();
    let yesterday = day.yesterday().unwrap_or(day);
    path.replace("{date}", &compact(day))
        .replace("{yesterday}", &compact(yesterday))
}

/// Whether `file` names a dump to download.
pub fn is_url(file: &str) -> bool {
    file.starts_with("http://") || file.starts_with("https://")
}

/// Downloads `url` into `dir` (kept under the URL's file name, written whole or not at all) and
/// returns the local path; a file already there is used as it is.
pub async fn fetch(url: &str, dir: &Path) -> Result<PathBuf> {
    let name = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("dump");
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Unavailable(format!("could not create {}: {e}", dir.display())))?;
    let path = dir.join(name);
    if path.exists() {
        return Ok(path);
    }
    let part = dir.join(format!("{name}.part"));
    let (from, to) = (url.to_owned(), part.clone());
    tokio::task::spawn_blocking(move || -> std::result::Result<(), String> {
        let response = ureq::get(&from)
            .call()
            .map_err(|e| format!("could not fetch {from}: {e}"))?;
        let mut body = response.into_body();
        let mut out = std::fs::File::create(&to)
            .map_err(|e| format!("could not write {}: {e}", to.display()))?;
        std::io::copy(&mut body.as_reader(), &mut out)
            .map_err(|e| format!("could not fetch {from}: {e}"))?;
        out.sync_all()
            .map_err(|e| format!("could not write {}: {e}", to.display()))
    })
    .await
    .map_err(|e| Error::Internal(Box::new(e)))?
    .map_err(Error::Unavailable)?;
    std::fs::rename(&part, &path)
        .map_err(|e| Error::Unavailable(format!("could not write {}: {e}", path.display())))?;
    Ok(path)
}

impl Service {
    /// Whether the daily update should be queued now: its time of day has come and no update
    /// was queued since.
    pub(crate) async fn mirror_update_due(&self) -> Result<bool> {
        let Some(plan) = &self.config().mirror else {
            return Ok(false);
        };
        let now = self.clock().now();
        let start = plan.start_on(self.clock().today());
        if now < start {
            return Ok(false);
        }
        let last = self
            .store()
            .jobs(Some(kind::MIRROR_UPDATE), Some(0), 1)
            .await?;
        Ok(last
            .first()
            .is_none_or(|j| j.created_at < Clock::text(start)))
    }

    /// The daily update's plan, next start and latest runs; `None` without a `[mirror]` plan.
    pub async fn mirror_schedule(&self) -> Result<Option<MirrorSchedule>> {
        let Some(plan) = self.config().mirror.clone() else {
            return Ok(None);
        };
        let jobs = self
            .store()
            .jobs(Some(kind::MIRROR_UPDATE), Some(0), 5)
            .await?;
        let now = self.clock().now();
        let today = self.clock().today();
        let start = plan.start_on(today);
        let ran_today = jobs
            .first()
            .is_some_and(|j| j.created_at >= Clock::text(start));
        let next = if now < start {
            start
        } else if ran_today {
            plan.start_on(today.tomorrow().unwrap_or(today))
        } else {
            now
        };
        Ok(Some(MirrorSchedule {
            plan,
            next_run: Clock::text(next),
            runs: jobs.into_iter().map(JobView::from).collect(),
        }))
    }

    /// Runs the daily update queued at `queued_at`: every planned dump in order. Returns what
    /// each import did; fails, naming every dump that failed, when any did.
    pub(crate) async fn mirror_update(
        &self,
        queued_at: &str,
        progress: Arc<(AtomicU64, AtomicU64)>,
    ) -> Result<String> {
        let plan = self
            .config()
            .mirror
            .clone()
            .ok_or_else(|| Error::Unavailable("this worker has no [mirror] plan".into()))?;
        let queued: Timestamp = queued_at
            .parse()
            .map_err(|e| Error::Internal(Box::new(e)))?;
        let day = queued.to_zoned(TimeZone::UTC).date();
        let downloads = plan.downloads.join(day.to_string());
        let mut done = Vec::new();
        let mut failed = Vec::new();
        for dump in &plan.sources {
            let file = dated(&dump.path, day);
            let path = if is_url(&file) {
                match fetch(&file, &downloads).await {
                    Ok(path) => path,
                    Err(e) => {
                        failed.push(format!("{} {file}: {e}", dump.source));
                        continue;
                    }
                }
            } else {
                PathBuf::from(&file)
            };
            let fingerprint = match crate::mirror::fingerprint(dump.source, &path) {
                Ok(f) => f,
                Err(e) => {
                    failed.push(format!("{} {}: {e}", dump.source, path.display()));
                    continue;
                }
            };
            if let Some(import) = self
                .store()
                .mirror_import_done_since(&fingerprint, queued_at)
                .await?
            {
                done.push(format!(
                    "{} {}: imported before this attempt ({} records)",
                    dump.source, import.file, import.position
                ));
                continue;
            }
            let report = |p: &ImportProgress| {
                progress.0.store(p.bytes, Ordering::Relaxed);
                progress
                    .1
                    .store(p.total_bytes.unwrap_or(p.bytes), Ordering::Relaxed);
            };
            match self.mirror_import(dump.source, &path, None, &report).await {
                Ok(import) => match &import.error {
                    None => done.push(format!(
                        "{} {}: {} records, {} new, {} updated, {} unchanged, {} skipped",
                        dump.source,
                        import.file,
                        import.position,
                        import.imported,
                        import.updated,
                        import.unchanged,
                        import.skipped
                    )),
                    Some(error) => failed.push(format!(
                        "{} {}: stopped after {} records: {error}",
                        dump.source, import.file, import.position
                    )),
                },
                // A file that is not the dump it should be; the message names the file.
                Err(Error::BadRequest(e)) => failed.push(format!("{} {}", dump.source, e.message)),
                Err(e) => return Err(e),
            }
        }
        if !failed.is_empty() {
            let mut message = failed.join("; ");
            if !done.is_empty() {
                message.push_str(&format!(" (done: {})", done.join("; ")));
            }
            return Err(Error::Unavailable(message));
        }
        // Every dump of the day is in: downloads of this day and any before it can go.
        if let Ok(entries) = std::fs::read_dir(&plan.downloads) {
            for entry in entries.flatten() {
                if entry.path().is_dir() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        Ok(done.join("; "))
    }
}

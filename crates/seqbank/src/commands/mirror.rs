//! `seqbank mirror`: import NCBI/INSDC public metadata dumps, show the mirror, run the daily
//! update.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use seqbank_mirror::Source;
use seqbank_service::{
    JobKinds, Service, Worker, WorkerConfig, jobs::kind, mirror::ImportProgress,
};

use crate::config::{Config, Sources};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Import dumps into the mirror (resumes an interrupted import of the same file).
    Import(ImportArgs),
    /// Show mirrored record counts and the latest imports.
    Status(StatusArgs),
    /// Run the daily update of the `[mirror]` sources as a job: queue it at `[mirror] at` (UTC)
    /// and run it, or with --once queue it now and wait for it.
    Schedule(ScheduleArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    sources: Sources,
    /// bioproject, biosample, sra, sra-accessions or assembly.
    source: String,
    /// Dump files (gzip or plain; for sra also a tarball or a folder of XML), or http(s) URLs.
    #[arg(required = true)]
    files: Vec<String>,
    /// The dumps' date, YYYY-MM-DD (default: the date in the file name, else today).
    #[arg(long)]
    dump_date: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Only read the dumps and report what they hold and what is malformed; write nothing.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    sources: Sources,
    /// Also print the record count and a digest of every record's accession, status and
    /// content (reads the whole mirror), to compare two mirrors.
    #[arg(long)]
    digest: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ScheduleArgs {
    #[command(flatten)]
    sources: Sources,
    /// Queue the update now, run it (or wait for the worker that takes it) and exit: 0 when it
    /// succeeded, 1 when it failed.
    #[arg(long)]
    once: bool,
}

pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Import(args) => import(args),
        Command::Status(args) => status(args),
        Command::Schedule(args) => schedule(args),
    }
}

fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let source: Source = args.source.parse().map_err(anyhow::Error::msg)?;
    if args.check {
        return check(source, &args.files);
    }
    crate::allocator::keep_freed_memory();
    let config = Config::load(&args.sources)?;
    super::serve::runtime()?.block_on(async {
        let service = super::serve::open(&config).await?;
        let mut failed = false;
        for file in &args.files {
            let path = fetch(&config, file).await?;
            let complete = import_one(
                &service,
                source,
                &path,
                args.dump_date.as_deref(),
                args.json,
            )
            .await?;
            if complete && seqbank_service::is_url(file) {
                let _ = std::fs::remove_file(&path);
            }
            failed |= !complete;
        }
        index(service, &config).await?;
        Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}

/// Reads dumps without writing anything: record and attribute counts, and every malformed record.
fn check(source: Source, files: &[String]) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for file in files {
        let started = Instant::now();
        let records = match seqbank_mirror::read_path(source, Path::new(file)) {
            Ok(records) => records,
            Err(e) => {
                eprintln!("seqbank: {e}");
                failed = true;
                continue;
            }
        };
        let (mut n, mut attributes, mut skipped) = (0u64, 0u64, 0u64);
        for item in records {
            match item {
                Ok(seqbank_mirror::Item::Record(r)) => {
                    n += 1;
                    attributes += r.attributes.len() as u64;
                }
                Ok(seqbank_mirror::Item::Skipped(s)) => {
                    skipped += 1;
                    println!("  skipped {s}");
                }
                Err(e) => {
                    eprintln!("seqbank: {e}");
                    failed = true;
                    break;
                }
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{source} {file}: records={n} attributes={attributes} skipped={skipped} in {seconds:.2} s ({:.0} records/s)",
            n as f64 / seconds.max(1e-9)
        );
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A local path for a file argument: itself, or a URL downloaded into the data folder (kept
/// until its import completes, so an interrupted import of it resumes).
async fn fetch(config: &Config, file: &str) -> anyhow::Result<PathBuf> {
    if !seqbank_service::is_url(file) {
        return Ok(PathBuf::from(file));
    }
    Ok(seqbank_service::fetch(file, &config.downloads_dir()).await?)
}

/// Imports one file with a progress bar; returns whether it completed.
async fn import_one(
    service: &Service,
    source: Source,
    path: &Path,
    dump_date: Option<&str>,
    json: bool,
) -> anyhow::Result<bool> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(format!(
        "{source} {}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let started = Instant::now();
    let progress = |p: &ImportProgress| {
        bar.set_length(p.total_bytes.unwrap_or(p.bytes));
        bar.set_position(p.bytes);
        let done = p.position - p.resumed_from;
        let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
        let resumed = if p.resumed_from > 0 {
            format!(", resumed after {}", p.resumed_from)
        } else {
            String::new()
        };
        bar.set_message(format!("{} records {rate:.0}/s{resumed}", p.position));
    };
    let result = service
        .mirror_import(source, path, dump_date, &progress)
        .await;
    bar.finish_and_clear();
    let import = match result {
        Ok(import) => import,
        Err(seqbank_service::Error::BadRequest(e)) => {
            eprintln!("seqbank: {}", e.message);
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    };
    let seconds = started.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({
                "import": import,
                "problems": import.problem_list(),
                "seconds": seconds,
            }))?
        );
    } else {
        println!(
            "{} {}: {} records in {seconds:.1} s: {} new, {} updated, {} unchanged, {} skipped, {} kept as this center's own",
            source,
            path.display(),
            import.position,
            import.imported,
            import.updated,
            import.unchanged,
            import.skipped,
            import.local_kept,
        );
        for problem in import.problem_list().iter().take(20) {
            println!("  skipped {problem}");
        }
        if import.skipped > 20 {
            println!(
                "  … and {} more (seqbank mirror status)",
                import.skipped - 20
            );
        }
    }
    if let Some(error) = &import.error {
        eprintln!(
            "seqbank: import stopped: {error}; records before it are kept, run again to resume"
        );
        return Ok(false);
    }
    Ok(true)
}

/// Brings the search index up to date, unless a running server holds it (it then does so itself).
async fn index(service: Service, config: &Config) -> anyhow::Result<()> {
    let dir = config.index_dir();
    let service = match super::serve::with_index(service, config) {
        Ok(service) => service,
        Err(e) => {
            eprintln!(
                "seqbank: the search index in {} was not updated ({e:#}); a running `seqbank serve` indexes the records itself",
                dir.display()
            );
            return Ok(());
        }
    };
    // The import summaries went to stdout; keep them before what follows on stderr.
    std::io::Write::flush(&mut std::io::stdout())?;
    let bar = ProgressBar::new_spinner().with_message("indexing mirrored records");
    bar.enable_steady_tick(Duration::from_millis(200));
    let started = Instant::now();
    match service.sync_search().await {
        Ok(n) => {
            bar.finish_and_clear();
            eprintln!(
                "indexed {n} records in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        Err(e) => {
            bar.finish_and_clear();
            eprintln!(
                "seqbank: the search index was not updated ({e}); a running `seqbank serve` indexes the records itself"
            );
        }
    }
    Ok(())
}

fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.sources)?;
    super::serve::runtime()?.block_on(async {
        let service = super::serve::open(&config).await?;
        let status = service.mirror_status().await?;
        let mut out = serde_json::to_value(&status)?;
        if args.digest {
            let (records, digest) = service.store().mirror_digest().await?;
            out["digest"] = serde_json::json!({"records": records, "digest": digest});
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
        Ok(ExitCode::SUCCESS)
    })
}

fn schedule(args: ScheduleArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.sources)?;
    super::serve::runtime()?.block_on(async {
        let service = super::serve::open(&config).await?;
        let Some(plan) = service.config().mirror.clone() else {
            bail!(
                "no [mirror] sources in the configuration: add [[mirror.sources]] with source and path"
            );
        };
        let mut worker = super::serve::worker_config(&config);
        worker.kinds = JobKinds::Only(kind::MIRROR_UPDATE);
        if !args.once {
            eprintln!(
                "seqbank: worker {} queues the mirror update of {} dumps daily at {} UTC and runs it",
                worker.name,
                plan.sources.len(),
                plan.at
            );
            Worker::new(service, worker)
                .run(super::serve::shutdown())
                .await;
            return Ok(ExitCode::SUCCESS);
        }
        worker.schedule = false;
        let ok = update_now(&service, worker).await?;
        index(service, &config).await?;
        Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

/// Queues the mirror update now and runs it (or waits for the worker that took it); returns
/// whether it succeeded.
async fn update_now(service: &Service, worker: WorkerConfig) -> anyhow::Result<bool> {
    let store = service.store();
    let now = service.clock().now_text();
    let id = match store.enqueue(kind::MIRROR_UPDATE, 0, 3, &now, &now).await? {
        Some(id) => id,
        None => store
            .jobs(Some(kind::MIRROR_UPDATE), Some(0), 1)
            .await?
            .first()
            .map(|j| j.id)
            .context("the queued mirror update disappeared")?,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(Worker::new(service.clone(), worker).run(async {
        let _ = stopped.await;
    }));
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "mirror update (job {prefix}) [{bar:30}] {bytes}/{total_bytes} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(id.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    let job = loop {
        let job = store.job(id).await?;
        match job.state.as_str() {
            "done" | "failed" => break job,
            "queued" if job.last_error.is_some() => break job,
            state => {
                bar.set_length(job.total.max(0) as u64);
                bar.set_position(job.done.max(0) as u64);
                bar.set_message(state.to_owned());
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    bar.finish_and_clear();
    let _ = stop.send(());
    let _ = runner.await;
    match (job.state.as_str(), &job.result, &job.last_error) {
        ("done", result, _) => {
            for part in result.as_deref().unwrap_or("").split("; ") {
                println!("{part}");
            }
            Ok(true)
        }
        ("failed", _, error) => {
            eprintln!(
                "seqbank: the mirror update (job {id}) failed after {} attempts: {}",
                job.attempts,
                error.as_deref().unwrap_or("no reason recorded")
            );
            Ok(false)
        }
        (_, _, error) => {
            eprintln!(
                "seqbank: the mirror update (job {id}) failed: {}; it is queued again for {} (a running `seqbank serve` or `seqbank mirror schedule` retries it, skipping the dumps already imported)",
                error.as_deref().unwrap_or("no reason recorded"),
                job.run_after
            );
            Ok(false)
        }
    }
}

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
use seqbank_service::{Service, mirror::ImportProgress};

use crate::config::{Config, Sources};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Import dumps into the mirror (resumes an interrupted import of the same file).
    Import(ImportArgs),
    /// Show mirrored record counts and the latest imports.
    Status(StatusArgs),
    /// Run the daily update of the `[mirror]` sources at `[mirror] at` (UTC), or once now.
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
    /// Run the update once now and exit.
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
    let config = Config::load(&args.sources)?;
    super::serve::runtime()?.block_on(async {
        let service = super::serve::open(&config).await?;
        let mut failed = false;
        for file in &args.files {
            let path = fetch(&config, file).await?;
            failed |= !import_one(
                &service,
                source,
                &path,
                args.dump_date.as_deref(),
                args.json,
            )
            .await?;
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

/// A local path for a file argument: itself, or a URL downloaded into the data folder (kept, so
/// an interrupted import of it resumes).
async fn fetch(config: &Config, file: &str) -> anyhow::Result<PathBuf> {
    if !(file.starts_with("http://") || file.starts_with("https://")) {
        return Ok(PathBuf::from(file));
    }
    let name = file
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("dump");
    let dir = config.data_dir.join("mirror-downloads");
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    let path = dir.join(name);
    if path.exists() {
        return Ok(path);
    }
    let url = file.to_owned();
    let part = path.with_extension("part");
    let target = part.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let response = ureq::get(&url)
            .call()
            .with_context(|| format!("could not fetch {url}"))?;
        let mut body = response.into_body();
        let mut out = std::fs::File::create(&target)?;
        std::io::copy(&mut body.as_reader(), &mut out)?;
        out.sync_all()?;
        Ok(())
    })
    .await??;
    std::fs::rename(&part, &path)?;
    Ok(path)
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
    if config.mirror.sources.is_empty() {
        bail!(
            "no [mirror] sources in the configuration: add [[mirror.sources]] with source and path"
        );
    }
    let (hour, minute) = config
        .mirror
        .at
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
        .filter(|(h, m)| *h < 24 && *m < 60)
        .with_context(|| format!("[mirror] at = {:?} is not HH:MM", config.mirror.at))?;
    let mut plan = Vec::new();
    for s in &config.mirror.sources {
        let source: Source = s.source.parse().map_err(anyhow::Error::msg)?;
        plan.push((source, s.path.clone()));
    }
    super::serve::runtime()?.block_on(async {
        loop {
            if !args.once {
                let wait = until(hour, minute);
                eprintln!("next mirror update in {} min", wait.as_secs() / 60);
                tokio::time::sleep(wait).await;
            }
            let service = super::serve::open(&config).await?;
            let mut failed = false;
            for (source, file) in &plan {
                let outcome = match fetch(&config, file).await {
                    Ok(path) => import_one(&service, *source, &path, None, false).await,
                    Err(e) => Err(e),
                };
                match outcome {
                    Ok(ok) => failed |= !ok,
                    Err(e) => {
                        eprintln!("seqbank: {source} {file}: {e:#}");
                        failed = true;
                    }
                }
            }
            index(service, &config).await?;
            if args.once {
                return Ok(if failed {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                });
            }
        }
    })
}

/// Time until the next HH:MM UTC.
fn until(hour: u32, minute: u32) -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let day = 86_400;
    let target = u64::from(hour * 3600 + minute * 60);
    let into_day = now % day;
    let wait = if target > into_day {
        target - into_day
    } else {
        day - into_day + target
    };
    Duration::from_secs(wait)
}

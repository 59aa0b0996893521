//! `seqbank serve`: the archive over HTTP, with job workers (validation, archiving, release).

use std::{net::SocketAddr, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use seqbank_metastore::Metastore;
use seqbank_service::{Clock, JobKinds, Service, Worker, WorkerConfig, jobs::kind};
use seqbank_storage::Storage;

use crate::config::{Config, Sources};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    sources: Sources,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
}

/// Opens the store and builds the service a configuration describes.
pub(crate) async fn open(config: &Config) -> anyhow::Result<Service> {
    let url = config.metastore_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "could not create the data folder {}",
                config.data_dir.display()
            )
        })?;
    }
    let store = Metastore::connect(&url)
        .await
        .with_context(|| format!("could not open the metastore at {}", redact(&url)))?;
    let storage = Storage::open(&config.storage())
        .await
        .context("could not open the object store")?;
    let service_config = seqbank_service::Config {
        accessions: config.accessions.clone(),
        uploads: config.uploads.clone(),
        open_registration: config.web.open_registration,
        mirror: config.mirror_plan()?,
    };
    Ok(Service::new(
        store,
        storage,
        service_config,
        Clock::system(),
    ))
}

/// Opens this process's search index and has the service use it.
pub(crate) fn with_index(service: Service, config: &Config) -> anyhow::Result<Service> {
    let dir = config.index_dir();
    let index = seqbank_search::SearchIndex::open(&dir)
        .with_context(|| format!("could not open the search index in {}", dir.display()))?;
    Ok(service.with_search_index(Arc::new(index)))
}

/// Keeps the search index in step with the metastore, checking every `search.sync_ms`.
async fn follow_changes(service: Arc<Service>, every: Duration) {
    let mut failing = false;
    loop {
        match service.sync_search().await {
            Ok(n) => {
                if n > 0 {
                    tracing::debug!(records = n, "search index updated");
                }
                failing = false;
            }
            Err(e) if !failing => {
                tracing::warn!(error = %e, "could not update the search index; retrying");
                failing = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(every).await;
    }
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(&args.sources)?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    runtime()?.block_on(async {
        let service = with_index(open(&config).await?, &config)?;
        serve(service, &config, |addr| {
            eprintln!(
                "seqbank: serving the archive on http://{addr}/api/v1/ (data in {})",
                config.data_dir.display()
            )
        })
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The worker settings a configuration describes.
pub(crate) fn worker_config(config: &Config) -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(config.jobs.lease_seconds.max(1)),
        audit_days: config.jobs.audit_days,
        ..WorkerConfig::default()
    }
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// Serves until Ctrl-C or SIGTERM, with `jobs.workers` job workers alongside.
pub(crate) async fn serve(
    service: Service,
    config: &Config,
    on_ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let service = Arc::new(service);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("could not listen on {}", config.listen))?;
    let addr = listener.local_addr().context("listener has no address")?;
    let mut workers = Vec::new();
    // The daily mirror update can take hours; it gets a worker of its own so that validation
    // and release never wait for it.
    let mirror = config.jobs.workers > 0 && service.config().mirror.is_some();
    for i in 0..config.jobs.workers {
        let mut worker = worker_config(config);
        worker.name = format!("{}-{i}", worker.name);
        // One worker queues the periodic jobs; the others only take jobs.
        worker.schedule = i == 0;
        if mirror {
            worker.kinds = JobKinds::AllBut(kind::MIRROR_UPDATE);
        }
        let worker = Worker::new(service.as_ref().clone(), worker);
        workers.push(tokio::spawn(worker.run(std::future::pending())));
    }
    if mirror {
        let mut worker = worker_config(config);
        worker.name = format!("{}-mirror", worker.name);
        worker.kinds = JobKinds::Only(kind::MIRROR_UPDATE);
        let worker = Worker::new(service.as_ref().clone(), worker);
        workers.push(tokio::spawn(worker.run(std::future::pending())));
    }
    let caught_up = service
        .sync_search()
        .await
        .context("could not bring the search index up to date")?;
    if caught_up > 0 {
        tracing::info!(records = caught_up, "search index caught up");
    }
    let follower = tokio::spawn(follow_changes(
        service.clone(),
        Duration::from_millis(config.search.sync_ms.max(10)),
    ));
    on_ready(addr);
    seqbank_server::serve(listener, seqbank_server::AppState { service }, shutdown())
        .await
        .context("the HTTP server failed")?;
    follower.abort();
    for worker in workers {
        worker.abort();
    }
    Ok(())
}

pub(crate) async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::redact("postgres://ann:secret@db/seqbank"),
            "postgres://ann:***@db/seqbank"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}

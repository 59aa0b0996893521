//! `seqbank serve`: the archive over HTTP, with the release scheduler.

use std::{net::SocketAddr, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use seqbank_metastore::Metastore;
use seqbank_service::{Clock, Service};

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
    let service_config = seqbank_service::Config {
        accessions: config.accessions.clone(),
    };
    Ok(Service::new(store, service_config, Clock::system()))
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
        let service = open(&config).await?;
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

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// Serves until Ctrl-C or SIGTERM, releasing due objects on a timer.
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
    let scheduler = {
        let service = service.clone();
        let interval = Duration::from_secs(config.release.interval_seconds.max(1));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            loop {
                ticker.tick().await;
                if let Err(e) = service.release_due().await {
                    tracing::error!(error = %e, "scheduled release failed");
                }
            }
        })
    };
    on_ready(addr);
    seqbank_server::serve(listener, seqbank_server::AppState { service }, shutdown())
        .await
        .context("the HTTP server failed")?;
    scheduler.abort();
    Ok(())
}

async fn shutdown() {
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

//! `seqbank worker`: a job worker process beside (or instead of) the ones inside `seqbank serve`.

use std::process::ExitCode;

use seqbank_service::Worker;

use crate::config::{Config, Sources};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    sources: Sources,
    /// Do not queue the periodic jobs (release, upload expiry, audit); leave that to others.
    #[arg(long)]
    no_schedule: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.sources)?;
    super::serve::runtime()?.block_on(async {
        let service = super::serve::open(&config).await?;
        let mut worker = super::serve::worker_config(&config);
        worker.schedule = !args.no_schedule;
        eprintln!(
            "seqbank: worker {} taking jobs (objects in {})",
            worker.name,
            service.storage().describe()
        );
        Worker::new(service, worker)
            .run(super::serve::shutdown())
            .await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

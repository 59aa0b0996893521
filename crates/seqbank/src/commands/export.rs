//! `seqbank export insdc-xml`: released records as INSDC XML, for brokering to INSDC.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use seqbank_core::ObjectKind;

use crate::config::{Config, Sources};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Write every released project, sample, experiment and run as INSDC XML
    /// (PROJECT_SET, SAMPLE_SET, EXPERIMENT_SET, RUN_SET), one file per record.
    InsdcXml(Args),
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    sources: Sources,
    /// Folder to write into: projects/, samples/, experiments/, runs/ with ACCESSION.xml each.
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::InsdcXml(args) = command;
    let config = Config::load(&args.sources)?;
    super::serve::runtime()?.block_on(async {
        let service = super::serve::open(&config).await?;
        let mut total = 0;
        for kind in [
            ObjectKind::Project,
            ObjectKind::Sample,
            ObjectKind::Experiment,
            ObjectKind::Run,
        ] {
            let dir = args.out.join(kind.plural());
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
            let mut after = 0;
            loop {
                let (page, next) = service.export_page(kind, after, 200).await?;
                for (accession, xml) in &page {
                    let path = dir.join(format!("{accession}.xml"));
                    let part = path.with_extension("xml.part");
                    std::fs::write(&part, xml)
                        .with_context(|| format!("could not write {}", part.display()))?;
                    std::fs::rename(&part, &path)?;
                    total += 1;
                }
                match next {
                    Some(n) => after = n,
                    None => break,
                }
            }
        }
        println!(
            "wrote {total} records as INSDC XML into {}",
            args.out.display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

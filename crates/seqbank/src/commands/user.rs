//! `seqbank user add`: accounts made on the server's own data, printing an API token for scripts.

use std::{io::Read, process::ExitCode, str::FromStr};

use anyhow::Context;
use seqbank_core::Role;

use crate::config::{Config, Sources};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Create a user and print an API token (shown only once).
    Add(AddArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    /// Login name.
    name: String,
    /// submitter, curator or admin.
    #[arg(long)]
    role: String,
    /// Read a password from standard input (for signing in with POST /api/v1/auth/token).
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    sources: Sources,
}

pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::Add(args) = command;
    let role = Role::from_str(&args.role)
        .map_err(|e| anyhow::anyhow!("{e}; use submitter, curator or admin"))?;
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("could not read the password")?;
        Some(text.trim_end_matches(['\n', '\r']).to_owned())
    } else {
        None
    };
    let config = Config::load(&args.sources)?;
    let token = super::serve::runtime()?.block_on(async {
        let service = super::serve::open(&config).await?;
        let (_, token) = service
            .create_user_unchecked(&args.name, role, password.as_deref())
            .await
            .with_context(|| format!("could not create user {:?}", args.name))?;
        service.store().close().await;
        anyhow::Ok(token)
    })?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

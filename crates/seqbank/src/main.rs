//! The `seqbank` command: an open genomics data center in one program.
//!
//! This binary is the composition root: it parses the command line, builds what the command
//! needs from the library crates and prints the result.

mod allocator;
mod commands;
mod config;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// seqbank: receive, validate, curate, archive, search and share sequencing data.
#[derive(Debug, Parser)]
#[command(name = "seqbank", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check read files (FASTQ, SAM, BAM, CRAM) the way the archive checks an upload.
    Validate(commands::validate::Args),
    /// Run the archive: the REST API under /api/v1 and the release scheduler.
    Serve(commands::serve::Args),
    /// Run a demo archive with users and data in every state, in a temporary folder.
    Demo(commands::demo::Args),
    /// Manage users on the server's own data.
    #[command(subcommand)]
    User(commands::user::Command),
    /// Send metadata files (JSON, TSV, XLSX, SRA XML) to a running archive as a submission.
    Submit(commands::client::SubmitArgs),
    /// Show a submission's state and findings.
    Status(commands::client::StatusArgs),
    /// Upload a run's files to a running archive (resumable; waits for validation).
    Upload(commands::upload::Args),
    /// Run a job worker (validation, archiving, release, audits) beside the server.
    Worker(commands::worker::Args),
    /// Check that the metastore and the object store agree.
    Fsck(commands::fsck::Args),
    /// Search every record: the local index, or a running archive with --server.
    Search(commands::search::Args),
    /// Rebuild the search index from the metastore.
    Reindex(commands::search::ReindexArgs),
    /// Mirror NCBI/INSDC public metadata: import dumps, show the mirror, run the daily update.
    #[command(subcommand)]
    Mirror(commands::mirror::Command),
    /// Export released records (INSDC XML for brokering).
    #[command(subcommand)]
    Export(commands::export::Command),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEQBANK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Printing usage can only fail on a closed terminal; nothing better to do then.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::User(command) => commands::user::run(command),
        Command::Submit(args) => commands::client::submit(args),
        Command::Status(args) => commands::client::status(args),
        Command::Upload(args) => commands::upload::run(args),
        Command::Worker(args) => commands::worker::run(args),
        Command::Fsck(args) => commands::fsck::run(args),
        Command::Search(args) => commands::search::run(args),
        Command::Reindex(args) => commands::search::reindex(args),
        Command::Mirror(command) => commands::mirror::run(command),
        Command::Export(command) => commands::export::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("seqbank: {e:#}");
            ExitCode::from(2)
        }
    }
}

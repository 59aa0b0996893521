//! The `seqbank` command: an open genomics data center in one program.
//!
//! This binary is the composition root: it parses the command line, builds what the command
//! needs from the library crates and prints the result. Today it offers `seqbank validate`.

mod commands;

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
}

fn main() -> ExitCode {
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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("seqbank: {e:#}");
            ExitCode::from(2)
        }
    }
}

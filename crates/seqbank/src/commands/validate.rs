//! `seqbank validate`: the read validation engine as a command submitters run before uploading.

use std::{
    fs::File,
    io::{self, IsTerminal, Write},
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use seqbank_core::Finding;
use seqbank_formats::{Config, Format, Progress, Report, RunReport, validate_run};

/// The version of the JSON report layout (`docs/validation-report.md`).

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Format of the files; `auto` tells it from the content.
    #[arg(long, value_enum, default_value = "auto")]
    format: FormatArg,
    /// Folder of FASTA files where CRAM references are found by their MD5 (the @SQ M5 tag).
    #[arg(long, value_name = "DIR")]
    reference: Option<PathBuf>,
    /// Also write the report as JSON to PATH (`-` for standard output).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Print nothing but errors; the exit status tells the verdict.
    #[arg(long, short)]
    quiet: bool,
    /// Findings shown per code; further ones are counted.
    #[arg(long, value_name = "N", default_value_t = 20)]
    max_findings: usize,
    /// The files of one run (e.g. R1 and R2), checked together.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum FormatArg {
    Auto,
    Fastq,
    Sam,
    Bam,
    Cram,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let progress = Arc::new(Progress::default());
    let config = Config {
        format: match args.format {
            FormatArg::Auto => None,
            FormatArg::Fastq => Some(Format::Fastq),
            FormatArg::Sam => Some(Format::Sam),
            FormatArg::Bam => Some(Format::Bam),
            FormatArg::Cram => Some(Format::Cram),
        },
        reference_dir: args.reference.clone(),
        max_findings_per_code: args.max_findings,
        progress: Some(Arc::clone(&progress)),
        ..Config::default()
    };
    if let Some(dir) = &args.reference
        && !dir.is_dir()
    {
        bail!("reference folder {} is not a folder", dir.display());
    }

    let mut inputs = Vec::new();
    let mut total_bytes = 0;
    for path in &args.files {
        let file = open(path)?;
        total_bytes += file.metadata().map(|m| m.len()).unwrap_or(0);
        inputs.push((display_name(path), file));
    }

    let bar = (!args.quiet && io::stderr().is_terminal()).then(|| progress_bar(total_bytes));
    let done = AtomicBool::new(false);
    let mut report = thread::scope(|scope| {
        if let Some(bar) = &bar {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    bar.set_position(progress.bytes());
                    bar.set_message(format!("{} reads", group(progress.records())));
                    thread::sleep(Duration::from_millis(100));
                }
            });
        }
        let result = validate_run(inputs, &config);
        done.store(true, Ordering::Relaxed);
        result
    })
    .context("could not read the files")?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }

    for (path, file_report) in args.files.iter().zip(report.files_mut()) {
        if file_report.needs_second_pass() {
            file_report
                .confirm_duplicates(open(path)?, &config)
                .with_context(|| format!("could not re-read {}", path.display()))?;
        }
    }

    let json_to_stdout = args.json.as_deref() == Some(Path::new("-"));
    if let Some(path) = &args.json {
        let labels: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();
        let mut text =
            serde_json::to_string_pretty(&seqbank_formats::json::run_json(&labels, &report))?;
        text.push('\n');
        if json_to_stdout {
            print(&text)?;
        } else {
            std::fs::write(path, text)
                .with_context(|| format!("could not write {}", path.display()))?;
        }
    }
    if !args.quiet && !json_to_stdout {
        print(&summary(&args.files, &report))?;
    }
    Ok(if report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn open(path: &Path) -> anyhow::Result<File> {
    let file = File::open(path).with_context(|| format!("could not open {}", path.display()))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        bail!("{} is a folder, not a file", path.display());
    }
    Ok(file)
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
fn print(text: &str) -> anyhow::Result<()> {
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {msg} ETA {eta}")
            .expect("the template is valid"),
    );
    bar
}

/// `1234567` → `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn push_findings(
    out: &mut String,
    findings: &[Finding],
    omitted: &std::collections::BTreeMap<String, u64>,
) {
    for finding in findings {
        out.push_str(&format!("  {finding}\n"));
        if !finding.hint().is_empty() {
            out.push_str(&format!("    hint: {}\n", finding.hint()));
        }
    }
    for (code, n) in omitted {
        out.push_str(&format!("  … and {} more {code}\n", group(*n)));
    }
}

fn summary(paths: &[PathBuf], report: &RunReport) -> String {
    let mut out = String::new();
    for (path, file) in paths.iter().zip(report.files()) {
        out.push_str(&format!(
            "{}: {} ({}), {} bytes: {}\n",
            path.display(),
            file.format().as_str(),
            file.compression().as_str(),
            group(file.size()),
            if file.is_valid() { "valid" } else { "INVALID" }
        ));
        if let Some(s) = file.stats() {
            out.push_str(&format!(
                "  {} reads, {} bases, length {}-{} (mean {:.1}), GC {:.1} %, N {:.2} %, Q20 {:.1} %, Q30 {:.1} %, mean quality {:.1}",
                group(s.reads()),
                group(s.bases()),
                s.min_length(),
                s.max_length(),
                s.mean_length(),
                s.gc_percent(),
                s.n_percent(),
                s.q20_percent(),
                s.q30_percent(),
                s.mean_quality(),
            ));
            if let Some(encoding) = s.quality_encoding() {
                out.push_str(&format!(", {}", encoding.as_str()));
            }
            if let Some(style) = s.name_style() {
                out.push_str(&format!(", {style} names"));
            }
            if let Some(platform) = s.platform() {
                out.push_str(&format!(" ({platform})"));
            }
            out.push('\n');
        }
        if let (Some(md5), Some(sha256)) = (file.md5(), file.sha256()) {
            out.push_str(&format!("  md5 {md5}  sha256 {sha256}\n"));
        }
        push_findings(&mut out, file.findings(), file.omitted());
    }
    if !report.findings().is_empty() || !report.omitted().is_empty() {
        out.push_str("run:\n");
        push_findings(&mut out, report.findings(), report.omitted());
    }
    let (errors, warnings) = report
        .files()
        .iter()
        .flat_map(Report::findings)
        .chain(report.findings())
        .fold((0, 0), |(e, w), f| {
            if f.severity().is_error() {
                (e + 1, w)
            } else {
                (e, w + 1)
            }
        });
    out.push_str(&format!(
        "{}: {} file{}, {errors} error{}, {warnings} warning{} shown\n",
        if report.is_valid() {
            "valid"
        } else {
            "INVALID"
        },
        paths.len(),
        if paths.len() == 1 { "" } else { "s" },
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}

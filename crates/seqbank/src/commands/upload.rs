//! `seqbank upload`: a tus client that sends a run's files, resumes after being killed, and
//! waits for the archive's validation verdict.

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, UNIX_EPOCH},
};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::client::Server;

/// Bytes per PATCH request: a broken connection costs at most this much.
const CHUNK: u64 = 64 << 20;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Files to send; each must be declared in the run's metadata under its file name.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The run the files belong to (alias, accession or id).
    #[arg(long)]
    run: String,
    /// Return when the bytes are sent instead of waiting for validation.
    #[arg(long)]
    no_wait: bool,
    /// Folder where unfinished uploads are remembered (default: ~/.cache/seqbank/uploads).
    #[arg(long, value_name = "DIR", env = "SEQBANK_UPLOAD_STATE")]
    state: Option<PathBuf>,
    #[command(flatten)]
    server: Server,
}

struct Tus {
    agent: ureq::Agent,
    base: String,
    auth: String,
}

impl Tus {
    fn url(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_owned()
        } else {
            format!("{}{location}", self.base)
        }
    }

    /// Returns the server's offset of an upload, or `None` when it is gone.
    fn offset(&self, location: &str) -> anyhow::Result<Option<u64>> {
        let response = self
            .agent
            .head(self.url(location))
            .header("Authorization", &self.auth)
            .header("Tus-Resumable", "1.0.0")
            .call()
            .with_context(|| format!("could not reach {}", self.base))?;
        if !response.status().is_success() {
            return Ok(None);
        }
        Ok(response
            .headers()
            .get("upload-offset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()))
    }

    fn create(&self, run: &str, name: &str, length: u64) -> anyhow::Result<String> {
        let metadata = format!(
            "filename {},run {}",
            B64.encode(name.as_bytes()),
            B64.encode(run.as_bytes())
        );
        let mut response = self
            .agent
            .post(format!("{}/api/v1/uploads", self.base))
            .header("Authorization", &self.auth)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", &metadata)
            .send_empty()
            .with_context(|| format!("could not reach {}", self.base))?;
        if response.status().as_u16() != 201 {
            bail!("{name}: {}", error_text(&mut response));
        }
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .context("the server gave no Location for the upload")
    }

    fn json(&self, location: &str) -> anyhow::Result<Value> {
        let mut response = self
            .agent
            .get(self.url(location))
            .header("Authorization", &self.auth)
            .call()
            .with_context(|| format!("could not reach {}", self.base))?;
        if !response.status().is_success() {
            bail!("{}", error_text(&mut response));
        }
        let text = response.body_mut().read_to_string()?;
        Ok(serde_json::from_str(&text)?)
    }
}

fn error_text(response: &mut ureq::http::Response<ureq::Body>) -> String {
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let message = value["error"]["message"].as_str().unwrap_or(&text);
    format!("{status}: {message}")
}

/// Where an unfinished upload of this file is remembered: keyed by server, run, path, size and
/// modification time, so a changed file starts afresh.
fn state_file(
    dir: &Path,
    base: &str,
    run: &str,
    path: &Path,
    file: &File,
) -> anyhow::Result<PathBuf> {
    use sha2::Digest;
    let meta = file.metadata()?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let key = format!(
        "{base}\n{run}\n{}\n{}\n{modified}",
        absolute.display(),
        meta.len()
    );
    let digest = sha2::Sha256::digest(key.as_bytes());
    let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    Ok(dir.join(name))
}

struct Counting<'a, R> {
    inner: R,
    bar: &'a ProgressBar,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let tus = Tus {
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .new_agent(),
        base: args.server.server.trim_end_matches('/').to_owned(),
        auth: format!("Bearer {}", args.server.token),
    };
    let state_dir = match &args.state {
        Some(dir) => dir.clone(),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("seqbank/uploads"),
    };
    std::fs::create_dir_all(&state_dir)
        .with_context(|| format!("could not create {}", state_dir.display()))?;
    let mut locations = Vec::new();
    for path in &args.files {
        let mut file =
            File::open(path).with_context(|| format!("could not open {}", path.display()))?;
        let length = file.metadata()?.len();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{} has no usable file name", path.display()))?
            .to_owned();
        let remembered = state_file(&state_dir, &tus.base, &args.run, path, &file)?;
        let mut resumed = None;
        if let Ok(location) = std::fs::read_to_string(&remembered) {
            let location = location.trim().to_owned();
            if let Some(offset) = tus.offset(&location)? {
                resumed = Some((location, offset));
            }
        }
        let (location, mut offset) = match resumed {
            Some((location, offset)) => {
                eprintln!("{name}: resuming at byte {offset} of {length}");
                (location, offset)
            }
            None => {
                let location = tus.create(&args.run, &name, length)?;
                std::fs::write(&remembered, &location)?;
                (location, 0)
            }
        };
        let bar = ProgressBar::new(length).with_style(
            ProgressStyle::with_template(
                "{msg:20!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(name.clone());
        bar.set_position(offset);
        let mut failures = 0;
        while offset < length {
            let size = CHUNK.min(length - offset);
            file.seek(SeekFrom::Start(offset))?;
            bar.set_position(offset);
            let mut reader = Counting {
                inner: (&mut file).take(size),
                bar: &bar,
            };
            let sent = tus
                .agent
                .patch(tus.url(&location))
                .header("Authorization", &tus.auth)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", offset.to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .header("Content-Length", size.to_string())
                .send(ureq::SendBody::from_reader(&mut reader));
            match sent {
                Ok(mut response) if response.status().as_u16() == 204 => {
                    failures = 0;
                    offset = response
                        .headers()
                        .get("upload-offset")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(offset + size);
                    let _ = response.body_mut().read_to_string();
                }
                Ok(mut response)
                    if response.status().is_client_error() && response.status().as_u16() != 409 =>
                {
                    bar.abandon();
                    let _ = std::fs::remove_file(&remembered);
                    bail!("{name}: {}", error_text(&mut response));
                }
                other => {
                    // A dropped connection or a busy server: ask where it stands and go on.
                    failures += 1;
                    if failures > 10 {
                        bar.abandon();
                        match other {
                            Ok(mut response) => bail!("{name}: {}", error_text(&mut response)),
                            Err(e) => bail!("{name}: {e}"),
                        }
                    }
                    std::thread::sleep(Duration::from_millis(500 * failures));
                    if let Ok(Some(server)) = tus.offset(&location) {
                        offset = server;
                    }
                }
            }
        }
        bar.finish();
        let _ = std::fs::remove_file(&remembered);
        locations.push((name, location));
    }
    if args.no_wait {
        for (name, location) in &locations {
            println!("{name}\t{location}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Wait for the verdict on the run's files.
    let spinner = ProgressBar::new_spinner();
    spinner.set_message("validating on the server");
    let mut all_valid = true;
    for (name, location) in &locations {
        let view = loop {
            let view = tus.json(location)?;
            let state = view["state"].as_str().unwrap_or("");
            if matches!(state, "valid" | "invalid" | "cancelled" | "expired") {
                break view;
            }
            let job = &view["validation"];
            if let (Some(done), Some(total)) = (job["done"].as_u64(), job["total"].as_u64())
                && total > 0
            {
                spinner.set_message(format!("validating on the server: {}%", done * 100 / total));
            }
            if view["validation"]["state"] == "failed" {
                break view;
            }
            spinner.tick();
            std::thread::sleep(Duration::from_millis(300));
        };
        let state = view["state"].as_str().unwrap_or("?");
        spinner.suspend(|| {
            println!("{name}: {state}");
            let file = &view["file"];
            if let Some(md5) = file["md5"].as_str() {
                println!(
                    "  md5 {md5}  sha256 {}",
                    file["sha256"].as_str().unwrap_or("")
                );
            }
            let report = &file["report"];
            if let Some(reads) = report["stats"]["reads"].as_u64() {
                println!("  {reads} reads");
            }
            if report["md5_matches"] == false {
                println!(
                    "  error: the MD5 of what arrived ({}) is not the declared {}",
                    report["md5"].as_str().unwrap_or("?"),
                    report["declared_md5"].as_str().unwrap_or("?")
                );
            }
            for finding in report["findings"]
                .as_array()
                .into_iter()
                .chain(report["run_findings"].as_array())
                .flatten()
            {
                println!(
                    "  {} {}: {}",
                    finding["severity"].as_str().unwrap_or(""),
                    finding["code"].as_str().unwrap_or(""),
                    finding["message"].as_str().unwrap_or("")
                );
            }
            if let Some(error) = view["validation"]["error"].as_str() {
                println!("  validation failed: {error}");
            }
        });
        all_valid &= state == "valid";
    }
    spinner.finish_and_clear();
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

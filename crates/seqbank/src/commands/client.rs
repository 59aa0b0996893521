//! `seqbank submit` and `seqbank status`: a submitter's client for a running archive.

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use serde_json::{Value, json};

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Server {
    /// Base URL of the archive.
    #[arg(long, env = "SEQBANK_SERVER", default_value = "http://127.0.0.1:8080")]
    pub(crate) server: String,
    /// API token (from `seqbank user add` or POST /api/v1/auth/token).
    #[arg(long, env = "SEQBANK_TOKEN", hide_env_values = true)]
    pub(crate) token: String,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SubmitArgs {
    /// Files to send: `.json` (a batch document), `.tsv` or `.xlsx` (spreadsheets), `.xml` (SRA XML).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Add to this draft submission instead of creating one.
    #[arg(long, value_name = "ID")]
    submission: Option<i64>,
    /// Alias of a new submission.
    #[arg(long)]
    alias: Option<String>,
    /// Release date of a new submission (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    hold_until: Option<String>,
    /// Sheet name of TSV files that do not start with `#seqbank:SHEET`.
    #[arg(long)]
    sheet: Option<String>,
    /// Submit for review after adding the files.
    #[arg(long)]
    submit: bool,
    #[command(flatten)]
    server: Server,
}

#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// Submission id.
    submission: i64,
    #[command(flatten)]
    server: Server,
}

struct Client {
    agent: ureq::Agent,
    base: String,
    pub(crate) token: String,
}

impl Client {
    fn new(server: &Server) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self {
            agent,
            base: server.server.trim_end_matches('/').to_owned(),
            token: server.token.clone(),
        }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.token);
        let response = match method {
            "GET" => self.agent.get(&url).header("Authorization", &auth).call(),
            _ => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .header("Content-Type", content_type)
                .send(&body[..]),
        };
        let mut response = response.with_context(|| format!("could not reach {url}"))?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .context("could not read the answer")?;
        let value: Value = serde_json::from_str(&text).unwrap_or(json!({"raw": text}));
        if !status.is_success() {
            let error = &value["error"];
            let mut message = format!(
                "{} {}: {}",
                status.as_u16(),
                path,
                error["message"].as_str().unwrap_or(&text)
            );
            if let Some(place) = error["path"].as_str() {
                message.push_str(&format!(" (at {place})"));
            }
            for finding in error["findings"].as_array().into_iter().flatten() {
                message.push_str(&format!(
                    "\n  {} {} {}: {}",
                    finding["severity"].as_str().unwrap_or(""),
                    finding["code"].as_str().unwrap_or(""),
                    finding["path"].as_str().unwrap_or(""),
                    finding["message"].as_str().unwrap_or("")
                ));
            }
            bail!(message);
        }
        Ok(value)
    }
}

pub(crate) fn submit(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.server);
    let id = match args.submission {
        Some(id) => id,
        None => {
            let body = json!({"alias": args.alias, "hold_until": args.hold_until});
            let created = client.call(
                "POST",
                "/api/v1/submissions",
                "application/json",
                body.to_string().into_bytes(),
            )?;
            let id = created["id"]
                .as_i64()
                .context("the server did not return a submission id")?;
            eprintln!("created submission {id}");
            id
        }
    };
    for file in &args.files {
        let bytes =
            std::fs::read(file).with_context(|| format!("could not read {}", file.display()))?;
        let extension = file
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let (path, content_type) = match extension.as_str() {
            "json" => (
                format!("/api/v1/submissions/{id}/objects"),
                "application/json",
            ),
            "xml" => (format!("/api/v1/submissions/{id}/xml"), "application/xml"),
            "tsv" | "txt" => {
                let sheet = args
                    .sheet
                    .as_deref()
                    .map(|s| format!("?sheet={s}"))
                    .unwrap_or_default();
                (
                    format!("/api/v1/submissions/{id}/spreadsheet{sheet}"),
                    "text/tab-separated-values",
                )
            }
            "xlsx" => (
                format!("/api/v1/submissions/{id}/spreadsheet"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            other => bail!(
                "{}: unknown kind of file {other:?}; use .json, .tsv, .xlsx or .xml",
                file.display()
            ),
        };
        let answer = client
            .call("POST", &path, content_type, bytes)
            .with_context(|| format!("{} was not accepted", file.display()))?;
        let warnings = answer["findings"].as_array().map_or(0, Vec::len);
        eprintln!("added {} ({warnings} warnings)", file.display());
    }
    if args.submit {
        client.call(
            "POST",
            &format!("/api/v1/submissions/{id}/submit"),
            "application/json",
            Vec::new(),
        )?;
    }
    print_status(&client, id)
}

pub(crate) fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    print_status(&Client::new(&args.server), args.submission)
}

fn print_status(client: &Client, id: i64) -> anyhow::Result<ExitCode> {
    let submission = client.call("GET", &format!("/api/v1/submissions/{id}"), "", Vec::new())?;
    println!(
        "submission {id} ({}): {}{}",
        submission["alias"].as_str().unwrap_or(""),
        submission["status"].as_str().unwrap_or("?"),
        submission["accession"]
            .as_str()
            .map(|a| format!(", accession {a}"))
            .unwrap_or_default()
    );
    if let Some(objects) = submission["objects"].as_object() {
        let counts: Vec<String> = objects.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!("  {}", counts.join(", "));
    }
    let findings = submission["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for finding in &findings {
        println!(
            "  {} {} {}: {}",
            finding["severity"].as_str().unwrap_or(""),
            finding["code"].as_str().unwrap_or(""),
            finding["path"].as_str().unwrap_or(""),
            finding["message"].as_str().unwrap_or("")
        );
    }
    let returned = submission["status"] == "returned";
    Ok(if returned {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

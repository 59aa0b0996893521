//! `seqbank search` and `seqbank reindex`.

use std::{process::ExitCode, time::Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use seqbank_search::{Request, SearchIndex, Sort, Viewer};
use serde_json::Value;

use crate::config::{Config, Sources};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    sources: Sources,
    /// The query (docs/search.md): words, field:value, "phrases", AND/OR/NOT, ranges.
    query: Vec<String>,
    /// Only this type of record: project, sample, experiment or run.
    #[arg(long)]
    result: Option<String>,
    /// Fields to print, comma-separated (`all` for every one).
    #[arg(long, value_delimiter = ',')]
    fields: Vec<String>,
    /// Fields to count values of, comma-separated (type, organism, source, platform, …).
    #[arg(long, value_delimiter = ',')]
    facets: Vec<String>,
    /// Hits to print.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Order: relevance, or released/submitted/updated[:asc|:desc].
    #[arg(long, default_value = "relevance")]
    sort: String,
    /// Continue after a previous page (its next cursor).
    #[arg(long)]
    cursor: Option<String>,
    /// Print tab-separated values with a header line instead of a table.
    #[arg(long, conflicts_with = "json")]
    tsv: bool,
    /// Print the JSON answer.
    #[arg(long)]
    json: bool,
    /// Ask a running archive at this URL instead of reading the local index.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// API token for --server (anonymous without one).
    #[arg(long, env = "SEQBANK_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let query = args.query.join(" ");
    let answer: Value = match &args.server {
        Some(server) => remote(&args, server, &query)?,
        None => {
            let config = Config::load(&args.sources)?;
            let dir = config.index_dir();
            if !dir.join("meta.json").exists() {
                bail!(
                    "there is no search index in {}; run `seqbank reindex` or `seqbank serve` first",
                    dir.display()
                );
            }
            let index = SearchIndex::open(&dir)
                .with_context(|| format!("could not open the search index in {}", dir.display()))?;
            let request = Request {
                query,
                result: args.result.clone(),
                fields: args.fields.clone(),
                facets: args.facets.clone(),
                limit: args.limit,
                cursor: args.cursor.clone(),
                sort: Sort::parse(&args.sort)?,
                ..Request::default()
            };
            // Whoever can read the data folder is the archive's operator: everything is shown.
            match index.search(&request, Viewer::Curator) {
                Ok(response) => serde_json::to_value(response)?,
                Err(seqbank_search::Error::BadQuery { parameter, message }) => {
                    eprintln!("seqbank: bad {parameter}: {message}");
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    print(&args, &answer);
    Ok(ExitCode::SUCCESS)
}

fn remote(args: &Args, server: &str, query: &str) -> anyhow::Result<Value> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("{}/api/v1/search", server.trim_end_matches('/'));
    let mut request = agent
        .get(&url)
        .query("query", query)
        .query("limit", args.limit.to_string())
        .query("sort", &args.sort);
    if let Some(result) = &args.result {
        request = request.query("result", result);
    }
    if !args.fields.is_empty() {
        request = request.query("fields", args.fields.join(","));
    }
    if !args.facets.is_empty() {
        request = request.query("facets", args.facets.join(","));
    }
    if let Some(cursor) = &args.cursor {
        request = request.query("cursor", cursor);
    }
    if let Some(token) = &args.token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = request
        .call()
        .with_context(|| format!("could not reach {url}"))?;
    let status = response.status();
    let text = response.body_mut().read_to_string()?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{url} answered {text}"))?;
    if !status.is_success() {
        bail!(
            "{}: {}",
            status.as_u16(),
            value["error"]["message"].as_str().unwrap_or(&text)
        );
    }
    Ok(value)
}

fn print(args: &Args, answer: &Value) {
    if args.json {
        println!("{answer:#}");
        return;
    }
    let hits = answer["hits"].as_array().cloned().unwrap_or_default();
    // JSON objects come back with sorted keys: put the columns in the order asked for.
    let mut header: Vec<String> = if args.fields.is_empty() {
        seqbank_search::DEFAULT_FIELDS
            .iter()
            .map(|f| (*f).to_owned())
            .collect()
    } else if args.fields.iter().any(|f| f == "all") {
        seqbank_search::FIELDS
            .iter()
            .map(|f| f.name.to_owned())
            .collect()
    } else {
        args.fields.clone()
    };
    header.retain(|name| hits.iter().any(|hit| hit.get(name).is_some()));
    for hit in &hits {
        for name in hit.as_object().into_iter().flat_map(|o| o.keys()) {
            if !header.contains(name) {
                header.push(name.clone());
            }
        }
    }
    let rows: Vec<Vec<String>> = hits
        .iter()
        .map(|hit| {
            header
                .iter()
                .map(|name| seqbank_search::tsv_cell(&hit[name]))
                .collect()
        })
        .collect();
    if args.tsv {
        println!("{}", header.join("\t"));
        for row in rows {
            println!("{}", row.join("\t"));
        }
        return;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count()).min(60);
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let c: String = c.chars().take(*w).collect();
                format!("{c:<w$}")
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!("{} hits", answer["total"]);
    if !rows.is_empty() {
        println!("{}", line(&header));
        for row in &rows {
            println!("{}", line(row));
        }
    }
    for facet in answer["facets"].as_array().into_iter().flatten() {
        let values: Vec<String> = facet["values"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| format!("{} ({})", seqbank_search::tsv_cell(&v["value"]), v["count"]))
            .collect();
        println!(
            "{}: {}",
            seqbank_search::tsv_cell(&facet["field"]),
            values.join(", ")
        );
    }
    if let Some(next) = answer["next_cursor"].as_str() {
        println!("next page: --cursor {next}");
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct ReindexArgs {
    #[command(flatten)]
    sources: Sources,
}

/// Rebuilds the search index from the metastore.
pub(crate) fn reindex(args: ReindexArgs) -> anyhow::Result<ExitCode> {
    crate::allocator::keep_freed_memory();
    let config = Config::load(&args.sources)?;
    let dir = config.index_dir();
    if dir.join("meta.json").exists() && SearchIndex::open(&dir).is_err() {
        // Built by another version: start again from an empty folder.
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("could not remove the old index in {}", dir.display()))?;
    }
    super::serve::runtime()?.block_on(async {
        let service = super::serve::with_index(super::serve::open(&config).await?, &config)?;
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "indexing [{bar:30}] {pos}/{len} records {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        let started = Instant::now();
        let progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let n = service.reindex(&progress).await?;
        bar.finish_and_clear();
        let stats = service.search_index().stats()?;
        println!(
            "indexed {n} records in {:.1} s into {} ({} MB)",
            started.elapsed().as_secs_f64(),
            dir.display(),
            stats.bytes / 1_000_000
        );
        Ok(ExitCode::SUCCESS)
    })
}

//! `seqbank demo`: an archive in a temporary folder with a user per role and a small, realistic
//! data set in every lifecycle state, served until Ctrl-C.

use std::{net::SocketAddr, process::ExitCode};

use anyhow::Context;
use seqbank_core::Role;
use seqbank_service::{Actor, NewSubmission, Service, Worker, WorkerConfig};
use serde_json::{Value, json};

use crate::config::Config;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = tempfile::Builder::new()
        .prefix("seqbank-demo-")
        .tempdir()
        .context("could not create a temporary folder")?;
    let config = Config {
        data_dir: dir.path().to_owned(),
        listen: args.listen,
        ..Config::default()
    };
    super::serve::runtime()?.block_on(async {
        let service = super::serve::with_index(super::serve::open(&config).await?, &config)?;
        let tokens = load(&service).await.context("could not load the demo data")?;
        super::serve::serve(service, &config, |addr| {
            println!("seqbank demo archive on http://{addr}/api/v1/ (data in {}, removed on exit)", config.data_dir.display());
            println!();
            for (name, role, token) in &tokens {
                println!("  {:<10} {name:<6} {token}", role.as_str());
            }
            println!();
            println!("Try:");
            println!("  curl -s http://{addr}/api/v1/projects");
            println!("  curl -s -H 'Authorization: Bearer {}' http://{addr}/api/v1/submissions", tokens[0].2);
            println!("  curl -s -H 'Authorization: Bearer {}' 'http://{addr}/api/v1/submissions?status=in_review'", tokens[2].2);
            println!("  curl -s 'http://{addr}/api/v1/search?query=rhizosphere&facets=type,organism'");
            println!("  curl -s http://{addr}/files/projects/PRJSB000001/md5sum.txt");
            println!("  curl -O http://{addr}/files/runs/SBR000/SBR000001/rhizo_1_R1.fastq.gz");
            println!("The API is described at http://{addr}/api/v1/openapi.json; Ctrl-C stops the demo.");
        })
        .await
    })?;
    drop(dir);
    Ok(ExitCode::SUCCESS)
}

/// Loads the demo users and data; returns (name, role, token) per user.
pub(crate) async fn load(service: &Service) -> anyhow::Result<Vec<(String, Role, String)>> {
    let mut users = Vec::new();
    for (name, role) in [
        ("alice", Role::Submitter),
        ("bob", Role::Submitter),
        ("carol", Role::Curator),
        ("dave", Role::Admin),
    ] {
        let (_, token) = service
            .create_user_unchecked(name, role, Some("demo-password"))
            .await?;
        users.push((name.to_owned(), role, token));
    }
    let alice = service.authenticate(&users[0].2).await?;
    let bob = service.authenticate(&users[1].2).await?;
    let carol = service.authenticate(&users[2].2).await?;
    let today = service.clock().today();
    let in_six_months = today
        .checked_add(jiff::Span::new().months(6))
        .context("date")?
        .to_string();

    // Public: rice rhizosphere metagenomes, with one sample later suppressed and one run withdrawn.
    let id = submission(
        service,
        &alice,
        "rice-rhizosphere",
        "Rice rhizosphere metagenomes",
        None,
    )
    .await?;
    let batch = environmental_batch();
    service
        .add_json(&alice, id, batch.to_string().as_bytes())
        .await?;
    upload_files(service, &alice, &batch).await?;
    submit(service, &alice, id).await?;
    service
        .approve(&carol, id, Some("complete and consistent"))
        .await?;
    service
        .suppress(
            &carol,
            seqbank_core::ObjectKind::Sample,
            "SAMSB000003",
            false,
            "sample mislabelled; see corrected record",
        )
        .await?;
    service
        .suppress(
            &carol,
            seqbank_core::ObjectKind::Run,
            "SBR000002",
            true,
            "files contained host reads",
        )
        .await?;

    // Private until its hold date: tomato leaf transcriptomes.
    let id = submission(
        service,
        &alice,
        "tomato-leaf",
        "Tomato leaf transcriptomes under drought",
        Some(in_six_months),
    )
    .await?;
    let batch = plant_batch();
    service
        .add_json(&alice, id, batch.to_string().as_bytes())
        .await?;
    upload_files(service, &alice, &batch).await?;
    submit(service, &alice, id).await?;
    service.approve(&carol, id, None).await?;

    // In review: Klebsiella isolates.
    let id = submission(
        service,
        &bob,
        "kpn-isolates",
        "Carbapenem-resistant Klebsiella pneumoniae isolates",
        None,
    )
    .await?;
    let batch = microbe_batch("kpn", 4);
    service
        .add_json(&bob, id, batch.to_string().as_bytes())
        .await?;
    upload_files(service, &bob, &batch).await?;
    submit(service, &bob, id).await?;

    // Returned by the curator with a comment.
    let id = submission(
        service,
        &bob,
        "kpn-followup",
        "Klebsiella follow-up isolates",
        None,
    )
    .await?;
    let batch = microbe_batch("kpn2", 2);
    service
        .add_json(&bob, id, batch.to_string().as_bytes())
        .await?;
    upload_files(service, &bob, &batch).await?;
    submit(service, &bob, id).await?;
    service
        .return_submission(
            &carol,
            id,
            "please give the hospital ward as isolation_source, not 'clinical'",
        )
        .await?;

    // Draft: incomplete, the automatic checks would return it.
    let id = submission(
        service,
        &alice,
        "soil-survey",
        "Grassland soil survey (draft)",
        None,
    )
    .await?;
    let draft = json!({"samples": [{
        "alias": "soil-1", "title": "Grassland soil core 1", "checklist": "environmental",
        "organism": {"taxon_id": 410658, "scientific_name": "soil metagenome"},
        "attributes": {"collection_date": "2025-05", "geo_loc_name": "Kenya: Nakuru"}
    }]});
    service
        .add_json(&alice, id, draft.to_string().as_bytes())
        .await?;
    // The approved submissions' files move into the archive tree.
    upload_files(service, &alice, &json!({})).await?;
    Ok(users)
}

/// Submits, and stops with the findings if the automatic checks do not pass.
async fn submit(service: &Service, actor: &Actor, id: i64) -> anyhow::Result<()> {
    let view = service.submit(actor, id).await?;
    if view.status != "in_review" {
        let findings: Vec<String> = view
            .findings
            .iter()
            .map(|f| format!("{} {}: {}", f.code, f.path, f.message))
            .collect();
        anyhow::bail!(
            "demo submission {id} is {}: {}",
            view.status,
            findings.join("; ")
        );
    }
    Ok(())
}

async fn submission(
    service: &Service,
    actor: &Actor,
    alias: &str,
    title: &str,
    hold_until: Option<String>,
) -> anyhow::Result<i64> {
    let new = NewSubmission {
        alias: Some(alias.to_owned()),
        title: Some(title.to_owned()),
        hold_until,
    };
    Ok(service.create_submission(actor, new).await?.id)
}

fn run_files(prefix: &str, n: usize) -> Value {
    let name = |mate: usize| format!("{prefix}_{n}_R{mate}.fastq.gz");
    json!([
        {"name": name(1), "type": "fastq", "md5": md5_hex(&fastq_gz(&name(1)))},
        {"name": name(2), "type": "fastq", "md5": md5_hex(&fastq_gz(&name(2)))}
    ])
}

/// A small gzipped FASTQ file made from its name; `X_R1` and `X_R2` are mates.
fn fastq_gz(name: &str) -> Vec<u8> {
    use std::io::Write;
    let mate = if name.contains("_R2") { 2 } else { 1 };
    let stem = name.split("_R").next().unwrap_or(name);
    let seed = stem
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut x = seed | 1;
    for i in 0..2000 {
        let mut seq = String::with_capacity(150);
        let mut qual = String::with_capacity(150);
        for _ in 0..150 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            seq.push(b"ACGT"[(x & 3) as usize] as char);
            qual.push((b'#' + ((x >> 8) % 40) as u8) as char);
        }
        // Writing to memory cannot fail.
        let _ = writeln!(
            gz,
            "@A00123:8:H5KJWDSXY:1:1101:{}:{} {mate}:N:0:ACGTACGT\n{seq}\n+\n{qual}",
            1000 + i,
            2000 + i % 97
        );
    }
    gz.finish().unwrap_or_default()
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Uploads the files the runs of a batch declare, and runs the validation jobs.
async fn upload_files(service: &Service, actor: &Actor, batch: &Value) -> anyhow::Result<()> {
    for run in batch["runs"].as_array().into_iter().flatten() {
        let alias = run["alias"].as_str().unwrap_or_default();
        for file in run["files"].as_array().into_iter().flatten() {
            let name = file["name"].as_str().unwrap_or_default();
            let bytes = fastq_gz(name);
            let upload = service
                .create_upload(actor, alias, name, bytes.len() as u64)
                .await?;
            let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(
                bytes::Bytes::from(bytes),
            )]);
            service.append_upload(actor, &upload.id, 0, body).await?;
        }
    }
    let worker = Worker::new(
        service.clone(),
        WorkerConfig {
            schedule: false,
            ..WorkerConfig::default()
        },
    );
    while worker.run_once().await? {}
    Ok(())
}

fn environmental_batch() -> Value {
    let sites = [
        ("Hunan", "28.19 N 112.97 E"),
        ("Jiangxi", "28.68 N 115.86 E"),
        ("Guangdong", "23.13 N 113.26 E"),
    ];
    let samples: Vec<Value> = sites
        .iter()
        .enumerate()
        .map(|(i, (province, lat_lon))| {
            json!({
                "alias": format!("rhizo-{}", i + 1), "title": format!("Rice rhizosphere soil, {province}"), "project": "rice-rhizo",
                "checklist": "environmental", "organism": {"taxon_id": 410658, "scientific_name": "soil metagenome"},
                "attributes": {
                    "collection_date": format!("2024-0{}-15", i + 6), "geo_loc_name": format!("China: {province}"), "lat_lon": lat_lon,
                    "env_broad_scale": "cropland biome [ENVO:01000245]", "env_local_scale": "paddy field [ENVO:00000294]",
                    "env_medium": "rhizosphere [ENVO:00005801]", "depth": {"value": "0.1", "unit": "m"}
                }
            })
        })
        .collect();
    let experiments: Vec<Value> = (1..=3)
        .map(|i| {
            json!({
                "alias": format!("rhizo-wgs-{i}"), "title": format!("Shotgun metagenome of rhizosphere {i}"), "sample": format!("rhizo-{i}"),
                "project": "rice-rhizo", "platform": "ILLUMINA", "instrument_model": "Illumina NovaSeq 6000",
                "library": {"strategy": "WGS", "source": "METAGENOMIC", "selection": "RANDOM", "layout": "PAIRED", "insert_size": 350}
            })
        })
        .collect();
    let runs: Vec<Value> = (1..=3).map(|i| json!({"alias": format!("rhizo-run-{i}"), "experiment": format!("rhizo-wgs-{i}"), "files": run_files("rhizo", i)})).collect();
    json!({
        "projects": [{
            "alias": "rice-rhizo", "title": "Rice rhizosphere metagenomes across southern China",
            "description": "Shotgun metagenomes of paddy rice rhizosphere soil from three provinces, to compare nitrogen-cycling communities.",
            "type": "Metagenome", "relevance": "Agricultural", "publications": [{"doi": "10.1234/seqbank.demo.1"}]
        }],
        "samples": samples, "experiments": experiments, "runs": runs
    })
}

fn plant_batch() -> Value {
    let samples: Vec<Value> = ["control", "drought"]
        .iter()
        .map(|condition| {
            json!({
                "alias": format!("tomato-{condition}"), "title": format!("Tomato leaf, {condition}"), "project": "tomato-drought",
                "checklist": "plant", "organism": {"taxon_id": 4081, "scientific_name": "Solanum lycopersicum"},
                "attributes": {"collection_date": "2025-03-02", "geo_loc_name": "Spain: Almeria", "cultivar": "Moneymaker",
                    "tissue": "leaf", "growth_protocol": format!("greenhouse, {condition} regime")}
            })
        })
        .collect();
    let experiments: Vec<Value> = ["control", "drought"]
        .iter()
        .map(|c| {
            json!({
                "alias": format!("tomato-rnaseq-{c}"), "title": format!("Leaf RNA-Seq, {c}"), "sample": format!("tomato-{c}"),
                "platform": "DNBSEQ", "instrument_model": "DNBSEQ-G400",
                "library": {"strategy": "RNA-Seq", "source": "TRANSCRIPTOMIC", "selection": "PolyA", "layout": "PAIRED", "insert_size": 250}
            })
        })
        .collect();
    let runs: Vec<Value> = ["control", "drought"]
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"alias": format!("tomato-run-{c}"), "experiment": format!("tomato-rnaseq-{c}"), "files": run_files("tomato", i + 1)}))
        .collect();
    json!({
        "projects": [{"alias": "tomato-drought", "title": "Tomato leaf transcriptomes under drought",
            "description": "RNA-Seq of greenhouse tomato leaves under control and drought regimes.", "relevance": "Agricultural",
            "organism": {"taxon_id": 4081, "scientific_name": "Solanum lycopersicum"}}],
        "samples": samples, "experiments": experiments, "runs": runs
    })
}

fn microbe_batch(prefix: &str, n: usize) -> Value {
    let samples: Vec<Value> = (1..=n)
        .map(|i| {
            json!({
                "alias": format!("{prefix}-{i}"), "title": format!("K. pneumoniae isolate {prefix}-{i}"), "project": format!("{prefix}-project"),
                "checklist": "microbe", "organism": {"taxon_id": 573, "scientific_name": "Klebsiella pneumoniae"},
                "attributes": {"collection_date": format!("2025-0{}", i.min(9)), "geo_loc_name": "Germany: Berlin", "strain": format!("KP{i:03}"),
                    "host": "Homo sapiens", "isolation_source": if prefix == "kpn2" { "clinical".to_owned() } else { format!("urine, ward {i}") },
                    "antimicrobial_resistance": "meropenem resistant"}
            })
        })
        .collect();
    let experiments: Vec<Value> = (1..=n)
        .map(|i| {
            json!({
                "alias": format!("{prefix}-wgs-{i}"), "title": format!("WGS of isolate {prefix}-{i}"), "sample": format!("{prefix}-{i}"),
                "platform": "OXFORD_NANOPORE", "instrument_model": "GridION",
                "library": {"strategy": "WGS", "source": "GENOMIC", "selection": "RANDOM", "layout": "SINGLE"}
            })
        })
        .collect();
    let runs: Vec<Value> = (1..=n)
        .map(|i| {
            json!({"alias": format!("{prefix}-run-{i}"), "experiment": format!("{prefix}-wgs-{i}"),
                "files": [{"name": format!("{prefix}_{i}.fastq.gz"), "type": "fastq", "md5": md5_hex(&fastq_gz(&format!("{prefix}_{i}.fastq.gz")))}]})
        })
        .collect();
    json!({
        "projects": [{"alias": format!("{prefix}-project"), "title": "Carbapenem-resistant Klebsiella pneumoniae in Berlin hospitals",
            "description": "Nanopore whole-genome sequencing of clinical isolates for outbreak surveillance.", "relevance": "Medical"}],
        "samples": samples, "experiments": experiments, "runs": runs
    })
}

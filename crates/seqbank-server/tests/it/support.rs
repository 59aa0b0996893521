//! Test archive: a service over a fresh metastore, users per role, and a request helper.

use std::{collections::HashMap, sync::Arc};

use axum::{body::Body, http::Request};
use http_body_util::BodyExt;
use seqbank_core::Role;
use seqbank_metastore::Metastore;
use seqbank_server::{AppState, router};
use seqbank_service::{Clock, Config, MirrorPlan, Service, Worker, WorkerConfig};
use seqbank_storage::{Storage, StorageConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const START: &str = "2026-11-21T09:00:00Z";

pub struct TestApp {
    pub service: Arc<Service>,
    pub tokens: HashMap<&'static str, String>,
    _dir: Option<tempfile::TempDir>,
    _objects: tempfile::TempDir,
    pg: Option<(String, String)>,
}

pub struct Reply {
    pub status: u16,
    pub json: Value,
    pub text: String,
}

impl TestApp {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("meta.db").display());
        Self::with_store(Metastore::connect(&url).await.unwrap(), Some(dir), None).await
    }

    pub async fn postgres() -> Option<Self> {
        let Ok(url) = std::env::var("SEQBANK_TEST_POSTGRES_URL") else {
            eprintln!("skipping the PostgreSQL run: SEQBANK_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!(
            "seqbank_api_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let admin = Metastore::connect(&url).await.unwrap();
        drop(admin);
        let (base, _) = url.rsplit_once('/').unwrap();
        let status = std::process::Command::new("psql")
            .args([url.as_str(), "-qc", &format!("CREATE DATABASE {name}")])
            .status();
        if !status.is_ok_and(|s| s.success()) {
            panic!("could not create a test database with psql");
        }
        let store = Metastore::connect(&format!("{base}/{name}")).await.unwrap();
        Some(Self::with_store(store, None, Some((url, name))).await)
    }

    async fn with_store(
        store: Metastore,
        dir: Option<tempfile::TempDir>,
        pg: Option<(String, String)>,
    ) -> Self {
        Self::with_parts(store, dir, pg, None, None).await
    }

    /// A test archive over SQLite that runs the daily mirror update `plan`.
    pub async fn with_mirror(plan: MirrorPlan) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("meta.db").display());
        let store = Metastore::connect(&url).await.unwrap();
        Self::with_parts(store, Some(dir), None, None, Some(plan)).await
    }

    /// A test archive whose files go to the S3-compatible server named by
    /// `SEQBANK_TEST_S3_ENDPOINT` (bucket `SEQBANK_TEST_S3_BUCKET`, default `seqbank-test`).
    pub async fn s3() -> Option<Self> {
        let Ok(endpoint) = std::env::var("SEQBANK_TEST_S3_ENDPOINT") else {
            eprintln!("skipping the S3 run: SEQBANK_TEST_S3_ENDPOINT is not set");
            return None;
        };
        let bucket =
            std::env::var("SEQBANK_TEST_S3_BUCKET").unwrap_or_else(|_| "seqbank-test".into());
        let prefix = format!(
            "api{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("meta.db").display());
        let storage = StorageConfig {
            url: format!("s3://{bucket}/{prefix}"),
            endpoint: Some(endpoint),
            access_key_id: std::env::var("SEQBANK_TEST_S3_KEY").ok(),
            secret_access_key: std::env::var("SEQBANK_TEST_S3_SECRET").ok(),
            spool: Some(dir.path().join("spool")),
            ..StorageConfig::default()
        };
        let store = Metastore::connect(&url).await.unwrap();
        Some(Self::with_parts(store, Some(dir), None, Some(storage), None).await)
    }

    /// A test archive over SQLite in `dir` and the given object store.
    pub async fn with_storage(dir: &std::path::Path, storage: StorageConfig) -> Self {
        let url = format!("sqlite://{}", dir.join("meta.db").display());
        let store = Metastore::connect(&url).await.unwrap();
        Self::with_parts(store, None, None, Some(storage), None).await
    }

    async fn with_parts(
        store: Metastore,
        dir: Option<tempfile::TempDir>,
        pg: Option<(String, String)>,
        storage: Option<StorageConfig>,
        mirror: Option<MirrorPlan>,
    ) -> Self {
        let objects = tempfile::tempdir().unwrap();
        let storage = storage.unwrap_or_else(|| StorageConfig {
            url: objects.path().display().to_string(),
            ..StorageConfig::default()
        });
        let storage = Storage::open(&storage).await.unwrap();
        let clock = Clock::fixed(START.parse().unwrap());
        let mut config = Config::default();
        config.uploads.quota = 64 << 20;
        config.mirror = mirror;
        let service = Service::new(store, storage, config, clock);
        let mut tokens = HashMap::new();
        for (name, role) in [
            ("alice", Role::Submitter),
            ("bob", Role::Submitter),
            ("carol", Role::Curator),
            ("dave", Role::Admin),
        ] {
            let (_, token) = service
                .create_user_unchecked(name, role, Some("correct horse"))
                .await
                .unwrap();
            tokens.insert(name, token);
        }
        Self {
            service: Arc::new(service),
            tokens,
            _dir: dir,
            _objects: objects,
            pg,
        }
    }

    pub async fn finish(self) {
        self.service.store().close().await;
        if let Some((url, name)) = self.pg {
            let _ = std::process::Command::new("psql")
                .args([url.as_str(), "-qc", &format!("DROP DATABASE {name}")])
                .status();
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        who: Option<&str>,
        body: impl Into<Vec<u8>>,
    ) -> Reply {
        self.call_with(method, path, who, &[], body).await.0
    }

    /// Sends a request with extra headers.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        who: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Vec<u8>>,
    ) -> (Reply, axum::http::HeaderMap) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(who) = who {
            request = request.header("Authorization", format!("Bearer {}", self.tokens[who]));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::from(body.into())).unwrap();
        let response = router(AppState {
            service: self.service.clone(),
        })
        .oneshot(request)
        .await
        .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (Reply { status, json, text }, headers)
    }

    /// Starts a tus upload of `length` bytes for a run's file; returns the reply and location.
    pub async fn create_upload(
        &self,
        who: &str,
        run: &str,
        name: &str,
        length: usize,
    ) -> (Reply, String) {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let metadata = format!("filename {},run {}", b64(name), b64(run));
        let length = length.to_string();
        let (reply, headers) = self
            .call_with(
                "POST",
                "/api/v1/uploads",
                Some(who),
                &[
                    ("Tus-Resumable", "1.0.0"),
                    ("Upload-Length", &length),
                    ("Upload-Metadata", &metadata),
                ],
                Vec::new(),
            )
            .await;
        let location = headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (reply, location)
    }

    /// Sends bytes of an upload at an offset (tus PATCH).
    pub async fn patch(
        &self,
        who: &str,
        location: &str,
        offset: usize,
        bytes: &[u8],
    ) -> (Reply, axum::http::HeaderMap) {
        let offset = offset.to_string();
        self.call_with(
            "PATCH",
            location,
            Some(who),
            &[
                ("Tus-Resumable", "1.0.0"),
                ("Upload-Offset", &offset),
                ("Content-Type", "application/offset+octet-stream"),
            ],
            bytes.to_vec(),
        )
        .await
    }

    /// Uploads a whole file to a run in one request and runs the jobs it starts.
    pub async fn upload(&self, who: &str, run: &str, name: &str, bytes: &[u8]) -> String {
        let (reply, location) = self.create_upload(who, run, name, bytes.len()).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let (reply, _) = self.patch(who, &location, 0, bytes).await;
        assert_eq!(reply.status, 204, "{}", reply.text);
        self.work().await;
        location
    }

    /// Runs queued jobs until none is left.
    pub async fn work(&self) {
        let worker = Worker::new(
            self.service.as_ref().clone(),
            WorkerConfig {
                name: "test-worker".into(),
                schedule: false,
                ..WorkerConfig::default()
            },
        );
        while worker.run_once().await.unwrap() {}
    }

    pub async fn json(&self, method: &str, path: &str, who: Option<&str>, body: Value) -> Reply {
        self.call(method, path, who, body.to_string()).await
    }

    /// Creates a submission for `who` holding `batch`, uploads the files its runs declare, and
    /// returns its id.
    pub async fn draft(
        &self,
        who: &str,
        alias: &str,
        hold_until: Option<&str>,
        batch: Value,
    ) -> i64 {
        let id = self.draft_metadata(who, alias, hold_until, &batch).await;
        self.upload_declared(who, &batch).await;
        id
    }

    /// Creates a submission for `who` holding `batch` (no files), and returns its id.
    pub async fn draft_metadata(
        &self,
        who: &str,
        alias: &str,
        hold_until: Option<&str>,
        batch: &Value,
    ) -> i64 {
        let reply = self
            .json(
                "POST",
                "/api/v1/submissions",
                Some(who),
                json!({"alias": alias, "hold_until": hold_until}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let id = reply.json["id"].as_i64().unwrap();
        let reply = self
            .json(
                "POST",
                &format!("/api/v1/submissions/{id}/objects"),
                Some(who),
                batch.clone(),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        id
    }

    /// Uploads every file the runs of a batch declare (with the bytes [`fastq`] makes).
    pub async fn upload_declared(&self, who: &str, batch: &Value) {
        for run in batch["runs"].as_array().into_iter().flatten() {
            let alias = run["alias"].as_str().unwrap();
            for file in run["files"].as_array().into_iter().flatten() {
                let name = file["name"].as_str().unwrap();
                let (reply, location) = self
                    .create_upload(who, alias, name, fastq(name).len())
                    .await;
                assert_eq!(reply.status, 201, "{}", reply.text);
                let (reply, _) = self.patch(who, &location, 0, &fastq(name)).await;
                assert_eq!(reply.status, 204, "{}", reply.text);
            }
        }
        self.work().await;
    }

    /// Takes a draft through submit and approval.
    pub async fn approve(&self, id: i64, owner: &str) {
        let reply = self
            .call(
                "POST",
                &format!("/api/v1/submissions/{id}/submit"),
                Some(owner),
                "",
            )
            .await;
        assert_eq!(reply.json["status"], "in_review", "{}", reply.text);
        let reply = self
            .call(
                "POST",
                &format!("/api/v1/submissions/{id}/approve"),
                Some("carol"),
                "",
            )
            .await;
        assert_eq!(reply.json["status"], "approved", "{}", reply.text);
    }

    pub async fn counts(&self) -> Vec<(&'static str, i64)> {
        self.service.store().row_counts().await.unwrap()
    }
}

/// The bytes of a test FASTQ file, from its name: `X_R1.fastq` and `X_R2.fastq` are mates.
pub fn fastq(name: &str) -> Vec<u8> {
    let mate = if name.contains("_R2") { 2 } else { 1 };
    let stem = name.split("_R").next().unwrap_or(name);
    let mut out = String::new();
    let bases = ["ACGTACGTTGCA", "GGCCTTAAGGCT", "TTGACCATGACA"];
    for n in 0..(20 + stem.len() % 7) {
        out.push_str(&format!(
            "@{stem}.{n}/{mate}\n{}\n+\nIIIIIIIII#II\n",
            bases[(n + mate) % 3]
        ));
    }
    out.into_bytes()
}

/// MD5 in hex.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A complete, valid batch: a project, two samples, two experiments, two runs.
pub fn batch(prefix: &str) -> Value {
    let samples: Vec<Value> = (0..2).map(|i| json!({
            "alias": format!("{prefix}-s{i}"), "title": format!("Stool {i}"), "project": format!("{prefix}-p"), "checklist": "environmental",
            "organism": {"taxon_id": 408170, "scientific_name": "human gut metagenome"},
            "attributes": {"collection_date": "2024-05-01", "geo_loc_name": "China: Hunan", "lat_lon": "28.19 N 112.97 E",
                "env_broad_scale": "human-associated habitat [ENVO:00009003]", "env_local_scale": "gut", "env_medium": "feces [ENVO:00002003]"}
        })).collect();
    let experiments: Vec<Value> = (0..2).map(|i| json!({
            "alias": format!("{prefix}-e{i}"), "title": format!("WGS {i}"), "sample": format!("{prefix}-s{i}"), "platform": "ILLUMINA",
            "instrument_model": "Illumina NovaSeq 6000",
            "library": {"strategy": "WGS", "source": "METAGENOMIC", "selection": "RANDOM", "layout": "PAIRED", "insert_size": 300}
        })).collect();
    let runs: Vec<Value> = (0..2).map(|i| json!({
            "alias": format!("{prefix}-r{i}"), "experiment": format!("{prefix}-e{i}"),
            "files": [{"name": format!("{prefix}{i}_R1.fastq"), "type": "fastq", "md5": md5_hex(&fastq(&format!("{prefix}{i}_R1.fastq")))},
                      {"name": format!("{prefix}{i}_R2.fastq"), "type": "fastq", "md5": md5_hex(&fastq(&format!("{prefix}{i}_R2.fastq")))}]
        })).collect();
    json!({
        "projects": [{"alias": format!("{prefix}-p"), "title": "Gut microbiomes of rice farmers", "description": "Shotgun metagenomes of stool."}],
        "samples": samples, "experiments": experiments, "runs": runs,
    })
}

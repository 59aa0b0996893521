//! Test archive: a service over a fresh metastore, users per role, and a request helper.

use std::{collections::HashMap, sync::Arc};

use axum::{body::Body, http::Request};
use http_body_util::BodyExt;
use seqbank_core::Role;
use seqbank_metastore::Metastore;
use seqbank_server::{AppState, router};
use seqbank_service::{Clock, Config, Service};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const START: &str = "2026-11-21T09:00:00Z";

pub struct TestApp {
    pub service: Arc<Service>,
    pub tokens: HashMap<&'static str, String>,
    _dir: Option<tempfile::TempDir>,
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
        let clock = Clock::fixed(START.parse().unwrap());
        let service = Service::new(store, Config::default(), clock);
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
        let mut request = Request::builder().method(method).uri(path);
        if let Some(who) = who {
            request = request.header("Authorization", format!("Bearer {}", self.tokens[who]));
        }
        let request = request.body(Body::from(body.into())).unwrap();
        let response = router(AppState {
            service: self.service.clone(),
        })
        .oneshot(request)
        .await
        .unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, json, text }
    }

    pub async fn json(&self, method: &str, path: &str, who: Option<&str>, body: Value) -> Reply {
        self.call(method, path, who, body.to_string()).await
    }

    /// Creates a submission for `who` holding `batch`, and returns its id.
    pub async fn draft(
        &self,
        who: &str,
        alias: &str,
        hold_until: Option<&str>,
        batch: Value,
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
                batch,
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        id
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
            "files": [{"name": format!("{prefix}{i}_R1.fastq.gz"), "type": "fastq", "md5": "0123456789abcdef0123456789abcdef"},
                      {"name": format!("{prefix}{i}_R2.fastq.gz"), "type": "fastq", "md5": "fedcba9876543210fedcba9876543210"}]
        })).collect();
    json!({
        "projects": [{"alias": format!("{prefix}-p"), "title": "Gut microbiomes of rice farmers", "description": "Shotgun metagenomes of stool."}],
        "samples": samples, "experiments": experiments, "runs": runs,
    })
}

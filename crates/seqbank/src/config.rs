//! Configuration: one TOML file plus `SEQBANK_*` environment overrides (`docs/config.md`).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use seqbank_service::{AccessionConfig, UploadConfig};
use serde::Deserialize;

/// Everything `seqbank serve` can be told.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Config {
    /// Folder for the embedded database and (later) objects and index.
    pub(crate) data_dir: PathBuf,
    /// Address the HTTP server listens on.
    pub(crate) listen: SocketAddr,
    /// Metadata store.
    pub(crate) metastore: MetastoreConfig,
    /// Accession prefixes and width.
    pub(crate) accessions: AccessionConfig,
    /// Where file bytes are kept.
    pub(crate) storage: StorageConfig,
    /// Upload limits.
    pub(crate) uploads: UploadConfig,
    /// Background jobs.
    pub(crate) jobs: JobsConfig,
    /// The search index.
    pub(crate) search: SearchConfig,
    /// The web pages.
    pub(crate) web: WebConfig,
    /// Mirroring NCBI/INSDC public metadata.
    pub(crate) mirror: MirrorConfig,
}

/// `[mirror]`: what the daily mirror update imports, and when.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct MirrorConfig {
    /// Time of day (UTC, HH:MM) the daily update starts.
    pub(crate) at: String,
    /// The dumps, applied in this order.
    pub(crate) sources: Vec<MirrorSource>,
}

impl Default for MirrorConfig {
    fn default() -> Self {
        Self {
            at: "03:00".into(),
            sources: Vec::new(),
        }
    }
}

/// One dump the daily update applies.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MirrorSource {
    /// bioproject, biosample, sra, sra-accessions or assembly.
    pub(crate) source: String,
    /// A file or folder, or an http(s) URL fetched into the data folder first.
    pub(crate) path: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct WebConfig {
    /// Whether anyone may sign up as a submitter.
    pub(crate) open_registration: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            open_registration: true,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct SearchConfig {
    /// Folder of this process's index; empty means `DATA_DIR/index`.
    pub(crate) index: String,
    /// Milliseconds between checks of the metastore for changes to index.
    pub(crate) sync_ms: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            index: String::new(),
            sync_ms: 1000,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct StorageConfig {
    /// A folder, or `s3://bucket/prefix`; empty means `DATA_DIR/objects`.
    pub(crate) url: String,
    /// S3 endpoint of a store other than AWS (path-style addressing).
    pub(crate) endpoint: Option<String>,
    /// S3 region.
    pub(crate) region: Option<String>,
    /// S3 access key id.
    pub(crate) access_key_id: Option<String>,
    /// S3 secret access key.
    pub(crate) secret_access_key: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct JobsConfig {
    /// Job workers inside `seqbank serve` (0: run `seqbank worker` processes instead).
    pub(crate) workers: usize,
    /// Seconds a worker's lease on a job lasts without a heartbeat.
    pub(crate) lease_seconds: u64,
    /// Days between checksum audits of every archived file (0: never).
    pub(crate) audit_days: u32,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            workers: 1,
            lease_seconds: 60,
            audit_days: 7,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct MetastoreConfig {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; empty means `sqlite://DATA_DIR/seqbank.db`.
    pub(crate) url: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./seqbank-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metastore: MetastoreConfig::default(),
            accessions: AccessionConfig::default(),
            storage: StorageConfig::default(),
            uploads: UploadConfig::default(),
            jobs: JobsConfig::default(),
            search: SearchConfig::default(),
            web: WebConfig::default(),
            mirror: MirrorConfig::default(),
        }
    }
}

/// Where settings may come from on the command line.
#[derive(Clone, Debug, Default, clap::Args)]
pub(crate) struct Sources {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Data folder (overrides the file and SEQBANK_DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
}

impl Config {
    /// Loads the file (if any), then the environment, then command-line flags.
    pub(crate) fn load(sources: &Sources) -> anyhow::Result<Self> {
        let mut config = match &sources.config {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        if let Some(dir) = &sources.data {
            config.data_dir = dir.clone();
        }
        Ok(config)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("invalid configuration in {}", path.display()))
    }

    /// Applies `SEQBANK_*` variables.
    pub(crate) fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(v) = get("SEQBANK_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("SEQBANK_LISTEN") {
            self.listen = v.parse().with_context(|| {
                format!("SEQBANK_LISTEN={v:?} is not an address like 127.0.0.1:8080")
            })?;
        }
        if let Some(v) = get("SEQBANK_METASTORE_URL") {
            self.metastore.url = v;
        }
        let prefixes = [
            ("SEQBANK_ACCESSION_PROJECT", &mut self.accessions.project),
            ("SEQBANK_ACCESSION_SAMPLE", &mut self.accessions.sample),
            (
                "SEQBANK_ACCESSION_EXPERIMENT",
                &mut self.accessions.experiment,
            ),
            ("SEQBANK_ACCESSION_RUN", &mut self.accessions.run),
            (
                "SEQBANK_ACCESSION_SUBMISSION",
                &mut self.accessions.submission,
            ),
        ];
        for (name, slot) in prefixes {
            if let Some(v) = get(name) {
                *slot = v;
            }
        }
        if let Some(v) = get("SEQBANK_ACCESSION_DIGITS") {
            self.accessions.digits = v
                .parse()
                .with_context(|| format!("SEQBANK_ACCESSION_DIGITS={v:?} is not a number"))?;
        }
        if let Some(v) = get("SEQBANK_OPEN_REGISTRATION") {
            self.web.open_registration = match v.as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                other => bail!("SEQBANK_OPEN_REGISTRATION must be true or false, not {other:?}"),
            };
        }
        if let Some(v) = get("SEQBANK_SEARCH_INDEX") {
            self.search.index = v;
        }
        if let Some(v) = get("SEQBANK_STORAGE_URL") {
            self.storage.url = v;
        }
        if let Some(v) = get("SEQBANK_S3_ENDPOINT") {
            self.storage.endpoint = Some(v);
        }
        if let Some(v) = get("SEQBANK_S3_REGION").or_else(|| get("AWS_REGION")) {
            self.storage.region = Some(v);
        }
        if let Some(v) = get("SEQBANK_S3_ACCESS_KEY_ID").or_else(|| get("AWS_ACCESS_KEY_ID")) {
            self.storage.access_key_id = Some(v);
        }
        if let Some(v) =
            get("SEQBANK_S3_SECRET_ACCESS_KEY").or_else(|| get("AWS_SECRET_ACCESS_KEY"))
        {
            self.storage.secret_access_key = Some(v);
        }
        let numbers = [
            ("SEQBANK_UPLOAD_MAX_SIZE", &mut self.uploads.max_size),
            ("SEQBANK_UPLOAD_QUOTA", &mut self.uploads.quota),
            ("SEQBANK_JOBS_LEASE_SECONDS", &mut self.jobs.lease_seconds),
        ];
        for (name, slot) in numbers {
            if let Some(v) = get(name) {
                *slot = v
                    .parse()
                    .with_context(|| format!("{name}={v:?} is not a whole number"))?;
            }
        }
        if let Some(v) = get("SEQBANK_JOBS_WORKERS") {
            self.jobs.workers = v
                .parse()
                .with_context(|| format!("SEQBANK_JOBS_WORKERS={v:?} is not a whole number"))?;
        }
        self.check()
    }

    fn check(&self) -> anyhow::Result<()> {
        let a = &self.accessions;
        let prefixes = [&a.project, &a.sample, &a.experiment, &a.run, &a.submission];
        for prefix in prefixes {
            if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                bail!("accession prefix {prefix:?} must be upper-case letters");
            }
        }
        for (i, p) in prefixes.iter().enumerate() {
            if prefixes[i + 1..].contains(p) {
                bail!("accession prefix {p:?} is used for two kinds of object");
            }
        }
        if !(3..=12).contains(&a.digits) {
            bail!("accessions.digits must be between 3 and 12");
        }
        Ok(())
    }

    /// Returns the object store settings, defaulting to a folder in the data folder.
    pub(crate) fn storage(&self) -> seqbank_storage::StorageConfig {
        let url = if self.storage.url.is_empty() {
            self.data_dir.join("objects").display().to_string()
        } else {
            self.storage.url.clone()
        };
        seqbank_storage::StorageConfig {
            url,
            endpoint: self.storage.endpoint.clone(),
            region: self.storage.region.clone(),
            access_key_id: self.storage.access_key_id.clone(),
            secret_access_key: self.storage.secret_access_key.clone(),
            spool: Some(self.data_dir.join("spool")),
        }
    }

    /// Where `seqbank mirror import` keeps dumps it downloads.
    pub(crate) fn downloads_dir(&self) -> PathBuf {
        self.data_dir.join("mirror-downloads")
    }

    /// The daily mirror update `[mirror]` describes, if it lists any source.
    pub(crate) fn mirror_plan(&self) -> anyhow::Result<Option<seqbank_service::MirrorPlan>> {
        if self.mirror.sources.is_empty() {
            return Ok(None);
        }
        let mut sources = Vec::new();
        for (i, s) in self.mirror.sources.iter().enumerate() {
            let source = s
                .source
                .parse()
                .map_err(|e: String| anyhow::anyhow!("[[mirror.sources]] number {}: {e}", i + 1))?;
            sources.push(seqbank_service::PlannedDump {
                source,
                path: s.path.clone(),
            });
        }
        seqbank_service::MirrorPlan::new(
            &self.mirror.at,
            sources,
            self.downloads_dir().join("daily"),
        )
        .map(Some)
        .map_err(anyhow::Error::msg)
    }

    /// Returns the search index folder, defaulting to `index` in the data folder.
    pub(crate) fn index_dir(&self) -> PathBuf {
        if self.search.index.is_empty() {
            self.data_dir.join("index")
        } else {
            PathBuf::from(&self.search.index)
        }
    }

    /// Returns the metastore URL, defaulting to SQLite in the data folder.
    pub(crate) fn metastore_url(&self) -> String {
        if self.metastore.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("seqbank.db").display())
        } else {
            self.metastore.url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let mut config: Config = toml::from_str(
            "listen = \"0.0.0.0:9000\"\n[accessions]\nproject = \"PRJCA\"\ndigits = 7\n",
        )
        .unwrap();
        assert_eq!(config.accessions.sample, "SAMSB");
        config
            .apply_env(|name| (name == "SEQBANK_ACCESSION_SAMPLE").then(|| "SAMC".to_owned()))
            .unwrap();
        assert_eq!(
            (
                config.accessions.project.as_str(),
                config.accessions.sample.as_str(),
                config.accessions.digits
            ),
            ("PRJCA", "SAMC", 7)
        );
        assert!(
            config
                .apply_env(|name| (name == "SEQBANK_ACCESSION_RUN").then(|| "SAMC".to_owned()))
                .is_err()
        );
        assert!(toml::from_str::<Config>("colour = 1").is_err());
    }
}

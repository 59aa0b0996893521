//! Where seqbank keeps file bytes: a local folder, or any S3-compatible object store.
//!
//! Two areas live under one root (the folder, or `s3://bucket/prefix`):
//!
//! - `staging/uploads/ID`: uploads in progress and received files awaiting approval. An upload
//!   grows here, resumably, and is never visible anywhere else until it is committed.
//! - `runs/SBR000/SBR000001/NAME`: archived files, one folder per run accession grouped by the
//!   accession without its last three digits, as in the archives' FTP trees. Archived objects are
//!   immutable: [`Storage::commit`] moves a staged object into place whole (a rename on a local
//!   folder, a server-side copy on S3) and refuses to overwrite.
//!
//! On a local folder an upload is one staging file appended to in place. On S3 an upload is a
//! multipart upload: bytes are gathered into parts of [`UploadState::part_size`], each part sent
//! as soon as it is full; the tail of a part not yet full is kept in a small spool file on local
//! disk so that a request ending anywhere loses nothing. Memory per upload stays at one part.
//!
//! The caller (the service) persists [`UploadState`] after each checkpoint; whatever the state
//! says is what was durably received, so a crash at any moment resumes from there.

use std::{
    io::{self, Read},
    ops::Range,
    path::{Path as FsPath, PathBuf},
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload,
    RetryConfig,
    aws::{AmazonS3, AmazonS3Builder},
    local::LocalFileSystem,
    multipart::{MultipartStore, PartId},
    path::Path,
};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

/// The smallest part of a multipart upload (S3 refuses smaller parts but the last).
pub const MIN_PART_SIZE: u64 = 8 << 20;
/// S3 allows at most 10,000 parts; keep a margin.
const MAX_PARTS: u64 = 9_000;
/// A local upload is flushed to disk and checkpointed at least this often.
const LOCAL_CHECKPOINT: u64 = 64 << 20;

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No object at that key.
    #[error("no object at {0}")]
    NotFound(String),
    /// An archived object is already there; archived objects are never overwritten.
    #[error("an object already exists at {0}")]
    AlreadyExists(String),
    /// The configuration cannot be used.
    #[error("storage configuration: {0}")]
    Config(String),
    /// The object store failed or could not be reached.
    #[error("object store {store} failed: {source}")]
    Store {
        /// The store, as configured.
        store: String,
        /// What it said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Result of storage operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How to reach the store.
#[derive(Clone, Debug, Default)]
pub struct StorageConfig {
    /// A folder path (or `file:///path`), or `s3://bucket[/prefix]`.
    pub url: String,
    /// S3 endpoint, for stores other than AWS (`http://127.0.0.1:8333`); path-style addressing is
    /// used whenever an endpoint is given.
    pub endpoint: Option<String>,
    /// S3 region (default `us-east-1`).
    pub region: Option<String>,
    /// S3 access key id.
    pub access_key_id: Option<String>,
    /// S3 secret access key.
    pub secret_access_key: Option<String>,
    /// Folder for the tails of S3 parts not yet full (default: the system's temporary folder).
    pub spool: Option<PathBuf>,
}

/// The durable state of an upload in staging; the caller stores it between requests.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct UploadState {
    /// Upload id (letters, digits, `-`).
    pub id: String,
    /// Declared total length.
    pub length: u64,
    /// Bytes durably received.
    pub offset: u64,
    /// S3 multipart upload id.
    pub multipart_id: Option<String>,
    /// S3 part ids, in order.
    pub parts: Vec<String>,
    /// Size of every S3 part but the last.
    pub part_size: u64,
    /// Bytes kept in the spool file (S3; a part not yet full).
    pub spooled: u64,
}

impl UploadState {
    /// Bytes in the S3 parts sent so far (every part but the last is `part_size`).
    fn sent(&self) -> u64 {
        self.parts.len() as u64 * self.part_size
    }
}

/// Metadata of a stored object.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Meta {
    /// Key relative to the storage root.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modified, seconds since the Unix epoch.
    pub modified: i64,
}

#[derive(Clone, Debug)]
enum Backend {
    Local { root: PathBuf },
    S3 { s3: Arc<AmazonS3> },
}

/// The object store seqbank writes files to.
#[derive(Clone, Debug)]
pub struct Storage {
    objects: Arc<dyn ObjectStore>,
    backend: Backend,
    prefix: String,
    spool: PathBuf,
    describe: String,
}

/// Returns the staging key of an upload.
pub fn staging_key(upload_id: &str) -> String {
    format!("staging/uploads/{upload_id}")
}

/// Returns the archive key of a run's file: `runs/SBR000/SBR000001/NAME`.
pub fn run_file_key(run_accession: &str, name: &str) -> String {
    let group_len = run_accession.len().saturating_sub(3);
    let group = &run_accession[..group_len.max(1).min(run_accession.len())];
    format!("runs/{group}/{run_accession}/{name}")
}

/// Whether a file name is safe as the last part of a key: no separators, no `..`, no control
/// characters, not empty, at most 255 bytes.
pub fn is_safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.starts_with('.')
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control() || c == ':')
}

impl Storage {
    /// Opens the store the configuration names, creating a local folder when missing.
    pub async fn open(config: &StorageConfig) -> Result<Self> {
        let url = config.url.trim();
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Error::Config(format!("{url:?} names no bucket")));
            }
            let mut builder = AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(config.region.as_deref().unwrap_or("us-east-1"))
                .with_retry(RetryConfig {
                    backoff: BackoffConfig::default(),
                    max_retries: 2,
                    retry_timeout: Duration::from_secs(15),
                })
                .with_client_options(
                    ClientOptions::new()
                        .with_connect_timeout(Duration::from_secs(5))
                        .with_timeout(Duration::from_secs(600)),
                );
            if let Some(endpoint) = &config.endpoint {
                builder = builder
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"))
                    .with_virtual_hosted_style_request(false);
            }
            if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
                builder = builder
                    .with_access_key_id(id)
                    .with_secret_access_key(secret);
            } else {
                builder = builder.with_skip_signature(true);
            }
            // One TLS provider for the whole process (ring); harmless when already set.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let s3 = Arc::new(builder.build().map_err(|e| Error::Config(e.to_string()))?);
            let describe = match &config.endpoint {
                Some(endpoint) => format!("{url} at {endpoint}"),
                None => url.to_owned(),
            };
            Ok(Self {
                objects: s3.clone(),
                backend: Backend::S3 { s3 },
                prefix: prefix.trim_matches('/').to_owned(),
                spool: config.spool.clone().unwrap_or_else(std::env::temp_dir),
                describe,
            })
        } else {
            let path = url.strip_prefix("file://").unwrap_or(url);
            if path.is_empty() || url.contains("://") && !url.starts_with("file://") {
                return Err(Error::Config(format!(
                    "{url:?} is neither a folder nor s3://bucket/prefix"
                )));
            }
            let root = PathBuf::from(path);
            std::fs::create_dir_all(root.join("staging/uploads")).map_err(|e| {
                Error::Config(format!(
                    "cannot create storage folder {}: {e}",
                    root.display()
                ))
            })?;
            let root = root.canonicalize().map_err(|e| {
                Error::Config(format!(
                    "cannot open storage folder {}: {e}",
                    root.display()
                ))
            })?;
            let local = LocalFileSystem::new_with_prefix(&root)
                .map_err(|e| Error::Config(e.to_string()))?
                .with_automatic_cleanup(true);
            Ok(Self {
                objects: Arc::new(local),
                spool: root.join("staging/spool"),
                describe: root.display().to_string(),
                backend: Backend::Local { root },
                prefix: String::new(),
            })
        }
    }

    /// The store, for messages: a folder path or `s3://bucket/prefix at ENDPOINT`.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Whether this is an S3-compatible store.
    pub fn is_s3(&self) -> bool {
        matches!(self.backend, Backend::S3 { .. })
    }

    fn path(&self, key: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }

    fn relative(&self, path: &Path) -> String {
        let full = path.as_ref();
        if self.prefix.is_empty() {
            full.to_owned()
        } else {
            full.strip_prefix(&self.prefix)
                .map(|s| s.trim_start_matches('/'))
                .unwrap_or(full)
                .to_owned()
        }
    }

    fn fail(&self, key: &str, e: object_store::Error) -> Error {
        match e {
            object_store::Error::NotFound { .. } => Error::NotFound(key.to_owned()),
            object_store::Error::AlreadyExists { .. } => Error::AlreadyExists(key.to_owned()),
            e => Error::Store {
                store: self.describe.clone(),
                source: Box::new(e),
            },
        }
    }

    fn io(&self, what: &str, e: io::Error) -> Error {
        Error::Store {
            store: self.describe.clone(),
            source: format!("{what}: {e}").into(),
        }
    }

    fn local_file(&self, key: &str) -> Option<PathBuf> {
        match &self.backend {
            Backend::Local { root } => Some(root.join(key)),
            Backend::S3 { .. } => None,
        }
    }

    fn spool_file(&self, id: &str) -> PathBuf {
        self.spool.join(format!("{id}.spool"))
    }

    /// Checks that the store answers (lists the staging area).
    pub async fn check(&self) -> Result<()> {
        let path = self.path("staging");
        self.objects
            .list_with_delimiter(Some(&path))
            .await
            .map_err(|e| self.fail("staging", e))?;
        Ok(())
    }

    // ---- uploads ----

    /// Starts an upload of `length` bytes in staging.
    pub async fn begin_upload(&self, id: &str, length: u64) -> Result<UploadState> {
        let mut state = UploadState {
            id: id.to_owned(),
            length,
            ..UploadState::default()
        };
        match &self.backend {
            Backend::Local { .. } => {
                let Some(file) = self.local_file(&staging_key(id)) else {
                    unreachable!("local backend has files")
                };
                // Deleting the last staged object may have removed the (empty) folder.
                if let Some(parent) = file.parent() {
                    tokio::fs::create_dir_all(parent)
                        .await
                        .map_err(|e| self.io("creating the staging folder", e))?;
                }
                tokio::fs::File::create(&file)
                    .await
                    .map_err(|e| self.io("creating the staging file", e))?;
            }
            Backend::S3 { s3 } => {
                let part = length.div_ceil(MAX_PARTS).max(MIN_PART_SIZE);
                state.part_size = part.div_ceil(1 << 20) << 20;
                let key = staging_key(id);
                let multipart = s3
                    .create_multipart(&self.path(&key))
                    .await
                    .map_err(|e| self.fail(&key, e))?;
                state.multipart_id = Some(multipart);
                tokio::fs::create_dir_all(&self.spool)
                    .await
                    .map_err(|e| self.io("creating the spool folder", e))?;
            }
        }
        Ok(state)
    }

    /// Opens an upload for appending at its durable offset.
    pub async fn append(&self, state: &UploadState) -> Result<Appender> {
        let sink = match &self.backend {
            Backend::Local { .. } => {
                let Some(path) = self.local_file(&staging_key(&state.id)) else {
                    unreachable!("local backend has files")
                };
                let mut file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .await
                    .map_err(|e| self.io("opening the staging file", e))?;
                // Bytes past the durable offset were never acknowledged: drop them.
                file.set_len(state.offset)
                    .await
                    .map_err(|e| self.io("truncating the staging file", e))?;
                file.seek(io::SeekFrom::Start(state.offset))
                    .await
                    .map_err(|e| self.io("seeking the staging file", e))?;
                Sink::Local { file, unsynced: 0 }
            }
            Backend::S3 { s3 } => {
                let mut buffer = Vec::with_capacity(state.part_size as usize);
                if state.spooled > 0 {
                    let bytes = tokio::fs::read(self.spool_file(&state.id))
                        .await
                        .map_err(|e| self.io("reading the spool file", e))?;
                    let n = (state.spooled as usize).min(bytes.len());
                    buffer.extend_from_slice(&bytes[..n]);
                }
                Sink::S3 {
                    s3: s3.clone(),
                    buffer,
                }
            }
        };
        Ok(Appender {
            storage: self.clone(),
            state: state.clone(),
            sink,
        })
    }

    /// Discards an upload: the staging object, an unfinished multipart upload, the spool.
    pub async fn abort_upload(&self, state: &UploadState) -> Result<()> {
        let key = staging_key(&state.id);
        if let (Backend::S3 { s3 }, Some(id)) = (&self.backend, &state.multipart_id)
            && state.offset < state.length
        {
            match s3.abort_multipart(&self.path(&key), id).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.fail(&key, e)),
            }
            let _ = tokio::fs::remove_file(self.spool_file(&state.id)).await;
        }
        match self.delete(&key).await {
            Ok(()) | Err(Error::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    // ---- objects ----

    /// Moves a staged object to its archive key. Refuses to overwrite a different object; when
    /// the move already happened (a retry after a crash), succeeds.
    pub async fn commit(&self, from: &str, to: &str) -> Result<Meta> {
        let target = self.head(to).await?;
        let source = self.head(from).await?;
        match (source, target) {
            (None, Some(target)) => return Ok(target),
            (Some(_), Some(_)) => return Err(Error::AlreadyExists(to.to_owned())),
            (None, None) => return Err(Error::NotFound(from.to_owned())),
            (Some(_), None) => {}
        }
        self.objects
            .rename(&self.path(from), &self.path(to))
            .await
            .map_err(|e| self.fail(from, e))?;
        self.head(to)
            .await?
            .ok_or_else(|| Error::NotFound(to.to_owned()))
    }

    /// Stores small bytes at a key in one atomic put.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.objects
            .put(&self.path(key), PutPayload::from(bytes))
            .await
            .map_err(|e| self.fail(key, e))?;
        Ok(())
    }

    /// Returns an object's metadata, or `None` when there is none.
    pub async fn head(&self, key: &str) -> Result<Option<Meta>> {
        match self.objects.head(&self.path(key)).await {
            Ok(meta) => Ok(Some(Meta {
                key: key.to_owned(),
                size: meta.size,
                modified: meta.last_modified.timestamp(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.fail(key, e)),
        }
    }

    /// Streams an object, or a byte range of it, without holding it in memory.
    pub async fn get(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes>>> {
        if let Some(path) = self.local_file(key) {
            return self.get_local(key, &path, range).await;
        }
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .objects
            .get_opts(&self.path(key), options)
            .await
            .map_err(|e| self.fail(key, e))?;
        let this = self.clone();
        let key = key.to_owned();
        Ok(result
            .into_stream()
            .map_err(move |e| this.fail(&key, e))
            .boxed())
    }

    /// Streams a local file in 1 MiB reads (object_store's local reads are 8 KiB, a quarter of
    /// the throughput over HTTP).
    async fn get_local(
        &self,
        key: &str,
        path: &FsPath,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes>>> {
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => Error::NotFound(key.to_owned()),
                _ => self.io("opening a file", e),
            })?;
        let size = file
            .metadata()
            .await
            .map_err(|e| self.io("reading a file's size", e))?
            .len();
        let range = range.unwrap_or(0..size);
        let (start, end) = (range.start.min(size), range.end.min(size));
        file.seek(io::SeekFrom::Start(start))
            .await
            .map_err(|e| self.io("seeking a file", e))?;
        let this = self.clone();
        let stream = futures_util::stream::unfold(
            (file.take(end - start), this),
            |(mut reader, this)| async move {
                let mut buf = bytes::BytesMut::with_capacity(1 << 20);
                while buf.len() < buf.capacity() {
                    match reader.read_buf(&mut buf).await {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => return Some((Err(this.io("reading a file", e)), (reader, this))),
                    }
                }
                if buf.is_empty() {
                    None
                } else {
                    Some((Ok(buf.freeze()), (reader, this)))
                }
            },
        );
        Ok(stream.boxed())
    }

    /// Opens an object for blocking reads (call from a blocking thread, inside a tokio runtime).
    pub async fn reader(&self, key: &str) -> Result<BlockingReader> {
        if let Some(path) = self.local_file(key) {
            let file = std::fs::File::open(&path).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => Error::NotFound(key.to_owned()),
                _ => self.io("opening a file", e),
            })?;
            return Ok(BlockingReader::File(file));
        }
        let stream = self.get(key, None).await?;
        Ok(BlockingReader::Stream {
            stream,
            handle: tokio::runtime::Handle::current(),
            current: Bytes::new(),
        })
    }

    /// Lists the objects under a key prefix (recursively).
    pub async fn list(&self, prefix: &str) -> Result<Vec<Meta>> {
        let path = self.path(prefix.trim_end_matches('/'));
        let mut out = Vec::new();
        let mut stream = self.objects.list(Some(&path));
        while let Some(item) = stream.next().await {
            match item {
                Ok(meta) => {
                    let key = self.relative(&meta.location);
                    // Spool files of S3 uploads live outside the store; local spool is internal.
                    if key.starts_with("staging/spool/") {
                        continue;
                    }
                    out.push(Meta {
                        key,
                        size: meta.size,
                        modified: meta.last_modified.timestamp(),
                    });
                }
                Err(object_store::Error::NotFound { .. }) => break,
                Err(e) => return Err(self.fail(prefix, e)),
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Deletes an object.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.objects
            .delete(&self.path(key))
            .await
            .map_err(|e| self.fail(key, e))
    }
}

enum Sink {
    Local {
        file: tokio::fs::File,
        unsynced: u64,
    },
    S3 {
        s3: Arc<AmazonS3>,
        buffer: Vec<u8>,
    },
}

/// Appends bytes to an upload; see [`Storage::append`].
pub struct Appender {
    storage: Storage,
    state: UploadState,
    sink: Sink,
}

impl std::fmt::Debug for Appender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appender")
            .field("state", &self.state)
            .finish()
    }
}

impl Appender {
    /// Bytes received so far, durable or not.
    pub fn received(&self) -> u64 {
        match &self.sink {
            Sink::Local { .. } => self.state.offset,
            Sink::S3 { buffer, .. } => self.state.sent() + buffer.len() as u64,
        }
    }

    /// Appends bytes (refusing any beyond the declared length). Returns a new durable state when
    /// this write made more bytes durable (a part sent, a local flush): store it.
    pub async fn write(&mut self, mut data: &[u8]) -> Result<Option<UploadState>> {
        let room = self.state.length - self.received();
        if data.len() as u64 > room {
            return Err(Error::Config(format!(
                "more bytes than the declared length of {}",
                self.state.length
            )));
        }
        let storage = self.storage.clone();
        match &mut self.sink {
            Sink::Local { file, unsynced } => {
                file.write_all(data)
                    .await
                    .map_err(|e| storage.io("writing the staging file", e))?;
                self.state.offset += data.len() as u64;
                *unsynced += data.len() as u64;
                if *unsynced >= LOCAL_CHECKPOINT {
                    file.sync_data()
                        .await
                        .map_err(|e| storage.io("syncing the staging file", e))?;
                    *unsynced = 0;
                    return Ok(Some(self.state.clone()));
                }
                Ok(None)
            }
            Sink::S3 { s3, buffer } => {
                let part_size = self.state.part_size as usize;
                let mut checkpoint = false;
                while !data.is_empty() {
                    let take = (part_size - buffer.len()).min(data.len());
                    buffer.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    let complete = self.state.sent() + buffer.len() as u64 == self.state.length;
                    // The last part is sent by `finish`, so that completing stays one step.
                    if buffer.len() == part_size && !complete {
                        let part =
                            Bytes::from(std::mem::replace(buffer, Vec::with_capacity(part_size)));
                        let id = put_part(&storage, s3, &self.state, part).await?;
                        self.state.parts.push(id);
                        self.state.spooled = 0;
                        self.state.offset = self.state.sent();
                        checkpoint = true;
                    }
                }
                Ok(checkpoint.then(|| self.state.clone()))
            }
        }
    }

    /// Makes everything received durable and returns the state to store. When the upload is
    /// complete, the staging object now exists whole.
    pub async fn finish(self) -> Result<UploadState> {
        let Self {
            storage,
            mut state,
            sink,
        } = self;
        match sink {
            Sink::Local { file, .. } => {
                file.sync_data()
                    .await
                    .map_err(|e| storage.io("syncing the staging file", e))?;
            }
            Sink::S3 { s3, buffer } => {
                let received = state.sent() + buffer.len() as u64;
                if received == state.length {
                    if !buffer.is_empty() || state.parts.is_empty() {
                        let id = put_part(&storage, &s3, &state, Bytes::from(buffer)).await?;
                        state.parts.push(id);
                    }
                    let key = staging_key(&state.id);
                    let Some(multipart) = &state.multipart_id else {
                        return Err(Error::Config("an S3 upload without a multipart id".into()));
                    };
                    let parts = state
                        .parts
                        .iter()
                        .map(|id| PartId {
                            content_id: id.clone(),
                        })
                        .collect();
                    s3.complete_multipart(&storage.path(&key), multipart, parts)
                        .await
                        .map_err(|e| storage.fail(&key, e))?;
                    state.spooled = 0;
                    let _ = tokio::fs::remove_file(storage.spool_file(&state.id)).await;
                } else {
                    let path = storage.spool_file(&state.id);
                    let mut file = tokio::fs::File::create(&path)
                        .await
                        .map_err(|e| storage.io("writing the spool file", e))?;
                    file.write_all(&buffer)
                        .await
                        .map_err(|e| storage.io("writing the spool file", e))?;
                    file.sync_data()
                        .await
                        .map_err(|e| storage.io("syncing the spool file", e))?;
                    state.spooled = buffer.len() as u64;
                }
                state.offset = received;
            }
        }
        Ok(state)
    }
}

async fn put_part(
    storage: &Storage,
    s3: &AmazonS3,
    state: &UploadState,
    part: Bytes,
) -> Result<String> {
    let key = staging_key(&state.id);
    let Some(multipart) = &state.multipart_id else {
        return Err(Error::Config("an S3 upload without a multipart id".into()));
    };
    let id = s3
        .put_part(
            &storage.path(&key),
            multipart,
            state.parts.len(),
            PutPayload::from(part),
        )
        .await
        .map_err(|e| storage.fail(&key, e))?;
    Ok(id.content_id)
}

/// A blocking reader over a stored object, for the (synchronous) validation engine.
pub enum BlockingReader {
    /// A local file.
    File(std::fs::File),
    /// A stream from an object store, pulled on the calling thread.
    Stream {
        /// The bytes.
        stream: BoxStream<'static, Result<Bytes>>,
        /// The runtime the stream belongs to.
        handle: tokio::runtime::Handle,
        /// What is left of the last chunk.
        current: Bytes,
    },
}

impl std::fmt::Debug for BlockingReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlockingReader")
    }
}

impl Read for BlockingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::File(file) => file.read(buf),
            Self::Stream {
                stream,
                handle,
                current,
            } => {
                while current.is_empty() {
                    match handle.block_on(stream.next()) {
                        Some(Ok(bytes)) => *current = bytes,
                        Some(Err(e)) => return Err(io::Error::other(e)),
                        None => return Ok(0),
                    }
                }
                let n = current.len().min(buf.len());
                buf[..n].copy_from_slice(&current[..n]);
                *current = current.slice(n..);
                Ok(n)
            }
        }
    }
}

/// Returns the path of a local storage root, when the store is a folder (for tests and fsck).
pub fn local_root(storage: &Storage) -> Option<&FsPath> {
    match &storage.backend {
        Backend::Local { root } => Some(root),
        Backend::S3 { .. } => None,
    }
}

#[cfg(test)]
mod tests;

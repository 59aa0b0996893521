//! The store: connection, schema, and the queries, written once for both backends.

use std::{str::FromStr, time::Duration};

use seqbank_core::{ObjectKind, Role, Status};
use sqlx::{
    AssertSqlSafe, PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{Error, Result};

/// The metadata store.
#[derive(Clone, Debug)]
pub struct Metastore {
    pub(crate) backend: Backend,
}

#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool the store has.
macro_rules! with_pool {
    ($self:expr, |$pool:ident| $body:expr) => {
        match &$self.backend {
            Backend::Sqlite($pool) => $body,
            Backend::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` inside one transaction (`BEGIN IMMEDIATE` on SQLite, so writers queue instead
/// of failing on lock upgrades) and commits it; an early return rolls it back.
macro_rules! with_tx {
    ($self:expr, |$tx:ident| $body:expr) => {
        match &$self.backend {
            Backend::Sqlite(pool) => {
                #[allow(unused_imports)]
                use $crate::store::sqlite_tx as h;
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            Backend::Postgres(pool) => {
                #[allow(unused_imports)]
                use $crate::store::postgres_tx as h;
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

/// A parameter of a query built at run time.
enum Param {
    Int(i64),
    Text(String),
}

macro_rules! bind_all {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                Param::Int(v) => query.bind(*v),
                Param::Text(v) => query.bind(v.clone()),
            };
        }
        query
    }};
}

/// An API token as its owner sees it: never the token itself, which is stored only as a hash.
#[derive(Clone, Debug, Eq, PartialEq, sqlx::FromRow)]
pub struct TokenInfo {
    /// Row id, to revoke it.
    pub id: i64,
    /// What it was made for.
    pub label: String,
    /// When it was made.
    pub created_at: String,
}

/// A user account.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// When it was made.
    pub created_at: String,
}

#[derive(sqlx::FromRow)]
struct RawUser {
    id: i64,
    name: String,
    role: String,
    created_at: String,
}

impl TryFrom<RawUser> for User {
    type Error = Error;

    fn try_from(raw: RawUser) -> Result<Self> {
        Ok(User {
            id: raw.id,
            name: raw.name,
            role: parse(&raw.role)?,
            created_at: raw.created_at,
        })
    }
}

/// A submission: a batch of objects a submitter sends together.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    /// Row id, used in URLs.
    pub id: i64,
    /// Owner's user id.
    pub owner_id: i64,
    /// Owner's name.
    pub owner: String,
    /// The owner's name for it.
    pub alias: String,
    /// Title.
    pub title: String,
    /// Where it is in its life.
    pub status: Status,
    /// Accession, once approved.
    pub accession: Option<String>,
    /// Release date for its objects (YYYY-MM-DD), or none to release on approval.
    pub hold_until: Option<String>,
    /// JSON array of the findings of the last check.
    pub findings: String,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

#[derive(sqlx::FromRow)]
struct RawSubmission {
    id: i64,
    owner_id: i64,
    owner: String,
    alias: String,
    title: String,
    status: String,
    accession: Option<String>,
    hold_until: Option<String>,
    findings: String,
    created_at: String,
    updated_at: String,
}

impl TryFrom<RawSubmission> for Submission {
    type Error = Error;

    fn try_from(r: RawSubmission) -> Result<Self> {
        Ok(Submission {
            id: r.id,
            owner_id: r.owner_id,
            owner: r.owner,
            alias: r.alias,
            title: r.title,
            status: parse(&r.status)?,
            accession: r.accession,
            hold_until: r.hold_until,
            findings: r.findings,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const SUBMISSION_COLUMNS: &str = "s.id, s.owner_id, u.name AS owner, s.alias, s.title, s.status, s.accession, s.hold_until, s.findings, s.created_at, s.updated_at FROM submissions s JOIN users u ON u.id = s.owner_id";

/// A stored metadata object.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// Row id.
    pub id: i64,
    /// Kind.
    pub kind: ObjectKind,
    /// Owner's user id.
    pub owner_id: i64,
    /// Owner's name.
    pub owner: String,
    /// The submission it came in.
    pub submission_id: i64,
    /// The owner's name for it.
    pub alias: String,
    /// Accession, once approved.
    pub accession: Option<String>,
    /// Where it is in its life.
    pub status: Status,
    /// Version, from 1; a release edit adds one.
    pub version: i32,
    /// Title, for listings.
    pub title: String,
    /// The object as JSON.
    pub body: String,
    /// Release date.
    pub hold_until: Option<String>,
    /// Why it was suppressed or withdrawn.
    pub status_reason: Option<String>,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
    /// Made public.
    pub released_at: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RawObject {
    id: i64,
    kind: String,
    owner_id: i64,
    owner: String,
    submission_id: i64,
    alias: String,
    accession: Option<String>,
    status: String,
    version: i32,
    title: String,
    body: String,
    hold_until: Option<String>,
    status_reason: Option<String>,
    created_at: String,
    updated_at: String,
    released_at: Option<String>,
}

impl TryFrom<RawObject> for Object {
    type Error = Error;

    fn try_from(r: RawObject) -> Result<Self> {
        Ok(Object {
            id: r.id,
            kind: parse(&r.kind)?,
            owner_id: r.owner_id,
            owner: r.owner,
            submission_id: r.submission_id,
            alias: r.alias,
            accession: r.accession,
            status: parse(&r.status)?,
            version: r.version,
            title: r.title,
            body: r.body,
            hold_until: r.hold_until,
            status_reason: r.status_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
            released_at: r.released_at,
        })
    }
}

const OBJECT_COLUMNS: &str = "o.id, o.kind, o.owner_id, u.name AS owner, o.submission_id, o.alias, o.accession, o.status, o.version, o.title, o.body, o.hold_until, o.status_reason, o.created_at, o.updated_at, o.released_at FROM objects o JOIN users u ON u.id = o.owner_id";

/// An object to add to a submission.
#[derive(Clone, Debug)]
pub struct NewObject {
    /// Kind.
    pub kind: ObjectKind,
    /// Alias, unique per owner and kind.
    pub alias: String,
    /// Title for listings.
    pub title: String,
    /// The object as JSON.
    pub body: String,
    /// References to other objects by alias (of the owner) or accession; unresolved ones are not linked.
    pub references: Vec<(ObjectKind, String)>,
}

/// One recorded change: who did what, when and why.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Event {
    /// Row id.
    pub id: i64,
    /// What happened (`submit`, `approve`, `release`, `edit`, …).
    pub action: String,
    /// State before.
    pub from_status: Option<String>,
    /// State after.
    pub to_status: Option<String>,
    /// Who did it.
    pub actor: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// When.
    pub at: String,
}

/// An earlier version of an object.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Version {
    /// Version number.
    pub version: i32,
    /// The object as JSON then.
    pub body: String,
    /// When it was replaced.
    pub created_at: String,
}

/// Which objects a listing may show.
#[derive(Clone, Copy, Debug)]
pub enum Visibility {
    /// Only public ones.
    Public,
    /// Public ones and the user's own.
    PublicOrOwnedBy(i64),
    /// All.
    All,
}

/// A listing of objects, paged by id.
#[derive(Clone, Debug)]
pub struct ObjectQuery {
    /// Only this kind.
    pub kind: Option<ObjectKind>,
    /// Only objects of this submission.
    pub submission_id: Option<i64>,
    /// Only objects of this owner.
    pub owner_id: Option<i64>,
    /// Only these states.
    pub statuses: Vec<Status>,
    /// Which objects may be shown at all.
    pub visibility: Visibility,
    /// Only ids above this (the page token).
    pub after_id: i64,
    /// At most this many.
    pub limit: i64,
}

/// Which transition an object goes through, and how accessions look.
#[derive(Clone, Debug)]
pub struct Approval {
    /// Accession prefix per object kind, and for the submission.
    pub prefixes: Vec<(Option<ObjectKind>, String)>,
    /// Digits after the prefix.
    pub digits: usize,
    /// Whether the objects become public at once (no hold date).
    pub release_now: bool,
}

pub(crate) fn parse<T: FromStr>(s: &str) -> Result<T> {
    s.parse().map_err(|_| {
        Error::Database(sqlx::Error::Decode(
            format!("unexpected value {s:?} in the database").into(),
        ))
    })
}

fn status_list(statuses: &[Status]) -> String {
    statuses
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Formats an accession: prefix and zero-padded number.
pub fn format_accession(prefix: &str, number: i64, digits: usize) -> String {
    format!("{prefix}{number:0digits$}")
}

/// The page size of a new SQLite database.
const SQLITE_PAGE_SIZE: u32 = 16 << 10;

impl Metastore {
    /// Connects to `sqlite://PATH` (created when missing), `sqlite::memory:`, or `postgres://…`,
    /// and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        let backend = if url.starts_with("sqlite:") {
            let options: SqliteConnectOptions = url
                .parse::<SqliteConnectOptions>()?
                .create_if_missing(true)
                // A mirrored record's row (about 2.3 KB) fits a 4 KiB page once and leaves the
                // rest of it empty; a 16 KiB page holds seven. Set when the file is created only
                // (a WAL database keeps its page size).
                .page_size(SQLITE_PAGE_SIZE)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(60));
            // An in-memory database exists once per connection: keep a single one.
            let max = if url.contains(":memory:") { 1 } else { 8 };
            let pool = SqlitePoolOptions::new()
                .max_connections(max)
                .connect_with(options)
                .await?;
            sqlx::migrate!("migrations/sqlite")
                .run(&pool)
                .await
                .map_err(Error::Migrate)?;
            Backend::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await?;
            sqlx::migrate!("migrations/postgres")
                .run(&pool)
                .await
                .map_err(Error::Migrate)?;
            Backend::Postgres(pool)
        } else {
            return Err(Error::UnsupportedUrl(url.to_owned()));
        };
        Ok(Self { backend })
    }

    /// Returns `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }

    // ---- users and tokens ----

    /// Creates a user.
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        password_hash: Option<&str>,
        now: &str,
    ) -> Result<User> {
        const SQL: &str = "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id, name, role, created_at";
        let raw: RawUser = with_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(name)
            .bind(role.as_str())
            .bind(password_hash)
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => Error::Conflict(format!("user {name:?} already exists")),
                e => e,
            })?);
        raw.try_into()
    }

    /// Returns the user of this name.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        const SQL: &str = "SELECT id, name, role, created_at FROM users WHERE name = $1";
        let raw: Option<RawUser> = with_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(name)
            .fetch_optional(pool)
            .await?);
        raw.map(User::try_from).transpose()
    }

    /// Returns the user and password hash of this name.
    pub async fn password_hash(&self, name: &str) -> Result<Option<(User, Option<String>)>> {
        const SQL: &str = "SELECT password_hash FROM users WHERE name = $1";
        let Some(user) = self.user_by_name(name).await? else {
            return Ok(None);
        };
        let hash: Option<String> = with_pool!(self, |pool| sqlx::query_scalar(SQL)
            .bind(name)
            .fetch_one(pool)
            .await?);
        Ok(Some((user, hash)))
    }

    /// Lists users by name.
    pub async fn users(&self) -> Result<Vec<User>> {
        const SQL: &str = "SELECT id, name, role, created_at FROM users ORDER BY name";
        let raw: Vec<RawUser> =
            with_pool!(self, |pool| sqlx::query_as(SQL).fetch_all(pool).await?);
        raw.into_iter().map(User::try_from).collect()
    }

    /// Stores a token's hash for a user.
    pub async fn add_token(
        &self,
        user_id: i64,
        token_hash: &str,
        label: &str,
        now: &str,
    ) -> Result<()> {
        const SQL: &str =
            "INSERT INTO tokens (user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4)";
        with_pool!(self, |pool| {
            sqlx::query(SQL)
                .bind(user_id)
                .bind(token_hash)
                .bind(label)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Returns the user a token hash belongs to.
    pub async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>> {
        const SQL: &str = "SELECT u.id, u.name, u.role, u.created_at FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1";
        let raw: Option<RawUser> = with_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(token_hash)
            .fetch_optional(pool)
            .await?);
        raw.map(User::try_from).transpose()
    }

    /// Lists a user's tokens as (id, label, created at), newest first; never the tokens themselves.
    pub async fn tokens(&self, user_id: i64) -> Result<Vec<TokenInfo>> {
        const SQL: &str =
            "SELECT id, label, created_at FROM tokens WHERE user_id = $1 ORDER BY id DESC";
        Ok(with_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(user_id)
            .fetch_all(pool)
            .await?))
    }

    /// Deletes one of a user's tokens by id; returns whether it existed.
    pub async fn delete_token(&self, user_id: i64, id: i64) -> Result<bool> {
        const SQL: &str = "DELETE FROM tokens WHERE user_id = $1 AND id = $2";
        let done = with_pool!(self, |pool| sqlx::query(SQL)
            .bind(user_id)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done > 0)
    }

    /// Deletes the token with this hash (signing out); returns whether it existed.
    pub async fn delete_token_hash(&self, token_hash: &str) -> Result<bool> {
        const SQL: &str = "DELETE FROM tokens WHERE token_hash = $1";
        let done = with_pool!(self, |pool| sqlx::query(SQL)
            .bind(token_hash)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done > 0)
    }

    /// Counts the archived files of public runs and their bytes.
    pub async fn public_file_totals(&self) -> Result<(i64, i64)> {
        const SQL: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(f.size), 0) AS BIGINT) FROM files f JOIN objects o ON o.id = f.run_id WHERE f.archived AND o.status = 'public'";
        Ok(with_pool!(self, |pool| sqlx::query_as(SQL)
            .fetch_one(pool)
            .await?))
    }

    // ---- accessions ----

    /// Reserves `count` consecutive numbers for `prefix` and returns the first. Numbers start at 1
    /// and are never handed out twice, whatever runs concurrently.
    pub async fn allocate_accessions(&self, prefix: &str, count: i64) -> Result<i64> {
        Ok(with_tx!(self, |tx| h::allocate(&mut tx, prefix, count).await?))
    }

    // ---- submissions ----

    /// Creates a draft submission.
    pub async fn create_submission(
        &self,
        owner_id: i64,
        alias: &str,
        title: &str,
        hold_until: Option<&str>,
        now: &str,
    ) -> Result<Submission> {
        const SQL: &str = "INSERT INTO submissions (owner_id, alias, title, status, hold_until, findings, created_at, updated_at) VALUES ($1, $2, $3, 'draft', $4, '[]', $5, $5) RETURNING id";
        let id: i64 = with_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(SQL)
                .bind(owner_id)
                .bind(alias)
                .bind(title)
                .bind(hold_until)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| match Error::from(e) {
                    Error::Conflict(_) => Error::Conflict(format!(
                        "you already have a submission with alias {alias:?}"
                    )),
                    e => e,
                })?;
            h::record(
                &mut tx,
                "submission",
                id,
                "create",
                None,
                Some(Status::Draft),
                Some(owner_id),
                None,
                now,
            )
            .await?;
            id
        });
        self.submission(id).await
    }

    /// Returns a submission.
    pub async fn submission(&self, id: i64) -> Result<Submission> {
        let sql = format!("SELECT {SUBMISSION_COLUMNS} WHERE s.id = $1");
        let raw: RawSubmission = with_pool!(self, |pool| sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(pool)
            .await?);
        raw.try_into()
    }

    /// Lists submissions, newest last, optionally of one owner and in some states.
    pub async fn submissions(
        &self,
        owner_id: Option<i64>,
        statuses: &[Status],
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<Submission>> {
        let mut sql = format!("SELECT {SUBMISSION_COLUMNS} WHERE s.id > $1");
        let mut params = vec![Param::Int(after_id)];
        if let Some(owner) = owner_id {
            params.push(Param::Int(owner));
            sql.push_str(&format!(" AND s.owner_id = ${}", params.len()));
        }
        push_statuses(&mut sql, &mut params, "s.status", statuses);
        params.push(Param::Int(limit));
        sql.push_str(&format!(" ORDER BY s.id LIMIT ${}", params.len()));
        let raw: Vec<RawSubmission> = with_pool!(self, |pool| bind_all!(
            sqlx::query_as(AssertSqlSafe(sql)),
            &params
        )
        .fetch_all(pool)
        .await?);
        raw.into_iter().map(Submission::try_from).collect()
    }

    /// Changes a submission's title and release date while it is in one of `expected` states.
    pub async fn update_submission(
        &self,
        id: i64,
        title: &str,
        hold_until: Option<&str>,
        expected: &[Status],
        now: &str,
    ) -> Result<Submission> {
        with_tx!(self, |tx| {
            h::check_submission_status(&mut tx, id, expected).await?;
            sqlx::query(
                "UPDATE submissions SET title = $2, hold_until = $3, updated_at = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(title)
            .bind(hold_until)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        });
        self.submission(id).await
    }

    /// Adds objects to a submission in one of `expected` states: all of them, or none.
    pub async fn add_objects(
        &self,
        submission_id: i64,
        expected: &[Status],
        objects: &[NewObject],
        actor_id: i64,
        now: &str,
    ) -> Result<Vec<i64>> {
        const INSERT: &str = "INSERT INTO objects (kind, owner_id, submission_id, alias, status, version, title, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $8) RETURNING id";
        Ok(with_tx!(self, |tx| {
            let (owner_id, status) =
                h::check_submission_status(&mut tx, submission_id, expected).await?;
            let mut ids = Vec::with_capacity(objects.len());
            for object in objects {
                let id: i64 = sqlx::query_scalar(INSERT)
                    .bind(object.kind.as_str())
                    .bind(owner_id)
                    .bind(submission_id)
                    .bind(&object.alias)
                    .bind(status.as_str())
                    .bind(&object.title)
                    .bind(&object.body)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| match Error::from(e) {
                        Error::Conflict(_) => Error::Conflict(format!(
                            "you already have a {} with alias {:?}",
                            object.kind, object.alias
                        )),
                        e => e,
                    })?;
                ids.push(id);
            }
            // Links after all inserts, so objects may refer to ones later in the batch.
            for (object, id) in objects.iter().zip(&ids) {
                h::link(&mut tx, *id, owner_id, &object.references).await?;
            }
            let reason = format!("{} objects added", objects.len());
            h::record(
                &mut tx,
                "submission",
                submission_id,
                "add_objects",
                Some(status),
                Some(status),
                Some(actor_id),
                Some(&reason),
                now,
            )
            .await?;
            ids
        }))
    }

    /// Replaces an object's metadata in place (drafts): same version, links recomputed.
    pub async fn replace_object(
        &self,
        id: i64,
        expected: &[Status],
        object: &NewObject,
        actor_id: i64,
        now: &str,
    ) -> Result<()> {
        with_tx!(self, |tx| {
            let (owner_id, status) = h::check_object_status(&mut tx, id, expected).await?;
            sqlx::query("UPDATE objects SET alias = $2, title = $3, body = $4, updated_at = $5 WHERE id = $1")
                .bind(id)
                .bind(&object.alias)
                .bind(&object.title)
                .bind(&object.body)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| match Error::from(e) {
                    Error::Conflict(_) => Error::Conflict(format!("you already have a {} with alias {:?}", object.kind, object.alias)),
                    e => e,
                })?;
            sqlx::query("DELETE FROM links WHERE from_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            h::link(&mut tx, id, owner_id, &object.references).await?;
            h::record(
                &mut tx,
                "object",
                id,
                "edit",
                Some(status),
                Some(status),
                Some(actor_id),
                None,
                now,
            )
            .await?;
        });
        Ok(())
    }

    /// Stores a new version of an accessioned object, keeping the old body in its history.
    pub async fn new_version(
        &self,
        id: i64,
        expected: &[Status],
        title: &str,
        body: &str,
        actor_id: i64,
        reason: Option<&str>,
        now: &str,
    ) -> Result<i32> {
        Ok(with_tx!(self, |tx| {
            let (_, status) = h::check_object_status(&mut tx, id, expected).await?;
            sqlx::query("INSERT INTO object_versions (object_id, version, body, created_at, created_by) SELECT id, version, body, $2, $3 FROM objects WHERE id = $1")
                .bind(id)
                .bind(now)
                .bind(actor_id)
                .execute(&mut *tx)
                .await?;
            let version: i32 = sqlx::query_scalar("UPDATE objects SET version = version + 1, title = $2, body = $3, updated_at = $4 WHERE id = $1 RETURNING version")
                .bind(id)
                .bind(title)
                .bind(body)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            h::record(
                &mut tx,
                "object",
                id,
                "new_version",
                Some(status),
                Some(status),
                Some(actor_id),
                reason,
                now,
            )
            .await?;
            version
        }))
    }

    /// Returns an object by row id.
    pub async fn object(&self, id: i64) -> Result<Object> {
        let sql = format!("SELECT {OBJECT_COLUMNS} WHERE o.id = $1");
        let raw: RawObject = with_pool!(self, |pool| sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(pool)
            .await?);
        raw.try_into()
    }

    /// Returns an object by accession.
    pub async fn object_by_accession(&self, accession: &str) -> Result<Option<Object>> {
        let sql = format!("SELECT {OBJECT_COLUMNS} WHERE o.accession = $1");
        let raw: Option<RawObject> = with_pool!(self, |pool| sqlx::query_as(AssertSqlSafe(sql))
            .bind(accession)
            .fetch_optional(pool)
            .await?);
        raw.map(Object::try_from).transpose()
    }

    /// Finds the object a reference names for an owner: their alias, or any accession.
    pub async fn resolve(
        &self,
        owner_id: i64,
        kind: ObjectKind,
        reference: &str,
    ) -> Result<Option<Object>> {
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} WHERE o.kind = $1 AND ((o.owner_id = $2 AND o.alias = $3) OR o.accession = $3) ORDER BY o.id LIMIT 1"
        );
        let raw: Option<RawObject> = with_pool!(self, |pool| sqlx::query_as(AssertSqlSafe(sql))
            .bind(kind.as_str())
            .bind(owner_id)
            .bind(reference)
            .fetch_optional(pool)
            .await?);
        raw.map(Object::try_from).transpose()
    }

    /// Lists objects.
    pub async fn objects(&self, query: &ObjectQuery) -> Result<Vec<Object>> {
        let mut sql = format!("SELECT {OBJECT_COLUMNS} WHERE o.id > $1");
        let mut params = vec![Param::Int(query.after_id)];
        if let Some(kind) = query.kind {
            params.push(Param::Text(kind.as_str().to_owned()));
            sql.push_str(&format!(" AND o.kind = ${}", params.len()));
        }
        if let Some(submission) = query.submission_id {
            params.push(Param::Int(submission));
            sql.push_str(&format!(" AND o.submission_id = ${}", params.len()));
        }
        if let Some(owner) = query.owner_id {
            params.push(Param::Int(owner));
            sql.push_str(&format!(" AND o.owner_id = ${}", params.len()));
        }
        push_statuses(&mut sql, &mut params, "o.status", &query.statuses);
        match query.visibility {
            Visibility::Public => sql.push_str(" AND o.status = 'public'"),
            Visibility::PublicOrOwnedBy(user) => {
                params.push(Param::Int(user));
                sql.push_str(&format!(
                    " AND (o.status = 'public' OR o.owner_id = ${})",
                    params.len()
                ));
            }
            Visibility::All => {}
        }
        params.push(Param::Int(query.limit));
        sql.push_str(&format!(" ORDER BY o.id LIMIT ${}", params.len()));
        let raw: Vec<RawObject> = with_pool!(self, |pool| bind_all!(
            sqlx::query_as(AssertSqlSafe(sql)),
            &params
        )
        .fetch_all(pool)
        .await?);
        raw.into_iter().map(Object::try_from).collect()
    }

    /// Returns the ids of the objects `id` refers to.
    pub async fn links_from(&self, id: i64) -> Result<Vec<i64>> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT to_id FROM links WHERE from_id = $1 ORDER BY to_id"
        )
        .bind(id)
        .fetch_all(pool)
        .await?))
    }

    /// Returns the ids of the objects that refer to `id`.
    pub async fn links_to(&self, id: i64) -> Result<Vec<i64>> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT from_id FROM links WHERE to_id = $1 ORDER BY from_id"
        )
        .bind(id)
        .fetch_all(pool)
        .await?))
    }

    /// Returns the objects `id` is linked with, in either direction.
    pub async fn linked_objects(&self, id: i64) -> Result<Vec<Object>> {
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} WHERE o.id IN (SELECT to_id FROM links WHERE from_id = $1 UNION SELECT from_id FROM links WHERE to_id = $1) ORDER BY o.id"
        );
        let raw: Vec<RawObject> =
            with_pool!(self, |pool| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_all(pool)
                .await?);
        raw.into_iter().map(Object::try_from).collect()
    }

    /// Returns up to `limit` object changes after change `after`, oldest first, as
    /// (change id, object id). Every insert or update of an object, and every new link, adds one.
    pub async fn object_changes(&self, after: i64, limit: i64) -> Result<Vec<(i64, i64)>> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, object_id FROM object_changes WHERE id > $1 ORDER BY id LIMIT $2"
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// Returns the newest change id, or 0.
    pub async fn last_object_change(&self) -> Result<i64> {
        let last: Option<i64> = with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT MAX(id) FROM object_changes"
        )
        .fetch_one(pool)
        .await?);
        Ok(last.unwrap_or(0))
    }

    /// Moves a submission and the objects that follow it (not yet accessioned) from one of
    /// `expected` states to `to`, storing `findings` (JSON) when given, and records why.
    pub async fn transition_submission(
        &self,
        id: i64,
        expected: &[Status],
        to: Status,
        findings: Option<&str>,
        actor_id: i64,
        reason: Option<&str>,
        now: &str,
    ) -> Result<Submission> {
        with_tx!(self, |tx| {
            let (_, from) = h::check_submission_status(&mut tx, id, expected).await?;
            sqlx::query("UPDATE submissions SET status = $2, findings = COALESCE($3, findings), updated_at = $4 WHERE id = $1")
                .bind(id)
                .bind(to.as_str())
                .bind(findings)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE objects SET status = $2, updated_at = $3 WHERE submission_id = $1 AND accession IS NULL")
                .bind(id)
                .bind(to.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            h::record(
                &mut tx,
                "submission",
                id,
                to.as_str(),
                Some(from),
                Some(to),
                Some(actor_id),
                reason,
                now,
            )
            .await?;
        });
        self.submission(id).await
    }

    /// Approves a submission in review: accessions for it and each of its objects, allocated in
    /// this same transaction; objects become private until the hold date, or public at once.
    pub async fn approve_submission(
        &self,
        id: i64,
        approval: &Approval,
        actor_id: i64,
        reason: Option<&str>,
        now: &str,
    ) -> Result<Submission> {
        let prefix_of = |kind: Option<ObjectKind>| {
            approval
                .prefixes
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, p)| p.clone())
                .unwrap_or_default()
        };
        let to = if approval.release_now {
            Status::Public
        } else {
            Status::Private
        };
        with_tx!(self, |tx| {
            let (_, from) = h::check_submission_status(&mut tx, id, &[Status::InReview]).await?;
            let hold: Option<String> =
                sqlx::query_scalar("SELECT hold_until FROM submissions WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            let prefix = prefix_of(None);
            let number = h::allocate(&mut tx, &prefix, 1).await?;
            let accession = format_accession(&prefix, number, approval.digits);
            sqlx::query("UPDATE submissions SET status = 'approved', accession = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(&accession)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            h::record(
                &mut tx,
                "submission",
                id,
                "approve",
                Some(from),
                Some(Status::Approved),
                Some(actor_id),
                reason,
                now,
            )
            .await?;
            let released_at = approval.release_now.then_some(now);
            for kind in ObjectKind::ALL {
                let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM objects WHERE submission_id = $1 AND kind = $2 AND accession IS NULL ORDER BY id")
                    .bind(id)
                    .bind(kind.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
                if ids.is_empty() {
                    continue;
                }
                let prefix = prefix_of(Some(*kind));
                let first = h::allocate(&mut tx, &prefix, ids.len() as i64).await?;
                for (offset, object_id) in ids.iter().enumerate() {
                    let accession =
                        format_accession(&prefix, first + offset as i64, approval.digits);
                    sqlx::query("UPDATE objects SET accession = $2, status = $3, hold_until = $4, released_at = $5, updated_at = $6 WHERE id = $1")
                        .bind(object_id)
                        .bind(&accession)
                        .bind(to.as_str())
                        .bind(hold.as_deref())
                        .bind(released_at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    h::record(
                        &mut tx,
                        "object",
                        *object_id,
                        "approve",
                        Some(from),
                        Some(to),
                        Some(actor_id),
                        reason,
                        now,
                    )
                    .await?;
                }
            }
        });
        self.submission(id).await
    }

    /// Moves objects from one of `expected` states to `to` (release, suppress, withdraw, hold),
    /// all or none, recording who and why. Objects already in `to` are left alone.
    pub async fn set_status(
        &self,
        ids: &[i64],
        expected: &[Status],
        to: Status,
        action: &str,
        hold_until: Option<&str>,
        actor_id: Option<i64>,
        reason: Option<&str>,
        now: &str,
    ) -> Result<()> {
        with_tx!(self, |tx| {
            for id in ids {
                let (_, from) =
                    h::check_object_status(&mut tx, *id, &[expected, &[to]].concat()).await?;
                if from == to && hold_until.is_none() {
                    continue;
                }
                sqlx::query(
                    "UPDATE objects SET status = $2, status_reason = CASE WHEN $2 IN ('suppressed', 'withdrawn') THEN $3 ELSE NULL END, \
                     released_at = CASE WHEN $2 = 'public' AND released_at IS NULL THEN $4 ELSE released_at END, \
                     hold_until = COALESCE($5, hold_until), updated_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(to.as_str())
                .bind(reason)
                .bind(now)
                .bind(hold_until)
                .execute(&mut *tx)
                .await?;
                h::record(
                    &mut tx,
                    "object",
                    *id,
                    action,
                    Some(from),
                    Some(to),
                    actor_id,
                    reason,
                    now,
                )
                .await?;
            }
        });
        Ok(())
    }

    /// Returns the ids of private objects whose release date is on or before `today`.
    pub async fn due_for_release(&self, today: &str) -> Result<Vec<i64>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT id FROM objects WHERE status = 'private' AND hold_until IS NOT NULL AND hold_until <= $1 ORDER BY id")
            .bind(today)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Returns the recorded changes of a submission or an object, oldest first.
    pub async fn events(&self, subject: &str, id: i64) -> Result<Vec<Event>> {
        const SQL: &str = "SELECT e.id, e.action, e.from_status, e.to_status, u.name AS actor, e.reason, e.at FROM events e LEFT JOIN users u ON u.id = e.actor_id WHERE e.subject = $1 AND e.subject_id = $2 ORDER BY e.id";
        Ok(with_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(subject)
            .bind(id)
            .fetch_all(pool)
            .await?))
    }

    /// Returns the earlier versions of an object, oldest first.
    pub async fn versions(&self, id: i64) -> Result<Vec<Version>> {
        const SQL: &str = "SELECT version, body, created_at FROM object_versions WHERE object_id = $1 ORDER BY version";
        Ok(with_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(id)
            .fetch_all(pool)
            .await?))
    }

    /// Counts rows of every table: a cheap check that nothing was half-written.
    pub async fn row_counts(&self) -> Result<Vec<(&'static str, i64)>> {
        let mut out = Vec::new();
        for table in [
            "users",
            "tokens",
            "submissions",
            "objects",
            "links",
            "object_versions",
            "events",
            "accession_counters",
            "uploads",
            "files",
            "jobs",
            "object_changes",
            "mirror_records",
            "mirror_imports",
        ] {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let n: i64 = with_pool!(self, |pool| sqlx::query_scalar(AssertSqlSafe(sql))
                .fetch_one(pool)
                .await?);
            out.push((table, n));
        }
        Ok(out)
    }
}

fn push_statuses(sql: &mut String, params: &mut Vec<Param>, column: &str, statuses: &[Status]) {
    if statuses.is_empty() {
        return;
    }
    let mut placeholders = Vec::new();
    for status in statuses {
        params.push(Param::Text(status.as_str().to_owned()));
        placeholders.push(format!("${}", params.len()));
    }
    sql.push_str(&format!(" AND {column} IN ({})", placeholders.join(", ")));
}

// The helpers below take a transaction of either backend; each is written once with a macro
// that expands to one function per backend.
macro_rules! tx_helpers {
    ($module:ident, $db:ty) => {
        pub(crate) mod $module {
            use super::*;

            type Tx = sqlx::Transaction<'static, $db>;

            pub(super) async fn allocate(tx: &mut Tx, prefix: &str, count: i64) -> Result<i64> {
                sqlx::query("INSERT INTO accession_counters (prefix, next_value) VALUES ($1, 1) ON CONFLICT (prefix) DO NOTHING")
                    .bind(prefix)
                    .execute(&mut **tx)
                    .await?;
                let next: i64 = sqlx::query_scalar("UPDATE accession_counters SET next_value = next_value + $2 WHERE prefix = $1 RETURNING next_value")
                    .bind(prefix)
                    .bind(count)
                    .fetch_one(&mut **tx)
                    .await?;
                Ok(next - count)
            }

            pub(super) async fn record(
                tx: &mut Tx,
                subject: &str,
                subject_id: i64,
                action: &str,
                from: Option<Status>,
                to: Option<Status>,
                actor_id: Option<i64>,
                reason: Option<&str>,
                now: &str,
            ) -> Result<()> {
                sqlx::query("INSERT INTO events (subject, subject_id, action, from_status, to_status, actor_id, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(subject)
                    .bind(subject_id)
                    .bind(action)
                    .bind(from.map(Status::as_str))
                    .bind(to.map(Status::as_str))
                    .bind(actor_id)
                    .bind(reason)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            pub(super) async fn check_submission_status(tx: &mut Tx, id: i64, expected: &[Status]) -> Result<(i64, Status)> {
                let row: Option<(i64, String)> = sqlx::query_as("SELECT owner_id, status FROM submissions WHERE id = $1").bind(id).fetch_optional(&mut **tx).await?;
                let (owner, status) = row.ok_or(Error::NotFound)?;
                let status: Status = parse(&status)?;
                if !expected.is_empty() && !expected.contains(&status) {
                    return Err(Error::StateMismatch { what: "submission", expected: status_list(expected), actual: status.to_string() });
                }
                Ok((owner, status))
            }

            pub(super) async fn check_object_status(tx: &mut Tx, id: i64, expected: &[Status]) -> Result<(i64, Status)> {
                let row: Option<(i64, String)> = sqlx::query_as("SELECT owner_id, status FROM objects WHERE id = $1").bind(id).fetch_optional(&mut **tx).await?;
                let (owner, status) = row.ok_or(Error::NotFound)?;
                let status: Status = parse(&status)?;
                if !expected.is_empty() && !expected.contains(&status) {
                    return Err(Error::StateMismatch { what: "object", expected: status_list(expected), actual: status.to_string() });
                }
                Ok((owner, status))
            }

            pub(super) async fn link(tx: &mut Tx, id: i64, owner_id: i64, references: &[(ObjectKind, String)]) -> Result<()> {
                for (kind, reference) in references {
                    let target: Option<i64> = sqlx::query_scalar(
                        "SELECT id FROM objects WHERE kind = $1 AND ((owner_id = $2 AND alias = $3) OR accession = $3) ORDER BY id LIMIT 1",
                    )
                    .bind(kind.as_str())
                    .bind(owner_id)
                    .bind(reference)
                    .fetch_optional(&mut **tx)
                    .await?;
                    if let Some(target) = target {
                        sqlx::query("INSERT INTO links (from_id, to_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                            .bind(id)
                            .bind(target)
                            .execute(&mut **tx)
                            .await?;
                    }
                }
                Ok(())
            }
        }
    };
}

tx_helpers!(sqlite_tx, sqlx::Sqlite);
tx_helpers!(postgres_tx, sqlx::Postgres);

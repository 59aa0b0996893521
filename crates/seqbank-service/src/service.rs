//! The service: submissions, objects, their lifecycle, users and tokens.

use std::collections::{BTreeSet, HashMap};

use seqbank_core::{ObjectKind, Role, Severity, Status};
use seqbank_metadata::{Batch, Finding, Object as Metadata, ParseError, sheet, sraxml, validate};
use seqbank_metastore::{Approval, Metastore, NewObject, Object, ObjectQuery, Submission, User};
use serde::Deserialize;
use sha2::Digest;

use crate::{
    Actor, Clock, Error, EventView, FindingView, ObjectView, Result, SubmissionView, UserView,
    authz::{self, Action, Visibility},
};

/// Accession prefixes and width.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessionConfig {
    /// Prefix of projects.
    pub project: String,
    /// Prefix of samples.
    pub sample: String,
    /// Prefix of experiments.
    pub experiment: String,
    /// Prefix of runs.
    pub run: String,
    /// Prefix of submissions.
    pub submission: String,
    /// Digits after the prefix, zero-padded.
    pub digits: usize,
}

impl Default for AccessionConfig {
    fn default() -> Self {
        Self {
            project: "PRJSB".into(),
            sample: "SAMSB".into(),
            experiment: "SBX".into(),
            run: "SBR".into(),
            submission: "SBA".into(),
            digits: 6,
        }
    }
}

impl AccessionConfig {
    /// Returns the prefix of a kind.
    pub fn prefix(&self, kind: ObjectKind) -> &str {
        match kind {
            ObjectKind::Project => &self.project,
            ObjectKind::Sample => &self.sample,
            ObjectKind::Experiment => &self.experiment,
            ObjectKind::Run => &self.run,
        }
    }
}

/// Settings of the service.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Accessions.
    pub accessions: AccessionConfig,
    /// Upload limits.
    pub uploads: crate::UploadConfig,
    /// Whether anyone may sign up as a submitter on the web pages.
    pub open_registration: bool,
    /// The daily mirror update, if the center runs one.
    pub mirror: Option<crate::MirrorPlan>,
}

/// A page of a listing.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    /// Only items after this id.
    pub after: i64,
    /// At most this many (1–1000).
    pub limit: i64,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            after: 0,
            limit: 100,
        }
    }
}

/// A new submission.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSubmission {
    /// Your name for it; generated when absent.
    #[serde(default)]
    pub alias: Option<String>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Release date of its objects (YYYY-MM-DD, at most two years ahead); absent releases on approval.
    #[serde(default)]
    pub hold_until: Option<String>,
}

/// Spreadsheet formats.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum SheetFormat {
    /// Tab-separated text.
    Tsv,
    /// Excel workbook.
    Xlsx,
}

/// The application service.
#[derive(Clone, Debug)]
pub struct Service {
    pub(crate) store: Metastore,
    pub(crate) storage: seqbank_storage::Storage,
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    pub(crate) uploads: crate::UploadConfig,
    pub(crate) in_flight: crate::files::InFlight,
    pub(crate) search: std::sync::Arc<crate::search::Search>,
}

const TOKEN_PREFIX: &str = "sbk_";

pub(crate) fn hash_token(token: &str) -> String {
    let digest = sha2::Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn new_token() -> Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for a token: {e}").into()))?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

fn valid_user_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
}

impl Service {
    /// Creates the service over a metastore and an object store.
    pub fn new(
        store: Metastore,
        storage: seqbank_storage::Storage,
        config: Config,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            storage,
            uploads: config.uploads.clone(),
            config,
            clock,
            in_flight: crate::files::InFlight::default(),
            search: std::sync::Arc::new(crate::search::Search::new(std::sync::Arc::new(
                seqbank_search::SearchIndex::in_memory()
                    .expect("an empty index in memory always opens"),
            ))),
        }
    }

    /// Returns the store.
    pub fn store(&self) -> &Metastore {
        &self.store
    }

    /// Returns the clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Returns the settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ---- users ----

    /// Finds the user of an API token.
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        match self.store.user_by_token(&hash_token(token)).await? {
            Some(user) => Ok(Actor::User(user)),
            None => Err(Error::BadCredentials),
        }
    }

    /// Creates a user without asking who is asking: for the command line on the server's own data.
    /// Returns the user and a new API token, which is shown only now.
    pub async fn create_user_unchecked(
        &self,
        name: &str,
        role: Role,
        password: Option<&str>,
    ) -> Result<(UserView, String)> {
        if !valid_user_name(name) {
            return Err(ParseError::new(
                "name",
                "user names are 1–64 ASCII letters, digits or . _ - @",
            )
            .into());
        }
        let hash = password.map(hash_password).transpose()?;
        let user = self
            .store
            .create_user(name, role, hash.as_deref(), &self.clock.now_text())
            .await?;
        let token = self.issue_token(&user, "created with the user").await?;
        Ok((UserView::from(&user), token))
    }

    /// Creates a user (admins only) and returns a first API token.
    pub async fn create_user(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password: Option<&str>,
    ) -> Result<(UserView, String)> {
        authz::check_admin(actor)?;
        self.create_user_unchecked(name, role, password).await
    }

    /// Lists users (admins only).
    pub async fn users(&self, actor: &Actor) -> Result<Vec<UserView>> {
        authz::check_admin(actor)?;
        Ok(self
            .store
            .users()
            .await?
            .iter()
            .map(UserView::from)
            .collect())
    }

    /// Checks a password and returns a new API token.
    pub async fn login(&self, name: &str, password: &str) -> Result<String> {
        let Some((user, Some(hash))) = self.store.password_hash(name).await? else {
            return Err(Error::BadCredentials);
        };
        verify_password(password, &hash)?;
        self.issue_token(&user, "login").await
    }

    async fn issue_token(&self, user: &User, label: &str) -> Result<String> {
        let token = new_token()?;
        self.store
            .add_token(user.id, &hash_token(&token), label, &self.clock.now_text())
            .await?;
        Ok(token)
    }

    // ---- submissions ----

    /// Creates a draft submission.
    pub async fn create_submission(
        &self,
        actor: &Actor,
        new: NewSubmission,
    ) -> Result<SubmissionView> {
        let user = actor.user()?;
        if let Some(hold) = &new.hold_until
            && let Some(finding) = validate::check_hold_date(hold, self.clock.today(), "hold_until")
        {
            return Err(Error::Invalid(vec![finding]));
        }
        let now = self.clock.now_text();
        let alias = match new.alias {
            Some(alias) => alias,
            None => {
                // Several submissions may start in the same second: a random suffix keeps them apart.
                let mut suffix = [0u8; 3];
                getrandom::fill(&mut suffix)
                    .map_err(|e| Error::Internal(format!("no randomness: {e}").into()))?;
                format!(
                    "submission-{now}-{:02x}{:02x}{:02x}",
                    suffix[0], suffix[1], suffix[2]
                )
            }
        };
        if alias.trim().is_empty() || alias.len() > 128 {
            return Err(ParseError::new("alias", "a submission alias is 1–128 characters").into());
        }
        let title = new.title.unwrap_or_else(|| alias.clone());
        let submission = self
            .store
            .create_submission(user.id, &alias, &title, new.hold_until.as_deref(), &now)
            .await?;
        Ok(SubmissionView::new(&submission, &[]))
    }

    async fn load_submission(&self, actor: &Actor, id: i64, action: Action) -> Result<Submission> {
        let submission = match self.store.submission(id).await {
            Ok(s) => s,
            Err(seqbank_metastore::Error::NotFound) => {
                return match actor {
                    Actor::Anonymous => Err(Error::Unauthenticated),
                    Actor::User(_) => Err(Error::not_found("submission")),
                };
            }
            Err(e) => return Err(e.into()),
        };
        authz::check_submission(actor, &submission, action)?;
        Ok(submission)
    }

    pub(crate) async fn submission_objects(&self, id: i64) -> Result<Vec<Object>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .store
                .objects(&ObjectQuery {
                    kind: None,
                    submission_id: Some(id),
                    owner_id: None,
                    statuses: vec![],
                    visibility: seqbank_metastore::Visibility::All,
                    after_id: after,
                    limit: 5000,
                })
                .await?;
            let done = page.len() < 5000;
            after = page.last().map_or(after, |o| o.id);
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }

    /// Returns a submission.
    pub async fn submission(&self, actor: &Actor, id: i64) -> Result<SubmissionView> {
        let submission = self.load_submission(actor, id, Action::View).await?;
        let objects = self.submission_objects(id).await?;
        Ok(SubmissionView::new(&submission, &objects))
    }

    /// Lists submissions: a submitter's own, or all for curators (optionally by status).
    pub async fn submissions(
        &self,
        actor: &Actor,
        statuses: &[Status],
        page: Page,
    ) -> Result<Vec<SubmissionView>> {
        let user = actor.user()?;
        let owner = if actor.is_curator() {
            None
        } else {
            Some(user.id)
        };
        let list = self
            .store
            .submissions(owner, statuses, page.after, page.limit.clamp(1, 1000))
            .await?;
        Ok(list.iter().map(|s| SubmissionView::new(s, &[])).collect())
    }

    /// Changes a submission's title and release date: its owner while it is a draft or returned,
    /// a curator while it is submitted or in review (the review sets the release date).
    pub async fn update_submission(
        &self,
        actor: &Actor,
        id: i64,
        title: Option<String>,
        hold_until: Option<Option<String>>,
    ) -> Result<SubmissionView> {
        let submission = self.load_submission(actor, id, Action::View).await?;
        let in_review = matches!(submission.status, Status::Submitted | Status::InReview);
        let (action, expected): (Action, &[Status]) = if actor.is_curator() && in_review {
            (Action::Review, &[Status::Submitted, Status::InReview])
        } else {
            (Action::Edit, &[Status::Draft, Status::Returned])
        };
        authz::check_submission(actor, &submission, action)?;
        let hold = match hold_until {
            Some(hold) => hold,
            None => submission.hold_until.clone(),
        };
        if let Some(hold) = &hold
            && let Some(finding) = validate::check_hold_date(hold, self.clock.today(), "hold_until")
        {
            return Err(Error::Invalid(vec![finding]));
        }
        let title = title.unwrap_or(submission.title);
        self.store
            .update_submission(
                id,
                &title,
                hold.as_deref(),
                expected,
                &self.clock.now_text(),
            )
            .await?;
        self.submission(actor, id).await
    }

    /// Adds the objects of a JSON batch document to a draft submission.
    pub async fn add_json(&self, actor: &Actor, id: i64, json: &[u8]) -> Result<Vec<FindingView>> {
        let batch: Batch = seqbank_metadata::parse_json(json)?;
        self.add_batch(actor, id, batch, None).await
    }

    /// Adds the objects of a spreadsheet to a draft submission.
    pub async fn add_sheet(
        &self,
        actor: &Actor,
        id: i64,
        bytes: &[u8],
        format: SheetFormat,
        sheet_name: Option<&str>,
    ) -> Result<Vec<FindingView>> {
        self.load_submission(actor, id, Action::Edit).await?;
        let sheet = match format {
            SheetFormat::Tsv => sheet::read_tsv(bytes, sheet_name)?,
            SheetFormat::Xlsx => sheet::read_xlsx(bytes)?,
        };
        let batch = sheet.batch.clone();
        self.add_batch(actor, id, batch, Some(&sheet)).await
    }

    /// Adds the objects of an INSDC SRA XML document to a draft submission; a SUBMISSION's HOLD date
    /// becomes the submission's release date.
    pub async fn add_xml(&self, actor: &Actor, id: i64, xml: &[u8]) -> Result<Vec<FindingView>> {
        let import = sraxml::read(xml)?;
        if let Some(hold) = import.hold_until {
            self.update_submission(actor, id, None, Some(Some(hold)))
                .await?;
        }
        if import.batch.is_empty() {
            self.load_submission(actor, id, Action::Edit).await?;
            return Ok(Vec::new());
        }
        self.add_batch(actor, id, import.batch, None).await
    }

    /// Checks the batch together with what the submission already holds, refuses it on any error
    /// about a value given (missing ones may wait until submit), and stores it in one transaction.
    async fn add_batch(
        &self,
        actor: &Actor,
        id: i64,
        batch: Batch,
        sheet: Option<&sheet::SheetBatch>,
    ) -> Result<Vec<FindingView>> {
        let submission = self.load_submission(actor, id, Action::Edit).await?;
        if !submission.status.is_editable() {
            return Err(Error::Conflict(format!(
                "the submission is {}; objects can be added to a draft or returned submission",
                submission.status
            )));
        }
        if batch.is_empty() {
            return Err(ParseError::new("", "the document holds no objects").into());
        }
        let existing = self.submission_objects(id).await?;
        let n_existing = existing.len();
        let mut whole = batch_of(&existing)?;
        let offsets = whole.counts();
        whole.extend(batch.clone());
        let mut findings = self.check(submission.owner_id, &whole).await?;
        // Report only on the new objects, with paths (and cells) relative to what was sent.
        findings.retain_mut(|f| rebase_path(&mut f.path, &offsets));
        if let Some(sheet) = sheet {
            sheet.locate(&mut findings);
        }
        if findings
            .iter()
            .any(|f| f.severity.is_error() && !f.is_deferred())
        {
            return Err(Error::Invalid(findings));
        }
        let objects: Vec<NewObject> = batch.into_objects().map(|o| new_object(&o)).collect();
        let user = actor.user()?;
        self.store
            .add_objects(
                id,
                &[Status::Draft, Status::Returned],
                &objects,
                user.id,
                &self.clock.now_text(),
            )
            .await?;
        tracing::info!(
            submission = id,
            added = objects.len(),
            existing = n_existing,
            "objects added"
        );
        Ok(findings.iter().map(FindingView::from).collect())
    }

    /// Validates a whole batch for an owner, resolving references outside it through the store.
    async fn check(&self, owner_id: i64, batch: &Batch) -> Result<Vec<Finding>> {
        let in_batch: BTreeSet<(ObjectKind, &str)> = batch.aliases().collect();
        let mut wanted = BTreeSet::new();
        for (kind, reference) in batch.references() {
            if !in_batch.contains(&(kind, reference)) {
                wanted.insert((kind, reference.to_owned()));
            }
        }
        let mut resolved = HashMap::new();
        for (kind, reference) in wanted {
            let resolution = match self.store.resolve(owner_id, kind, &reference).await? {
                Some(object) if object.owner_id == owner_id => validate::Resolution::Owned,
                Some(object) if object.status == Status::Public => validate::Resolution::NotOwned,
                _ => validate::Resolution::Missing,
            };
            resolved.insert((kind, reference), resolution);
        }
        let context =
            validate::Context::new(self.clock.today()).with_resolver(|kind, reference| {
                resolved
                    .get(&(kind, reference.to_owned()))
                    .copied()
                    .unwrap_or(validate::Resolution::Missing)
            });
        Ok(validate::validate_batch(batch, &context))
    }

    /// Runs every check on a submission without changing it (a dry run).
    pub async fn validate_submission(&self, actor: &Actor, id: i64) -> Result<Vec<FindingView>> {
        let submission = self.load_submission(actor, id, Action::View).await?;
        let findings = self.full_check(&submission).await?;
        Ok(findings.iter().map(FindingView::from).collect())
    }

    async fn full_check(&self, submission: &Submission) -> Result<Vec<Finding>> {
        let objects = self.submission_objects(submission.id).await?;
        let whole = batch_of(&objects)?;
        let mut findings = self.check(submission.owner_id, &whole).await?;
        if whole.is_empty() {
            findings.push(Finding::error(
                "submission.empty",
                "",
                "the submission holds no objects",
            ));
        }
        if let Some(hold) = &submission.hold_until
            && let Some(finding) = validate::check_hold_date(hold, self.clock.today(), "hold_until")
        {
            findings.push(finding);
        }
        Ok(findings)
    }

    /// Submits a draft (or returned) submission: it is frozen, checked, and goes to review, or
    /// comes back at once with the findings.
    pub async fn submit(&self, actor: &Actor, id: i64) -> Result<SubmissionView> {
        self.load_submission(actor, id, Action::Edit).await?;
        let user = actor.user()?;
        self.store
            .transition_submission(
                id,
                &[Status::Draft, Status::Returned],
                Status::Submitted,
                None,
                user.id,
                None,
                &self.clock.now_text(),
            )
            .await?;
        self.decide(id, Some(user.id)).await?;
        self.submission(actor, id).await
    }

    /// Moves a submitted submission on once its files are validated (called by the validation
    /// job); does nothing to submissions in other states.
    pub(crate) async fn advance_submission(&self, id: i64) -> Result<()> {
        if self.store.submission(id).await?.status == Status::Submitted {
            self.decide(id, None).await?;
        }
        Ok(())
    }

    /// Checks a submitted submission: returned with the findings when there are errors, kept
    /// waiting while files are still being received or validated, and in review otherwise.
    async fn decide(&self, id: i64, actor_id: Option<i64>) -> Result<()> {
        let submission = self.store.submission(id).await?;
        let mut findings = self.full_check(&submission).await?;
        let objects = self.submission_objects(id).await?;
        let files = self.check_files(&objects).await?;
        findings.extend(files.findings);
        let json =
            serde_json::to_string(&findings.iter().map(FindingView::from).collect::<Vec<_>>())
                .map_err(|e| Error::Internal(Box::new(e)))?;
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let actor_id = actor_id.unwrap_or(submission.owner_id);
        let now = self.clock.now_text();
        let (to, reason) = if errors > 0 {
            (
                Status::Returned,
                format!("automatic checks found {errors} errors"),
            )
        } else if files.pending > 0 {
            (
                Status::Submitted,
                format!(
                    "waiting for {} files to arrive and be validated",
                    files.pending
                ),
            )
        } else {
            (Status::InReview, "automatic checks passed".to_owned())
        };
        match self
            .store
            .transition_submission(
                id,
                &[Status::Submitted],
                to,
                Some(&json),
                actor_id,
                Some(&reason),
                &now,
            )
            .await
        {
            // Another validation job decided first.
            Ok(_) | Err(seqbank_metastore::Error::StateMismatch { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Returns a submission in review to its owner with a comment (curators).
    pub async fn return_submission(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<SubmissionView> {
        self.load_submission(actor, id, Action::Review).await?;
        if reason.trim().is_empty() {
            return Err(ParseError::new("reason", "say what the submitter should fix").into());
        }
        let user = actor.user()?;
        self.store
            .transition_submission(
                id,
                &[Status::InReview],
                Status::Returned,
                None,
                user.id,
                Some(reason),
                &self.clock.now_text(),
            )
            .await?;
        self.submission(actor, id).await
    }

    /// Approves a submission in review (curators): accessions are assigned in the same transaction,
    /// and the objects become private until the release date, or public when there is none.
    pub async fn approve(
        &self,
        actor: &Actor,
        id: i64,
        reason: Option<&str>,
    ) -> Result<SubmissionView> {
        let submission = self.load_submission(actor, id, Action::Review).await?;
        let user = actor.user()?;
        let today = self.clock.today().to_string();
        let release_now = submission
            .hold_until
            .as_deref()
            .is_none_or(|hold| hold <= today.as_str());
        let accessions = &self.config.accessions;
        let mut prefixes = vec![(None, accessions.submission.clone())];
        prefixes.extend(
            ObjectKind::ALL
                .iter()
                .map(|k| (Some(*k), accessions.prefix(*k).to_owned())),
        );
        let approval = Approval {
            prefixes,
            digits: accessions.digits,
            release_now,
        };
        let now = self.clock.now_text();
        self.store
            .approve_submission(id, &approval, user.id, reason, &now)
            .await?;
        // The files move into the archive tree by accession in the background.
        self.store
            .enqueue(crate::jobs::kind::ARCHIVE_SUBMISSION, id, 10, &now, &now)
            .await?;
        self.submission(actor, id).await
    }

    // ---- objects ----

    /// Finds an object by accession or row id, checking what the actor may see.
    pub(crate) async fn load_object(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        key: &str,
        action: Action,
    ) -> Result<(Object, Visibility)> {
        let object = match key.parse::<i64>() {
            Ok(id) => match self.store.object(id).await {
                Ok(o) => Some(o),
                Err(seqbank_metastore::Error::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) => self.store.object_by_accession(key).await?,
        };
        let object = object
            .filter(|o| o.kind == kind)
            .ok_or_else(|| Error::not_found(kind.as_str()))?;
        // Only accessions resolve tombstones for outsiders: a row id of a private object says nothing.
        let visibility = authz::check_object(actor, &object, action)?;
        Ok((object, visibility))
    }

    /// Returns an object by accession or id.
    pub async fn object(&self, actor: &Actor, kind: ObjectKind, key: &str) -> Result<ObjectView> {
        let (object, visibility) = self.load_object(actor, kind, key, Action::View).await?;
        Ok(ObjectView::new(&object, visibility))
    }

    /// Lists objects the actor may see.
    pub async fn objects(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        statuses: &[Status],
        submission: Option<i64>,
        mine: bool,
        page: Page,
    ) -> Result<Vec<ObjectView>> {
        if let Some(id) = submission {
            self.load_submission(actor, id, Action::View).await?;
        }
        let owner_id = if mine { Some(actor.user()?.id) } else { None };
        let objects = self
            .store
            .objects(&ObjectQuery {
                kind: Some(kind),
                submission_id: submission,
                owner_id,
                statuses: statuses.to_vec(),
                visibility: authz::listing_visibility(actor),
                after_id: page.after,
                limit: page.limit.clamp(1, 1000),
            })
            .await?;
        objects
            .iter()
            .map(|o| Ok(ObjectView::new(o, authz::object_visibility(actor, o)?)))
            .collect()
    }

    /// Changes an object's metadata: in place while its submission is a draft (or returned), as a
    /// new version once it is accessioned. The alias cannot change after approval.
    pub async fn update_object(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        key: &str,
        json: &[u8],
        reason: Option<&str>,
    ) -> Result<ObjectView> {
        let (object, _) = self.load_object(actor, kind, key, Action::Edit).await?;
        let metadata = Metadata::from_json(kind, json)?;
        let user = actor.user()?;
        let now = self.clock.now_text();
        // Check it in the context of its submission, replacing the old version.
        let others = self.submission_objects(object.submission_id).await?;
        let mut whole = batch_of(others.iter().filter(|o| o.id != object.id))?;
        let offsets = whole.counts();
        metadata.clone().push_into(&mut whole);
        let mut findings = self.check(object.owner_id, &whole).await?;
        findings.retain_mut(|f| rebase_path(&mut f.path, &offsets));
        for f in &mut findings {
            // One object: drop the "samples[0]" prefix.
            if let Some(idx) = f.path.find("].") {
                f.path = f.path[idx + 2..].to_owned();
            }
        }
        let accessioned = object.accession.is_some();
        if findings
            .iter()
            .any(|f| f.severity.is_error() && (accessioned || !f.is_deferred()))
        {
            return Err(Error::Invalid(findings));
        }
        let new = new_object(&metadata);
        if object.status.is_editable() {
            self.store
                .replace_object(
                    object.id,
                    &[Status::Draft, Status::Returned],
                    &new,
                    user.id,
                    &now,
                )
                .await?;
        } else if matches!(object.status, Status::Private | Status::Public) {
            if new.alias != object.alias {
                return Err(Error::Invalid(vec![Finding::error(
                    "object.alias_changed",
                    "alias",
                    "an accessioned object keeps its alias",
                )]));
            }
            self.store
                .new_version(
                    object.id,
                    &[Status::Private, Status::Public],
                    &new.title,
                    &new.body,
                    user.id,
                    reason,
                    &now,
                )
                .await?;
        } else {
            return Err(Error::Conflict(format!(
                "the {kind} is {}; it can be edited as a draft, or after approval",
                object.status
            )));
        }
        self.object(actor, kind, &object.id.to_string()).await
    }

    /// Releases an approved object now (owner or curator), and what it refers to upwards (a run
    /// releases its experiment, sample and project); with `cascade`, also the private objects
    /// that refer to it. A curator releasing a suppressed object restores it.
    pub async fn release(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        key: &str,
        cascade: bool,
    ) -> Result<ObjectView> {
        let (object, _) = self.load_object(actor, kind, key, Action::Release).await?;
        let user = actor.user()?;
        let now = self.clock.now_text();
        if object.status == Status::Suppressed {
            if !actor.is_curator() {
                return Err(Error::Forbidden(
                    "only curators restore suppressed records".into(),
                ));
            }
            self.store
                .set_status(
                    &[object.id],
                    &[Status::Suppressed],
                    Status::Public,
                    "unsuppress",
                    None,
                    Some(user.id),
                    None,
                    &now,
                )
                .await?;
        } else {
            if object.status != Status::Private && object.status != Status::Public {
                return Err(Error::Conflict(format!(
                    "the {kind} is {}; only approved (private) objects are released",
                    object.status
                )));
            }
            let ids = self.release_closure(object.id, cascade).await?;
            self.store
                .set_status(
                    &ids,
                    &[Status::Private],
                    Status::Public,
                    "release",
                    None,
                    Some(user.id),
                    Some("released by request"),
                    &now,
                )
                .await?;
        }
        self.object(actor, kind, &object.id.to_string()).await
    }

    /// Returns the private objects to release with `id`: it, what it refers to (transitively),
    /// and with `cascade` what refers to it (transitively).
    async fn release_closure(&self, id: i64, cascade: bool) -> Result<Vec<i64>> {
        let mut seen = BTreeSet::from([id]);
        let mut queue = vec![(id, true), (id, false)];
        while let Some((current, upwards)) = queue.pop() {
            let next = if upwards {
                self.store.links_from(current).await?
            } else if cascade {
                self.store.links_to(current).await?
            } else {
                Vec::new()
            };
            for n in next {
                if seen.insert(n) {
                    queue.push((n, upwards));
                }
            }
        }
        let mut out = Vec::new();
        for id in seen {
            let object = self.store.object(id).await?;
            if object.status == Status::Private {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Suppresses (hidden, tombstone resolves) or withdraws an object (curators), with a reason.
    pub async fn suppress(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        key: &str,
        withdraw: bool,
        reason: &str,
    ) -> Result<ObjectView> {
        let (object, _) = self.load_object(actor, kind, key, Action::Suppress).await?;
        if reason.trim().is_empty() {
            return Err(
                ParseError::new("reason", "give the reason; it is shown on the tombstone").into(),
            );
        }
        if object.accession.is_none() {
            return Err(Error::Conflict("only accessioned objects are suppressed or withdrawn; a draft is simply deleted by its owner".into()));
        }
        let user = actor.user()?;
        let (to, action) = if withdraw {
            (Status::Withdrawn, "withdraw")
        } else {
            (Status::Suppressed, "suppress")
        };
        let from: &[Status] = if withdraw {
            &[Status::Private, Status::Public, Status::Suppressed]
        } else {
            &[Status::Private, Status::Public]
        };
        self.store
            .set_status(
                &[object.id],
                from,
                to,
                action,
                None,
                Some(user.id),
                Some(reason),
                &self.clock.now_text(),
            )
            .await?;
        self.object(actor, kind, &object.id.to_string()).await
    }

    /// Returns an object's recorded changes and earlier versions.
    pub async fn history(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        key: &str,
    ) -> Result<(Vec<EventView>, Vec<(i32, serde_json::Value, String)>)> {
        let (object, visibility) = self.load_object(actor, kind, key, Action::View).await?;
        if visibility == Visibility::Tombstone {
            return Err(Error::not_found(kind.as_str()));
        }
        let events = self
            .store
            .events("object", object.id)
            .await?
            .into_iter()
            .map(EventView::from)
            .collect();
        let versions = self
            .store
            .versions(object.id)
            .await?
            .into_iter()
            .map(|v| {
                (
                    v.version,
                    serde_json::from_str(&v.body).unwrap_or(serde_json::Value::Null),
                    v.created_at,
                )
            })
            .collect();
        Ok((events, versions))
    }

    /// Returns a submission's recorded changes.
    pub async fn submission_history(&self, actor: &Actor, id: i64) -> Result<Vec<EventView>> {
        self.load_submission(actor, id, Action::View).await?;
        Ok(self
            .store
            .events("submission", id)
            .await?
            .into_iter()
            .map(EventView::from)
            .collect())
    }

    /// Releases every private object whose release date has come, with what it refers to.
    /// The scheduler calls this; it returns how many objects became public.
    pub async fn release_due(&self) -> Result<usize> {
        let today = self.clock.today().to_string();
        let due = self.store.due_for_release(&today).await?;
        let mut ids = BTreeSet::new();
        for id in due {
            ids.extend(self.release_closure(id, false).await?);
        }
        let ids: Vec<i64> = ids.into_iter().collect();
        if !ids.is_empty() {
            self.store
                .set_status(
                    &ids,
                    &[Status::Private],
                    Status::Public,
                    "release",
                    None,
                    None,
                    Some("release date reached"),
                    &self.clock.now_text(),
                )
                .await?;
            tracing::info!(
                released = ids.len(),
                "released objects whose hold date came"
            );
        }
        Ok(ids.len())
    }
}

/// Rebuilds the batch of stored objects.
fn batch_of<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Result<Batch> {
    let mut batch = Batch::default();
    for object in objects {
        Metadata::from_json(object.kind, object.body.as_bytes())
            .map_err(|e| {
                Error::Internal(format!("stored object {} does not parse: {e}", object.id).into())
            })?
            .push_into(&mut batch);
    }
    Ok(batch)
}

/// Shapes an object for the store.
fn new_object(object: &Metadata) -> NewObject {
    NewObject {
        kind: object.kind(),
        alias: object.alias().to_owned(),
        title: object.title().to_owned(),
        body: object.to_json().to_string(),
        references: object
            .references()
            .into_iter()
            .map(|(k, r)| (k, r.to_owned()))
            .collect(),
    }
}

/// Rewrites `samples[12].x` to `samples[2].x` when 10 samples came before the new ones; returns
/// false for findings about the earlier objects. Paths without an index concern the batch.
fn rebase_path(path: &mut String, offsets: &[usize; 4]) -> bool {
    for (idx, kind) in ObjectKind::ALL.iter().enumerate() {
        let prefix = format!("{}[", kind.plural());
        if let Some(rest) = path.strip_prefix(&prefix)
            && let Some((number, tail)) = rest.split_once(']')
            && let Ok(number) = number.parse::<usize>()
        {
            if number < offsets[idx] {
                return false;
            }
            *path = format!("{prefix}{}]{tail}", number - offsets[idx]);
            return true;
        }
    }
    true
}

fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::PasswordHasher;
    if password.len() < 8 {
        return Err(ParseError::new("password", "passwords have at least 8 characters").into());
    }
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("could not hash the password: {e}").into()))
}

fn verify_password(password: &str, hash: &str) -> Result<()> {
    use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
    let parsed = PasswordHash::new(hash)
        .map_err(|e| Error::Internal(format!("stored password hash does not parse: {e}").into()))?;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .map_err(|_| Error::BadCredentials)
}

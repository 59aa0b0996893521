//! The conformance suite: every test runs on SQLite, and on PostgreSQL when
//! `SEQBANK_TEST_POSTGRES_URL` names a server (each run gets its own database, dropped afterwards
//! unless `SEQBANK_TEST_KEEP_DB` is set).

use std::{
    collections::BTreeSet,
    sync::atomic::{AtomicU32, Ordering},
};

use seqbank_core::{ObjectKind, Role, Status};

use crate::{
    Approval, Error, JobKinds, Merge, Metastore, MirrorImport, MirrorRow, NewFile, NewObject,
    ObjectQuery, Raw, Upload, UploadState, Visibility,
};

const NOW: &str = "2026-11-21T10:00:00Z";

struct TestDb {
    store: Metastore,
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique() -> String {
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    )
}

async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("meta.db").display());
    TestDb {
        store: Metastore::connect(&url).await.unwrap(),
        cleanup: None,
        _dir: Some(dir),
    }
}

async fn postgres() -> Option<TestDb> {
    let Ok(url) = std::env::var("SEQBANK_TEST_POSTGRES_URL") else {
        eprintln!("skipping the PostgreSQL run: SEQBANK_TEST_POSTGRES_URL is not set");
        return None;
    };
    let name = format!("seqbank_test_{}", unique());
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let (base, _) = url.rsplit_once('/').unwrap();
    let store = Metastore::connect(&format!("{base}/{name}")).await.unwrap();
    Some(TestDb {
        store,
        cleanup: Some((url, name)),
        _dir: None,
    })
}

impl TestDb {
    async fn finish(self) {
        self.store.close().await;
        if let Some((url, name)) = self.cleanup
            && std::env::var_os("SEQBANK_TEST_KEEP_DB").is_none()
        {
            let admin = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
        }
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::sqlite().await;
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }

        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::postgres().await else { return };
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
    };
}

conformance!(
    users_and_tokens,
    objects_are_added_all_or_nothing,
    accessions_never_repeat,
    lifecycle_and_history,
    listings_respect_visibility,
    jobs_are_leased_retried_and_failed,
    uploads_and_files,
    changes_feed_notes_every_object_write,
    mirrored_text_is_kept_compressed
);

fn object(kind: ObjectKind, alias: &str, references: &[(ObjectKind, &str)]) -> NewObject {
    NewObject {
        kind,
        alias: alias.to_owned(),
        title: format!("{kind} {alias}"),
        body: format!("{{\"alias\":\"{alias}\"}}"),
        references: references
            .iter()
            .map(|(k, r)| (*k, r.to_string()))
            .collect(),
    }
}

async fn users_and_tokens(store: &Metastore) {
    let ada = store
        .create_user("ada", Role::Submitter, Some("$argon2id$x"), NOW)
        .await
        .unwrap();
    assert!(matches!(
        store.create_user("ada", Role::Curator, None, NOW).await,
        Err(Error::Conflict(_))
    ));
    store.add_token(ada.id, "hash-1", "cli", NOW).await.unwrap();
    assert_eq!(
        store.user_by_token("hash-1").await.unwrap(),
        Some(ada.clone())
    );
    assert_eq!(store.user_by_token("hash-2").await.unwrap(), None);
    let (user, hash) = store.password_hash("ada").await.unwrap().unwrap();
    assert_eq!(
        (user.role, hash.as_deref()),
        (Role::Submitter, Some("$argon2id$x"))
    );
    store.add_token(ada.id, "hash-2", "web", NOW).await.unwrap();
    let labels: Vec<String> = store
        .tokens(ada.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.label)
        .collect();
    assert_eq!(labels, ["web", "cli"], "newest first");
    assert!(store.delete_token_hash("hash-2").await.unwrap());
    assert!(!store.delete_token_hash("hash-2").await.unwrap());
    assert_eq!(store.user_by_token("hash-2").await.unwrap(), None);
    let cli = store.tokens(ada.id).await.unwrap()[0].id;
    assert!(
        !store.delete_token(ada.id + 1, cli).await.unwrap(),
        "not theirs"
    );
    assert!(store.delete_token(ada.id, cli).await.unwrap());
    assert_eq!(store.user_by_token("hash-1").await.unwrap(), None);
    assert_eq!(store.public_file_totals().await.unwrap(), (0, 0));
}

async fn objects_are_added_all_or_nothing(store: &Metastore) {
    let ada = store
        .create_user("ada", Role::Submitter, None, NOW)
        .await
        .unwrap();
    let submission = store
        .create_submission(ada.id, "batch-1", "First batch", None, NOW)
        .await
        .unwrap();
    assert_eq!(submission.status, Status::Draft);
    let before = store.row_counts().await.unwrap();
    let duplicate = [
        object(ObjectKind::Project, "p1", &[]),
        object(ObjectKind::Sample, "s1", &[(ObjectKind::Project, "p1")]),
        object(ObjectKind::Project, "p1", &[]),
    ];
    let err = store
        .add_objects(submission.id, &[Status::Draft], &duplicate, ada.id, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("\"p1\"")),
        "{err:?}"
    );
    assert_eq!(
        store.row_counts().await.unwrap(),
        before,
        "a failed batch leaves nothing behind"
    );

    let ids = store
        .add_objects(
            submission.id,
            &[Status::Draft],
            &duplicate[..2],
            ada.id,
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(store.links_from(ids[1]).await.unwrap(), vec![ids[0]]);
    assert_eq!(store.links_to(ids[0]).await.unwrap(), vec![ids[1]]);
    let found = store
        .resolve(ada.id, ObjectKind::Sample, "s1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, found.status, found.owner.as_str()),
        (ids[1], Status::Draft, "ada")
    );

    store
        .transition_submission(
            submission.id,
            &[Status::Draft],
            Status::Submitted,
            None,
            ada.id,
            None,
            NOW,
        )
        .await
        .unwrap();
    let err = store
        .add_objects(
            submission.id,
            &[Status::Draft, Status::Returned],
            &[object(ObjectKind::Run, "r1", &[])],
            ada.id,
            NOW,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StateMismatch { actual, .. } if actual == "submitted"));
}

async fn accessions_never_repeat(store: &Metastore) {
    let first = store.allocate_accessions("SAMSB", 100_000).await.unwrap();
    assert_eq!(first, 1);
    let mut tasks = Vec::new();
    for task in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut ranges = Vec::new();
            for round in 0..25 {
                let count = 1 + (task * 7 + round * 3) % 11;
                let start = store.allocate_accessions("SAMSB", count).await.unwrap();
                ranges.push((start, count));
            }
            ranges
        }));
    }
    let mut numbers = BTreeSet::new();
    let mut total = 0;
    for task in tasks {
        for (start, count) in task.await.unwrap() {
            for n in start..start + count {
                assert!(numbers.insert(n), "{n} handed out twice");
            }
            total += count;
        }
    }
    // Contiguous: nothing lost, nothing repeated.
    assert_eq!(numbers.first(), Some(&100_001));
    assert_eq!(numbers.last(), Some(&(100_000 + total)));
    assert_eq!(
        store.allocate_accessions("PRJSB", 1).await.unwrap(),
        1,
        "counters are per prefix"
    );
}

fn approval(release_now: bool) -> Approval {
    Approval {
        prefixes: vec![
            (None, "SBA".into()),
            (Some(ObjectKind::Project), "PRJSB".into()),
            (Some(ObjectKind::Sample), "SAMSB".into()),
            (Some(ObjectKind::Experiment), "SBX".into()),
            (Some(ObjectKind::Run), "SBR".into()),
        ],
        digits: 6,
        release_now,
    }
}

async fn lifecycle_and_history(store: &Metastore) {
    let ada = store
        .create_user("ada", Role::Submitter, None, NOW)
        .await
        .unwrap();
    let cy = store
        .create_user("cy", Role::Curator, None, NOW)
        .await
        .unwrap();
    let submission = store
        .create_submission(ada.id, "b", "B", Some("2027-01-01"), NOW)
        .await
        .unwrap();
    let ids = store
        .add_objects(
            submission.id,
            &[Status::Draft],
            &[
                object(ObjectKind::Project, "p", &[]),
                object(ObjectKind::Sample, "s", &[(ObjectKind::Project, "p")]),
            ],
            ada.id,
            NOW,
        )
        .await
        .unwrap();
    let err = store
        .approve_submission(submission.id, &approval(false), cy.id, None, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::StateMismatch { .. }),
        "only a submission in review can be approved"
    );
    store
        .transition_submission(
            submission.id,
            &[Status::Draft],
            Status::Submitted,
            None,
            ada.id,
            None,
            NOW,
        )
        .await
        .unwrap();
    store
        .transition_submission(
            submission.id,
            &[Status::Submitted],
            Status::InReview,
            Some("[]"),
            ada.id,
            None,
            NOW,
        )
        .await
        .unwrap();
    let approved = store
        .approve_submission(
            submission.id,
            &approval(false),
            cy.id,
            Some("looks good"),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        (approved.status, approved.accession.as_deref()),
        (Status::Approved, Some("SBA000001"))
    );
    let sample = store.object(ids[1]).await.unwrap();
    assert_eq!(
        (
            sample.accession.as_deref(),
            sample.status,
            sample.hold_until.as_deref()
        ),
        (Some("SAMSB000001"), Status::Private, Some("2027-01-01"))
    );
    assert_eq!(
        store
            .object_by_accession("PRJSB000001")
            .await
            .unwrap()
            .map(|o| o.id),
        Some(ids[0])
    );

    assert_eq!(
        store.due_for_release("2026-12-31").await.unwrap(),
        Vec::<i64>::new()
    );
    assert_eq!(store.due_for_release("2027-01-01").await.unwrap(), ids);
    store
        .set_status(
            &ids,
            &[Status::Private],
            Status::Public,
            "release",
            None,
            None,
            Some("hold date reached"),
            "2027-01-01T00:00:00Z",
        )
        .await
        .unwrap();
    let project = store.object(ids[0]).await.unwrap();
    assert_eq!(
        (project.status, project.released_at.as_deref()),
        (Status::Public, Some("2027-01-01T00:00:00Z"))
    );

    let version = store
        .new_version(
            ids[0],
            &[Status::Public],
            "P2",
            "{\"alias\":\"p\",\"title\":\"P2\"}",
            ada.id,
            Some("typo"),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(version, 2);
    let history = store.versions(ids[0]).await.unwrap();
    assert_eq!(
        (history.len(), history[0].version, history[0].body.as_str()),
        (1, 1, "{\"alias\":\"p\"}")
    );

    store
        .set_status(
            &ids[1..],
            &[Status::Public],
            Status::Suppressed,
            "suppress",
            None,
            Some(cy.id),
            Some("consent withdrawn"),
            NOW,
        )
        .await
        .unwrap();
    let sample = store.object(ids[1]).await.unwrap();
    assert_eq!(
        (sample.status, sample.status_reason.as_deref()),
        (Status::Suppressed, Some("consent withdrawn"))
    );
    let actions: Vec<String> = store
        .events("object", ids[1])
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{}:{}", e.action, e.actor.unwrap_or_default()))
        .collect();
    assert_eq!(actions, ["approve:cy", "release:", "suppress:cy"]);
    let err = store
        .set_status(
            &ids,
            &[Status::Private],
            Status::Public,
            "release",
            None,
            None,
            None,
            NOW,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::StateMismatch { .. }),
        "a suppressed object cannot be released by a batch that expects private ones"
    );
}

async fn listings_respect_visibility(store: &Metastore) {
    let ada = store
        .create_user("ada", Role::Submitter, None, NOW)
        .await
        .unwrap();
    let bo = store
        .create_user("bo", Role::Submitter, None, NOW)
        .await
        .unwrap();
    for (user, alias) in [(&ada, "a"), (&bo, "b")] {
        let submission = store
            .create_submission(user.id, alias, alias, None, NOW)
            .await
            .unwrap();
        let objects: Vec<NewObject> = (0..5)
            .map(|i| object(ObjectKind::Sample, &format!("{alias}{i}"), &[]))
            .collect();
        store
            .add_objects(submission.id, &[Status::Draft], &objects, user.id, NOW)
            .await
            .unwrap();
        if alias == "b" {
            store
                .transition_submission(
                    submission.id,
                    &[],
                    Status::InReview,
                    None,
                    user.id,
                    None,
                    NOW,
                )
                .await
                .unwrap();
            store
                .approve_submission(submission.id, &approval(true), user.id, None, NOW)
                .await
                .unwrap();
        }
    }
    let query = |visibility, after_id| ObjectQuery {
        kind: Some(ObjectKind::Sample),
        submission_id: None,
        owner_id: None,
        statuses: vec![],
        visibility,
        after_id,
        limit: 3,
    };
    let page = store.objects(&query(Visibility::Public, 0)).await.unwrap();
    assert_eq!(
        page.iter().map(|o| o.alias.as_str()).collect::<Vec<_>>(),
        ["b0", "b1", "b2"]
    );
    let next = store
        .objects(&query(Visibility::Public, page[2].id))
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|o| o.alias.as_str()).collect::<Vec<_>>(),
        ["b3", "b4"]
    );
    let mine = store
        .objects(&ObjectQuery {
            limit: 100,
            ..query(Visibility::PublicOrOwnedBy(ada.id), 0)
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 10);
    let all = store
        .objects(&ObjectQuery {
            limit: 100,
            statuses: vec![Status::Draft],
            ..query(Visibility::All, 0)
        })
        .await
        .unwrap();
    assert!(
        all.iter()
            .all(|o| o.owner == "ada" && o.status == Status::Draft)
            && all.len() == 5
    );
    let drafts = store
        .submissions(Some(ada.id), &[Status::Draft], 0, 10)
        .await
        .unwrap();
    assert_eq!(drafts.len(), 1);
}

async fn jobs_are_leased_retried_and_failed(store: &Metastore) {
    let t = |s: u32| format!("2026-11-21T10:{:02}:{:02}Z", s / 60, s % 60);
    let first = store
        .enqueue("validate_run", 7, 2, &t(0), &t(0))
        .await
        .unwrap();
    assert!(first.is_some());
    // Queued twice: one job.
    assert_eq!(
        store
            .enqueue("validate_run", 7, 2, &t(0), &t(0))
            .await
            .unwrap(),
        None
    );
    // A worker limited to another kind, or to all but this one, leaves it alone.
    for kinds in [
        JobKinds::Only("mirror_update"),
        JobKinds::AllBut("validate_run"),
    ] {
        assert!(
            store
                .claim_job_of(kinds, "w9", &t(30), &t(1))
                .await
                .unwrap()
                .is_none()
        );
    }
    let job = store
        .claim_job_of(JobKinds::AllBut("mirror_update"), "w1", &t(30), &t(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (job.id, job.attempts, job.state.as_str()),
        (first.unwrap(), 1, "running")
    );
    // While it runs, a change queues one more pass; nobody else can take the running one.
    let second = store
        .enqueue("validate_run", 7, 2, &t(2), &t(2))
        .await
        .unwrap()
        .unwrap();
    let other = store.claim_job("w2", &t(40), &t(3)).await.unwrap().unwrap();
    assert_eq!(other.id, second);
    assert!(store.complete_job(second, "w2", "ok", &t(4)).await.unwrap());
    assert!(
        store
            .heartbeat(job.id, "w1", &t(60), 5, 10, &t(5))
            .await
            .unwrap()
    );
    assert!(
        !store
            .heartbeat(job.id, "w2", &t(60), 5, 10, &t(5))
            .await
            .unwrap()
    );
    // w1 dies: after its lease another worker takes the job over, as attempt 2.
    assert!(
        store
            .claim_job("w2", &t(100), &t(59))
            .await
            .unwrap()
            .is_none()
    );
    let again = store
        .claim_job("w2", &t(120), &t(61))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts, again.done), (job.id, 2, 5));
    assert!(
        !store
            .complete_job(job.id, "w1", "late", &t(62))
            .await
            .unwrap(),
        "lost lease"
    );
    // Attempt 2 fails: no attempts left, so it fails for good.
    store
        .fail_job(job.id, "w2", "boom", &t(200), &t(63))
        .await
        .unwrap();
    let failed = store.job(job.id).await.unwrap();
    assert_eq!(
        (failed.state.as_str(), failed.last_error.as_deref()),
        ("failed", Some("boom"))
    );
    // A job that fails with attempts left is queued again after its backoff.
    let third = store
        .enqueue("audit", 0, 3, &t(0), &t(64))
        .await
        .unwrap()
        .unwrap();
    store
        .claim_job("w1", &t(200), &t(65))
        .await
        .unwrap()
        .unwrap();
    store
        .fail_job(third, "w1", "store down", &t(300), &t(66))
        .await
        .unwrap();
    assert!(
        store
            .claim_job("w1", &t(400), &t(299))
            .await
            .unwrap()
            .is_none()
    );
    let retried = store
        .claim_job("w1", &t(400), &t(301))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((retried.id, retried.attempts), (third, 2));
    // A lease that runs out on the last attempt fails the job instead of running it again.
    let fourth = store
        .enqueue("release_due", 0, 1, &t(0), &t(302))
        .await
        .unwrap()
        .unwrap();
    store
        .claim_job("w1", &t(310), &t(303))
        .await
        .unwrap()
        .unwrap();
    store.claim_job("w2", &t(900), &t(500)).await.unwrap();
    assert_eq!(store.job(fourth).await.unwrap().state, "failed");
}

async fn uploads_and_files(store: &Metastore) {
    let ada = store
        .create_user("ada", Role::Submitter, None, NOW)
        .await
        .unwrap();
    let submission = store
        .create_submission(ada.id, "b", "B", None, NOW)
        .await
        .unwrap();
    let ids = store
        .add_objects(
            submission.id,
            &[Status::Draft],
            &[object(ObjectKind::Run, "r1", &[])],
            ada.id,
            NOW,
        )
        .await
        .unwrap();
    let upload = |id: &str| Upload {
        id: id.to_owned(),
        owner_id: ada.id,
        run_id: ids[0],
        file_name: "a.fq".into(),
        length: 100,
        received: 0,
        state: UploadState::Receiving,
        multipart_id: None,
        parts: Vec::new(),
        part_size: 0,
        spooled: 0,
        expires_at: "2026-11-24T10:00:00Z".into(),
        created_at: NOW.into(),
        updated_at: NOW.into(),
    };
    store.create_upload(&upload("u1")).await.unwrap();
    let mut u1 = store.upload("u1").await.unwrap();
    u1.received = 60;
    u1.parts = vec!["p1".into(), "p2".into()];
    store.save_upload_progress(&u1, NOW).await.unwrap();
    assert_eq!(store.upload("u1").await.unwrap().parts, u1.parts);
    assert_eq!(store.upload_bytes(ada.id).await.unwrap(), 100);
    // A second upload of the same file replaces the unfinished first one.
    store.create_upload(&upload("u2")).await.unwrap();
    assert_eq!(
        store.upload("u1").await.unwrap().state,
        UploadState::Cancelled
    );
    assert!(matches!(
        store.save_upload_progress(&u1, NOW).await,
        Err(Error::StateMismatch { .. })
    ));
    assert!(
        store
            .set_upload_state("u2", &[UploadState::Receiving], UploadState::Received, NOW)
            .await
            .unwrap()
    );
    let file = |upload: &str, valid: bool| NewFile {
        run_id: ids[0],
        name: "a.fq".into(),
        upload_id: upload.into(),
        storage_key: format!("staging/uploads/{upload}"),
        size: 100,
        md5: "0".repeat(32),
        sha256: "0".repeat(64),
        valid,
        report: "{}".into(),
    };
    assert_eq!(store.put_file(&file("u2", false), NOW).await.unwrap(), None);
    assert_eq!(
        store.upload("u2").await.unwrap().state,
        UploadState::Invalid
    );
    // The same upload again (a retried job) changes nothing.
    assert_eq!(store.put_file(&file("u2", false), NOW).await.unwrap(), None);
    store.create_upload(&upload("u3")).await.unwrap();
    let replaced = store
        .put_file(&file("u3", true), NOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replaced.upload_id, "u2");
    let files = store.files_of_run(ids[0]).await.unwrap();
    assert_eq!(
        (files.len(), files[0].valid, files[0].archived),
        (1, true, false)
    );
    store
        .set_file_archived(files[0].id, "runs/SBR000/SBR000001/a.fq", NOW)
        .await
        .unwrap();
    let archived = store
        .file_by_key("runs/SBR000/SBR000001/a.fq")
        .await
        .unwrap()
        .unwrap();
    assert!(archived.archived);
    // An archived file is never replaced.
    store.create_upload(&upload("u4")).await.unwrap();
    assert!(matches!(
        store.put_file(&file("u4", true), NOW).await,
        Err(Error::Conflict(_))
    ));
}

async fn changes_feed_notes_every_object_write(store: &Metastore) {
    let ada = store
        .create_user("ada", Role::Submitter, None, NOW)
        .await
        .unwrap();
    assert_eq!(store.last_object_change().await.unwrap(), 0);
    let submission = store
        .create_submission(ada.id, "batch-1", "First batch", None, NOW)
        .await
        .unwrap();
    let batch = [
        object(ObjectKind::Project, "p1", &[]),
        object(ObjectKind::Sample, "s1", &[(ObjectKind::Project, "p1")]),
    ];
    let ids = store
        .add_objects(submission.id, &[Status::Draft], &batch, ada.id, NOW)
        .await
        .unwrap();
    let changes = store.object_changes(0, 100).await.unwrap();
    let changed: BTreeSet<i64> = changes.iter().map(|(_, object)| *object).collect();
    assert_eq!(changed, ids.iter().copied().collect());
    let last = store.last_object_change().await.unwrap();
    assert_eq!(changes.last().map(|(id, _)| *id), Some(last));
    // A failed batch notes nothing.
    let duplicate = [object(ObjectKind::Project, "p1", &[])];
    store
        .add_objects(submission.id, &[Status::Draft], &duplicate, ada.id, NOW)
        .await
        .unwrap_err();
    assert_eq!(store.last_object_change().await.unwrap(), last);
    // A state change of the submission is a change of each of its objects.
    store
        .transition_submission(
            submission.id,
            &[Status::Draft],
            Status::Submitted,
            None,
            ada.id,
            None,
            NOW,
        )
        .await
        .unwrap();
    let after: BTreeSet<i64> = store
        .object_changes(last, 100)
        .await
        .unwrap()
        .iter()
        .map(|(_, object)| *object)
        .collect();
    assert_eq!(after, ids.iter().copied().collect());
    // Paging by change id.
    let first = store.object_changes(0, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        store.object_changes(first[0].0, 1000).await.unwrap().len(),
        store.object_changes(0, 1000).await.unwrap().len() - 1
    );
    // Links read both ways.
    let linked: Vec<i64> = store
        .linked_objects(ids[0])
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(linked, [ids[1]]);
    let linked: Vec<i64> = store
        .linked_objects(ids[1])
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(linked, [ids[0]]);
}

/// A live BioSample of a dump of 2026-11-20, titled `sample ACCESSION`.
fn sample_row(accession: &str, body: String, raw: &str) -> MirrorRow {
    MirrorRow {
        accession: accession.into(),
        kind: "sample".into(),
        origin: "NCBI".into(),
        source: "biosample".into(),
        dump_date: "2026-11-20".into(),
        status: "live".into(),
        title: format!("sample {accession}"),
        body,
        raw: Raw::pack(raw),
        ..MirrorRow::default()
    }
}

/// Writes `rows`, as they are, as the one batch of a new import.
async fn write_rows(store: &Metastore, rows: Vec<MirrorRow>) -> MirrorImport {
    let import = store
        .mirror_import_start("biosample", "dump.xml", "f1", "2026-11-20", NOW)
        .await
        .unwrap();
    let position = rows.len() as i64;
    store
        .mirror_apply(
            &import,
            rows,
            &[],
            position,
            |r| r.accession.as_str(),
            |r, _| Merge::Write(Box::new(r)),
        )
        .await
        .unwrap()
}

async fn mirrored_text_is_kept_compressed(store: &Metastore) {
    let xml = |accession: &str| {
        let attributes: String = (0..40)
            .map(|i| format!("<Attribute attribute_name=\"tag{i}\">value {i} é</Attribute>"))
            .collect();
        format!(
            "<BioSample accession=\"{accession}\"><Attributes>{attributes}</Attributes></BioSample>"
        )
    };
    let row = |accession: &str| sample_row(accession, "{}".into(), &xml(accession));
    let rows = vec![row("SAMN1"), row("SAMN2")];
    assert!(rows[0].raw.bytes().len() * 3 < xml("SAMN1").len());
    let import = write_rows(store, rows).await;
    assert_eq!(import.imported, 2);
    let stored = store.mirror_record("SAMN2").await.unwrap().unwrap();
    assert_eq!(stored.raw.text().unwrap(), xml("SAMN2"));
    assert_eq!(stored.title, "sample SAMN2");
    // The index's feed leaves the text out.
    let changes = store.mirror_changes(0, 10).await.unwrap();
    assert_eq!(changes.len(), 2);
    assert!(
        changes
            .iter()
            .all(|c| c.row.raw.is_empty() && c.row.body == "{}")
    );
    // A row written before the text was compressed holds it plain, and reads the same.
    let plain = xml("SAMN3");
    let sql = "INSERT INTO mirror_records (accession, kind, origin, source, dump_date, status, title, body, raw, hash, seq) VALUES ('SAMN3', 'sample', 'NCBI', 'biosample', '2026-11-19', 'live', 't', '{}', $1, 0, 100)";
    match &store.backend {
        crate::store::Backend::Sqlite(pool) => {
            sqlx::query(sql).bind(&plain).execute(pool).await.unwrap();
        }
        crate::store::Backend::Postgres(pool) => {
            sqlx::query(sql)
                .bind(plain.as_bytes())
                .execute(pool)
                .await
                .unwrap();
        }
    }
    let legacy = store.mirror_record("SAMN3").await.unwrap().unwrap();
    assert_eq!(legacy.raw.text().unwrap(), plain);
}

#[test]
fn damaged_compressed_text_is_an_error_not_a_panic() {
    let packed = Raw::pack("<BioSample>some text some text some text</BioSample>");
    assert!(!packed.is_empty() && Raw::pack("").is_empty());
    let mut bytes = packed.bytes().to_vec();
    bytes.truncate(bytes.len() - 3);
    let err = Raw::from(bytes).text().unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt(m) if m.contains("mirrored record text")),
        "{err:?}"
    );
    // A length but no data.
    assert!(Raw::from(vec![0, 9, 0, 0, 0]).text().is_err());
    assert!(Raw::from(vec![0, 9]).text().is_err());
    assert_eq!(Raw::from(b"plain".to_vec()).text().unwrap(), "plain");
}

#[tokio::test]
async fn new_sqlite_databases_have_16_kib_pages_and_older_ones_keep_theirs() {
    let page_size = |pool: sqlx::SqlitePool| async move {
        let size: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(&pool)
            .await
            .unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&pool)
            .await
            .unwrap();
        (size, mode)
    };
    let db = sqlite().await;
    let crate::store::Backend::Sqlite(pool) = &db.store.backend else {
        unreachable!()
    };
    assert_eq!(page_size(pool.clone()).await, (16384, "wal".to_owned()));

    // A database made with 4 KiB pages before: it opens, is migrated, and keeps them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .page_size(4096)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
    let old = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::query("CREATE TABLE before (x)")
        .execute(&old)
        .await
        .unwrap();
    old.close().await;
    let store = Metastore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let crate::store::Backend::Sqlite(pool) = &store.backend else {
        unreachable!()
    };
    assert_eq!(page_size(pool.clone()).await, (4096, "wal".to_owned()));
    assert!(store.mirror_counts().await.unwrap().is_empty());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_leaves_mirrored_rows_under_a_page_uncompressed() {
    let Some(db) = postgres().await else { return };
    let store = &db.store;
    // Bodies that compress well: one of about 3 KB, one of about 30 KB.
    let body = |n: usize| {
        let attributes: Vec<String> = (0..n).map(|i| format!("\"tag{i}\":\"value\"")).collect();
        format!("{{{}}}", attributes.join(","))
    };
    let raw = "<BioSample>text</BioSample>".repeat(40);
    let (small, large) = (body(180), body(1800));
    assert!((2500..4000).contains(&small.len()) && large.len() > 25_000);
    write_rows(
        store,
        vec![
            sample_row("SAMN1", small.clone(), &raw),
            sample_row("SAMN2", large.clone(), &raw),
        ],
    )
    .await;
    let crate::store::Backend::Postgres(pool) = &store.backend else {
        unreachable!()
    };
    let compression = |accession: &'static str| async move {
        let method: Option<String> = sqlx::query_scalar(
            "SELECT pg_column_compression(body) FROM mirror_records WHERE accession = $1",
        )
        .bind(accession)
        .fetch_one(pool)
        .await
        .unwrap();
        method
    };
    assert_eq!(compression("SAMN1").await, None);
    assert!(compression("SAMN2").await.is_some());
    assert_eq!(
        store.mirror_record("SAMN1").await.unwrap().unwrap().body,
        small
    );
    assert_eq!(
        store.mirror_record("SAMN2").await.unwrap().unwrap().body,
        large
    );
    db.finish().await;
}

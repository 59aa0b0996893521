//! Files end to end through the API: tus uploads in pieces, validation jobs, the submission
//! moving on, archiving by accession, downloads with ranges, and every kind of bad input.

use serde_json::json;

use crate::support::{TestApp, batch, fastq, md5_hex};

/// One paired run, uploaded in pieces with a resume in the middle, validated, approved,
/// archived and downloaded.
async fn upload_validate_archive_download(app: &TestApp) {
    let batch = batch("f");
    let id = app.draft_metadata("alice", "f", None, &batch).await;

    // Submitting before the files arrive: returned, naming each missing file.
    let reply = app
        .call(
            "POST",
            &format!("/api/v1/submissions/{id}/submit"),
            Some("alice"),
            "",
        )
        .await;
    assert_eq!(reply.json["status"], "returned", "{}", reply.text);
    let findings = reply.json["findings"].as_array().unwrap();
    assert_eq!(
        findings
            .iter()
            .filter(|f| f["code"] == "file.not_uploaded")
            .count(),
        4,
        "{}",
        reply.text
    );
    assert!(
        findings.iter().any(|f| f["path"] == "runs[f-r0].files[1]"
            && f["message"].as_str().unwrap().contains("f0_R2.fastq")),
        "{}",
        reply.text
    );

    // tus: discovery, creation, a piece, the offset, the rest.
    let (reply, headers) = app
        .call_with("OPTIONS", "/api/v1/uploads", None, &[], Vec::new())
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(headers["tus-version"], "1.0.0");
    assert!(
        headers["tus-extension"]
            .to_str()
            .unwrap()
            .contains("termination")
    );
    let r1 = fastq("f0_R1.fastq");
    let (reply, location) = app
        .create_upload("alice", "f-r0", "f0_R1.fastq", r1.len())
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert!(location.starts_with("/api/v1/uploads/"));
    let (reply, headers) = app.patch("alice", &location, 0, &r1[..100]).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(headers["upload-offset"], "100");
    assert_eq!(headers["tus-resumable"], "1.0.0");
    // A client that lost track sends from the wrong offset: 409, nothing written.
    let (reply, _) = app.patch("alice", &location, 50, &r1[50..]).await;
    assert_eq!(reply.status, 409, "{}", reply.text);
    let (reply, headers) = app
        .call_with(
            "HEAD",
            &location,
            Some("alice"),
            &[("Tus-Resumable", "1.0.0")],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(headers["upload-offset"], "100");
    assert_eq!(headers["upload-length"], r1.len().to_string().as_str());
    // A piece with a checksum that does not match is refused and not kept.
    let (reply, _) = app
        .call_with(
            "PATCH",
            &location,
            Some("alice"),
            &[
                ("Tus-Resumable", "1.0.0"),
                ("Upload-Offset", "100"),
                ("Content-Type", "application/offset+octet-stream"),
                ("Upload-Checksum", "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            ],
            r1[100..].to_vec(),
        )
        .await;
    assert_eq!(reply.status, 460, "{}", reply.text);
    // The same piece with its right checksum.
    let digest = {
        use base64::Engine;
        use md5::Digest;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&r1[100..]))
    };
    let (reply, headers) = app
        .call_with(
            "PATCH",
            &location,
            Some("alice"),
            &[
                ("Tus-Resumable", "1.0.0"),
                ("Upload-Offset", "100"),
                ("Content-Type", "application/offset+octet-stream"),
                ("Upload-Checksum", &format!("md5 {digest}")),
            ],
            r1[100..].to_vec(),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(headers["upload-offset"], r1.len().to_string().as_str());
    // Complete: a further byte is refused.
    let (reply, _) = app.patch("alice", &location, r1.len(), b"x").await;
    assert_eq!(reply.status, 409, "{}", reply.text);

    // The other files; validation runs when the run's two files are there.
    for (run, name) in [
        ("f-r0", "f0_R2.fastq"),
        ("f-r1", "f1_R1.fastq"),
        ("f-r1", "f1_R2.fastq"),
    ] {
        app.upload("alice", run, name, &fastq(name)).await;
    }
    let reply = app.call("GET", &location, Some("alice"), "").await;
    assert_eq!(reply.json["state"], "valid", "{}", reply.text);
    assert_eq!(reply.json["file"]["md5"], md5_hex(&r1), "{}", reply.text);
    let reads = r1.iter().filter(|&&b| b == b'\n').count() / 4;
    assert_eq!(reply.json["file"]["report"]["stats"]["reads"], reads);
    assert_eq!(reply.json["validation"]["state"], "done");
    // Nobody else sees the upload.
    let reply = app.call("GET", &location, Some("bob"), "").await;
    assert_eq!(reply.status, 404);

    // Resubmitted: the files are valid, so it goes to review; approval archives them.
    let reply = app
        .call(
            "POST",
            &format!("/api/v1/submissions/{id}/submit"),
            Some("alice"),
            "",
        )
        .await;
    assert_eq!(reply.json["status"], "in_review", "{}", reply.text);
    let reply = app
        .call(
            "POST",
            &format!("/api/v1/submissions/{id}/approve"),
            Some("carol"),
            "",
        )
        .await;
    assert_eq!(reply.json["status"], "approved", "{}", reply.text);
    app.work().await;
    let runs = app
        .call(
            "GET",
            &format!("/api/v1/runs?submission={id}"),
            Some("alice"),
            "",
        )
        .await;
    let run = runs.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["alias"] == "f-r0")
        .unwrap()
        .clone();
    let accession = run["accession"].as_str().unwrap().to_owned();
    let group = &accession[..accession.len() - 3];
    let path = format!("/files/runs/{group}/{accession}/f0_R1.fastq");

    // Public (no hold date): anyone downloads, whole or by ranges, with validators and digests.
    let (reply, headers) = app.call_with("GET", &path, None, &[], Vec::new()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.text.as_bytes(), &r1[..]);
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", md5_hex(&r1)));
    assert!(
        headers["repr-digest"]
            .to_str()
            .unwrap()
            .contains("sha-256=:")
    );
    assert!(headers.contains_key("content-md5"));
    assert!(headers.contains_key("last-modified"));
    let (reply, headers) = app
        .call_with("GET", &path, None, &[("Range", "bytes=10-19")], Vec::new())
        .await;
    assert_eq!(reply.status, 206);
    assert_eq!(reply.text.as_bytes(), &r1[10..20]);
    assert_eq!(
        headers["content-range"],
        format!("bytes 10-19/{}", r1.len()).as_str()
    );
    let (reply, headers) = app
        .call_with("GET", &path, None, &[("Range", "bytes=0-4,-5")], Vec::new())
        .await;
    assert_eq!(reply.status, 206);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("multipart/byteranges; boundary=")
    );
    assert!(reply.text.contains(std::str::from_utf8(&r1[..5]).unwrap()));
    assert!(reply.text.contains(&format!(
        "Content-Range: bytes {}-{}/{}",
        r1.len() - 5,
        r1.len() - 1,
        r1.len()
    )));
    let (reply, headers) = app
        .call_with(
            "GET",
            &path,
            None,
            &[("Range", "bytes=100000-")],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, 416);
    assert_eq!(
        headers["content-range"],
        format!("bytes */{}", r1.len()).as_str()
    );
    let (reply, _) = app
        .call_with("GET", &path, None, &[("If-None-Match", &etag)], Vec::new())
        .await;
    assert_eq!(reply.status, 304);
    let (reply, _) = app
        .call_with("GET", &path, None, &[("If-Match", "\"other\"")], Vec::new())
        .await;
    assert_eq!(reply.status, 412);
    let (reply, _) = app
        .call_with(
            "GET",
            &path,
            None,
            &[("Range", "bytes=0-1"), ("If-Range", "\"stale\"")],
            Vec::new(),
        )
        .await;
    assert_eq!(
        reply.status, 200,
        "If-Range with another ETag gets the whole file"
    );

    // The FTP-like tree and the project's md5sum manifest.
    let project = app
        .call(
            "GET",
            &format!("/api/v1/projects?submission={id}"),
            Some("alice"),
            "",
        )
        .await;
    let project = project.json["items"][0]["accession"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .call(
            "GET",
            &format!("/files/projects/{project}/md5sum.txt"),
            None,
            "",
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text.lines().count(), 4, "{}", reply.text);
    assert!(
        reply
            .text
            .contains(&format!("{}  {accession}/f0_R1.fastq", md5_hex(&r1))),
        "{}",
        reply.text
    );
    let reply = app
        .call(
            "GET",
            &format!("/files/runs/{group}/{accession}/"),
            None,
            "",
        )
        .await;
    assert!(reply.text.contains("f0_R2.fastq"), "{}", reply.text);
    let reply = app
        .call("GET", &format!("/api/v1/runs/{accession}/files"), None, "")
        .await;
    assert_eq!(
        reply.json["items"].as_array().unwrap().len(),
        2,
        "{}",
        reply.text
    );

    // The objects are in the archive tree by accession, and nothing is left in staging.
    let storage = app.service.storage();
    assert!(
        storage
            .head(&format!("runs/{group}/{accession}/f0_R1.fastq"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(storage.list("staging/uploads").await.unwrap().is_empty());
}

#[tokio::test]
async fn upload_validate_archive_download_local() {
    let app = TestApp::new().await;
    upload_validate_archive_download(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn upload_validate_archive_download_s3() {
    let Some(app) = TestApp::s3().await else {
        return;
    };
    upload_validate_archive_download(&app).await;
    app.finish().await;
}

/// Wrong MD5, truncated, someone else's run, over quota, path traversal, undeclared names,
/// private files: each a clear error, nothing archived.
async fn bad_uploads(app: &TestApp) {
    let mut batch = batch("b");
    batch["runs"][0]["files"][0]["md5"] = json!("00000000000000000000000000000000");
    let id = app.draft_metadata("alice", "b", None, &batch).await;

    // Someone else's run: not found (it is private to alice).
    let (reply, _) = app.create_upload("bob", "b-r0", "b0_R1.fastq", 10).await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    // Names that would escape the folder, and names the run does not declare.
    for name in ["../../etc/passwd", "a/b.fastq", ".hidden"] {
        let (reply, _) = app.create_upload("alice", "b-r0", name, 10).await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.text);
        assert_eq!(reply.json["error"]["path"], "Upload-Metadata.filename");
    }
    let (reply, _) = app.create_upload("alice", "b-r0", "other.fastq", 10).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert!(
        reply.text.contains("b0_R1.fastq"),
        "the message lists the declared files: {}",
        reply.text
    );
    // Over quota (the test archive allows 64 MiB per user).
    let (reply, _) = app
        .create_upload("alice", "b-r0", "b0_R1.fastq", 65 << 20)
        .await;
    assert_eq!(reply.status, 413, "{}", reply.text);
    assert!(reply.text.contains("quota"), "{}", reply.text);
    // Without the protocol header: 412.
    let (reply, _) = app
        .call_with(
            "POST",
            "/api/v1/uploads",
            Some("alice"),
            &[("Upload-Length", "5")],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, 412, "{}", reply.text);

    // Truncated: the upload stays unfinished, and submitting waits for it rather than passing.
    let r2 = fastq("b0_R2.fastq");
    let (_, location) = app
        .create_upload("alice", "b-r0", "b0_R2.fastq", r2.len())
        .await;
    let (reply, _) = app.patch("alice", &location, 0, &r2[..r2.len() / 2]).await;
    assert_eq!(reply.status, 204);
    // More bytes than declared: refused.
    let mut long = r2[r2.len() / 2..].to_vec();
    long.extend_from_slice(b"@extra\nA\n+\nI\n");
    let (reply, _) = app.patch("alice", &location, r2.len() / 2, &long).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    // Cancelled (tus termination): gone.
    let (reply, _) = app
        .call_with(
            "DELETE",
            &location,
            Some("alice"),
            &[("Tus-Resumable", "1.0.0")],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let (reply, _) = app.patch("alice", &location, 0, &r2).await;
    assert_eq!(reply.status, 410, "{}", reply.text);

    // Wrong MD5: the declared one is all zeros. The file is refused, the run says why.
    let r1 = fastq("b0_R1.fastq");
    let location = app.upload("alice", "b-r0", "b0_R1.fastq", &r1).await;
    app.upload("alice", "b-r0", "b0_R2.fastq", &r2).await;
    let reply = app.call("GET", &location, Some("alice"), "").await;
    assert_eq!(reply.json["state"], "invalid", "{}", reply.text);
    assert_eq!(reply.json["file"]["report"]["md5_matches"], false);
    for (run, name) in [("b-r1", "b1_R1.fastq"), ("b-r1", "b1_R2.fastq")] {
        app.upload("alice", run, name, &fastq(name)).await;
    }
    let reply = app
        .call(
            "POST",
            &format!("/api/v1/submissions/{id}/submit"),
            Some("alice"),
            "",
        )
        .await;
    assert_eq!(reply.json["status"], "returned", "{}", reply.text);
    let finding = reply.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "file.md5_mismatch")
        .unwrap_or_else(|| panic!("{}", reply.text))
        .clone();
    assert_eq!(finding["path"], "runs[b-r0].files[0]");
    assert!(finding["message"].as_str().unwrap().contains(&md5_hex(&r1)));

    // Nothing of these is in the archive tree, and nothing is visible under /files.
    assert!(app.service.storage().list("runs").await.unwrap().is_empty());
    let reply = app.call("GET", "/files/runs/", None, "").await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn bad_uploads_local() {
    let app = TestApp::new().await;
    bad_uploads(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn bad_uploads_s3() {
    let Some(app) = TestApp::s3().await else {
        return;
    };
    bad_uploads(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn private_files_are_not_found_by_others() {
    let app = TestApp::new().await;
    let id = app
        .draft("alice", "h", Some("2027-05-01"), batch("h"))
        .await;
    app.approve(id, "alice").await;
    app.work().await;
    let runs = app
        .call(
            "GET",
            &format!("/api/v1/runs?submission={id}"),
            Some("alice"),
            "",
        )
        .await;
    let accession = runs.json["items"][0]["accession"]
        .as_str()
        .unwrap()
        .to_owned();
    let alias = runs.json["items"][0]["alias"].as_str().unwrap().to_owned();
    let name = format!("{}_R1.fastq", alias.replace("-r", ""));
    let path = format!(
        "/files/runs/{}/{accession}/{name}",
        &accession[..accession.len() - 3]
    );
    let owner = app.call("GET", &path, Some("alice"), "").await;
    assert_eq!(owner.status, 200, "{path}: {}", owner.text);
    assert_eq!(owner.text.as_bytes(), &fastq(&name)[..]);
    let curator = app.call("GET", &path, Some("carol"), "").await;
    assert_eq!(curator.status, 200);
    for who in [None, Some("bob")] {
        let reply = app.call("GET", &path, who, "").await;
        assert_eq!(reply.status, 404, "{who:?}: {}", reply.text);
        assert_eq!(reply.json["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn an_unreachable_object_store_is_a_clear_503() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::with_storage(
        dir.path(),
        seqbank_storage::StorageConfig {
            url: "s3://down/x".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            ..seqbank_storage::StorageConfig::default()
        },
    )
    .await;
    app.draft_metadata("alice", "d", None, &batch("d")).await;
    let before = app.counts().await;
    let (reply, _) = app.create_upload("alice", "d-r0", "d0_R1.fastq", 100).await;
    assert_eq!(reply.status, 503, "{}", reply.text);
    assert!(
        reply.text.contains("s3://down/x at http://127.0.0.1:9"),
        "{}",
        reply.text
    );
    assert_eq!(app.counts().await, before, "nothing recorded");
}

#[tokio::test]
async fn the_checksum_audit_finds_a_corrupted_file() {
    let app = TestApp::new().await;
    let id = app.draft("alice", "a", None, batch("a")).await;
    app.approve(id, "alice").await;
    app.work().await;
    let store = app.service.store();
    let now = "2026-11-21T09:00:00Z";
    store.enqueue("audit", 0, 1, now, now).await.unwrap();
    app.work().await;
    let job = &store.jobs(Some("audit"), None, 1).await.unwrap()[0];
    assert_eq!(
        job.result.as_deref(),
        Some("every archived file matches its checksums"),
        "{job:?}"
    );
    // Flip one byte of one archived file behind the archive's back.
    let file = store.files(0, 1).await.unwrap().remove(0);
    let storage = app.service.storage();
    let mut bytes = Vec::new();
    let mut stream = storage.get(&file.storage_key, None).await.unwrap();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    bytes[3] ^= 0x20;
    storage.delete(&file.storage_key).await.unwrap();
    storage.put(&file.storage_key, bytes.into()).await.unwrap();
    store.enqueue("audit", 0, 1, now, now).await.unwrap();
    app.work().await;
    let job = &store.jobs(Some("audit"), None, 1).await.unwrap()[0];
    let result = job.result.clone().unwrap_or_default();
    assert!(
        result.starts_with("1 files differ or are missing") && result.contains(&file.storage_key),
        "{job:?}"
    );
    let audited = store.file_by_key(&file.storage_key).await.unwrap().unwrap();
    assert_eq!(audited.audit_ok, Some(false));
    app.finish().await;
}

#[tokio::test]
async fn a_truncated_upload_expires_and_returns_the_waiting_submission() {
    let app = TestApp::new().await;
    let batch = batch("t");
    let id = app.draft_metadata("alice", "t", None, &batch).await;
    for (run, name) in [
        ("t-r0", "t0_R1.fastq"),
        ("t-r1", "t1_R1.fastq"),
        ("t-r1", "t1_R2.fastq"),
    ] {
        app.upload("alice", run, name, &fastq(name)).await;
    }
    // The last file stops half way: the client went away for good.
    let r2 = fastq("t0_R2.fastq");
    let (_, location) = app
        .create_upload("alice", "t-r0", "t0_R2.fastq", r2.len())
        .await;
    app.patch("alice", &location, 0, &r2[..r2.len() / 2]).await;
    let reply = app
        .call(
            "POST",
            &format!("/api/v1/submissions/{id}/submit"),
            Some("alice"),
            "",
        )
        .await;
    assert_eq!(
        reply.json["status"], "submitted",
        "waiting for the file: {}",
        reply.text
    );

    // Four days later the expiry job runs: the upload is gone and the submission comes back.
    let later = seqbank_service::Service::new(
        app.service.store().clone(),
        app.service.storage().clone(),
        seqbank_service::Config::default(),
        seqbank_service::Clock::fixed("2026-11-25T09:00:00Z".parse().unwrap()),
    );
    assert_eq!(later.expire_uploads().await.unwrap(), 1);
    let reply = app.call("GET", &location, Some("alice"), "").await;
    assert_eq!(reply.json["state"], "expired", "{}", reply.text);
    let reply = app
        .call(
            "GET",
            &format!("/api/v1/submissions/{id}"),
            Some("alice"),
            "",
        )
        .await;
    assert_eq!(reply.json["status"], "returned", "{}", reply.text);
    assert!(
        reply.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "file.not_uploaded" && f["path"] == "runs[t-r0].files[1]"),
        "{}",
        reply.text
    );
    assert!(
        app.service
            .storage()
            .list("staging/uploads")
            .await
            .unwrap()
            .iter()
            .all(|m| !location.ends_with(m.key.rsplit('/').next().unwrap()))
    );
    app.finish().await;
}

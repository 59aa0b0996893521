//! A submission from draft to public, with hold dates, release cascades, versions and tombstones.

use serde_json::json;

use crate::support::{TestApp, batch};

async fn draft_to_public(app: &TestApp) {
    let id = app
        .draft("alice", "b1", Some("2027-03-01"), batch("gut"))
        .await;
    let reply = app
        .call(
            "POST",
            &format!("/api/v1/submissions/{id}/validate"),
            Some("alice"),
            "",
        )
        .await;
    assert_eq!(
        (reply.status, &reply.json["valid"]),
        (200, &json!(true)),
        "{}",
        reply.text
    );

    // Submitted: frozen.
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
        .json(
            "POST",
            &format!("/api/v1/submissions/{id}/objects"),
            Some("alice"),
            batch("late"),
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.text);

    // Returned with a comment, fixed, resubmitted.
    let reply = app
        .json(
            "POST",
            &format!("/api/v1/submissions/{id}/return"),
            Some("carol"),
            json!({"reason": "add the sequencing centre"}),
        )
        .await;
    assert_eq!(reply.json["status"], "returned", "{}", reply.text);
    let sample = app
        .call(
            "GET",
            &format!("/api/v1/samples?submission={id}"),
            Some("alice"),
            "",
        )
        .await
        .json["items"][0]
        .clone();
    let mut metadata = sample["metadata"].clone();
    metadata["attributes"]["collected_by"] = json!("Hunan Agricultural University");
    let reply = app
        .json(
            "PUT",
            &format!("/api/v1/samples/{}", sample["id"]),
            Some("alice"),
            metadata,
        )
        .await;
    assert_eq!(
        (reply.status, &reply.json["version"]),
        (200, &json!(1)),
        "{}",
        reply.text
    );
    app.approve(id, "alice").await;

    let submission = app
        .call(
            "GET",
            &format!("/api/v1/submissions/{id}"),
            Some("alice"),
            "",
        )
        .await
        .json;
    assert_eq!(submission["accession"], "SBA000001");
    let project = app
        .call("GET", "/api/v1/projects/PRJSB000001", Some("alice"), "")
        .await
        .json;
    assert_eq!(
        (&project["status"], &project["hold_until"]),
        (&json!("private"), &json!("2027-03-01"))
    );
    assert_eq!(
        app.call("GET", "/api/v1/projects/PRJSB000001", None, "")
            .await
            .status,
        404,
        "private until the hold date"
    );

    // The scheduler releases nothing before the date, everything on it.
    assert_eq!(app.service.release_due().await.unwrap(), 0);
    app.service
        .clock()
        .set("2027-03-01T00:05:00Z".parse().unwrap());
    assert_eq!(app.service.release_due().await.unwrap(), 7);
    let public = app.call("GET", "/api/v1/runs/SBR000002", None, "").await;
    assert_eq!(
        (public.status, &public.json["status"]),
        (200, &json!("public")),
        "{}",
        public.text
    );
    assert!(
        public.json.get("hold_until").is_none() && public.json.get("submission_id").is_none(),
        "{}",
        public.text
    );

    // Edits after release are new versions with history.
    let mut metadata = project["metadata"].clone();
    metadata["title"] = json!("Gut microbiomes of rice farmers in Hunan");
    let reply = app
        .json(
            "PUT",
            "/api/v1/projects/PRJSB000001?reason=more%20precise%20title",
            Some("alice"),
            metadata.clone(),
        )
        .await;
    assert_eq!(reply.json["version"], 2, "{}", reply.text);
    metadata["alias"] = json!("renamed");
    assert_eq!(
        app.json(
            "PUT",
            "/api/v1/projects/PRJSB000001",
            Some("alice"),
            metadata
        )
        .await
        .status,
        422
    );
    let history = app
        .call("GET", "/api/v1/projects/PRJSB000001/history", None, "")
        .await
        .json;
    assert_eq!(
        history["versions"][0]["metadata"]["title"],
        "Gut microbiomes of rice farmers"
    );
    let actions: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["approve", "release", "new_version"]);

    // Suppressed: hidden from listings, the accession still resolves to a tombstone.
    let reply = app
        .json(
            "POST",
            "/api/v1/samples/SAMSB000001/suppress",
            Some("carol"),
            json!({"reason": "consent withdrawn"}),
        )
        .await;
    assert_eq!(reply.json["status"], "suppressed", "{}", reply.text);
    let tombstone = app
        .call("GET", "/api/v1/samples/SAMSB000001", None, "")
        .await;
    assert_eq!(
        (tombstone.status, &tombstone.json["status_reason"]),
        (200, &json!("consent withdrawn"))
    );
    assert!(
        tombstone.json.get("metadata").is_none() && tombstone.json.get("alias").is_none(),
        "{}",
        tombstone.text
    );
    let listing = app.call("GET", "/api/v1/samples", None, "").await.json;
    assert_eq!(listing["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn draft_to_public_on_sqlite() {
    let app = TestApp::new().await;
    draft_to_public(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn draft_to_public_on_postgres() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    draft_to_public(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn automatic_checks_return_incomplete_submissions() {
    let app = TestApp::new().await;
    let mut incomplete = batch("x");
    incomplete["samples"][1]["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("env_medium");
    incomplete["runs"][0]["files"].as_array_mut().unwrap().pop();
    // Missing things are accepted into a draft, and block the submission.
    let id = app.draft("alice", "x", None, incomplete).await;
    let reply = app
        .call(
            "POST",
            &format!("/api/v1/submissions/{id}/submit"),
            Some("alice"),
            "",
        )
        .await;
    assert_eq!(reply.json["status"], "returned", "{}", reply.text);
    let codes: Vec<(&str, &str)> = reply.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| (f["code"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            (
                "sample.attribute_missing",
                "samples[1].attributes.env_medium"
            ),
            ("run.second_file_missing", "runs[0].files")
        ]
    );
    app.finish().await;
}

#[tokio::test]
async fn release_cascades_up_not_down() {
    let app = TestApp::new().await;
    let id = app
        .draft("alice", "c", Some("2027-06-01"), batch("c"))
        .await;
    app.approve(id, "alice").await;
    // Releasing the project releases nothing below it.
    let reply = app
        .call(
            "POST",
            "/api/v1/projects/PRJSB000001/release",
            Some("alice"),
            "",
        )
        .await;
    assert_eq!(reply.json["status"], "public", "{}", reply.text);
    assert_eq!(
        app.call("GET", "/api/v1/samples/SAMSB000001", None, "")
            .await
            .status,
        404
    );
    // Releasing a run releases its experiment and sample (and project), not the other run.
    app.call("POST", "/api/v1/runs/SBR000001/release", Some("alice"), "")
        .await;
    for path in [
        "/api/v1/experiments/SBX000001",
        "/api/v1/samples/SAMSB000001",
    ] {
        assert_eq!(
            app.call("GET", path, None, "").await.json["status"],
            "public",
            "{path}"
        );
    }
    assert_eq!(
        app.call("GET", "/api/v1/runs/SBR000002", None, "")
            .await
            .status,
        404
    );
    // With cascade, the rest follows.
    app.call(
        "POST",
        "/api/v1/projects/PRJSB000001/release?cascade=true",
        Some("alice"),
        "",
    )
    .await;
    assert_eq!(
        app.call("GET", "/api/v1/runs/SBR000002", None, "")
            .await
            .json["status"],
        "public"
    );
    app.finish().await;
}

#[tokio::test]
async fn login_and_user_admin() {
    let app = TestApp::new().await;
    let reply = app
        .json(
            "POST",
            "/api/v1/auth/token",
            None,
            json!({"name": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(reply.status, 201);
    assert!(reply.json["token"].as_str().unwrap().starts_with("sbk_"));
    assert_eq!(
        app.json(
            "POST",
            "/api/v1/auth/token",
            None,
            json!({"name": "alice", "password": "wrong horse"})
        )
        .await
        .status,
        401
    );
    let reply = app
        .json(
            "POST",
            "/api/v1/users",
            Some("dave"),
            json!({"name": "erin", "role": "curator"}),
        )
        .await;
    assert_eq!(
        (reply.status, &reply.json["user"]["role"]),
        (201, &json!("curator")),
        "{}",
        reply.text
    );
    assert_eq!(
        app.json(
            "POST",
            "/api/v1/users",
            Some("carol"),
            json!({"name": "frank", "role": "admin"})
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.json(
            "POST",
            "/api/v1/users",
            Some("dave"),
            json!({"name": "erin", "role": "curator"})
        )
        .await
        .status,
        409
    );
    app.finish().await;
}

//! The authorization matrix: endpoints × (anonymous, other submitter, owner, curator, admin) ×
//! object state, with the status each must get, and no private field in any answer to those who
//! may not see it.

use serde_json::json;

use crate::support::{TestApp, batch};

const WHO: [Option<&str>; 5] = [
    None,
    Some("bob"),
    Some("alice"),
    Some("carol"),
    Some("dave"),
];
/// Text that only owners and curators may ever see: aliases of unreleased objects, the hold date.
const PRIVATE: [&str; 6] = [
    "d-s0",
    "r-s0",
    "p-s0",
    "2027-05-01",
    "hold_until",
    "submission_id",
];

struct World {
    draft: i64,
    review: i64,
    draft_sample: i64,
}

async fn world(app: &TestApp) -> World {
    let draft = app.draft("alice", "d", None, batch("d")).await;
    let review = app.draft("alice", "r", None, batch("r")).await;
    assert_eq!(
        app.call(
            "POST",
            &format!("/api/v1/submissions/{review}/submit"),
            Some("alice"),
            ""
        )
        .await
        .json["status"],
        "in_review"
    );
    let private = app
        .draft("alice", "p", Some("2027-05-01"), batch("p"))
        .await;
    app.approve(private, "alice").await;
    let public = app.draft("alice", "u", None, batch("u")).await;
    app.approve(public, "alice").await;
    let reply = app
        .json(
            "POST",
            "/api/v1/samples/SAMSB000004/suppress",
            Some("carol"),
            json!({"reason": "duplicate"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let listing = app
        .call(
            "GET",
            &format!("/api/v1/samples?submission={draft}"),
            Some("alice"),
            "",
        )
        .await;
    let draft_sample = listing.json["items"][0]["id"].as_i64().unwrap();
    World {
        draft,
        review,
        draft_sample,
    }
}

async fn check(app: &TestApp, method: &str, path: &str, body: &str, expected: [Option<u16>; 5]) {
    for (who, want) in WHO.iter().zip(expected) {
        let Some(want) = want else { continue };
        let reply = app.call(method, path, *who, body).await;
        let name = who.unwrap_or("anonymous");
        assert_eq!(
            reply.status, want,
            "{method} {path} as {name}: {}",
            reply.text
        );
        if reply.status >= 400 {
            assert!(
                reply.json["error"]["code"].is_string(),
                "{method} {path} as {name}: error body {}",
                reply.text
            );
        }
        // The API's own documentation names the private fields; every other answer must not hold them.
        if matches!(who, None | Some("bob")) && !path.ends_with("openapi.json") {
            for secret in PRIVATE {
                assert!(
                    !reply.text.contains(secret),
                    "{method} {path} as {name} shows {secret:?}: {}",
                    reply.text
                );
            }
        }
    }
}

#[tokio::test]
async fn every_endpoint_for_every_role_and_state() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let (d, r, ds) = (w.draft, w.review, w.draft_sample);
    let all = |s| [Some(s); 5];
    let sample = r#"{"alias": "x", "title": "t", "organism": {"taxon_id": 9606, "scientific_name": "Homo sapiens"}}"#;

    // Reading.
    check(&app, "GET", "/api/v1/openapi.json", "", all(200)).await;
    check(&app, "GET", "/api/v1/checklists", "", all(200)).await;
    check(
        &app,
        "GET",
        "/api/v1/me",
        "",
        [Some(401), Some(200), Some(200), Some(200), Some(200)],
    )
    .await;
    check(
        &app,
        "GET",
        "/api/v1/users",
        "",
        [Some(401), Some(403), Some(403), Some(403), Some(200)],
    )
    .await;
    check(
        &app,
        "GET",
        "/api/v1/submissions",
        "",
        [Some(401), Some(200), Some(200), Some(200), Some(200)],
    )
    .await;
    check(
        &app,
        "GET",
        &format!("/api/v1/submissions/{d}"),
        "",
        [Some(401), Some(404), Some(200), Some(200), Some(200)],
    )
    .await;
    check(
        &app,
        "GET",
        &format!("/api/v1/submissions/{d}/history"),
        "",
        [Some(401), Some(404), Some(200), Some(200), Some(200)],
    )
    .await;
    check(
        &app,
        "GET",
        &format!("/api/v1/samples/{ds}"),
        "",
        [Some(404), Some(404), Some(200), Some(200), Some(200)],
    )
    .await;
    check(
        &app,
        "GET",
        "/api/v1/samples/SAMSB000001",
        "",
        [Some(404), Some(404), Some(200), Some(200), Some(200)],
    )
    .await;
    check(
        &app,
        "GET",
        "/api/v1/samples/SAMSB000001/history",
        "",
        [Some(404), Some(404), Some(200), Some(200), Some(200)],
    )
    .await;
    check(&app, "GET", "/api/v1/samples/SAMSB000003", "", all(200)).await;
    check(&app, "GET", "/api/v1/samples/SAMSB000004", "", all(200)).await;
    check(
        &app,
        "GET",
        "/api/v1/samples/SAMSB000004/history",
        "",
        [Some(404), Some(404), Some(200), Some(200), Some(200)],
    )
    .await;
    check(&app, "GET", "/api/v1/samples/SAMSB999999", "", all(404)).await;
    check(&app, "GET", "/api/v1/samples", "", all(200)).await;
    check(&app, "GET", "/api/v1/runs?status=private", "", all(200)).await;
    check(
        &app,
        "GET",
        &format!("/api/v1/runs?submission={d}"),
        "",
        [Some(401), Some(404), Some(200), Some(200), Some(200)],
    )
    .await;
    let listing = app
        .call("GET", "/api/v1/samples?limit=100", None, "")
        .await
        .json;
    assert_eq!(
        listing["items"].as_array().unwrap().len(),
        1,
        "anonymous listings hold only public, unsuppressed samples"
    );

    // Drafts: only the owner (and admins) write.
    check(
        &app,
        "POST",
        &format!("/api/v1/submissions/{d}/validate"),
        "",
        [Some(401), Some(404), Some(200), Some(200), Some(200)],
    )
    .await;
    check(
        &app,
        "POST",
        &format!("/api/v1/submissions/{d}/objects"),
        r#"{"samples": []}"#,
        [Some(401), Some(404), None, Some(403), None],
    )
    .await;
    check(
        &app,
        "PATCH",
        &format!("/api/v1/submissions/{d}"),
        r#"{"title": "x"}"#,
        [Some(401), Some(404), None, Some(403), None],
    )
    .await;
    check(
        &app,
        "POST",
        &format!("/api/v1/samples?submission={d}"),
        sample,
        [Some(401), Some(404), None, Some(403), None],
    )
    .await;
    check(
        &app,
        "PUT",
        &format!("/api/v1/samples/{ds}"),
        sample,
        [Some(404), Some(404), None, Some(403), None],
    )
    .await;
    check(
        &app,
        "POST",
        &format!("/api/v1/submissions/{d}/submit"),
        "",
        [Some(401), Some(404), None, Some(403), None],
    )
    .await;
    check(
        &app,
        "POST",
        &format!("/api/v1/submissions/{d}/approve"),
        "",
        [Some(401), Some(404), Some(403), Some(409), Some(409)],
    )
    .await;
    check(
        &app,
        "POST",
        "/api/v1/submissions",
        "{}",
        [Some(401), None, None, None, None],
    )
    .await;

    // Review: curators only.
    check(
        &app,
        "POST",
        &format!("/api/v1/submissions/{r}/return"),
        r#"{"reason": "fix"}"#,
        [Some(401), Some(404), Some(403), None, None],
    )
    .await;
    check(
        &app,
        "POST",
        &format!("/api/v1/submissions/{r}/approve"),
        "",
        [Some(401), Some(404), Some(403), None, None],
    )
    .await;
    check(
        &app,
        "POST",
        &format!("/api/v1/submissions/{r}/objects"),
        r#"{"samples": []}"#,
        [None, None, Some(409), None, None],
    )
    .await;

    // Accessioned objects.
    check(
        &app,
        "POST",
        "/api/v1/samples/SAMSB000001/release",
        "",
        [Some(404), Some(404), None, None, None],
    )
    .await;
    check(
        &app,
        "POST",
        "/api/v1/samples/SAMSB000001/suppress",
        r#"{"reason": "x"}"#,
        [Some(404), Some(404), Some(403), None, None],
    )
    .await;
    check(
        &app,
        "POST",
        "/api/v1/samples/SAMSB000003/suppress",
        r#"{"reason": "x"}"#,
        [Some(401), Some(403), Some(403), None, None],
    )
    .await;
    check(
        &app,
        "POST",
        "/api/v1/samples/SAMSB000003/withdraw",
        r#"{"reason": "x"}"#,
        [Some(401), Some(403), Some(403), None, None],
    )
    .await;
    check(
        &app,
        "POST",
        "/api/v1/samples/SAMSB000003/release",
        "",
        [Some(401), Some(403), None, None, None],
    )
    .await;
    check(
        &app,
        "PUT",
        "/api/v1/samples/SAMSB000003",
        sample,
        [Some(401), Some(403), None, Some(403), None],
    )
    .await;
    check(
        &app,
        "POST",
        "/api/v1/samples/SAMSB000004/release",
        "",
        [Some(401), Some(403), Some(403), None, None],
    )
    .await;

    // The allowed ones, last, since they change state.
    check(
        &app,
        "POST",
        &format!("/api/v1/submissions/{r}/approve"),
        "",
        [None, None, None, Some(200), None],
    )
    .await;
    check(
        &app,
        "POST",
        "/api/v1/samples/SAMSB000001/release",
        "",
        [None, None, Some(200), None, None],
    )
    .await;
    check(
        &app,
        "POST",
        "/api/v1/samples/SAMSB000004/release",
        "",
        [None, None, None, Some(200), None],
    )
    .await;
    check(
        &app,
        "POST",
        "/api/v1/samples/SAMSB000003/withdraw",
        r#"{"reason": "fraud"}"#,
        [None, None, None, Some(200), None],
    )
    .await;
    check(&app, "GET", "/api/v1/samples/SAMSB000003", "", all(200)).await;
    check(
        &app,
        "POST",
        &format!("/api/v1/submissions/{d}/submit"),
        "",
        [None, None, Some(200), None, None],
    )
    .await;
    app.finish().await;
}

//! The web pages without a browser: what each viewer sees, forms answering at the field, the
//! session cookie, and cross-site requests refused. (`crates/seqbank/tests/it/browser.rs` walks
//! the same pages in Chromium.)

use serde_json::json;

use crate::support::{Reply, TestApp, batch};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn cookie(app: &TestApp, who: &str) -> String {
    format!("seqbank_session={}", app.tokens[who])
}

async fn page(app: &TestApp, path: &str, who: Option<&str>) -> Reply {
    let cookie = who.map(|w| cookie(app, w));
    let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("cookie", c.as_str())).collect();
    app.call_with("GET", path, None, &headers, "").await.0
}

async fn post(
    app: &TestApp,
    path: &str,
    who: &str,
    extra: &[(&str, &str)],
    fields: &[(&str, &str)],
) -> (Reply, axum::http::HeaderMap) {
    let cookie = cookie(app, who);
    let mut headers = vec![("cookie", cookie.as_str()), FORM];
    headers.extend_from_slice(extra);
    app.call_with("POST", path, None, &headers, form(fields))
        .await
}

#[tokio::test]
async fn pages_show_each_viewer_only_what_they_may_see() {
    let app = TestApp::new().await;
    let id = app
        .draft("alice", "web", Some("2027-06-01"), batch("web"))
        .await;
    app.approve(id, "alice").await;
    app.work().await;
    app.service.sync_search().await.unwrap();
    let project = app
        .json(
            "GET",
            "/api/v1/projects?mine=true",
            Some("alice"),
            json!({}),
        )
        .await
        .json["items"][0]["accession"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/project/{project}");

    // Private: the owner and curators see it; nobody else learns it exists.
    let anonymous = page(&app, &path, None).await;
    assert_eq!(anonymous.status, 404, "{}", anonymous.text);
    assert!(anonymous.text.contains("Not found"));
    assert_eq!(page(&app, &path, Some("bob")).await.status, 404);
    for who in ["alice", "carol"] {
        let reply = page(&app, &path, Some(who)).await;
        assert_eq!(reply.status, 200, "{who}: {}", reply.text);
        assert!(reply.text.contains("status-private"), "{who}");
        assert!(reply.text.contains("Release now"), "{who} may release");
    }
    let search = page(&app, "/search?query=Stool", None).await;
    assert!(
        search.text.contains(r#"<strong id="total">0</strong>"#),
        "{}",
        search.text
    );
    let search = page(&app, "/search?query=Stool", Some("alice")).await;
    assert!(search.text.contains(r#"<strong id="total">3</strong>"#));

    // The owner releases it from the page; now everyone sees it, with its hierarchy.
    let (reply, headers) = post(&app, &format!("{path}/release"), "alice", &[], &[]).await;
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(headers["location"], path.as_str());
    app.service.sync_search().await.unwrap();
    let reply = page(&app, &path, None).await;
    assert_eq!(reply.status, 200);
    assert!(reply.text.contains("status-public"));
    assert!(!reply.text.contains("Release now"));
    for accession in ["SAMSB000001", "SBX000001", "SBR000001"] {
        assert!(reply.text.contains(accession), "the tree lists {accession}");
    }
    let run = page(&app, "/run/SBR000001", None).await;
    assert!(
        run.text.contains(&format!("/project/{project}")),
        "breadcrumbs"
    );
    assert!(
        run.text.contains("href=\"/files/runs/SBR000/SBR000001/"),
        "download links: {}",
        run.text
    );
    let home = page(&app, "/", None).await;
    assert!(
        home.text
            .contains(r#"<strong data-count="project">1</strong>"#)
    );
    assert!(home.text.contains(r#"<strong data-count="run">2</strong>"#));
    assert!(home.text.contains(&project), "latest releases");
    let search = page(&app, "/search?query=Stool", None).await;
    assert!(search.text.contains(r#"<strong id="total">3</strong>"#));
    assert!(search.text.contains("<mark>Stool</mark>"));
    let bad = page(&app, "/search?query=%22open", None).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("role=\"alert\""), "{}", bad.text);

    // A withdrawn record keeps a tombstone page.
    let reply = app
        .json(
            "POST",
            "/api/v1/runs/SBR000002/withdraw",
            Some("carol"),
            json!({"reason": "consent withdrawn"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let tombstone = page(&app, "/run/SBR000002", None).await;
    assert_eq!(tombstone.status, 200);
    assert!(tombstone.text.contains("This record is withdrawn"));
    assert!(tombstone.text.contains("consent withdrawn"));
    assert!(!tombstone.text.contains("/files/runs/SBR000/SBR000002/"));
    app.finish().await;
}

#[tokio::test]
async fn forms_answer_at_the_field_and_refuse_other_sites() {
    let app = TestApp::new().await;
    let (reply, headers) = post(
        &app,
        "/submissions",
        "alice",
        &[],
        &[("title", "Gut study"), ("hold_until", "")],
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.text);
    let location = headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/submissions/"));
    let before = app.counts().await;

    let sample = [
        ("form", "sample"),
        ("samples[0].alias", "s1"),
        ("samples[0].title", "Stool"),
        ("samples[0].organism.taxon_id", "408170"),
        (
            "samples[0].organism.scientific_name",
            "human gut metagenome",
        ),
        ("samples[0].attributes.collection_date", "yesterday"),
        ("samples[0].attributes.geo_loc_name", "China: Hunan"),
    ];
    let (reply, _) = post(&app, &format!("{location}/objects"), "alice", &[], &sample).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert!(
        reply.text.contains(
            r#"<p class="error" id="f-samples-0-attributes-collection_date-error" data-path="samples[0].attributes.collection_date">&quot;yesterday&quot; is not an INSDC date"#
        ),
        "{}",
        reply.text
    );
    assert!(reply.text.contains(r#"value="Stool""#), "typed values stay");
    let mut numeric = sample;
    numeric[3] = ("samples[0].organism.taxon_id", "human");
    numeric[5] = ("samples[0].attributes.collection_date", "2024-05");
    let (reply, _) = post(&app, &format!("{location}/objects"), "alice", &[], &numeric).await;
    assert_eq!(reply.status, 422);
    assert!(
        reply
            .text
            .contains(r#"data-path="samples[0].organism.taxon_id""#),
        "{}",
        reply.text
    );
    assert_eq!(app.counts().await, before, "nothing was added");

    // The same form from another site is refused before it reaches the service.
    for extra in [
        &[("sec-fetch-site", "cross-site")][..],
        &[
            ("origin", "http://evil.example"),
            ("host", "archive.example"),
        ][..],
    ] {
        let mut good = sample;
        good[5] = ("samples[0].attributes.collection_date", "2024-05");
        let (reply, _) = post(&app, &format!("{location}/objects"), "alice", extra, &good).await;
        assert_eq!(reply.status, 403, "{extra:?}: {}", reply.text);
    }
    assert_eq!(app.counts().await, before, "nothing was added");
    // The API refuses a cross-site request that carries only the cookie.
    let cookie = cookie(&app, "alice");
    let (reply, _) = app
        .call_with(
            "POST",
            "/api/v1/submissions",
            None,
            &[
                ("cookie", &cookie),
                ("origin", "http://evil.example"),
                ("host", "archive.example"),
            ],
            "{}",
        )
        .await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert_eq!(reply.json["error"]["code"], "forbidden");

    // From the archive's own page, it is added.
    let mut good = sample;
    good[5] = ("samples[0].attributes.collection_date", "2024-05");
    let (reply, headers) = post(
        &app,
        &format!("{location}/objects"),
        "alice",
        &[("sec-fetch-site", "same-origin")],
        &good,
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert!(
        headers["location"]
            .to_str()
            .unwrap()
            .contains("done=sample")
    );
    let reply = page(&app, &location, Some("alice")).await;
    assert!(reply.text.contains("Stool"));
    // Bob may not see it; anonymous callers are sent to sign in.
    assert_eq!(page(&app, &location, Some("bob")).await.status, 404);
    let (reply, headers) = app.call_with("GET", &location, None, &[], "").await;
    assert_eq!(reply.status, 303);
    assert!(
        headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
    app.finish().await;
}

#[tokio::test]
async fn sign_in_sets_an_http_only_cookie_and_sign_out_revokes_it() {
    let app = TestApp::new().await;
    let (reply, _) = app
        .call_with(
            "POST",
            "/login",
            None,
            &[FORM],
            form(&[
                ("name", "alice"),
                ("password", "wrong"),
                ("next", "/account"),
            ]),
        )
        .await;
    assert_eq!(reply.status, 401);
    assert!(reply.text.contains(r#"data-path="password""#));
    let (reply, headers) = app
        .call_with(
            "POST",
            "/login",
            None,
            &[FORM],
            form(&[
                ("name", "alice"),
                ("password", "correct horse"),
                ("next", "https://evil.example/"),
            ]),
        )
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(headers["location"], "/submissions", "never another site");
    let set = headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let session = set.split(';').next().unwrap().to_owned();

    let (reply, _) = app
        .call_with("GET", "/account", None, &[("cookie", &session)], "")
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.text.contains("<strong>alice</strong>"));
    assert!(
        reply.text.contains("<td>login</td>"),
        "the session is a token"
    );
    // A token made on the page works for the API.
    let (reply, _) = app
        .call_with(
            "POST",
            "/account/tokens",
            None,
            &[("cookie", &session), FORM],
            form(&[("label", "laptop")]),
        )
        .await;
    let start = reply.text.find("sbk_").unwrap();
    let token = &reply.text[start..start + 52];
    let (me, _) = app
        .call_with(
            "GET",
            "/api/v1/me",
            None,
            &[("authorization", &format!("Bearer {token}"))],
            "",
        )
        .await;
    assert_eq!(me.json["name"], "alice", "{}", me.text);

    let (reply, headers) = app
        .call_with("POST", "/logout", None, &[("cookie", &session)], "")
        .await;
    assert_eq!(reply.status, 303);
    assert!(
        headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (me, _) = app
        .call_with("GET", "/api/v1/me", None, &[("cookie", &session)], "")
        .await;
    assert_eq!(me.status, 401, "the session token is revoked: {}", me.text);

    // This archive's configuration does not take sign-ups.
    let (reply, _) = app
        .call_with(
            "POST",
            "/register",
            None,
            &[FORM],
            form(&[
                ("name", "eve"),
                ("password", "long enough"),
                ("password_again", "long enough"),
            ]),
        )
        .await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert!(reply.text.contains("does not take sign-ups"));
    app.finish().await;
}

#[tokio::test]
async fn every_page_renders_for_every_role() {
    let app = TestApp::new().await;
    let id = app.draft("alice", "all", None, batch("all")).await;
    let paths = [
        "/".to_owned(),
        "/search".to_owned(),
        "/search?query=Stool&result=sample&sort=released:desc".to_owned(),
        "/help/search".to_owned(),
        "/login".to_owned(),
        "/register".to_owned(),
        "/account".to_owned(),
        "/submissions".to_owned(),
        format!("/submissions/{id}"),
        "/curation".to_owned(),
        "/static/seqbank.css".to_owned(),
        "/static/seqbank.js".to_owned(),
    ];
    for who in [None, Some("alice"), Some("bob"), Some("carol")] {
        for path in &paths {
            let reply = page(&app, path, who).await;
            assert!(
                [200, 303, 403, 404].contains(&reply.status),
                "{who:?} {path}: {} {}",
                reply.status,
                reply.text
            );
        }
    }
    assert_eq!(page(&app, "/curation", Some("alice")).await.status, 403);
    assert_eq!(page(&app, "/curation", Some("carol")).await.status, 200);
    app.finish().await;
}

#[tokio::test]
async fn a_curator_sets_the_release_date_when_approving() {
    let app = TestApp::new().await;
    let id = app.draft("alice", "held", None, batch("held")).await;
    let reply = app
        .call(
            "POST",
            &format!("/api/v1/submissions/{id}/submit"),
            Some("alice"),
            "",
        )
        .await;
    assert_eq!(reply.json["status"], "in_review", "{}", reply.text);
    let queue = page(&app, "/curation", Some("carol")).await;
    assert!(queue.text.contains(&format!("/submissions/{id}")), "queued");
    let path = format!("/submissions/{id}/approve");
    let (reply, _) = post(&app, &path, "carol", &[], &[("hold_until", "2099-01-01")]).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert!(
        reply.text.contains(r#"data-path="hold_until""#),
        "{}",
        reply.text
    );
    let (reply, _) = post(
        &app,
        &path,
        "carol",
        &[],
        &[("hold_until", "2027-01-15"), ("comment", "fine")],
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.text);
    let view = app
        .json(
            "GET",
            &format!("/api/v1/submissions/{id}"),
            Some("alice"),
            json!({}),
        )
        .await;
    assert_eq!(view.json["status"], "approved");
    assert_eq!(view.json["hold_until"], "2027-01-15");
    let projects = app
        .json(
            "GET",
            "/api/v1/projects?mine=true",
            Some("alice"),
            json!({}),
        )
        .await;
    assert_eq!(projects.json["items"][0]["status"], "private");
    // A submitter may not approve, from the page either.
    let other = app.draft("alice", "held-2", None, batch("held2")).await;
    let (reply, _) = post(
        &app,
        &format!("/submissions/{other}/approve"),
        "alice",
        &[],
        &[],
    )
    .await;
    assert_ne!(reply.status, 303, "{}", reply.text);
    app.finish().await;
}

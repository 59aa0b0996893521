//! `/api/v1/search`: the index follows the lifecycle, never shows what a caller may not see, and
//! answers bad requests with 400s that name the parameter.

use serde_json::{Value, json};

use crate::support::{TestApp, batch};

async fn search(app: &TestApp, query: &str, who: Option<&str>) -> Value {
    app.service.sync_search().await.unwrap();
    let reply = app
        .call("GET", &format!("/api/v1/search?{query}"), who, "")
        .await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text);
    reply.json
}

fn accessions(answer: &Value) -> Vec<String> {
    answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["accession"].as_str().unwrap_or("-").to_owned())
        .collect()
}

fn facet(answer: &Value, name: &str) -> Vec<(String, u64)> {
    answer["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == name)
        .unwrap()["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_owned(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn follows_the_lifecycle(app: &TestApp) {
    let id = app.draft("alice", "farmers", None, batch("a")).await;
    let query = "query=rice%20farmers&facets=type,access";
    // A draft: its owner and curators find it, nobody else does, not even in counts.
    for who in [None, Some("bob")] {
        let answer = search(app, query, who).await;
        assert_eq!(answer["total"], 0, "{who:?}: {answer}");
        assert!(facet(&answer, "access").is_empty(), "{answer}");
    }
    for who in ["alice", "carol"] {
        let answer = search(app, query, Some(who)).await;
        assert_eq!(answer["total"], 1, "{who}: {answer}");
        assert_eq!(facet(&answer, "access"), [("private".to_owned(), 1)]);
    }
    let everything = search(app, "query=*&facets=access&limit=0", None).await;
    assert_eq!(everything["total"], 0);

    app.approve(id, "alice").await;
    app.work().await;
    let answer = search(
        app,
        "query=rice%20farmers&fields=accession,type,status",
        None,
    )
    .await;
    assert_eq!(answer["hits"][0]["accession"], "PRJSB000001", "{answer}");
    assert_eq!(answer["hits"][0]["status"], "public");

    // An accession finds its record first, then the records linked to it.
    let answer = search(app, "query=PRJSB000001&facets=type&limit=50", None).await;
    assert_eq!(accessions(&answer)[0], "PRJSB000001");
    assert_eq!(answer["total"], 7, "{answer}");
    assert_eq!(
        facet(&answer, "type"),
        [
            ("experiment".to_owned(), 2),
            ("run".to_owned(), 2),
            ("sample".to_owned(), 2),
            ("project".to_owned(), 1)
        ]
    );
    // Runs read as their experiment's library and their sample's organism.
    let runs = search(
        app,
        "query=platform:illumina%20organism:%22human%20gut%20metagenome%22&result=run&fields=accession,organism,platform,library_strategy,linked",
        None,
    )
    .await;
    assert_eq!(runs["total"], 2, "{runs}");
    let run = &runs["hits"][0];
    assert_eq!(run["library_strategy"], "WGS");
    assert!(
        run["linked"]
            .as_array()
            .unwrap()
            .contains(&json!("PRJSB000001")),
        "{run}"
    );
    // Attributes by tag.
    let hunan = search(app, "query=geo_loc_name:hunan&result=sample", None).await;
    assert_eq!(hunan["total"], 2, "{hunan}");

    // Suppressed: gone from public search; its owner still finds it.
    let reply = app
        .json(
            "POST",
            "/api/v1/samples/SAMSB000001/suppress",
            Some("carol"),
            json!({"reason": "consent withdrawn"}),
        )
        .await;
    assert_eq!(reply.json["status"], "suppressed", "{}", reply.text);
    let gone = search(app, "query=SAMSB000001&result=sample", None).await;
    assert!(
        !accessions(&gone).contains(&"SAMSB000001".to_owned()),
        "{gone}"
    );
    let owner = search(app, "query=SAMSB000001&result=sample", Some("alice")).await;
    assert_eq!(accessions(&owner)[0], "SAMSB000001");
}

#[tokio::test]
async fn search_follows_the_lifecycle_on_sqlite() {
    let app = TestApp::new().await;
    follows_the_lifecycle(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn search_follows_the_lifecycle_on_postgres() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    follows_the_lifecycle(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn pages_tsv_and_field_catalogues() {
    let app = TestApp::new().await;
    let id = app.draft("alice", "farmers", None, batch("a")).await;
    app.approve(id, "alice").await;
    // Cursor pages: every record once, in the same order as one big page.
    let all = accessions(&search(&app, "query=*&limit=100&sort=released", None).await);
    assert_eq!(all.len(), 7);
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let answer = search(
            &app,
            &format!("query=*&limit=3&sort=released&cursor={cursor}"),
            None,
        )
        .await;
        paged.extend(accessions(&answer));
        match answer["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, all);

    let (reply, headers) = app
        .call_with(
            "GET",
            "/api/v1/search?query=stool&result=sample&format=tsv&fields=accession,type,title",
            None,
            &[],
            "",
        )
        .await;
    assert_eq!(reply.status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/tab-separated-values")
    );
    assert_eq!(headers["x-total-count"], "2");
    let lines: Vec<&str> = reply.text.lines().collect();
    assert_eq!(lines[0], "accession\ttype\ttitle");
    assert_eq!(lines.len(), 3, "{}", reply.text);
    assert!(
        lines[1].starts_with("SAMSB00000") && lines[1].contains("\tsample\tStool "),
        "{}",
        reply.text
    );

    let fields = app
        .call("GET", "/api/v1/search/fields", None, "")
        .await
        .json;
    let names: Vec<&str> = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"organism") && names.contains(&"released"),
        "{fields}"
    );
    let tags: Vec<&str> = fields["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(tags.contains(&"geo_loc_name"), "{fields}");
    let returned = app
        .call("GET", "/api/v1/search/returnFields", None, "")
        .await
        .json;
    assert!(
        returned["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "linked")
    );
    app.finish().await;
}

#[tokio::test]
async fn bad_searches_get_a_400_naming_the_parameter() {
    let app = TestApp::new().await;
    let id = app.draft("alice", "farmers", None, batch("a")).await;
    app.approve(id, "alice").await;
    app.service.sync_search().await.unwrap();
    let cases = [
        ("query=%22unbalanced", "query", "unbalanced quote"),
        ("query=(stool", "query", "never closed"),
        ("query=colour:blue", "query", "unknown field"),
        ("query=released:[2020%20TO%20soon]", "query", "YYYY"),
        ("query=st*", "query", "too short"),
        ("query=stool&limit=1000000", "limit", "too large"),
        ("query=stool&cursor=nonsense", "cursor", "malformed cursor"),
        ("query=stool&facets=title", "facets", "cannot count facet"),
        (
            "query=stool&fields=colour",
            "fields",
            "unknown return field",
        ),
        ("query=stool&result=genome", "result", "unknown result type"),
        ("query=stool&sort=title", "sort", "cannot sort"),
        ("query=stool&format=xml", "format", "neither json nor tsv"),
        ("query=stool&limit=many", "query", "limit"),
        ("query=stool&colour=blue", "query", "colour"),
    ];
    for (query, parameter, words) in cases {
        let reply = app
            .call("GET", &format!("/api/v1/search?{query}"), None, "")
            .await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text);
        let error = &reply.json["error"];
        assert_eq!(error["path"], parameter, "{query}: {}", reply.text);
        assert!(
            error["message"].as_str().unwrap().contains(words),
            "{query}: {}",
            reply.text
        );
    }
    app.finish().await;
}

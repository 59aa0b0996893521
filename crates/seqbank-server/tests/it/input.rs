//! Bad input gets an error naming the place, and leaves the store as it was; good documents of
//! every accepted format import.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{TestApp, batch};

async fn refused(
    app: &TestApp,
    path: &str,
    body: impl Into<Vec<u8>>,
    status: u16,
    place: &str,
) -> Value {
    let before = app.counts().await;
    let reply = app.call("POST", path, Some("alice"), body).await;
    assert_eq!(reply.status, status, "{}", reply.text);
    let error = &reply.json["error"];
    assert_eq!(error["path"], place, "{}", reply.text);
    assert!(!error["message"].as_str().unwrap_or("").is_empty());
    assert_eq!(
        app.counts().await,
        before,
        "the store changed after {path} was refused"
    );
    reply.json
}

#[tokio::test]
async fn bad_documents_name_the_place_and_change_nothing() {
    let app = TestApp::new().await;
    let id = app
        .draft(
            "alice",
            "b",
            None,
            json!({"projects": [{"alias": "p", "title": "P", "description": "D"}]}),
        )
        .await;
    let objects = format!("/api/v1/submissions/{id}/objects");

    refused(
        &app,
        &objects,
        "{\"samples\": [\n  {\"alias\": \"s\",}\n]}",
        400,
        "line 2 column 17",
    )
    .await;
    refused(
        &app,
        &objects,
        r#"{"samples": [{"alias": "s", "title": "t", "colour": "red"}]}"#,
        400,
        "samples[0].colour",
    )
    .await;
    refused(&app, &objects, r#"{"samples": [{"alias": "s", "title": "t", "organism": {"taxon_id": "nine", "scientific_name": "x"}}]}"#, 400, "samples[0].organism.taxon_id").await;

    let mut wrong_term = batch("v");
    wrong_term["experiments"][1]["library"]["strategy"] = json!("Whole Genome");
    let reply = refused(
        &app,
        &objects,
        wrong_term.to_string(),
        422,
        "experiments[1].library.strategy",
    )
    .await;
    assert_eq!(
        reply["error"]["findings"][0]["code"],
        "experiment.vocabulary_invalid"
    );

    let mut broken = batch("r");
    broken["runs"][0]["experiment"] = json!("no-such-experiment");
    let reply = refused(
        &app,
        &objects,
        broken.to_string(),
        422,
        "runs[0].experiment",
    )
    .await;
    assert_eq!(reply["error"]["findings"][0]["code"], "ref.unresolved");

    // Another submitter's private sample is as absent as a missing one.
    let other = app.draft("bob", "bob", None, batch("bob")).await;
    let mut foreign = batch("f");
    foreign["experiments"][0]["sample"] = json!("bob-s0");
    refused(
        &app,
        &objects,
        foreign.to_string(),
        422,
        "experiments[0].sample",
    )
    .await;
    let _ = other;

    // A spreadsheet with a bad row 7: the cell is named.
    let mut tsv = String::from(
        "#seqbank:samples\nalias\ttitle\ttaxon_id\tscientific_name\tchecklist\tproject\tcollection_date\tgeo_loc_name\n",
    );
    for row in 3..=8 {
        let date = if row == 7 { "2024-13-45" } else { "2024-01-02" };
        tsv.push_str(&format!(
            "s{row}\tSample {row}\t9606\tHomo sapiens\tgeneric\tp\t{date}\tFrance\n"
        ));
    }
    let reply = refused(
        &app,
        &format!("/api/v1/submissions/{id}/spreadsheet"),
        tsv.clone(),
        422,
        "samples!G7 (samples[4].attributes.collection_date)",
    )
    .await;
    assert_eq!(reply["error"]["findings"][0]["code"], "sample.date_invalid");
    let reply = app
        .call(
            "POST",
            &format!("/api/v1/submissions/{id}/spreadsheet"),
            Some("alice"),
            tsv.replace("2024-13-45", "2024-03-05"),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);

    refused(
        &app,
        &format!("/api/v1/submissions/{id}/xml"),
        "<html><body>hello</body></html>",
        400,
        "line 1",
    )
    .await;
    refused(
        &app,
        &format!("/api/v1/submissions/{id}/xml"),
        "<SAMPLE_SET><SAMPLE alias=\"a\">",
        400,
        "line 1",
    )
    .await;
    app.finish().await;
}

#[tokio::test]
async fn xlsx_templates_round_trip() {
    let app = TestApp::new().await;
    let reply = app
        .call(
            "GET",
            "/api/v1/checklists/human/template?format=tsv&sheet=samples",
            None,
            "",
        )
        .await;
    assert!(
        reply.text.starts_with("#seqbank:samples checklist=human\n"),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains("\nalias\ttitle\tdescription\ttaxon_id"),
        "{}",
        reply.text
    );
    let reply = app
        .call("GET", "/api/v1/checklists/plant/template", None, "")
        .await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.text.starts_with("PK"),
        "an XLSX file is a ZIP archive"
    );
    // An empty template is not a submission.
    let id = app
        .draft(
            "alice",
            "t",
            None,
            json!({"projects": [{"alias": "p", "title": "P", "description": "D"}]}),
        )
        .await;
    let template = app
        .call("GET", "/api/v1/checklists/plant/template", None, "")
        .await;
    let _ = template;
    assert_eq!(
        app.call("GET", "/api/v1/checklists/nonesuch", None, "")
            .await
            .status,
        404
    );
    let _ = id;
    app.finish().await;
}

fn corpus() -> Option<PathBuf> {
    let root = std::env::var_os("SEQBANK_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
        });
    let dir = root.join("insdc-xml/examples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: INSDC XML examples not found at {}",
            dir.display()
        );
        None
    }
}

#[tokio::test]
async fn insdc_xml_examples_import() {
    let Some(dir) = corpus() else { return };
    let app = TestApp::new().await;
    let id = app
        .draft(
            "alice",
            "xml",
            None,
            json!({"projects": [{"alias": "p", "title": "P", "description": "D"}]}),
        )
        .await;
    // The 10x runs refer to an experiment by the alias "exp-ref-001": it must exist first.
    let experiment = json!({"experiments": [{"alias": "exp-ref-001", "title": "10x library", "sample": "SRS000099", "platform": "ILLUMINA",
        "instrument_model": "Illumina NovaSeq 6000", "library": {"strategy": "RNA-Seq", "source": "TRANSCRIPTOMIC SINGLE CELL", "selection": "cDNA", "layout": "PAIRED", "insert_size": 400}}]});
    assert_eq!(
        app.json(
            "POST",
            &format!("/api/v1/submissions/{id}/objects"),
            Some("alice"),
            experiment
        )
        .await
        .status,
        201
    );
    let mut imported = 0;
    let mut duplicates = 0;
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let xml = std::fs::read(&path).unwrap();
        let reply = app
            .call(
                "POST",
                &format!("/api/v1/submissions/{id}/xml"),
                Some("alice"),
                xml,
            )
            .await;
        if name.contains("analysis") || name.starts_with("ERZ") {
            assert_eq!(reply.status, 400, "{name}: {}", reply.text);
            assert!(
                reply.json["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("ANALYSIS objects"),
                "{name}: {}",
                reply.text
            );
        } else if name.starts_with("receipt") {
            assert_eq!(reply.status, 400, "{name}: {}", reply.text);
            assert!(
                reply.json["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("not an SRA object"),
                "{name}: {}",
                reply.text
            );
        } else if reply.status == 422 {
            // Variants of one example share its alias: the later ones are refused as duplicates.
            assert!(
                name.starts_with("ERX000119") || name.starts_with("10x_"),
                "{name}: {}",
                reply.text
            );
            assert_eq!(
                reply.json["error"]["findings"][0]["code"], "object.alias_duplicate",
                "{name}"
            );
            duplicates += 1;
        } else {
            assert_eq!(reply.status, 201, "{name}: {}", reply.text);
            imported += 1;
        }
    }
    assert_eq!((imported, duplicates), (7, 3));
    let samples = app
        .call(
            "GET",
            &format!("/api/v1/samples?submission={id}"),
            Some("alice"),
            "",
        )
        .await
        .json;
    let hapmap = &samples["items"][0]["metadata"];
    assert_eq!(
        (&hapmap["alias"], &hapmap["organism"]["taxon_id"]),
        (&json!("NA18758"), &json!(9606))
    );
    assert_eq!(hapmap["external_ids"], json!(["SRS001433", "SAMN00000985"]));
    let submission = app
        .call(
            "GET",
            &format!("/api/v1/submissions/{id}"),
            Some("alice"),
            "",
        )
        .await
        .json;
    assert_eq!(
        submission["objects"],
        json!({"experiments": 2, "projects": 3, "runs": 2, "samples": 1})
    );
    app.finish().await;
}

#[tokio::test]
async fn every_documented_route_exists() {
    let app = TestApp::new().await;
    let spec: Value = serde_json::from_str(seqbank_server::OPENAPI).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 20);
    for (path, operations) in paths {
        let concrete = path
            .replace("{id}", "1")
            .replace("{kind}", "samples")
            .replace("{key}", "1")
            .replace("{name}", "generic")
            .replace("{upload}", "0")
            .replace("{path}", "runs/");
        for method in operations.as_object().unwrap().keys() {
            let reply = app.call(&method.to_uppercase(), &concrete, None, "").await;
            // The fallback answers unknown routes with an empty 404; a routed request says more.
            assert_ne!(
                reply.json["error"]["code"], "no_route",
                "{method} {path} is documented but not routed"
            );
            assert_ne!(reply.status, 405, "{method} {path}");
        }
    }
    app.finish().await;
}

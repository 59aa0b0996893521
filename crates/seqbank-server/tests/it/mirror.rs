//! The mirror through the API: mirrored records read, searched and shown as XML; status rules
//! (the accessions table over SRA XML, newer wins, the center's own wins, unpublished hidden);
//! released local records exported as INSDC XML that validates against the INSDC schemas.

use std::path::PathBuf;

use seqbank_mirror::Source;
use serde_json::Value;

use crate::support::{TestApp, batch};

fn corpora() -> Option<PathBuf> {
    let dir = std::env::var_os("SEQBANK_CORPORA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora"),
        PathBuf::from,
    );
    if dir.join("insdc-xml").is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: no corpora at {}", dir.display());
        None
    }
}

async fn import(
    app: &TestApp,
    source: Source,
    path: &std::path::Path,
) -> seqbank_metastore::MirrorImport {
    let import = app
        .service
        .mirror_import(source, path, Some("2026-11-20"), &|_| {})
        .await
        .unwrap();
    app.service.sync_search().await.unwrap();
    import
}

async fn get(app: &TestApp, path: &str, who: Option<&str>) -> (u16, Value, String) {
    let reply = app.call("GET", path, who, "").await;
    (reply.status, reply.json, reply.text)
}

#[tokio::test]
async fn mirrored_records_are_read_searched_and_shown_as_their_xml() {
    let Some(corpora) = corpora() else { return };
    let app = TestApp::new().await;
    let biosample = import(
        &app,
        Source::Biosample,
        &corpora.join("ncbi-metadata/biosample_set.head.xml.gz"),
    )
    .await;
    assert_eq!(
        (
            biosample.imported,
            biosample.skipped,
            biosample.state.as_str()
        ),
        (10, 0, "done")
    );
    import(
        &app,
        Source::Bioproject,
        &corpora.join("ncbi-metadata/bioproject.head.xml"),
    )
    .await;
    let sra = import(&app, Source::Sra, &corpora.join("insdc-xml/examples")).await;
    assert_eq!(sra.skipped, 0, "{:?}", sra.problem_list());

    let (status, sample, _) = get(&app, "/api/v1/samples/SAMN00000002", None).await;
    assert_eq!(status, 200, "{sample}");
    assert_eq!(sample["mirrored"], true);
    assert_eq!(sample["source"], "NCBI");
    assert_eq!(sample["mirror"]["dump"], "biosample");
    assert_eq!(sample["title"], "Alistipes putredinis DSM 17216");
    assert_eq!(sample["fields"]["tax_id"], 445970);
    assert!(
        sample["fields"]["attributes"]
            .to_string()
            .contains("Homo sapiens"),
        "{sample}"
    );

    let (status, project, _) = get(&app, "/api/v1/projects/PRJNA3", None).await;
    assert_eq!(
        (status, project["fields"]["organism"].as_str()),
        (200, Some("Borreliella burgdorferi B31"))
    );
    let (status, experiment, _) = get(&app, "/api/v1/experiments/ERX000119", None).await;
    assert_eq!((status, experiment["source"].as_str()), (200, Some("ENA")));
    assert_eq!(experiment["fields"]["library_strategy"], "WGS");
    // A sample is not found as a project.
    assert_eq!(
        get(&app, "/api/v1/projects/SAMN00000002", None).await.0,
        404
    );

    // Its own XML back, as the dump had it.
    let reply = app
        .call("GET", "/api/v1/samples/SRS001433?format=xml", None, "")
        .await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .text
            .contains("<SAMPLE center_name=\"HapMap\" alias=\"NA18758\" accession=\"SRS001433\">"),
        "{}",
        reply.text
    );

    // Findable by field, by accession and by free text.
    let (_, hits, _) = get(
        &app,
        "/api/v1/search?query=host:%22Homo%20sapiens%22&result=sample",
        None,
    )
    .await;
    assert!(hits["total"].as_u64().unwrap() >= 1, "{hits}");
    let (_, hits, _) = get(
        &app,
        "/api/v1/search?query=Lyme&fields=accession,source",
        None,
    )
    .await;
    assert_eq!(hits["hits"][0]["accession"], "PRJNA3", "{hits}");
    let (_, hits, _) = get(&app, "/api/v1/search?query=population:CHB", None).await;
    assert_eq!(hits["hits"][0]["accession"], "SRS001433", "{hits}");

    // A receipt's private project: curators only, in records and in search.
    assert_eq!(get(&app, "/api/v1/projects/PRJEB44969", None).await.0, 404);
    let (status, private, _) = get(&app, "/api/v1/projects/PRJEB44969", Some("carol")).await;
    assert_eq!(
        (status, private["status"].as_str()),
        (200, Some("unpublished"))
    );
    let (_, hits, _) = get(&app, "/api/v1/search?query=PRJEB44969", None).await;
    assert_eq!(hits["total"], 0, "{hits}");

    // Mirrored records are read-only.
    let reply = app
        .call("PUT", "/api/v1/samples/SAMN00000002", Some("carol"), "{}")
        .await;
    assert!(reply.status == 404 || reply.status == 403, "{}", reply.text);

    let (_, status, _) = get(&app, "/api/v1/mirror", None).await;
    assert_eq!(
        status["records"]["sample"].as_i64().unwrap(),
        10 + 1,
        "{status}"
    );

    // The web pages: a mirrored record where a local one would be, and the mirror's status.
    let (code, _, page) = get(&app, "/sample/SAMN00000002", None).await;
    assert_eq!(code, 200, "{page}");
    for text in [
        "Alistipes putredinis DSM 17216",
        "mirrored",
        "biosample dump of",
        "2026-11-20",
        "<dt>tax id</dt><dd>445970</dd>",
        "<dt>host</dt>",
        "&lt;BioSample",
        "/api/v1/samples/SAMN00000002?format=xml",
    ] {
        assert!(
            page.contains(text),
            "{text:?} missing from the page:\n{page}"
        );
    }
    assert!(
        !page.contains("Release now"),
        "mirrored records are read-only"
    );
    let (code, _, page) = get(&app, "/experiment/ERX000119", None).await;
    assert_eq!(code, 200);
    assert!(
        page.contains("<dt>library strategy</dt><dd>WGS</dd>"),
        "{page}"
    );
    // Wrong type, and private to curators: not found.
    assert_eq!(get(&app, "/project/SAMN00000002", None).await.0, 404);
    assert_eq!(get(&app, "/project/PRJEB44969", None).await.0, 404);
    let cookie = format!("seqbank_session={}", app.tokens["carol"]);
    let (reply, _) = app
        .call_with(
            "GET",
            "/project/PRJEB44969",
            None,
            &[("cookie", &cookie)],
            "",
        )
        .await;
    assert_eq!(reply.status, 200, "curators see unpublished records");
    let (code, _, page) = get(&app, "/mirror", None).await;
    assert_eq!(code, 200);
    assert!(page.contains("<dt>sample</dt>"), "{page}");
    assert!(page.contains("biosample_set.head.xml.gz"), "{page}");
    assert!(page.contains("status-done"), "{page}");
    app.finish().await;
}

#[tokio::test]
async fn status_rows_newer_records_and_the_centers_own_win_on_sqlite() {
    let Some(corpora) = corpora() else { return };
    rules(TestApp::new().await, &corpora).await;
}

#[tokio::test]
async fn status_rows_newer_records_and_the_centers_own_win_on_postgres() {
    let Some(corpora) = corpora() else { return };
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    rules(app, &corpora).await;
}

async fn rules(app: TestApp, corpora: &std::path::Path) {
    let dir = tempfile::tempdir().unwrap();
    import(
        &app,
        Source::Sra,
        &corpora.join("insdc-xml/examples/SRS001433.xml"),
    )
    .await;

    // The accessions table suppresses the sample; the XML read again does not undo it.
    let tab = dir.path().join("SRA_Accessions.tab");
    std::fs::write(&tab, "Accession\tSubmission\tStatus\tUpdated\tPublished\tReceived\tType\tCenter\tVisibility\tAlias\tExperiment\tSample\tStudy\tLoaded\tSpots\tBases\tMd5sum\tBioSample\tBioProject\tReplacedBy\n\
SRS001433\tSRA000001\tsuppressed\t2024-02-01T00:00:00Z\t2008-01-01T00:00:00Z\t2008-01-01T00:00:00Z\tSAMPLE\tHapMap\tpublic\tNA18758\t-\t-\tSRP000001\t-\t-\t-\t-\tSAMN00000985\t-\t-\n\
SRR999999\tSRA000002\tlive\t2024-02-01T00:00:00Z\t2024-01-01T00:00:00Z\t2023-12-01T00:00:00Z\tRUN\tX\tpublic\tr1\tSRX999999\tSRS999999\tSRP999999\t1\t10\t1500\t0123456789abcdef0123456789abcdef\tSAMN1\tPRJNA1\t-\n\
broken line\n").unwrap();
    let applied = import(&app, Source::SraAccessions, &tab).await;
    assert_eq!(
        (applied.imported, applied.updated, applied.skipped),
        (1, 1, 1),
        "{applied:?}"
    );
    assert!(
        applied.problem_list()[0].contains("record 3 (line 4"),
        "{:?}",
        applied.problem_list()
    );
    let (_, sample, _) = get(&app, "/api/v1/samples/SRS001433", None).await;
    assert_eq!(sample["status"], "suppressed", "{sample}");
    assert_eq!(
        sample["fields"]["organism"], "Homo sapiens",
        "the fields stay: {sample}"
    );
    let again = import(
        &app,
        Source::Sra,
        &corpora.join("insdc-xml/examples/SRS001433.xml"),
    )
    .await;
    assert_eq!((again.unchanged, again.updated), (1, 0), "{again:?}");
    assert_eq!(
        get(&app, "/api/v1/samples/SRS001433", None).await.1["status"],
        "suppressed"
    );
    // Suppressed records are shown by accession but not found by search.
    let (_, hits, _) = get(&app, "/api/v1/search?query=population:CHB", None).await;
    assert_eq!(hits["total"], 0, "{hits}");
    let (_, run, _) = get(&app, "/api/v1/runs/SRR999999", None).await;
    assert!(
        run["fields"]["attributes"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!([
                "md5",
                "0123456789abcdef0123456789abcdef"
            ])),
        "{run}"
    );

    // An older copy of a BioSample does not replace a newer one.
    let newer = dir.path().join("newer.xml");
    let older = dir.path().join("older.xml");
    let sample = |date: &str, title: &str| {
        format!(
            "<BioSampleSet><BioSample accession=\"SAMN7\" last_update=\"{date}\"><Description><Title>{title}</Title></Description></BioSample></BioSampleSet>"
        )
    };
    std::fs::write(&newer, sample("2025-01-01T00:00:00", "New title")).unwrap();
    std::fs::write(&older, sample("2020-01-01T00:00:00", "Old title")).unwrap();
    import(&app, Source::Biosample, &newer).await;
    let stale = import(&app, Source::Biosample, &older).await;
    assert_eq!(stale.unchanged, 1);
    assert_eq!(
        get(&app, "/api/v1/samples/SAMN7", None).await.1["title"],
        "New title"
    );

    // A record published in two days is for curators only until the day comes; the daily pass
    // of the search sync then shows it to everyone.
    let future = dir.path().join("future.xml");
    std::fs::write(&future, "<BioSampleSet><BioSample accession=\"SAMN8\" publication_date=\"2026-11-23T00:00:00.000\" last_update=\"2026-11-20T00:00:00\"><Description><Title>Embargoed marmoset</Title></Description></BioSample></BioSampleSet>").unwrap();
    import(&app, Source::Biosample, &future).await;
    let find = "/api/v1/search?query=marmoset";
    assert_eq!(get(&app, "/api/v1/samples/SAMN8", None).await.0, 404);
    assert_eq!(get(&app, find, None).await.1["total"], 0);
    assert_eq!(get(&app, find, Some("carol")).await.1["total"], 1);
    app.service
        .clock()
        .set("2026-11-22T12:00:00Z".parse().unwrap());
    app.service.sync_search().await.unwrap();
    assert_eq!(get(&app, find, None).await.1["total"], 0, "not yet");
    app.service
        .clock()
        .set("2026-11-23T00:30:00Z".parse().unwrap());
    app.service.sync_search().await.unwrap();
    assert_eq!(get(&app, "/api/v1/samples/SAMN8", None).await.0, 200);
    let (_, hits, _) = get(&app, &format!("{find}&fields=accession,access"), None).await;
    assert_eq!(hits["total"], 1, "{hits}");
    assert_eq!(hits["hits"][0]["access"], "public", "{hits}");

    // The center's own accession is never overwritten by a mirrored copy.
    let id = app.draft("alice", "own", None, batch("own")).await;
    app.approve(id, "alice").await;
    app.work().await;
    let own = dir.path().join("own.xml");
    std::fs::write(&own, "<STUDY_SET><STUDY accession=\"PRJSB000001\"><DESCRIPTOR><STUDY_TITLE>Mirrored copy</STUDY_TITLE></DESCRIPTOR></STUDY></STUDY_SET>").unwrap();
    let kept = import(&app, Source::Sra, &own).await;
    assert_eq!((kept.local_kept, kept.imported), (1, 0), "{kept:?}");
    let (_, project, _) = get(&app, "/api/v1/projects/PRJSB000001", None).await;
    assert!(project.get("mirrored").is_none(), "{project}");
    app.finish().await;
}

/// A BioSample dump whose records `SAMD1`… carry `title` (the first one `first` instead).
fn samples(n: usize, first: &str, title: &str) -> String {
    let mut xml = String::from("<BioSampleSet>");
    for i in 1..=n {
        let title = if i == 1 { first } else { title };
        xml.push_str(&format!("<BioSample accession=\"SAMD{i}\" last_update=\"2026-11-20T00:00:00\"><Description><Title>{title} {i}</Title></Description></BioSample>"));
    }
    xml.push_str("</BioSampleSet>");
    xml
}

#[tokio::test]
async fn the_daily_update_is_a_job_queued_at_its_time_retried_and_shown() {
    use seqbank_service::{JobKinds, MirrorPlan, PlannedDump, Worker, WorkerConfig, jobs::kind};

    let dir = tempfile::tempdir().unwrap();
    let dumps = dir.path().join("dumps");
    std::fs::create_dir_all(&dumps).unwrap();
    std::fs::write(
        dumps.join("biosample_20261121.xml"),
        samples(3, "Tundra soil", "Tundra soil"),
    )
    .unwrap();
    let base = dumps.join("base.xml");
    std::fs::write(
        &base,
        "<BioSampleSet><BioSample accession=\"SAMD100\"><Description><Title>Base</Title></Description></BioSample></BioSampleSet>",
    )
    .unwrap();
    let plan = MirrorPlan::new(
        "10:00",
        vec![
            PlannedDump {
                source: Source::Biosample,
                path: base.display().to_string(),
            },
            PlannedDump {
                source: Source::Biosample,
                path: format!("{}/biosample_{{date}}.xml", dumps.display()),
            },
        ],
        dir.path().join("downloads"),
    )
    .unwrap();
    let app = TestApp::with_mirror(plan).await;
    let worker = Worker::new(
        app.service.as_ref().clone(),
        WorkerConfig {
            name: "scheduler".into(),
            ..WorkerConfig::default()
        },
    );
    let updates = async || {
        app.service
            .store()
            .jobs(Some(kind::MIRROR_UPDATE), Some(0), 10)
            .await
            .unwrap()
    };
    let clock = app.service.clock();

    // 09:00: not yet.
    worker.schedule().await.unwrap();
    assert!(updates().await.is_empty());
    let (status, mirror, _) = get(&app, "/api/v1/mirror", None).await;
    assert_eq!(status, 200, "{mirror}");
    assert_eq!(mirror["schedule"]["at"], "10:00", "{mirror}");
    assert_eq!(mirror["schedule"]["next_run"], "2026-11-21T10:00:00Z");
    assert_eq!(mirror["schedule"]["sources"][0]["source"], "biosample");

    // 10:00: queued once however often the scheduler looks, and run. A worker that takes every
    // other kind (the server's, beside its mirror worker) neither queues nor takes it.
    clock.set("2026-11-21T10:00:30Z".parse().unwrap());
    let general = Worker::new(
        app.service.as_ref().clone(),
        WorkerConfig {
            name: "general".into(),
            kinds: JobKinds::AllBut(kind::MIRROR_UPDATE),
            ..WorkerConfig::default()
        },
    );
    general.schedule().await.unwrap();
    assert!(updates().await.is_empty());
    worker.schedule().await.unwrap();
    worker.schedule().await.unwrap();
    assert_eq!(updates().await.len(), 1);
    while general.run_once().await.unwrap() {}
    assert_eq!(updates().await[0].state, "queued");
    while worker.run_once().await.unwrap() {}
    let done = &updates().await[0];
    assert_eq!(done.state, "done", "{done:?}");
    let result = done.result.as_deref().unwrap();
    assert!(
        result.contains("biosample_20261121.xml: 3 records, 3 new"),
        "{result}"
    );
    assert_eq!(get(&app, "/api/v1/samples/SAMD2", None).await.0, 200);
    // Not again the same day; the next run is tomorrow's.
    clock.set("2026-11-21T18:00:00Z".parse().unwrap());
    worker.schedule().await.unwrap();
    assert_eq!(updates().await.len(), 1);
    let (_, mirror, _) = get(&app, "/api/v1/mirror", None).await;
    assert_eq!(mirror["schedule"]["next_run"], "2026-11-22T10:00:00Z");
    assert_eq!(mirror["schedule"]["runs"][0]["state"], "done", "{mirror}");

    // The next day's dump is missing: the run fails, says which file, and is queued again.
    clock.set("2026-11-22T10:05:00Z".parse().unwrap());
    worker.schedule().await.unwrap();
    while worker.run_once().await.unwrap() {}
    let jobs = updates().await;
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].state, "queued", "{:?}", jobs[0]);
    let error = jobs[0].last_error.as_deref().unwrap();
    assert!(error.contains("biosample_20261122.xml"), "{error}");
    assert!(error.contains("base.xml: 1 records, 0 new"), "{error}");
    let (_, mirror, _) = get(&app, "/api/v1/mirror", None).await;
    assert_eq!(mirror["schedule"]["runs"][0]["error"], error, "{mirror}");
    let (status, _, page) = get(&app, "/mirror", None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Daily update") && page.contains("biosample_20261122.xml"));

    // The dump arrives; the retry after the backoff applies it.
    std::fs::write(
        dumps.join("biosample_20261122.xml"),
        samples(4, "Alpine soil", "Tundra soil"),
    )
    .unwrap();
    clock.set("2026-11-22T11:00:00Z".parse().unwrap());
    while worker.run_once().await.unwrap() {}
    let retried = &updates().await[0];
    assert_eq!((retried.state.as_str(), retried.attempts), ("done", 2));
    let result = retried.result.as_deref().unwrap();
    assert!(
        result.contains("4 records, 1 new, 1 updated, 2 unchanged"),
        "{result}"
    );
    assert!(
        result.contains("base.xml: imported before this attempt"),
        "{result}"
    );
    let (_, sample, _) = get(&app, "/api/v1/samples/SAMD1", None).await;
    assert_eq!(sample["title"], "Alpine soil 1", "{sample}");
    app.finish().await;
}

fn xmllint() -> bool {
    let ok = std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install xmllint (libxml2-utils)"
        );
        eprintln!("skipping: xmllint is not installed (apt-get install libxml2-utils)");
    }
    ok
}

#[tokio::test]
async fn released_records_export_as_insdc_xml_that_validates() {
    let Some(corpora) = corpora() else { return };
    if !xmllint() {
        return;
    }
    let app = TestApp::new().await;
    let id = app.draft("alice", "x", None, batch("x")).await;
    app.approve(id, "alice").await;
    app.work().await;
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (plural, schema) in [
        ("projects", "ENA.project.xsd"),
        ("samples", "SRA.sample.xsd"),
        ("experiments", "SRA.experiment.xsd"),
        ("runs", "SRA.run.xsd"),
    ] {
        let (status, list, _) = get(
            &app,
            &format!("/api/v1/{plural}?status=public"),
            Some("carol"),
        )
        .await;
        assert_eq!(status, 200, "{list}");
        for item in list["items"].as_array().unwrap() {
            let accession = item["accession"].as_str().unwrap();
            let reply = app
                .call(
                    "GET",
                    &format!("/api/v1/{plural}/{accession}?format=xml"),
                    None,
                    "",
                )
                .await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            assert!(reply.text.contains(&format!("accession=\"{accession}\"")));
            let file = dir.path().join(format!("{accession}.xml"));
            std::fs::write(&file, &reply.text).unwrap();
            let out = std::process::Command::new("xmllint")
                .arg("--noout")
                .arg("--schema")
                .arg(corpora.join("insdc-xml/schema").join(schema))
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{accession} against {schema}: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                reply.text
            );
            checked += 1;
        }
    }
    assert!(checked >= 7, "{checked}");
    // Drafts are not exported.
    app.draft_metadata("alice", "y", None, &batch("y")).await;
    let (_, drafts, _) = get(&app, "/api/v1/samples?status=draft", Some("alice")).await;
    let id = drafts["items"][0]["id"].as_i64().unwrap();
    let reply = app
        .call(
            "GET",
            &format!("/api/v1/samples/{id}?format=xml"),
            Some("alice"),
            "",
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.text);
    assert!(
        reply.text.contains("only released records"),
        "{}",
        reply.text
    );
    app.finish().await;
}

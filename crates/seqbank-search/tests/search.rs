//! The index over a small fixed corpus: hits, order, facets, paging, access and bad queries.
#![allow(clippy::unwrap_used)]

use seqbank_search::{Error, Record, Request, SearchIndex, Sort, Viewer};

fn record(key: &str, kind: &str, title: &str, organism: &str, tax_id: u64) -> Record {
    Record {
        key: key.into(),
        readers: Vec::new(),
        accession: Some(key.into()),
        kind: kind.into(),
        source: "seqbank".into(),
        title: title.into(),
        organism: Some(organism.into()),
        tax_id: Some(tax_id),
        status: "public".into(),
        access: "public".into(),
        submitted: Some("2020-01-15".into()),
        released: Some("2021-06-01".into()),
        ..Record::default()
    }
}

fn corpus() -> Vec<Record> {
    let mut records = vec![
        record(
            "PRJSB1",
            "project",
            "Human liver transcriptomes",
            "Homo sapiens",
            9606,
        ),
        record(
            "SAMSB1",
            "sample",
            "Liver biopsy, patient 1",
            "Homo sapiens",
            9606,
        ),
        record(
            "SAMSB2",
            "sample",
            "Liver biopsy, patient 2",
            "Homo sapiens",
            9606,
        ),
        record(
            "SAMSB3",
            "sample",
            "Mouse brain cortex",
            "Mus musculus",
            10090,
        ),
        record("SAMSB4", "sample", "Mouse liver", "Mus musculus", 10090),
        record(
            "SAMSB5",
            "sample",
            "Hospital sink drain swab",
            "Escherichia coli",
            562,
        ),
        record("SRRSB1", "run", "Liver RNA-Seq run", "Homo sapiens", 9606),
    ];
    records[1].attributes = vec![
        ("tissue".into(), "liver".into()),
        ("disease".into(), "hepatocellular carcinoma".into()),
    ];
    records[1].linked = vec!["PRJSB1".into()];
    records[2].attributes = vec![("tissue".into(), "liver".into())];
    records[2].linked = vec!["PRJSB1".into()];
    records[3].attributes = vec![("tissue".into(), "brain".into())];
    records[3].released = Some("2023-02-02".into());
    records[4].released = Some("2019-11-30".into());
    records[5].description = Some("Carbapenemase producers from a hospital sink drain".into());
    records[5].released = Some("2022-08-08".into());
    records[6].platform = Some("ILLUMINA".into());
    records[6].library_strategy = Some("RNA-Seq".into());
    records[6].linked = vec!["PRJSB1".into(), "SAMSB1".into()];
    // Private to user 7: never seen by anyone else.
    let mut private = record(
        "SAMSB9",
        "sample",
        "Liver of a private donor",
        "Homo sapiens",
        9606,
    );
    private.readers = vec!["user:7".into()];
    private.access = "private".into();
    private.status = "in_review".into();
    private.released = None;
    records.push(private);
    records
}

fn index() -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    let mut writer = index.writer(50 << 20).unwrap();
    for r in corpus() {
        writer.upsert(&r).unwrap();
    }
    writer.commit(Some(42)).unwrap();
    index.reload().unwrap();
    index
}

fn ask(query: &str) -> Request {
    Request {
        query: query.into(),
        ..Request::default()
    }
}

fn accessions(index: &SearchIndex, request: &Request, viewer: Viewer) -> Vec<String> {
    index
        .search(request, viewer)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.get("accession").unwrap().as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn words_must_all_match_and_stems_match_plurals() {
    let index = index();
    assert_eq!(
        sorted(accessions(
            &index,
            &ask("liver Homo sapiens"),
            Viewer::Anonymous
        )),
        ["PRJSB1", "SAMSB1", "SAMSB2", "SRRSB1"]
    );
    // "transcriptome" matches "transcriptomes" through the stemmer.
    assert_eq!(
        accessions(&index, &ask("transcriptome"), Viewer::Anonymous),
        ["PRJSB1"]
    );
    assert_eq!(index.stats().unwrap().watermark, Some(42));
}

#[test]
fn an_accession_query_returns_that_record_first_then_linked_ones() {
    let index = index();
    let hits = accessions(&index, &ask("PRJSB1"), Viewer::Anonymous);
    assert_eq!(hits[0], "PRJSB1");
    assert_eq!(sorted(hits[1..].to_vec()), ["SAMSB1", "SAMSB2", "SRRSB1"]);
    // Lower case works too.
    assert_eq!(
        accessions(&index, &ask("samsb4"), Viewer::Anonymous)[0],
        "SAMSB4"
    );
}

#[test]
fn fields_attributes_ranges_prefixes_phrases_and_boolean_operators() {
    let index = index();
    let q = |s: &str| sorted(accessions(&index, &ask(s), Viewer::Anonymous));
    assert_eq!(q(r#"organism:"Mus musculus""#), ["SAMSB3", "SAMSB4"]);
    assert_eq!(q("organism:mus*"), ["SAMSB3", "SAMSB4"]);
    assert_eq!(q("tissue:liver"), ["SAMSB1", "SAMSB2"]);
    assert_eq!(q(r#"disease:"hepatocellular carcinoma""#), ["SAMSB1"]);
    assert_eq!(q("disease:carcin*"), ["SAMSB1"]);
    assert_eq!(q("released:[2022 TO 2023]"), ["SAMSB3", "SAMSB5"]);
    assert_eq!(q("released:{2021-06-01 TO *]"), ["SAMSB3", "SAMSB5"]);
    assert_eq!(q("released:2019-11"), ["SAMSB4"]);
    assert_eq!(q("tax_eq(10090)"), ["SAMSB3", "SAMSB4"]);
    assert_eq!(q("tax_id:[500 TO 600]"), ["SAMSB5"]);
    assert_eq!(q(r#""sink drain""#), ["SAMSB5"]);
    // A phrase needs its words in order.
    assert!(q(r#""drain sink""#).is_empty());
    assert_eq!(q("hosp*"), ["SAMSB5"]);
    assert_eq!(q("liver AND NOT organism:\"Homo sapiens\""), ["SAMSB4"]);
    assert_eq!(q("liver -biopsy"), ["PRJSB1", "SAMSB4", "SRRSB1"]);
    assert_eq!(q("brain OR drain"), ["SAMSB3", "SAMSB5"]);
    assert_eq!(q("platform:illumina library_strategy:RNA-Seq"), ["SRRSB1"]);
    assert_eq!(q("type:project"), ["PRJSB1"]);
    assert_eq!(q("linked:PRJSB1 type:run"), ["SRRSB1"]);
    assert_eq!(q("NOT liver"), ["SAMSB3", "SAMSB5"]);
}

#[test]
fn words_joined_by_punctuation_are_found_whole_and_word_by_word() {
    let index = SearchIndex::in_memory().unwrap();
    let mut writer = index.writer(50 << 20).unwrap();
    let texts = [
        ("SAMJ1", "Wastewater SARS-CoV-2 surveillance"),
        ("SAMJ2", "sars_cov_2 in sewage"),
        ("SAMJ3", "SARS CoV 2 written apart"),
        ("SAMJ4", "Cluster/outbreak investigation of Salmonella"),
        ("SAMJ5", "Outbreak investigation, cluster unknown"),
        ("SAMJ6", "Crohn's disease, RNAseq"),
    ];
    for (key, title) in texts {
        let mut r = record(key, "sample", title, "Homo sapiens", 9606);
        if key == "SAMJ1" {
            r.attributes = vec![("host".into(), "SARS-CoV-2 infected patient".into())];
        }
        writer.upsert(&r).unwrap();
    }
    writer.commit(None).unwrap();
    index.reload().unwrap();
    let q = |s: &str| sorted(accessions(&index, &ask(s), Viewer::Anonymous));
    // Joined, the words are one word: any punctuation, any case; not when written apart.
    assert_eq!(q("SARS-CoV-2"), ["SAMJ1", "SAMJ2"]);
    assert_eq!(q("sars/cov/2 wastewater"), ["SAMJ1"]);
    // As a phrase of separate words they match wherever the words stand side by side.
    assert_eq!(q(r#""SARS CoV 2""#), ["SAMJ1", "SAMJ2", "SAMJ3"]);
    assert_eq!(q(r#""wastewater SARS-CoV-2 surveillance""#), ["SAMJ1"]);
    assert!(q(r#""wastewater SARS-CoV-2 sewage""#).is_empty());
    // A joined word inside a phrase keeps the phrase's order and spacing.
    assert_eq!(q(r#""cluster/outbreak investigation""#), ["SAMJ4"]);
    assert_eq!(q(r#""outbreak investigation""#), ["SAMJ4", "SAMJ5"]);
    assert!(q(r#""investigation cluster/outbreak""#).is_empty());
    // Punctuation-joined and unbroken spellings meet.
    assert_eq!(q("RNA-seq"), ["SAMJ6"]);
    assert_eq!(q(r#""Crohn's disease""#), ["SAMJ6"]);
    assert_eq!(q("crohn"), ["SAMJ6"]);
    // Attributes too.
    assert_eq!(q("host:SARS-CoV-2"), ["SAMJ1"]);
    assert_eq!(q(r#"host:"SARS-CoV-2 infected""#), ["SAMJ1"]);
    assert!(q(r#"host:"infected SARS-CoV-2""#).is_empty());
}

#[test]
fn titles_rank_above_descriptions() {
    let index = index();
    let mut r = record("SAMSB6", "sample", "Sink", "Escherichia coli", 562);
    r.description = Some("drain water".into());
    let mut writer = index.writer(50 << 20).unwrap();
    writer.upsert(&r).unwrap();
    writer.commit(None).unwrap();
    index.reload().unwrap();
    // "drain" is in SAMSB5's title and only in SAMSB6's description.
    assert_eq!(
        accessions(&index, &ask("drain"), Viewer::Anonymous),
        ["SAMSB5", "SAMSB6"]
    );
}

#[test]
fn facets_count_every_hit_the_viewer_may_see() {
    let index = index();
    let request = Request {
        query: "liver".into(),
        facets: vec!["organism".into(), "type".into(), "year".into()],
        ..Request::default()
    };
    let response = index.search(&request, Viewer::Anonymous).unwrap();
    assert_eq!(response.total, 5);
    let facet = |name: &str| -> Vec<(String, u64)> {
        response
            .facets
            .iter()
            .find(|f| f.field == name)
            .unwrap()
            .values
            .iter()
            .map(|v| (v.value.clone(), v.count))
            .collect()
    };
    assert_eq!(
        facet("organism"),
        [("Homo sapiens".into(), 4), ("Mus musculus".into(), 1)]
    );
    assert_eq!(
        facet("type"),
        [
            ("sample".into(), 3),
            ("project".into(), 1),
            ("run".into(), 1)
        ]
    );
    assert_eq!(facet("year"), [("2021".into(), 4), ("2019".into(), 1)]);
}

#[test]
fn private_records_are_invisible_in_hits_counts_and_facets() {
    let index = index();
    let request = Request {
        query: "private donor".into(),
        facets: vec!["access".into()],
        ..Request::default()
    };
    for viewer in [Viewer::Anonymous, Viewer::User(8)] {
        let response = index.search(&request, viewer).unwrap();
        assert_eq!(response.total, 0, "{viewer:?}");
        assert!(response.hits.is_empty());
        assert!(response.facets[0].values.is_empty());
        // Not even by accession.
        assert!(accessions(&index, &ask("SAMSB9"), viewer).is_empty());
    }
    let everything = Request {
        facets: vec!["access".into()],
        limit: 0,
        ..Request::default()
    };
    let anonymous = index.search(&everything, Viewer::Anonymous).unwrap();
    assert_eq!(anonymous.total, 7);
    assert_eq!(anonymous.facets[0].values.len(), 1);
    for viewer in [Viewer::User(7), Viewer::Curator] {
        assert_eq!(
            accessions(&index, &ask("private donor"), viewer),
            ["SAMSB9"]
        );
        let all = index.search(&everything, viewer).unwrap();
        assert_eq!(all.total, 8);
        let private = all.facets[0].values.iter().find(|v| v.value == "private");
        assert_eq!(private.map(|v| v.count), Some(1));
    }
}

#[test]
fn cursor_pages_cover_every_hit_once_in_order() {
    let index = index();
    for sort in [
        Sort::Relevance,
        Sort::parse("released:desc").unwrap(),
        Sort::parse("released:asc").unwrap(),
    ] {
        let full = Request {
            query: "*".into(),
            limit: 100,
            sort: sort.clone(),
            ..Request::default()
        };
        let all = accessions(&index, &full, Viewer::Anonymous);
        assert_eq!(all.len(), 7);
        let mut paged = Vec::new();
        let mut cursor = None;
        loop {
            let request = Request {
                query: "*".into(),
                limit: 3,
                cursor: cursor.clone(),
                sort: sort.clone(),
                ..Request::default()
            };
            let page = index.search(&request, Viewer::Anonymous).unwrap();
            assert_eq!(page.total, 7);
            paged.extend(
                page.hits
                    .iter()
                    .map(|h| h.get("accession").unwrap().as_str().unwrap().to_owned()),
            );
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(paged, all, "{sort:?}");
    }
    let newest = Request {
        sort: Sort::parse("released").unwrap(),
        ..ask("type:sample")
    };
    assert_eq!(accessions(&index, &newest, Viewer::Anonymous)[0], "SAMSB3");
}

#[test]
fn replacing_and_deleting_records() {
    let index = index();
    let mut writer = index.writer(50 << 20).unwrap();
    let mut changed = record("SAMSB4", "sample", "Mouse kidney", "Mus musculus", 10090);
    changed.released = Some("2019-11-30".into());
    writer.upsert(&changed).unwrap();
    writer.delete("SAMSB5");
    writer.commit(Some(43)).unwrap();
    index.reload().unwrap();
    assert_eq!(
        accessions(&index, &ask("kidney"), Viewer::Anonymous),
        ["SAMSB4"]
    );
    assert!(!accessions(&index, &ask("liver"), Viewer::Anonymous).contains(&"SAMSB4".to_owned()));
    assert!(accessions(&index, &ask("drain"), Viewer::Anonymous).is_empty());
    assert_eq!(index.watermark().unwrap(), Some(43));
}

#[test]
fn mirrored_records_are_replaced_by_accession_and_never_replace_local_ones() {
    let index = index();
    let mirrored = |title: &str, status: &str| Record {
        key: "mirror:SAMN00000042".into(),
        source: "NCBI".into(),
        status: status.into(),
        ..record("SAMN00000042", "sample", title, "Danio rerio", 7955)
    };
    // This archive's own copy of the same record, as when its submissions come back in a
    // mirrored dump.
    let own = Record {
        key: "seqbank:77".into(),
        ..record(
            "SAMN00000042",
            "sample",
            "Zebrafish fin",
            "Danio rerio",
            7955,
        )
    };
    let mut writer = index.writer(50 << 20).unwrap();
    writer.upsert(&own).unwrap();
    writer
        .upsert(&mirrored("Zebrafish fin regrowth", "live"))
        .unwrap();
    writer.commit(None).unwrap();
    drop(writer);
    // Replaced in a later commit, so the first copy sits in an older segment.
    let mut writer = index.writer(50 << 20).unwrap();
    writer
        .upsert(&mirrored("Zebrafish heart", "suppressed"))
        .unwrap();
    writer.commit(None).unwrap();
    drop(writer);
    index.reload().unwrap();
    let sources = |query: &str| -> Vec<(String, String)> {
        let request = Request {
            fields: vec!["source".into(), "status".into()],
            ..ask(query)
        };
        let response = index.search(&request, Viewer::Curator).unwrap();
        let text = |h: &seqbank_search::Hit, name: &str| h.get(name).unwrap().to_string();
        let mut found: Vec<(String, String)> = response
            .hits
            .iter()
            .map(|h| (text(h, "source"), text(h, "status")))
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        sources("SAMN00000042"),
        [
            ("\"NCBI\"".to_owned(), "\"suppressed\"".to_owned()),
            ("\"seqbank\"".to_owned(), "\"public\"".to_owned())
        ]
    );
    assert_eq!(sources("regrowth"), []);
    assert_eq!(
        sources("heart"),
        [("\"NCBI\"".to_owned(), "\"suppressed\"".to_owned())]
    );
    // Removing by key reaches this archive's records only.
    let mut writer = index.writer(50 << 20).unwrap();
    writer.delete("seqbank:77");
    writer.delete("mirror:SAMN00000042");
    writer.commit(None).unwrap();
    index.reload().unwrap();
    assert_eq!(
        sources("SAMN00000042"),
        [("\"NCBI\"".to_owned(), "\"suppressed\"".to_owned())]
    );
}

#[test]
fn field_selection_and_result_types() {
    let index = index();
    let request = Request {
        result: Some("read_run".into()),
        fields: vec!["accession".into(), "platform".into(), "linked".into()],
        ..ask("liver")
    };
    let response = index.search(&request, Viewer::Anonymous).unwrap();
    assert_eq!(response.hits.len(), 1);
    let hit = &response.hits[0];
    let names: Vec<&str> = hit.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["accession", "platform", "linked"]);
    assert_eq!(hit.get("platform").unwrap(), "ILLUMINA");
    assert_eq!(hit.get("linked").unwrap()[1], "SAMSB1");
    let all = Request {
        fields: vec!["all".into()],
        ..ask("SAMSB1")
    };
    let first = &index.search(&all, Viewer::Anonymous).unwrap().hits[0];
    assert_eq!(
        first.get("attributes").unwrap()["disease"],
        "hepatocellular carcinoma"
    );
    assert!(first.get("score").unwrap().as_f64().unwrap() > 100.0);
}

fn bad(request: &Request) -> String {
    match index().search(request, Viewer::Anonymous) {
        Err(Error::BadQuery { message, .. }) => message,
        other => panic!("{request:?} gave {other:?}"),
    }
}

#[test]
fn bad_requests_say_what_is_wrong() {
    assert!(bad(&ask("colour:blue")).contains("unknown field \"colour\""));
    assert!(bad(&ask("\"liver")).contains("unbalanced quote"));
    assert!(bad(&ask("title:[a TO b]")).contains("takes no range"));
    assert!(bad(&ask("released:yesterday")).contains("YYYY-MM-DD"));
    assert!(bad(&ask("tax_tree(9606)")).contains("Taxonomy"));
    assert!(bad(&ask("!!!")).contains("no letters or digits"));
    assert!(
        bad(&Request {
            limit: 100_000,
            ..ask("liver")
        })
        .contains("too large")
    );
    assert!(
        bad(&Request {
            cursor: Some("garbage".into()),
            ..ask("liver")
        })
        .contains("malformed cursor")
    );
    assert!(
        bad(&Request {
            facets: vec!["title".into()],
            ..ask("liver")
        })
        .contains("cannot count facet")
    );
    assert!(
        bad(&Request {
            fields: vec!["colour".into()],
            ..ask("liver")
        })
        .contains("unknown return field")
    );
    assert!(
        bad(&Request {
            result: Some("genome".into()),
            ..ask("liver")
        })
        .contains("unknown result type")
    );
    let sorted_cursor = {
        let index = index();
        let page = index
            .search(
                &Request {
                    limit: 1,
                    sort: Sort::parse("released").unwrap(),
                    ..ask("liver")
                },
                Viewer::Anonymous,
            )
            .unwrap();
        page.next_cursor.unwrap()
    };
    assert!(
        bad(&Request {
            cursor: Some(sorted_cursor),
            ..ask("liver")
        })
        .contains("another sort order")
    );
    assert!(Sort::parse("title").is_err());
}

#[test]
fn an_index_on_disk_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open(dir.path()).unwrap();
        let mut writer = index.writer(50 << 20).unwrap();
        for r in corpus() {
            writer.add(&r).unwrap();
        }
        writer.commit(Some(7)).unwrap();
    }
    let index = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(index.watermark().unwrap(), Some(7));
    assert_eq!(
        accessions(&index, &ask("cortex"), Viewer::Anonymous),
        ["SAMSB3"]
    );
    let tags = index.attribute_tags(10).unwrap();
    assert_eq!(tags[0], ("tissue".to_owned(), 3));
}

/// Facet counts over several segments whose values need one and two bytes per document, with
/// records that have no value, equal counts made by hand; and again after a reload that adds
/// a segment (each segment's table of values is built once and kept).
#[test]
fn facet_counts_add_up_across_segments_of_many_values() {
    type Counts = std::collections::BTreeMap<String, u64>;
    let index = SearchIndex::in_memory().unwrap();
    let mut expected = Counts::new();
    let mut n = 0;
    // Adds `copies` records of each organism in one commit: one more segment.
    let add = |index: &SearchIndex,
               expected: &mut Counts,
               n: &mut u32,
               organisms: std::ops::Range<u32>,
               copies: u32| {
        let mut writer = index.writer(50 << 20).unwrap();
        for o in organisms {
            for c in 0..copies {
                *n += 1;
                let mut r = record(&format!("SAMSB{n}"), "sample", "gut", "", 1);
                // Every seventh record has no organism.
                r.organism = (c % 7 != 6).then(|| format!("Organism {o:04}"));
                if let Some(name) = &r.organism {
                    *expected.entry(name.clone()).or_default() += 1;
                }
                writer.upsert(&r).unwrap();
            }
        }
        writer.commit(None).unwrap();
        index.reload().unwrap();
    };
    // 200 values fit a byte; the next 200 need two.
    add(&index, &mut expected, &mut n, 0..200, 3);
    add(&index, &mut expected, &mut n, 200..400, 8);
    let ask = |index: &SearchIndex| {
        let request = Request {
            query: "gut".into(),
            facets: vec!["organism".into()],
            facet_limit: 1000,
            ..Request::default()
        };
        let response = index.search(&request, Viewer::Anonymous).unwrap();
        let counted: std::collections::BTreeMap<String, u64> = response.facets[0]
            .values
            .iter()
            .map(|v| (v.value.clone(), v.count))
            .collect();
        (response.total, counted)
    };
    let (total, counted) = ask(&index);
    assert_eq!(total, 200 * 3 + 200 * 8);
    assert_eq!(counted.len(), 400);
    assert_eq!(counted, expected);
    add(&index, &mut expected, &mut n, 100..300, 1);
    let (total, counted) = ask(&index);
    assert_eq!(total, 200 * 3 + 200 * 8 + 200);
    assert_eq!(counted, expected);
}

/// Replaces the records numbered `numbers` with ones titled `title`, leaving deleted copies in
/// their old segments, and waits for merges: they change the scores (deleted copies leave the
/// statistics).
fn replace(index: &SearchIndex, numbers: impl Iterator<Item = u64>, title: &str) {
    let mut writer = index.writer(50 << 20).unwrap();
    for n in numbers {
        let r = record(&format!("SAMSB{n}"), "sample", title, "Homo sapiens", 9606);
        writer.upsert(&r).unwrap();
    }
    writer.commit(None).unwrap();
    writer.finish().unwrap();
    index.reload().unwrap();
}

/// A one-word query scores only the blocks whose best score can make the page. The pages must
/// be exactly those of scoring every hit: the same hits in the same order as one page holding
/// them all, and as the same query run through the general path (a `result` filter, which adds
/// nothing to the scores), over segments whose average lengths differ, with replaced and
/// private records among the hits.
#[test]
fn one_word_pages_equal_scoring_every_hit() {
    let index = SearchIndex::in_memory().unwrap();
    let filler = [
        "liver", "biopsy", "cohort", "stool", "swab", "patient", "time", "point",
    ];
    // Three segments: short titles, long titles, mixed; "gut" once to four times.
    for (segment, base) in [(0u64, 2usize), (1, 12), (2, 5)] {
        let mut writer = index.writer(50 << 20).unwrap();
        for i in 0..450u64 {
            let n = segment * 1000 + i;
            let mut words: Vec<&str> = (0..(base + (n as usize * 7) % 9))
                .map(|k| filler[(n as usize + k) % filler.len()])
                .collect();
            for k in 0..=(n % 4) as usize {
                if n % 3 != 0 {
                    words.insert((k * 5) % (words.len() + 1), "gut");
                }
            }
            let mut r = record(
                &format!("SAMSB{n}"),
                "sample",
                &words.join(" "),
                "Homo sapiens",
                9606,
            );
            if n % 50 == 7 {
                r.access = "private".into();
                r.readers = vec!["user:1".into()];
            }
            writer.upsert(&r).unwrap();
        }
        writer.commit(None).unwrap();
    }
    replace(&index, (1000..1450u64).step_by(11), "gut gut");

    let keys = |response: &seqbank_search::Response| -> Vec<String> {
        response
            .hits
            .iter()
            .map(|h| h.get("accession").unwrap().as_str().unwrap().to_owned())
            .collect()
    };
    // "gut" as `viewer`: `limit` hits after `cursor`, of type `result` if given.
    let gut = |viewer, limit, cursor, result: Option<&str>| {
        let request = Request {
            query: "gut".into(),
            limit,
            cursor,
            result: result.map(Into::into),
            ..Request::default()
        };
        index.search(&request, viewer).unwrap()
    };
    for viewer in [Viewer::Anonymous, Viewer::User(1), Viewer::Curator] {
        let all = gut(viewer, 1000, None, None);
        assert!(all.total > 800 && all.total < 1000, "{}", all.total);
        assert_eq!(all.hits.len() as u64, all.total);
        let every = keys(&all);
        // Pages of 7 through the cursor.
        let mut paged = Vec::new();
        let mut cursor = None;
        loop {
            let page = gut(viewer, 7, cursor, None);
            assert_eq!(page.total, all.total);
            paged.extend(keys(&page));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(paged, every);
        // The first page, and the general path's first page.
        let first = gut(viewer, 20, None, None);
        assert_eq!(keys(&first), every[..20]);
        let general = gut(viewer, 20, None, Some("sample"));
        assert_eq!(keys(&general), every[..20]);
        assert_eq!(general.total, all.total);
    }
}

#[test]
fn phrases_match_and_rank_as_tantivys_phrase_query() {
    let index = SearchIndex::in_memory().unwrap();
    let filler = ["liver", "gut", "flora", "biopsy", "stool", "gut", "patient"];
    // Three segments of titles where "gut flora" stands side by side, apart, reversed, repeated.
    for segment in 0..3u64 {
        let mut writer = index.writer(50 << 20).unwrap();
        for i in 0..400u64 {
            let n = segment * 1000 + i;
            let words: Vec<&str> = (0..(3 + (n as usize * 5) % (4 + 4 * segment as usize)))
                .map(|k| filler[(n as usize * 3 + k * (1 + n as usize % 3)) % filler.len()])
                .collect();
            let mut r = record(
                &format!("SAMSB{n}"),
                "sample",
                &words.join(" "),
                "Homo sapiens",
                9606,
            );
            if n % 4 == 1 {
                r.description = Some(format!("{} gut flora", words[0]));
            }
            if n % 50 == 7 {
                r.access = "private".into();
                r.readers = vec!["user:1".into()];
            }
            writer.upsert(&r).unwrap();
        }
        writer.commit(None).unwrap();
    }
    replace(&index, (1000..1400u64).step_by(9), "gut flora gut flora");

    let ask = |query: &str, viewer, result: Option<&str>| {
        let request = Request {
            query: query.into(),
            limit: 1000,
            result: result.map(Into::into),
            fields: vec!["accession".into(), "score".into()],
            ..Request::default()
        };
        let response = index.search(&request, viewer).unwrap();
        let hits: Vec<(String, f64)> = response
            .hits
            .iter()
            .map(|h| {
                (
                    h.get("accession").unwrap().as_str().unwrap().to_owned(),
                    h.get("score").unwrap().as_f64().unwrap(),
                )
            })
            .collect();
        (response.total, hits)
    };
    for phrase in [
        r#""gut flora""#,
        r#""flora gut""#,
        r#""gut flora biopsy""#,
        r#""liver gut""#,
    ] {
        for viewer in [Viewer::Anonymous, Viewer::User(1), Viewer::Curator] {
            // A phrase alone is matched by seqbank's own phrase matcher; with a type filter
            // it is tantivy's phrase query inside a boolean one.
            let (total, own) = ask(phrase, viewer, None);
            let (general_total, general) = ask(phrase, viewer, Some("sample"));
            assert!(total > 0, "{phrase}");
            assert_eq!(total, general_total, "{phrase}");
            assert_eq!(own.len() as u64, total);
            assert_eq!(own, general, "{phrase}");
        }
    }
}

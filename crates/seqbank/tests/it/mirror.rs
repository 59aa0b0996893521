//! `seqbank mirror import` as an operator runs it: killed with SIGKILL and restarted it ends where
//! an uninterrupted import ends; malformed input is reported by file, record, line and reason.
#![allow(clippy::unwrap_used)]

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Output,
    time::Duration,
};

use serde_json::Value;

use crate::archive::seqbank;

/// A BioSample dump of `n` records, deterministic.
fn biosamples(n: usize, broken: Option<usize>) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BioSampleSet>\n");
    for i in 1..=n {
        let title = if broken == Some(i) {
            // An element that is never closed.
            format!("<Title>Sample {i}")
        } else {
            format!("<Title>Sample {i} from soil plot {}</Title>", i % 97)
        };
        xml.push_str(&format!(
            "<BioSample access=\"public\" publication_date=\"2020-01-01T00:00:00.000\" last_update=\"2021-0{}-01T00:00:00.000\" id=\"{i}\" accession=\"SAMN{i:08}\">\n  <Ids>\n    <Id db=\"BioSample\" is_primary=\"1\">SAMN{i:08}</Id>\n  </Ids>\n  <Description>\n    {title}\n    <Organism taxonomy_id=\"{}\" taxonomy_name=\"soil metagenome\"/>\n  </Description>\n  <Package>MIMS.me.soil.6.0</Package>\n  <Attributes>\n    <Attribute attribute_name=\"collection date\" harmonized_name=\"collection_date\">20{:02}-05</Attribute>\n    <Attribute attribute_name=\"depth\" harmonized_name=\"depth\">{} cm</Attribute>\n  </Attributes>\n  <Status status=\"live\" when=\"2021-01-01T00:00:00\"/>\n</BioSample>\n",
            1 + i % 9,
            410658 + i % 3,
            i % 24,
            i % 50,
        ));
    }
    xml.push_str("</BioSampleSet>\n");
    xml
}

fn mirror(data: &Path, args: &[&str]) -> Output {
    seqbank()
        .arg("mirror")
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap()
}

fn status(data: &Path) -> Value {
    let out = mirror(data, &["status", "--digest"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn an_import_killed_with_sigkill_and_restarted_ends_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("biosample_set.xml");
    std::fs::write(&dump, biosamples(60_000, None)).unwrap();
    let dump_arg = dump.to_str().unwrap();

    let clean = dir.path().join("clean");
    let out = mirror(
        &clean,
        &["import", "biosample", dump_arg, "--dump-date", "2026-11-20"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let expected = status(&clean);
    assert_eq!(expected["digest"]["records"], 60_000, "{expected}");

    let killed = dir.path().join("killed");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let mut kills = 0;
    for round in 0..3u64 {
        let mut child = seqbank()
            .args([
                "mirror",
                "import",
                "biosample",
                dump_arg,
                "--dump-date",
                "2026-11-20",
                "--data",
            ])
            .arg(&killed)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let wait = 300 + (seed.wrapping_mul(round + 7) % 1500);
        std::thread::sleep(Duration::from_millis(wait));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
    }
    let out = mirror(
        &killed,
        &["import", "biosample", dump_arg, "--dump-date", "2026-11-20"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let after = status(&killed);
    assert_eq!(
        after["digest"], expected["digest"],
        "after {kills} kills: {after}"
    );
    assert_eq!(after["records"], expected["records"]);
    // Never counted twice: across every import (resumed ones are one import), each record was
    // new exactly once.
    let imported: i64 = after["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["imported"].as_i64().unwrap())
        .sum();
    assert_eq!(imported, 60_000, "{after}");

    // The index finds them, after a restart too.
    let out = seqbank()
        .args(["search", "--json", "--data"])
        .arg(&killed)
        .args(["--limit", "1", "depth:\"7 cm\""])
        .output()
        .unwrap();
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(answer["total"], 1200, "{}", text(&out));
}

#[test]
fn malformed_input_is_reported_precisely_and_nothing_is_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // An unclosed element in record 5: that record is skipped and named, the rest imported.
    let broken = dir.path().join("broken.xml");
    std::fs::write(&broken, biosamples(8, Some(5))).unwrap();
    let out = mirror(&data, &["import", "biosample", broken.to_str().unwrap()]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("7 new") && said.contains("1 skipped"),
        "{said}"
    );
    assert!(said.contains("record 5 (line 63, byte "), "{said}");
    assert!(
        said.contains("SAMN00000005") && said.contains("expected `</Title>`"),
        "{said}"
    );
    let now = status(&data);
    assert_eq!(now["records"]["sample"], 7, "{now}");

    // A truncated gzip file: whole records before the cut are kept, the import says where and
    // why it stopped, and exits 1.
    let full = biosamples(400, None);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(full.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let truncated = dir.path().join("truncated.xml.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let out = mirror(&data, &["import", "biosample", truncated.to_str().unwrap()]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("truncated.xml.gz: the file ends early"),
        "{said}"
    );
    let now = status(&data);
    let last = &now["imports"][0];
    assert_eq!(last["state"], "failed", "{now}");
    let kept = now["records"]["sample"].as_i64().unwrap() - 7;
    assert!((0..400).contains(&kept), "{now}");

    // Garbage and the wrong dump: refused before anything is written.
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(
        &garbage,
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let out = mirror(&data, &["import", "biosample", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("garbage.bin: this is not XML"),
        "{}",
        text(&out)
    );
    let wrong = dir.path().join("bioproject.xml");
    std::fs::write(
        &wrong,
        "<?xml version=\"1.0\"?>\n<PackageSet>\n<Package><Project/></Package>\n</PackageSet>\n",
    )
    .unwrap();
    let out = mirror(&data, &["import", "biosample", wrong.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out)
            .contains("expected a <BioSampleSet> document, found <PackageSet> (a BioProject dump)"),
        "{}",
        text(&out)
    );
    let out = mirror(&data, &["import", "assembly", wrong.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("not a tab-separated text file"),
        "{}",
        text(&out)
    );
    // A dump dated after today: its records' publication dates could not be judged.
    let out = mirror(
        &data,
        &[
            "import",
            "biosample",
            broken.to_str().unwrap(),
            "--dump-date",
            "2999-01-01",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("the dump is dated 2999-01-01, after today"),
        "{}",
        text(&out)
    );
    let after = status(&data);
    assert_eq!(
        after["imports"].as_array().unwrap().len(),
        now["imports"].as_array().unwrap().len()
    );
    assert_eq!(after["digest"], now["digest"]);
}

/// The assembly summaries in both layouts import and are found.
#[test]
fn assembly_summaries_in_both_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let old: PathBuf = dir.path().join("assembly_summary_genbank_old.txt");
    std::fs::write(&old, "# See ftp://ftp.ncbi.nlm.nih.gov/genomes/README_assembly_summary.txt for a description of the columns in this file.\n# assembly_accession\tbioproject\tbiosample\twgs_master\trefseq_category\ttaxid\tspecies_taxid\torganism_name\tinfraspecific_name\tisolate\tversion_status\tassembly_level\trelease_type\tgenome_rep\tseq_rel_date\tasm_name\tsubmitter\tgbrs_paired_asm\tpaired_asm_comp\tftp_path\n\
GCA_000001215.4\tPRJNA13812\tSAMN02803731\t\treference genome\t7227\t7227\tDrosophila melanogaster\t\t\tlatest\tChromosome\tMajor\tFull\t2014/08/01\tRelease 6 plus ISO1 MT\tThe FlyBase Consortium/Berkeley Drosophila Genome Project/Celera Genomics\tGCF_000001215.4\tidentical\tftp://ftp.ncbi.nlm.nih.gov/genomes/all/GCA/000/001/215/GCA_000001215.4_Release_6_plus_ISO1_MT\n").unwrap();
    let new = dir.path().join("assembly_summary_refseq.txt");
    let mut row: Vec<String> = vec!["na".into(); 38];
    row[0] = "GCF_000005845.2".into();
    row[5] = "511145".into();
    row[7] = "Escherichia coli str. K-12 substr. MG1655".into();
    row[10] = "latest".into();
    row[11] = "Complete Genome".into();
    row[14] = "2013/09/26".into();
    row[15] = "ASM584v2".into();
    std::fs::write(
        &new,
        format!(
            "#   See ftp://ftp.ncbi.nlm.nih.gov/genomes/README_assembly_summary.txt\n{}\n",
            row.join("\t")
        ),
    )
    .unwrap();
    for file in [&old, &new] {
        let out = mirror(&data, &["import", "assembly", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("1 new"), "{}", text(&out));
    }
    let out = seqbank()
        .args(["search", "--json", "--data"])
        .arg(&data)
        .args([
            "--fields",
            "accession,organism,tax_id",
            "assembly_level:\"Complete Genome\" OR melanogaster",
        ])
        .output()
        .unwrap();
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["total"], 2, "{answer}");
}

/// Serves `body` to every request on a local port; returns the base URL and the request lines.
fn serve_once_per_request(body: String) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            log.lock().unwrap().push(line.trim().to_owned());
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap() <= 2 {
                    break;
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, seen)
}

#[test]
fn the_daily_update_runs_as_a_job_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (base, seen) = serve_once_per_request(biosamples(3, None));
    let config = dir.path().join("seqbank.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[mirror]\nat = \"03:00\"\n[[mirror.sources]]\nsource = \"biosample\"\npath = \"{base}/biosample_{{date}}.xml\"\n",
            data.display()
        ),
    )
    .unwrap();
    let run = |config: &Path| {
        seqbank()
            .args(["mirror", "schedule", "--once", "--config"])
            .arg(config)
            .output()
            .unwrap()
    };
    let out = run(&config);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 records, 3 new"), "{}", text(&out));
    // The URL was fetched with today's date filled in, and the download is gone once imported.
    let requested = seen.lock().unwrap().clone();
    assert_eq!(requested.len(), 1, "{requested:?}");
    let name = requested[0].split(' ').nth(1).unwrap();
    let date = name
        .strip_prefix("/biosample_")
        .and_then(|n| n.strip_suffix(".xml"))
        .unwrap();
    assert!(
        date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()),
        "{requested:?}"
    );
    let left: Vec<_> = std::fs::read_dir(data.join("mirror-downloads/daily"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    let out = seqbank()
        .args(["mirror", "status", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let now: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(now["records"]["sample"], 3, "{now}");
    assert_eq!(now["schedule"]["at"], "03:00", "{now}");
    let runs = &now["schedule"]["runs"];
    assert_eq!(runs[0]["kind"], "mirror_update", "{now}");
    assert_eq!(runs[0]["state"], "done", "{now}");

    // A dump that is not there: exit 1, the file named, the job left queued for a retry.
    let missing = dir.path().join("missing.toml");
    std::fs::write(
        &missing,
        format!(
            "data_dir = \"{}\"\n[mirror]\nat = \"03:00\"\n[[mirror.sources]]\nsource = \"sra-accessions\"\npath = \"{}/SRA_Accessions_{{date}}.tab\"\n",
            data.display(),
            dir.path().display()
        ),
    )
    .unwrap();
    let out = run(&missing);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("SRA_Accessions_") && text(&out).contains("queued again"),
        "{}",
        text(&out)
    );
    // A time of day that is not one is refused before anything runs.
    std::fs::write(
        &missing,
        format!(
            "data_dir = \"{}\"\n[mirror]\nat = \"25:00\"\n[[mirror.sources]]\nsource = \"biosample\"\npath = \"x\"\n",
            data.display()
        ),
    )
    .unwrap();
    let out = run(&missing);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("\"25:00\" is not a time of day"),
        "{}",
        text(&out)
    );
}

//! The archive end to end: `seqbank user add`, `seqbank serve` on a real socket, `curl` as the
//! client, and a server killed in the middle of a large batch.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{Value, json};

pub(crate) fn seqbank() -> Command {
    Command::new(env!("CARGO_BIN_EXE_seqbank"))
}

fn have_curl() -> bool {
    let found = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipping: curl is not installed");
    }
    found
}

fn add_user(data: &Path, name: &str, role: &str) -> String {
    let out = seqbank()
        .args(["user", "add", name, "--role", role, "--data"])
        .arg(data)
        .output()
        .expect("seqbank runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn start(data: &Path) -> Self {
        let mut child = seqbank()
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("seqbank serve starts");
        let stderr = child.stderr.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stderr)
            .read_line(&mut line)
            .expect("serve says where it listens");
        let start = line.find("http://").expect("an address in the first line");
        let end = line[start..].find("/api/v1/").expect("the API path") + start;
        Self {
            child,
            base: line[start..end].to_owned(),
        }
    }

    fn kill(mut self) {
        // SIGKILL: no chance to clean up, like a crash or a power cut.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(method: &str, url: &str, token: Option<&str>, body: Option<&Path>) -> (u16, Value) {
    let mut command = Command::new("curl");
    command.args(["-s", "-X", method, "-w", "\n%{http_code}", url]);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    if let Some(body) = body {
        command
            .arg("--data-binary")
            .arg(format!("@{}", body.display()));
    }
    let out = command.output().expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (json, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (
        code.trim().parse().unwrap_or(0),
        serde_json::from_str(json).unwrap_or(Value::Null),
    )
}

/// A small gzipped FASTQ file and its MD5.
fn reads(dir: &Path) -> (std::path::PathBuf, String) {
    use std::fmt::Write;
    let mut text = String::new();
    for i in 0..5000 {
        let seq: String = (0..100)
            .map(|j| b"ACGT"[(i * 7 + j * 3) % 4] as char)
            .collect();
        writeln!(text, "@read{i}\n{seq}\n+\n{}", "I".repeat(100)).expect("writes to memory");
    }
    let path = dir.join("s.fastq.gz");
    let md5 = write_gz(&path, &text);
    (path, md5)
}

/// Writes text gzipped to a file and returns the MD5 of the file's bytes.
pub(crate) fn write_gz(path: &Path, text: &str) -> String {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).expect("writes to memory");
    let bytes = gz.finish().expect("in memory");
    std::fs::write(path, &bytes).expect("writes the file");
    use md5::Digest;
    md5::Md5::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn batch_with_md5(md5: &str) -> Value {
    let mut batch = batch();
    batch["runs"][0]["files"][0]["md5"] = json!(md5);
    batch
}

fn batch() -> Value {
    json!({
        "projects": [{"alias": "p", "title": "Soil nitrogen cyclers", "description": "Metagenomes of paddy soil."}],
        "samples": [{"alias": "s", "title": "Paddy soil 1", "project": "p", "checklist": "generic",
            "organism": {"taxon_id": 410658, "scientific_name": "soil metagenome"},
            "attributes": {"collection_date": "2024-07", "geo_loc_name": "Viet Nam: Mekong Delta"}}],
        "experiments": [{"alias": "e", "title": "WGS", "sample": "s", "platform": "ILLUMINA", "instrument_model": "Illumina NovaSeq X",
            "library": {"strategy": "WGS", "source": "METAGENOMIC", "selection": "RANDOM", "layout": "SINGLE"}}],
        "runs": [{"alias": "r", "experiment": "e", "files": [{"name": "s.fastq.gz", "type": "fastq", "md5": "00112233445566778899aabbccddeeff"}]}]
    })
}

#[test]
fn curl_takes_a_submission_from_draft_to_public() {
    if !have_curl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let alice = add_user(&data, "alice", "submitter");
    let carol = add_user(&data, "carol", "curator");
    let server = Server::start(&data);
    let api = format!("{}/api/v1", server.base);
    let body = dir.path().join("body.json");

    std::fs::write(&body, r#"{"alias": "first", "title": "First submission"}"#).unwrap();
    let (status, submission) = curl(
        "POST",
        &format!("{api}/submissions"),
        Some(&alice),
        Some(&body),
    );
    assert_eq!(status, 201, "{submission}");
    let id = submission["id"].as_i64().unwrap();
    let (reads, md5) = reads(dir.path());
    std::fs::write(&body, batch_with_md5(&md5).to_string()).unwrap();
    let (status, added) = curl(
        "POST",
        &format!("{api}/submissions/{id}/objects"),
        Some(&alice),
        Some(&body),
    );
    assert_eq!(status, 201, "{added}");
    // The run's file, with the command-line tus client; it waits for the server's validation.
    let out = seqbank()
        .args(["upload", "--run", "r"])
        .arg(&reads)
        .arg("--state")
        .arg(dir.path().join("upload-state"))
        .env("SEQBANK_SERVER", &server.base)
        .env("SEQBANK_TOKEN", &alice)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("s.fastq.gz: valid"), "{stdout}");
    assert!(stdout.contains(&format!("md5 {md5}")), "{stdout}");
    assert!(stdout.contains("5000 reads"), "{stdout}");
    let (_, submitted) = curl(
        "POST",
        &format!("{api}/submissions/{id}/submit"),
        Some(&alice),
        None,
    );
    assert_eq!(submitted["status"], "in_review", "{submitted}");
    let (status, _) = curl(
        "POST",
        &format!("{api}/submissions/{id}/approve"),
        Some(&alice),
        None,
    );
    assert_eq!(status, 403, "a submitter cannot approve");
    let (_, approved) = curl(
        "POST",
        &format!("{api}/submissions/{id}/approve"),
        Some(&carol),
        None,
    );
    assert_eq!(approved["status"], "approved", "{approved}");
    // No hold date: public on approval, visible to anyone.
    let (status, run) = curl("GET", &format!("{api}/runs/SBR000001"), None, None);
    assert_eq!((status, &run["status"]), (200, &json!("public")), "{run}");
    let (status, error) = curl("GET", &format!("{api}/runs/SBR000002"), None, None);
    assert_eq!(
        (status, &error["error"]["code"]),
        (404, &json!("not_found"))
    );

    // The file, once the archive job moved it into the tree: whole, a range, and a resumed
    // download all match the original byte for byte.
    let original = std::fs::read(&reads).unwrap();
    let url = format!("{}/files/runs/SBR000/SBR000001/s.fastq.gz", server.base);
    let fetch = |extra: &[&str], out: &Path| {
        let status = Command::new("curl")
            .args(["-s", "-f", "-o"])
            .arg(out)
            .args(extra)
            .arg(&url)
            .status()
            .unwrap();
        status.success()
    };
    let whole = dir.path().join("whole");
    let mut fetched = false;
    for _ in 0..100 {
        if fetch(&[], &whole) {
            fetched = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(fetched, "the file never appeared under /files");
    assert_eq!(std::fs::read(&whole).unwrap(), original);
    let part = dir.path().join("part");
    assert!(fetch(&["-r", "1000-1999"], &part));
    assert_eq!(std::fs::read(&part).unwrap(), &original[1000..2000]);
    let resumed = dir.path().join("resumed");
    std::fs::write(&resumed, &original[..original.len() / 3]).unwrap();
    assert!(fetch(&["-C", "-"], &resumed));
    assert_eq!(std::fs::read(&resumed).unwrap(), original);
    let manifest = dir.path().join("md5sum.txt");
    let project = format!("{}/files/projects/PRJSB000001/md5sum.txt", server.base);
    assert!(
        Command::new("curl")
            .args(["-s", "-f", "-o"])
            .arg(&manifest)
            .arg(&project)
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        std::fs::read_to_string(&manifest).unwrap(),
        format!("{md5}  SBR000001/s.fastq.gz\n")
    );

    // Search: the server's index follows the change within about a second; anonymous callers
    // see the public run and not the draft one.
    let search = |args: &[&str]| {
        let out = seqbank().arg("search").args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let mut found = String::new();
    for _ in 0..100 {
        let (code, stdout, stderr) = search(&[
            "--server",
            &server.base,
            "--tsv",
            "--fields",
            "accession,type,status",
            "--result",
            "run",
            "*",
        ]);
        assert_eq!(code, Some(0), "{stderr}");
        if stdout.contains("SBR000001") {
            found = stdout;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(found, "accession\ttype\tstatus\nSBR000001\trun\tpublic\n");
    server.kill();

    // Rebuilt from the metastore; the operator's local search sees every record.
    let out = seqbank()
        .arg("reindex")
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("indexed "),
        "{stdout}"
    );
    let data_arg = data.display().to_string();
    let (code, stdout, _) = search(&[
        "--data",
        &data_arg,
        "--tsv",
        "--fields",
        "accession,status",
        "--sort",
        "submitted:asc",
        "type:run",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "accession\tstatus\nSBR000001\tpublic\n");
    let (code, _, stderr) = search(&["--data", &data_arg, "colour:blue"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown field \"colour\""), "{stderr}");

    // fsck: all is well; then an orphan in staging and a corrupted archived file are found,
    // and --repair removes the orphan only.
    let fsck = |extra: &[&str]| {
        let out = seqbank()
            .arg("fsck")
            .args(extra)
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, stdout) = fsck(&["--deep"]);
    assert_eq!(code, Some(0), "{stdout}");
    let objects = data.join("objects");
    std::fs::write(objects.join("staging/uploads/leftover"), b"partial").unwrap();
    let archived = objects.join("runs/SBR000/SBR000001/s.fastq.gz");
    let mut bytes = std::fs::read(&archived).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&archived, &bytes).unwrap();
    let (code, stdout) = fsck(&[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("orphan\tstaging/uploads/leftover"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("checksum"),
        "without --deep sizes only: {stdout}"
    );
    let (code, stdout) = fsck(&["--deep", "--repair"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("checksum\truns/SBR000/SBR000001/s.fastq.gz"),
        "{stdout}"
    );
    assert!(
        stdout.contains("removed\tstaging/uploads/leftover"),
        "{stdout}"
    );
    assert!(!objects.join("staging/uploads/leftover").exists());
    assert!(archived.exists(), "the archive tree is never repaired away");
}

#[test]
fn a_server_killed_mid_batch_keeps_all_or_none() {
    if !have_curl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let alice = add_user(&data, "alice", "submitter");
    let n = 20_000;
    let mut tsv = String::from(
        "#seqbank:samples\nalias\ttitle\ttaxon_id\tscientific_name\tchecklist\tcollection_date\tgeo_loc_name\n",
    );
    for i in 0..n {
        tsv.push_str(&format!(
            "s{i}\tIsolate {i}\t562\tEscherichia coli\tgeneric\t2023-0{}\tFrance: Lyon\n",
            i % 9 + 1
        ));
    }
    let sheet = dir.path().join("samples.tsv");
    std::fs::write(&sheet, tsv).unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, "{}").unwrap();

    let mut outcomes = Vec::new();
    for (round, delay_ms) in [150u64, 600, 1500, 3000].iter().enumerate() {
        let server = Server::start(&data);
        let api = format!("{}/api/v1", server.base);
        let (status, submission) = curl(
            "POST",
            &format!("{api}/submissions"),
            Some(&alice),
            Some(&body),
        );
        assert_eq!(status, 201, "{submission}");
        let id = submission["id"].as_i64().unwrap();
        let upload = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-X",
                "POST",
                "-H",
                &format!("Authorization: Bearer {alice}"),
            ])
            .arg("--data-binary")
            .arg(format!("@{}", sheet.display()))
            .arg(format!("{api}/submissions/{id}/spreadsheet"))
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*delay_ms));
        server.kill();
        let _ = upload.wait_with_output();

        let server = Server::start(&data);
        let api = format!("{}/api/v1", server.base);
        let mut count = 0;
        let mut after = 0;
        loop {
            let (status, page) = curl(
                "GET",
                &format!("{api}/samples?submission={id}&limit=1000&after={after}"),
                Some(&alice),
                None,
            );
            assert_eq!(status, 200, "round {round}: {page}");
            let items = page["items"].as_array().unwrap();
            count += items.len();
            match page["next_after"].as_i64() {
                Some(next) => after = next,
                None => break,
            }
        }
        assert!(
            count == 0 || count == n,
            "round {round}: {count} of {n} samples survived a crash"
        );
        outcomes.push(count);
        server.kill();
    }
    eprintln!("samples stored after each kill: {outcomes:?}");

    // Uninterrupted, the same sheet is stored whole (by another submitter: aliases are per owner).
    let bob = add_user(&data, "bob", "submitter");
    let server = Server::start(&data);
    let api = format!("{}/api/v1", server.base);
    let (_, submission) = curl(
        "POST",
        &format!("{api}/submissions"),
        Some(&bob),
        Some(&body),
    );
    let id = submission["id"].as_i64().unwrap();
    let (status, added) = curl(
        "POST",
        &format!("{api}/submissions/{id}/spreadsheet"),
        Some(&bob),
        Some(&sheet),
    );
    assert_eq!(status, 201, "{added}");
    let (_, view) = curl("GET", &format!("{api}/submissions/{id}"), Some(&bob), None);
    assert_eq!(view["objects"]["samples"], n, "{view}");
    server.kill();
}

#[test]
fn seqbank_submit_sends_files_and_reports_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let alice = add_user(&data, "alice", "submitter");
    let server = Server::start(&data);
    let good = dir.path().join("batch.json");
    // Without the run: its file would have to be uploaded before review.
    let mut metadata = batch();
    metadata.as_object_mut().unwrap().remove("runs");
    std::fs::write(&good, metadata.to_string()).unwrap();
    let out = seqbank()
        .args(["submit", "--submit"])
        .arg(&good)
        .env("SEQBANK_SERVER", &server.base)
        .env("SEQBANK_TOKEN", &alice)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("submission 1 (") && stdout.contains("): in_review"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 experiments, 1 projects, 1 samples"),
        "{stdout}"
    );

    // A bad file: the command fails, naming the file and the place.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"samples": [{"alias": "x", "title": "t", "organism": {"taxon_id": 9606, "scientific_name": "Mus musculus"}}]}"#).unwrap();
    let out = seqbank()
        .arg("submit")
        .arg(&bad)
        .env("SEQBANK_SERVER", &server.base)
        .env("SEQBANK_TOKEN", &alice)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.json was not accepted")
            && stderr.contains("organism.taxon_mismatch samples[0].organism"),
        "{stderr}"
    );
    let out = seqbank()
        .args(["status", "1"])
        .env("SEQBANK_SERVER", &server.base)
        .env("SEQBANK_TOKEN", &alice)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("in_review"));
    server.kill();
}

//! Crashes on both sides of an upload: tuspy (an independent tus client) killed again and again
//! while sending a 1 GiB run, then the job worker killed in the middle of validating it. The
//! upload resumes each time, the job is taken over by another worker and completes once, and
//! the file downloaded from the archive is byte for byte the original.
//!
//! Runs against a local folder, and against the S3-compatible server named by
//! `SEQBANK_TEST_S3_ENDPOINT` when it is set. Needs `python3` with `tusclient` (`pip install
//! tuspy`) and `curl`; skips with a reason when they are missing.

#![allow(clippy::unwrap_used)]

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

const SIZE: u64 = 1 << 30;

/// The two runs each hold a few copies of the gibibyte on disk (the original, the upload, the
/// stored object); taking turns halves what the suite needs free.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn seqbank() -> Command {
    Command::new(env!("CARGO_BIN_EXE_seqbank"))
}

fn have_tools() -> bool {
    let tus = Command::new("python3")
        .args(["-c", "import tusclient"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let curl = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !tus || !curl {
        eprintln!("skipping: needs python3 with tusclient (pip install tuspy) and curl");
    }
    tus && curl
}

/// A FASTQ file of just over 1 GiB with distinct read names; returns its path and MD5.
fn big_fastq(dir: &Path) -> (PathBuf, String) {
    use md5::Digest;
    let path = dir.join("big.fastq");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("creates"));
    let mut md5 = md5::Md5::new();
    let seq: String = (0..150)
        .map(|i| b"ACGT"[(i * 7 + i / 3) % 4] as char)
        .collect();
    let qual: String = (0..150).map(|i| (b'5' + (i % 9) as u8) as char).collect();
    let mut written = 0u64;
    let mut n = 0u64;
    while written < SIZE {
        let record = format!("@r{n:012}\n{seq}\n+\n{qual}\n");
        file.write_all(record.as_bytes()).expect("writes");
        md5.update(record.as_bytes());
        written += record.len() as u64;
        n += 1;
    }
    file.flush().expect("flushes");
    let hex = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
    (path, hex)
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path, env: &[(&str, String)]) -> Self {
        let mut command = seqbank();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("SEQBANK_JOBS_WORKERS", "0")
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("seqbank serve starts");
        let stderr = child.stderr.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stderr)
            .read_line(&mut line)
            .expect("serve says where it listens");
        let start = line
            .find("http://")
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        let end = line[start..].find("/api/v1/").expect("the API path") + start;
        Self {
            child,
            base: line[start..end].to_owned(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn worker(data: &Path, env: &[(&str, String)]) -> Child {
    let mut command = seqbank();
    command
        .args(["worker", "--no-schedule", "--data"])
        .arg(data)
        .env("SEQBANK_JOBS_LEASE_SECONDS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().expect("seqbank worker starts")
}

fn curl(method: &str, url: &str, token: &str, body: Option<Value>) -> Value {
    let mut command = Command::new("curl");
    command.args([
        "-s",
        "-X",
        method,
        url,
        "-H",
        &format!("Authorization: Bearer {token}"),
    ]);
    if let Some(body) = body {
        command.args(["--data-binary", &body.to_string()]);
    }
    let out = command.output().expect("curl runs");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn add_user(data: &Path, name: &str, role: &str, env: &[(&str, String)]) -> String {
    let mut command = seqbank();
    command
        .args(["user", "add", name, "--role", role, "--data"])
        .arg(data);
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("seqbank runs");
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

fn crashes_on_both_sides(env: &[(&str, String)], label: &str) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let alice = add_user(&data, "alice", "submitter", env);
    let carol = add_user(&data, "carol", "curator", env);
    let server = Server::start(&data, env);
    let api = format!("{}/api/v1", server.base);
    let (reads, md5) = big_fastq(dir.path());

    let submission = curl(
        "POST",
        &format!("{api}/submissions"),
        &alice,
        Some(json!({"alias": "big"})),
    );
    let id = submission["id"].as_i64().unwrap();
    let batch = json!({
        "projects": [{"alias": "p", "title": "A large run", "description": "One gibibyte of reads."}],
        "samples": [{"alias": "s", "title": "Isolate", "project": "p", "checklist": "generic",
            "organism": {"taxon_id": 562, "scientific_name": "Escherichia coli"},
            "attributes": {"collection_date": "2024-07", "geo_loc_name": "France: Lyon"}}],
        "experiments": [{"alias": "e", "title": "WGS", "sample": "s", "platform": "ILLUMINA", "instrument_model": "Illumina NovaSeq X",
            "library": {"strategy": "WGS", "source": "GENOMIC", "selection": "RANDOM", "layout": "SINGLE"}}],
        "runs": [{"alias": "r", "experiment": "e", "files": [{"name": "big.fastq", "type": "fastq", "md5": md5}]}]
    });
    let added = curl(
        "POST",
        &format!("{api}/submissions/{id}/objects"),
        &alice,
        Some(batch),
    );
    assert!(
        added["errors"] == 0 || added["findings"].is_array(),
        "{added}"
    );

    // tuspy, killed at several points, restarted each time.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tus/upload.py");
    let state = dir.path().join("tus-state.json");
    let spawn = || {
        Command::new("python3")
            .arg(&script)
            .arg(format!("{api}/uploads"))
            .arg(&alice)
            .arg(&reads)
            .arg("r")
            .arg(&state)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs")
    };
    let mut starts = Vec::new();
    for (round, wait_ms) in [1500u64, 2500, 1200].iter().enumerate() {
        let mut child = spawn();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        starts.push(line.trim().to_owned());
        std::thread::sleep(Duration::from_millis(*wait_ms + round as u64 * 300));
        let _ = child.kill();
        let _ = child.wait();
    }
    let child = spawn();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{label}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    starts.push(stdout.lines().next().unwrap_or("").to_owned());
    eprintln!("{label}: tuspy started at {starts:?}");
    let offsets: Vec<u64> = starts
        .iter()
        .map(|s| s.trim_start_matches("start ").parse().unwrap())
        .collect();
    assert_eq!(offsets[0], 0);
    assert!(
        offsets.windows(2).all(|w| w[1] >= w[0]) && offsets[1..].iter().any(|&o| o > 0),
        "{label}: every restart resumes, never from scratch: {offsets:?}"
    );

    // A worker takes the validation job and is killed in the middle of it.
    let jobs_url = format!("{api}/jobs?kind=validate_run");
    let mut first = worker(&data, env);
    let started = Instant::now();
    loop {
        let jobs = curl("GET", &jobs_url, &carol, None);
        let job = &jobs["items"][0];
        if job["state"] == "running" && job["done"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{label}: validation never started: {jobs}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = first.kill();
    let _ = first.wait();
    let mut second = worker(&data, env);
    let started = Instant::now();
    let uploads = loop {
        let uploads = curl("GET", &format!("{api}/uploads"), &alice, None);
        let state = uploads["items"][0]["state"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if state == "valid" || state == "invalid" {
            break uploads;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "{label}: validation never finished: {uploads}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let upload = &uploads["items"][0];
    assert_eq!(upload["state"], "valid", "{label}: {upload}");
    assert_eq!(upload["file"]["md5"], md5.as_str());
    let jobs = curl("GET", &jobs_url, &carol, None);
    let items = jobs["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{label}: one job, not a duplicate: {jobs}");
    assert_eq!(
        (items[0]["state"].as_str(), items[0]["attempts"].as_i64()),
        (Some("done"), Some(2)),
        "{label}: {jobs}"
    );
    let files = curl(
        "GET",
        &format!("{api}/runs/{}/files", upload["run_id"]),
        &alice,
        None,
    );
    assert_eq!(
        files["items"].as_array().map(Vec::len),
        Some(1),
        "{label}: {files}"
    );

    // Reviewed, approved, archived: the download is the original.
    let view = curl(
        "POST",
        &format!("{api}/submissions/{id}/submit"),
        &alice,
        None,
    );
    assert_eq!(view["status"], "in_review", "{label}: {view}");
    let view = curl(
        "POST",
        &format!("{api}/submissions/{id}/approve"),
        &carol,
        None,
    );
    assert_eq!(view["status"], "approved", "{label}: {view}");
    let url = format!("{}/files/runs/SBR000/SBR000001/big.fastq", server.base);
    let started = Instant::now();
    let downloaded = loop {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("curl -sf '{url}' | md5sum"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if !text.starts_with("d41d8cd98f00b204e9800998ecf8427e") {
            break text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{label}: never archived"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(
        downloaded.split_whitespace().next(),
        Some(md5.as_str()),
        "{label}"
    );
    let _ = second.kill();
    let _ = second.wait();
}

#[test]
fn tuspy_and_the_worker_killed_on_a_local_folder() {
    if !have_tools() {
        return;
    }
    crashes_on_both_sides(&[], "local");
}

#[test]
fn tuspy_and_the_worker_killed_on_s3() {
    let Ok(endpoint) = std::env::var("SEQBANK_TEST_S3_ENDPOINT") else {
        eprintln!("skipping the S3 run: SEQBANK_TEST_S3_ENDPOINT is not set");
        return;
    };
    if !have_tools() {
        return;
    }
    let bucket = std::env::var("SEQBANK_TEST_S3_BUCKET").unwrap_or_else(|_| "seqbank-test".into());
    let prefix = format!(
        "resume{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let env = [
        ("SEQBANK_STORAGE_URL", format!("s3://{bucket}/{prefix}")),
        ("SEQBANK_S3_ENDPOINT", endpoint),
    ];
    crashes_on_both_sides(&env, "s3");
}

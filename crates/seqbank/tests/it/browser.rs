//! The web pages in a real browser: `seqbank serve` on a socket, Debian's Chromium driven by
//! playwright-core through the whole journey in `tests/browser/journey.mjs`, from sign-up to an
//! anonymous download. Skips, saying why, when node, Chromium or playwright-core are missing
//! (`.ci/run` installs all three).

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use super::archive::{Server, seqbank, write_gz};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

fn chromium() -> Option<PathBuf> {
    std::env::var_os("SEQBANK_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/bin/chromium")))
        .filter(|p| p.exists())
}

/// Why the browser test cannot run here, if it cannot.
fn missing() -> Option<String> {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !node {
        return Some("node is not installed".into());
    }
    if chromium().is_none() {
        return Some("Chromium is not at /usr/bin/chromium (or SEQBANK_CHROMIUM)".into());
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        return Some("playwright-core is not installed: run `npm ci` in tests/browser".into());
    }
    None
}

/// A gzipped FASTQ mate file of `reads` records and its MD5; mates share read names.
fn mate(dir: &Path, name: &str, mate: u8, reads: usize) -> (PathBuf, String) {
    use std::fmt::Write;
    let mut text = String::new();
    let mut state = 0x9e37_79b9_u32 ^ u32::from(mate);
    for i in 0..reads {
        let seq: String = (0..150)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                b"ACGT"[(state % 4) as usize] as char
            })
            .collect();
        writeln!(
            text,
            "@A00123:8:HXXXXDSXX:1:1101:{}:{} {mate}:N:0:ACGT\n{seq}\n+\n{}",
            1000 + i % 30000,
            2000 + i,
            "F".repeat(150)
        )
        .expect("writes to memory");
    }
    let path = dir.join(name);
    let md5 = write_gz(&path, &text);
    (path, md5)
}

#[test]
fn browser_journey_from_sign_up_to_an_anonymous_download() {
    if let Some(reason) = missing() {
        // CI installs everything, so there a skip would hide a broken install.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but the browser journey cannot run: {reason}"
        );
        eprintln!("skipping the browser journey: {reason}");
        return;
    }
    let data = tempfile::tempdir().expect("a temporary folder");
    let files = tempfile::tempdir().expect("a temporary folder");
    let mut add = seqbank()
        .args([
            "user",
            "add",
            "cy",
            "--role",
            "curator",
            "--password-stdin",
            "--data",
        ])
        .arg(data.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("seqbank runs");
    std::io::Write::write_all(
        &mut add.stdin.take().expect("piped"),
        b"curator password 1\n",
    )
    .expect("writes the password");
    assert!(add.wait().expect("user add ends").success());
    let server = Server::start(data.path());
    let (r1, r1_md5) = mate(files.path(), "axo_R1.fastq.gz", 1, 6000);
    let (r2, r2_md5) = mate(files.path(), "axo_R2.fastq.gz", 2, 6000);
    let screenshots = std::env::var_os("SEQBANK_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    let out = Command::new("node")
        .arg("journey.mjs")
        .current_dir(browser_dir())
        .env("SEQBANK_URL", &server.base)
        .env("SEQBANK_CURATOR", "cy")
        .env("SEQBANK_CURATOR_PASSWORD", "curator password 1")
        .env("SEQBANK_R1", &r1)
        .env("SEQBANK_R2", &r2)
        .env("SEQBANK_R1_MD5", &r1_md5)
        .env("SEQBANK_R2_MD5", &r2_md5)
        .env("SEQBANK_SCREENSHOTS", &screenshots)
        .env(
            "SEQBANK_CHROMIUM",
            chromium().expect("checked in missing()"),
        )
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the journey failed (screenshot in {}):\n{stdout}\n{stderr}",
        screenshots.display()
    );
    assert!(stdout.contains("[journey] done"), "{stdout}");
    for page in ["home", "search", "run", "project", "submission", "curation"] {
        for width in ["desktop", "phone"] {
            let shot = screenshots.join(format!("{page}-{width}.png"));
            assert!(shot.exists(), "{} was taken", shot.display());
        }
    }
}

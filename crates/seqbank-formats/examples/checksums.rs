//! MD5 and SHA-256 rates on one core: the `md-5` and `sha2` crates, seqbank's hashers on one
//! stream, and seqbank's hashers on two streams at once (the two halves of the file).
//!
//! `cargo run --release -p seqbank-formats --example checksums -- FILE` (the file is read into
//! memory first; 200 MB or more gives steady figures).

use std::time::Instant;

use md5::Digest as _;
use seqbank_formats::{md5::Md5Hasher, sha256::Sha256Hasher};

fn rate(name: &str, bytes: usize, run: impl FnOnce() -> String) {
    let start = Instant::now();
    let digest = run();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{name:<28} {:>6.0} MB/s  {digest}",
        bytes as f64 / seconds / 1e6
    );
}

fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| std::io::Error::other("usage: checksums FILE"))?;
    let data = std::fs::read(path)?;
    let (first, second) = data.split_at(data.len() / 2);
    for _ in 0..3 {
        rate("md-5 crate, one stream", data.len(), || {
            format!("{:x}", md5::Md5::digest(&data))
        });
        rate("seqbank MD5, one stream", data.len(), || {
            let mut hasher = Md5Hasher::new();
            hasher.update(&data);
            hasher.finalize().to_string()
        });
        rate("seqbank MD5, two streams", data.len(), || {
            let (mut a, mut b) = (Md5Hasher::new(), Md5Hasher::new());
            Md5Hasher::update_two(&mut a, first, &mut b, second);
            format!("{} {}", a.finalize(), b.finalize())
        });
        rate("sha2 crate, one stream", data.len(), || {
            let digest = <sha2::Sha256 as sha2::Digest>::digest(&data);
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
        rate("seqbank SHA-256, one stream", data.len(), || {
            let mut hasher = Sha256Hasher::new();
            hasher.update(&data);
            hasher.finalize().to_string()
        });
        rate("seqbank SHA-256, two streams", data.len(), || {
            let (mut a, mut b) = (Sha256Hasher::new(), Sha256Hasher::new());
            Sha256Hasher::update_two(&mut a, first, &mut b, second);
            format!("{} {}", a.finalize(), b.finalize())
        });
    }
    Ok(())
}

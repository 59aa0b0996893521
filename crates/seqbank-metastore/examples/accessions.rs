//! Measures accession allocation: blocks of 100,000, single numbers, and single numbers from
//! eight concurrent clients.
//!
//! `cargo run --release -p seqbank-metastore --example accessions -- URL`
//! (URL: `sqlite:///tmp/bench.db` or `postgres://postgres@127.0.0.1/bench`).

use std::time::Instant;

use seqbank_metastore::Metastore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).ok_or("usage: accessions URL")?;
    let store = Metastore::connect(&url).await?;
    let backend = store.backend_name();

    let blocks = 50;
    let started = Instant::now();
    for _ in 0..blocks {
        store.allocate_accessions("BENCHBLOCK", 100_000).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{backend}: {blocks} blocks of 100,000 in {seconds:.3} s: {:.1} ms per block, {:.0} accessions/s",
        seconds * 1000.0 / blocks as f64,
        blocks as f64 * 100_000.0 / seconds
    );

    let singles = 2000;
    let started = Instant::now();
    for _ in 0..singles {
        store.allocate_accessions("BENCHONE", 1).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{backend}: {singles} single allocations in {seconds:.3} s: {:.0} transactions/s",
        singles as f64 / seconds
    );

    let clients = 8;
    let per_client = 250;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_client {
                store.allocate_accessions("BENCHCONC", 1).await?;
            }
            Ok::<_, seqbank_metastore::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{backend}: {clients} concurrent clients × {per_client} single allocations in {seconds:.3} s: {:.0} transactions/s",
        (clients * per_client) as f64 / seconds
    );
    store.close().await;
    Ok(())
}

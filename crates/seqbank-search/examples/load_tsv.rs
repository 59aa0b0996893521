//! Loads the search benchmark's BioSample-like records (`gen_search_data.py` TSV) into a fresh
//! search index, as mirrored NCBI samples, and prints records/s and the index size.
//!
//! `cargo run --release -p seqbank-search --example load_tsv -- RECORDS.tsv INDEX_DIR [BUDGET_MIB]`
//! (the writer's memory budget; by default a reindex's, `SearchIndex::bulk_memory`)
#![allow(clippy::unwrap_used)]

use std::{
    io::{BufRead, BufReader},
    time::Instant,
};

use seqbank_search::{Record, SearchIndex};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

// The allocator of the `seqbank` binary, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A JSON object's members as tag and value, in the order written.
struct Pairs(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

fn unescape(field: &str) -> Option<String> {
    if field == "\\N" {
        return None;
    }
    if !field.contains('\\') {
        return Some(field.to_owned());
    }
    Some(
        field
            .replace("\\t", "\t")
            .replace("\\n", "\n")
            .replace("\\\\", "\\"),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (tsv, dir) = (&args[1], std::path::Path::new(&args[2]));
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    let index = SearchIndex::open(dir).unwrap();
    let budget = args.get(3).map_or_else(SearchIndex::bulk_memory, |m| {
        m.parse::<usize>().unwrap() << 20
    });
    let mut writer = index.writer(budget).unwrap();
    let start = Instant::now();
    let mut input = BufReader::with_capacity(1 << 20, std::fs::File::open(tsv).unwrap());
    let mut n = 0u64;
    let mut line = String::new();
    while input.read_line(&mut line).unwrap() > 0 {
        let mut cols = [""; 12];
        let mut count = 0;
        for (col, field) in cols.iter_mut().zip(line.trim_end_matches('\n').split('\t')) {
            *col = field;
            count += 1;
        }
        assert!(count == cols.len(), "line {}: {count} columns", n + 1);
        let Pairs(attributes) = serde_json::from_str(&unescape(cols[9]).unwrap()).unwrap();
        let record = Record {
            key: cols[0].to_owned(),
            readers: Vec::new(),
            accession: Some(cols[0].to_owned()),
            kind: "sample".into(),
            source: "NCBI".into(),
            title: unescape(cols[1]).unwrap_or_default(),
            description: unescape(cols[11]),
            organism: unescape(cols[2]),
            tax_id: cols[3].parse().ok(),
            attributes,
            status: "public".into(),
            access: "public".into(),
            submitted: unescape(cols[6]),
            released: unescape(cols[7]),
            updated: unescape(cols[8]),
            ..Record::default()
        };
        writer.add(&record).unwrap();
        line.clear();
        n += 1;
        if n.is_multiple_of(1_000_000) {
            eprintln!(
                "{n} records, {:.0} records/s",
                n as f64 / start.elapsed().as_secs_f64()
            );
        }
    }
    writer.commit(None).unwrap();
    let indexed = start.elapsed().as_secs_f64();
    writer.finish().unwrap();
    let merged = start.elapsed().as_secs_f64();
    index.reload().unwrap();
    let stats = index.stats().unwrap();
    println!(
        "{{\"records\": {n}, \"index_s\": {indexed:.1}, \"with_merges_s\": {merged:.1}, \"records_per_s\": {:.0}, \"segments\": {}, \"bytes\": {}}}",
        n as f64 / indexed,
        stats.segments,
        stats.bytes
    );
}

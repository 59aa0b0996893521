//! Bare inflation of gzip files, one thread per file, with the inflater seqbank-formats uses
//! (flate2 on zlib-rs): the floor `seqbank validate` is measured against in `benchsuite/`.
//!
//! `cargo run --release -p seqbank-formats --example inflate -- R1.fastq.gz R2.fastq.gz`

use std::{
    fs::File,
    io::{BufReader, Read},
    thread,
};

fn main() -> std::io::Result<()> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let totals = thread::scope(|scope| {
        let handles: Vec<_> = paths
            .iter()
            .map(|path| {
                scope.spawn(move || -> std::io::Result<u64> {
                    let file = BufReader::with_capacity(1 << 20, File::open(path)?);
                    let mut decoder = flate2::bufread::MultiGzDecoder::new(file);
                    let mut buf = vec![0; 1 << 20];
                    let mut total = 0u64;
                    loop {
                        match decoder.read(&mut buf)? {
                            0 => return Ok(total),
                            n => total += n as u64,
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("inflate thread"))
            .collect::<Vec<_>>()
    });
    for (path, total) in paths.iter().zip(totals) {
        println!("{path}\t{}", total?);
    }
    Ok(())
}

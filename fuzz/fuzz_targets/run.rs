//! Mate comparison: the input split in two files of one run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqbank_formats::{Config, validate_run};

fuzz_target!(|data: &[u8]| {
    let middle = data.len() / 2;
    let config = Config { checksums: false, ..Config::default() };
    let files = vec![("R1".to_owned(), &data[..middle]), ("R2".to_owned(), &data[middle..])];
    validate_run(files, &config).expect("in-memory reads never fail");
});

//! FASTQ parsing (plain and through the decompressors): never a panic, never an `Err` on data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqbank_formats::{Config, fastq};

fuzz_target!(|data: &[u8]| {
    let config = Config { checksums: false, max_record_bytes: 1 << 16, ..Config::default() };
    let mut report = fastq::validate(data, &config).expect("in-memory reads never fail");
    report.confirm_duplicates(data, &config).expect("in-memory reads never fail");
});

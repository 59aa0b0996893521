//! SAM, BAM and CRAM validation (format detected from the content): never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqbank_formats::{Config, validate};

fuzz_target!(|data: &[u8]| {
    let config = Config { checksums: false, ..Config::default() };
    validate(data, &config).expect("in-memory reads never fail");
});

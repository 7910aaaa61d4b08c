#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nectar_fuzz::mmdb_file(data));

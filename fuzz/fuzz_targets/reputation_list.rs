#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nectar_fuzz::reputation_list(data));

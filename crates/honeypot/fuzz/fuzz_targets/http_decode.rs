//! Any bytes through the normaliser (URL, entities, Log4j lookups): no panic, bounded.
#![no_main]
libfuzzer_sys::fuzz_target!(|d: (bool, &[u8])| {
    let (mut out, mut tmp) = (Vec::new(), Vec::new());
    nectar_honeypot::http::decode::normalize(d.1, d.0, &mut out, &mut tmp);
    assert!(out.len() <= d.1.len() * 4 + 4);
});

//! Any bytes as every part of a request: classification must not panic or hang.
#![no_main]
use nectar_honeypot::http::classify::{Classifier, Parts, Scratch};
static RULES: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
libfuzzer_sys::fuzz_target!(|d: (&[u8], &[u8], &[u8], &[u8])| {
    let c = RULES.get_or_init(|| Classifier::new(None).expect("default rules"));
    let headers = [(&b"User-Agent"[..], d.3), (&b"X"[..], d.2)];
    let parts = Parts { method: b"GET", path: d.0, query: d.1, body: d.2, headers: &headers, user_agent: d.3 };
    let _ = c.classify(&parts, &mut Scratch::default());
});

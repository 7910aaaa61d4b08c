//! An HTTP request as the honeypot's classifier sees it (httparse has split it
//! already): method, path, query, body, headers, and the decoders run over them.

use std::sync::OnceLock;

use nectar_honeypot::http::classify::{Classifier, Parts, Scratch};
use nectar_honeypot::http::decode;

/// Most headers taken from one input, as the honeypot bounds a request's headers.
const MAX_HEADERS: usize = 64;

/// Cuts `data` at NUL bytes into method, path, query, body, User-Agent and a
/// header block (`name: value` lines), and classifies that request. Normalising
/// never makes text longer (every decoding step shrinks or keeps it), so no input
/// can grow the classifier's buffers past the request's own size.
pub fn http_request(data: &[u8]) {
    static CLASSIFIER: OnceLock<Option<Classifier>> = OnceLock::new();
    let Some(classifier) = CLASSIFIER.get_or_init(|| Classifier::new(None).ok()) else {
        panic!("the default rules do not compile");
    };
    let mut fields = data.splitn(6, |&b| b == 0);
    let mut next = || fields.next().unwrap_or_default();
    let (method, path, query, body, user_agent, header_block) =
        (next(), next(), next(), next(), next(), next());
    let headers: Vec<(&[u8], &[u8])> = header_block
        .split(|&b| b == b'\n')
        .take(MAX_HEADERS)
        .map(|line| {
            let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
            let (name, value) = line.split_at(colon);
            (name, value.get(1..).unwrap_or_default())
        })
        .collect();
    let parts = Parts {
        method,
        path,
        query,
        body,
        headers: &headers,
        user_agent,
    };
    let verdict = classifier.classify(&parts, &mut Scratch::default());
    for index in &verdict.rules {
        let _ = classifier.rule_id(*index);
    }
    let _ = verdict.class_names().count();

    let (mut out, mut tmp) = (Vec::new(), Vec::new());
    for form in [false, true] {
        decode::normalize(data, form, &mut out, &mut tmp);
        assert!(out.len() <= data.len(), "normalising grew the text");
    }
    if decode::percent_decode(data, &mut out) {
        assert!(out.len() <= data.len());
    }
    if decode::html_entities(data, &mut out) {
        assert!(out.len() <= data.len());
    }
    let mut text = data.to_vec();
    decode::resolve_lookups(&mut text, &mut tmp);
    assert!(text.len() <= data.len());
}

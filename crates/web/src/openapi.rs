//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every `/api/v1` route.
//!
//! The document is kept by hand in `api/openapi.json` (the handlers answer with
//! `serde_json` values, so there are no types to derive it from) and compiled into
//! the binary; only the list of event kinds is filled in when served, from
//! [`Kind::ALL`], so it cannot fall behind the closed list. Tests below keep the file
//! and the router in step both ways: every documented operation exists with its
//! method, every route in the source is documented, every `$ref` resolves.

use std::sync::OnceLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use nectar_event::Kind;
use serde_json::Value;

use crate::AppState;

/// The hand-kept document.
const DOCUMENT: &str = include_str!("../api/openapi.json");

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(serve))
}

/// The document as served: `DOCUMENT` with the kinds' `enum` filled in.
pub fn document() -> &'static str {
    static SERVED: OnceLock<String> = OnceLock::new();
    SERVED.get_or_init(|| {
        let mut doc: Value = match serde_json::from_str(DOCUMENT) {
            Ok(doc) => doc,
            // A test parses the file, so this cannot ship; still, never panic.
            Err(_) => return DOCUMENT.to_owned(),
        };
        if let Some(kind) = doc.pointer_mut("/components/schemas/Kind") {
            kind["enum"] = Kind::ALL.iter().map(|k| Value::from(k.as_str())).collect();
        }
        doc.to_string()
    })
}

async fn serve() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        document(),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};
    use std::path::Path;

    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use http_body_util::BodyExt;
    use nectar_store::{Store, StoreConfig, WriterConfig, WriterHandle};
    use serde_json::Value;
    use tower::ServiceExt;

    use super::document;
    use crate::{AppState, WebConfig, router};

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

    fn doc() -> Value {
        serde_json::from_str(document()).expect("api/openapi.json is JSON")
    }

    /// Every `(path, method)` the document describes.
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    out.push((path.clone(), method.to_owned(), op.clone()));
                }
            }
        }
        out
    }

    fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').expect("local $ref");
                doc.pointer(pointer)
                    .unwrap_or_else(|| panic!("$ref {reference} does not resolve"))
            }
            None => value,
        }
    }

    fn check_refs(doc: &Value, value: &Value, found: &mut usize) {
        match value {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref") {
                    let reference = reference.as_str().expect("$ref is a string");
                    let pointer = reference
                        .strip_prefix('#')
                        .unwrap_or_else(|| panic!("$ref {reference} is not local"));
                    assert!(
                        doc.pointer(pointer).is_some(),
                        "$ref {reference} does not resolve"
                    );
                    *found += 1;
                }
                map.values().for_each(|v| check_refs(doc, v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| check_refs(doc, v, found)),
            _ => {}
        }
    }

    #[test]
    fn document_is_well_formed_openapi_3_1() {
        let doc = doc();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert_eq!(doc["security"], serde_json::json!([{"bearer": []}]));
        let mut refs = 0;
        check_refs(&doc, &doc, &mut refs);
        assert!(refs > 50, "{refs} $refs");
        let tags: HashSet<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        let mut ids = HashSet::new();
        for (path, method, op) in operations(&doc) {
            let at = format!("{method} {path}");
            assert!(path.starts_with("/api/v1/"), "{at}");
            assert!(
                ids.insert(op["operationId"].as_str().expect("operationId").to_owned()),
                "{at}: duplicate operationId"
            );
            assert!(op["summary"].is_string(), "{at}: summary");
            for tag in op["tags"].as_array().expect("tags") {
                assert!(tags.contains(tag.as_str().unwrap()), "{at}: tag {tag}");
            }
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{at}: no responses");
            assert!(
                responses.keys().any(|code| code.starts_with('2')),
                "{at}: no success response"
            );
            for (code, response) in responses {
                let response = resolve(&doc, response);
                assert!(code.len() == 3, "{at}: status {code}");
                assert!(
                    response["description"].is_string(),
                    "{at} {code}: description"
                );
                if let Some(content) = response.get("content") {
                    // JSON, or a download (incident attachments).
                    assert!(
                        content["application/json"]["schema"].is_object()
                            || content["application/octet-stream"]["schema"].is_object(),
                        "{at} {code}: schema"
                    );
                }
            }
            // Every {name} in the path is a required path parameter, and back.
            let in_path: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_owned)
                .collect();
            let declared: BTreeSet<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| resolve(&doc, p))
                .filter(|p| p["in"] == "path")
                .inspect(|p| assert_eq!(p["required"], true, "{at}: path parameter"))
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(in_path, declared, "{at}: path parameters");
            for p in op["parameters"].as_array().into_iter().flatten() {
                let p = resolve(&doc, p);
                assert!(
                    p["name"].is_string() && p["schema"].is_object(),
                    "{at}: parameter {p}"
                );
            }
            if let Some(body) = op.get("requestBody") {
                assert!(body["content"].is_object(), "{at}: requestBody content");
            }
            // Public routes say so; every other one needs the token and documents 401.
            if op.get("security") == Some(&serde_json::json!([])) {
                // The secret in the body is the enrolment's proof.
                assert!(
                    path.ends_with("/health")
                        || path.ends_with("/openapi.json")
                        || path.ends_with("/sensors/enrol"),
                    "{at} is public"
                );
            } else {
                assert!(responses.contains_key("401"), "{at}: 401");
            }
        }
        let kinds = doc["components"]["schemas"]["Kind"]["enum"]
            .as_array()
            .unwrap();
        assert_eq!(kinds.len(), nectar_event::Kind::ALL.len());
        assert!(kinds.contains(&Value::from("ssh.login.failed")));
    }

    /// The `/api/v1` paths of every `.route("...")` in this crate's source.
    fn routes_in_source() -> BTreeSet<String> {
        fn walk(dir: &Path, out: &mut BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for piece in text.split(".route(").skip(1) {
                        let Some(literal) = piece.trim_start().strip_prefix('"') else {
                            continue;
                        };
                        let route = literal.split('"').next().unwrap();
                        if route.starts_with("/api/") {
                            out.insert(route.to_owned());
                        }
                    }
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
        out
    }

    #[test]
    fn every_route_is_documented_and_every_documented_path_is_a_route() {
        let doc = doc();
        let documented: BTreeSet<String> =
            doc["paths"].as_object().unwrap().keys().cloned().collect();
        let routed = routes_in_source();
        assert!(routed.len() >= 15, "{routed:?}");
        assert_eq!(
            routed, documented,
            "routes in the source vs paths in api/openapi.json"
        );
    }

    async fn app() -> (axum::Router, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::new(dir.path().join("nectar.db")))
            .await
            .unwrap();
        let (writer, _task) = WriterHandle::spawn(store.clone(), WriterConfig::default());
        let (bus, _bus_task) = nectar_bus::spawn_bus(writer.clone(), Default::default());
        (
            router(AppState::new(store, bus, writer, WebConfig::default())),
            dir,
        )
    }

    /// API answers (and errors) carry `Cache-Control: no-store`: they hold token
    /// secrets and captured credentials; the OpenAPI document may be cached.
    #[tokio::test]
    async fn api_answers_are_never_cached() {
        let (app, _dir) = app().await;
        for (path, expected) in [
            ("/api/v1/health", "no-store"),
            ("/api/v1/events", "no-store"),
            ("/api/v1/status", "no-store"),
            ("/api/v1/openapi.json", "public, max-age=3600"),
        ] {
            let request = Request::builder().uri(path).body(Body::empty()).unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(
                response.headers()["cache-control"],
                expected,
                "{path} answered {}",
                response.status()
            );
        }
    }

    /// A request naming a host this server was not told it has gets 421 (DNS
    /// rebinding); addresses and localhost are served.
    #[tokio::test]
    async fn foreign_host_names_get_421() {
        let (app, _dir) = app().await;
        for (host, expected) in [
            ("evil.example", StatusCode::MISDIRECTED_REQUEST),
            ("127.0.0.1:8080", StatusCode::OK),
            ("localhost:8080", StatusCode::OK),
            ("[::1]:8080", StatusCode::OK),
        ] {
            let request = Request::builder()
                .uri("/api/v1/health")
                .header("host", host)
                .body(Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), expected, "{host}");
            assert!(response.headers().contains_key("content-security-policy"));
        }
    }

    /// Each documented operation answers with its method (public ones 200, the rest
    /// 401 without a token), and every other method on a documented path is 405: the
    /// document's methods are exactly the router's.
    #[tokio::test]
    async fn documented_methods_are_exactly_the_routers() {
        let doc = doc();
        let (app, _dir) = app().await;
        for (path, item) in doc["paths"].as_object().unwrap() {
            let concrete = path
                .replace("{id}", "0190f5e0-0000-7000-8000-000000000000")
                .replace("{name}", "someone")
                .replace("{task}", "1")
                .replace("{sha256}", &"0".repeat(64));
            for method in METHODS {
                let request = Request::builder()
                    .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                    .uri(&concrete)
                    .header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .unwrap();
                let response = app.clone().oneshot(request).await.unwrap();
                let status = response.status();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                let at = format!("{method} {path}");
                match item.get(method) {
                    None => assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{at}"),
                    Some(op) if op.get("security") == Some(&serde_json::json!([])) => {
                        // `{}` is no enrolment (no `secret`): refused as such,
                        // not for the missing token.
                        let expected = if path.ends_with("/sensors/enrol") {
                            StatusCode::UNPROCESSABLE_ENTITY
                        } else {
                            StatusCode::OK
                        };
                        assert_eq!(status, expected, "{at}");
                    }
                    Some(_) => {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{at}");
                        assert!(
                            std::str::from_utf8(&body).unwrap().contains("\"error\""),
                            "{at}: {body:?}"
                        );
                    }
                }
            }
        }
        // What is served is the document.
        let response = app
            .oneshot(
                Request::get("/api/v1/openapi.json")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let served: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(served, doc);
    }
}

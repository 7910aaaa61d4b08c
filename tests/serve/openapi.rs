//! The served OpenAPI document against the real server's answers: each operation is
//! called and its answer checked against the schema the document gives for that
//! status (a small JSON Schema subset: type, required, properties, items, enum,
//! const, additionalProperties, $ref).

use reqwest::Method;
use serde_json::{Value, json};

use crate::util::{Server, all_events, client, token};

fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .expect("$ref resolves"),
        None => value,
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("unknown type {other}"),
    }
}

/// Checks `value` against `schema`; `at` says where, for the message.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    match &schema["type"] {
        Value::String(t) => assert!(type_matches(t, value), "{at}: not {t}: {value}"),
        Value::Array(ts) => assert!(
            ts.iter().any(|t| type_matches(t.as_str().unwrap(), value)),
            "{at}: not {ts:?}: {value}"
        ),
        _ => {}
    }
    if let Some(c) = schema.get("const") {
        assert_eq!(value, c, "{at}");
    }
    if let Some(choices) = schema["enum"].as_array() {
        assert!(choices.contains(value), "{at}: {value} not in {choices:?}");
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            assert!(object.contains_key(name), "{at}: `{name}` missing: {value}");
        }
        for (key, item) in object {
            let at = format!("{at}.{key}");
            match schema["properties"].get(key) {
                Some(property) => check(doc, property, item, &at),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => panic!("{at}: not documented"),
                    Some(extra @ Value::Object(_)) => check(doc, extra, item, &at),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, item) in values.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{i}]"));
        }
    }
}

/// Calls the operation and checks the answer against the document.
pub(crate) fn call(
    doc: &Value,
    url: &str,
    token: &str,
    method: Method,
    template: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut request = client().request(method.clone(), format!("{url}{path}"));
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16().to_string();
    let answer: Value = response.json().unwrap();
    let op = &doc["paths"][template][method.as_str().to_lowercase()];
    assert!(op.is_object(), "{method} {template} is not documented");
    let documented = op["responses"]
        .get(&status)
        .unwrap_or_else(|| panic!("{method} {path}: status {status} is not documented: {answer}"));
    let schema = &resolve(doc, documented)["content"]["application/json"]["schema"];
    check(doc, schema, &answer, &format!("{method} {path} {status}"));
    answer
}

#[test]
fn served_document_matches_the_real_answers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let admin = token(&data, "ops", "admin");
    let viewer = token(&data, "reader", "viewer");
    let server = Server::start(&data, None);
    let url = server.url.as_str();
    let doc: Value = client()
        .get(format!("{url}/api/v1/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));

    let c = |method: Method, template: &str, path: &str, body: Option<Value>| {
        call(&doc, url, &admin, method, template, path, body)
    };
    let events = json!([
        {"kind": "ssh.login.success", "summary": "root/x accepted", "src_ip": "192.0.2.1", "src_port": 4000,
         "data": {"username": "root", "password": "x", "session": "s1"}},
        {"kind": "ssh.command", "summary": "id", "severity": "high", "data": {"input": "id", "session": "s1"}}
    ]);
    c(
        Method::POST,
        "/api/v1/events",
        "/api/v1/events",
        Some(events),
    );
    call(
        &doc,
        url,
        "",
        Method::GET,
        "/api/v1/health",
        "/api/v1/health",
        None,
    );
    c(Method::GET, "/api/v1/me", "/api/v1/me", None);
    let status = c(Method::GET, "/api/v1/status", "/api/v1/status", None);
    assert!(
        status["consumers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "event-log")
    );
    let list = c(
        Method::GET,
        "/api/v1/events",
        "/api/v1/events?limit=1",
        None,
    );
    assert!(list["next_cursor"].is_string());
    c(
        Method::GET,
        "/api/v1/events",
        "/api/v1/events?src_ip=nope",
        None,
    );
    let id = all_events(url, &admin, "")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c(
        Method::GET,
        "/api/v1/events/{id}",
        &format!("/api/v1/events/{id}"),
        None,
    );
    c(
        Method::GET,
        "/api/v1/events/{id}",
        "/api/v1/events/0190f5e0-0000-7000-8000-000000000000",
        None,
    );
    c(
        Method::GET,
        "/api/v1/summary",
        "/api/v1/summary?range=all",
        None,
    );
    c(
        Method::GET,
        "/api/v1/sessions",
        "/api/v1/sessions?range=7d",
        None,
    );
    c(
        Method::GET,
        "/api/v1/sessions/{id}",
        "/api/v1/sessions/s1",
        None,
    );
    let profile = c(
        Method::GET,
        "/api/v1/ips/{address}",
        "/api/v1/ips/192.0.2.1",
        None,
    );
    assert_eq!(profile["events"], 1);
    c(
        Method::GET,
        "/api/v1/ips/{address}",
        "/api/v1/ips/nope",
        None,
    );
    c(
        Method::GET,
        "/api/v1/sessions/{id}",
        "/api/v1/sessions/none",
        None,
    );
    c(
        Method::GET,
        "/api/v1/detect/stats",
        "/api/v1/detect/stats",
        None,
    );
    c(
        Method::POST,
        "/api/v1/detect/start",
        "/api/v1/detect/start",
        None,
    );
    c(Method::GET, "/api/v1/users", "/api/v1/users", None);
    let created = c(
        Method::POST,
        "/api/v1/users",
        "/api/v1/users",
        Some(json!({"name": "alice", "role": "viewer"})),
    );
    c(
        Method::POST,
        "/api/v1/users",
        "/api/v1/users",
        Some(json!({"name": "alice"})),
    );
    c(
        Method::POST,
        "/api/v1/users",
        "/api/v1/users",
        Some(json!({"name": "bob", "colour": "red"})),
    );
    let reset = c(
        Method::POST,
        "/api/v1/users/{name}/password",
        "/api/v1/users/alice/password",
        None,
    );
    call(
        &doc,
        url,
        &viewer,
        Method::POST,
        "/api/v1/password",
        "/api/v1/password",
        Some(json!({"username": "alice", "current": reset["password"], "new": "a-new-password"})),
    );
    assert_ne!(created["password"], reset["password"]);
    call(
        &doc,
        url,
        &viewer,
        Method::POST,
        "/api/v1/users",
        "/api/v1/users",
        Some(json!({"name": "eve"})),
    );
    c(Method::GET, "/api/v1/tokens", "/api/v1/tokens", None);
    c(
        Method::POST,
        "/api/v1/tokens",
        "/api/v1/tokens",
        Some(json!({"name": "t1", "role": "viewer"})),
    );
    c(
        Method::DELETE,
        "/api/v1/tokens/{name}",
        "/api/v1/tokens/t1",
        None,
    );
    c(
        Method::DELETE,
        "/api/v1/tokens/{name}",
        "/api/v1/tokens/t9",
        None,
    );
    // Alerts: ten failed logins from one source raise the built-in brute force.
    let failures: Vec<Value> = (0..10)
        .map(|i| {
            json!({"kind": "ssh.login.failed", "summary": format!("root {i}"),
                        "src_ip": "192.0.2.9", "data": {"username": "root"}})
        })
        .collect();
    c(
        Method::POST,
        "/api/v1/events",
        "/api/v1/events",
        Some(Value::Array(failures)),
    );
    crate::stream::wait_for_lag_zero(url, &admin, &["rules"]);
    let alerts = c(
        Method::GET,
        "/api/v1/alerts",
        "/api/v1/alerts?status=new&limit=1",
        None,
    );
    let alert = alerts["alerts"][0]["id"].as_str().unwrap().to_owned();
    c(
        Method::GET,
        "/api/v1/alerts",
        "/api/v1/alerts?severity=urgent",
        None,
    );
    c(
        Method::GET,
        "/api/v1/alerts/{id}",
        &format!("/api/v1/alerts/{alert}"),
        None,
    );
    c(
        Method::GET,
        "/api/v1/alerts/{id}",
        "/api/v1/alerts/0190f5e0-0000-7000-8000-000000000000",
        None,
    );
    c(
        Method::PATCH,
        "/api/v1/alerts/{id}",
        &format!("/api/v1/alerts/{alert}"),
        Some(json!({"status": "acknowledged", "assignee": "ops"})),
    );
    c(
        Method::PATCH,
        "/api/v1/alerts/{id}",
        &format!("/api/v1/alerts/{alert}"),
        Some(json!({"status": "closed"})),
    );
    call(
        &doc,
        url,
        &viewer,
        Method::PATCH,
        "/api/v1/alerts/{id}",
        &format!("/api/v1/alerts/{alert}"),
        Some(json!({"status": "new"})),
    );
    c(
        Method::PATCH,
        "/api/v1/alerts",
        "/api/v1/alerts",
        Some(json!({"filter": {"assignee": "ops"}, "status": "closed", "resolution": "benign"})),
    );
    let silence = c(
        Method::POST,
        "/api/v1/silences",
        "/api/v1/silences",
        Some(json!({"cidr": "192.0.2.0/24", "reason": "lab", "hours": 2})),
    );
    c(
        Method::POST,
        "/api/v1/silences",
        "/api/v1/silences",
        Some(json!({"cidr": "not-a-network", "reason": "lab"})),
    );
    c(Method::GET, "/api/v1/silences", "/api/v1/silences", None);
    let sid = silence["id"].as_str().unwrap().to_owned();
    c(
        Method::POST,
        "/api/v1/silences/{id}/expire",
        &format!("/api/v1/silences/{sid}/expire"),
        None,
    );
    c(
        Method::DELETE,
        "/api/v1/silences/{id}",
        &format!("/api/v1/silences/{sid}"),
        None,
    );
    c(
        Method::DELETE,
        "/api/v1/silences/{id}",
        &format!("/api/v1/silences/{sid}"),
        None,
    );
    let rules = c(Method::GET, "/api/v1/rules", "/api/v1/rules", None);
    assert!(rules["rules"].as_array().unwrap().len() > 10);
    call(
        &doc,
        url,
        "nct_wrong",
        Method::GET,
        "/api/v1/me",
        "/api/v1/me",
        None,
    );

    // The inventory: an import, the hosts, a host, an edit, subnets, scans.
    c(Method::GET, "/api/v1/hosts", "/api/v1/hosts", None);
    c(Method::GET, "/api/v1/hosts", "/api/v1/hosts?port=x", None);
    c(
        Method::GET,
        "/api/v1/hosts/{address}",
        "/api/v1/hosts/192.0.2.99",
        None,
    );
    c(Method::GET, "/api/v1/subnets", "/api/v1/subnets", None);
    let imported = client()
        .post(format!("{url}/api/v1/scans/import"))
        .bearer_auth(&admin)
        .body(include_str!(
            "../../crates/inventory/tests/data/nmap-sv.xml"
        ))
        .send()
        .unwrap();
    assert_eq!(imported.status(), 201);
    let imported: Value = imported.json().unwrap();
    let op = &doc["paths"]["/api/v1/scans/import"]["post"]["responses"]["201"];
    check(
        &doc,
        &op["content"]["application/json"]["schema"],
        &imported,
        "import",
    );
    let scan = imported["id"].as_str().unwrap().to_owned();
    c(
        Method::GET,
        "/api/v1/scans/{id}",
        &format!("/api/v1/scans/{scan}"),
        None,
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while c(Method::GET, "/api/v1/hosts", "/api/v1/hosts", None)["hosts"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the import never landed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    c(
        Method::PATCH,
        "/api/v1/hosts/{address}",
        "/api/v1/hosts/192.0.2.2",
        Some(json!({"owner": "ops", "tags": ["lab"]})),
    );
    c(
        Method::GET,
        "/api/v1/hosts/{address}",
        "/api/v1/hosts/192.0.2.2",
        None,
    );
    c(Method::GET, "/api/v1/scans", "/api/v1/scans", None);
    c(
        Method::POST,
        "/api/v1/scans",
        "/api/v1/scans",
        Some(json!({"profile": "fast", "targets": ["192.0.2.2"]})),
    );
}

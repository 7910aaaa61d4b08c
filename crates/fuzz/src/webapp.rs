//! A request to the HTTP honeypot's "webapp" persona: the script, its query and
//! body go through the pretend MariaDB, the include emulation and the fake shell.

use std::sync::OnceLock;

use nectar_honeypot::http::webapp::{AppRequest, WebApp};
use nectar_honeypot::shell::World;
use nectar_honeypot::shell::persona::Persona;

/// The scripts the input picks from (its first byte).
const PATHS: &[&str] = &[
    "/index.php",
    "/product.php",
    "/news.php",
    "/category.php",
    "/search.php",
    "/login.php",
    "/page.php",
    "/ping.php",
    "/cart.php",
];

/// Most bytes one answer may have: the page, an included file or command output
/// (each bounded) and the error text.
const MAX_PAGE: usize = 1 << 20;

/// Cuts `data` at the first NUL into query and body (the first byte picks the
/// script), answers it, and checks that the page is bounded and that nothing of
/// the input comes back as markup: the shop's own pages hold no `<script`, so
/// one in the answer would be reflected input left unescaped.
pub fn webapp_request(data: &[u8]) {
    static APP: OnceLock<WebApp> = OnceLock::new();
    let app = APP.get_or_init(|| {
        WebApp::new(
            World::new(Persona::debian("web-1", Vec::new())),
            "fuzz-db-password",
        )
    });
    let path = PATHS[usize::from(data.first().copied().unwrap_or(0)) % PATHS.len()];
    let rest = data.get(1..).unwrap_or_default();
    let (query, body) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let query = String::from_utf8_lossy(query);
    let page = app
        .answer(&AppRequest {
            method: if body.is_empty() { "GET" } else { "POST" },
            path,
            query: &query,
            body,
            form: true,
            client_ip: "192.0.2.7".into(),
            server_ip: "198.51.100.1".into(),
        })
        .expect("every listed path is a script");
    assert!(
        page.body.len() <= MAX_PAGE,
        "a page of {} bytes",
        page.body.len()
    );
    let lower = page.body.to_ascii_lowercase();
    assert!(
        !lower.windows(7).any(|w| w == b"<script"),
        "input reflected unescaped"
    );
    assert!(page.delay >= 0.0 && page.delay <= 3600.0);
}

//! The pages the honeypot serves: personas (WordPress, phpMyAdmin, an admin
//! login, exposed files, robots.txt, the default page) read from template files.
//!
//! Each persona is a manifest, `templates/personas/NAME.toml`, listing its pages
//! (paths, template, content type, headers, and for login forms which fields hold
//! the user name and password). Templates are rendered once at start with this
//! installation's honeytokens and host name (`{{token.db_password}}`,
//! `{{hostname}}`), so serving a page copies bytes and nothing else. The built-in
//! files are embedded; a file of the same name in `templates_dir` replaces one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::config::{HttpHoneypotConfig, ServerProfile};
use crate::honeytoken::Honeytokens;

/// The built-in template files, by name.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "apache/default.html",
        include_str!("../../templates/apache/default.html"),
    ),
    (
        "nginx/default.html",
        include_str!("../../templates/nginx/default.html"),
    ),
    (
        "personas/default.toml",
        include_str!("../../templates/personas/default.toml"),
    ),
    (
        "personas/robots.toml",
        include_str!("../../templates/personas/robots.toml"),
    ),
    (
        "personas/wordpress.toml",
        include_str!("../../templates/personas/wordpress.toml"),
    ),
    (
        "personas/phpmyadmin.toml",
        include_str!("../../templates/personas/phpmyadmin.toml"),
    ),
    (
        "personas/admin.toml",
        include_str!("../../templates/personas/admin.toml"),
    ),
    (
        "personas/exposed_files.toml",
        include_str!("../../templates/personas/exposed_files.toml"),
    ),
    (
        "personas/webapp.toml",
        include_str!("../../templates/personas/webapp.toml"),
    ),
    (
        "webapp/style.css",
        include_str!("../../templates/webapp/style.css"),
    ),
    ("robots.txt", include_str!("../../templates/robots.txt")),
    (
        "wordpress/wp-login.html",
        include_str!("../../templates/wordpress/wp-login.html"),
    ),
    (
        "wordpress/xmlrpc.txt",
        include_str!("../../templates/wordpress/xmlrpc.txt"),
    ),
    (
        "wordpress/xmlrpc-fault.xml",
        include_str!("../../templates/wordpress/xmlrpc-fault.xml"),
    ),
    (
        "wordpress/wp-json.json",
        include_str!("../../templates/wordpress/wp-json.json"),
    ),
    (
        "wordpress/users.json",
        include_str!("../../templates/wordpress/users.json"),
    ),
    (
        "phpmyadmin/login.html",
        include_str!("../../templates/phpmyadmin/login.html"),
    ),
    (
        "admin/login.html",
        include_str!("../../templates/admin/login.html"),
    ),
    (
        "exposed/env.txt",
        include_str!("../../templates/exposed/env.txt"),
    ),
    (
        "exposed/git-config.txt",
        include_str!("../../templates/exposed/git-config.txt"),
    ),
    (
        "exposed/git-HEAD.txt",
        include_str!("../../templates/exposed/git-HEAD.txt"),
    ),
    (
        "exposed/config.php.bak",
        include_str!("../../templates/exposed/config.php.bak"),
    ),
    (
        "exposed/server-status.html",
        include_str!("../../templates/exposed/server-status.html"),
    ),
    (
        "exposed/phpinfo.html",
        include_str!("../../templates/exposed/phpinfo.html"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    page: Vec<PageSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageSpec {
    paths: Vec<String>,
    /// Template name; `{profile}` is replaced by `apache` or `nginx`.
    #[serde(default)]
    template: String,
    #[serde(default = "default_status")]
    status: u16,
    #[serde(default)]
    content_type: String,
    /// "file" (served as a static file) or "script" (made by PHP).
    #[serde(default = "default_kind")]
    kind: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    login: Option<LoginSpec>,
    /// Template of the answer to a failed login (default: the page itself).
    #[serde(default)]
    failed_template: String,
    /// What replaces `{{login_error}}` after a failed login (may hold
    /// `{{username}}`); empty on the page as first shown.
    #[serde(default)]
    login_error: String,
}

fn default_status() -> u16 {
    200
}

fn default_kind() -> String {
    "script".into()
}

/// Where a login form keeps the credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSpec {
    /// "form" (urlencoded fields) or "xmlrpc" (WordPress XML-RPC calls).
    pub format: String,
    /// Field names holding the user name, first found wins.
    #[serde(default)]
    pub username: Vec<String>,
    /// Field names holding the password.
    #[serde(default)]
    pub password: Vec<String>,
}

/// One page, rendered.
#[derive(Debug)]
pub struct Page {
    /// Status code.
    pub status: u16,
    /// Served as a static file (Last-Modified, ETag) rather than by a script.
    pub file: bool,
    /// Content type.
    pub content_type: String,
    /// Headers the "application" sets.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// `ETag` for a file page.
    pub etag: String,
    /// The login form this page receives, if any.
    pub login: Option<LoginSpec>,
    /// The body after a failed login (`{{username}}` is filled per request).
    pub failed: Option<String>,
    /// The persona it belongs to.
    pub persona: &'static str,
}

/// Every page, by path.
#[derive(Debug, Default)]
pub struct Site {
    pages: HashMap<String, Arc<Page>>,
    /// `Last-Modified` of every file page (the installation's first start).
    pub last_modified: String,
}

impl Site {
    /// Renders the enabled personas. `install_time` (seconds since the epoch) dates
    /// the files. Errors name the template.
    pub fn build(
        config: &HttpHoneypotConfig,
        tokens: &Honeytokens,
        hostname: &str,
        install_time: u64,
    ) -> Result<Site, String> {
        let profile = match config.profile {
            ServerProfile::Apache => "apache",
            ServerProfile::Nginx => "nginx",
        };
        let modified = std::time::UNIX_EPOCH + std::time::Duration::from_secs(install_time);
        let mut site = Site {
            pages: HashMap::new(),
            last_modified: httpdate::fmt_http_date(modified),
        };
        for persona in super::config::PERSONAS {
            if !config.personas.iter().any(|p| p == persona) {
                continue;
            }
            let manifest_name = format!("personas/{persona}.toml");
            let text = load(&config.templates_dir, &manifest_name)?;
            let manifest: Manifest =
                toml::from_str(&text).map_err(|e| format!("template {manifest_name}: {e}"))?;
            for spec in manifest.page {
                let render_named = |name: &str| -> Result<String, String> {
                    let name = name.replace("{profile}", profile);
                    let text = load(&config.templates_dir, &name)?;
                    Ok(render(&text, tokens, hostname, config.server_name()))
                };
                let body = if spec.template.is_empty() {
                    String::new()
                } else {
                    render_named(&spec.template)?.replace("{{login_error}}", "")
                };
                let failed = if spec.failed_template.is_empty() {
                    None
                } else {
                    let error = render(&spec.login_error, tokens, hostname, config.server_name());
                    Some(render_named(&spec.failed_template)?.replace("{{login_error}}", &error))
                };
                let file = match spec.kind.as_str() {
                    "file" => true,
                    "script" => false,
                    other => {
                        return Err(format!(
                            "template {manifest_name}: kind {other:?} (file or script)"
                        ));
                    }
                };
                let etag = match config.profile {
                    // Apache: size and mtime in microseconds, in hex.
                    ServerProfile::Apache => {
                        format!(
                            "\"{:x}-{:x}\"",
                            body.len(),
                            install_time * 1_000_000 + 327_000
                        )
                    }
                    // nginx: mtime in seconds and size, in hex.
                    ServerProfile::Nginx => format!("\"{:x}-{:x}\"", install_time, body.len()),
                };
                let page = Arc::new(Page {
                    status: spec.status,
                    file,
                    content_type: spec.content_type.clone(),
                    headers: spec
                        .headers
                        .iter()
                        .map(|(k, v)| {
                            (k.clone(), render(v, tokens, hostname, config.server_name()))
                        })
                        .collect(),
                    body: body.into_bytes(),
                    etag,
                    login: spec.login.clone(),
                    failed,
                    persona,
                });
                for path in &spec.paths {
                    site.pages.insert(path.clone(), page.clone());
                }
            }
        }
        Ok(site)
    }

    /// The page at `path` (exact, case-sensitive, as Apache maps files).
    pub fn get(&self, path: &str) -> Option<&Arc<Page>> {
        self.pages.get(path)
    }

    /// Whether `path/` is a page (Apache's mod_dir then redirects `path` there).
    pub fn is_directory(&self, path: &str) -> bool {
        if path.len() > 512 || path.ends_with('/') {
            return false;
        }
        let mut with_slash = String::with_capacity(path.len() + 1);
        with_slash.push_str(path);
        with_slash.push('/');
        self.pages.contains_key(&with_slash)
    }

    /// Every path served (for tests and the screenshot tour).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.pages.keys().map(String::as_str)
    }
}

/// A template's text: from `dir` if it has the file, else built in.
fn load(dir: &Path, name: &str) -> Result<String, String> {
    if !dir.as_os_str().is_empty() {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => return Ok(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("template {}: {e}", path.display())),
        }
    }
    EMBEDDED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| (*text).to_owned())
        .ok_or_else(|| format!("template {name:?} does not exist"))
}

/// Fills `{{token.NAME}}`, `{{hostname}}` and `{{server}}`; other `{{...}}` are
/// left for the request (`{{username}}`).
fn render(text: &str, tokens: &Honeytokens, hostname: &str, server: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = after[..end].trim();
        match key {
            "hostname" => out.push_str(hostname),
            "server" => out.push_str(server),
            _ => match key.strip_prefix("token.") {
                Some(name) => out.push_str(tokens.value(name)),
                None => {
                    out.push_str("{{");
                    out.push_str(&after[..end]);
                    out.push_str("}}");
                }
            },
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Fills `{{username}}` (HTML-escaped) in a failed-login page.
pub fn fill_username(template: &str, username: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(template.len() + username.len());
    let mut parts = template.split("{{username}}");
    if let Some(first) = parts.next() {
        out.extend_from_slice(first.as_bytes());
    }
    for part in parts {
        super::profile::escape_html(username, &mut out);
        out.extend_from_slice(part.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_persona_renders_with_tokens_and_no_placeholder_left() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = Honeytokens::load_or_create(dir.path()).unwrap();
        let config = HttpHoneypotConfig::default();
        let site = Site::build(&config, &tokens, "web-7", 1_700_000_000).unwrap();
        for path in [
            "/",
            "/index.html",
            "/robots.txt",
            "/wp-login.php",
            "/xmlrpc.php",
            "/wp-json/",
            "/phpmyadmin/",
            "/admin/",
            "/.env",
            "/.git/config",
            "/config.php.bak",
            "/server-status",
            "/phpinfo.php",
        ] {
            let page = site.get(path).unwrap_or_else(|| panic!("no page {path}"));
            let body = String::from_utf8_lossy(&page.body);
            let leftover = body.replace("{{username}}", "");
            assert!(!leftover.contains("{{"), "{path} has a placeholder left");
        }
        let env = String::from_utf8_lossy(&site.get("/.env").unwrap().body).into_owned();
        assert!(env.contains(tokens.value("db_password")));
        assert!(env.contains(tokens.value("aws_secret_access_key")));
        let git = String::from_utf8_lossy(&site.get("/.git/config").unwrap().body).into_owned();
        assert!(git.contains(tokens.value("git_token")));
        assert!(site.is_directory("/wp-admin") || site.get("/wp-admin/").is_some());
        // Only the enabled personas.
        let config = HttpHoneypotConfig {
            personas: vec!["robots".into()],
            ..Default::default()
        };
        let site = Site::build(&config, &tokens, "web-7", 1_700_000_000).unwrap();
        assert!(site.get("/robots.txt").is_some() && site.get("/.env").is_none());
    }

    #[test]
    fn templates_dir_overrides_and_errors_name_the_template() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("robots.txt"),
            "User-agent: *\nDisallow: /{{hostname}}\n",
        )
        .unwrap();
        let config = HttpHoneypotConfig {
            templates_dir: dir.path().into(),
            ..Default::default()
        };
        let site = Site::build(&config, &Honeytokens::empty(), "db-3", 0).unwrap();
        assert_eq!(
            site.get("/robots.txt").unwrap().body,
            b"User-agent: *\nDisallow: /db-3\n"
        );
        std::fs::create_dir_all(dir.path().join("personas")).unwrap();
        std::fs::write(
            dir.path().join("personas/admin.toml"),
            "[[page]]\npaths=['/x']\ntemplate='nope.html'\n",
        )
        .unwrap();
        let e = Site::build(&config, &Honeytokens::empty(), "db-3", 0).unwrap_err();
        assert!(e.contains("nope.html"), "{e}");
    }

    #[test]
    fn failed_login_escapes_the_user_name() {
        let page = fill_username("<b>{{username}}</b>", "<script>x</script>");
        assert_eq!(page, b"<b>&lt;script&gt;x&lt;/script&gt;</b>");
    }
}

//! The "webapp" persona: a small PHP/MySQL shop (Northwind Supply) with the
//! holes scanners and dork lists look for, answered the way the vulnerable
//! application would answer them, so automated attackers stay engaged.
//!
//! - product, news and category pages take `?id=` into a numeric query; search
//!   takes `?q=` into a quoted LIKE; the login form puts the user name into a
//!   quoted comparison. The queries run on [`sql`], a pretend MariaDB over a
//!   fixed catalogue: quote-breaking input gets PHP 8.2's uncaught
//!   `mysqli_sql_exception` with MariaDB's exact message, boolean probes filter
//!   the rows as the real query would, `ORDER BY n` and `UNION SELECT` of the
//!   right width render their values, and `SLEEP()` asks the connection for a
//!   (capped) delay.
//! - `?page=` (and `?file=`) is an `include()`: `/etc/passwd` and the rest of the
//!   fake machine come from the shell's filesystem, `php://filter` encodes the
//!   application's own (fake) sources, and remote or code wrappers get PHP's
//!   warnings for `allow_url_include=0`.
//! - the network check page (`ping.php?ip=`) passes its input to a shell: the
//!   injected commands run in the fake shell as `www-data`.
//!
//! Nothing is executed, fetched or included for real. Every reflected value is
//! HTML-escaped, every input is bounded.

pub mod sql;

use std::fmt::Write as _;
use std::sync::Arc;

use base64::Engine as _;

use crate::shell::{Limits, Origin, Shell, World};

/// Longest parameter value used, in bytes (the rest is cut, as a short column
/// would).
const MAX_PARAM: usize = 4096;
/// Most parameters read from a query string or form.
const MAX_PARAMS: usize = 64;
/// Most bytes of an included file shown.
const MAX_INCLUDE: usize = 256 * 1024;
/// Most bytes of command output shown.
const MAX_COMMAND_OUTPUT: usize = 64 * 1024;

/// The catalogue: name, description, price, stock, category.
pub(crate) const PRODUCTS: &[(&str, &str, &str, i64, i64)] = &[
    (
        "Cordless Drill 18V",
        "Brushless motor, two batteries and charger included.",
        "129.90",
        14,
        1,
    ),
    (
        "Impact Driver Kit",
        "Compact 1/4\" hex driver with 32-piece bit set.",
        "99.00",
        8,
        1,
    ),
    (
        "Claw Hammer 16oz",
        "Forged steel head, fiberglass handle.",
        "18.50",
        41,
        2,
    ),
    (
        "Tape Measure 8m",
        "Magnetic hook, auto-lock blade.",
        "12.95",
        63,
        2,
    ),
    (
        "Safety Glasses",
        "Anti-fog, EN 166 certified.",
        "6.40",
        120,
        3,
    ),
    (
        "Work Gloves (pair)",
        "Nitrile-coated, size L.",
        "4.99",
        0,
        3,
    ),
    (
        "Circular Saw 190mm",
        "1400W, laser guide, 0-45 degree bevel.",
        "149.00",
        5,
        1,
    ),
    (
        "Screwdriver Set",
        "12 pieces, magnetic tips, storage case.",
        "24.90",
        22,
        2,
    ),
];

/// Category names, by id.
pub(crate) const CATEGORIES: &[&str] = &["Power Tools", "Hand Tools", "Safety"];

/// News: title, body, author, date.
pub(crate) const NEWS: &[(&str, &str, &str, &str)] = &[
    (
        "Winter opening hours",
        "From December 15 the store closes at 17:00 on weekdays. Online orders ship as usual.",
        "admin",
        "2026-11-28 09:12:44",
    ),
    (
        "New power tool range",
        "We now carry the full 18V range, batteries compatible across all tools.",
        "jsmith",
        "2026-10-03 14:01:09",
    ),
    (
        "Free delivery over $75",
        "Orders above $75 ship free within the state.",
        "admin",
        "2026-08-19 11:30:00",
    ),
];

/// The document root the scripts live in.
const DOCROOT: &str = "/var/www/html";

/// What kind of page a script is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Home,
    Product,
    News,
    Category,
    Search,
    Login,
    Viewer,
    Ping,
    Cart,
}

/// Script paths and what they are. Names are the ones scanners and dork lists
/// try (`inurl:product.php?id=`, `inurl:news.php?id=`, ...).
const SCRIPTS: &[(&str, Script)] = &[
    ("/index.php", Script::Home),
    ("/product.php", Script::Product),
    ("/products.php", Script::Product),
    ("/item.php", Script::Product),
    ("/details.php", Script::Product),
    ("/product_details.php", Script::Product),
    ("/shop.php", Script::Product),
    ("/view.php", Script::Product),
    ("/news.php", Script::News),
    ("/article.php", Script::News),
    ("/articles.php", Script::News),
    ("/read.php", Script::News),
    ("/story.php", Script::News),
    ("/post.php", Script::News),
    ("/blog.php", Script::News),
    ("/category.php", Script::Category),
    ("/cat.php", Script::Category),
    ("/list.php", Script::Category),
    ("/search.php", Script::Search),
    ("/login.php", Script::Login),
    ("/page.php", Script::Viewer),
    ("/include.php", Script::Viewer),
    ("/show.php", Script::Viewer),
    ("/download.php", Script::Viewer),
    ("/ping.php", Script::Ping),
    ("/cart.php", Script::Cart),
];

/// An answer of the application.
#[derive(Debug)]
pub struct AppPage {
    /// Status code.
    pub status: u16,
    /// Body (HTML unless `content_type` says otherwise).
    pub body: Vec<u8>,
    /// Extra headers (cookies, redirects).
    pub headers: Vec<(String, String)>,
    /// Seconds the query asked to sleep (the connection caps them).
    pub delay: f64,
}

/// The application, built once per honeypot.
#[derive(Debug)]
pub struct WebApp {
    db: sql::Db,
    world: Arc<World>,
    config_php: String,
}

/// One request as the application sees it.
pub struct AppRequest<'a> {
    /// GET, POST or HEAD.
    pub method: &'a str,
    /// Decoded path.
    pub path: &'a str,
    /// Raw query string.
    pub query: &'a str,
    /// Raw body.
    pub body: &'a [u8],
    /// Whether the body is a urlencoded form.
    pub form: bool,
    /// Client address (for `w`/`who` in the fake shell).
    pub client_ip: String,
    /// Server address.
    pub server_ip: String,
}

impl WebApp {
    /// The shop on the machine `world`, its database password `db_password`.
    pub fn new(world: Arc<World>, db_password: &str) -> WebApp {
        use md5::Digest as _;
        let hash = md5::Md5::digest(format!("{db_password}!adm").as_bytes());
        let mut admin_hash = String::with_capacity(32);
        for b in hash {
            let _ = write!(admin_hash, "{b:02x}");
        }
        let db = sql::Db::new(&world.persona.hostname, &admin_hash);
        let config_php = CONFIG_PHP.replace("{{db_password}}", db_password);
        WebApp {
            db,
            world,
            config_php,
        }
    }

    /// Whether `path` is one of the application's scripts.
    pub fn handles(path: &str) -> bool {
        SCRIPTS.iter().any(|(p, _)| *p == path)
    }

    /// Answers a request to one of the scripts (None if `path` is not one).
    pub fn answer(&self, req: &AppRequest<'_>) -> Option<AppPage> {
        let script = SCRIPTS.iter().find(|(p, _)| *p == req.path)?.1;
        let mut params = Params::default();
        params.read(req.query.as_bytes());
        if req.method == "POST" && req.form {
            params.read(req.body);
        }
        let name = &req.path[1..];
        let mut page = AppPage {
            status: 200,
            body: Vec::with_capacity(4096),
            headers: Vec::new(),
            delay: 0.0,
        };
        // `?page=` and `?file=` are includes on every script that has them.
        let include = params
            .get("page")
            .or_else(|| params.get("file"))
            .or_else(|| params.get("inc"));
        match script {
            _ if include.is_some() && matches!(script, Script::Home | Script::Viewer) => {
                let target = include.unwrap_or_default();
                header(&mut page.body, "Northwind Supply");
                self.include(name, target, req, &mut page.body);
                footer(&mut page.body);
            }
            Script::Home if params.get("id").is_some() => {
                self.product(name, params.get("id").unwrap_or_default(), &mut page);
            }
            Script::Home if params.get("cat").is_some() => {
                self.category(name, params.get("cat").unwrap_or_default(), &mut page);
            }
            Script::Home => self.home(&mut page),
            Script::Product => match params.get("id").or_else(|| params.get("pid")) {
                Some(id) => self.product(name, id, &mut page),
                None => self.home(&mut page),
            },
            Script::News => match params.get("id") {
                Some(id) => self.news(name, id, &mut page),
                None => self.news_list(&mut page),
            },
            Script::Category => {
                let id = params
                    .get("id")
                    .or_else(|| params.get("cat"))
                    .unwrap_or("1");
                self.category(name, id, &mut page);
            }
            Script::Search => {
                let q = params
                    .get("q")
                    .or_else(|| params.get("query"))
                    .or_else(|| params.get("search"))
                    .or_else(|| params.get("s"))
                    .or_else(|| params.get("keyword"));
                self.search(name, q, &mut page);
            }
            Script::Login => self.login(name, req.method == "POST", &params, &mut page),
            Script::Viewer => {
                header(&mut page.body, "Documents");
                page.body.extend_from_slice(
                    b"<h2>Documents</h2>\n<ul>\n<li><a href=\"page.php?page=about.php\">About us</a></li>\n<li><a href=\"page.php?page=contact.php\">Contact</a></li>\n<li><a href=\"page.php?page=terms.txt\">Terms of sale</a></li>\n</ul>\n",
                );
                footer(&mut page.body);
            }
            Script::Ping => self.ping(
                params.get("ip").or_else(|| params.get("host")),
                req,
                &mut page,
            ),
            Script::Cart => self.cart(name, params.get("product_id"), &mut page),
        }
        Some(page)
    }

    /// Runs `query` for `script` at `line`: the rows, or the page ends with
    /// PHP's fatal error (the page's header was already sent).
    fn query(
        &self,
        script: &str,
        line: u32,
        query: &str,
        page: &mut AppPage,
    ) -> Option<Vec<Vec<sql::Value>>> {
        let run = sql::run(&self.db, query);
        page.delay += run.sleep;
        match run.result {
            Ok(r) => Some(r.rows),
            Err(e) => {
                fatal_sql(&mut page.body, script, line, query, &e.message());
                None
            }
        }
    }

    fn home(&self, page: &mut AppPage) {
        let out = &mut page.body;
        header(out, "Home");
        out.extend_from_slice(b"<h2>Featured products</h2>\n<ul class=\"products\">\n");
        for (i, (name, _, price, _, _)) in PRODUCTS.iter().enumerate() {
            let _ = writeln!(
                Utf8(out),
                "<li><a href=\"product.php?id={}\">{}</a> <span class=\"price\">${price}</span></li>",
                i + 1,
                esc(name)
            );
        }
        out.extend_from_slice(b"</ul>\n<h2>Categories</h2>\n<ul>\n");
        for (i, c) in CATEGORIES.iter().enumerate() {
            let _ = writeln!(
                Utf8(out),
                "<li><a href=\"category.php?id={}\">{}</a></li>",
                i + 1,
                esc(c)
            );
        }
        out.extend_from_slice(b"</ul>\n<h2>Latest news</h2>\n<ul>\n");
        for (i, (title, _, _, date)) in NEWS.iter().enumerate() {
            let _ = writeln!(
                Utf8(out),
                "<li><a href=\"news.php?id={}\">{}</a> <small>{}</small></li>",
                i + 1,
                esc(title),
                &date[..10]
            );
        }
        out.extend_from_slice(b"</ul>\n");
        footer(out);
    }

    fn product(&self, script: &str, id: &str, page: &mut AppPage) {
        header(&mut page.body, "Product");
        let q = format!("SELECT * FROM products WHERE id={id}");
        let Some(rows) = self.query(script, 14, &q, page) else {
            return;
        };
        let out = &mut page.body;
        if rows.is_empty() {
            out.extend_from_slice(b"<p class=\"error\">Product not found.</p>\n");
        }
        for row in &rows {
            let cell = |i: usize| row.get(i).map(sql::Value::text).unwrap_or_default();
            let _ = write!(
                Utf8(out),
                "<div class=\"product\">\n<h2>{}</h2>\n<p class=\"price\">Price: ${}</p>\n<p>{}</p>\n<p>In stock: {}</p>\n<form action=\"cart.php\" method=\"post\"><input type=\"hidden\" name=\"product_id\" value=\"{}\"><input type=\"submit\" value=\"Add to cart\"></form>\n</div>\n",
                esc(&cell(1)),
                esc(&cell(3)),
                esc(&cell(2)),
                esc(&cell(4)),
                esc(&cell(0)),
            );
        }
        footer(out);
    }

    fn cart(&self, script: &str, id: Option<&str>, page: &mut AppPage) {
        header(&mut page.body, "Cart");
        let Some(id) = id else {
            page.body
                .extend_from_slice(b"<h2>Your cart</h2>\n<p>Your cart is empty.</p>\n");
            footer(&mut page.body);
            return;
        };
        let q = format!("SELECT id, name, price FROM products WHERE id={id}");
        let Some(rows) = self.query(script, 8, &q, page) else {
            return;
        };
        page.body.extend_from_slice(b"<h2>Your cart</h2>\n");
        match rows.first() {
            Some(row) => {
                let cell = |i: usize| row.get(i).map(sql::Value::text).unwrap_or_default();
                let _ = writeln!(
                    Utf8(&mut page.body),
                    "<p>Added <b>{}</b> (${}) to your cart. <a href=\"checkout.php\">Checkout</a></p>",
                    esc(&cell(1)),
                    esc(&cell(2))
                );
            }
            None => page.body.extend_from_slice(b"<p>Your cart is empty.</p>\n"),
        }
        footer(&mut page.body);
    }

    fn category(&self, script: &str, id: &str, page: &mut AppPage) {
        header(&mut page.body, "Category");
        let q = format!("SELECT * FROM products WHERE category_id={id}");
        let Some(rows) = self.query(script, 11, &q, page) else {
            return;
        };
        listing(&mut page.body, &rows);
        footer(&mut page.body);
    }

    fn news(&self, script: &str, id: &str, page: &mut AppPage) {
        header(&mut page.body, "News");
        let q = format!("SELECT * FROM news WHERE id={id}");
        let Some(rows) = self.query(script, 12, &q, page) else {
            return;
        };
        let out = &mut page.body;
        if rows.is_empty() {
            out.extend_from_slice(b"<p>No such article.</p>\n");
        }
        for row in &rows {
            let cell = |i: usize| row.get(i).map(sql::Value::text).unwrap_or_default();
            let _ = write!(
                Utf8(out),
                "<div class=\"article\">\n<h2>{}</h2>\n<p class=\"meta\">Posted by {} on {}</p>\n<p>{}</p>\n</div>\n",
                esc(&cell(1)),
                esc(&cell(3)),
                esc(&cell(4)),
                esc(&cell(2)),
            );
        }
        footer(out);
    }

    fn news_list(&self, page: &mut AppPage) {
        let out = &mut page.body;
        header(out, "News");
        out.extend_from_slice(b"<h2>News</h2>\n<ul>\n");
        for (i, (title, _, _, date)) in NEWS.iter().enumerate() {
            let _ = writeln!(
                Utf8(out),
                "<li><a href=\"news.php?id={}\">{}</a> <small>{}</small></li>",
                i + 1,
                esc(title),
                &date[..10]
            );
        }
        out.extend_from_slice(b"</ul>\n");
        footer(out);
    }

    fn search(&self, script: &str, q: Option<&str>, page: &mut AppPage) {
        header(&mut page.body, "Search");
        let shown = q.unwrap_or("");
        let _ = write!(
            Utf8(&mut page.body),
            "<h2>Search</h2>\n<form action=\"search.php\" method=\"get\"><input type=\"text\" name=\"q\" value=\"{}\"> <input type=\"submit\" value=\"Search\"></form>\n",
            esc(shown)
        );
        if let Some(q) = q {
            let query = format!("SELECT id, name, price FROM products WHERE name LIKE '%{q}%'");
            let Some(rows) = self.query(script, 9, &query, page) else {
                return;
            };
            let _ = writeln!(
                Utf8(&mut page.body),
                "<p>{} result(s) for <b>{}</b></p>",
                rows.len(),
                esc(q)
            );
            let out = &mut page.body;
            out.extend_from_slice(b"<ul class=\"products\">\n");
            for row in &rows {
                let cell = |i: usize| row.get(i).map(sql::Value::text).unwrap_or_default();
                let _ = writeln!(
                    Utf8(out),
                    "<li><a href=\"product.php?id={}\">{}</a> <span class=\"price\">${}</span></li>",
                    esc(&cell(0)),
                    esc(&cell(1)),
                    esc(&cell(2))
                );
            }
            out.extend_from_slice(b"</ul>\n");
        }
        footer(&mut page.body);
    }

    fn login(&self, script: &str, posted: bool, params: &Params, page: &mut AppPage) {
        header(&mut page.body, "Login");
        if posted {
            let user = params
                .get("username")
                .or_else(|| params.get("user"))
                .unwrap_or("");
            let password = params
                .get("password")
                .or_else(|| params.get("pass"))
                .unwrap_or("");
            let hash = {
                use md5::Digest as _;
                let d = md5::Md5::digest(password.as_bytes());
                let mut h = String::with_capacity(32);
                for b in d {
                    let _ = write!(h, "{b:02x}");
                }
                h
            };
            let q = format!(
                "SELECT id, username, role FROM users WHERE username='{user}' AND password='{hash}'"
            );
            let Some(rows) = self.query(script, 18, &q, page) else {
                return;
            };
            if let Some(row) = rows.first() {
                let name = row.get(1).map(sql::Value::text).unwrap_or_default();
                page.headers.push((
                    "Set-Cookie".into(),
                    "PHPSESSID=9c3kq1c5ffm3mb1s0v7k2ob8tg; path=/".into(),
                ));
                let _ = write!(
                    Utf8(&mut page.body),
                    "<h2>Welcome back, {}!</h2>\n<p>You are logged in. <a href=\"index.php\">Continue shopping</a> or <a href=\"logout.php\">log out</a>.</p>\n",
                    esc(&name)
                );
                footer(&mut page.body);
                return;
            }
            page.body
                .extend_from_slice(b"<p class=\"error\">Invalid username or password.</p>\n");
        }
        page.body.extend_from_slice(
            b"<h2>Customer login</h2>\n<form action=\"login.php\" method=\"post\">\n<p><label>Username <input type=\"text\" name=\"username\"></label></p>\n<p><label>Password <input type=\"password\" name=\"password\"></label></p>\n<p><input type=\"submit\" value=\"Log in\"></p>\n</form>\n",
        );
        footer(&mut page.body);
    }

    fn ping(&self, ip: Option<&str>, req: &AppRequest<'_>, page: &mut AppPage) {
        let out = &mut page.body;
        header(out, "Network check");
        let _ = write!(
            Utf8(out),
            "<h2>Network check</h2>\n<form action=\"ping.php\" method=\"get\">Host: <input type=\"text\" name=\"ip\" value=\"{}\"> <input type=\"submit\" value=\"Ping\"></form>\n",
            esc(ip.unwrap_or(""))
        );
        if let Some(ip) = ip.filter(|s| !s.is_empty()) {
            let output = self.shell_exec(&format!("ping -c 3 {ip}"), req);
            out.extend_from_slice(b"<pre>");
            out.extend_from_slice(esc(&String::from_utf8_lossy(&output)).as_bytes());
            out.extend_from_slice(b"</pre>\n");
        }
        footer(out);
    }

    /// What PHP's `shell_exec($command)` would print: the standard output of
    /// the fake shell, run as www-data; `ping` (absent from the fake shell's
    /// commands) answers as iputils' would.
    fn shell_exec(&self, command: &str, req: &AppRequest<'_>) -> Vec<u8> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut shell = Shell::new(
            self.world.clone(),
            "www-data",
            Limits {
                max_line_bytes: MAX_PARAM + 64,
                max_commands: 32,
            },
            Origin {
                client_ip: req.client_ip.clone(),
                server_ip: req.server_ip.clone(),
                now,
            },
            false,
        );
        // `ping -c 3 HOST` and whatever follows the host: the host part is
        // answered here, the rest goes to the shell.
        let rest = command.strip_prefix("ping -c 3 ").unwrap_or(command);
        let cut = rest
            .find([';', '|', '&', '\n', '`', '$', '<', '>'])
            .unwrap_or(rest.len());
        let (host, tail) = rest.split_at(cut);
        let mut out = ping_output(host.trim());
        if !tail.trim().is_empty() {
            let tail = tail.trim_start_matches([';', '\n', ' ']);
            let line = if tail.starts_with('|') || tail.starts_with('&') {
                format!("true {tail}")
            } else if tail.starts_with('$') || tail.starts_with('`') {
                format!("echo {tail}")
            } else {
                tail.to_owned()
            };
            let result = shell.exec(&line);
            out.extend_from_slice(&result.data);
        }
        out.truncate(MAX_COMMAND_OUTPUT);
        out
    }

    /// PHP's `include($target)` from `script`, its output into `out`.
    fn include(&self, script: &str, target: &str, req: &AppRequest<'_>, out: &mut Vec<u8>) {
        let line = 23;
        if target.contains('\0') {
            let _ = write!(
                Utf8(out),
                "<br />\n<b>Fatal error</b>:  Uncaught ValueError: include(): Argument #1 ($filename) must not contain any null bytes in {DOCROOT}/{script}:{line}\nStack trace:\n#0 {{main}}\n  thrown in <b>{DOCROOT}/{script}</b> on line <b>{line}</b><br />\n"
            );
            return;
        }
        let lower = target.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("php://filter/") {
            let Some(at) = rest.find("resource=") else {
                include_failed(out, script, line, target, "No such file or directory");
                return;
            };
            let filters = &rest[..at];
            let resource = &target["php://filter/".len() + at + "resource=".len()..];
            let Some(data) = self.read(resource) else {
                include_failed(out, script, line, target, "No such file or directory");
                return;
            };
            let data = match data {
                Ok(d) => d,
                Err(reason) => {
                    include_failed(out, script, line, resource, reason);
                    return;
                }
            };
            let mut data = data;
            for f in filters.split('|').flat_map(|f| f.split('/')) {
                let f = f.strip_prefix("read=").unwrap_or(f);
                data = match f {
                    "convert.base64-encode" => base64::engine::general_purpose::STANDARD
                        .encode(&data)
                        .into_bytes(),
                    "string.rot13" => data.iter().map(|b| rot13(*b)).collect(),
                    "string.toupper" => data.to_ascii_uppercase(),
                    "string.tolower" => data.to_ascii_lowercase(),
                    _ => data,
                };
            }
            self.emit_included(&data, req, out);
            return;
        }
        for (scheme, wrapper) in [
            ("http://", "http"),
            ("https://", "https"),
            ("ftp://", "ftp"),
            ("ftps://", "ftps"),
            ("data:", "data"),
            ("php://input", "php"),
        ] {
            if lower.starts_with(scheme) {
                let _ = write!(
                    Utf8(out),
                    "<br />\n<b>Warning</b>:  include(): {wrapper}:// wrapper is disabled in the server configuration by allow_url_include=0 in <b>{DOCROOT}/{script}</b> on line <b>{line}</b><br />\n"
                );
                include_failed_open(
                    out,
                    script,
                    line,
                    target,
                    "no suitable wrapper could be found",
                );
                return;
            }
        }
        if let Some((scheme, _)) = lower.split_once("://")
            && scheme != "file"
            && !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'+' || b == b'-')
        {
            let _ = write!(
                Utf8(out),
                "<br />\n<b>Warning</b>:  include(): Unable to find the wrapper &quot;{}&quot; - did you forget to enable it when you configured PHP? in <b>{DOCROOT}/{script}</b> on line <b>{line}</b><br />\n",
                esc(&target[..scheme.len()])
            );
            include_failed(out, script, line, target, "No such file or directory");
            return;
        }
        let path = target.strip_prefix("file://").unwrap_or(target);
        match self.read(path) {
            Some(Ok(data)) => {
                if is_php(path) {
                    self.run_php(path, out);
                } else {
                    self.emit_included(&data, req, out);
                }
            }
            Some(Err("Is a directory")) => {
                let _ = write!(
                    Utf8(out),
                    "<br />\n<b>Notice</b>:  include(): Read of 8192 bytes failed with errno=21 Is a directory in <b>{DOCROOT}/{script}</b> on line <b>{line}</b><br />\n"
                );
            }
            Some(Err(reason)) => include_failed(out, script, line, target, reason),
            None => include_failed(out, script, line, target, "No such file or directory"),
        }
    }

    /// Text included from a file: shown as it is (escaped for the page).
    fn emit_included(&self, data: &[u8], _req: &AppRequest<'_>, out: &mut Vec<u8>) {
        let data = &data[..data.len().min(MAX_INCLUDE)];
        out.extend_from_slice(esc(&String::from_utf8_lossy(data)).as_bytes());
    }

    /// An included PHP file of the application "runs": the static ones print
    /// their text, the others print nothing here.
    fn run_php(&self, path: &str, out: &mut Vec<u8>) {
        let name = path.rsplit('/').next().unwrap_or(path);
        match name {
            "about.php" => out.extend_from_slice(ABOUT_HTML.as_bytes()),
            "contact.php" => out.extend_from_slice(CONTACT_HTML.as_bytes()),
            _ => {}
        }
    }

    /// A file as PHP's plain wrapper reads it as www-data: its bytes, or why not
    /// (`Err`), or None if it does not exist. The application's own scripts are
    /// its fake sources; the rest is the fake machine's filesystem.
    fn read(&self, target: &str) -> Option<Result<Vec<u8>, &'static str>> {
        if target.len() > MAX_PARAM {
            return Some(Err("File name too long"));
        }
        let path = crate::shell::fs::normalize(DOCROOT, "/var/www", target);
        if let Some(name) = path.strip_prefix("/var/www/html/") {
            if let Some(source) = self.source(name) {
                return Some(Ok(source.into_bytes()));
            }
            if name == "terms.txt" {
                return Some(Ok(TERMS_TXT.as_bytes().to_vec()));
            }
        }
        if path == "/var/www/html" || path == "/var/www/html/" {
            return Some(Err("Is a directory"));
        }
        let fs = self.world.new_fs();
        let node = fs.get(&path)?;
        let node = node.into_owned();
        let readable = node.uid == 33 || node.mode & 0o004 != 0;
        if node.is_dir() {
            return Some(Err("Is a directory"));
        }
        if !readable {
            return Some(Err("Permission denied"));
        }
        Some(
            fs.read(&path)
                .map(|d| d.to_vec())
                .map_err(|_| "No such file or directory"),
        )
    }

    /// The fake PHP source of one of the application's files.
    fn source(&self, name: &str) -> Option<String> {
        if name == "config.php" {
            return Some(self.config_php.clone());
        }
        if name == "about.php" {
            return Some(format!("<?php /* static page */ ?>\n{ABOUT_HTML}"));
        }
        if name == "contact.php" {
            return Some(format!("<?php /* static page */ ?>\n{CONTACT_HTML}"));
        }
        let script = SCRIPTS.iter().find(|(p, _)| p[1..] == *name)?.1;
        let body = match script {
            Script::Home => SOURCE_INDEX,
            Script::Product => SOURCE_PRODUCT,
            Script::News => SOURCE_NEWS,
            Script::Category => SOURCE_CATEGORY,
            Script::Search => SOURCE_SEARCH,
            Script::Login => SOURCE_LOGIN,
            Script::Viewer => SOURCE_VIEWER,
            Script::Ping => SOURCE_PING,
            Script::Cart => SOURCE_CART,
        };
        Some(body.to_owned())
    }
}

fn is_php(path: &str) -> bool {
    path.ends_with(".php") && path.starts_with(DOCROOT)
        || (!path.starts_with('/') && path.ends_with(".php"))
}

fn rot13(b: u8) -> u8 {
    match b {
        b'a'..=b'z' => (b - b'a' + 13) % 26 + b'a',
        b'A'..=b'Z' => (b - b'A' + 13) % 26 + b'A',
        _ => b,
    }
}

/// iputils' `ping -c 3` to `host`, as far as the fake machine can tell.
fn ping_output(host: &str) -> Vec<u8> {
    if host.is_empty() {
        return Vec::new();
    }
    let valid = host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':');
    if !valid {
        return Vec::new();
    }
    let ip: Option<std::net::Ipv4Addr> = host.parse().ok();
    let Some(ip) = ip.or_else(|| (host == "localhost").then_some(std::net::Ipv4Addr::LOCALHOST))
    else {
        // Names do not resolve from the web server (stderr: not shown).
        return Vec::new();
    };
    let local = ip.is_loopback();
    let mut out = String::new();
    let _ = writeln!(out, "PING {host} ({ip}) 56(84) bytes of data.");
    let times: [f64; 3] = if local {
        [0.041, 0.052, 0.047]
    } else {
        [11.8, 12.3, 11.9]
    };
    for (i, t) in times.iter().enumerate() {
        let _ = writeln!(
            out,
            "64 bytes from {ip}: icmp_seq={} ttl={} time={t:.3} ms",
            i + 1,
            if local { 64 } else { 57 }
        );
    }
    let _ = writeln!(out, "\n--- {host} ping statistics ---");
    let _ = writeln!(
        out,
        "3 packets transmitted, 3 received, 0% packet loss, time {}ms",
        if local { 2043 } else { 2003 }
    );
    let avg = times.iter().sum::<f64>() / 3.0;
    let _ = writeln!(
        out,
        "rtt min/avg/max/mdev = {:.3}/{avg:.3}/{:.3}/{:.3} ms",
        times[0].min(times[2]),
        times[1],
        0.004
    );
    out.into_bytes()
}

/// PHP's two warnings for an include that could not open its file.
fn include_failed(out: &mut Vec<u8>, script: &str, line: u32, target: &str, reason: &str) {
    include_failed_open(out, script, line, target, reason);
}

fn include_failed_open(out: &mut Vec<u8>, script: &str, line: u32, target: &str, reason: &str) {
    let t = esc(target);
    let _ = write!(
        Utf8(out),
        "<br />\n<b>Warning</b>:  include({t}): Failed to open stream: {reason} in <b>{DOCROOT}/{script}</b> on line <b>{line}</b><br />\n<br />\n<b>Warning</b>:  include(): Failed opening '{t}' for inclusion (include_path='.:/usr/share/php') in <b>{DOCROOT}/{script}</b> on line <b>{line}</b><br />\n"
    );
}

/// PHP 8.2's uncaught `mysqli_sql_exception` with `display_errors` on.
fn fatal_sql(out: &mut Vec<u8>, script: &str, line: u32, query: &str, message: &str) {
    // PHP shows string arguments cut at 15 bytes.
    let mut shown: String = query.chars().take(15).collect();
    if query.chars().count() > 15 {
        shown.push_str("...");
    }
    let _ = write!(
        Utf8(out),
        "<br />\n<b>Fatal error</b>:  Uncaught mysqli_sql_exception: {} in {DOCROOT}/{script}:{line}\nStack trace:\n#0 {DOCROOT}/{script}({line}): mysqli_query(Object(mysqli), &#039;{}&#039;)\n#1 {{main}}\n  thrown in <b>{DOCROOT}/{script}</b> on line <b>{line}</b><br />\n",
        esc(message),
        esc(&shown)
    );
}

fn listing(out: &mut Vec<u8>, rows: &[Vec<sql::Value>]) {
    out.extend_from_slice(b"<ul class=\"products\">\n");
    for row in rows {
        let cell = |i: usize| row.get(i).map(sql::Value::text).unwrap_or_default();
        let _ = writeln!(
            Utf8(out),
            "<li><a href=\"product.php?id={}\">{}</a> <span class=\"price\">${}</span></li>",
            esc(&cell(0)),
            esc(&cell(1)),
            esc(&cell(3))
        );
    }
    if rows.is_empty() {
        out.extend_from_slice(b"<li>No products in this category.</li>\n");
    }
    out.extend_from_slice(b"</ul>\n");
}

fn header(out: &mut Vec<u8>, title: &str) {
    let _ = write!(
        Utf8(out),
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title} - Northwind Supply</title>\n<link rel=\"stylesheet\" href=\"css/style.css\">\n</head>\n<body>\n<div id=\"header\">\n<h1><a href=\"index.php\">Northwind Supply</a></h1>\n<ul id=\"nav\"><li><a href=\"index.php\">Home</a></li><li><a href=\"news.php\">News</a></li><li><a href=\"search.php\">Search</a></li><li><a href=\"index.php?page=about.php\">About</a></li><li><a href=\"index.php?page=contact.php\">Contact</a></li><li><a href=\"login.php\">Login</a></li></ul>\n</div>\n<div id=\"content\">\n"
    );
}

fn footer(out: &mut Vec<u8>) {
    out.extend_from_slice(
        b"</div>\n<div id=\"footer\">&copy; 2016-2026 Northwind Supply &middot; <a href=\"ping.php\">Network status</a></div>\n</body>\n</html>\n",
    );
}

/// HTML-escaped text (as `htmlspecialchars` with ENT_QUOTES).
fn esc(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    super::profile::escape_html(text, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// `write!` into a byte buffer.
struct Utf8<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Utf8<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Query or form parameters, decoded as PHP does (the last of a name wins).
#[derive(Default)]
struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    fn read(&mut self, raw: &[u8]) {
        for pair in raw.split(|b| *b == b'&').take(MAX_PARAMS) {
            if pair.is_empty() {
                continue;
            }
            let mut it = pair.splitn(2, |b| *b == b'=');
            let name = form_decode(it.next().unwrap_or(b""));
            let mut value = form_decode(it.next().unwrap_or(b""));
            if value.len() > MAX_PARAM {
                let mut cut = MAX_PARAM;
                while !value.is_char_boundary(cut) {
                    cut -= 1;
                }
                value.truncate(cut);
            }
            self.pairs.retain(|(n, _)| *n != name);
            self.pairs.push((name, value));
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn form_decode(raw: &[u8]) -> String {
    let plus: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let mut out = Vec::with_capacity(plus.len());
    if super::decode::percent_decode(&plus, &mut out) {
        String::from_utf8_lossy(&out).into_owned()
    } else {
        String::from_utf8_lossy(&plus).into_owned()
    }
}

const ABOUT_HTML: &str = "<h2>About us</h2>\n<p>Northwind Supply has served contractors and home improvers since 2016. Visit our store at 1400 Harbor Road, open Monday to Saturday.</p>\n";
const CONTACT_HTML: &str = "<h2>Contact</h2>\n<p>Phone: (555) 014-2290<br>Email: <a href=\"mailto:sales@northwind-supply.com\">sales@northwind-supply.com</a></p>\n";
const TERMS_TXT: &str = "NORTHWIND SUPPLY - TERMS OF SALE\n\n1. Prices include VAT.\n2. Returns within 30 days with receipt.\n3. Warranty as stated by the manufacturer.\n";

const CONFIG_PHP: &str = "<?php\n// Database settings\n$db_host = 'localhost';\n$db_user = 'shop';\n$db_pass = '{{db_password}}';\n$db_name = 'shop';\n\n$conn = mysqli_connect($db_host, $db_user, $db_pass, $db_name);\nif (!$conn) {\n    die('Could not connect: ' . mysqli_connect_error());\n}\nmysqli_set_charset($conn, 'utf8mb4');\n";
const SOURCE_INDEX: &str = "<?php\ninclude 'config.php';\ninclude 'header.php';\n\nif (isset($_GET['id'])) {\n    header('Location: product.php?id=' . $_GET['id']);\n}\n\n// pages: about.php, contact.php\nif (isset($_GET['page'])) {\n    $page = $_GET['page'];\n\n\n\n\n\n\n\n\n\n\n\n    include($page);\n} else {\n    include 'home.php';\n}\n\ninclude 'footer.php';\n";
const SOURCE_PRODUCT: &str = "<?php\ninclude 'config.php';\ninclude 'header.php';\n\n$id = $_GET['id'];\n\n\n\n\n\n\n\n$sql = \"SELECT * FROM products WHERE id=\" . $id;\n$result = mysqli_query($conn, $sql);\n\nwhile ($row = mysqli_fetch_array($result)) {\n    echo '<div class=\"product\">';\n    echo '<h2>' . htmlspecialchars($row[1]) . '</h2>';\n    echo '<p class=\"price\">Price: $' . htmlspecialchars($row[3]) . '</p>';\n    echo '<p>' . htmlspecialchars($row[2]) . '</p>';\n    echo '<p>In stock: ' . htmlspecialchars($row[4]) . '</p>';\n    echo '</div>';\n}\ninclude 'footer.php';\n";
const SOURCE_NEWS: &str = "<?php\ninclude 'config.php';\ninclude 'header.php';\n\nif (!isset($_GET['id'])) {\n    include 'news_list.php';\n    exit;\n}\n\n\n$sql = \"SELECT * FROM news WHERE id=\" . $_GET['id'];\n$result = mysqli_query($conn, $sql);\nwhile ($row = mysqli_fetch_array($result)) {\n    echo '<h2>' . htmlspecialchars($row['title']) . '</h2>';\n    echo '<p>' . htmlspecialchars($row['body']) . '</p>';\n}\ninclude 'footer.php';\n";
const SOURCE_CATEGORY: &str = "<?php\ninclude 'config.php';\ninclude 'header.php';\n\n$cat = isset($_GET['id']) ? $_GET['id'] : 1;\n\n\n\n\n$result = mysqli_query($conn, \"SELECT * FROM products WHERE category_id=$cat\");\nwhile ($row = mysqli_fetch_array($result)) {\n    echo '<li><a href=\"product.php?id=' . $row['id'] . '\">' . htmlspecialchars($row['name']) . '</a></li>';\n}\ninclude 'footer.php';\n";
const SOURCE_SEARCH: &str = "<?php\ninclude 'config.php';\ninclude 'header.php';\n\nif (isset($_GET['q'])) {\n    $q = $_GET['q'];\n\n\n    $result = mysqli_query($conn, \"SELECT id, name, price FROM products WHERE name LIKE '%$q%'\");\n    echo '<p>' . mysqli_num_rows($result) . ' result(s) for <b>' . htmlspecialchars($q) . '</b></p>';\n}\ninclude 'footer.php';\n";
const SOURCE_LOGIN: &str = "<?php\nsession_start();\ninclude 'config.php';\ninclude 'header.php';\n\nif ($_SERVER['REQUEST_METHOD'] == 'POST') {\n    $user = $_POST['username'];\n    $pass = md5($_POST['password']);\n\n\n\n\n\n\n\n\n\n    $result = mysqli_query($conn, \"SELECT id, username, role FROM users WHERE username='$user' AND password='$pass'\");\n    if ($row = mysqli_fetch_assoc($result)) {\n        $_SESSION['user'] = $row['username'];\n        echo 'Welcome back, ' . htmlspecialchars($row['username']) . '!';\n    } else {\n        echo 'Invalid username or password.';\n    }\n}\ninclude 'footer.php';\n";
const SOURCE_VIEWER: &str = "<?php\ninclude 'header.php';\n$file = isset($_GET['page']) ? $_GET['page'] : $_GET['file'];\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\ninclude($file);\ninclude 'footer.php';\n";
const SOURCE_CART: &str = "<?php\nsession_start();\ninclude 'config.php';\ninclude 'header.php';\nif (isset($_POST['product_id'])) {\n    $id = $_POST['product_id'];\n    $result = mysqli_query($conn, \"SELECT id, name, price FROM products WHERE id=$id\");\n    $row = mysqli_fetch_row($result);\n    $_SESSION['cart'][] = $row[0];\n}\ninclude 'footer.php';\n";
const SOURCE_PING: &str = "<?php\ninclude 'header.php';\nif (isset($_GET['ip'])) {\n    $ip = $_GET['ip'];\n    echo '<pre>' . htmlspecialchars(shell_exec('ping -c 3 ' . $ip)) . '</pre>';\n}\ninclude 'footer.php';\n";

#[cfg(test)]
mod tests;

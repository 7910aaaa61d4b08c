//! A bounded Telnet failed-login load client for benchmarks (loopback only).
//!
//! It does what `../shared/peers/telnet_login_load.py` does, in compiled code so
//! that the client is not the limit of the measurement (that Python client spends
//! a whole core at about 6,000 attempts a second). Each attempt is a new
//! connection: wait for `login:`, send the user name, wait for `Password:`, send a
//! wrong password, wait for the answer (`login:`, `incorrect`, `#` or `$`), close.
//! Telnet negotiation from the server is never answered, as Mirai-style scanners
//! do. Every step has its own timeout; prompts are matched case-insensitively
//! anywhere in what the step has read, as the Python client does.
//!
//! One JSON line is printed with the same fields as the Python client (attempts,
//! errors by kind, rate, latency percentiles, the client's CPU), plus
//! `no_answer` (attempts whose answer did not come within the timeout; the Python
//! client counts them as attempts with their latency too, and so does this one).
//!
//! Bounded: at most 100,000 connections, 2,000 at once, and `--max-seconds` of
//! wall time after which no new attempt starts. The target must be a loopback
//! address. A single-threaded runtime: one core, as the Python client, so figures
//! compare; pin it with `taskset`.
//!
//!   cargo run --release -p nectar-honeypot --example telnet_login_load -- \
//!       --port 2324 --total 4000 --concurrency 200 --user admin --password wrongpass

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_TOTAL: usize = 100_000;
const MAX_CONCURRENCY: usize = 2_000;
/// Most bytes one step keeps while looking for its prompt (a server that talks
/// forever still ends the step at its timeout, with bounded memory).
const MAX_STEP_BYTES: usize = 64 * 1024;

#[derive(Parser, Debug)]
#[command(about = "Bounded Telnet failed-login load client (loopback only)")]
struct Args {
    /// Target address; must be loopback.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    #[arg(long, default_value_t = 2223)]
    port: u16,
    /// Connections (attempts) in total, at most 100,000.
    #[arg(long, default_value_t = 1000)]
    total: usize,
    /// Connections open at once, at most 2,000.
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
    #[arg(long, default_value = "admin")]
    user: String,
    #[arg(long, default_value = "admin")]
    password: String,
    /// Seconds each step (connect, each prompt, the answer) may take.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Wall-clock bound of the whole run: no attempt starts after it.
    #[arg(long, default_value_t = 600.0)]
    max_seconds: f64,
}

/// What the run counted.
#[derive(Default)]
struct Stats {
    attempts: usize,
    no_answer: usize,
    errors: BTreeMap<String, usize>,
    latencies: Vec<Duration>,
}

impl Stats {
    fn error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_owned()).or_insert(0) += 1;
    }
}

/// How one step ended.
enum Step {
    Seen,
    /// Timeout or end of stream before the prompt.
    Missed,
    Failed(std::io::Error),
}

/// Reads until one of `needles` (lower case) appears in what this step has read.
async fn expect(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    needles: &[&[u8]],
    timeout: Duration,
) -> Step {
    buf.clear();
    let end = tokio::time::Instant::now() + timeout;
    let mut chunk = [0u8; 4096];
    loop {
        let n = match tokio::time::timeout_at(end, stream.read(&mut chunk)).await {
            Err(_) | Ok(Ok(0)) => return Step::Missed,
            Ok(Err(e)) => return Step::Failed(e),
            Ok(Ok(n)) => n,
        };
        if buf.len() + n > MAX_STEP_BYTES {
            buf.clear();
        }
        buf.extend(chunk[..n].iter().map(u8::to_ascii_lowercase));
        if needles.iter().any(|needle| contains(buf, needle)) {
            return Step::Seen;
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn error_name(e: &std::io::Error) -> String {
    format!("{:?}", e.kind())
}

/// One attempt on a new connection.
async fn attempt(
    target: SocketAddr,
    user: &[u8],
    password: &[u8],
    timeout: Duration,
    stats: &Mutex<Stats>,
) {
    let started = Instant::now();
    let record = |f: &dyn Fn(&mut Stats)| f(&mut stats.lock().unwrap_or_else(|p| p.into_inner()));
    let mut stream = match tokio::time::timeout(timeout, TcpStream::connect(target)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return record(&|s| s.error(&error_name(&e))),
        Err(_) => return record(&|s| s.error("connect_timeout")),
    };
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(512);
    match expect(&mut stream, &mut buf, &[b"login:"], timeout).await {
        Step::Seen => {}
        Step::Missed => return record(&|s| s.error("no_login_prompt")),
        Step::Failed(e) => return record(&|s| s.error(&error_name(&e))),
    }
    if let Err(e) = stream.write_all(user).await {
        return record(&|s| s.error(&error_name(&e)));
    }
    match expect(&mut stream, &mut buf, &[b"password:"], timeout).await {
        Step::Seen => {}
        Step::Missed => return record(&|s| s.error("no_password_prompt")),
        Step::Failed(e) => return record(&|s| s.error(&error_name(&e))),
    }
    if let Err(e) = stream.write_all(password).await {
        return record(&|s| s.error(&error_name(&e)));
    }
    record(&|s| s.attempts += 1);
    let answer = expect(
        &mut stream,
        &mut buf,
        &[b"login:", b"incorrect", b"#", b"$"],
        timeout,
    )
    .await;
    let latency = started.elapsed();
    record(&|s| {
        match &answer {
            Step::Seen => {}
            Step::Missed => s.no_answer += 1,
            Step::Failed(e) => s.error(&error_name(e)),
        }
        s.latencies.push(latency);
    });
}

/// CPU seconds (user + system) of this process so far, from /proc (USER_HZ is 100
/// on Linux).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args = Args::parse();
    if !args.host.is_loopback() {
        eprintln!(
            "--host: refusing a non-loopback target ({}); use 127.0.0.1 or ::1",
            args.host
        );
        std::process::exit(2);
    }
    if args.total > MAX_TOTAL || args.concurrency == 0 || args.concurrency > MAX_CONCURRENCY {
        eprintln!(
            "bounded tool: --total at most {MAX_TOTAL}, --concurrency 1 to {MAX_CONCURRENCY}"
        );
        std::process::exit(2);
    }
    // Written so that NaN fails too.
    let within = |value: f64, max: f64| value > 0.0 && value <= max;
    if !within(args.timeout, 300.0) {
        eprintln!("--timeout: must be more than 0 and at most 300 seconds");
        std::process::exit(2);
    }
    if !within(args.max_seconds, 3600.0) {
        eprintln!("--max-seconds: must be more than 0 and at most 3600");
        std::process::exit(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(run(args));
}

async fn run(args: Args) {
    let target = SocketAddr::new(args.host, args.port);
    let timeout = Duration::from_secs_f64(args.timeout);
    let user: Arc<[u8]> = [args.user.as_bytes(), b"\r\n"].concat().into();
    let password: Arc<[u8]> = [args.password.as_bytes(), b"\r\n"].concat().into();
    let stats = Arc::new(Mutex::new(Stats::default()));
    let left = Arc::new(AtomicUsize::new(args.total));
    let started = Instant::now();
    let stop_at = started + Duration::from_secs_f64(args.max_seconds);
    let cpu_start = cpu_seconds();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (stats, left, user, password) =
            (stats.clone(), left.clone(), user.clone(), password.clone());
        workers.spawn(async move {
            while Instant::now() < stop_at
                && left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
            {
                attempt(target, &user, &password, timeout, &stats).await;
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let mut stats = stats.lock().unwrap_or_else(|p| p.into_inner());
    stats.latencies.sort_unstable();
    let lat = &stats.latencies;
    let pct = |q: f64| -> serde_json::Value {
        if lat.is_empty() {
            return serde_json::Value::Null;
        }
        let ms = lat[(q * (lat.len() - 1) as f64) as usize].as_secs_f64() * 1000.0;
        ((ms * 10.0).round() / 10.0).into()
    };
    let line = serde_json::json!({
        "mode": "telnet-attempts",
        "client": "rust",
        "port": args.port,
        "connections": args.total,
        "started": args.total - left.load(Ordering::Relaxed),
        "concurrency": args.concurrency,
        "attempts": stats.attempts,
        "no_answer": stats.no_answer,
        "errors": stats.errors,
        "elapsed_s": (elapsed * 100.0).round() / 100.0,
        "attempts_per_s": (stats.attempts as f64 / elapsed * 10.0).round() / 10.0,
        "latency_ms_p50": pct(0.5),
        "latency_ms_p99": pct(0.99),
        "client_cpu_pct": (1000.0 * cpu / elapsed).round() / 10.0,
    });
    println!("{line}");
}

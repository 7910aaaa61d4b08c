//! The floor of the Telnet benchmark: a trivial server that speaks the same bytes
//! as the Telnet honeypot's failed login (BusyBox negotiation, `login:`, echo of
//! the user name, `Password:`, `Login incorrect` and the next `login:`) and does
//! nothing else: no events, no store, no limits beyond the ones below. What it
//! costs a connection is what the kernel's TCP and Tokio cost; what `nectar serve`
//! costs above it is Nectar's own. Benchmarks only, not a honeypot.
//!
//! Same runtime as `nectar serve` (multi-threaded, one worker per allowed core).
//! Loopback only; bounded: 12,000 connections at once, 4 KiB read per connection,
//! 30 s idle, and `--max-seconds` of life.
//!
//!   cargo run --release -p nectar-honeypot --example telnet_floor_server -- --port 2325

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;

const MAX_CONNECTIONS: usize = 12_000;
const MAX_READ: usize = 4096;
const IDLE: Duration = Duration::from_secs(30);
/// IAC DO ECHO, IAC DO NAWS, IAC WILL ECHO, IAC WILL SGA, then the issue and prompt:
/// the honeypot's first write in its BusyBox profile.
const GREETING: &[u8] = b"\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03\r\ncam-1 login: ";
const REFUSED: &[u8] = b"\r\nLogin incorrect\r\ncam-1 login: ";

#[derive(Parser, Debug)]
#[command(about = "Trivial Telnet login server: the floor of the Telnet benchmark")]
struct Args {
    /// Listen address; must be loopback.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    #[arg(long, default_value_t = 2325)]
    port: u16,
    /// Exit after this many seconds.
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
    #[arg(long, default_value_t = 4096)]
    backlog: u32,
}

fn main() {
    let args = Args::parse();
    if !args.host.is_loopback() {
        eprintln!(
            "--host: loopback only ({}): use 127.0.0.1 or ::1",
            args.host
        );
        std::process::exit(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let life = Duration::from_secs(args.max_seconds);
    // Past its life the server just stops (a bounded benchmark tool).
    if let Ok(Err(e)) = runtime.block_on(async { tokio::time::timeout(life, serve(args)).await }) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

async fn serve(args: Args) -> std::io::Result<()> {
    let addr = SocketAddr::new(args.host, args.port);
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(args.backlog)?;
    eprintln!("listening on {}", listener.local_addr()?);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        tokio::spawn(async move {
            let _ = tokio::time::timeout(IDLE, login(stream)).await;
            drop(slot);
        });
    }
}

/// One failed login, then reads until the client closes.
async fn login(mut stream: TcpStream) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    stream.write_all(GREETING).await?;
    let mut buf = [0u8; 512];
    let mut read = 0usize;
    let mut lines = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        read += n;
        if n == 0 || read > MAX_READ {
            return Ok(());
        }
        let mut out = Vec::new();
        for &byte in &buf[..n] {
            match byte {
                b'\r' => {
                    lines += 1;
                    out.extend_from_slice(if lines == 1 {
                        b"\r\nPassword: "
                    } else {
                        REFUSED
                    });
                }
                b'\n' | 0 => {}
                // The user name is echoed, the password is not.
                _ if lines == 0 => out.push(byte),
                _ => {}
            }
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
        }
    }
}

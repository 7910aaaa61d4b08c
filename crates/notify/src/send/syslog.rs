//! Syslog over UDP (a datagram per message, RFC 5426) or TCP (a connection
//! per message, octet-counting framing, RFC 6587). The address is looked up
//! at each attempt, so a receiver that moves is found again.
//!
//! A connection per message rather than a kept one: a write to a kept
//! connection the receiver already dropped can succeed locally and lose the
//! message; connect, write, shut down makes each attempt stand on its own.
//! Over UDP nothing confirms arrival: "delivered" means "sent".

use std::net::SocketAddr;
use std::time::Duration;

use nectar_store::DueDelivery;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

use crate::config::{ChannelConfig, SyslogProtocol};
use crate::error::SendError;
use crate::render::syslog::octet_counted;

/// A syslog channel.
#[derive(Debug)]
pub struct SyslogSender {
    address: String,
    protocol: SyslogProtocol,
    timeout: Duration,
}

impl SyslogSender {
    /// The sender for `channel`.
    pub fn build(channel: &ChannelConfig) -> SyslogSender {
        SyslogSender {
            address: channel.address.clone(),
            protocol: channel.protocol,
            timeout: Duration::from_secs(channel.timeout_seconds),
        }
    }

    /// Sends `delivery`'s message (already bounded to 2048 bytes).
    pub async fn send(&self, delivery: &DueDelivery) -> Result<(), SendError> {
        tokio::time::timeout(self.timeout, self.attempt(&delivery.payload))
            .await
            .map_err(|_| SendError::retry("no answer within the channel's timeout"))?
    }

    async fn attempt(&self, message: &str) -> Result<(), SendError> {
        let addr = self.resolve().await?;
        let io = |what: &str, e: std::io::Error| SendError::retry(format!("{what} {addr}: {e}"));
        match self.protocol {
            SyslogProtocol::Udp => {
                let local: SocketAddr = if addr.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    ([0u16; 8], 0).into()
                };
                let socket = UdpSocket::bind(local)
                    .await
                    .map_err(|e| io("bind for", e))?;
                socket
                    .send_to(message.as_bytes(), addr)
                    .await
                    .map_err(|e| io("send to", e))?;
            }
            SyslogProtocol::Tcp => {
                let mut stream = TcpStream::connect(addr)
                    .await
                    .map_err(|e| io("connect to", e))?;
                let framed = octet_counted(message);
                stream
                    .write_all(&framed)
                    .await
                    .map_err(|e| io("write to", e))?;
                stream.shutdown().await.map_err(|e| io("close", e))?;
            }
        }
        Ok(())
    }

    async fn resolve(&self) -> Result<SocketAddr, SendError> {
        tokio::net::lookup_host(&self.address)
            .await
            .map_err(|e| SendError::retry(format!("cannot resolve {}: {e}", self.address)))?
            .next()
            .ok_or_else(|| SendError::retry(format!("{} has no address", self.address)))
    }
}

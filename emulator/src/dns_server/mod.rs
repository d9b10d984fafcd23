//! The emulator's DNS server: what a client's resolver would see for the names the
//! emulated Azure holds. CNAME record sets of the Azure DNS zones (the CMG's service
//! name -> deployment name) and the public IP addresses' FQDNs
//! (`{label}.{region}.cloudapp.azure.com` -> the IP), over UDP and TCP on 127.0.0.1 at
//! an OS-chosen port (the same port for both), started and stopped with the emulator.
//! Everything else is NXDOMAIN: it forwards nothing, so a test never leaves the machine.
//!
//! Layout: `names` (what the store holds, read per query), `answer` (one question
//! answered, and the reply's wire form through hickory-proto), this file (sockets).
//! TCP framing is the two-byte length prefix of RFC 1035 §4.2.2.

mod answer;
pub(crate) mod names;

use crate::app::Shared;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// How long a TCP connection may sit idle between queries (RFC 7766 §6.2.3 asks servers
/// to time idle clients out; a few seconds is what it suggests).
const TCP_IDLE: Duration = Duration::from_secs(10);

/// How many times to look for a port free for both UDP and TCP.
const BIND_TRIES: usize = 16;

/// A running DNS server. Dropping it stops it.
pub(crate) struct DnsServer {
    addr: SocketAddr,
    state: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl DnsServer {
    /// Where it listens (UDP and TCP).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Store a public IP address resource with a DNS name, in the shape the ARM routes
    /// give one (issue 7 contract). Test support until those routes exist.
    pub(crate) fn put_public_ip(
        &self,
        name: &str,
        fqdn: &str,
        ip: std::net::IpAddr,
    ) -> Result<(), crate::store::StoreError> {
        let label = fqdn
            .split('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let doc = serde_json::json!({
            "name": name,
            "type": "Microsoft.Network/publicIPAddresses",
            "sku": {"name": "Standard"},
            "properties": {
                "provisioningState": "Succeeded",
                "ipAddress": ip.to_string(),
                "publicIPAllocationMethod": "Static",
                "dnsSettings": {"domainNameLabel": label, "fqdn": fqdn},
            },
        });
        let collection = names::PUBLIC_IP_COLLECTIONS[0];
        let key = fqdn.to_ascii_lowercase();
        self.state.store.write(|db| {
            if db.get(collection, &key)?.is_some() {
                db.update(collection, &key, &doc)
            } else {
                db.insert(collection, &key, &doc)
            }
        })
    }

    /// Stop serving and wait until the sockets are closed.
    pub(crate) async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The DNS server's sockets, bound before the emulator's shared state is made so that
/// the state can carry the address (`GET /_emulator/dns`).
pub(crate) struct Bound {
    udp: UdpSocket,
    tcp: TcpListener,
    addr: SocketAddr,
}

impl Bound {
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve from `state` until stopped.
    pub(crate) fn serve(self, state: Shared) -> DnsServer {
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(serve(self.udp, self.tcp, state.clone(), rx));
        DnsServer {
            addr: self.addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        }
    }
}

/// Bind UDP on 127.0.0.1 at an OS-chosen port, then TCP on the same port (a resolver
/// retries a truncated answer over TCP at the address it asked).
pub(crate) async fn bind() -> std::io::Result<Bound> {
    let mut last = None;
    for _ in 0..BIND_TRIES {
        let udp = UdpSocket::bind(("127.0.0.1", 0)).await?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok(Bound { udp, tcp, addr }),
            // Someone holds that port for TCP: try another.
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port free for UDP and TCP")))
}

/// Bind and serve from `state`.
#[cfg(test)]
pub(crate) async fn start(state: Shared) -> std::io::Result<DnsServer> {
    Ok(bind().await?.serve(state))
}

async fn serve(udp: UdpSocket, tcp: TcpListener, state: Shared, shutdown: oneshot::Receiver<()>) {
    // The largest UDP datagram; anything bigger than a DNS message is cut by the OS and
    // then fails to parse, which is answered like any malformed query.
    let mut buf = vec![0u8; 65_535];
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            got = udp.recv_from(&mut buf) => match got {
                Ok((n, peer)) => {
                    let query = buf.get(..n).unwrap_or_default();
                    if let Some(out) = answer::reply(query, || names(&state), true) {
                        // A lost UDP reply is the client's to retry, as in any DNS.
                        let _ = udp.send_to(&out, peer).await;
                    }
                }
                // ICMP port-unreachable from an earlier reply surfaces here on some
                // systems (ECONNRESET on Windows): not fatal, keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            accepted = tcp.accept() => match accepted {
                Ok((stream, _)) => { conns.spawn(serve_tcp(stream, state.clone())); }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    // Open TCP connections are idle clients between queries: close them.
    conns.shutdown().await;
}

/// Queries on one TCP connection, each a two-byte length and the message, until the
/// client closes it, sends something that is not DNS, or stays idle too long.
async fn serve_tcp(mut stream: TcpStream, state: Shared) {
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut msg)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let Some(out) = answer::reply(&msg, || names(&state), false) else {
            return;
        };
        // `reply` keeps a TCP answer within u16::MAX; refuse rather than wrap if not.
        let Ok(n) = u16::try_from(out.len()) else {
            return;
        };
        let mut framed = Vec::with_capacity(out.len() + 2);
        framed.extend_from_slice(&n.to_be_bytes());
        framed.extend_from_slice(&out);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

fn names(state: &Shared) -> Result<names::Names, crate::store::StoreError> {
    state.store.read(names::Names::read)
}

#[cfg(test)]
mod tests;

//! A TCP proxy between a client and the frontend that damages what the
//! frontend sends: every copy of a byte string (the needle) gets a bit
//! flipped, or the response is cut just before the first. A cut response
//! loses its `Content-Length` (and says `connection: close`), so to HTTP
//! the cut is a clean end of a body read to EOF: only an end-to-end check
//! can tell. Heads are rewritten on a connection's first response only,
//! so tests that drop a header or cut make one request per connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// What happens to the needle.
#[derive(Clone, Copy, Debug)]
pub enum Damage {
    /// Its first byte gets its low bit flipped, wherever it occurs.
    Flip,
    /// The response ends just before it.
    Cut,
}

#[derive(Clone, Debug)]
pub struct Tamper {
    pub needle: Vec<u8>,
    pub damage: Damage,
    /// A header dropped from the first response of each connection.
    pub drop_header: Option<&'static str>,
}

/// A running proxy; stops with the test's runtime.
pub struct Proxy {
    pub url: String,
    damaged: Arc<AtomicUsize>,
}

impl Proxy {
    /// Times the needle was damaged so far.
    pub fn damaged(&self) -> usize {
        self.damaged.load(Ordering::SeqCst)
    }
}

/// Proxies `127.0.0.1:0` to the frontend at `upstream` (`http://host:port`).
pub async fn start(upstream: &str, tamper: Tamper) -> Proxy {
    assert!(!tamper.needle.is_empty());
    let upstream = upstream.trim_start_matches("http://").to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let damaged = Arc::new(AtomicUsize::new(0));
    let count = damaged.clone();
    let tamper = Arc::new(tamper);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                continue;
            };
            let (mut client_r, client_w) = client.into_split();
            let (server_r, mut server_w) = server.into_split();
            let (tamper, count) = (tamper.clone(), count.clone());
            tokio::spawn(async move {
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_r, &mut server_w).await;
                    let _ = server_w.shutdown().await;
                });
                let _ = down(server_r, client_w, &tamper, &count).await;
                up.abort();
            });
        }
    });
    Proxy { url, damaged }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Server to client: the first response head rewritten, then the bytes
/// with the needle damaged.
async fn down(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    t: &Tamper,
    count: &AtomicUsize,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending = Vec::new();
    let head_end = loop {
        if let Some(i) = find(&pending, b"\r\n\r\n") {
            break i + 4;
        }
        let n = from.read(&mut buf).await?;
        if n == 0 || pending.len() > 64 * 1024 {
            return to.write_all(&pending).await;
        }
        pending.extend_from_slice(&buf[..n]);
    };
    let body = pending.split_off(head_end);
    to.write_all(&rewrite_head(&pending, t)).await?;
    pending = body;
    loop {
        // A flipped needle no longer matches, so this finds each copy once.
        while let Some(i) = find(&pending, &t.needle) {
            count.fetch_add(1, Ordering::SeqCst);
            match t.damage {
                Damage::Flip => pending[i] ^= 1,
                Damage::Cut => {
                    to.write_all(&pending[..i]).await?;
                    return to.shutdown().await;
                }
            }
        }
        let send = pending.len() - needle_start(&pending, &t.needle);
        to.write_all(&pending[..send]).await?;
        pending.drain(..send);
        let n = from.read(&mut buf).await?;
        if n == 0 {
            to.write_all(&pending).await?;
            return to.shutdown().await;
        }
        pending.extend_from_slice(&buf[..n]);
    }
}

/// The length of the longest tail of `pending` that starts `needle`: it
/// waits for the next read. Anything else goes on at once, so a response
/// that does not end like the start of a needle is not held back (tests
/// pick needles to make sure: see `end_to_end::needle_at`).
fn needle_start(pending: &[u8], needle: &[u8]) -> usize {
    (1..needle.len().min(pending.len() + 1))
        .rev()
        .find(|&k| pending.ends_with(&needle[..k]))
        .unwrap_or(0)
}

fn rewrite_head(head: &[u8], t: &Tamper) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    for line in text.split_inclusive("\r\n") {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        let cut = matches!(t.damage, Damage::Cut);
        if Some(name.as_str()) == t.drop_header
            || (cut && (name == "content-length" || name == "connection"))
        {
            continue;
        }
        if line == "\r\n" && cut {
            out.push_str("connection: close\r\n");
        }
        out.push_str(line);
    }
    out.into_bytes()
}

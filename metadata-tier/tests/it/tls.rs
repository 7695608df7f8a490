//! The one server loop in TLS, through real sockets and a real TLS
//! client: a handshake that never finishes holds a connection place until
//! its timeout, blocks nobody meanwhile and is cut then; a failed one
//! leaves the loop serving.

use axum::routing::get;
use axum::Router;
use metadata_tier::net::tls::{CertFiles, ReloadingCert};
use metadata_tier::net::{serve_tls, Limits};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

struct Server {
    addr: SocketAddr,
    trusting: TlsConnector,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn start(limits: Limits) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let files = CertFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    std::fs::write(&files.cert, c.cert.pem()).unwrap();
    std::fs::write(&files.key, c.signing_key.serialize_pem()).unwrap();
    let acceptor = ReloadingCert::load(files).unwrap().acceptor().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let router = Router::new().route("/ping", get(|| async { "pong" }));
    tokio::spawn(serve_tls(
        "test-tls",
        listener,
        router,
        limits,
        Some(acceptor),
        stop.clone().cancelled_owned(),
    ));
    let mut roots = RootCertStore::empty();
    roots.add(c.cert.der().clone()).unwrap();
    Server {
        addr,
        trusting: connector(roots),
        stop,
        _dir: dir,
    }
}

fn connector(roots: RootCertStore) -> TlsConnector {
    let cfg = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(cfg))
}

/// `GET /ping` over a new TLS connection made with `tls`.
async fn ping_with(s: &Server, tls: &TlsConnector) -> std::io::Result<String> {
    let tcp = TcpStream::connect(s.addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = tls.connect(name, tcp).await?;
    conn.write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut got = Vec::new();
    // The server may close without close_notify once it has answered.
    let _ = conn.read_to_end(&mut got).await;
    Ok(String::from_utf8_lossy(&got).into_owned())
}

async fn ping(s: &Server) -> String {
    let out = tokio::time::timeout(Duration::from_secs(30), ping_with(s, &s.trusting))
        .await
        .expect("ping did not finish")
        .unwrap();
    assert!(
        out.starts_with("HTTP/1.1 200") && out.ends_with("pong"),
        "{out}"
    );
    out
}

/// A TCP connection that never sends its ClientHello.
async fn stalled(s: &Server) -> TcpStream {
    TcpStream::connect(s.addr).await.unwrap()
}

/// Whether the server has closed `conn` (EOF or reset) by the time
/// `within` is up; what it sends before (a TLS alert) is skipped.
async fn closed_within(conn: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    let until_closed = async {
        while let Ok(n) = conn.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::time::timeout(within, until_closed).await.is_ok()
}

fn limits(handshake: Duration, max_connections: usize) -> Limits {
    Limits {
        tls_handshake_timeout: handshake,
        max_connections,
        ..Limits::default()
    }
}

#[tokio::test]
async fn a_stalled_handshake_blocks_nobody() {
    let s = start(limits(Duration::from_secs(300), 16)).await;
    let idle = stalled(&s).await;
    ping(&s).await;
    ping(&s).await;
    // Served while the stalled handshake is still waiting, not after it.
    let mut buf = [0u8; 8];
    match idle.try_read(&mut buf) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the stalled connection should still be open: {other:?}"),
    }
}

#[tokio::test]
async fn a_stalled_handshake_is_cut_by_its_timeout() {
    let s = start(limits(Duration::from_millis(500), 16)).await;
    let mut idle = stalled(&s).await;
    assert!(closed_within(&mut idle, Duration::from_secs(30)).await);
    ping(&s).await;
}

#[tokio::test]
async fn a_handshake_holds_a_connection_place() {
    // One place: the stalled handshake holds it, so the ping is served
    // only once the handshake timeout has freed it.
    let s = start(limits(Duration::from_secs(2), 1)).await;
    let mut idle = stalled(&s).await;
    ping(&s).await;
    // Its FIN went out before the ping's handshake began: had the ping
    // not waited for the place, the stalled connection would stay open
    // for most of the two seconds.
    assert!(closed_within(&mut idle, Duration::from_millis(500)).await);
}

#[tokio::test]
async fn failed_handshakes_leave_the_loop_serving() {
    let s = start(limits(Duration::from_secs(10), 16)).await;
    // Plain HTTP to the TLS port.
    let mut plain = TcpStream::connect(s.addr).await.unwrap();
    plain
        .write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut plain, Duration::from_secs(30)).await);
    // A client that does not trust the certificate.
    let strangers = connector(RootCertStore::empty());
    let e = ping_with(&s, &strangers).await.unwrap_err().to_string();
    assert!(e.contains("UnknownIssuer"), "{e}");
    ping(&s).await;
}

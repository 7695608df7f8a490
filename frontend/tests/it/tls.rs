//! HTTPS on the public listeners, in process: the SDK over TLS with the
//! dev CA, a client without it refused, the plain listener beside TLS
//! (public reads and signed URLs only), a handshake that never finishes.
//! The real `mantad dev` process (SIGHUP reloads, node-manta, aws-cli) is
//! `tls_dev.rs`, which shares the helpers here.

use bytes::Bytes;
use client_sdk::{Client, PutOptions, Signer};
use frontend::testkit::{bytes, sdk_config, TestCluster, USER};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// `host:port` of an `http(s)://host:port` URL.
pub fn host_of(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, h)| h)
}

/// A TLS connection to `addr` verified with the CA in `ca` (as
/// `127.0.0.1`, one of the dev certificate's names).
pub async fn connect(addr: &str, ca: &Path) -> TlsStream<TcpStream> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca).unwrap())
        .unwrap();
    let cfg = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .unwrap()
}

/// SHA-256 of the leaf certificate a TLS session was made with.
pub fn peer_fingerprint(conn: &TlsStream<TcpStream>) -> String {
    let leaf = &conn.get_ref().1.peer_certificates().unwrap()[0];
    hex::encode(Sha256::digest(leaf.as_ref()))
}

/// SHA-256 of the leaf certificate a new connection to `addr` sees.
pub async fn fingerprint(addr: &str, ca: &Path) -> String {
    peer_fingerprint(&connect(addr, ca).await)
}

/// SHA-256 of the first certificate of a PEM file.
pub fn file_fingerprint(pem: &Path) -> String {
    hex::encode(Sha256::digest(CertificateDer::from_pem_file(pem).unwrap()))
}

/// An error with its causes, where rustls says what it refused.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn any() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

#[tokio::test(flavor = "multi_thread")]
async fn https_put_get_with_the_dev_ca() {
    let tc = TestCluster::start_with(2, |o| o.tls = true).await;
    assert!(tc.cluster.url.starts_with("https://"), "{}", tc.cluster.url);
    let data = Bytes::from(bytes(3 << 20, 11));
    tc.client
        .put_bytes("~~/stor/over-tls.bin", data.clone(), &PutOptions::default())
        .await
        .unwrap();
    assert_eq!(
        tc.client.get_bytes("~~/stor/over-tls.bin").await.unwrap(),
        data
    );
    // Both APIs present the dev certificate.
    let ca = tc.ca_file.clone().unwrap();
    let served = file_fingerprint(&tc.tls_dir().join("server.pem"));
    assert_eq!(fingerprint(host_of(&tc.cluster.url), &ca).await, served);
    let s3 = tc.cluster.s3_url.clone().unwrap();
    assert!(s3.starts_with("https://"), "{s3}");
    assert_eq!(fingerprint(host_of(&s3), &ca).await, served);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_without_the_ca_is_refused() {
    let tc = TestCluster::start_with(1, |o| o.tls = true).await;
    let key = || Signer::from_file(&tc.ssh_dir().join("id_ed25519")).unwrap();
    let stranger = Client::with_signer(sdk_config(&tc.cluster.url), Some(key())).unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(60), stranger.get_bytes("~~/stor"))
        .await
        .expect("a refused certificate must fail the request, not hang it")
        .unwrap_err();
    let why = chain(&refused);
    assert!(why.contains("UnknownIssuer"), "{why}");

    // node-manta's MANTA_TLS_INSECURE: no verification at all.
    let mut cfg = sdk_config(&tc.cluster.url);
    cfg.insecure = true;
    let insecure = Client::with_signer(cfg, Some(key())).unwrap();
    insecure.mkdirp("~~/stor/insecure").await.unwrap();

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain_url = tc.cluster.url.replace("https://", "http://");
    let r = reqwest::get(format!("{plain_url}/ping")).await;
    assert!(r.is_err(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plain_listener_serves_public_reads_and_signed_urls_only() {
    let tc = TestCluster::start_with(2, |o| {
        o.tls = true;
        o.plain_listen = Some(any());
    })
    .await;
    let plain = tc.cluster.plain_url.clone().unwrap();
    let opts = PutOptions::default();
    let put = |p: &'static str, body: &'static str| {
        tc.client
            .put_bytes(p, Bytes::from_static(body.as_bytes()), &opts)
    };
    put("~~/public/hello.txt", "hello").await.unwrap();
    put("~~/stor/secret.txt", "secret").await.unwrap();
    let http = reqwest::Client::new();
    let get = |path: String| http.get(format!("{plain}{path}"));

    // Anonymous reads of /public.
    let r = get(format!("/{USER}/public/hello.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "hello");
    assert_eq!(get("/ping".into()).send().await.unwrap().status(), 200);

    // A signed URL, signed for the plain listener's host.
    let signer = &tc.signers[USER];
    let expires = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 300;
    let path = format!("/{USER}/stor/secret.txt");
    let signed = signer
        .sign_url(host_of(&plain), &path, &["GET"], expires)
        .unwrap();
    let r = get(signed.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "secret");
    // ... and still verified as on the TLS listener.
    let moved = signed.replace("/secret.txt?", "/other.txt?");
    let r = get(moved).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("InvalidSignature"));

    // Everything else needs TLS: no signature at all, an HTTP Signature
    // (even on a public path), an anonymous write to /public.
    let (date, auth) = signer.headers_now().unwrap();
    let refused = [
        get(path.clone()),
        get(path.clone())
            .header("date", &date)
            .header("authorization", &auth),
        get(format!("/{USER}/public/hello.txt"))
            .header("date", &date)
            .header("authorization", &auth),
        http.put(format!("{plain}/{USER}/public/new.txt")).body("x"),
    ];
    for req in refused {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.headers().contains_key("x-request-id"));
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "SecureTransportRequired", "{body}");
    }
    // The same requests over TLS are the API's to answer.
    let r = tc
        .req(reqwest::Method::GET, "stor/secret.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handshake_that_never_finishes_is_cut_and_blocks_nobody() {
    let tc = TestCluster::start_with(1, |o| {
        o.tls = true;
        o.settings.listener_limits.tls_handshake_timeout = Duration::from_secs(2);
    })
    .await;
    let mut idle = TcpStream::connect(host_of(&tc.cluster.url)).await.unwrap();
    tc.client.mkdirp("~~/stor/meanwhile").await.unwrap();
    let mut buf = [0u8; 256];
    let cut = async {
        while let Ok(n) = idle.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), cut)
        .await
        .expect("the stalled handshake was never cut");
    tc.client.mkdirp("~~/stor/after").await.unwrap();
}

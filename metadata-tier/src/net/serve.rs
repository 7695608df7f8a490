//! The one server loop every listener runs (shards, storage nodes with
//! their agents, the Manta and S3 APIs), in plain HTTP or in TLS.
//!
//! axum's own `serve` sets no header-read timeout (hyper needs a timer for
//! one) and bounds nothing, so one client holding connections open, or
//! dribbling headers, or never reading its response, could pin a role's
//! resources forever. Here each connection gets [`Limits`]: a header-read
//! timeout, an idle and a stall timeout ([`super::idle`]), a place among
//! at most `max_connections` (the accept loop waits for one), and each
//! request a place among at most `max_requests` served at once, held
//! until its response body is done. A TLS handshake runs in the
//! connection's own task, holding its place, within
//! `tls_handshake_timeout`: a client that never finishes one costs a place
//! for that long and blocks nobody else; a failed one is logged at debug.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::IntoResponse;
use axum::Router;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::idle::IdleIo;
use super::metrics::{self, ListenerLabels, RouteLabel};
use super::tls::TlsAcceptor;
use prometheus_client::metrics::gauge::Gauge;

/// A listener's bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight and no byte moving is closed
    /// after this. hyper's header timer also runs while a keep-alive
    /// connection waits for its next request, so an idle connection lives
    /// at most the shorter of the two: both are longer than the internal
    /// clients' [`CLIENT_POOL_IDLE`], so a pooled connection is never
    /// closed under a request being sent.
    pub idle_timeout: Duration,
    /// A connection serving a request on which no byte has moved either
    /// way for this long is closed (a peer that stopped reading).
    pub stall_timeout: Duration,
    pub max_connections: usize,
    pub max_requests: usize,
    /// The most a TLS client may take to finish its handshake.
    pub tls_handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
            stall_timeout: Duration::from_secs(300),
            max_connections: 4096,
            max_requests: 1024,
            tls_handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// The pool idle time of every internal client, below the servers'
/// default [`Limits::header_read_timeout`] and [`Limits::idle_timeout`]
/// (see there).
pub const CLIENT_POOL_IDLE: Duration = Duration::from_secs(20);

/// Serves `router` in plain HTTP on `listener` within `limits` until
/// `shutdown` resolves, then lets requests in flight finish.
///
/// # Errors
/// A listener that can no longer accept.
pub async fn serve(
    name: &'static str,
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_tls(name, listener, router, limits, None, shutdown).await
}

/// As [`serve`], in TLS when `tls` is given.
///
/// # Errors
/// A listener that can no longer accept.
pub async fn serve_tls(
    name: &'static str,
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = metrics::http()
        .connections
        .get_or_create(&ListenerLabels {
            listener: name.to_string(),
        })
        .clone();
    let conns = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let requests = Arc::new(Semaphore::new(limits.max_requests.max(1)));
    let graceful = GracefulShutdown::new();
    // Handshakes still running when the loop stops are abandoned.
    let stopping = CancellationToken::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            s = conns.clone().acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
        };
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: back off, as
                    // axum does, rather than spin or die.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Small responses go out at once instead of waiting on delayed ACKs.
        let _ = tcp.set_nodelay(true);
        open.inc();
        let conn = Conn {
            name,
            peer,
            router: router.clone(),
            requests: requests.clone(),
            limits,
            builder: builder.clone(),
            watcher: graceful.watcher(),
            stopping: stopping.clone(),
            _place: Place {
                open: open.clone(),
                _slot: slot,
            },
        };
        match &tls {
            None => tokio::spawn(conn.serve(tcp)),
            Some(acceptor) => {
                let (acceptor, stopping) = (acceptor.clone(), stopping.clone());
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp));
                    let done = tokio::select! {
                        () = stopping.cancelled() => return,
                        done = handshake => done,
                    };
                    match done {
                        Ok(Ok(stream)) => conn.serve(stream).await,
                        // A client's failure (a scanner, a client refusing
                        // our certificate), not the server's.
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                })
            }
        };
    }
    drop(listener);
    stopping.cancel();
    graceful.shutdown().await;
    Ok(())
}

/// One accepted connection: what serving it needs, and its place.
struct Conn {
    name: &'static str,
    /// The client's address, given to handlers as axum's `ConnectInfo`
    /// (RBAC's `sourceip` condition).
    peer: std::net::SocketAddr,
    router: Router,
    requests: Arc<Semaphore>,
    limits: Limits,
    builder: hyper::server::conn::http1::Builder,
    watcher: Watcher,
    /// Cancelled when the listener stops: the connection then shuts down
    /// gracefully (the watcher keeps the shutdown waiting for it).
    stopping: CancellationToken,
    _place: Place,
}

/// A connection's place among the listener's connections, freed (and the
/// gauge of open connections lowered) when dropped, however it ends.
struct Place {
    open: Gauge,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.open.dec();
    }
}

impl Conn {
    /// Serves HTTP/1 on `io` (a TCP stream, or a TLS session over one)
    /// until the client or a timeout ends it.
    async fn serve<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Conn {
            name,
            peer,
            router,
            requests,
            limits,
            builder,
            watcher,
            stopping,
            _place,
        } = self;
        let busy = Arc::new(AtomicUsize::new(0));
        let io = IdleIo::new(io, limits.idle_timeout, limits.stall_timeout, busy.clone());
        let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let (router, requests, busy) = (router.clone(), requests.clone(), busy.clone());
            async move { Ok::<_, Infallible>(handle(name, router, requests, busy, req).await) }
        });
        // Upgrades (websockets: mlogin's medusa) are allowed; hyper's
        // graceful watcher does not take such connections, so the shutdown
        // is driven here and the watcher is only held until the end. An
        // upgraded connection lives on in its handler's task.
        let conn = builder
            .serve_connection(TokioIo::new(io), svc)
            .with_upgrades();
        tokio::pin!(conn);
        let ended = tokio::select! {
            r = conn.as_mut() => r,
            () = stopping.cancelled() => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        drop(watcher);
        // Errors here are a client's: a reset, a timeout, bad bytes.
        if let Err(e) = ended {
            tracing::debug!(error = %e, "connection ended");
        }
    }
}

/// Marks a request in flight on its connection (and in the listener's
/// gauge) until dropped.
struct InFlight {
    busy: Arc<AtomicUsize>,
    gauge: Gauge,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.busy.fetch_sub(1, Ordering::Relaxed);
        self.gauge.dec();
    }
}

async fn handle(
    name: &'static str,
    router: Router,
    requests: Arc<Semaphore>,
    busy: Arc<AtomicUsize>,
    req: hyper::Request<Incoming>,
) -> axum::response::Response {
    busy.fetch_add(1, Ordering::Relaxed);
    let Ok(permit) = requests.acquire_owned().await else {
        busy.fetch_sub(1, Ordering::Relaxed);
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let listener = ListenerLabels {
        listener: name.to_string(),
    };
    let gauge = metrics::http().in_flight.get_or_create(&listener).clone();
    gauge.inc();
    let guard = InFlight {
        busy,
        gauge,
        _permit: permit,
    };
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let resp = match router.oneshot(req.map(Body::new)).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let route = resp
        .extensions()
        .get::<RouteLabel>()
        .map_or("other", |r| r.0.as_str());
    metrics::record(
        name,
        route,
        &method,
        resp.status().as_u16(),
        started.elapsed(),
    );
    let bytes_out = metrics::http().bytes_out.get_or_create(&listener).clone();
    // A response is in flight until its body is sent, not when its
    // headers are.
    resp.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _held = &guard;
            if let Some(data) = frame.data_ref() {
                bytes_out.inc_by(data.len() as u64);
            }
            frame
        }))
    })
}

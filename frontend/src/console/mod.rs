//! The web console at `/console/`: browse and share objects, submit and
//! watch jobs, and (for operators) see the cluster. Served by the Manta
//! listener itself, so it speaks TLS when the API does; its HTML, JS and
//! CSS are compiled into the binary ([`assets`]); the JS is framework-free
//! and needs no build step. docs/console.md has the security design.
//!
//! - [`login`]: `mconsole`'s one-time sign-in links (signed with the
//!   account's SSH key like msign's URLs, nonce recorded so a link works
//!   once) become a [`session`]: a random 256-bit id in an HttpOnly,
//!   SameSite=Strict cookie, of which only a hash is stored;
//! - [`proxy`]: `/console/api/manta/...` runs the Manta API's own
//!   handlers (objects, directories, snaplinks, jobs) as the session's
//!   account, through the same authorization as a signed request;
//! - [`share`]: share links, signed by the frontend with a per-account
//!   key kept on the metadata tier;
//! - [`cluster`]: nodes, shards, maintenance and a ring of metric samples,
//!   for operator accounts (`console_operators` in the frontend config);
//! - [`error`]: the console's refusals, JSON with a code like the API's.
//!
//! Every change (any method but GET/HEAD) needs the session's CSRF token
//! in `x-console-csrf` and an `Origin` of this server; every response
//! carries a strict Content-Security-Policy and refuses framing.

mod assets;
mod cluster;
mod error;
mod login;
mod proxy;
mod session;
mod share;

use crate::state::AppState;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::{any, get, post};
use axum::Router;

/// What the console's handlers share.
#[derive(Clone)]
pub(crate) struct Console {
    pub(crate) state: AppState,
    /// Served over TLS: cookies are `Secure`, origins `https://`.
    pub(crate) tls: bool,
}

impl Console {
    /// `scheme://host` of this server as the request names it: what a
    /// browser's `Origin` must be, and the base of the links made here.
    pub(crate) fn origin(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{host}")
    }
}

/// The console's routes, to merge beside the Manta API's.
pub(crate) fn router(state: AppState, tls: bool) -> Router {
    let console = Console { state, tls };
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(assets::index))
        .route("/console/login", get(assets::login_page))
        .route("/console/static/{file}", get(assets::file))
        .route("/console/api/login", post(login::login))
        .route(
            "/console/api/session",
            get(session::show).delete(session::sign_out),
        )
        .route("/console/api/manta/{*path}", any(proxy::manta))
        .route("/console/api/share", post(share::create))
        .route("/console/api/share/revoke", post(share::revoke))
        .route("/console/api/cluster", get(cluster::status))
        .route("/console/share/{*path}", get(share::serve))
        .layer(middleware::from_fn(security_headers))
        .with_state(console)
}

/// The console's pages may run only their own scripts and styles and
/// talk only to this server; API answers and shared objects (user bytes)
/// are sandboxed: a stored HTML file never runs in the console's origin.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";
const DATA_CSP: &str = "sandbox; default-src 'none'; frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let data = path.starts_with("/console/api/") || path.starts_with("/console/share/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let csp = if data { DATA_CSP } else { PAGE_CSP };
    h.insert("content-security-policy", HeaderValue::from_static(csp));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key("cache-control") {
        h.insert("cache-control", HeaderValue::from_static("no-store"));
    }
    resp
}

/// Sandboxes what the Manta API serves from the console's origin: an
/// HTML object under `/:login/public` may still run its scripts, but in
/// an opaque origin, so it can neither read the console's pages nor send
/// requests that carry its SameSite cookie or pass its Origin check.
pub(crate) async fn sandbox_user_content(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key("content-security-policy") {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "sandbox allow-scripts allow-forms allow-popups allow-downloads",
            ),
        );
    }
    resp
}

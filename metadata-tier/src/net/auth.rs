//! The cluster credential on internal calls.
//!
//! A caller stamps each request with `x-mantad-auth: v1 <time> <body>
//! <mac>`: `time` in Unix seconds, `body` the BLAKE3 hash of a buffered
//! body (or `-` for a streamed one), `mac` the keyed BLAKE3 of method,
//! path and query, time and body hash under the cluster secret. The
//! receiver recomputes it, refuses a time more than [`MAX_SKEW`] away, and
//! for a hashed body checks the bytes it got. Streamed bodies go only to
//! routes that verify content another way (a blob is checked against the
//! hash it is stored under).
//!
//! Out of scope here (see `docs/security.md`): secrecy on the wire and
//! replay within the window by someone who can already read the traffic;
//! TLS between roles is what closes those.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::{Error, Result};

/// The request header carrying the credential.
pub const HEADER: &str = "x-mantad-auth";
/// How far a stamp's time may be from the receiver's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(300);
const VERSION: &str = "v1";
const UNHASHED: &str = "-";

/// The cluster secret: 32 random bytes every role of one cluster shares.
#[derive(Clone)]
pub struct ClusterKey(Arc<[u8; 32]>);

impl std::fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterKey(..)")
    }
}

impl ClusterKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        ClusterKey(Arc::new(rand::random()))
    }

    /// A key written as 64 hex digits (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for anything else.
    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32);
        let bytes: [u8; 32] =
            bytes
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| Error::InvalidConfig {
                    key: "cluster_secret_file",
                    reason: "the file must hold 64 hex digits".into(),
                })?;
        Ok(ClusterKey(Arc::new(bytes)))
    }

    /// Reads the key file an operator's config names.
    ///
    /// # Errors
    /// I/O errors; a malformed file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::InvalidConfig {
            key: "cluster_secret_file",
            reason: format!("read {}: {e}", path.display()),
        })?;
        Self::from_hex(&text)
    }

    /// Reads the key at `path`, making it (mode 0600) if missing: how
    /// `mantad dev` gives its roles one secret that survives restarts.
    ///
    /// # Errors
    /// I/O errors; a malformed file.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        if path.exists() {
            return Self::load(path);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let key = Self::generate();
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(format!("{}\n", hex::encode(*key.0)).as_bytes())?;
        f.sync_all()?;
        Ok(key)
    }

    fn mac(&self, method: &str, target: &str, time: u64, body: &str) -> String {
        let msg = format!("mantad-internal-{VERSION}\n{method}\n{target}\n{time}\n{body}");
        blake3::keyed_hash(&self.0, msg.as_bytes())
            .to_hex()
            .to_string()
    }

    /// A keyed hash of `msg` for another use of the secret than the
    /// internal stamp (`purpose` separates the uses), e.g. the per-task
    /// credential of a job's toolbox (`jobs::task_token`).
    pub fn purpose_mac(&self, purpose: &str, msg: &str) -> String {
        let msg = format!("mantad-{purpose}\n{msg}");
        blake3::keyed_hash(&self.0, msg.as_bytes())
            .to_hex()
            .to_string()
    }

    /// Stamps a built request. A buffered body is hashed into the stamp;
    /// a streamed one is marked unhashed. The request id being served, if
    /// any, goes along ([`super::trace`]).
    pub fn stamp(&self, req: &mut reqwest::Request) {
        let body = match req.body() {
            None => blake3::hash(b"").to_hex().to_string(),
            Some(b) => match b.as_bytes() {
                Some(bytes) => blake3::hash(bytes).to_hex().to_string(),
                None => UNHASHED.to_string(),
            },
        };
        let target = match req.url().query() {
            Some(q) => format!("{}?{q}", req.url().path()),
            None => req.url().path().to_string(),
        };
        let time = unix_now();
        let mac = self.mac(req.method().as_str(), &target, time, &body);
        if let Ok(v) = HeaderValue::from_str(&format!("{VERSION} {time} {body} {mac}")) {
            req.headers_mut().insert(HEADER, v);
        }
        if let Some(id) = super::trace::current().and_then(|id| HeaderValue::from_str(&id).ok()) {
            req.headers_mut().insert(super::trace::HEADER, id);
        }
    }

    /// Builds, stamps and sends a request of `client`.
    ///
    /// # Errors
    /// As [`reqwest::RequestBuilder::send`].
    pub async fn send(
        &self,
        client: &reqwest::Client,
        builder: reqwest::RequestBuilder,
    ) -> reqwest::Result<reqwest::Response> {
        let mut req = builder.build()?;
        self.stamp(&mut req);
        client.execute(req).await
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What a receiving role accepts: its key, whether a route may take a
/// streamed (unhashed) body, and the most it buffers to check a hash.
#[derive(Clone, Debug)]
pub struct Verifier {
    pub key: ClusterKey,
    pub allow_unhashed_body: bool,
    pub max_hashed_body: usize,
}

impl Verifier {
    /// For JSON APIs (shards, agents): every body hashed.
    pub fn json(key: ClusterKey) -> Self {
        Verifier {
            key,
            allow_unhashed_body: false,
            max_hashed_body: 64 << 20,
        }
    }

    /// For blob traffic: bodies stream, and the node checks them against
    /// their content hash instead.
    pub fn blobs(key: ClusterKey) -> Self {
        Verifier {
            allow_unhashed_body: true,
            ..Self::json(key)
        }
    }

    /// Checks a request's stamp and, for a hashed body, the body: the
    /// request with its body restored, or why it is refused.
    async fn check(&self, req: Request) -> Result<Request, Refusal> {
        let stamp = req
            .headers()
            .get(HEADER)
            .ok_or(Refusal::auth("this port serves the cluster's roles only"))?
            .to_str()
            .map_err(|_| Refusal::auth("malformed credential"))?
            .to_string();
        let parts: Vec<&str> = stamp.split(' ').collect();
        let [VERSION, time, body, mac] = parts.as_slice() else {
            return Err(Refusal::auth("malformed credential"));
        };
        let time: u64 = time
            .parse()
            .map_err(|_| Refusal::auth("malformed credential time"))?;
        if unix_now().abs_diff(time) > MAX_SKEW.as_secs() {
            return Err(Refusal::auth("credential expired (or clocks differ)"));
        }
        let target = req.uri().path_and_query().map_or_else(
            || req.uri().path().to_string(),
            |pq| pq.as_str().to_string(),
        );
        let expected = self.key.mac(req.method().as_str(), &target, time, body);
        if !constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return Err(Refusal::auth("credential does not verify"));
        }
        if *body == UNHASHED {
            if !self.allow_unhashed_body {
                return Err(Refusal::auth("this route needs a hashed body"));
            }
            return Ok(req);
        }
        let (parts, b) = req.into_parts();
        let bytes = axum::body::to_bytes(b, self.max_hashed_body)
            .await
            .map_err(|_| Refusal {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                message: "body unreadable or over the limit".into(),
            })?;
        if blake3::hash(&bytes).to_hex().as_str() != *body {
            return Err(Refusal::auth("body does not match its credential"));
        }
        Ok(Request::from_parts(parts, Body::from(bytes)))
    }
}

/// Axum middleware: `route_layer(from_fn_with_state(verifier, require))`.
pub async fn require(State(v): State<Verifier>, req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    match v.check(req).await {
        Ok(req) => next.run(req).await,
        Err(r) => {
            tracing::warn!(%method, %path, reason = %r.message, "refused an internal call");
            r.into_response()
        }
    }
}

struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn auth(message: &str) -> Self {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            message: message.to_string(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "code": "ClusterAuthRequired",
            "message": self.message,
        });
        (self.status, Json(body)).into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/cluster.key");
        let a = ClusterKey::load_or_create(&path).unwrap();
        let b = ClusterKey::load_or_create(&path).unwrap();
        assert_eq!(a.0, b.0);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, "zz").unwrap();
        assert!(ClusterKey::load(&path).is_err());
    }

    #[test]
    fn macs_bind_every_field() {
        let k = ClusterKey::generate();
        let m = k.mac("POST", "/v1/apply", 10, "ab");
        assert_eq!(m, k.mac("POST", "/v1/apply", 10, "ab"));
        for other in [
            k.mac("GET", "/v1/apply", 10, "ab"),
            k.mac("POST", "/v1/get", 10, "ab"),
            k.mac("POST", "/v1/apply", 11, "ab"),
            k.mac("POST", "/v1/apply", 10, "ac"),
            ClusterKey::generate().mac("POST", "/v1/apply", 10, "ab"),
        ] {
            assert_ne!(m, other);
        }
    }
}

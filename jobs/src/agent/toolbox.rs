//! The task toolbox: `mget`, `mput`, `mls`, `mfind` (our client-sdk
//! commands) inside a task, reaching the store as the job's owner without
//! a network, as Manta's in-zone `MANTA_URL` did.
//!
//! - At start, [`install`] finds our m* binaries (`MANTAD_TOOLBOX_DIR`, else
//!   beside the running executable), copies the libraries they need
//!   (`ldd`) into `agent/toolbox/lib` and writes a wrapper per command into
//!   the utilities directory that runs the binary with that loader, so the
//!   commands work in any image that has `/bin/sh`.
//! - Per task, [`attach`] binds a unix socket in the task directory,
//!   mounted read-only at [`SOCKET_DIR`], and points `MANTA_URL` at it
//!   (`unix://...`, which the SDK speaks). Every request on it is
//!   forwarded to the frontend ([`ApiClient`]: `job_api_url`, else
//!   `TaskRequest::api_url`; in TLS, verified, when it is `https://`) with
//!   a credential minted for this task (`crate::task_token`), which the
//!   container never sees: the frontend takes it as the job's owner, with
//!   the owner's access and no other. Requests and bytes (both ways) are
//!   bounded; the socket and the credential's use end with the task.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use super::config::ApiAccess;
use super::failure::{Failure, InfraContext};
use super::task_dir::TaskDir;
use super::wire::TaskRequest;
use super::Shared;
use crate::runtime::BindMount;

/// Our commands that work inside a task.
const COMMANDS: [&str; 8] = [
    "mget", "mput", "mls", "mfind", "mmkdir", "mrm", "minfo", "mln",
];
/// Where the toolbox's binaries and libraries appear in the container.
const TOOLBOX_DIR: &str = "/opt/manta/toolbox";
/// Where the task's socket appears in the container.
pub(crate) const SOCKET_DIR: &str = "/opt/manta/sock";
const SOCKET_NAME: &str = "manta.sock";
/// Requests one task may make through its socket.
const MAX_REQUESTS: u64 = 10_000;
/// Hop-by-hop headers and credentials that never cross the proxy.
const DROPPED: [&str; 12] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "authorization",
    metadata_tier::net::auth::HEADER,
];

/// How the agent reaches the Manta API for its tasks (toolbox requests,
/// mlogin's websocket): the node's `job_api_url` if set, else the URL the
/// frontend sent with the task; an `https://` one in TLS verified with the
/// Mozilla roots and `job_api_ca_file` (as our clients verify,
/// `client_sdk::tls`), never downgraded to plain HTTP. Redirects are not
/// followed: they go back to the task as they came, and the credential
/// never travels to another host.
pub(crate) struct ApiClient {
    url: Option<String>,
    http: reqwest::Client,
    tls: client_sdk::tls::TlsConfig,
}

impl ApiClient {
    /// # Errors
    /// A CA file that does not load.
    pub(crate) fn new(access: &ApiAccess) -> crate::Result<ApiClient> {
        let invalid = |e: client_sdk::Error| crate::Error::InvalidConfig {
            key: "job_api_ca_file",
            reason: e.to_string(),
        };
        let ca = access.ca_file.as_deref();
        let http = client_sdk::tls::client_builder(ca, false)
            .map_err(invalid)?
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| crate::Error::InvalidConfig {
                key: "job_api_ca_file",
                reason: e.to_string(),
            })?;
        Ok(ApiClient {
            url: access.url.clone(),
            http,
            tls: client_sdk::tls::tls_config(ca, false).map_err(invalid)?,
        })
    }

    /// The API a task reaches, without a trailing `/`, given the
    /// frontend's (`TaskRequest::api_url`); `None` when neither the node
    /// nor the frontend named one, or when the node's `job_api_url` is
    /// plain HTTP while the frontend speaks TLS (a credential is not sent
    /// in the clear to an API that has TLS).
    pub(crate) fn url_for(&self, frontends: Option<&str>) -> Option<String> {
        let given = frontends.filter(|u| !u.is_empty());
        let url = match (self.url.as_deref(), given) {
            (Some(mine), Some(theirs))
                if mine.starts_with("http://") && theirs.starts_with("https://") =>
            {
                tracing::warn!(
                    job_api_url = mine,
                    frontend = theirs,
                    "job_api_url is plain HTTP but the frontend speaks TLS: no toolbox for this task"
                );
                return None;
            }
            (Some(mine), _) => mine,
            (None, theirs) => theirs?,
        };
        Some(url.trim_end_matches('/').to_string())
    }

    /// What an `https://` websocket is verified with.
    pub(crate) fn tls(&self) -> &client_sdk::tls::TlsConfig {
        &self.tls
    }
}

/// The binaries found at start and the libraries they need.
#[derive(Debug, Default)]
pub(crate) struct Installed {
    binaries: Vec<(String, PathBuf)>,
    lib_dir: Option<PathBuf>,
}

impl Installed {
    fn mounts(&self) -> Vec<BindMount> {
        let mut m: Vec<BindMount> = self
            .binaries
            .iter()
            .map(|(name, host)| BindMount::read_only(host, format!("{TOOLBOX_DIR}/bin/{name}")))
            .collect();
        if let Some(lib) = &self.lib_dir {
            m.push(BindMount::read_only(lib, format!("{TOOLBOX_DIR}/lib")));
        }
        m
    }
}

/// Finds the binaries, prepares `root/toolbox/lib` and writes the
/// wrappers into `bin_dir`. Missing binaries are left out (the socket
/// still works for a task's own client).
pub(crate) fn install(bin_dir: &Path, root: &Path) -> Installed {
    let dir = std::env::var_os("MANTAD_TOOLBOX_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|e| e.parent().map(Path::to_path_buf))
        });
    let Some(dir) = dir else {
        return Installed::default();
    };
    let lib_dir = root.join("toolbox").join("lib");
    let mut out = Installed::default();
    let mut loader: Option<String> = None;
    for name in COMMANDS {
        let host = dir.join(name);
        if !host.is_file() {
            continue;
        }
        let host = match host.canonicalize() {
            Ok(h) => h,
            Err(_) => continue,
        };
        match copy_libs(&host, &lib_dir) {
            Ok(l) => {
                if l.is_some() {
                    loader = l;
                }
            }
            Err(e) => {
                tracing::warn!(binary = %host.display(), error = %e, "toolbox binary left out");
                continue;
            }
        }
        let run = match &loader {
            Some(ld) => format!(
                "exec {TOOLBOX_DIR}/lib/{ld} --library-path {TOOLBOX_DIR}/lib {TOOLBOX_DIR}/bin/{name} \"$@\""
            ),
            None => format!("exec {TOOLBOX_DIR}/bin/{name} \"$@\""),
        };
        let script = format!(
            "#!/bin/sh\n[ -S \"${{MANTA_URL#unix://}}\" ] || {{ echo \"{name}: no toolbox socket in this task\" >&2; exit 1; }}\n{run}\n"
        );
        let path = bin_dir.join(name);
        let written = std::fs::write(&path, script)
            .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)));
        if let Err(e) = written {
            tracing::warn!(error = %e, "cannot write toolbox wrapper");
            continue;
        }
        out.binaries.push((name.to_string(), host));
    }
    if lib_dir.is_dir() {
        out.lib_dir = Some(lib_dir);
    }
    if !out.binaries.is_empty() {
        tracing::info!(dir = %dir.display(), commands = out.binaries.len(), "task toolbox installed");
    }
    out
}

/// Copies the shared libraries of `bin` (and its loader) into `lib_dir`;
/// the loader's file name, `None` for a static binary.
fn copy_libs(bin: &Path, lib_dir: &Path) -> std::io::Result<Option<String>> {
    let out = Command::new("ldd").arg(bin).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.contains("not a dynamic executable") {
        return Ok(None);
    }
    std::fs::create_dir_all(lib_dir)?;
    let mut loader = None;
    for line in text.lines() {
        let line = line.trim();
        // `libm.so.6 => /lib/.../libm.so.6 (0x...)` or `/lib64/ld-linux-x86-64.so.2 (0x...)`
        let (path, is_loader) = match line.split_once("=>") {
            Some((_, rest)) => (rest.trim().split(' ').next().unwrap_or(""), false),
            None => (line.split(' ').next().unwrap_or(""), true),
        };
        if !path.starts_with('/') {
            continue;
        }
        let host = Path::new(path);
        let Some(file) = host.file_name() else {
            continue;
        };
        let dest = lib_dir.join(file);
        if !dest.exists() {
            std::fs::copy(host, &dest)?;
        }
        if is_loader {
            loader = Some(file.to_string_lossy().into_owned());
        }
    }
    Ok(loader)
}

/// Stops serving a task's socket when dropped.
pub(crate) struct Attached(tokio::task::AbortHandle);

impl Drop for Attached {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a task's container gets for its toolbox, and the guard that ends
/// the socket's service.
pub(crate) struct TaskToolbox {
    pub mounts: Vec<BindMount>,
    pub url: String,
    pub guard: Attached,
}

/// Serves `req`'s socket if the supervisor gave an API to reach.
///
/// # Errors
/// The socket cannot be made (ours).
pub(crate) fn attach(
    shared: &Shared,
    req: &TaskRequest,
    dir: &TaskDir,
    ttl: Duration,
) -> Result<Option<TaskToolbox>, Failure> {
    let Some(api) = shared.api.url_for(req.api_url.as_deref()) else {
        return Ok(None);
    };
    let sock_dir = dir.socket_dir();
    std::fs::create_dir_all(&sock_dir).infra("create the toolbox socket directory")?;
    std::fs::set_permissions(&sock_dir, std::fs::Permissions::from_mode(0o755))
        .infra("open up the toolbox socket directory")?;
    let path = sock_dir.join(SOCKET_NAME);
    let listener = tokio::net::UnixListener::bind(&path).infra("bind the toolbox socket")?;
    // The image's user may not be root.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
        .infra("open up the toolbox socket")?;
    let token = crate::task_token::mint(
        &shared.cluster_key,
        &req.login,
        &req.job_id,
        &req.task_id,
        ttl + Duration::from_secs(60),
    );
    let proxy = Arc::new(Proxy {
        api,
        token: HeaderValue::from_str(&token).infra("make the task credential")?,
        client: shared.api.http.clone(),
        requests: AtomicU64::new(0),
        bytes_left: Arc::new(AtomicU64::new(u64::from(req.disk_gb.max(1)) << 30)),
    });
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::debug!(error = %e, "toolbox socket closed");
        }
    });
    let mut mounts = shared.toolbox.mounts();
    mounts.push(BindMount::read_only(&sock_dir, SOCKET_DIR));
    Ok(Some(TaskToolbox {
        mounts,
        url: format!("unix://{SOCKET_DIR}/{SOCKET_NAME}"),
        guard: Attached(task.abort_handle()),
    }))
}

struct Proxy {
    api: String,
    token: HeaderValue,
    client: reqwest::Client,
    requests: AtomicU64,
    /// Bytes the task may still move through the socket, both ways.
    bytes_left: Arc<AtomicU64>,
}

/// An error and its causes, where a refused certificate shows
/// (`invalid peer certificate: UnknownIssuer`).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Takes `n` bytes from `left`; false once it is spent.
fn spend(left: &AtomicU64, n: u64) -> bool {
    left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| l.checked_sub(n))
        .is_ok()
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"code": code, "message": message}).to_string();
    (status, [("content-type", "application/json")], body).into_response()
}

async fn forward(State(p): State<Arc<Proxy>>, req: Request) -> Response {
    if p.requests.fetch_add(1, Ordering::SeqCst) >= MAX_REQUESTS {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "TaskLimitExceeded",
            "this task made too many requests",
        );
    }
    let (parts, body) = req.into_parts();
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    if !target.starts_with('/') {
        return refuse(StatusCode::BAD_REQUEST, "BadRequest", "bad request target");
    }
    let mut headers = parts.headers;
    for h in DROPPED {
        headers.remove(h);
    }
    headers.remove(crate::task_token::HEADER);
    headers.insert(
        HeaderName::from_static(crate::task_token::HEADER),
        p.token.clone(),
    );
    // `mput` from stdin sends no length (chunked).
    let has_body = headers.contains_key("content-length")
        || !matches!(parts.method, Method::GET | Method::HEAD | Method::DELETE);
    let left = p.bytes_left.clone();
    let upload = body.into_data_stream().map(move |chunk| match chunk {
        Ok(c) if spend(&left, c.len() as u64) => Ok(c),
        Ok(_) => Err(std::io::Error::other("task byte limit reached")),
        Err(e) => Err(std::io::Error::other(e)),
    });
    let mut out = p
        .client
        .request(parts.method, format!("{}{target}", p.api))
        .headers(headers);
    if has_body {
        out = out.body(reqwest::Body::wrap_stream(upload));
    }
    let resp = match out.send().await {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableError",
                &format!("the store is unreachable: {}", causes(&e)),
            )
        }
    };
    let mut builder = Response::builder().status(resp.status().as_u16());
    for (k, v) in resp.headers() {
        if !matches!(
            k.as_str(),
            "connection" | "transfer-encoding" | "keep-alive"
        ) {
            builder = builder.header(k, v);
        }
    }
    let left = p.bytes_left.clone();
    let download = resp.bytes_stream().map(move |chunk| match chunk {
        Ok(c) if spend(&left, c.len() as u64) => Ok(c),
        Ok(_) => Err(std::io::Error::other("task byte limit reached")),
        Err(e) => Err(std::io::Error::other(e)),
    });
    builder
        .body(Body::from_stream(download))
        .unwrap_or_else(|_| refuse(StatusCode::BAD_GATEWAY, "InternalError", "bad answer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_url_is_the_nodes_then_the_frontends_never_a_downgrade() {
        let client = |url: Option<&str>| {
            ApiClient::new(&ApiAccess {
                url: url.map(str::to_string),
                ca_file: None,
            })
            .unwrap()
        };
        let theirs = Some("https://10.0.0.1:443/");
        assert_eq!(
            client(None).url_for(theirs).as_deref(),
            Some("https://10.0.0.1:443")
        );
        let mine = client(Some("https://manta.example.com"));
        assert_eq!(
            mine.url_for(theirs).as_deref(),
            Some("https://manta.example.com")
        );
        assert_eq!(
            mine.url_for(None).as_deref(),
            Some("https://manta.example.com")
        );
        assert_eq!(client(None).url_for(None), None);
        let plain = client(Some("http://10.0.0.1:80"));
        assert_eq!(plain.url_for(theirs), None);
        assert_eq!(
            plain.url_for(Some("http://10.0.0.1:8080")).as_deref(),
            Some("http://10.0.0.1:80")
        );
    }

    #[test]
    fn spending_stops_at_the_budget() {
        let left = AtomicU64::new(10);
        assert!(spend(&left, 6));
        assert!(!spend(&left, 6));
        assert!(spend(&left, 4));
        assert!(!spend(&left, 1));
    }
}

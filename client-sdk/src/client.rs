//! [`Client`]: one keep-alive connection pool, request signing with a fresh
//! `Date` per attempt, and retries with back-off for idempotent requests.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::sign::Signer;
use reqwest::{Method, RequestBuilder, Response};
use std::sync::Arc;
use std::time::Duration;

/// An async Manta client. Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) config: Arc<Config>,
    signer: Option<Arc<Signer>>,
    key_id: Option<String>,
}

impl Client {
    /// A client configured from the environment (see [`Config::from_env`]),
    /// with its key found as node-manta finds it.
    ///
    /// # Errors
    /// Missing configuration or no usable key.
    pub fn from_env() -> Result<Client> {
        Client::new(Config::from_env()?)
    }

    /// A client for `config`; finds the signing key unless `no_auth`.
    ///
    /// # Errors
    /// No usable key; the HTTP client cannot be built.
    pub fn new(config: Config) -> Result<Client> {
        let signer = if config.no_auth {
            None
        } else if let Some(file) = &config.key_file {
            Some(Signer::from_file(file)?)
        } else {
            Some(Signer::discover(config.key_id.as_deref())?)
        };
        Client::with_signer(config, signer)
    }

    /// A client signing with `signer` (or not signing with `None`).
    ///
    /// # Errors
    /// An unreadable CA file; the HTTP client cannot be built.
    pub fn with_signer(mut config: Config, signer: Option<Signer>) -> Result<Client> {
        let mut builder = crate::tls::client_builder(config.ca_file.as_deref(), config.insecure)?;
        // `MANTA_URL=unix:///path/to.sock`: HTTP over a unix socket (a job
        // task's toolbox socket).
        if let Some(socket) = config.url.strip_prefix("unix://") {
            builder = builder.unix_socket(std::path::Path::new(socket));
            config.url = "http://localhost".into();
        }
        let http = builder
            .connect_timeout(Duration::from_secs(4))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .user_agent(concat!("manta-rs/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let key_id = signer
            .as_ref()
            .map(|s| s.key_id(&config.user, config.subuser.as_deref()));
        Ok(Client {
            http,
            config: Arc::new(config),
            signer: signer.map(Arc::new),
            key_id,
        })
    }

    /// The account login (`~~` expands to `/` + this).
    pub fn user(&self) -> &str {
        &self.config.user
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The signer, when requests are signed.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_deref()
    }

    /// The keyId sent in `Authorization` and signed URLs.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// Resolves a path form (`~~/stor/x`, `/login/stor/x`) to an absolute path.
    ///
    /// # Errors
    /// `InvalidPath` for a relative path.
    pub fn resolve(&self, path: &str) -> Result<String> {
        crate::path::resolve(path, self.user())
    }

    /// A request for an absolute (resolved) path, with the query appended.
    pub(crate) fn request(&self, method: Method, path: &str, query: &str) -> RequestBuilder {
        let mut url = format!("{}{}", self.config.url, crate::path::encode(path));
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        self.http.request(method, url)
    }

    /// Adds `Date`, `Authorization`, `Role` and a request id.
    pub(crate) fn authorize(&self, req: RequestBuilder) -> Result<RequestBuilder> {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let mut req = req
            .header("date", &date)
            .header("x-request-id", uuid::Uuid::new_v4().to_string());
        if let (Some(s), Some(id)) = (&self.signer, &self.key_id) {
            req = req.header("authorization", s.authorization(id, &date)?);
        }
        if let Some(r) = &self.config.roles {
            req = req.header("role", r);
        }
        Ok(req)
    }

    /// Sends a request built afresh by `build` for each attempt, retrying
    /// on connection errors and 503 with exponential back-off. Only for
    /// idempotent requests whose body can be rebuilt.
    pub(crate) async fn send_retry(&self, build: impl Fn() -> RequestBuilder) -> Result<Response> {
        let mut delay = self.config.backoff;
        let mut attempt = 1;
        loop {
            let last = attempt >= self.config.attempts.max(1);
            match self.authorize(build())?.send().await {
                Ok(r) if r.status().as_u16() == 503 && !last => {}
                Ok(r) => return check(r).await,
                Err(e) if retryable(&e) && !last => {}
                Err(e) => return Err(e.into()),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(4));
            attempt += 1;
        }
    }

    /// Sends once (bodies that cannot be replayed).
    pub(crate) async fn send_once(&self, req: RequestBuilder) -> Result<Response> {
        check(self.authorize(req)?.send().await?).await
    }
}

/// Connection-level failures worth another attempt.
fn retryable(e: &reqwest::Error) -> bool {
    e.is_connect() || e.is_timeout() || e.is_request()
}

/// Turns an error status into [`Error::Manta`] with the body's code.
pub(crate) async fn check(resp: Response) -> Result<Response> {
    let status = resp.status();
    if status.is_success() || status.as_u16() == 304 {
        return Ok(resp);
    }
    let body = resp.bytes().await.unwrap_or_default();
    Err(Error::from_response(status.as_u16(), &body))
}

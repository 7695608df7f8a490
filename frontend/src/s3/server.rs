//! Serving the S3 API: one handler for every path (S3 routes by bucket, key
//! and query, not by path shape), a request id on every response, and
//! path-style or virtual-hosted-style addressing.

use super::{auth, route, S3Config, S3Error, S3Req, S3Result, S3State};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::Router;
use percent_encoding::percent_decode_str;
use std::future::Future;
use tracing::Instrument;

pub(crate) fn app(st: S3State) -> Router {
    Router::new().fallback(handle).with_state(st)
}

/// Serves the S3 API on `listener`, in TLS when `tls` is given, until
/// `shutdown` resolves.
///
/// # Errors
/// I/O errors of the listener.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    st: S3State,
    tls: Option<metadata_tier::net::tls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = st.app.settings.listener_limits;
    metadata_tier::net::serve_tls("s3", listener, app(st), limits, tls, shutdown).await
}

/// Serves the S3 API in plain HTTP beside a TLS listener: presigned
/// requests only (docs/tls.md).
///
/// # Errors
/// I/O errors of the listener.
pub(crate) async fn serve_plain(
    listener: tokio::net::TcpListener,
    st: S3State,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = st.app.settings.listener_limits;
    let app = app(st).layer(axum::middleware::from_fn(crate::plain::s3));
    metadata_tier::net::serve("s3-plain", listener, app, limits, shutdown).await
}

async fn handle(State(st): State<S3State>, req: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    let resource = req.uri().path().to_string();
    let span = tracing::info_span!("s3", id = %request_id, method = %req.method());
    let has_body = has_body(req.headers());
    let route = route_template(req.uri().path(), req.uri().query());
    // The id rides on every call to shards and nodes made for it.
    let result =
        metadata_tier::net::trace::scope(request_id.clone(), serve_one(st, req, &request_id))
            .instrument(span)
            .await;
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => e.into_s3_response(&resource, &request_id),
    };
    let failed = !resp.status().is_success();
    let h = resp.headers_mut();
    if has_body && failed {
        // The body may be unread: a kept-alive connection would parse its
        // rest as the next request.
        h.insert("connection", HeaderValue::from_static("close"));
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amz-request-id", v.clone());
        h.insert("x-amz-id-2", v);
    }
    h.insert("server", HeaderValue::from_static("Manta"));
    resp.extensions_mut()
        .insert(metadata_tier::net::metrics::RouteLabel(route));
    resp
}

/// The sub-resources that name an S3 operation, for the metrics' route
/// label; any other query key is left out so the label set stays small.
const SUBRESOURCES: [&str; 10] = [
    "uploads",
    "uploadId",
    "partNumber",
    "delete",
    "location",
    "list-type",
    "acl",
    "tagging",
    "versioning",
    "attributes",
];

/// `/`, `/:bucket` or `/:bucket/:key` (path style), with the sub-resource
/// that names the operation, e.g. `/:bucket/:key?uploadId`.
fn route_template(path: &str, query: Option<&str>) -> String {
    let segments = path
        .trim_start_matches('/')
        .splitn(2, '/')
        .filter(|s| !s.is_empty())
        .count();
    let base = ["/", "/:bucket", "/:bucket/:key"][segments.min(2)];
    let sub = query.and_then(|q| {
        q.split('&')
            .map(|kv| kv.split('=').next().unwrap_or_default())
            .find_map(|k| SUBRESOURCES.iter().find(|s| **s == k))
    });
    match sub {
        Some(s) => format!("{base}?{s}"),
        None => base.to_string(),
    }
}

fn has_body(h: &HeaderMap) -> bool {
    h.contains_key("transfer-encoding")
        || h.get("content-length")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

async fn serve_one(st: S3State, req: Request, request_id: &str) -> S3Result<Response> {
    let (parts, body) = req.into_parts();
    let (bucket, key) = address(&st.cfg, &parts.headers, parts.uri.path())?;
    let query = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let (account, body, trailers) = auth::authenticate(&st, &parts, body).await?;
    let req = S3Req {
        st,
        method: parts.method,
        bucket,
        key,
        query,
        headers: parts.headers,
        account,
        request_id: request_id.to_string(),
        trailers,
    };
    route(req, body).await
}

type Address = (Option<String>, Option<String>);

/// Bucket and key of a request: `<bucket>.<domain>` in `Host` names the
/// bucket (virtual-hosted style), else the first path segment does.
///
/// # Errors
/// `InvalidRequest` for a path that is not UTF-8 once decoded.
pub(crate) fn address(cfg: &S3Config, headers: &HeaderMap, path: &str) -> S3Result<Address> {
    let decoded = percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| S3Error::InvalidRequest("path is not UTF-8".into()))?;
    let p = decoded.strip_prefix('/').unwrap_or(&decoded);
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    if let Some(bucket) = virtual_host_bucket(cfg, headers) {
        return Ok((Some(bucket), some(p)));
    }
    match p.split_once('/') {
        Some((b, k)) => Ok((some(b), some(k))),
        None => Ok((some(p), None)),
    }
}

/// The bucket `Host` names, `<bucket>.<domain>`, if any.
pub(crate) fn virtual_host_bucket(cfg: &S3Config, headers: &HeaderMap) -> Option<String> {
    let host = headers.get("host")?.to_str().ok()?;
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let bucket = name.strip_suffix(&format!(".{}", cfg.domain))?;
    (!bucket.is_empty()).then(|| bucket.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(host: &str, path: &str) -> Address {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_str(host).unwrap());
        address(&S3Config::default(), &h, path).unwrap()
    }

    #[test]
    fn styles() {
        let s = |x: &str| Some(x.to_string());
        assert_eq!(addr("127.0.0.1:9000", "/"), (None, None));
        assert_eq!(addr("127.0.0.1:9000", "/b"), (s("b"), None));
        assert_eq!(addr("127.0.0.1:9000", "/b/"), (s("b"), None));
        assert_eq!(addr("localhost:9000", "/b/a/c%20d"), (s("b"), s("a/c d")));
        assert_eq!(addr("b.localhost:9000", "/a//c"), (s("b"), s("a//c")));
        assert_eq!(addr("b.localhost", "/"), (s("b"), None));
    }
}

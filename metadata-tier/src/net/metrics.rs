//! Prometheus metrics of a mantad process: one registry per process (a
//! `mantad dev` process holds every role, so its labels say which), the
//! HTTP metrics every listener records through [`super::serve`], and
//! [`register`] for each tier's own (storage node disk use, shard write
//! batches, ...). [`render`] is what an admin listener's `/metrics`
//! answers, in Prometheus' text format. Every metric is listed in
//! `docs/operations.md`.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Metric, Registry};

/// Which listener, which route, how it ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub listener: String,
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub listener: String,
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabels {
    pub listener: String,
}

/// A request's route template, set as a response extension by whoever
/// knows it (an axum route, the Manta or S3 dispatcher); absent: `other`.
#[derive(Clone, Debug)]
pub struct RouteLabel(pub String);

/// Buckets from 0.5 ms to about 33 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 17))
}

pub(crate) struct Http {
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub(crate) in_flight: Family<ListenerLabels, Gauge>,
    pub(crate) connections: Family<ListenerLabels, Gauge>,
    pub(crate) bytes_out: Family<ListenerLabels, Counter>,
}

struct Metrics {
    /// The registry and the names in it (a name is registered once).
    registry: Mutex<(Registry, HashSet<String>)>,
    http: Http,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("mantad");
        let http = Http {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency),
            in_flight: Family::default(),
            connections: Family::default(),
            bytes_out: Family::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by listener, route template, method and status",
            http.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to the response's headers, by listener, route template and method",
            http.duration.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "Requests being served (until their body is sent), by listener",
            http.in_flight.clone(),
        );
        registry.register(
            "http_connections_open",
            "Open connections, by listener",
            http.connections.clone(),
        );
        registry.register(
            "http_response_bytes",
            "Response body bytes sent, by listener",
            http.bytes_out.clone(),
        );
        Metrics {
            registry: Mutex::new((registry, HashSet::new())),
            http,
        }
    })
}

pub(crate) fn http() -> &'static Http {
    &metrics().http
}

/// Records one answered request.
pub(crate) fn record(listener: &str, route: &str, method: &str, status: u16, took: Duration) {
    let h = http();
    h.requests
        .get_or_create(&RequestLabels {
            listener: listener.to_string(),
            route: route.to_string(),
            method: method.to_string(),
            status,
        })
        .inc();
    h.duration
        .get_or_create(&RouteLabels {
            listener: listener.to_string(),
            route: route.to_string(),
            method: method.to_string(),
        })
        .observe(took.as_secs_f64());
}

/// Registers a tier's own metric under `mantad_<name>`. Registering the
/// same name twice (two roles of one kind in one process) keeps the first:
/// callers share metrics through statics, so both record into it.
pub fn register(name: &str, help: &str, metric: impl Metric) {
    let m = metrics();
    if let Ok(mut guard) = m.registry.lock() {
        let (registry, names) = &mut *guard;
        if names.insert(name.to_string()) {
            registry.register(name, help, metric);
        }
    }
}

/// The whole registry in Prometheus' text format.
pub fn render() -> String {
    let mut out = String::new();
    if let Ok(guard) = metrics().registry.lock() {
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &guard.0) {
            tracing::warn!(error = %e, "encoding metrics");
        }
    }
    out
}

/// An admin listener's routes: `GET /metrics`.
pub fn admin_router() -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async {
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                render(),
            )
        }),
    )
}

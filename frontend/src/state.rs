//! The frontend's shared state: clients of the tiers it calls, and settings.

use crate::accounts::Accounts;
use crate::store::ObjectStore;
use metadata_tier::MetadataClient;
use std::sync::Arc;
use std::time::Duration;

/// Runtime settings of the Manta API (validated from the config file).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Copies made when the client asks for none (bounded by live nodes).
    pub(crate) default_durability: u32,
    /// Largest `durability-level` a client may ask for.
    pub(crate) max_durability: u32,
    /// Cap on a chunked upload without `max-content-length`.
    pub(crate) max_streaming_bytes: u64,
    /// An upload that sends no bytes for this long fails with 408.
    pub upload_idle: Duration,
    /// A node whose heartbeat is older than this gets no new copies.
    pub heartbeat_timeout: Duration,
    /// A node silent this long is lost: its copies are made again elsewhere.
    pub node_lost_after: Duration,
    /// Writes with fewer nodes up than `default_durability` succeed with
    /// fewer copies (repair adds the rest) instead of failing.
    pub allow_degraded_writes: bool,
    /// Repair and garbage collection.
    pub maintenance: crate::maintain::MaintainSettings,
    /// Free bytes each node keeps back from placement.
    pub(crate) reserve_bytes: u64,
    /// `x-server-name` on every response.
    pub(crate) server_name: String,
    /// Seals and opens S3 secrets (`s3_key_file`); `None`: no S3 keys.
    pub s3_secrets: Option<crate::auth::secrets::SecretBox>,
    /// The job supervisor's scheduling settings.
    pub jobs: jobs::supervisor::JobSettings,
    /// Timeouts and bounds of the Manta and S3 listeners (and, in a
    /// cluster run in one process, of every role's).
    pub listener_limits: metadata_tier::net::Limits,
    /// Accounts the web console shows the cluster to (docs/console.md).
    pub console_operators: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_durability: 2,
            max_durability: 9,
            max_streaming_bytes: 5 << 30,
            upload_idle: Duration::from_secs(45),
            heartbeat_timeout: Duration::from_secs(10),
            node_lost_after: Duration::from_secs(30 * 60),
            allow_degraded_writes: false,
            maintenance: crate::maintain::MaintainSettings::default(),
            reserve_bytes: 0,
            server_name: uuid::Uuid::new_v4().to_string(),
            s3_secrets: None,
            jobs: jobs::supervisor::JobSettings::default(),
            listener_limits: metadata_tier::net::Limits::default(),
            console_operators: Vec::new(),
        }
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub meta: MetadataClient,
    /// Every object read and write goes through here.
    pub store: ObjectStore,
    pub accounts: Accounts,
    pub settings: Settings,
    pub jobs: jobs::supervisor::Supervisor,
}

impl AppState {
    pub fn new(meta: MetadataClient, settings: Settings) -> Self {
        let store = ObjectStore::new(
            meta.clone(),
            settings.default_durability,
            settings.allow_degraded_writes,
            crate::store::Timeouts {
                down: settings.heartbeat_timeout,
                lost: settings.node_lost_after,
            },
            settings.reserve_bytes,
        );
        AppState(Arc::new(Inner {
            accounts: Accounts::new(meta.clone()),
            jobs: jobs::supervisor::Supervisor::new(settings.jobs.clone(), meta.clone()),
            store,
            meta,
            settings,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

//! Compute jobs in the frontend: the object store as the supervisor sees it
//! (`namespace.rs` over the helpers in `store.rs`). The HTTP jobs API is
//! part of the Manta API (`crate::manta::jobs`). The supervisor itself lives in the jobs crate
//! ([`jobs::supervisor`]) so it depends on the store only through that
//! narrow trait.

mod namespace;
mod store;

pub(crate) use namespace::{http_error, StoreNamespace};

use crate::state::AppState;
use std::sync::Arc;

/// The object store behind `st`, as the supervisor takes it.
pub(crate) fn namespace(st: &AppState) -> Arc<dyn jobs::supervisor::Namespace> {
    Arc::new(StoreNamespace(st.clone()))
}

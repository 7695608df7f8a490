//! Importing an image archive kept as an object of the store (a public
//! object, or a signed URL from `msign`): streamed from HTTP into the
//! store's staging, so nothing is held whole in memory.

use futures::TryStreamExt;

use super::{import_async, ImageRecord, ImageStore};
use crate::{Error, Result};

/// Streams the archive at `url` into `store` as image `name`.
///
/// # Errors
/// [`Error::Fetch`] for an unreachable URL or a non-2xx answer, then as
/// [`import_async`].
pub async fn import_url(store: &ImageStore, url: &str, name: &str) -> Result<ImageRecord> {
    let fetch_error = |detail: String| Error::Fetch {
        url: url.to_string(),
        detail,
    };
    let resp = reqwest::get(url)
        .await
        .map_err(|e| fetch_error(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fetch_error(format!("HTTP {}", resp.status())));
    }
    let body = resp.bytes_stream().map_err(std::io::Error::other);
    import_async(store, tokio_util::io::StreamReader::new(body), name).await
}

//! Which image a task runs in ([`ImageRef`]), importing an image stored as
//! an object once under `obj-<blob hash>`.

use super::failure::{Failure, InfraContext};
use super::task_dir::TaskDir;
use super::wire::{ImageRef, InputObject};
use super::Shared;
use crate::image::{ensure_default_image, import_path, ImageRecord};
use crate::model::JobErrorCode;
use crate::Error;

/// `PATH` when the image's config sets none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The image to run in.
pub(crate) struct Resolved {
    /// For [`crate::runtime::TaskSpec::image`]: `None` is the default.
    pub name: Option<String>,
    /// The image's own `PATH`.
    pub path: String,
}

/// Finds (or imports) the task's image.
///
/// # Errors
/// A missing named image or an object that is no image (the user's); an
/// unreadable store or an unfetchable object (ours).
pub(crate) async fn resolve(
    shared: &Shared,
    image: &ImageRef,
    dir: &TaskDir,
) -> Result<Resolved, Failure> {
    let (name, record) = match image {
        ImageRef::Default => {
            // One build at a time; later tasks find it made.
            let _one = shared.image_imports.lock().await;
            let store = shared.runner.store().clone();
            let built = tokio::task::spawn_blocking(move || ensure_default_image(&store))
                .await
                .infra("build the default image")?;
            (None, built.infra("build the default image")?)
        }
        ImageRef::Named { name } => (Some(name.clone()), named(shared, name)?),
        ImageRef::Object { object } => {
            let record = from_object(shared, object, dir).await?;
            (Some(record.name.clone()), record)
        }
    };
    Ok(Resolved {
        name,
        path: image_path(&record),
    })
}

fn image_path(record: &ImageRecord) -> String {
    record
        .config
        .env
        .iter()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH)
        .to_owned()
}

fn named(shared: &Shared, name: &str) -> Result<ImageRecord, Failure> {
    match shared.runner.store().get(name) {
        Ok(record) => Ok(record),
        Err(e @ (Error::ImageNotFound(_) | Error::InvalidImageName(_))) => Err(Failure::user(
            JobErrorCode::InvalidArgumentError,
            e.to_string(),
        )),
        Err(e) => Err(Failure::infra("read image record", e)),
    }
}

async fn from_object(
    shared: &Shared,
    object: &InputObject,
    dir: &TaskDir,
) -> Result<ImageRecord, Failure> {
    let bad = |why: String| {
        Failure::user(
            JobErrorCode::InvalidArgumentError,
            format!("image object {}: {why}", object.path),
        )
    };
    let blob = object
        .blob
        .as_ref()
        .ok_or_else(|| bad("empty object".into()))?;
    let name = format!("obj-{}", blob.hash.to_hex());
    let store = shared.runner.store().clone();
    // Not even fetched when it is over the cap the import would stop at.
    let max = store.limits().compressed_bytes;
    if blob.size > max {
        return Err(bad(Error::ImageLimit {
            what: "compressed size",
            limit: max,
        }
        .to_string()));
    }
    // One import at a time, so tasks sharing an image import it once.
    let _one = shared.image_imports.lock().await;
    match store.get(&name) {
        Ok(record) => return Ok(record),
        Err(Error::ImageNotFound(_)) => {}
        Err(e) => return Err(Failure::infra("read image record", e)),
    }
    let fetched = shared
        .fetcher
        .materialize(Some(blob), &dir.file("image"))
        .await
        .infra("fetch image object")?;
    super::counters::add(&shared.counters.asset_bytes, fetched.size);
    let imported = tokio::task::spawn_blocking(move || import_path(&store, &fetched.path, &name))
        .await
        .infra("import image object")?;
    match imported {
        Ok(record) => Ok(record),
        Err(e @ Error::Io { .. }) => Err(Failure::infra("import image object", e)),
        Err(e) => Err(bad(e.to_string())),
    }
}

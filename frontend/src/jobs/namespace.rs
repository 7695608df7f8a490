//! The frontend's side of the jobs supervisor: [`jobs::supervisor::Namespace`]
//! over the object store, a thin adapter onto the helpers in `store.rs`
//! (kept to this one file so the store behind it can change alone), and
//! the mapping of supervisor errors back to the frontend's.

use super::store;
use crate::error::Error;
use crate::path::MantaPath;
use crate::state::AppState;
use crate::store::Error as StoreError;
use jobs::agent::wire::{InputObject, NodeAddr};
use jobs::model::JobErrorCode;
use jobs::supervisor::{DirCache, Fault, Namespace, NsError, OutputObject};
use std::collections::BTreeMap;
use std::path::Path;

/// The object store as the supervisor sees it.
pub(crate) struct StoreNamespace(pub AppState);

/// A path the job named that is not a Manta path: the job's fault.
fn parse(raw: &str) -> Result<MantaPath, Fault> {
    MantaPath::parse(raw)
        .map_err(|e| Fault::job(JobErrorCode::InvalidArgumentError, format!("{raw}: {e}")))
}

fn ours(e: Error) -> Fault {
    Fault::internal(e)
}

#[async_trait::async_trait]
impl Namespace for StoreNamespace {
    async fn resolve(&self, login: &str, path: &str) -> Result<InputObject, Fault> {
        store::resolve(&self.0, login, path).await
    }

    async fn live_nodes(&self) -> Result<Vec<NodeAddr>, NsError> {
        let live = self
            .0
            .store
            .placement()
            .live_targets()
            .await
            .map_err(Error::from)?;
        Ok(live
            .into_iter()
            .map(|t| NodeAddr {
                id: t.id.0,
                url: t.addr,
            })
            .collect())
    }

    fn copies(&self) -> usize {
        self.0.settings.default_durability as usize
    }

    async fn mkdirs(&self, owner: &str, path: &str, made: &DirCache) -> Result<(), Fault> {
        let path = parse(path)?;
        store::mkdirs(&self.0, owner, &path, made)
            .await
            .map_err(ours)
    }

    async fn dir_exists(&self, owner: &str, dir: &str) -> Result<bool, Fault> {
        let dir = parse(dir)?;
        store::resolve_dir(&self.0, owner, &dir).await.map_err(ours)
    }

    async fn put_output(&self, owner: &str, path: &str, obj: &OutputObject) -> Result<(), Fault> {
        let path = parse(path)?;
        let mut rec = store::object_record(
            owner,
            obj.blob.as_ref(),
            &obj.content_type,
            obj.headers.clone(),
            &obj.request_id,
        );
        // The agent leaves out replicas it could not copy to: the record
        // asks repair for the rest (docs/durability.md).
        if let crate::store::Stored::Blob(b) = &mut rec.stored {
            let wanted = self.copies();
            if b.copies.len() < wanted {
                tracing::warn!(path = %path.display(), copies = b.copies.len(), wanted, "job output stored with fewer copies; repair adds the rest");
                b.want = Some(wanted as u32);
            }
        }
        store::put_record(&self.0, owner, &path, &rec)
            .await
            .map_err(ours)
    }

    async fn put_file(
        &self,
        owner: &str,
        path: &str,
        file: &Path,
        content_type: &str,
        headers: BTreeMap<String, String>,
    ) -> Result<(), NsError> {
        let path = MantaPath::parse(path)?;
        store::put_file(&self.0, owner, &path, file, content_type, headers).await?;
        Ok(())
    }

    async fn tail_lines(
        &self,
        owner: &str,
        path: &str,
        n: usize,
    ) -> Result<Option<Vec<String>>, NsError> {
        let path = MantaPath::parse(path)?;
        match store::tail_lines(&self.0, owner, &path, n).await {
            Ok(lines) => Ok(Some(lines)),
            Err(Error::ResourceNotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The frontend error of a supervisor error: the store's own error comes
/// back whole; refused commands are `409 InvalidJobState`.
pub(crate) fn http_error(e: jobs::supervisor::Error) -> Error {
    use jobs::supervisor::Error as E;
    match e {
        E::InvalidJobState { id, reason } => Error::InvalidJobState { id, reason },
        E::NotPickedUp { id } => Error::Store(StoreError::MetadataUnavailable(format!(
            "job {id} is not picked up by a supervisor yet"
        ))),
        E::Metadata { source, .. } => Error::from(source),
        E::Store { source, context } => match source.downcast::<Error>() {
            Ok(e) => *e,
            Err(other) => Error::Internal(format!("{context}: {other}")),
        },
        E::Internal(m) => Error::Internal(m),
    }
}

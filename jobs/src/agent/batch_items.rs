//! A batch's items before its container starts: each input fetched (or
//! found locally) and mounted read-only at `/manta<path>`, and each item's
//! parameters written for the driver (`utilities/batch.sh`) into
//! `<spool>/<k>/`: `object`, `file` and `base`, one value per file, and
//! the item's own spool `<k>/spool`. `k` counts the items handed to the
//! driver; an item that cannot be prepared is not handed to it.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use storage_node::BlobHash;

use super::failure::{Failure, InfraContext};
use super::prepare::{container_path, map_input, InputBytes};
use super::task_dir::TaskDir;
use super::wire::BatchItem;
use super::Shared;
use crate::runtime::{BindMount, TaskSpec};

/// One item of the batch, prepared or not.
pub(crate) struct Item<'a> {
    pub req: &'a BatchItem,
    /// Its input's bytes, local and fetched.
    pub read: InputBytes,
    pub slot: Slot,
}

pub(crate) enum Slot {
    /// Handed to the driver as `<spool>/<k>`.
    Ready(usize),
    /// Not run: why.
    Failed(Failure),
}

/// `<spool>/<k>`: the driver's files of item `k`.
pub(crate) fn item_dir(spool: &Path, k: usize) -> PathBuf {
    spool.join(k.to_string())
}

/// An input already mounted: its blob and the file holding it.
struct Mounted {
    blob: Option<BlobHash>,
    file: PathBuf,
    read: InputBytes,
}

/// Prepares every item in request order, adding the input mounts to
/// `spec`. An item's own trouble (a bad path, an input no node gives)
/// fails that item only.
///
/// # Errors
/// The item files cannot be written (ours, the whole batch).
pub(crate) async fn prepare<'a>(
    shared: &Shared,
    items: &'a [BatchItem],
    dir: &TaskDir,
    spec: &mut TaskSpec,
) -> Result<Vec<Item<'a>>, Failure> {
    let mut mounted: HashMap<PathBuf, Mounted> = HashMap::new();
    let mut prepared = Vec::with_capacity(items.len());
    let mut ready = 0;
    for (i, req) in items.iter().enumerate() {
        let (read, slot) = match mount(shared, req, i, dir, &mut mounted, spec).await {
            Ok((dest, read)) => {
                write_params(&item_dir(&dir.spool(), ready), req, &dest)?;
                ready += 1;
                (read, Slot::Ready(ready - 1))
            }
            Err(failure) => (InputBytes::default(), Slot::Failed(failure)),
        };
        prepared.push(Item { req, read, slot });
    }
    Ok(prepared)
}

/// Mounts the item's input unless an earlier item mounted the same
/// object; returns where it is in the container.
async fn mount(
    shared: &Shared,
    req: &BatchItem,
    index: usize,
    dir: &TaskDir,
    mounted: &mut HashMap<PathBuf, Mounted>,
    spec: &mut TaskSpec,
) -> Result<(PathBuf, InputBytes), Failure> {
    let object = &req.input;
    let dest = container_path("/manta", &object.path)?;
    let blob = object.blob.as_ref().map(|b| b.hash);
    if let Some(earlier) = mounted.get(&dest) {
        if earlier.blob != blob {
            return Err(Failure::Infra(format!(
                "another task of the batch has a different {} (retry it apart)",
                object.path
            )));
        }
        tracing::debug!(file = %earlier.file.display(), "input shared with an earlier item");
        return Ok((dest, earlier.read));
    }
    let mut read = InputBytes::default();
    let name = format!("input.{index}");
    let file = map_input(shared, object, &dir.file(&name), &mut read).await?;
    spec.mounts.push(BindMount::read_only(&file, &dest));
    let entry = Mounted { blob, file, read };
    mounted.insert(dest.clone(), entry);
    Ok((dest, read))
}

/// The driver's files of one item; the directories are the task's to
/// write (its image's user may not be root).
fn write_params(at: &Path, req: &BatchItem, dest: &Path) -> Result<(), Failure> {
    let open = std::fs::Permissions::from_mode(0o777);
    for dir in [at.to_path_buf(), at.join("spool")] {
        std::fs::create_dir(&dir).infra("create a batch item's directory")?;
        std::fs::set_permissions(&dir, open.clone()).infra("open up a batch item's directory")?;
    }
    let file = dest.display().to_string();
    // Sourced by the driver: one file and no process per item, which under
    // runsc's ptrace platform is most of a small task's cost. Each value is
    // single-quoted, so it stays data whatever its bytes.
    let mut params = String::new();
    for (name, value) in [
        ("object", req.input.path.as_str()),
        ("file", file.as_str()),
        ("base", req.output_base.as_str()),
    ] {
        params.push_str(&format!("{name}={}\n", sh_quote(value)));
    }
    std::fs::write(at.join("params"), params).infra("write a batch item's parameters")?;
    Ok(())
}

/// `value` as one single-quoted shell word.
pub(crate) fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::sh_quote;

    #[test]
    fn quoted_values_come_back_byte_for_byte() {
        for v in [
            "/u/stor/a b",
            "it's",
            "$(rm -rf /)`x`\"q\"",
            "line\nbreak\n",
            "'",
            "",
        ] {
            let out = std::process::Command::new("sh")
                .args(["-c", &format!("v={}; printf %s \"$v\"", sh_quote(v))])
                .output()
                .expect("run sh");
            assert_eq!(String::from_utf8_lossy(&out.stdout), v);
        }
    }
}

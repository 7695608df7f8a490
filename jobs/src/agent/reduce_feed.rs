//! A reducer's stdin: its input batches, streamed in order into the pipe
//! as they arrive, then end of file after the batch marked `end`.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;

use super::counters::add;
use super::failure::Failure;
use super::fetch::StreamError;
use super::wire::ReduceInputs;
use super::Shared;

/// Input bytes streamed so far, read once the task is over.
#[derive(Debug, Default)]
pub(crate) struct FedBytes {
    pub local: AtomicU64,
    pub remote: AtomicU64,
}

/// Streams every batch into `pipe` and closes it after the last one (or
/// when the batches' sender goes away). Returns early, without error, when
/// the reader is gone.
///
/// # Errors
/// An input that no node could give (ours: the task is retried).
pub(crate) async fn feed<W: AsyncWrite + Unpin>(
    shared: &Shared,
    mut batches: UnboundedReceiver<ReduceInputs>,
    mut pipe: W,
    fed: &FedBytes,
) -> Result<(), Failure> {
    while let Some(batch) = batches.recv().await {
        for input in &batch.inputs {
            let Some(blob) = &input.blob else { continue };
            match shared.fetcher.stream(blob, &mut pipe).await {
                Ok(true) => {
                    fed.local.fetch_add(blob.size, Ordering::Relaxed);
                    add(&shared.counters.reduce_local_bytes, blob.size);
                }
                Ok(false) => {
                    fed.remote.fetch_add(blob.size, Ordering::Relaxed);
                    add(&shared.counters.reduce_remote_bytes, blob.size);
                }
                Err(StreamError::Sink(e)) => {
                    tracing::debug!(error = %e, "reducer stdin closed");
                    return Ok(());
                }
                Err(StreamError::Source(why)) => {
                    return Err(Failure::Infra(format!(
                        "fetch reduce input {}: {why}",
                        input.path
                    )));
                }
            }
        }
        if batch.end {
            break;
        }
    }
    let _ = pipe.shutdown().await;
    Ok(())
}

//! What the filesystem under a data directory can still take.

use std::path::Path;

/// Bytes an unprivileged writer can still put under `root`, or `None` if
/// the filesystem does not say.
pub fn free_bytes(root: &Path) -> Option<u64> {
    let st = nix::sys::statvfs::statvfs(root).ok()?;
    // f_bavail, not f_bfree: blocks reserved for root are not ours to fill.
    Some((st.blocks_available() as u64).saturating_mul(st.fragment_size() as u64))
}

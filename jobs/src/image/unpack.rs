//! Safe unpacking of one layer tar into its own cache directory.
//!
//! Each layer is unpacked alone (not onto the layers below it), because
//! overlayfs stacks the cached layers at run time. OCI whiteouts are turned
//! into overlayfs's own form: `.wh.NAME` becomes a 0/0 character device and
//! `.wh..wh..opq` becomes the `trusted.overlay.opaque` xattr on its directory.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{lchown, symlink, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use tar::EntryType;

use super::limits::Budget;
use crate::error::{sys, IoContext};
use crate::{Error, Result};

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Unpacks the (uncompressed) layer tar `reader` into the empty directory
/// `dest`, refusing absolute paths, `..`, links that escape the layer, writes
/// through symlinks, FIFOs and device nodes, and stripping setuid and
/// setgid bits; each entry counts against `budget`'s file cap.
pub(crate) fn unpack_layer<R: Read>(reader: R, dest: &Path, budget: &mut Budget) -> Result<()> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().ctx("read layer", dest)?;
    for entry in entries {
        let mut entry = entry.ctx("read layer entry", dest)?;
        budget.count_file()?;
        let raw = entry.path().ctx("read entry path", dest)?.into_owned();
        let shown = raw.display().to_string();
        let Some(rel) = clean_relative(&raw, &shown)? else {
            continue; // "./" itself
        };
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            continue;
        }
        let target = dest.join(&rel);
        ensure_parents(dest, &rel, &shown)?;
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name == OPAQUE {
            set_opaque(target.parent().unwrap_or(dest))?;
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT) {
            // `.wh.`, `.wh..` and `.wh...` would name the directory itself
            // or its parent: removing that deletes the layer or the cache.
            if matches!(hidden, "" | "." | "..") {
                return Err(unsafe_entry(&shown, "whiteout of no file"));
            }
            whiteout(&target.with_file_name(hidden))?;
            continue;
        }
        write_entry(&mut entry, kind, dest, &rel, &target, &shown)?;
    }
    Ok(())
}

fn write_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    kind: EntryType,
    dest: &Path,
    rel: &Path,
    target: &Path,
    shown: &str,
) -> Result<()> {
    let header = entry.header();
    // No setuid or setgid program from an image: a task could otherwise
    // gain the file owner's ids (no_new_privileges is the second line).
    let mode = header.mode().unwrap_or(0o644) & 0o1777;
    let uid = header.uid().unwrap_or(0) as u32;
    let gid = header.gid().unwrap_or(0) as u32;
    match kind {
        EntryType::Directory => match fs::symlink_metadata(target) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                remove_any(target)?;
                fs::create_dir(target).ctx("create directory", target)?;
            }
            Err(_) => fs::create_dir(target).ctx("create directory", target)?,
        },
        EntryType::Regular | EntryType::Continuous => {
            remove_any(target)?;
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(target)
                .ctx("create file", target)?;
            std::io::copy(entry, &mut file).ctx("write file", target)?;
            lchown(target, Some(uid), Some(gid)).ctx("chown", target)?;
            // Through the descriptor just written, never through the name.
            file.set_permissions(fs::Permissions::from_mode(mode))
                .ctx("chmod", target)?;
            return Ok(());
        }
        EntryType::Symlink => {
            let link = link_name(entry, shown)?;
            if symlink_escapes(rel, &link) {
                return Err(unsafe_entry(shown, "symlink points outside the image"));
            }
            remove_any(target)?;
            symlink(&link, target).ctx("create symlink", target)?;
        }
        EntryType::Link => {
            let link = link_name(entry, shown)?;
            let link_rel = clean_relative(&link, shown)?
                .ok_or_else(|| unsafe_entry(shown, "hard link to the layer root"))?;
            let source = dest.join(&link_rel);
            ensure_parents(dest, &link_rel, shown)?;
            let meta = fs::symlink_metadata(&source)
                .map_err(|_| unsafe_entry(shown, "hard link to a file outside this layer"))?;
            if meta.is_dir() {
                return Err(unsafe_entry(shown, "hard link to a directory"));
            }
            remove_any(target)?;
            fs::hard_link(&source, target).ctx("create hard link", target)?;
            return Ok(()); // shares the source's inode, owner and mode
        }
        // A FIFO in a rootfs hangs whoever opens it, the agent reading
        // /etc/passwd included; nothing in an image needs one.
        EntryType::Fifo => return Err(unsafe_entry(shown, "FIFO")),
        EntryType::Char | EntryType::Block => {
            return Err(unsafe_entry(shown, "device node"));
        }
        _ => return Err(unsafe_entry(shown, "unsupported entry type")),
    }
    lchown(target, Some(uid), Some(gid)).ctx("chown", target)?;
    if kind != EntryType::Symlink {
        fs::set_permissions(target, fs::Permissions::from_mode(mode)).ctx("chmod", target)?;
    }
    Ok(())
}

fn link_name<R: Read>(entry: &tar::Entry<'_, R>, shown: &str) -> Result<PathBuf> {
    entry
        .link_name()
        .map_err(|_| unsafe_entry(shown, "unreadable link name"))?
        .map(|l| l.into_owned())
        .ok_or_else(|| unsafe_entry(shown, "link without a target"))
}

fn unsafe_entry(path: &str, reason: &'static str) -> Error {
    Error::UnsafeEntry {
        path: path.to_owned(),
        reason,
    }
}

/// The entry path as plain components below the layer root; `None` for the
/// root itself.
fn clean_relative(raw: &Path, shown: &str) -> Result<Option<PathBuf>> {
    let mut out = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(unsafe_entry(shown, "path contains '..'")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_entry(shown, "absolute path"))
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// A relative symlink escapes when its `..`s climb above the image root.
/// Absolute targets resolve inside the container's own root, so they are
/// kept (Debian images are full of them).
fn symlink_escapes(rel: &Path, link: &Path) -> bool {
    if link.is_absolute() {
        return false;
    }
    let mut depth = rel.components().count() as i64 - 1;
    for c in link.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

/// Creates missing parent directories and refuses to go through a symlink,
/// which an earlier entry could have pointed at the host.
fn ensure_parents(dest: &Path, rel: &Path, shown: &str) -> Result<()> {
    let mut dir = dest.to_path_buf();
    let Some(parent) = rel.parent() else {
        return Ok(());
    };
    for c in parent.components() {
        dir.push(c);
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(unsafe_entry(shown, "path goes through a symlink"))
            }
            Ok(_) => return Err(unsafe_entry(shown, "parent is not a directory")),
            Err(_) => fs::create_dir(&dir).ctx("create directory", &dir)?,
        }
    }
    Ok(())
}

fn remove_any(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path).ctx("remove", path),
        Ok(_) => fs::remove_file(path).ctx("remove", path),
        Err(_) => Ok(()),
    }
}

fn whiteout(path: &Path) -> Result<()> {
    remove_any(path)?;
    mknod(path, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0)).map_err(sys("create whiteout"))
}

fn set_opaque(dir: &Path) -> Result<()> {
    xattr::set(dir, "trusted.overlay.opaque", b"y").ctx("mark directory opaque", dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert!(symlink_escapes(Path::new("a"), Path::new("../x")));
        assert!(!symlink_escapes(Path::new("a/b"), Path::new("../x")));
        assert!(symlink_escapes(Path::new("a/b"), Path::new("../../x")));
        assert!(!symlink_escapes(
            Path::new("bin/sh"),
            Path::new("/bin/busybox")
        ));
        assert!(clean_relative(Path::new("/etc"), "").is_err());
        assert!(clean_relative(Path::new("a/../../b"), "").is_err());
        assert_eq!(
            clean_relative(Path::new("./a/b"), "").unwrap(),
            Some(PathBuf::from("a/b"))
        );
    }
}

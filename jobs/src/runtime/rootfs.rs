//! A task's root filesystem: the image's cached layers stacked read-only
//! with overlayfs over a fresh upper layer on a size-capped tmpfs, which is
//! how the write limit is enforced under both runtimes (ENOSPC).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::error::{sys, IoContext};
use crate::safe_fs::Confined;
use crate::{Error, Result};

/// `<task>/rootfs` (the overlay) and `<task>/scratch` (the tmpfs holding
/// the upper and work dirs).
pub(crate) fn rootfs_dir(task_dir: &Path) -> PathBuf {
    task_dir.join("rootfs")
}

fn scratch_dir(task_dir: &Path) -> PathBuf {
    task_dir.join("scratch")
}

/// The task's `/tmp`, on the same capped tmpfs as the writable layer.
pub(crate) fn tmp_dir(task_dir: &Path) -> PathBuf {
    scratch_dir(task_dir).join("tmp")
}

/// Mounts the task's rootfs; `lowers` are bottom-first. `metacopy`: a
/// change of owner or mode copies up the inode alone (`userns.rs`).
pub(crate) fn mount_rootfs(
    task_dir: &Path,
    lowers: &[PathBuf],
    write_limit: u64,
    metacopy: bool,
) -> Result<()> {
    let scratch = scratch_dir(task_dir);
    let rootfs = rootfs_dir(task_dir);
    for dir in [&scratch, &rootfs] {
        fs::create_dir_all(dir).ctx("create directory", dir)?;
    }
    let size = format!("size={write_limit},mode=0755");
    mount(
        Some("tmpfs"),
        &scratch,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(size.as_str()),
    )
    .map_err(sys("mount the writable layer's tmpfs"))?;
    let (upper, work) = (scratch.join("upper"), scratch.join("work"));
    let tmp = tmp_dir(task_dir);
    for dir in [&upper, &work, &tmp] {
        fs::create_dir(dir).ctx("create directory", dir)?;
    }
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777)).ctx("chmod", &tmp)?;
    let mut lowerdir = String::new();
    for (i, layer) in lowers.iter().rev().enumerate() {
        let text = layer.display().to_string();
        if text.contains([':', ',']) {
            return Err(Error::InvalidTask(format!(
                "layer path {text:?} has ':' or ','"
            )));
        }
        if i > 0 {
            lowerdir.push(':');
        }
        lowerdir.push_str(&text);
    }
    let mut opts = format!(
        "lowerdir={lowerdir},upperdir={},workdir={}",
        upper.display(),
        work.display()
    );
    if metacopy {
        opts.push_str(",metacopy=on");
    }
    mount(
        Some("overlay"),
        &rootfs,
        Some("overlay"),
        MsFlags::empty(),
        Some(opts.as_str()),
    )
    .map_err(sys("mount the overlay rootfs"))
}

/// Unmounts whatever of the rootfs is still mounted; used on every exit
/// path and by recovery, so not-mounted is fine.
pub(crate) fn unmount_rootfs(task_dir: &Path) {
    for dir in [rootfs_dir(task_dir), scratch_dir(task_dir)] {
        if umount2(&dir, MntFlags::empty()).is_err() {
            let _ = umount2(&dir, MntFlags::MNT_DETACH);
        }
    }
}

/// Whether the writable layer is (nearly) full: the task met the cap.
pub(crate) fn write_limit_hit(task_dir: &Path) -> bool {
    match nix::sys::statvfs::statvfs(&scratch_dir(task_dir)) {
        // A few blocks of slack: ENOSPC can come with a little space left
        // that is too small for the write that failed.
        Ok(st) => st.blocks_available() < 16,
        Err(_) => false,
    }
}

/// Creates `dir` (absolute, in the container) in the writable layer unless
/// it exists; stops at a symlink rather than follow it on the host.
pub(crate) fn ensure_dir(rootfs: &Path, dir: &str) -> Result<()> {
    let mut path = rootfs.to_path_buf();
    for c in Path::new(dir).components() {
        let Component::Normal(part) = c else { continue };
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Ok(()),
            Err(_) => fs::create_dir(&path).ctx("create directory", &path)?,
        }
    }
    Ok(())
}

/// Resolves an image's `User` (`uid[:gid]` or names) with the image's own
/// `/etc/passwd` and `/etc/group`, read without following symlinks.
pub(crate) fn resolve_user(rootfs: &Path, user: Option<&str>) -> Result<(u32, u32)> {
    let Some(user) = user.filter(|u| !u.is_empty()) else {
        return Ok((0, 0));
    };
    let (name, group) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd = read_etc(rootfs, "passwd")?;
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && (f[0] == name || f[2] == name));
    let uid = match name.parse::<u32>() {
        Ok(uid) => uid,
        Err(_) => entry
            .as_ref()
            .and_then(|f| f[2].parse().ok())
            .ok_or_else(|| Error::InvalidTask(format!("image user {name:?} not in /etc/passwd")))?,
    };
    let default_gid = entry.as_ref().and_then(|f| f[3].parse().ok()).unwrap_or(0);
    let gid = match group {
        None => default_gid,
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => read_etc(rootfs, "group")?
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() > 2 && f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| {
                    Error::InvalidTask(format!("image group {g:?} not in /etc/group"))
                })?,
        },
    };
    Ok((uid, gid))
}

/// Most `/etc/passwd` files are a few KiB.
const MAX_ETC: u64 = 1 << 20;

/// `/etc/<file>` of the image, empty if it has none. The image chose what
/// is there: a symlink (to a host file), a FIFO (which would hang the
/// agent) or a device is refused, as is a huge file.
fn read_etc(rootfs: &Path, file: &str) -> Result<String> {
    let at = Confined::new(rootfs, Path::new("etc").join(file))
        .map_err(|e| Error::InvalidTask(e.to_string()))?;
    match at.read(MAX_ETC) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.is_not_found() => Ok(String::new()),
        Err(e) if e.is_refusal() => Err(Error::ImageFile(format!("/{e}"))),
        Err(e) => Err(Error::InvalidTask(format!(
            "read the image's /{}: {e}",
            at.shown()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_or_symlinked_passwd_is_refused_without_hanging() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc");
        fs::create_dir(&etc).unwrap();
        nix::unistd::mkfifo(&etc.join("passwd"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let err = resolve_user(root.path(), Some("app"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("FIFO"), "{err}");
        fs::remove_file(etc.join("passwd")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", etc.join("passwd")).unwrap();
        let err = resolve_user(root.path(), Some("root"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("symlink"), "{err}");
        fs::remove_file(etc.join("passwd")).unwrap();
        fs::write(etc.join("passwd"), "app:x:1000:1000::/:/bin/sh\n").unwrap();
        assert_eq!(
            resolve_user(root.path(), Some("app")).unwrap(),
            (1000, 1000)
        );
    }
}

//! The default image's second layer: the host's GNU userland (coreutils,
//! grep, sed, awk, gzip, tar, find, diff, bash...) with the shared libraries
//! and dynamic loader they need, copied from the host's installed packages.
//!
//! Files keep their host paths, placed at the host's canonical locations
//! (`/usr/bin`, `/usr/lib/<triplet>` on a merged-`/usr` Debian); symlinks met
//! on the way (`/usr/bin/awk` → `/etc/alternatives/awk` → `/usr/bin/mawk`,
//! `/lib64` → `usr/lib64`) become relative links to the real file. Every tool
//! is reachable as both `/usr/bin/NAME` and `/bin/NAME`, replacing the
//! busybox applet of that name. That includes `/bin/sh` (dash on Debian):
//! Debian's busybox shell runs its own applets before searching `PATH`, so
//! with it `sort` would stay busybox's. Entries are sorted and dated 0, so
//! hosts with the same packages build the same layer.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use super::busybox::header;
use super::elf;
use crate::error::IoContext;
use crate::{Error, Result};

/// Programs copied when the host has them (missing ones are skipped).
/// `ls` and `stat` (and `dir`, `vdir`) stay busybox's: coreutils 9 calls
/// `statx` with `AT_NO_AUTOMOUNT`, which Debian 12's runsc (20221219)
/// refuses with EINVAL, so `ls -l` and `stat` would fail under runsc.
#[rustfmt::skip]
const TOOLS: &[&str] = &[
    // coreutils
    "[", "arch", "b2sum", "base32", "base64", "basename", "basenc", "cat", "chgrp", "chmod",
    "chown", "cksum", "comm", "cp", "csplit", "cut", "date", "dd", "dircolors", "dirname", "du",
    "echo", "env", "expand", "expr", "factor", "false", "fmt", "fold", "groups", "head", "id",
    "install", "join", "link", "ln", "logname", "md5sum", "mkdir", "mkfifo", "mknod", "mktemp",
    "mv", "nice", "nl", "nohup", "nproc", "numfmt", "od", "paste", "pathchk", "pr", "printenv",
    "printf", "ptx", "pwd", "readlink", "realpath", "rm", "rmdir", "seq", "sha1sum", "sha224sum",
    "sha256sum", "sha384sum", "sha512sum", "shred", "shuf", "sleep", "sort", "split", "sum",
    "sync", "tac", "tail", "tee", "test", "timeout", "touch", "tr", "true", "truncate", "tsort",
    "tty", "uname", "unexpand", "uniq", "unlink", "wc", "whoami", "yes",
    // the rest of a compute zone's userland; `sh` is the host's (dash)
    "grep", "egrep", "fgrep", "sed", "awk", "gawk", "mawk", "gzip", "gunzip", "zcat", "bzip2",
    "bunzip2", "bzcat", "xz", "unxz", "xzcat", "tar", "find", "xargs", "diff", "diff3", "sdiff",
    "cmp", "bash", "dash", "sh",
];
/// Where a tool is looked for, in order.
const BIN_DIRS: [&str; 4] = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];
/// Each tool also gets a link in these image directories.
const ALIAS_DIRS: [&str; 2] = ["usr/bin", "bin"];
/// Directories of the busybox layer, which a symlink here must not hide.
const BUSYBOX_DIRS: [&str; 4] = ["bin", "etc", "root", "tmp"];
const MAX_LINKS: usize = 16;

#[derive(Clone, Debug)]
enum Node {
    Dir,
    File {
        host: PathBuf,
        mode: u32,
        inode: (u64, u64),
    },
    Link(PathBuf),
}

/// The layer under construction, keyed by image path (relative, so a
/// parent always sorts before its children).
#[derive(Clone, Default)]
struct Tree {
    nodes: BTreeMap<PathBuf, Node>,
    /// Sonames already resolved.
    libs: BTreeSet<String>,
}

struct Builder {
    tree: Tree,
    /// The loader's system search path, known from the first program.
    lib_dirs: Option<Vec<PathBuf>>,
    machine: Option<u16>,
}

/// The host-tools layer as an in-memory tar, or `None` (with a warning)
/// when the host's loader or C library cannot be copied.
pub(super) fn layer() -> Option<Vec<u8>> {
    let mut b = Builder {
        tree: Tree::default(),
        lib_dirs: None,
        machine: None,
    };
    let mut copied = 0;
    for name in TOOLS {
        let saved = b.tree.clone();
        match b.add_tool(name) {
            Ok(()) => copied += 1,
            Err(reason) => {
                tracing::debug!(tool = name, reason, "host tool not copied");
                b.tree = saved;
            }
        }
    }
    if b.machine.is_none() || !b.tree.libs.iter().any(|l| l.starts_with("libc.so")) {
        tracing::warn!("no dynamic loader or C library to copy: the default image is busybox only");
        return None;
    }
    match write_tar(&b.tree) {
        Ok(tar) => {
            tracing::debug!(tools = copied, bytes = tar.len(), "host tools layer built");
            Some(tar)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot copy host tools: the default image is busybox only");
            None
        }
    }
}

type Step<T = ()> = std::result::Result<T, String>;

impl Builder {
    fn add_tool(&mut self, name: &str) -> Step {
        let host = BIN_DIRS
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
            .ok_or("not installed")?;
        let real = self.tree.add_chain(&host)?;
        self.add_needs(&real, true)?;
        for dir in ALIAS_DIRS {
            let alias = Path::new(dir).join(name);
            if !self.tree.nodes.contains_key(&alias) {
                self.tree
                    .insert(&alias, Node::Link(relative(Path::new(dir), &real)));
            }
        }
        Ok(())
    }

    /// Adds what the file at image path `real` needs to run: the loader and
    /// libraries of an ELF program, nothing for a script.
    fn add_needs(&mut self, real: &Path, program: bool) -> Step {
        let host = Path::new("/").join(real);
        let bytes = std::fs::read(&host).map_err(|e| format!("read {}: {e}", host.display()))?;
        if program && bytes.starts_with(b"#!") {
            return Ok(());
        }
        let elf = elf::parse(&bytes)
            .ok_or_else(|| format!("{}: not a 64-bit ELF file", host.display()))?;
        if *self.machine.get_or_insert(elf.machine) != elf.machine {
            return Err(format!("{}: another machine", host.display()));
        }
        if let Some(interp) = &elf.interpreter {
            let loader = self.tree.add_chain(interp)?;
            if self.lib_dirs.is_none() {
                self.lib_dirs = Some(search_path(interp, &loader));
            }
        }
        for soname in elf.needed {
            if self.tree.libs.insert(soname.clone()) {
                let lib = self.find_lib(&soname)?;
                let real = self.tree.add_chain(&lib)?;
                self.add_needs(&real, false)?;
            }
        }
        Ok(())
    }

    fn find_lib(&self, soname: &str) -> Step<PathBuf> {
        let dirs = self.lib_dirs.as_deref().unwrap_or_default();
        dirs.iter()
            .map(|d| d.join(soname))
            .find(|p| {
                std::fs::read(p)
                    .ok()
                    .and_then(|b| elf::parse(&b))
                    .is_some_and(|e| Some(e.machine) == self.machine)
            })
            .ok_or_else(|| format!("library {soname} not found"))
    }
}

impl Tree {
    /// Adds the host file `host` through its symlinks; returns the image
    /// path of the real file.
    fn add_chain(&mut self, host: &Path) -> Step<PathBuf> {
        let mut current = host.to_path_buf();
        let mut links = Vec::new();
        for _ in 0..MAX_LINKS {
            let (Some(parent), Some(name)) = (current.parent(), current.file_name()) else {
                return Err(format!("{}: no file name", current.display()));
            };
            self.add_dir_links(parent);
            let dir =
                std::fs::canonicalize(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            let at = dir.join(name);
            let meta =
                std::fs::symlink_metadata(&at).map_err(|e| format!("{}: {e}", at.display()))?;
            if meta.file_type().is_symlink() {
                let target =
                    std::fs::read_link(&at).map_err(|e| format!("{}: {e}", at.display()))?;
                current = dir.join(target);
                links.push(image_path(&at));
                continue;
            }
            if !meta.is_file() {
                return Err(format!("{}: not a regular file", at.display()));
            }
            let real = image_path(&at);
            let inode = (meta.dev(), meta.ino());
            let mode = meta.mode() & 0o777;
            self.insert(
                &real,
                Node::File {
                    host: at,
                    mode,
                    inode,
                },
            );
            for link in links {
                let dir = link.parent().unwrap_or(Path::new(""));
                self.insert(&link, Node::Link(relative(dir, &real)));
            }
            return Ok(real);
        }
        Err(format!("{}: too many symlinks", host.display()))
    }

    /// Mirrors the directory symlinks on the way to `dir` (`/lib64` →
    /// `usr/lib64`), so paths compiled into programs resolve in the image,
    /// except those that would hide a busybox directory.
    fn add_dir_links(&mut self, dir: &Path) {
        let mut prefix = PathBuf::from("/");
        for c in dir.components().skip(1) {
            prefix.push(c);
            let is_link =
                std::fs::symlink_metadata(&prefix).is_ok_and(|m| m.file_type().is_symlink());
            let (Some(parent), Some(name)) = (prefix.parent(), prefix.file_name()) else {
                continue;
            };
            let (Ok(parent), Ok(target)) = (
                std::fs::canonicalize(parent),
                std::fs::canonicalize(&prefix),
            ) else {
                continue;
            };
            let link = image_path(&parent.join(name));
            let hides_busybox = BUSYBOX_DIRS.iter().any(|d| link == Path::new(d));
            if is_link && !hides_busybox && !self.nodes.contains_key(&link) {
                let target = image_path(&target);
                self.insert(&target, Node::Dir);
                let from = link.parent().unwrap_or(Path::new(""));
                self.insert(&link, Node::Link(relative(from, &target)));
            }
        }
    }

    /// Inserts `node` and any missing parent directories; the first entry
    /// at a path wins.
    fn insert(&mut self, path: &Path, node: Node) {
        for dir in path.ancestors().skip(1) {
            if !dir.as_os_str().is_empty() {
                self.nodes.entry(dir.to_path_buf()).or_insert(Node::Dir);
            }
        }
        self.nodes.entry(path.to_path_buf()).or_insert(node);
    }
}

/// The loader's system search path (what it searches with no
/// `ld.so.cache`, as in the image), from `ld.so --help` (glibc 2.33+), else
/// the loader's own directory and the usual ones.
fn search_path(interp: &Path, loader: &Path) -> Vec<PathBuf> {
    let help = Command::new(interp).arg("--help").output();
    let listed: Vec<PathBuf> = help
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_suffix("(system search path)"))
        .map(|d| PathBuf::from(d.trim()))
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    let own = Path::new("/").join(loader.parent().unwrap_or(Path::new("")));
    let mut dirs = vec![own];
    dirs.extend(["/lib64", "/usr/lib64", "/lib", "/usr/lib"].map(PathBuf::from));
    dirs
}

/// A canonical host path as a path inside the image.
fn image_path(host: &Path) -> PathBuf {
    host.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect()
}

/// The relative link from directory `from` to `to` (both image paths).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let (a, b): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    b[common..].iter().for_each(|c| out.push(c));
    out
}

fn write_tar(tree: &Tree) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut seen: BTreeMap<(u64, u64), &Path> = BTreeMap::new();
    for (path, node) in &tree.nodes {
        let io = |e| Error::Io {
            action: "build the host tools layer",
            path: path.clone(),
            source: e,
        };
        match node {
            Node::Dir => {
                let mut h = header(tar::EntryType::Directory, 0o755, 0);
                tar.append_data(&mut h, path, std::io::empty())
                    .map_err(io)?;
            }
            Node::Link(target) => {
                let mut h = header(tar::EntryType::Symlink, 0o777, 0);
                tar.append_link(&mut h, path, target).map_err(io)?;
            }
            Node::File { host, mode, inode } => {
                if let Some(first) = seen.get(inode) {
                    let mut h = header(tar::EntryType::Link, *mode, 0);
                    tar.append_link(&mut h, path, first).map_err(io)?;
                    continue;
                }
                seen.insert(*inode, path);
                let bytes = std::fs::read(host).ctx("read host tool", host)?;
                let mut h = header(tar::EntryType::Regular, *mode, bytes.len() as u64);
                tar.append_data(&mut h, path, &bytes[..]).map_err(io)?;
            }
        }
    }
    tar.into_inner().map_err(|e| Error::Io {
        action: "build the host tools layer",
        path: PathBuf::new(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links() {
        let rel = |a: &str, b: &str| relative(Path::new(a), Path::new(b));
        assert_eq!(rel("usr/bin", "usr/bin/mawk"), Path::new("mawk"));
        assert_eq!(rel("bin", "usr/bin/sort"), Path::new("../usr/bin/sort"));
        assert_eq!(rel("", "usr/lib64"), Path::new("usr/lib64"));
        assert_eq!(
            rel("usr/lib64", "usr/lib/x86_64-linux-gnu/ld.so"),
            Path::new("../lib/x86_64-linux-gnu/ld.so")
        );
    }

    #[test]
    fn layer_is_deterministic_and_has_the_loader() {
        let started = std::time::Instant::now();
        let first = layer().unwrap();
        let took = started.elapsed();
        assert_eq!(first, layer().unwrap());
        let mut paths = Vec::new();
        for entry in tar::Archive::new(&first[..]).entries().unwrap() {
            let entry = entry.unwrap();
            assert_eq!(entry.header().mtime().unwrap(), 0);
            paths.push(entry.path().unwrap().into_owned());
        }
        for want in [
            "usr/bin/sort",
            "bin/sort",
            "usr/bin/awk",
            "bin/bash",
            "bin/sh",
            "lib64",
        ] {
            assert!(paths.iter().any(|p| p == Path::new(want)), "{want}");
        }
        eprintln!("host tools layer: {} bytes in {took:?}", first.len());
    }
}

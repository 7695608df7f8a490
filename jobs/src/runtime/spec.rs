//! The OCI runtime spec (`config.json`) of a task's bundle.

use std::collections::HashSet;
use std::path::PathBuf;

use oci_spec::runtime::{
    get_default_maskedpaths, get_default_readonly_paths, Capability, LinuxBuilder,
    LinuxCapabilitiesBuilder, LinuxDeviceCgroupBuilder, LinuxIdMappingBuilder,
    LinuxNamespaceBuilder, LinuxNamespaceType, LinuxResourcesBuilder, Mount, MountBuilder,
    PosixRlimitBuilder, PosixRlimitType, ProcessBuilder, RootBuilder, Spec, SpecBuilder,
    UserBuilder,
};

use super::kind::RuntimeKind;
use crate::Result;

/// Everything the spec is made from.
pub(crate) struct SpecInput<'a> {
    pub runtime: RuntimeKind,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub(crate) cwd: String,
    pub uid: u32,
    pub(crate) gid: u32,
    /// Host source, container destination, writable.
    pub(crate) binds: &'a [(PathBuf, PathBuf, bool)],
    pub(crate) cgroups_path: Option<String>,
    /// Host directory on the write-capped tmpfs mounted at `/tmp`.
    pub tmp: PathBuf,
    /// The process gets a pty (mlogin).
    pub(crate) terminal: bool,
}

/// What a shell needs inside its own namespaces (change owners and modes
/// of its own files, switch users, signal its children); everything else,
/// `NET_RAW`, `SYS_ADMIN`, `MKNOD` included, is dropped.
const CAPS: [Capability; 7] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fowner,
    Capability::Fsetid,
    Capability::Kill,
    Capability::Setgid,
    Capability::Setuid,
];

pub(crate) fn build(input: SpecInput<'_>) -> Result<Spec> {
    let caps: HashSet<Capability> = CAPS.into_iter().collect();
    let capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(caps.clone())
        .effective(caps.clone())
        .permitted(caps)
        .inheritable(HashSet::new())
        .ambient(HashSet::new())
        .build()?;
    let rlimits = vec![
        rlimit(PosixRlimitType::RlimitNofile, 1024)?,
        rlimit(PosixRlimitType::RlimitCore, 0)?,
    ];
    let process = ProcessBuilder::default()
        .terminal(input.terminal)
        .user(
            UserBuilder::default()
                .uid(input.uid)
                .gid(input.gid)
                .build()?,
        )
        .args(input.args)
        .env(input.env)
        .cwd(input.cwd)
        .capabilities(capabilities)
        .rlimits(rlimits)
        .no_new_privileges(true)
        .build()?;
    let mut mounts = base_mounts()?;
    // runsc would otherwise give /tmp a tmpfs of its own, outside the cap.
    mounts.push(
        MountBuilder::default()
            .destination("/tmp")
            .typ("bind")
            .source(input.tmp)
            .options(strings(&["rbind", "rw", "nosuid", "nodev"]))
            .build()?,
    );
    for (source, destination, writable) in input.binds {
        let mode = if *writable { "rw" } else { "ro" };
        mounts.push(
            MountBuilder::default()
                .destination(destination.clone())
                .typ("bind")
                .source(source.clone())
                .options(strings(&["rbind", mode, "nosuid", "nodev"]))
                .build()?,
        );
    }
    Ok(SpecBuilder::default()
        .version("1.0.2")
        .process(process)
        .root(
            RootBuilder::default()
                .path("rootfs")
                .readonly(false)
                .build()?,
        )
        .hostname("task")
        .mounts(mounts)
        .linux(linux(input.runtime, input.cgroups_path)?)
        .build()?)
}

fn linux(runtime: RuntimeKind, cgroups_path: Option<String>) -> Result<oci_spec::runtime::Linux> {
    let mut kinds = vec![
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
    ];
    if runtime == RuntimeKind::Runc {
        kinds.push(LinuxNamespaceType::Cgroup);
        kinds.push(LinuxNamespaceType::User);
    }
    let namespaces = kinds
        .into_iter()
        .map(|typ| LinuxNamespaceBuilder::default().typ(typ).build())
        .collect::<std::result::Result<Vec<_>, _>>()?;
    // Memory and pids limits sit on the parent task cgroup (see cgroup.rs);
    // here only the device allow-list: nothing but the defaults.
    let deny_devices = LinuxDeviceCgroupBuilder::default()
        .allow(false)
        .access("rwm")
        .build()?;
    let resources = LinuxResourcesBuilder::default()
        .devices(vec![deny_devices])
        .build()?;
    let mut builder = LinuxBuilder::default()
        .namespaces(namespaces)
        .masked_paths(get_default_maskedpaths())
        .readonly_paths(get_default_readonly_paths())
        .resources(resources);
    if let Some(path) = cgroups_path {
        builder = builder.cgroups_path(PathBuf::from(path));
    }
    // runc tasks share the host kernel: keep its rarely needed and
    // dangerous syscalls out of reach. runsc's sentry has its own filter.
    if runtime == RuntimeKind::Runc {
        builder = builder.seccomp(super::seccomp::profile()?);
        // Root in the task is no one on the host (userns.rs).
        let map = vec![LinuxIdMappingBuilder::default()
            .container_id(0u32)
            .host_id(super::userns::HOST_ID)
            .size(super::userns::SIZE)
            .build()?];
        builder = builder.uid_mappings(map.clone()).gid_mappings(map);
    }
    Ok(builder.build()?)
}

fn base_mounts() -> Result<Vec<Mount>> {
    let m = |dest: &str, typ: &str, opts: &[&str]| {
        MountBuilder::default()
            .destination(dest)
            .typ(typ)
            .source(typ)
            .options(strings(opts))
            .build()
    };
    Ok(vec![
        m("/proc", "proc", &["nosuid", "noexec", "nodev"])?,
        // Small, because runc's /dev is a host tmpfs outside the write cap.
        m(
            "/dev",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=1m"],
        )?,
        m(
            "/dev/pts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
            ],
        )?,
        m(
            "/dev/shm",
            "tmpfs",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=16m"],
        )?,
        m("/sys", "sysfs", &["nosuid", "noexec", "nodev", "ro"])?,
    ])
}

fn rlimit(typ: PosixRlimitType, value: u64) -> Result<oci_spec::runtime::PosixRlimit> {
    Ok(PosixRlimitBuilder::default()
        .typ(typ)
        .hard(value)
        .soft(value)
        .build()?)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

//! The seccomp profile of a task under runc: every syscall allowed except
//! Docker's default deny list (the syscalls its default profile blocks for
//! a container without extra capabilities, docs.docker.com
//! "Seccomp security profiles for Docker"), which fail with `EPERM`.
//!
//! Docker writes its profile as an allow list; a deny list is what runc
//! tasks need here because any program of the user's image must keep
//! working, and it blocks the same kernel surface: namespaces, mounts,
//! modules, keyrings, BPF, perf, kexec, clocks, swap, NUMA policy, raw I/O
//! ports, handle-based opens and cross-process memory access. runsc does
//! not take this profile: its sentry implements the syscalls itself and
//! runs under its own seccomp filter (docs/security.md, "Job sandbox").

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder, LinuxSeccompBuilder,
    LinuxSeccompOperator, LinuxSyscall, LinuxSyscallBuilder,
};

use crate::Result;

/// Refused outright, with `EPERM`.
const DENIED: &[&str] = &[
    // Accounting, clocks, reboot, swap, quotas: host-wide state.
    "acct",
    "clock_adjtime",
    "clock_settime",
    "settimeofday",
    "stime",
    "reboot",
    "swapon",
    "swapoff",
    "quotactl",
    "quotactl_fd",
    // Kernel modules and kexec.
    "create_module",
    "delete_module",
    "finit_module",
    "init_module",
    "get_kernel_syms",
    "query_module",
    "kexec_file_load",
    "kexec_load",
    // Keyrings are not namespaced.
    "add_key",
    "keyctl",
    "request_key",
    // BPF, perf and userfaultfd: a large attack surface.
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "lookup_dcookie",
    // Namespaces and mounts (the old and the new mount API).
    "unshare",
    "setns",
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    // Opening files by handle bypasses the mount namespace.
    "name_to_handle_at",
    "open_by_handle_at",
    // Other processes' memory and kernel pointers.
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    // NUMA policy and page moves.
    "get_mempolicy",
    "set_mempolicy",
    "mbind",
    "move_pages",
    // Raw I/O ports and vm86 mode.
    "ioperm",
    "iopl",
    "vm86",
    "vm86old",
    // Obsolete interfaces with a record of bugs.
    "nfsservctl",
    "sysfs",
    "_sysctl",
    "uselib",
    "ustat",
    // io_uring bypasses this filter for the operations it carries.
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
];

/// `clone` flags that make a namespace; `clone` with any of them fails.
const NAMESPACE_FLAGS: [u64; 7] = [
    0x0002_0000, // CLONE_NEWNS
    0x0200_0000, // CLONE_NEWCGROUP
    0x0400_0000, // CLONE_NEWUTS
    0x0800_0000, // CLONE_NEWIPC
    0x1000_0000, // CLONE_NEWUSER
    0x2000_0000, // CLONE_NEWPID
    0x4000_0000, // CLONE_NEWNET
];

const EPERM: u32 = 1;
const ENOSYS: u32 = 38;

/// The profile for runc's `linux.seccomp`.
///
/// # Errors
/// Only if the builders refuse it (they do not).
pub(crate) fn profile() -> Result<LinuxSeccomp> {
    let mut syscalls = vec![deny(DENIED, EPERM)?];
    for flag in NAMESPACE_FLAGS {
        let arg = LinuxSeccompArgBuilder::default()
            .index(0usize)
            .value(flag)
            .value_two(flag)
            .op(LinuxSeccompOperator::ScmpCmpMaskedEq)
            .build()?;
        syscalls.push(
            LinuxSyscallBuilder::default()
                .names(vec!["clone".to_owned()])
                .action(LinuxSeccompAction::ScmpActErrno)
                .errno_ret(EPERM)
                .args(vec![arg])
                .build()?,
        );
    }
    // Its flags are in memory, out of the filter's reach: as Docker does,
    // say it does not exist, so libc falls back to `clone`.
    syscalls.push(deny(&["clone3"], ENOSYS)?);
    Ok(LinuxSeccompBuilder::default()
        .default_action(LinuxSeccompAction::ScmpActAllow)
        .architectures(architectures())
        .syscalls(syscalls)
        .build()?)
}

fn deny(names: &[&str], errno: u32) -> Result<LinuxSyscall> {
    Ok(LinuxSyscallBuilder::default()
        .names(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
        .action(LinuxSeccompAction::ScmpActErrno)
        .errno_ret(errno)
        .build()?)
}

/// The native architecture and those it can also run (32-bit binaries),
/// so their syscall numbers are filtered too.
fn architectures() -> Vec<Arch> {
    match std::env::consts::ARCH {
        "x86_64" => vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32],
        "aarch64" => vec![Arch::ScmpArchAarch64, Arch::ScmpArchArm],
        _ => vec![Arch::ScmpArchNative],
    }
}

//! What a task under runc may ask of the host kernel: the seccomp profile
//! refuses namespaces, mounts, keyrings and the like, and the task's root
//! is host uid 100000 in a user namespace, still owning its own rootfs.

use jobs::runtime::RuntimeKind;

use crate::common::*;

#[tokio::test]
async fn sandbox_seccomp_refuses_namespaces_under_runc() {
    let (_dir, runner) = runner();
    // A user namespace needs no capability: only the profile stops it.
    let spec = task(
        RuntimeKind::Runc,
        "unshare -U true && echo escaped; grep ^Seccomp: /proc/self/status",
    );
    let (outcome, out) = run(&runner, &spec).await;
    assert!(!out.contains("escaped"), "{out}");
    assert!(out.contains("Seccomp:\t2"), "{out}");
    assert!(
        stderr(&outcome).contains("Operation not permitted"),
        "{}",
        stderr(&outcome)
    );
    let (outcome, out) = run(&runner, &task(RuntimeKind::Runc, "echo fine")).await;
    assert!(outcome.success(), "{}", stderr(&outcome));
    assert_eq!(out, "fine\n");
}

#[tokio::test]
async fn sandbox_task_root_is_not_host_root_under_runc() {
    let (_dir, runner) = runner();
    let spec = task(
        RuntimeKind::Runc,
        "cat /proc/self/uid_map /proc/self/gid_map; id -u",
    );
    let (outcome, out) = run(&runner, &spec).await;
    assert!(outcome.success(), "{}", stderr(&outcome));
    let maps: Vec<Vec<&str>> = out
        .lines()
        .take(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(maps, vec![vec!["0", "100000", "65536"]; 2], "{out}");
    assert_eq!(out.lines().nth(2), Some("0"), "{out}");
}

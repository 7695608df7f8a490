//! What a task under runc may ask of the host kernel: the seccomp profile
//! refuses namespaces, mounts, keyrings and the like.

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

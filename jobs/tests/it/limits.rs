//! Escapes fail and limits are reported as such, under both runtimes.

use std::time::Duration;

use jobs::runtime::{BindMount, LimitKind, TaskRunner};

use crate::common::*;

#[tokio::test]
async fn host_loopback_is_unreachable() {
    let (_dir, runner) = runner();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    for runtime in BOTH {
        let spec = task(runtime, &format!("echo hi | nc -w 2 127.0.0.1 {port}"));
        let (outcome, _) = run(&runner, &spec).await;
        assert_ne!(outcome.exit_code, Some(0), "{runtime}");
        assert!(
            stderr(&outcome).contains("Connection refused"),
            "{runtime}: {}",
            stderr(&outcome)
        );
        assert!(
            listener.accept().is_err(),
            "{runtime}: the host listener got a connection"
        );
    }
}

#[tokio::test]
async fn host_files_are_invisible_and_input_is_read_only() {
    let (dir, runner) = runner();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "host secret").unwrap();
    let mut perms = std::fs::metadata(&secret).unwrap().permissions();
    for runtime in BOTH {
        let mut spec = task(runtime, &format!("cat {}", secret.display()));
        let (outcome, out) = run(&runner, &spec).await;
        assert_eq!(outcome.exit_code, Some(1), "{runtime}");
        assert!(
            stderr(&outcome).contains("No such file"),
            "{runtime}: {}",
            stderr(&outcome)
        );
        assert!(!out.contains("host secret"));

        // Writable by anyone, so it is the read-only mount that refuses
        // (under runc's user namespace the file is not the task root's).
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o666);
        std::fs::set_permissions(&secret, perms.clone()).unwrap();
        spec.command = "cat /in; echo more >> /in".into();
        spec.mounts
            .push(BindMount::read_only(secret.clone(), "/in"));
        let (outcome, out) = run(&runner, &spec).await;
        assert_eq!(out, "host secret", "{runtime}");
        assert_ne!(outcome.exit_code, Some(0), "{runtime}");
        assert!(
            stderr(&outcome).contains("Read-only file system"),
            "{runtime}: {}",
            stderr(&outcome)
        );
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "host secret");
    }
}

#[tokio::test]
async fn fork_bomb_hits_the_pids_limit() {
    let (_dir, runner) = runner();
    for runtime in BOTH {
        let mut spec = task(runtime, "f() { f | f & }; f; sleep 30");
        spec.limits.pids = 64;
        spec.limits.wall_time = Duration::from_secs(5);
        let (outcome, _) = run(&runner, &spec).await;
        assert!(outcome.hit(LimitKind::Pids), "{runtime}: {outcome:?}");
    }
}

#[tokio::test]
async fn memory_hog_hits_the_memory_limit() {
    let (_dir, runner) = runner();
    for runtime in BOTH {
        let mut spec = task(
            runtime,
            "awk 'BEGIN { s = \"xxxxxxxx\"; while (1) s = s s }'",
        );
        spec.limits.memory_bytes = 64 << 20;
        spec.limits.wall_time = Duration::from_secs(30);
        let (outcome, _) = run(&runner, &spec).await;
        assert!(outcome.hit(LimitKind::Memory), "{runtime}: {outcome:?}");
        assert!(!outcome.hit(LimitKind::WallTime), "{runtime}: {outcome:?}");
        assert_eq!(outcome.exit_code, None);
    }
}

#[tokio::test]
async fn endless_loop_hits_the_time_limit() {
    let (_dir, runner) = runner();
    for runtime in BOTH {
        let mut spec = task(runtime, "while :; do :; done");
        spec.limits.wall_time = Duration::from_secs(2);
        let (outcome, _) = run(&runner, &spec).await;
        assert_eq!(outcome.limits_hit, vec![LimitKind::WallTime], "{runtime}");
        assert_eq!(outcome.exit_code, None);
        assert!(
            outcome.wall_time < Duration::from_secs(10),
            "{runtime}: {:?}",
            outcome.wall_time
        );
    }
}

#[tokio::test]
async fn filling_the_disk_hits_the_write_limit() {
    let (_dir, runner) = runner();
    for runtime in BOTH {
        for target in ["/tmp/fill", "/fill"] {
            let mut spec = task(
                runtime,
                &format!("dd if=/dev/zero of={target} bs=1M count=64"),
            );
            spec.limits.write_bytes = 8 << 20;
            let (outcome, _) = run(&runner, &spec).await;
            assert!(
                outcome.hit(LimitKind::WriteBytes),
                "{runtime} {target}: {outcome:?}"
            );
            assert!(
                stderr(&outcome).contains("No space left"),
                "{runtime}: {}",
                stderr(&outcome)
            );
        }
    }
}

/// A task whose agent died: its container, mounts and bundle are removed
/// by the next agent's `recover`.
#[tokio::test]
async fn recover_cleans_up_after_a_killed_agent() {
    let (dir, runner) = runner();
    for runtime in BOTH {
        let spec = task(runtime, "sleep 60");
        let mut sink = tokio::io::sink();
        let mut running = Box::pin(runner.run(&spec, &mut sink));
        assert!(tokio::time::timeout(Duration::from_secs(2), &mut running)
            .await
            .is_err());
        // Never dropped, never polled again: like an agent that was killed.
        std::mem::forget(running);
        let tasks = dir.path().join("tasks");
        assert_eq!(
            std::fs::read_dir(&tasks).unwrap().count(),
            1,
            "{runtime}: a leftover to clean"
        );
        let fresh = TaskRunner::new(runner.store().clone());
        assert!(fresh.recover().await.unwrap() >= 1);
        assert_eq!(std::fs::read_dir(&tasks).unwrap().count(), 0, "{runtime}");
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(
            !mounts.contains(&dir.path().display().to_string()),
            "{runtime}: mounts left"
        );
        let list = std::process::Command::new(runtime.binary())
            .arg("--root")
            .arg(dir.path().join(runtime.binary()))
            .args(["list", "-q"])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&list.stdout).trim().is_empty(),
            "{runtime}: containers left"
        );
    }
}

/// A dropped `run` (a cancelled job) cleans up after itself.
#[tokio::test]
async fn dropped_task_is_cleaned_up() {
    let (dir, runner) = runner();
    for runtime in BOTH {
        let spec = task(runtime, "sleep 60");
        let mut sink = tokio::io::sink();
        let run = runner.run(&spec, &mut sink);
        assert!(tokio::time::timeout(Duration::from_secs(2), run)
            .await
            .is_err());
        let tasks = dir.path().join("tasks");
        for _ in 0..100 {
            if std::fs::read_dir(&tasks).unwrap().count() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(std::fs::read_dir(&tasks).unwrap().count(), 0, "{runtime}");
    }
}

//! `mjob` against the in-process cluster, checking the wire behaviour of
//! MANTA-API.md §4.1–4.4 through the real binary: create with inputs from
//! stdin and `-o`, open input + addinputs + close + watch + outputs,
//! errors and failures, cancel and state errors, list and get, and
//! node-manta's own `mjob` against our server.

use crate::harness::{fails_with, ok, stderr, stdout, Env, USER};
use bytes::Bytes;
use client_sdk::PutOptions;
use std::path::PathBuf;
use std::process::Output;

async fn mjob(env: &Env, args: &[&str]) -> Output {
    mjob_stdin(env, args, b"").await
}

async fn mjob_stdin(env: &Env, args: &[&str], stdin: &[u8]) -> Output {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_mjob"));
    env.run_with(bin, args, Some(stdin)).await
}

/// `~~/stor/in/a.txt` (3 lines) and `~~/stor/in/b.txt` (2 lines).
async fn inputs(env: &Env) {
    env.client.mkdirp("~~/stor/in").await.unwrap();
    for (name, body) in [("a.txt", "one\ntwo\nthree\n"), ("b.txt", "four\nfive\n")] {
        let path = format!("~~/stor/in/{name}");
        env.client
            .put_bytes(&path, Bytes::from(body), &PutOptions::default())
            .await
            .unwrap();
    }
}

/// The job id `mjob create` printed.
fn job_id(o: &Output) -> String {
    let out = ok(o);
    let id = out.trim().to_string();
    assert!(
        !id.is_empty() && !id.contains('\n'),
        "create printed {out:?}"
    );
    id
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(o)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prints_the_job_and_bad_specs_fail() {
    let env = Env::start().await;
    let o = mjob(
        &env,
        &[
            "create",
            "--dry-run",
            "-s",
            "~~/stor/s.sh",
            "-m",
            "wc",
            "-r",
            "cat",
        ],
    )
    .await;
    let job = json(&o);
    assert_eq!(job["phases"][0]["assets"][0], format!("/{USER}/stor/s.sh"));
    assert_eq!(job["phases"][0]["type"], "map");
    assert_eq!(job["phases"][1]["type"], "reduce");
    assert!(stdout(&o).contains("\n    \"phases\""), "4-space indent");
    fails_with(
        &mjob(&env, &["create"]).await,
        "At least one map or reduce task must be specified",
    );
    fails_with(
        &mjob(&env, &["create", "-m", "wc", "cat"]).await,
        "cannot use -m/-r along with a job expression",
    );
    let o = mjob(&env, &["create", "--memory", "0", "-m", "wc"]).await;
    assert_eq!(o.status.code(), Some(1), "bad flag value exits 1");
    let o = mjob(&env, &["get"]).await;
    assert_eq!(o.status.code(), Some(1), "a job id is required");
}

#[tokio::test(flavor = "multi_thread")]
async fn create_with_stdin_inputs_and_cat_outputs() {
    let env = Env::start().await;
    inputs(&env).await;
    let o = mjob_stdin(
        &env,
        &["create", "-o", "-m", "wc -l"],
        format!("/{USER}/stor/in/a.txt\n").as_bytes(),
    )
    .await;
    assert_eq!(ok(&o).trim(), "3", "stderr {}", stderr(&o));
    assert!(stderr(&o).contains("added 1 input to "), "{}", stderr(&o));
    // Relative and ~~ keys, a reduce phase, -q.
    let o = mjob_stdin(
        &env,
        &[
            "create",
            "-q",
            "-o",
            "-m",
            "wc -l",
            "-r",
            "awk '{s+=$1} END {print s}'",
        ],
        b"in/a.txt\r\n~~/stor/in/b.txt\n",
    )
    .await;
    assert_eq!(ok(&o).trim(), "5");
    assert_eq!(stderr(&o), "", "-q reports nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn open_job_addinputs_close_watch_outputs() {
    let env = Env::start().await;
    inputs(&env).await;
    let id = job_id(
        &mjob(
            &env,
            &[
                "create", "--open", "-n", "two", "-m", "cat", "-r", "wc -l", "--count", "1",
            ],
        )
        .await,
    );
    let o = mjob_stdin(
        &env,
        &["addinputs", "--open", &id],
        format!("~~/stor/in/a.txt\n/{USER}/stor/in/b.txt\n").as_bytes(),
    )
    .await;
    ok(&o);
    assert_eq!(stderr(&o), format!("added 2 inputs to {id}\n"));
    let listed = ok(&mjob(&env, &["inputs", &id]).await);
    assert_eq!(
        listed,
        format!("/{USER}/stor/in/a.txt\n/{USER}/stor/in/b.txt\n")
    );
    let job = json(&mjob(&env, &["get", &id]).await);
    assert_eq!(job["inputDone"], false);
    assert_eq!(job["name"], "two");
    ok(&mjob(&env, &["close", &id]).await);
    ok(&mjob(&env, &["close", &id]).await); // a no-op once closed
    let job = json(&mjob(&env, &["watch", &id]).await);
    assert_eq!(job["state"], "done");
    assert_eq!(job["inputDone"], true);
    assert_eq!(job["stats"]["errors"], 0);
    assert_eq!(job["phases"][1]["type"], "reduce");
    let outs = ok(&mjob(&env, &["outputs", &id]).await);
    let outs: Vec<&str> = outs.lines().collect();
    assert_eq!(outs.len(), 1, "{outs:?}");
    assert!(
        outs[0].starts_with(&format!("/{USER}/jobs/{id}/stor/")),
        "{outs:?}"
    );
    let data = env.client.get_bytes(outs[0]).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&data).trim(), "5");
    // `wait` is watch's alias; a done job refuses input.
    ok(&mjob(&env, &["wait", &id]).await);
    fails_with(
        &mjob_stdin(&env, &["addinputs", &id], b"~~/stor/in/a.txt\n").await,
        "InvalidJobState",
    );
    assert_eq!(ok(&mjob(&env, &["errors", &id]).await), "");
    assert_eq!(ok(&mjob(&env, &["failures", &id]).await), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_task_shows_in_errors_and_failures() {
    let env = Env::start().await;
    inputs(&env).await;
    let key = format!("/{USER}/stor/in/a.txt");
    let o = mjob_stdin(
        &env,
        &["create", "-w", "-m", "exit 3"],
        format!("{key}\n").as_bytes(),
    )
    .await;
    let id = stdout(&o).trim().to_string();
    fails_with(&o, &format!("mjob: job {id} had 1 error"));
    let errs = ok(&mjob(&env, &["errors", &id]).await);
    let lines: Vec<serde_json::Value> = errs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{errs}");
    assert_eq!(lines[0]["code"], "UserTaskError");
    assert_eq!(lines[0]["phase"], 0);
    assert_eq!(lines[0]["input"], key.as_str());
    assert!(
        lines[0]["message"]
            .as_str()
            .unwrap()
            .contains("exited with code 3"),
        "{errs}"
    );
    assert_eq!(
        ok(&mjob(&env, &["failures", &id]).await),
        format!("{key}\n")
    );
    // watch prints the job and exits 0 even with errors (node-manta).
    let job = json(&mjob(&env, &["watch", &id]).await);
    assert_eq!(job["stats"]["errors"], 1);
    // -o with errors fails without printing outputs.
    let o = mjob_stdin(
        &env,
        &["create", "-o", "-m", "exit 3"],
        format!("{key}\n").as_bytes(),
    )
    .await;
    fails_with(&o, "had 1 error");
    assert_eq!(stdout(&o), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_list_get_and_state_errors() {
    let env = Env::start().await;
    let id = job_id(&mjob(&env, &["create", "--open", "-n", "listed", "-m", "wc"]).await);
    let listed = ok(&mjob(&env, &["list"]).await);
    assert!(listed.lines().any(|l| l == format!("{id}/")), "{listed}");
    let by_name = ok(&mjob(&env, &["list", "-n", "listed"]).await);
    assert_eq!(by_name, format!("{id}/\n"));
    assert_eq!(ok(&mjob(&env, &["list", "-n", "other"]).await), "");
    let long = ok(&mjob(&env, &["list", "-l", "-n", "listed"]).await);
    assert!(
        long.starts_with(&format!("drwxr-xr-x 1 {USER} 1 ")) && long.trim_end().ends_with(&id),
        "{long}"
    );
    ok(&mjob(&env, &["list", "-s", "running"]).await);
    let job = json(&mjob(&env, &["get", &format!("/{USER}/jobs/{id}")]).await);
    assert_eq!(job["id"], id.as_str());
    assert_eq!(job["phases"][0]["exec"], "wc");
    assert_eq!(job["cancelled"], false);
    ok(&mjob(&env, &["cancel", &id]).await);
    fails_with(
        &mjob(&env, &["cancel", &id]).await,
        "mjob: InvalidJobState: ",
    );
    fails_with(&mjob(&env, &["close", &id]).await, "InvalidJobState");
    let job = json(&mjob(&env, &["watch", &id]).await);
    assert_eq!(job["cancelled"], true);
    assert_eq!(job["inputDone"], true);
    assert_eq!(job["state"], "done");
    fails_with(
        &mjob(&env, &["get", "00000000-0000-0000-0000-000000000000"]).await,
        "NotFound",
    );
    // The server checks the spec: memory not in its allowed set.
    fails_with(
        &mjob(&env, &["create", "--memory", "3", "-m", "wc"]).await,
        "mjob: InvalidJob: ",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_mjob_creates_and_gets() {
    let dir = std::env::var("MANTA_NODE_BIN")
        .unwrap_or_else(|_| "/var/cache/mantad-node/node_modules/manta/bin".into());
    let node = PathBuf::from(dir).join("mjob");
    if !node.exists() {
        eprintln!("skipped: no node-manta mjob at {}", node.display());
        return;
    }
    let env = Env::start().await;
    inputs(&env).await;
    let o = env
        .run_with(
            node.clone(),
            &["create", "-m", "wc"],
            Some(format!("/{USER}/stor/in/a.txt\n").as_bytes()),
        )
        .await;
    let id = job_id(&o);
    let theirs = json(&env.run_with(node.clone(), &["get", &id], None).await);
    assert_eq!(theirs["id"], id.as_str());
    assert_eq!(theirs["phases"][0]["exec"], "wc");
    let ours = json(&mjob(&env, &["get", &id]).await);
    assert_eq!(ours["id"], theirs["id"]);
    assert_eq!(ours["phases"], theirs["phases"]);
    let done = json(&env.run_with(node.clone(), &["watch", &id], None).await);
    assert_eq!(done["state"], "done");
    let outs = ok(&env.run_with(node, &["outputs", &id], None).await);
    assert_eq!(outs, ok(&mjob(&env, &["outputs", &id]).await));
}

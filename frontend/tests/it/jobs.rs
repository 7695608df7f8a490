//! The jobs API end to end: real HTTP, real shards and blob stores, real
//! containers (runc unless a test says runsc), real `mantad storage`
//! processes where a node is killed.

use frontend::testkit::*;
use jobs::agent::wire::AgentStatus;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

pub const WORDS_MAP: &str = "tr -cs A-Za-z '\\n' | tr A-Z a-z | sort | uniq -c";
pub const WORDS_REDUCE: &str = "awk '{c[$2] += $1} END {for (w in c) print c[w], w}' | sort -k2";

pub async fn create(tc: &TestCluster, job: Value) -> String {
    let r = tc
        .req(Method::POST, "jobs")
        .header("content-type", "application/json; type=job")
        .body(job.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let loc = header(&r, "location");
    let id = loc.rsplit('/').next().unwrap().to_string();
    assert_eq!(loc, format!("/{USER}/jobs/{id}"));
    id
}

/// Reduce that sums the first column of its input.
const SUM: &str = "awk '{s += $1} END {print s}'";

/// A job whose map runs `map` and whose one reducer sums the results.
async fn map_sum_job(tc: &TestCluster, map: &str) -> String {
    create(
        tc,
        json!({"phases": [{"exec": map}, {"type": "reduce", "exec": SUM}]}),
    )
    .await
}

pub async fn add_inputs(tc: &TestCluster, id: &str, paths: &[String], end: bool) {
    let q = if end { "?end=true" } else { "" };
    let r = tc
        .req(Method::POST, &format!("jobs/{id}/live/in{q}"))
        .header("content-type", "text/plain")
        // As node-manta sends them: CRLF, no trailing newline.
        .body(paths.join("\r\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
}

async fn status(tc: &TestCluster, id: &str) -> Value {
    let r = tc.get(&format!("jobs/{id}/live/status")).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub async fn wait_done(tc: &TestCluster, id: &str, limit: Duration) -> Value {
    let start = std::time::Instant::now();
    loop {
        let job = status(tc, id).await;
        if job["state"] == "done" {
            return job;
        }
        assert!(
            start.elapsed() < limit,
            "job not done after {limit:?}: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn live_lines(tc: &TestCluster, id: &str, what: &str) -> Vec<String> {
    let r = tc.get(&format!("jobs/{id}/live/{what}")).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    text.lines().map(str::to_string).collect()
}

pub async fn object_text(tc: &TestCluster, path: &str) -> String {
    let r = tc
        .at(Method::GET, &format!("{}{path}", tc.cluster.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn agents(tc: &TestCluster) -> Vec<AgentStatus> {
    let mut out = Vec::new();
    let key = tc.cluster.meta.cluster_key();
    for n in tc.cluster.meta.nodes().await.unwrap() {
        let url = format!("{}/agent/v1/status", n.record.addr);
        let r = key.send(&tc.http, tc.http.get(url)).await;
        if let Ok(r) = r {
            out.push(r.json().await.unwrap());
        }
    }
    out
}

/// Deterministic English-ish text.
pub fn text(seed: u64, words: usize) -> String {
    const VOCAB: [&str; 12] = [
        "Manta", "object", "store", "the", "data", "compute", "Node", "job", "map", "reduce",
        "stream", "blob",
    ];
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut s = String::new();
    for i in 0..words {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s.push_str(VOCAB[(x >> 33) as usize % VOCAB.len()]);
        s.push_str(if i % 11 == 10 { ".\n" } else { ", " });
    }
    s
}

fn counts(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let n = it.next()?.parse().ok()?;
            Some((it.next()?.to_string(), n))
        })
        .collect()
}

/// The same pipeline on the host, over the concatenated inputs.
fn host_word_counts(all: &str) -> BTreeMap<String, u64> {
    let mut child = std::process::Command::new("sh")
        .args(["-c", WORDS_MAP])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let all = all.to_string();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(all.as_bytes()).unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    counts(&String::from_utf8(out.stdout).unwrap())
}

#[tokio::test]
async fn word_frequency_matches_the_host_and_runs_where_the_data_is() {
    let tc = TestCluster::start().await;
    tc.mkdir("stor/books").await;
    let mut all = String::new();
    let mut inputs = Vec::new();
    for i in 0..20 {
        let t = text(i, 300 + i as usize * 7);
        all.push_str(&t);
        assert_eq!(
            tc.put(&format!("stor/books/b{i:02}.txt"), t).await.status(),
            204
        );
        inputs.push(format!("/{USER}/stor/books/b{i:02}.txt"));
    }
    let id = create(
        &tc,
        json!({"name": "words", "phases": [
            {"type": "map", "exec": WORDS_MAP},
            {"type": "reduce", "exec": WORDS_REDUCE}
        ]}),
    )
    .await;
    add_inputs(&tc, &id, &inputs[..10], false).await;
    add_inputs(&tc, &id, &inputs[10..], true).await;
    let job = wait_done(&tc, &id, Duration::from_secs(180)).await;
    assert_eq!(job["stats"]["errors"], 0, "{job}");
    assert_eq!(job["stats"]["tasks"], 21, "{job}");
    assert_eq!(job["stats"]["tasksDone"], 21, "{job}");
    assert_eq!(job["stats"]["outputs"], 1, "{job}");
    assert_eq!(job["inputDone"], true);
    assert_eq!(job["name"], "words");
    let outs = live_lines(&tc, &id, "out").await;
    assert_eq!(outs.len(), 1, "{outs:?}");
    assert!(
        outs[0].starts_with(&format!("/{USER}/jobs/{id}/stor/reduce.1.")),
        "{outs:?}"
    );
    let got = counts(&object_text(&tc, &outs[0]).await);
    assert_eq!(got, host_word_counts(&all));
    assert!(!got.is_empty());

    // Every map task ran on a node holding its input: no remote bytes.
    let total: u64 = inputs.len() as u64;
    let stats = agents(&tc).await;
    assert_eq!(stats.len(), 3);
    assert_eq!(
        stats.iter().map(|s| s.map_remote_bytes).sum::<u64>(),
        0,
        "{stats:?}"
    );
    assert_eq!(
        stats.iter().map(|s| s.map_local_bytes).sum::<u64>(),
        all.len() as u64,
        "{stats:?}"
    );
    assert!(stats.iter().map(|s| s.tasks_done).sum::<u64>() > total);

    // Intermediate outputs are named after their input, as Manta does.
    let r = tc.get(&format!("jobs/{id}/stor/{USER}/stor/books")).await;
    assert_eq!(r.status(), 200);
    let listing = r.text().await.unwrap();
    assert!(listing.contains("b00.txt.0."), "{listing}");

    // Archived like Manta: job.json and the lists.
    let archived: Value =
        serde_json::from_str(&object_text(&tc, &format!("/{USER}/jobs/{id}/job.json")).await)
            .unwrap();
    assert_eq!(archived["state"], "done");
    assert_eq!(archived["id"], id.as_str());
    let in_txt = object_text(&tc, &format!("/{USER}/jobs/{id}/in.txt")).await;
    assert_eq!(in_txt.lines().collect::<Vec<_>>(), inputs);
    assert_eq!(
        object_text(&tc, &format!("/{USER}/jobs/{id}/out.txt"))
            .await
            .trim(),
        outs[0]
    );
    assert_eq!(live_lines(&tc, &id, "in").await, inputs);
    // A done job takes no more input.
    let r = tc
        .req(Method::POST, &format!("jobs/{id}/live/in"))
        .body("/x")
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "InvalidJobState").await;
}

#[tokio::test]
async fn failures_are_errors_with_stderr_not_stuck_jobs() {
    let tc = TestCluster::start().await;
    tc.put("stor/ok", "fine\n").await;
    tc.put("stor/bad", "boom\n").await;
    tc.mkdir("stor/adir").await;
    let id = create(
        &tc,
        json!({"phases": [{"exec": "if grep -q boom; then echo \"it went $(cat $MANTA_INPUT_FILE)\" >&2; exit 3; fi; echo ok"}]}),
    )
    .await;
    let inputs: Vec<String> = ["ok", "bad", "missing", "adir"]
        .iter()
        .map(|n| format!("/{USER}/stor/{n}"))
        .collect();
    add_inputs(&tc, &id, &inputs, true).await;
    let job = wait_done(&tc, &id, Duration::from_secs(120)).await;
    assert_eq!(job["stats"]["errors"], 3, "{job}");
    assert_eq!(job["stats"]["outputs"], 1, "{job}");
    let errs: Vec<Value> = live_lines(&tc, &id, "err")
        .await
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(errs.len(), 3);
    let by_input = |n: &str| {
        errs.iter()
            .find(|e| e["input"] == format!("/{USER}/stor/{n}"))
            .unwrap_or_else(|| panic!("no error for {n}: {errs:?}"))
            .clone()
    };
    let bad = by_input("bad");
    assert_eq!(bad["code"], "UserTaskError");
    assert_eq!(bad["message"], "user command exited with code 3");
    assert_eq!(bad["phase"], 0);
    assert_eq!(bad["what"], format!("phase 0: input \"/{USER}/stor/bad\""));
    let stderr = object_text(&tc, bad["stderr"].as_str().unwrap()).await;
    assert_eq!(stderr, "it went boom\n");
    assert_eq!(by_input("missing")["code"], "ResourceNotFoundError");
    assert_eq!(by_input("adir")["code"], "InvalidArgumentError");
    let mut fails = live_lines(&tc, &id, "fail").await;
    fails.sort();
    let mut want: Vec<String> = inputs[1..].to_vec();
    want.sort();
    assert_eq!(fails, want);
    let out = live_lines(&tc, &id, "out").await;
    assert_eq!(object_text(&tc, &out[0]).await, "ok\n");
}

#[tokio::test]
async fn bad_jobs_and_states_get_manta_errors() {
    let tc = TestCluster::start().await;
    for body in [
        json!({"phases": []}),
        json!({"phases": [{"exec": ""}]}),
        json!({"phases": [{"exec": "wc", "bogus": 1}]}),
        json!({"phases": [{"type": "reduce", "exec": "wc", "count": 0}]}),
        json!({"phases": [{"exec": "wc", "memory": 3}]}),
    ] {
        let r = tc
            .req(Method::POST, "jobs")
            .header("content-type", "application/json; type=job")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_error(r, 400, "InvalidJob").await;
    }
    let r = tc
        .req(Method::POST, "jobs")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "InvalidJob").await;
    let unknown = uuid::Uuid::new_v4();
    assert_error(
        tc.get(&format!("jobs/{unknown}/live/status")).await,
        404,
        "JobNotFound",
    )
    .await;
    // Another account cannot see or drive the job.
    let id = create(&tc, json!({"phases": [{"exec": "cat"}]})).await;
    let other = tc
        .as_user(
            "other",
            Method::GET,
            &tc.url(&format!("jobs/{id}/live/status")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    let mine_as_other = tc
        .as_user(
            "other",
            Method::GET,
            &format!("{}/other/jobs/{id}/live/status", tc.cluster.url),
        )
        .send()
        .await
        .unwrap();
    assert_error(mine_as_other, 404, "JobNotFound").await;
    // End twice is fine; input after end is not.
    let r = tc
        .req(Method::POST, &format!("jobs/{id}/live/in/end"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let r = tc
        .req(Method::POST, &format!("jobs/{id}/live/in/end"))
        .send()
        .await
        .unwrap();
    assert!(r.status() == 202 || r.status() == 409, "{}", r.status());
    let r = tc
        .req(Method::POST, &format!("jobs/{id}/live/in"))
        .body("/x")
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "InvalidJobState").await;
    let job = wait_done(&tc, &id, Duration::from_secs(60)).await;
    assert_eq!(job["stats"]["tasks"], 0);
    // Listing: running/done filters and the plain directory listing.
    let r = tc.req(Method::GET, "jobs?state=done").send().await.unwrap();
    assert_eq!(
        header(&r, "content-type"),
        "application/x-json-stream; type=job"
    );
    assert!(r.text().await.unwrap().contains(&id));
    let r = tc
        .req(Method::GET, "jobs?state=running")
        .send()
        .await
        .unwrap();
    assert!(!r.text().await.unwrap().contains(&id));
    let r = tc.get("jobs").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(&id));
}

#[tokio::test]
async fn cancel_stops_running_tasks_and_ends_the_job() {
    let tc = TestCluster::start().await;
    tc.put("stor/in", "x\n").await;
    let id = create(&tc, json!({"phases": [{"exec": "sleep 120"}]})).await;
    add_inputs(&tc, &id, &[format!("/{USER}/stor/in")], false).await;
    // Wait until the task runs.
    for _ in 0..100 {
        if agents(&tc).await.iter().any(|a| a.running > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(agents(&tc).await.iter().any(|a| a.running > 0));
    let r = tc
        .req(Method::POST, &format!("jobs/{id}/live/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let job = wait_done(&tc, &id, Duration::from_secs(20)).await;
    assert_eq!(job["cancelled"], true);
    assert_eq!(job["inputDone"], true);
    for _ in 0..100 {
        if agents(&tc).await.iter().all(|a| a.running == 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        agents(&tc).await.iter().all(|a| a.running == 0),
        "task still running after cancel"
    );
    let r = tc
        .req(Method::POST, &format!("jobs/{id}/live/cancel"))
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "InvalidJobState").await;
}

#[tokio::test]
async fn msplit_routes_lines_to_three_reducers() {
    let tc = TestCluster::start().await;
    let mut inputs = Vec::new();
    let mut all_keys = Vec::new();
    for i in 0..4 {
        let mut body = String::new();
        for j in 0..40 {
            let key = format!("key{}", (i * 7 + j * 13) % 50);
            body.push_str(&format!("{key}\t{i}-{j}\n"));
            all_keys.push(key);
        }
        tc.put(&format!("stor/part{i}"), body).await;
        inputs.push(format!("/{USER}/stor/part{i}"));
    }
    let id = create(
        &tc,
        json!({"phases": [
            {"type": "map", "exec": "msplit -n 3"},
            {"type": "reduce", "count": 3, "exec": "echo \"reducer $MANTA_REDUCER\"; sort"}
        ]}),
    )
    .await;
    add_inputs(&tc, &id, &inputs, true).await;
    let job = wait_done(&tc, &id, Duration::from_secs(180)).await;
    assert_eq!(job["stats"]["errors"], 0, "{job}");
    let outs = live_lines(&tc, &id, "out").await;
    assert_eq!(outs.len(), 3, "{outs:?}");
    let mut seen = Vec::new();
    let mut reducers = Vec::new();
    for o in outs {
        let text = object_text(&tc, &o).await;
        let mut lines = text.lines();
        let r: u32 = lines
            .next()
            .unwrap()
            .strip_prefix("reducer ")
            .unwrap()
            .parse()
            .unwrap();
        reducers.push(r);
        for l in lines {
            let key = l.split('\t').next().unwrap();
            assert_eq!(
                jobs::model::naming::msplit_reducer(key.as_bytes(), 3),
                r,
                "{key} went to {r}"
            );
            seen.push(key.to_string());
        }
    }
    reducers.sort();
    assert_eq!(reducers, vec![0, 1, 2]);
    seen.sort();
    all_keys.sort();
    assert_eq!(seen, all_keys);
}

#[tokio::test]
async fn a_restarted_supervisor_finishes_the_job() {
    let mut tc = TestCluster::start().await;
    let mut inputs = Vec::new();
    for i in 0..6 {
        tc.put(
            &format!("stor/r{i}"),
            format!("{}\n", "line\n".repeat(i + 1)),
        )
        .await;
        inputs.push(format!("/{USER}/stor/r{i}"));
    }
    let id = map_sum_job(&tc, "sleep 1; wc -l").await;
    add_inputs(&tc, &id, &inputs[..3], false).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tc.cluster.restart_frontend().await.unwrap();
    // The new supervisor owns the job: it takes input and finishes.
    add_inputs(&tc, &id, &inputs[3..], true).await;
    let job = wait_done(&tc, &id, Duration::from_secs(120)).await;
    assert_eq!(job["stats"]["errors"], 0, "{job}");
    let outs = live_lines(&tc, &id, "out").await;
    assert_eq!(outs.len(), 1);
    // Each rN holds N+1 lines plus the blank one from format!.
    let want: usize = (0..6).map(|i| i + 2).sum();
    assert_eq!(object_text(&tc, &outs[0]).await.trim(), want.to_string());
}

#[tokio::test]
async fn runsc_runs_a_job_too() {
    let tc = TestCluster::start_with(2, |o| {
        o.agent = Some(frontend::cluster::AgentRole {
            runtime: jobs::runtime::RuntimeKind::Runsc,
            slots: 4,
            ..Default::default()
        });
    })
    .await;
    tc.put("stor/a", "one two\nthree\n").await;
    let id = create(&tc, json!({"phases": [{"exec": "wc -w && echo $MANTA_INPUT_OBJECT && cat /manta$MANTA_INPUT_OBJECT | wc -l"}]})).await;
    add_inputs(&tc, &id, &[format!("/{USER}/stor/a")], true).await;
    let job = wait_done(&tc, &id, Duration::from_secs(120)).await;
    assert_eq!(job["stats"]["errors"], 0, "{job}");
    let outs = live_lines(&tc, &id, "out").await;
    let text = object_text(&tc, &outs[0]).await;
    let got: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(got, vec!["3", &format!("/{USER}/stor/a"), "2"]);
    let stats = agents(&tc).await;
    assert!(stats.iter().all(|s| s.runtime == "runsc"), "{stats:?}");
}

#[tokio::test]
async fn a_killed_node_loses_no_work() {
    let mut tc = ProcessCluster::start(
        env!("CARGO_BIN_EXE_mantad"),
        3,
        "jobs_runtime = \"runc\"\njob_slots = 8",
    )
    .await;
    let mut inputs = Vec::new();
    let mut total = 0;
    for i in 0..12 {
        let body = bytes(1000 + i * 100, i as u64);
        total += body.len();
        assert_eq!(tc.put(&format!("stor/k{i}"), body).await.status(), 204);
        inputs.push(format!("/{USER}/stor/k{i}"));
    }
    let id = map_sum_job(&tc, "sleep 2; wc -c").await;
    add_inputs(&tc, &id, &inputs, true).await;
    // Kill a node while its tasks run.
    for _ in 0..50 {
        if agents(&tc).await.iter().all(|a| a.running > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = agents(&tc).await;
    assert!(before.iter().all(|a| a.running > 0), "{before:?}");
    tc.kill9(0).await;
    let job = wait_done(&tc, &id, Duration::from_secs(180)).await;
    assert_eq!(job["stats"]["errors"], 0, "{job}");
    assert!(job["stats"]["retries"].as_u64().unwrap() >= 1, "{job}");
    let outs = live_lines(&tc, &id, "out").await;
    assert_eq!(object_text(&tc, &outs[0]).await.trim(), total.to_string());
    for p in tc.procs.iter_mut().skip(1) {
        p.start_kill().unwrap();
    }
}

#[tokio::test]
async fn many_small_inputs_share_containers() {
    let tc = TestCluster::start_with(2, |_| {}).await;
    tc.mkdir("stor/many").await;
    let mut inputs = Vec::new();
    let mut total = 0;
    for i in 0..120 {
        let body = if i == 7 {
            "bad\n".to_string()
        } else {
            format!("object {i}\n")
        };
        if i != 7 {
            total += body.len();
        }
        assert_eq!(
            tc.put(&format!("stor/many/o{i:03}"), body).await.status(),
            204
        );
        inputs.push(format!("/{USER}/stor/many/o{i:03}"));
    }
    let id = map_sum_job(
        &tc,
        "if grep -q bad; then echo no >&2; exit 2; fi; wc -c < $MANTA_INPUT_FILE",
    )
    .await;
    add_inputs(&tc, &id, &inputs, true).await;
    let job = wait_done(&tc, &id, Duration::from_secs(180)).await;
    assert_eq!(job["stats"]["errors"], 1, "{job}");
    assert_eq!(job["stats"]["tasks"], 121, "{job}");
    assert_eq!(job["stats"]["tasksDone"], 121, "{job}");
    let outs = live_lines(&tc, &id, "out").await;
    assert_eq!(object_text(&tc, &outs[0]).await.trim(), total.to_string());
    let errs = live_lines(&tc, &id, "err").await;
    assert!(
        errs[0].contains("UserTaskError") && errs[0].contains("o007"),
        "{errs:?}"
    );
    // Fewer containers than tasks: map tasks ran in batches.
    let started: u64 = agents(&tc).await.iter().map(|a| a.tasks_started).sum();
    assert!(started < 60, "{started} agent tasks for 120 inputs");
    // Each map output is still its own object, named after its input.
    let r = tc.get(&format!("jobs/{id}/stor/{USER}/stor/many")).await;
    let listing = r.text().await.unwrap();
    let named = |pat: &str| listing.lines().filter(|l| l.contains(pat)).count();
    assert_eq!(named(".0.") - named(".0.err."), 119, "{listing}");
    assert_eq!(named("o007.0.err."), 1, "{listing}");
}

#[tokio::test]
async fn outputs_stay_in_the_account_and_never_replace_directories() {
    let tc = TestCluster::start().await;
    tc.mkdir("stor/adir").await;
    tc.put("stor/to-dir", "x\n").await;
    tc.put("stor/to-other", "y\n").await;
    tc.put("stor/named", "z\n").await;
    let exec = format!(
        "case $MANTA_INPUT_OBJECT in \
         */to-dir) mpipe /{USER}/stor/adir ;; \
         */to-other) mpipe /other/stor/stolen ;; \
         *) mpipe -p /{USER}/stor/made/by/job ;; esac"
    );
    let id = create(&tc, json!({"phases": [{"exec": exec}]})).await;
    let inputs: Vec<String> = ["to-dir", "to-other", "named"]
        .iter()
        .map(|n| format!("/{USER}/stor/{n}"))
        .collect();
    add_inputs(&tc, &id, &inputs, true).await;
    let job = wait_done(&tc, &id, Duration::from_secs(120)).await;
    assert_eq!(job["stats"]["errors"], 2, "{job}");
    let errs = live_lines(&tc, &id, "err").await.join("\n");
    assert!(
        errs.contains("InvalidArgumentError") && errs.contains("is a directory"),
        "{errs}"
    );
    assert!(errs.contains("AuthorizationError"), "{errs}");
    // The directory is still one; nothing landed in the other account.
    let r = tc.get("stor/adir").await;
    assert_eq!(
        header(&r, "content-type"),
        "application/x-json-stream; type=directory"
    );
    let r = tc
        .as_user(
            "other",
            Method::GET,
            &format!("{}/other/stor/stolen", tc.cluster.url),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        object_text(&tc, &format!("/{USER}/stor/made/by/job")).await,
        "z\n"
    );
    assert_eq!(
        live_lines(&tc, &id, "out").await,
        vec![format!("/{USER}/stor/made/by/job")]
    );
}

#[tokio::test]
async fn assets_mcat_and_mtee_across_phases() {
    let tc = TestCluster::start().await;
    tc.put("stor/script.sh", "tr a-z A-Z\n").await;
    tc.put("stor/extra", "extra object\n").await;
    tc.put("stor/in1", "hello\n").await;
    let id = create(
        &tc,
        json!({"phases": [
            {"exec": format!("sh /assets/{USER}/stor/script.sh | mtee /{USER}/stor/teed; mcat /{USER}/stor/extra"),
             "assets": [format!("/{USER}/stor/script.sh")]},
            {"type": "reduce", "exec": "sort"}
        ]}),
    )
    .await;
    add_inputs(&tc, &id, &[format!("/{USER}/stor/in1")], true).await;
    let job = wait_done(&tc, &id, Duration::from_secs(120)).await;
    assert_eq!(job["stats"]["errors"], 0, "{job}");
    let outs = live_lines(&tc, &id, "out").await;
    // mcat turned stdout capture off: the reducer got only the mcat'ed object.
    assert_eq!(object_text(&tc, &outs[0]).await, "extra object\n");
    assert_eq!(
        object_text(&tc, &format!("/{USER}/stor/teed")).await,
        "HELLO\n"
    );

    // A missing asset fails each task with TaskInitError.
    let id = create(
        &tc,
        json!({"phases": [{"exec": "cat", "assets": [format!("/{USER}/stor/nope")]}]}),
    )
    .await;
    add_inputs(&tc, &id, &[format!("/{USER}/stor/in1")], true).await;
    wait_done(&tc, &id, Duration::from_secs(60)).await;
    let errs = live_lines(&tc, &id, "err").await.join("\n");
    assert!(
        errs.contains("TaskInitError") && errs.contains("/stor/nope"),
        "{errs}"
    );
}

#[tokio::test]
async fn map_map_reduce_and_reduce_only_jobs() {
    let tc = TestCluster::start().await;
    for i in 0..3 {
        tc.put(
            &format!("stor/m{i}"),
            format!("{}\n", "word ".repeat(i + 1).trim()),
        )
        .await;
    }
    let inputs: Vec<String> = (0..3).map(|i| format!("/{USER}/stor/m{i}")).collect();
    let id = create(
        &tc,
        json!({"phases": [
            {"exec": "wc -w"},
            {"exec": "awk '{print $1 * 10}'"},
            {"type": "reduce", "exec": SUM}
        ]}),
    )
    .await;
    add_inputs(&tc, &id, &inputs, true).await;
    let job = wait_done(&tc, &id, Duration::from_secs(120)).await;
    assert_eq!(job["stats"]["errors"], 0, "{job}");
    assert_eq!(job["stats"]["tasks"], 7, "{job}");
    let outs = live_lines(&tc, &id, "out").await;
    assert_eq!(object_text(&tc, &outs[0]).await.trim(), "60");
    // Phase 1 outputs are named after phase 0's, without the job prefix.
    let r = tc.get(&format!("jobs/{id}/stor/{USER}/stor")).await;
    let listing = r.text().await.unwrap();
    assert!(
        listing
            .lines()
            .any(|l| l.contains("m0.0.") && l.contains(".1.")),
        "{listing}"
    );

    // A job whose only phase is a reduce: every input goes to reducer 0.
    let id = create(
        &tc,
        json!({"phases": [{"type": "reduce", "exec": "wc -l"}]}),
    )
    .await;
    add_inputs(&tc, &id, &inputs, true).await;
    wait_done(&tc, &id, Duration::from_secs(60)).await;
    let outs = live_lines(&tc, &id, "out").await;
    assert_eq!(object_text(&tc, &outs[0]).await.trim(), "3");
}

//! The rest of the in-task toolbox, through real jobs over real HTTP:
//! `msplit -j` (JSON keys), `-e` (JavaScript run by `node` inside the
//! task's container, here an image built from the host's `node`), `-z`
//! (gzip partitions), `maggr -t/-T` (node-manta's `mjob`), and transient
//! jobs (left out of listings, their input list removed).

use super::jobs::{add_inputs, create, live_lines, object_text, wait_done};
use crate::mpu::node_session;
use frontend::testkit::*;
use jobs::model::naming::msplit_reducer;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(240);

/// Reducers that print their index, then their sorted input.
fn tagged_reducers(count: u32) -> Value {
    json!({"type": "reduce", "count": count, "exec": "echo \"reducer $MANTA_REDUCER\"; sort"})
}

/// The lines each reducer got, by reducer, from outputs of
/// [`tagged_reducers`].
async fn by_reducer(tc: &TestCluster, id: &str) -> BTreeMap<u32, Vec<String>> {
    let mut got = BTreeMap::new();
    for o in live_lines(tc, id, "out").await {
        let text = object_text(tc, &o).await;
        let mut lines = text.lines();
        let head = lines.next().unwrap_or_default();
        let r: u32 = head
            .strip_prefix("reducer ")
            .unwrap_or_else(|| panic!("not a tagged output: {text:?}"))
            .parse()
            .unwrap();
        got.insert(r, lines.map(str::to_string).collect());
    }
    got
}

/// What each of `count` reducers should get: `lines` routed by
/// `reducer`, sorted.
fn expected(
    lines: &[String],
    count: u32,
    reducer: impl Fn(&str) -> u32,
) -> BTreeMap<u32, Vec<String>> {
    let mut want: BTreeMap<u32, Vec<String>> = (0..count).map(|r| (r, Vec::new())).collect();
    for l in lines {
        want.entry(reducer(l)).or_default().push(l.clone());
    }
    for v in want.values_mut() {
        // `sort` in the container: byte order (LC_ALL unset, C locale).
        v.sort();
    }
    want
}

async fn put_inputs(tc: &TestCluster, name: &str, bodies: &[String]) -> Vec<String> {
    let mut paths = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        tc.put(&format!("stor/{name}{i}"), body.clone()).await;
        paths.push(format!("/{USER}/stor/{name}{i}"));
    }
    paths
}

/// The job's errors (`live/err`).
async fn errors(tc: &TestCluster, id: &str) -> Vec<Value> {
    live_lines(tc, id, "err")
        .await
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn msplit_j_routes_json_records_by_their_fields() {
    let tc = TestCluster::start().await;
    let mut bodies = Vec::new();
    let mut lines = Vec::new();
    for i in 0..3 {
        let mut body = String::new();
        for j in 0..25 {
            let line = match j % 5 {
                // No `n`: the key is the user alone.
                4 => json!({"user": format!("u{}", (i + j) % 6), "meta": {"kind": "x"}}),
                _ => json!({"n": j % 4, "user": format!("u{}", (i * 3 + j) % 6), "meta": {"kind": format!("k{}", j % 3)}}),
            }
            .to_string();
            body.push_str(&line);
            body.push('\n');
            lines.push(line);
        }
        bodies.push(body);
    }
    let inputs = put_inputs(&tc, "rec", &bodies).await;
    let id = create(
        &tc,
        json!({"phases": [
            {"exec": "msplit -j -f user,n -f meta.kind -n 3"},
            tagged_reducers(3)
        ]}),
    )
    .await;
    add_inputs(&tc, &id, &inputs, true).await;
    let job = wait_done(&tc, &id, LIMIT).await;
    assert_eq!(
        job["stats"]["errors"],
        0,
        "{job} {:?}",
        errors(&tc, &id).await
    );
    // The key as Manta builds it: the fields present, tab-joined.
    let want = expected(&lines, 3, |l| {
        let v: Value = serde_json::from_str(l).unwrap();
        let mut key = v["user"].as_str().unwrap().to_string();
        if let Some(n) = v["n"].as_u64() {
            key.push_str(&format!("\t{n}"));
        }
        key.push_str(&format!("\t{}", v["meta"]["kind"].as_str().unwrap()));
        msplit_reducer(key.as_bytes(), 3)
    });
    assert_eq!(by_reducer(&tc, &id).await, want);

    // A line that is not JSON fails its task as Manta's msplit did.
    tc.put("stor/bad", "{\"user\":\"a\"}\nnot json\n").await;
    let id = create(
        &tc,
        json!({"phases": [{"exec": "msplit -j -f user -n 2"}, tagged_reducers(2)]}),
    )
    .await;
    add_inputs(&tc, &id, &[format!("/{USER}/stor/bad")], true).await;
    wait_done(&tc, &id, LIMIT).await;
    let errs = errors(&tc, &id).await;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["code"], "UserTaskError");
    assert_eq!(
        errs[0]["message"],
        "msplit: error: input is not json: not json"
    );
}

#[tokio::test]
async fn msplit_z_hands_reducers_gzip_streams() {
    let tc = TestCluster::start().await;
    let mut bodies = Vec::new();
    let mut lines = Vec::new();
    for i in 0..3 {
        let mut body = String::new();
        for j in 0..30 {
            let line = format!("key{}\t{i}-{j}", (i * 5 + j * 7) % 11);
            body.push_str(&line);
            body.push('\n');
            lines.push(line);
        }
        bodies.push(body);
    }
    // One line: one reducer gets it, the others an empty gzip stream.
    bodies.push("solo\tx\n".into());
    lines.push("solo\tx".into());
    let inputs = put_inputs(&tc, "z", &bodies).await;
    // Each reducer counts the gzip streams it got (their headers: magic
    // 1f 8b, deflate, no flags, mtime 0, OS unix) and reads them through
    // zcat, concatenated as they came.
    let reduce = "cat > /tmp/in && echo \"reducer $MANTA_REDUCER\" && \
                  od -An -v -tx1 /tmp/in | tr -d ' \\n' | grep -o 1f8b08000000000000 | wc -l && \
                  zcat /tmp/in | sort";
    let id = create(
        &tc,
        json!({"phases": [
            {"exec": "msplit -z -n 4"},
            {"type": "reduce", "count": 4, "exec": reduce}
        ]}),
    )
    .await;
    add_inputs(&tc, &id, &inputs, true).await;
    let job = wait_done(&tc, &id, LIMIT).await;
    assert_eq!(
        job["stats"]["errors"],
        0,
        "{job} {:?}",
        errors(&tc, &id).await
    );
    let mut got = by_reducer(&tc, &id).await;
    for (r, lines) in &mut got {
        // Every map task sent every reducer a stream, empty or not.
        assert_eq!(lines.remove(0), "4", "gzip streams of reducer {r}");
    }
    let want = expected(&lines, 4, |l| {
        msplit_reducer(l.split('\t').next().unwrap().as_bytes(), 4)
    });
    assert_eq!(got, want);
}

/// Without `node` in the task's image (the default image has none),
/// `msplit -e` fails the task with a clear error, even when the command
/// ignores msplit's exit status.
#[tokio::test]
async fn msplit_e_without_node_names_the_fix() {
    let tc = TestCluster::start().await;
    tc.put("stor/lines", "a\nb\n").await;
    for exec in ["msplit -e 'line' -n 2", "msplit -e 'line' -n 2 || true"] {
        let id = create(&tc, json!({"phases": [{"exec": exec}, tagged_reducers(2)]})).await;
        add_inputs(&tc, &id, &[format!("/{USER}/stor/lines")], true).await;
        wait_done(&tc, &id, LIMIT).await;
        let errs = errors(&tc, &id).await;
        assert_eq!(errs.len(), 1, "{exec}: {errs:?}");
        assert_eq!(errs[0]["code"], "InvalidArgumentError", "{exec}");
        let message = errs[0]["message"].as_str().unwrap();
        assert!(
            message.contains("needs node in the task's image")
                && message.contains("image with node"),
            "{exec}: {message}"
        );
        // The task's stderr says so too.
        let stderr = errs[0]["stderr"].as_str().unwrap();
        assert!(object_text(&tc, stderr)
            .await
            .contains("use an image with node"));
    }
}

/// An image (`docker save` layout) of busybox and the host's `node` with
/// the libraries it loads, as a user would make one with node in it.
fn node_image(dir: &Path) -> Vec<u8> {
    let out = Command::new("sh")
        .args(["-c", "command -v node"])
        .output()
        .unwrap();
    let node = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        !node.is_empty(),
        "msplit -e tests need node on the host (scripts/setup.sh installs it)"
    );
    let root = dir.join("rootfs");
    for d in ["bin", "etc", "tmp", "usr/bin"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::copy(&node, root.join("usr/bin/node")).unwrap();
    // `ldd`: `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` and
    // the loader's own line.
    let ldd = Command::new("ldd").arg(&node).output().unwrap();
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let lib = line
            .split_whitespace()
            .find(|w| w.starts_with('/'))
            .map(PathBuf::from);
        let Some(lib) = lib else { continue };
        let at = root.join(lib.strip_prefix("/").unwrap());
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::copy(&lib, &at).unwrap();
    }
    let tops: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let image = dir.join("image");
    std::fs::create_dir_all(image.join("layer0")).unwrap();
    let layer = image.join("layer0/layer.tar");
    let status = Command::new("tar")
        .args(["--owner=0", "--group=0", "--numeric-owner", "-C"])
        .arg(&root)
        .arg("-cf")
        .arg(&layer)
        .args(&tops)
        .status()
        .unwrap();
    assert!(status.success());
    let diff_id = hex::encode(Sha256::digest(std::fs::read(&layer).unwrap()));
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{diff_id}")]},
    }))
    .unwrap();
    let config_name = format!("{}.json", hex::encode(Sha256::digest(&config)));
    std::fs::write(image.join(&config_name), &config).unwrap();
    let manifest =
        json!([{"Config": config_name, "RepoTags": ["node:test"], "Layers": ["layer0/layer.tar"]}]);
    std::fs::write(image.join("manifest.json"), manifest.to_string()).unwrap();
    let archive = dir.join("node-image.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&image)
        .arg("-cf")
        .arg(&archive)
        .args(["manifest.json", &config_name, "layer0/layer.tar"])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(&archive).unwrap()
}

/// `msplit -e` with node in the image: the JavaScript runs in the task's
/// container (`this` is the parsed record under `-j`; `return` is added),
/// and `-i` takes its value as the reducer's index.
#[tokio::test(flavor = "multi_thread")]
async fn msplit_e_runs_javascript_with_the_images_node() {
    let tc = TestCluster::start().await;
    let work = tempfile::tempdir().unwrap();
    tc.put("stor/node-image.tar", node_image(work.path())).await;
    let image = format!("/{USER}/stor/node-image.tar");
    let mut bodies = Vec::new();
    let mut lines = Vec::new();
    for i in 0..2 {
        let mut body = String::new();
        for j in 0..20 {
            let line =
                json!({"id": format!("{:03}-{i}-{j}", (i * 7 + j * 3) % 9), "n": i * 20 + j})
                    .to_string();
            body.push_str(&line);
            body.push('\n');
            lines.push(line);
        }
        bodies.push(body);
    }
    let inputs = put_inputs(&tc, "js", &bodies).await;

    // The key is the first 3 characters of `id`, hashed as Manta does.
    let id = create(
        &tc,
        json!({"phases": [
            {"exec": "msplit -j -e 'this.id.substring(0, 3)' -n 3", "image": image},
            tagged_reducers(3)
        ]}),
    )
    .await;
    add_inputs(&tc, &id, &inputs, true).await;
    let job = wait_done(&tc, &id, LIMIT).await;
    assert_eq!(
        job["stats"]["errors"],
        0,
        "{job} {:?}",
        errors(&tc, &id).await
    );
    let want = expected(&lines, 3, |l| {
        let v: Value = serde_json::from_str(l).unwrap();
        msplit_reducer(&v["id"].as_str().unwrap().as_bytes()[..3], 3)
    });
    assert_eq!(by_reducer(&tc, &id).await, want);

    // -i: the function's number is the reducer; with -z the reducers get
    // gzip streams, and `return` written out is taken as is.
    let reduce = "echo \"reducer $MANTA_REDUCER\"; zcat | sort";
    let id = create(
        &tc,
        json!({"phases": [
            {"exec": "msplit -i -z -j -n 4 -e 'var r = this.n % 4; return r;'", "image": image},
            {"type": "reduce", "count": 4, "exec": reduce}
        ]}),
    )
    .await;
    add_inputs(&tc, &id, &inputs, true).await;
    let job = wait_done(&tc, &id, LIMIT).await;
    assert_eq!(
        job["stats"]["errors"],
        0,
        "{job} {:?}",
        errors(&tc, &id).await
    );
    let want = expected(&lines, 4, |l| {
        let v: Value = serde_json::from_str(l).unwrap();
        (v["n"].as_u64().unwrap() % 4) as u32
    });
    assert_eq!(by_reducer(&tc, &id).await, want);

    // A key that is not a string is the user's error, reported as Manta.
    let id = create(
        &tc,
        json!({"phases": [{"exec": "msplit -e 'line.length' -n 2", "image": image}, tagged_reducers(2)]}),
    )
    .await;
    add_inputs(&tc, &id, &inputs[..1], true).await;
    wait_done(&tc, &id, LIMIT).await;
    let errs = errors(&tc, &id).await;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["code"], "UserTaskError");
    let stderr = object_text(&tc, errs[0]["stderr"].as_str().unwrap()).await;
    assert!(
        stderr.contains("must be one of types [string], but was type number"),
        "{stderr}"
    );
}

const SAMPLE: &str = "foo baz 1 2\nbar baz 3 4\nfoo bng 5 6";

/// Manta's own `maggr` format tests (manta-compute-bin
/// test/maggr.test.js), as reducers of node-manta's `mjob create -o`.
#[tokio::test(flavor = "multi_thread")]
async fn maggr_formats_print_as_mantas() {
    let tc = TestCluster::start().await;
    tc.put("stor/sample", SAMPLE).await;
    let s = node_session(&tc);
    let input = format!("/{USER}/stor/sample\n");
    for (maggr, want) in [
        (
            "maggr -c1=key -c2=nop -c3=sum -t3=%.1f -c4=sum -t4=%5d",
            "foo 6.0     8\nbar 3.0     4\n",
        ),
        (
            "maggr -c1=key -c2=nop -c3=sum,count -t3=%.1f,%02d -c4=sum,range -t4=%5d,%#x",
            "foo 6.0,02     8,0x4\nbar 3.0,01     4,0x0\n",
        ),
        (
            "maggr -T %.2f -c1=key -c2=nop -c3=sum,count -t3=%0.3f -c4=sum,range -t4=%#x",
            "foo 6.000,2.00 0x8,4.00\nbar 3.000,1.00 0x4,0.00\n",
        ),
        (
            "maggr -T %.2f -c1=key -c2=nop -c3=sum,count -c4=sum,range -t4=,%#x",
            "foo 6.00,2.00 8.00,0x4\nbar 3.00,1.00 4.00,0x0\n",
        ),
        // Text around the conversion, %% and %s; backslashes stay text.
        (
            "maggr -c1=key -c2=nop -c3=mean -t3='~%5.1f%%\\t' -c4=max -t4='<%-3s>'",
            "foo ~  3.0%\\t <6  >\nbar ~  3.0%\\t <4  >\n",
        ),
    ] {
        let out = s
            .run("mjob", &["create", "-o", "-r", maggr], Some(&input))
            .await;
        assert!(out.ok, "{maggr}: {}{}", out.stdout, out.stderr);
        assert_eq!(out.stdout, want, "{maggr}");
    }

    // A format that could read a missing argument is refused before any
    // input is read: the task fails and says why.
    for (bad, why) in [
        ("-t3=%d%d", "-t3: not one printf format: %d%d"),
        ("-t3=%*d", "-t3: not one printf format: %*d"),
        ("-t3=%n", "-t3: not one printf format: %n"),
        ("-t3=%1000d", "-t3: not one printf format: %1000d"),
        (
            "-T %d,%d -c3=sum,count,max",
            "-T: \"%d,%d\" formats results without their own format",
        ),
    ] {
        let exec = format!("maggr -c1=key -c2=nop -c3=sum {bad}");
        let id = create(&tc, json!({"phases": [{"type": "reduce", "exec": exec}]})).await;
        add_inputs(&tc, &id, &[format!("/{USER}/stor/sample")], true).await;
        wait_done(&tc, &id, LIMIT).await;
        let errs = errors(&tc, &id).await;
        assert_eq!(errs.len(), 1, "{exec}: {errs:?}");
        assert_eq!(
            errs[0]["message"], "user command exited with code 2",
            "{exec}"
        );
        let stderr = object_text(&tc, errs[0]["stderr"].as_str().unwrap()).await;
        assert!(stderr.contains(why), "{exec}: {stderr}");
    }
}

async fn listed(tc: &TestCluster, query: &str) -> String {
    let r = tc.get(&format!("jobs{query}")).await;
    assert_eq!(r.status(), 200, "jobs{query}");
    r.text().await.unwrap()
}

/// Transient jobs (Marlin's `transient`): left out of the job listing
/// unless asked for, and once done their list of inputs is gone (no
/// `in.txt`, empty `live/in`); the input objects themselves stay.
#[tokio::test(flavor = "multi_thread")]
async fn transient_jobs_are_unlisted_and_forget_their_inputs() {
    let tc = TestCluster::start().await;
    let inputs = put_inputs(&tc, "t", &["one\n".to_string(), "two\nlines\n".to_string()]).await;
    let transient = create(
        &tc,
        json!({"transient": true, "phases": [{"exec": "wc -l"}]}),
    )
    .await;
    let kept = create(&tc, json!({"phases": [{"exec": "wc -l"}]})).await;
    for id in [&transient, &kept] {
        add_inputs(&tc, id, &inputs, false).await;
        // While it runs, `live/in` lists them.
        assert_eq!(live_lines(&tc, id, "in").await, inputs);
        let r = tc
            .req(Method::POST, &format!("jobs/{id}/live/in/end"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    for id in [&transient, &kept] {
        let job = wait_done(&tc, id, LIMIT).await;
        assert_eq!(job["stats"]["errors"], 0, "{job}");
        assert_eq!(job["transient"], *id == transient, "{job}");
        assert_eq!(live_lines(&tc, id, "out").await.len(), 2);
    }
    // The job's list of inputs is gone, archive and records.
    assert!(live_lines(&tc, &transient, "in").await.is_empty());
    assert_eq!(
        tc.get(&format!("jobs/{transient}/in.txt")).await.status(),
        404
    );
    assert_eq!(
        tc.get(&format!("jobs/{transient}/out.txt")).await.status(),
        200
    );
    let records = tc
        .cluster
        .meta
        .list(
            metadata_tier::wire::Keyspace::Jobs,
            &format!("{transient}/in"),
            &metadata_tier::wire::ListOptions {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(records.entries.is_empty(), "{:?}", records.entries);
    // The inputs, the user's objects, are not touched.
    for p in &inputs {
        assert!(!object_text(&tc, p).await.is_empty());
    }
    // The other job keeps its list.
    assert_eq!(live_lines(&tc, &kept, "in").await, inputs);
    assert_eq!(
        object_text(&tc, &format!("/{USER}/jobs/{kept}/in.txt")).await,
        inputs.join("\n") + "\n"
    );

    // Listings: transient jobs only when asked for.
    for (query, shows_transient, shows_kept) in [
        ("", false, true),
        ("?state=all", false, true),
        ("?state=done&transient=false", false, true),
        ("?state=all&transient=true", true, false),
        ("?transient=true", true, false),
        ("?state=all&transient=all", true, true),
    ] {
        let text = listed(&tc, query).await;
        assert_eq!(
            text.contains(&transient),
            shows_transient,
            "jobs{query}: {text}"
        );
        assert_eq!(text.contains(&kept), shows_kept, "jobs{query}: {text}");
    }
    let r = tc.get("jobs?transient=maybe").await;
    assert_error(r, 400, "InvalidParameter").await;
    // What `mls` and `mjob list` send (`limit`, `marker`: inclusive, as
    // the directory's) lists the jobs too; the directory itself holds both.
    let page = listed(&tc, &format!("?limit=1&marker={kept}")).await;
    assert_eq!(page.lines().count(), 1, "{page}");
    assert!(page.contains(&kept), "{page}");
    let dir = listed(&tc, "?limit=100&sort=name").await;
    assert!(dir.contains(&transient) && dir.contains(&kept), "{dir}");
    assert_eq!(
        tc.get(&format!("jobs/{transient}/stor")).await.status(),
        200
    );
    let s = node_session(&tc);
    for (cmd, args) in [("mjob", vec!["list"]), ("mls", vec!["~~/jobs"])] {
        let list = s.ok(cmd, &args, None).await;
        assert!(
            list.contains(&kept) && !list.contains(&transient),
            "{cmd}: {list}"
        );
    }
}

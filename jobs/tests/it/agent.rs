//! The job agent over real HTTP: two storage nodes in-process, each with
//! its agent merged into its router, real blob stores and containers.

use std::time::{Duration, Instant};

use jobs::agent::wire::{
    AgentStatus, BatchItem, BlobRef, ImageRef, InputObject, ItemResult, NodeAddr, Outcome,
    ReduceInputs, TaskKind, TaskOutput, TaskRequest, TaskResult, TaskState, TaskStatus,
};
use jobs::agent::{Agent, AgentConfig, SandboxLimits};
use jobs::model::naming::msplit_reducer;
use jobs::model::JobErrorCode;
use jobs::runtime::RuntimeKind;
use storage_node::blobstore::PutExpect;
use storage_node::client::StorageClient;
use storage_node::BlobStore;

pub(crate) const BASE: &str = "/u/jobs/j1/stor/u/stor/in.0.";

pub(crate) struct Node {
    id: String,
    url: String,
    pub(crate) dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Node {
    async fn start_with(id: &str, runtime: RuntimeKind, limits: SandboxLimits) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&dir.path().join("blobs")).await.unwrap();
        let agent = Agent::start(AgentConfig {
            node_id: id.into(),
            store: store.clone(),
            work_dir: dir.path().join("work"),
            runtime,
            slots: 2,
            cluster_key: key(),
            limits,
            api: Default::default(),
        })
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let routes = storage_node::server::router(store.clone(), id.into()).merge(agent.router());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(storage_node::server::serve_router(
            listener,
            routes,
            key(),
            Default::default(),
            async move {
                let _ = rx.await;
            },
        ));
        Node {
            id: id.into(),
            url,
            dir,
            _shutdown: tx,
        }
    }

    fn addr(&self) -> NodeAddr {
        NodeAddr {
            id: self.id.clone(),
            url: self.url.clone(),
        }
    }
}

pub(crate) struct Cluster {
    pub(crate) a: Node,
    b: Node,
    http: reqwest::Client,
    blobs: StorageClient,
}

impl Cluster {
    pub(crate) async fn start(runtime: RuntimeKind) -> Cluster {
        Self::start_with(runtime, SandboxLimits::default()).await
    }

    pub(crate) async fn start_with(runtime: RuntimeKind, limits: SandboxLimits) -> Cluster {
        Cluster {
            a: Node::start_with("node-a", runtime, limits).await,
            b: Node::start_with("node-b", runtime, limits).await,
            http: reqwest::Client::new(),
            blobs: StorageClient::new(key()),
        }
    }

    /// Stores `data` on `nodes`; the ref lists them in that order.
    pub(crate) async fn put(&self, data: &[u8], nodes: &[&Node]) -> BlobRef {
        let mut hash = None;
        for node in nodes {
            let body = reqwest::Body::from(data.to_vec());
            let put = self
                .blobs
                .put(&node.url, body, &PutExpect::default())
                .await
                .unwrap();
            hash = Some(put.hash);
        }
        BlobRef {
            hash: hash.unwrap(),
            size: data.len() as u64,
            nodes: nodes.iter().map(|n| n.addr()).collect(),
        }
    }

    pub(crate) async fn read(&self, node: &Node, output: &TaskOutput) -> String {
        let blob = output.blob.as_ref().expect("output has a blob");
        let resp = self.blobs.get(&node.url, &blob.hash, None).await.unwrap();
        String::from_utf8(resp.bytes().await.unwrap().to_vec()).unwrap()
    }

    pub(crate) async fn submit(&self, node: &Node, req: &TaskRequest) {
        let rb = self
            .http
            .post(format!("{}/agent/v1/tasks", node.url))
            .json(req);
        let resp = self.send(rb).await;
        assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap());
    }

    pub(crate) async fn status(&self, node: &Node, id: &str, wait_ms: u64) -> reqwest::Response {
        let rb = self.http.get(format!(
            "{}/agent/v1/tasks/{id}?wait_ms={wait_ms}",
            node.url
        ));
        self.send(rb).await
    }

    pub(crate) async fn wait(&self, node: &Node, id: &str) -> TaskResult {
        let deadline = Instant::now() + Duration::from_secs(180);
        while Instant::now() < deadline {
            let status: TaskStatus = self.status(node, id, 20_000).await.json().await.unwrap();
            if status.state == TaskState::Done {
                return status.result.expect("a done task has a result");
            }
        }
        panic!("task {id} did not finish");
    }

    pub(crate) async fn run(&self, node: &Node, req: &TaskRequest) -> TaskResult {
        self.submit(node, req).await;
        self.wait(node, &req.task_id).await
    }

    pub(crate) async fn inputs(&self, node: &Node, id: &str, batch: &ReduceInputs) {
        let rb = self
            .http
            .post(format!("{}/agent/v1/tasks/{id}/inputs", node.url))
            .json(batch);
        let resp = self.send(rb).await;
        assert_eq!(resp.status(), 204);
    }

    pub(crate) async fn agent_status(&self, node: &Node) -> AgentStatus {
        let url = format!("{}/agent/v1/status", node.url);
        self.send(self.http.get(url)).await.json().await.unwrap()
    }

    /// Sends a request with the cluster credential, as the supervisor does.
    async fn send(&self, rb: reqwest::RequestBuilder) -> reqwest::Response {
        key().send(&self.http, rb).await.unwrap()
    }
}

/// The cluster secret of every node these tests start.
fn key() -> metadata_tier::net::ClusterKey {
    static KEY: std::sync::OnceLock<metadata_tier::net::ClusterKey> = std::sync::OnceLock::new();
    KEY.get_or_init(metadata_tier::net::ClusterKey::generate)
        .clone()
}

pub(crate) fn input(path: &str, blob: Option<BlobRef>) -> InputObject {
    InputObject {
        path: path.into(),
        blob,
    }
}

pub(crate) fn request(id: &str, kind: TaskKind, exec: &str) -> TaskRequest {
    TaskRequest {
        task_id: id.into(),
        job_id: "j1".into(),
        login: "u".into(),
        phase: 0,
        kind,
        exec: exec.into(),
        init: None,
        image: ImageRef::Default,
        assets: Vec::new(),
        memory_mb: 256,
        disk_gb: 1,
        output_base: BASE.into(),
        replicas: Vec::new(),
        api_url: None,
    }
}

pub(crate) fn map(id: &str, blob: Option<BlobRef>, exec: &str) -> TaskRequest {
    request(
        id,
        TaskKind::Map {
            input: input("/u/stor/in", blob),
        },
        exec,
    )
}

#[track_caller]
pub(crate) fn assert_ok(result: &TaskResult) {
    assert_eq!(result.outcome, Outcome::Ok, "{result:#?}");
}

#[track_caller]
pub(crate) fn assert_user_error(result: &TaskResult, code: JobErrorCode, message: &str) {
    match &result.outcome {
        Outcome::UserError {
            code: c,
            message: m,
        } => {
            assert_eq!((c, m.as_str()), (&code, message), "{result:#?}");
        }
        other => panic!("expected a user error, got {other:?}"),
    }
}

#[tokio::test]
async fn map_over_a_local_input_is_stored_on_both_nodes() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let blob = c.put(b"a\nb\nc\n", &[&c.a]).await;
    let mut req = map("t1", Some(blob), "wc -l");
    req.replicas = vec![c.b.addr()];
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    assert_eq!(result.node_id, "node-a");
    assert_eq!(
        (result.input_local_bytes, result.input_remote_bytes),
        (6, 0)
    );
    assert_eq!(result.outputs.len(), 1, "{result:#?}");
    let out = &result.outputs[0];
    assert_eq!(out.path, format!("{BASE}t1"));
    let stored = out.blob.as_ref().unwrap();
    assert_eq!(stored.nodes, vec!["node-a", "node-b"]);
    assert_eq!(c.read(&c.a, out).await.trim(), "3");
    assert_eq!(c.read(&c.b, out).await.trim(), "3");
    let status = c.agent_status(&c.a).await;
    assert_eq!((status.map_local_bytes, status.map_remote_bytes), (6, 0));
    assert_eq!((status.tasks_started, status.tasks_done), (1, 1));
    assert_eq!((status.queued, status.running), (0, 0));
    assert_eq!(status.runtime, "runc");

    // The same id again starts nothing new.
    c.submit(&c.a, &req).await;
    assert_eq!(c.wait(&c.a, "t1").await, result);
    assert_eq!(c.agent_status(&c.a).await.tasks_started, 1);
}

#[tokio::test]
async fn env_input_file_and_init_are_visible() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let blob = c.put(b"hello\n", &[&c.a]).await;
    let exec = "env | grep -i -e ^MANTA_ -e ^mc_ -e ^HOME= -e ^PATH= | sort; cat \"$MANTA_INPUT_FILE\"; cat /tmp/init";
    let mut req = map("t1", Some(blob), exec);
    req.init = Some("echo 'init ran' > /tmp/init; echo 'init stdout'".into());
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    let out = c.read(&c.a, &result.outputs[0]).await;
    for line in [
        "MANTA_USER=u",
        "MANTA_JOB_ID=j1",
        &format!("MANTA_OUTPUT_BASE={BASE}"),
        "MANTA_NO_AUTH=true",
        "MANTA_URL=http://localhost:80/",
        "MANTA_INPUT_OBJECT=/u/stor/in",
        "MANTA_INPUT_FILE=/manta/u/stor/in",
        "mc_input_key=/u/stor/in",
        "mc_input_file=/manta/u/stor/in",
        "HOME=/root",
        "PATH=/opt/manta/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "hello",
        "init ran",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "{line:?} missing in:\n{out}"
        );
    }
    assert!(!out.contains("MANTA_REDUCER"), "{out}");
    assert!(!out.contains("init stdout"), "{out}");
}

#[tokio::test]
async fn an_input_on_another_node_is_fetched_and_counted_remote() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let blob = c.put(b"far away\n", &[&c.b]).await;
    let result = c.run(&c.a, &map("t1", Some(blob), "tr a-z A-Z")).await;
    assert_ok(&result);
    assert_eq!(
        (result.input_local_bytes, result.input_remote_bytes),
        (0, 9)
    );
    assert_eq!(c.read(&c.a, &result.outputs[0]).await, "FAR AWAY\n");
    assert_eq!(c.agent_status(&c.a).await.map_remote_bytes, 9);

    // No node has it: ours, retried elsewhere.
    let mut lost = c.put(b"gone", &[&c.b]).await;
    lost.nodes = vec![NodeAddr {
        id: "dead".into(),
        url: "http://127.0.0.1:9".into(),
    }];
    let result = c.run(&c.a, &map("t2", Some(lost), "cat")).await;
    assert!(
        matches!(result.outcome, Outcome::InfraError { .. }),
        "{result:#?}"
    );
}

/// The blob file named `name` below `root` (the store's fan-out dirs).
fn blob_file(root: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    std::fs::read_dir(root).ok()?.find_map(|entry| {
        let path = entry.ok()?.path();
        if path.is_dir() {
            blob_file(&path, name)
        } else {
            path.file_name().is_some_and(|n| n == name).then_some(path)
        }
    })
}

/// A rotten local copy of a map input is never what the task reads: the
/// agent checks the local copy before mounting it, quarantines it, and
/// fetches the bytes from the other node.
#[tokio::test]
async fn a_rotten_local_input_is_read_from_another_node() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let data = b"the right bytes\n".repeat(4096);
    let blob = c.put(&data, &[&c.a, &c.b]).await;
    let file = blob_file(
        &c.a.dir.path().join("blobs").join("blobs"),
        &blob.hash.to_hex(),
    )
    .expect("node a's copy");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[40_000] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    let result = c.run(&c.a, &map("t1", Some(blob.clone()), "md5sum")).await;
    assert_ok(&result);
    assert_eq!(result.input_remote_bytes, data.len() as u64, "{result:#?}");
    let want = {
        use md5::Digest;
        hex::encode(md5::Md5::digest(&data))
    };
    assert!(c.read(&c.a, &result.outputs[0]).await.starts_with(&want));
    assert!(!file.exists(), "the rotten copy is quarantined");
}

#[tokio::test]
async fn mpipe_mcat_and_mtee_make_outputs() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let blob = c.put(b"one\ntwo\n", &[&c.a]).await;
    let exec = "wc -l | mpipe -r 2 /u/stor/count; \
                echo hi | mpipe -p -H 'Content-Type: text/plain'; \
                mcat /u/stor/x /u/stor/y; \
                echo printed";
    let mut req = map("t1", Some(blob.clone()), exec);
    req.replicas = vec![c.b.addr()];
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    // stdout is not captured once mpipe ran.
    let outs = &result.outputs;
    assert_eq!(outs.len(), 4, "{outs:#?}");
    assert_eq!(
        (outs[0].path.as_str(), outs[0].reducer),
        ("/u/stor/count", Some(2))
    );
    assert_eq!(c.read(&c.b, &outs[0]).await.trim(), "2");
    assert!(outs[1].path.starts_with(BASE) && outs[1].path.len() == BASE.len() + 36);
    assert!(outs[1].mkdirs);
    assert_eq!(
        outs[1].headers,
        vec![("content-type".into(), "text/plain".into())]
    );
    assert_eq!(c.read(&c.a, &outs[1]).await, "hi\n");
    for (out, path) in outs[2..].iter().zip(["/u/stor/x", "/u/stor/y"]) {
        assert_eq!(out.path, path);
        assert!(out.reference && out.blob.is_none(), "{out:?}");
    }

    let result = c
        .run(&c.a, &map("t2", Some(blob), "mtee /u/stor/copy | wc -l"))
        .await;
    assert_ok(&result);
    assert_eq!(result.outputs.len(), 1);
    assert_eq!(c.read(&c.a, &result.outputs[0]).await.trim(), "2");
    assert_eq!(result.saved.len(), 1);
    assert_eq!(result.saved[0].path, "/u/stor/copy");
    assert_eq!(c.read(&c.a, &result.saved[0]).await, "one\ntwo\n");

    let result = c
        .run(&c.a, &map("t3", None, "echo x | mpipe relative/path"))
        .await;
    assert_user_error(
        &result,
        JobErrorCode::InvalidArgumentError,
        "mpipe: relative/path is not an absolute Manta path",
    );
}

#[tokio::test]
async fn msplit_routes_lines_like_msplit_reducer() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let lines: Vec<String> = (0..30).map(|i| format!("key{}\tvalue{i}", i % 7)).collect();
    let text = lines.join("\n") + "\n";
    let blob = c.put(text.as_bytes(), &[&c.a]).await;
    let result = c.run(&c.a, &map("t1", Some(blob), "msplit -n 3")).await;
    assert_ok(&result);
    let mut seen = 0;
    let mut reducers = Vec::new();
    for out in &result.outputs {
        let reducer = out.reducer.expect("msplit outputs name a reducer");
        reducers.push(reducer);
        for line in c.read(&c.a, out).await.lines() {
            let key = line.split('\t').next().unwrap();
            assert_eq!(reducer, msplit_reducer(key.as_bytes(), 3), "{line}");
            seen += 1;
        }
    }
    assert_eq!(seen, 30);
    reducers.dedup();
    assert_eq!(
        reducers.len(),
        result.outputs.len(),
        "one output per reducer"
    );
}

#[tokio::test]
async fn a_failing_command_saves_its_stderr() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let result = c.run(&c.a, &map("t1", None, "echo oops >&2; exit 3")).await;
    assert_user_error(
        &result,
        JobErrorCode::UserTaskError,
        "user command exited with code 3",
    );
    assert!(result.outputs.is_empty());
    let stderr = result.stderr.as_ref().expect("stderr saved");
    assert_eq!(stderr.path, format!("{BASE}err.t1"));
    assert!(c.read(&c.a, stderr).await.contains("oops"));
}

#[tokio::test]
async fn init_failure_and_missing_assets_are_task_init_errors() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let mut req = map("t1", None, "echo never");
    req.init = Some("exit 4".into());
    let result = c.run(&c.a, &req).await;
    assert_user_error(
        &result,
        JobErrorCode::TaskInitError,
        "user init command exited with code 4",
    );

    let asset = c.put(b"#!/bin/sh\necho from asset\n", &[&c.b]).await;
    let mut req = map("t2", None, "sh /assets/u/stor/tool.sh");
    req.assets = vec![input("/u/stor/tool.sh", Some(asset.clone()))];
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    assert_eq!(c.read(&c.a, &result.outputs[0]).await, "from asset\n");
    assert_eq!(c.agent_status(&c.a).await.asset_bytes, asset.size);

    let mut gone = asset;
    gone.nodes.clear();
    let mut req = map("t3", None, "true");
    req.assets = vec![input("/u/stor/gone.sh", Some(gone))];
    let result = c.run(&c.a, &req).await;
    assert_user_error(
        &result,
        JobErrorCode::TaskInitError,
        "failed to fetch asset /u/stor/gone.sh",
    );

    let mut req = map("t4", None, "true");
    req.image = ImageRef::Named {
        name: "nonexistent".into(),
    };
    let result = c.run(&c.a, &req).await;
    assert!(
        matches!(
            &result.outcome,
            Outcome::UserError {
                code: JobErrorCode::InvalidArgumentError,
                ..
            }
        ),
        "{result:#?}"
    );
}

#[tokio::test]
async fn a_reducer_gets_its_batches_in_order() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let one = c.put(b"one\n", &[&c.a]).await;
    let two = c.put(b"two\n", &[&c.b]).await;
    let three = c.put(b"three\n", &[&c.b, &c.a]).await;
    let req = request(
        "r1",
        TaskKind::Reduce { reducer: 1 },
        "echo \"reducer $MANTA_REDUCER\"; cat",
    );
    c.submit(&c.a, &req).await;
    let batch = ReduceInputs {
        inputs: vec![
            input("/u/stor/1", Some(one)),
            input("/u/stor/e", None),
            input("/u/stor/2", Some(two)),
        ],
        end: false,
    };
    c.inputs(&c.a, "r1", &batch).await;
    let running: TaskStatus = c.status(&c.a, "r1", 300).await.json().await.unwrap();
    assert_ne!(running.state, TaskState::Done, "waits for its last batch");
    let last = ReduceInputs {
        inputs: vec![input("/u/stor/3", Some(three))],
        end: true,
    };
    c.inputs(&c.a, "r1", &last).await;
    let result = c.wait(&c.a, "r1").await;
    assert_ok(&result);
    assert_eq!(
        c.read(&c.a, &result.outputs[0]).await,
        "reducer 1\none\ntwo\nthree\n"
    );
    // `three` is on both nodes: read locally.
    assert_eq!(
        (result.input_local_bytes, result.input_remote_bytes),
        (10, 4)
    );
    let status = c.agent_status(&c.a).await;
    assert_eq!(
        (status.reduce_local_bytes, status.reduce_remote_bytes),
        (10, 4)
    );

    // A reducer that reads nothing finishes without its inputs ending.
    let req = request("r2", TaskKind::Reduce { reducer: 0 }, "echo done");
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    assert_eq!(c.read(&c.a, &result.outputs[0]).await, "done\n");
}

#[tokio::test]
async fn delete_stops_a_running_task() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    c.submit(&c.a, &map("t1", None, "sleep 60")).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status: TaskStatus = c.status(&c.a, "t1", 0).await.json().await.unwrap();
        if status.state == TaskState::Running && containers(&c.a).await > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "task never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    let resp = c
        .send(c.http.delete(format!("{}/agent/v1/tasks/t1", c.a.url)))
        .await;
    assert_eq!(resp.status(), 204);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(c.status(&c.a, "t1", 0).await.status(), 404);
    let deadline = Instant::now() + Duration::from_secs(15);
    while containers(&c.a).await > 0 || tasks_left(&c.a) > 0 {
        assert!(Instant::now() < deadline, "the container is still there");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Containers in the node's runc root.
async fn containers(node: &Node) -> usize {
    let root = node
        .dir
        .path()
        .join("work")
        .canonicalize()
        .unwrap()
        .join("runc");
    let out = tokio::process::Command::new("runc")
        .arg("--root")
        .arg(root)
        .args(["list", "-q"])
        .output()
        .await
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Runtime bundles and agent task directories left.
fn tasks_left(node: &Node) -> usize {
    let work = node.dir.path().join("work");
    ["tasks", "agent/tasks"]
        .iter()
        .map(|d| std::fs::read_dir(work.join(d)).map_or(0, |e| e.count()))
        .sum()
}

#[tokio::test]
async fn map_and_mpipe_under_runsc() {
    if RuntimeKind::Runsc.locate().is_err() {
        eprintln!("skipping: runsc is not installed");
        return;
    }
    let c = Cluster::start(RuntimeKind::Runsc).await;
    let blob = c.put(b"a\nb\n", &[&c.b]).await;
    let mut req = map(
        "t1",
        Some(blob),
        "wc -l; cat $MANTA_INPUT_FILE | mpipe /u/stor/copy",
    );
    req.replicas = vec![c.b.addr()];
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    assert_eq!(result.input_remote_bytes, 4);
    assert_eq!(result.outputs.len(), 1, "{result:#?}");
    assert_eq!(result.outputs[0].path, "/u/stor/copy");
    assert_eq!(c.read(&c.b, &result.outputs[0]).await, "a\nb\n");
    assert_eq!(c.agent_status(&c.a).await.runtime, "runsc");
}

#[tokio::test]
async fn an_image_stored_as_an_object_is_imported_once() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let archive = crate::common::docker_save(&crate::common::standard_layers());
    let image = c.put(&archive, &[&c.b]).await;
    let exec = "echo piped | mpipe /u/stor/p";
    for id in ["t1", "t2"] {
        let mut req = map(id, None, exec);
        req.image = ImageRef::Object {
            object: input("/u/stor/image.tar", Some(image.clone())),
        };
        let result = c.run(&c.a, &req).await;
        assert_ok(&result);
        assert_eq!(result.outputs.len(), 1, "{result:#?}");
        assert_eq!(c.read(&c.a, &result.outputs[0]).await, "piped\n");
    }
    assert_eq!(c.agent_status(&c.a).await.asset_bytes, image.size);

    let mut req = map("t3", None, "id -u; echo $PATH");
    req.image = ImageRef::Object {
        object: input("/u/stor/image.tar", Some(image)),
    };
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    assert_eq!(
        c.read(&c.a, &result.outputs[0]).await,
        "1000\n/opt/manta/bin:/bin\n"
    );
}

/// A batch whose item `name` reads `/u/stor/<name>` and has the output
/// base `/u/jobs/j1/stor/u/stor/<name>.0.`.
pub(crate) fn batch(id: &str, items: Vec<(&str, Option<BlobRef>)>, exec: &str) -> TaskRequest {
    let items = items
        .into_iter()
        .map(|(name, blob)| BatchItem {
            task_id: format!("{id}-{name}"),
            input: input(&format!("/u/stor/{name}"), blob),
            output_base: item_base(name),
        })
        .collect();
    let mut req = request(id, TaskKind::MapBatch { items }, exec);
    req.output_base = String::new();
    req
}

pub(crate) fn item_base(name: &str) -> String {
    format!("/u/jobs/j1/stor/u/stor/{name}.0.")
}

#[track_caller]
pub(crate) fn assert_item_ok(item: &ItemResult) {
    assert_eq!(item.outcome, Outcome::Ok, "{item:#?}");
    assert!(item.stderr.is_none(), "{item:#?}");
}

/// Each item of `exec` below prints its object, input size, output base
/// and the lines init wrote, unless its input says "bad" (exit 3) or its
/// name says to use a utility.
const BATCH_EXEC: &str = r#"case "$MANTA_INPUT_OBJECT" in
*/pipe) wc -c | mpipe -r 1 /u/stor/piped ;;
*/cat) mcat /u/stor/ref ;;
*) if grep -q bad; then echo "bad input in $MANTA_INPUT_OBJECT" >&2; exit 3; fi
   echo "$MANTA_INPUT_OBJECT $(wc -c < "$MANTA_INPUT_FILE") $MANTA_OUTPUT_BASE $(wc -l < /tmp/init)" ;;
esac"#;

#[tokio::test]
async fn a_batch_runs_each_item_as_a_task_of_its_own() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let a = c.put(b"hello\n", &[&c.a]).await;
    let bad = c.put(b"bad\n", &[&c.a]).await;
    let far = c.put(b"far away\n", &[&c.b]).await;
    let pipe = c.put(b"x\ny\n", &[&c.a]).await;
    let cat = c.put(b"whatever", &[&c.a]).await;
    let mut req = batch(
        "b1",
        vec![
            ("a", Some(a)),
            ("bad", Some(bad)),
            ("far", Some(far)),
            ("pipe", Some(pipe)),
            ("cat", Some(cat)),
            ("empty", None),
        ],
        BATCH_EXEC,
    );
    req.init = Some("echo ran >> /tmp/init; echo init stdout".into());
    req.replicas = vec![c.b.addr()];
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    assert!(result.outputs.is_empty() && result.saved.is_empty() && result.stderr.is_none());
    let ids: Vec<&str> = result.items.iter().map(|i| i.task_id.as_str()).collect();
    assert_eq!(
        ids,
        ["b1-a", "b1-bad", "b1-far", "b1-pipe", "b1-cat", "b1-empty"]
    );
    let [a, bad, far, pipe, cat, empty] = &result.items[..] else {
        panic!("{result:#?}");
    };

    for (item, name, size) in [(a, "a", 6), (far, "far", 9), (empty, "empty", 0)] {
        assert_item_ok(item);
        assert_eq!(item.outputs.len(), 1, "{item:#?}");
        let out = &item.outputs[0];
        assert_eq!(out.path, format!("{}{}", item_base(name), item.task_id));
        assert_eq!(out.blob.as_ref().unwrap().nodes, ["node-a", "node-b"]);
        let expected = format!("/u/stor/{name} {size} {} 1\n", item_base(name));
        assert_eq!(c.read(&c.b, out).await, expected);
    }
    assert_eq!((a.input_local_bytes, a.input_remote_bytes), (6, 0));
    assert_eq!((far.input_local_bytes, far.input_remote_bytes), (0, 9));

    assert_user_error_item(bad, "user command exited with code 3");
    assert!(bad.outputs.is_empty());
    let stderr = bad.stderr.as_ref().expect("stderr saved");
    assert_eq!(stderr.path, format!("{}err.b1-bad", item_base("bad")));
    assert_eq!(c.read(&c.a, stderr).await, "bad input in /u/stor/bad\n");

    assert_item_ok(pipe);
    assert_eq!(pipe.outputs.len(), 1, "stdout is not captured: {pipe:#?}");
    let piped = &pipe.outputs[0];
    assert_eq!(
        (piped.path.as_str(), piped.reducer),
        ("/u/stor/piped", Some(1))
    );
    assert_eq!(c.read(&c.a, piped).await.trim(), "4");

    assert_item_ok(cat);
    assert_eq!(cat.outputs.len(), 1, "{cat:#?}");
    assert_eq!(cat.outputs[0].path, "/u/stor/ref");
    assert!(cat.outputs[0].reference && cat.outputs[0].blob.is_none());

    assert_eq!(
        (result.input_local_bytes, result.input_remote_bytes),
        (6 + 4 + 4 + 8, 9)
    );
    let status = c.agent_status(&c.a).await;
    assert_eq!((status.map_local_bytes, status.map_remote_bytes), (22, 9));
    assert_eq!((status.tasks_started, status.tasks_done), (1, 1));
    assert_eq!(tasks_left(&c.a), 0);
}

#[track_caller]
pub(crate) fn assert_user_error_item(item: &ItemResult, message: &str) {
    let expected = Outcome::UserError {
        code: JobErrorCode::UserTaskError,
        message: message.into(),
    };
    assert_eq!(item.outcome, expected, "{item:#?}");
}

#[tokio::test]
async fn a_batch_fails_as_a_whole_when_init_fails_and_item_by_item_otherwise() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let mut req = batch("b1", vec![("x", None), ("y", None)], "echo never");
    req.init = Some("echo init failing >&2; exit 4".into());
    let result = c.run(&c.a, &req).await;
    assert_user_error(
        &result,
        JobErrorCode::TaskInitError,
        "user init command exited with code 4",
    );
    assert!(result.items.is_empty(), "{result:#?}");

    // An unusable path or an input no node has fails that item alone.
    let mut lost = c.put(b"gone", &[&c.b]).await;
    lost.nodes.clear();
    let mut req = batch(
        "b2",
        vec![("x", None), ("lost", Some(lost)), ("y", None)],
        "echo $MANTA_INPUT_OBJECT",
    );
    let BatchItem { input, .. } = match &mut req.kind {
        TaskKind::MapBatch { items } => &mut items[2],
        _ => unreachable!(),
    };
    input.path = "/u/../y".into();
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    let [x, lost, y] = &result.items[..] else {
        panic!("{result:#?}");
    };
    assert_item_ok(x);
    assert_eq!(c.read(&c.a, &x.outputs[0]).await, "/u/stor/x\n");
    assert!(
        matches!(lost.outcome, Outcome::InfraError { .. }),
        "{lost:#?}"
    );
    assert!(
        matches!(
            &y.outcome,
            Outcome::UserError {
                code: JobErrorCode::InvalidArgumentError,
                ..
            }
        ),
        "{y:#?}"
    );
}

#[tokio::test]
async fn a_batch_killed_for_memory_keeps_what_finished() {
    let c = Cluster::start(RuntimeKind::Runc).await;
    let hog = "awk 'BEGIN { s = \"xxxxxxxx\"; while (1) s = s s }'";
    let exec = format!("case $MANTA_INPUT_OBJECT in */hog) {hog} ;; *) echo fine ;; esac");
    let mut req = batch(
        "b1",
        vec![("one", None), ("hog", None), ("two", None)],
        &exec,
    );
    req.memory_mb = 64;
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    let [one, hog, two] = &result.items[..] else {
        panic!("{result:#?}");
    };
    assert_item_ok(one);
    assert_eq!(c.read(&c.a, &one.outputs[0]).await, "fine\n");
    let killed = Outcome::UserError {
        code: JobErrorCode::TaskKilledError,
        message: "task killed (excessive resource usage): memory limit exceeded".into(),
    };
    assert_eq!(hog.outcome, killed, "{hog:#?}");
    assert!(
        matches!(two.outcome, Outcome::InfraError { .. }),
        "{two:#?}"
    );
}

#[tokio::test]
async fn a_batch_under_runsc() {
    if RuntimeKind::Runsc.locate().is_err() {
        eprintln!("skipping: runsc is not installed");
        return;
    }
    let c = Cluster::start(RuntimeKind::Runsc).await;
    let one = c.put(b"1\n", &[&c.a]).await;
    let bad = c.put(b"bad\n", &[&c.a]).await;
    let pipe = c.put(b"a\nb\nc\n", &[&c.b]).await;
    let mut req = batch(
        "b1",
        vec![("one", Some(one)), ("bad", Some(bad)), ("pipe", Some(pipe))],
        BATCH_EXEC,
    );
    req.init = Some("echo ran >> /tmp/init".into());
    let result = c.run(&c.a, &req).await;
    assert_ok(&result);
    let [one, bad, pipe] = &result.items[..] else {
        panic!("{result:#?}");
    };
    assert_item_ok(one);
    let expected = format!("/u/stor/one 2 {} 1\n", item_base("one"));
    assert_eq!(c.read(&c.a, &one.outputs[0]).await, expected);
    assert_user_error_item(bad, "user command exited with code 3");
    assert_item_ok(pipe);
    assert_eq!(pipe.input_remote_bytes, 6);
    assert_eq!(c.read(&c.a, &pipe.outputs[0]).await.trim(), "6");
    assert_eq!(c.agent_status(&c.a).await.runtime, "runsc");
}

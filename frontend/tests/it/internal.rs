//! Attacks on the cluster's internal ports and on its listeners: calls to a
//! storage node, a shard or an agent without the cluster credential (or
//! with a forged, tampered or misdirected one), a slowloris, an idle
//! connection and a client that stops reading. Each is refused or cut off,
//! and the cluster still serves its users afterwards.

use frontend::testkit::*;
use metadata_tier::net::{ClusterKey, Limits};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn node_urls(tc: &TestCluster) -> Vec<String> {
    let live = tc.cluster.meta.live_nodes(HEARTBEAT_TIMEOUT).await.unwrap();
    live.into_iter().map(|n| n.record.addr).collect()
}

async fn assert_refused(resp: reqwest::Response, secret: &[u8]) {
    assert_eq!(resp.status(), 401);
    let body = resp.bytes().await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "ClusterAuthRequired", "{v}");
    assert!(!body.windows(secret.len()).any(|w| w == secret));
}

#[tokio::test]
async fn internal_ports_refuse_callers_without_the_cluster_secret() {
    let tc = TestCluster::start().await;
    let secret = b"bytes only the owner may read".repeat(10);
    assert_eq!(tc.put("stor/secret", secret.clone()).await.status(), 204);
    let hash = blake3::hash(&secret).to_hex().to_string();
    let http = reqwest::Client::new();
    let key = tc.cluster.meta.cluster_key().clone();
    let forged = ClusterKey::generate();
    let nodes = node_urls(&tc).await;
    let shard = tc.cluster.meta.ring().shards()[0].clone();

    let mut holders = 0;
    for node in &nodes {
        let url = format!("{node}/blobs/{hash}");
        // No credential, and a credential made with another secret.
        assert_refused(http.get(&url).send().await.unwrap(), &secret).await;
        let r = forged.send(&http, http.get(&url)).await.unwrap();
        assert_refused(r, &secret).await;
        // The real credential works, so the refusals above are about it.
        let r = key.send(&http, http.get(&url)).await.unwrap();
        if r.status() == 200 {
            assert_eq!(r.bytes().await.unwrap(), secret);
            holders += 1;
        }
        // An agent runs nothing for a stranger.
        let task = serde_json::json!({"task_id": "x", "image": "busybox", "exec": "id"});
        let r = http
            .post(format!("{node}/agent/v1/tasks"))
            .json(&task)
            .send()
            .await
            .unwrap();
        assert_refused(r, &secret).await;
    }
    assert_eq!(holders, 2, "the object has two copies");

    // A shard writes nothing for a stranger: this apply would add a key.
    let apply = serde_json::json!({"ops": []});
    let r = http
        .post(format!("{shard}/v1/apply"))
        .json(&apply)
        .send()
        .await
        .unwrap();
    assert_refused(r, &secret).await;

    // A captured credential does not carry over to another body or path.
    let mut req = http
        .post(format!("{shard}/v1/get"))
        .json(&serde_json::json!({"key": {"space": "accounts", "dir": "/", "name": "x"}}))
        .build()
        .unwrap();
    key.stamp(&mut req);
    let stamp = req.headers()[metadata_tier::net::auth::HEADER].clone();
    *req.body_mut() = Some(reqwest::Body::from(r#"{"ops":[]}"#));
    assert_refused(http.execute(req).await.unwrap(), &secret).await;
    let r = http
        .post(format!("{shard}/v1/apply"))
        .header(metadata_tier::net::auth::HEADER, stamp)
        .json(&serde_json::json!({"key": {"space": "accounts", "dir": "/", "name": "x"}}))
        .send()
        .await
        .unwrap();
    assert_refused(r, &secret).await;

    // Users are served as before.
    let r = tc.get("stor/secret").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap(), secret);
}

/// Waits for the server to close `conn`; how long that took.
async fn closed_after(conn: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match tokio::time::timeout_at((started + within).into(), conn.read(&mut buf)).await {
            Err(_) => panic!("the connection was still open after {within:?}"),
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

fn short_limits() -> Limits {
    Limits {
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        stall_timeout: Duration::from_secs(2),
        ..Limits::default()
    }
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off() {
    let tc = TestCluster::start_with(3, |o| o.settings.listener_limits = short_limits()).await;
    let front = tc.cluster.url.trim_start_matches("http://").to_string();

    // A slowloris: headers that never end, one line at a time.
    let mut conn = TcpStream::connect(&front).await.unwrap();
    conn.write_all(b"GET /tester/stor HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let dribble = async {
        for i in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if conn
                .write_all(format!("x-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    };
    let started = Instant::now();
    dribble.await;
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "the server kept reading headers for {:?}",
        started.elapsed()
    );

    // A connection that never sends anything.
    let mut idle = TcpStream::connect(&front).await.unwrap();
    let took = closed_after(&mut idle, Duration::from_secs(10)).await;
    assert!(
        took >= Duration::from_millis(900),
        "closed too soon: {took:?}"
    );

    // A reader that stops reading a big blob, on a storage node: the node
    // gives its connection up instead of holding it forever.
    let big = vec![7u8; 32 << 20];
    assert_eq!(tc.put("stor/big", big.clone()).await.status(), 204);
    let hash = blake3::hash(&big).to_hex().to_string();
    let node = node_urls(&tc).await[0].clone();
    let mut probe = None;
    let http = reqwest::Client::new();
    let key = tc.cluster.meta.cluster_key().clone();
    for n in node_urls(&tc).await {
        if key
            .send(&http, http.head(format!("{n}/blobs/{hash}")))
            .await
            .unwrap()
            .status()
            == 200
        {
            probe = Some(n);
        }
    }
    let node = probe.unwrap_or(node);
    let mut req = http.get(format!("{node}/blobs/{hash}")).build().unwrap();
    key.stamp(&mut req);
    let stamp = req.headers()[metadata_tier::net::auth::HEADER]
        .to_str()
        .unwrap()
        .to_string();
    let host = node.trim_start_matches("http://");
    let mut slow = TcpStream::connect(host).await.unwrap();
    let head = format!(
        "GET /blobs/{hash} HTTP/1.1\r\nHost: {host}\r\n{}: {stamp}\r\n\r\n",
        metadata_tier::net::auth::HEADER
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    // Read nothing for longer than the stall timeout; then what arrives
    // is what the socket buffers held, and the connection is closed.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the node still held the connection");
    assert!(
        got.len() < big.len(),
        "the whole blob arrived: {}",
        got.len()
    );

    // Everyone else is served.
    let r = tc.get("stor/big").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), big.len());
}

/// A client's request id reaches the storage nodes that served it: each
/// node logs its part of the request under a span with that id and the
/// route template, so one grep follows a request across tiers.
#[tokio::test]
async fn the_request_id_travels_to_the_storage_nodes() {
    let pc = ProcessCluster::start_logging(
        env!("CARGO_BIN_EXE_mantad"),
        2,
        "jobs_runtime = \"off\"",
        "warn,metadata_tier::net=debug",
    )
    .await;
    let id = format!("trace-{}", uuid::Uuid::new_v4().simple());
    let r = pc
        .req(reqwest::Method::PUT, "stor/traced")
        .header("x-request-id", &id)
        .body("followed across tiers")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["x-request-id"], id.as_str());
    let mut found = Vec::new();
    for _ in 0..50 {
        found = (0..2)
            .flat_map(|i| pc.log(i).lines().map(str::to_string).collect::<Vec<_>>())
            .filter(|l| l.contains(&id))
            .collect();
        if found.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found.len(), 2, "one PUT per copy: {found:?}");
    for line in &found {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["span"]["route"], "/blobs", "{v}");
        assert_eq!(v["span"]["method"], "PUT", "{v}");
        assert_eq!(v["fields"]["status"], 201, "{v}");
    }
}

/// `/metrics` on the admin listener, in Prometheus' text format: the HTTP
/// metrics of every listener (by route template and status), the shards'
/// group commits, the nodes' disk use.
#[tokio::test]
async fn metrics_are_served_on_the_admin_listener() {
    let tc = TestCluster::start().await;
    let admin = frontend::cluster::start_admin("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    for i in 0..3 {
        assert_eq!(tc.put(&format!("stor/m{i}"), "counted").await.status(), 204);
    }
    assert_eq!(tc.get("stor/m0").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await; // a heartbeat
    let r = reqwest::get(format!("http://{}/metrics", admin.addr))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/plain"));
    let text = r.text().await.unwrap();
    let value = |prefix: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    // Other tests of this binary share the process's registry: at least.
    let puts = value(
        "mantad_http_requests_total{listener=\"manta\",route=\"/:login/stor/...\",method=\"PUT\",status=\"204\"}",
    );
    assert!(puts >= 3.0, "{text}");
    assert!(value("mantad_http_requests_total{listener=\"storage\",route=\"/blobs\",method=\"PUT\",status=\"201\"}") >= 6.0);
    assert!(value("mantad_http_request_duration_seconds_count{listener=\"manta\"") >= 4.0);
    assert!(value("mantad_shard_write_group_requests_count") >= 3.0);
    assert!(value("mantad_shard_write_commit_seconds_count") >= 1.0);
    assert!(value("mantad_storage_free_bytes{node=\"stor-1\"}") > 0.0);
    assert!(value("mantad_http_response_bytes_total{listener=\"manta\"}") >= 7.0);
    admin.stop().await;
}

//! The web console (`/console/`), end to end: a real cluster in TLS, the
//! console's API through reqwest (sign-in links, replay, CSRF, Origin,
//! cross-account isolation, share links), and a real headless chromium
//! driven through chromedriver (WebDriver, via fantoccini) for the pages:
//! sign in, upload, download, share, jobs, the cluster. Screenshots of
//! each page go to `$CARGO_TARGET_DIR/console-screenshots/` (printed).

use crate::jobs::{WORDS_MAP, WORDS_REDUCE};
use fantoccini::{Client as Browser, ClientBuilder, Locator};
use frontend::testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A TLS cluster whose [`USER`] is a console operator.
async fn cluster() -> TestCluster {
    TestCluster::start_with(3, |o| {
        o.tls = true;
        o.settings.console_operators = vec![USER.to_string()];
    })
    .await
}

fn sdk_for(tc: &TestCluster, login: &str) -> client_sdk::Client {
    let mut cfg = client_sdk::Config::new(&tc.cluster.url, login);
    cfg.ca_file = tc.ca_file.clone();
    let key = tc.key_dir(login).join("id_ed25519");
    client_sdk::Client::with_signer(cfg, Some(client_sdk::Signer::from_file(&key).unwrap()))
        .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The `mconsole` binary when it is built beside this test binary.
fn mconsole_bin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("mconsole");
    bin.exists().then_some(bin)
}

/// A sign-in link for `login`: from the real `mconsole` for [`USER`]
/// when it is built, else from the SDK function it calls.
async fn link(tc: &TestCluster, login: &str) -> String {
    if login == USER {
        if let Some(bin) = mconsole_bin() {
            let out = ok(&tc.run_with(bin, &["-e", "2m"], None).await);
            return out.trim().to_string();
        }
    }
    sdk_for(tc, login).console_login_url(now() + 120).unwrap()
}

fn console_url(tc: &TestCluster, rest: &str) -> String {
    format!("{}/console/{rest}", tc.cluster.url)
}

/// Posts a link's query as the sign-in page does; returns the response.
async fn post_login(tc: &TestCluster, link: &str) -> reqwest::Response {
    let query = link.split_once('?').unwrap().1.to_string();
    tc.http
        .post(console_url(tc, "api/login"))
        .header("origin", &tc.cluster.url)
        .body(query)
        .send()
        .await
        .unwrap()
}

/// A signed-in API session: its cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn sign_in(tc: &TestCluster, login: &str) -> Session {
    let r = post_login(tc, &link(tc, login).await).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let set = header(&r, "set-cookie");
    for attr in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Secure",
        "Max-Age=43200",
    ] {
        assert!(set.contains(attr), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    let r = tc
        .http
        .get(console_url(tc, "api/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["login"], login);
    Session {
        cookie,
        csrf: s["csrf"].as_str().unwrap().to_string(),
    }
}

impl Session {
    /// A console API request with the cookie, and for changes the token
    /// and our Origin.
    fn req(&self, tc: &TestCluster, method: Method, rest: &str) -> reqwest::RequestBuilder {
        let change = method != Method::GET && method != Method::HEAD;
        let mut r = tc
            .http
            .request(method, console_url(tc, rest))
            .header("cookie", &self.cookie);
        if change {
            r = r
                .header("x-console-csrf", &self.csrf)
                .header("origin", &tc.cluster.url);
        }
        r
    }
}

async fn code(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn sign_in_links_sessions_csrf_isolation_and_share_links() {
    let tc = cluster().await;

    // A link works once; a replay, a stale link and a presigned GET don't.
    let l = link(&tc, USER).await;
    assert!(
        l.starts_with(&format!("{}/console/login?", tc.cluster.url)),
        "{l}"
    );
    assert_eq!(post_login(&tc, &l).await.status(), 200);
    assert_eq!(
        code(post_login(&tc, &l).await).await,
        (StatusCode::FORBIDDEN, "LoginLinkUsed".into())
    );
    let old = sdk_for(&tc, USER).console_login_url(now() - 1).unwrap();
    assert_eq!(
        code(post_login(&tc, &old).await).await.1,
        "InvalidLoginLink"
    );
    let presigned = tc
        .client
        .sign_url(
            "~~/stor",
            &client_sdk::SignUrlOptions::new(&["GET"], now() + 60),
        )
        .unwrap();
    assert_eq!(
        code(post_login(&tc, &presigned).await).await.1,
        "InvalidLoginLink"
    );
    // A link with its nonce changed no longer verifies.
    let forged = l.replace("nonce=", "nonce=0");
    assert_eq!(
        code(post_login(&tc, &forged).await).await.1,
        "InvalidLoginLink"
    );
    // A link posted from another site (login CSRF) is refused.
    let r = tc
        .http
        .post(console_url(&tc, "api/login"))
        .header("origin", "https://evil.example")
        .body(link(&tc, USER).await.split_once('?').unwrap().1.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await.1, "OriginNotAllowed");

    let me = sign_in(&tc, USER).await;
    let other = sign_in(&tc, OTHER).await;

    // No cookie: no API.
    let r = tc
        .http
        .get(console_url(&tc, "api/manta/tester/stor"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(r).await,
        (StatusCode::UNAUTHORIZED, "NotSignedIn".into())
    );

    // CSRF: a change needs the token and our Origin.
    let mk = |s: &Session, name: &str| {
        s.req(&tc, Method::PUT, &format!("api/manta/{USER}/stor/{name}"))
            .header("content-type", "application/json; type=directory")
    };
    let r = tc
        .http
        .put(console_url(&tc, &format!("api/manta/{USER}/stor/d1")))
        .header("cookie", &me.cookie)
        .header("origin", &tc.cluster.url)
        .header("content-type", "application/json; type=directory")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(r).await,
        (StatusCode::FORBIDDEN, "CsrfTokenInvalid".into())
    );
    let r = tc
        .http
        .put(console_url(&tc, &format!("api/manta/{USER}/stor/d1")))
        .header("cookie", &me.cookie)
        .header("x-console-csrf", &me.csrf)
        .header("origin", "https://evil.example")
        .header("content-type", "application/json; type=directory")
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await.1, "OriginNotAllowed");
    assert_eq!(mk(&me, "d1").send().await.unwrap().status(), 204);
    // One account's token does not pass with another's cookie.
    let r = tc
        .http
        .put(console_url(&tc, &format!("api/manta/{OTHER}/stor/x")))
        .header("cookie", &other.cookie)
        .header("x-console-csrf", &me.csrf)
        .header("origin", &tc.cluster.url)
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await.1, "CsrfTokenInvalid");

    // Objects through the console are the API's objects.
    let body = bytes(70_000, 7);
    let r = me
        .req(
            &tc,
            Method::PUT,
            &format!("api/manta/{USER}/stor/d1/blob.bin"),
        )
        .header("content-type", "application/octet-stream")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        tc.get("stor/d1/blob.bin").await.bytes().await.unwrap(),
        body
    );
    let r = me
        .req(
            &tc,
            Method::GET,
            &format!("api/manta/{USER}/stor/d1/blob.bin?download=1"),
        )
        .send()
        .await
        .unwrap();
    assert!(header(&r, "content-disposition").starts_with("attachment"));
    assert!(header(&r, "content-security-policy").contains("sandbox"));
    assert_eq!(r.bytes().await.unwrap(), body);

    // Another account's session sees none of it, not even by path.
    for path in [
        format!("api/manta/{USER}/stor/d1/blob.bin"),
        format!("api/manta/{USER}/stor/d1"),
        format!("api/manta/{USER}/stor"),
        format!("api/manta/{USER}/jobs?state=all"),
    ] {
        let (status, c) = code(other.req(&tc, Method::GET, &path).send().await.unwrap()).await;
        assert_eq!(
            (status, c.as_str()),
            (StatusCode::FORBIDDEN, "AuthorizationFailed"),
            "{path}"
        );
    }
    let r = other
        .req(
            &tc,
            Method::DELETE,
            &format!("api/manta/{USER}/stor/d1/blob.bin"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let job = crate::jobs::create(&tc, json!({"phases": [{"exec": "wc -c"}]})).await;
    for path in [
        format!("api/manta/{USER}/jobs/{job}/live/status"),
        format!("api/manta/{OTHER}/jobs/{job}/live/status"),
    ] {
        let r = other.req(&tc, Method::GET, &path).send().await.unwrap();
        assert!(
            r.status() == 403 || r.status() == 404,
            "{path}: {}",
            r.status()
        );
    }
    let r = other
        .req(
            &tc,
            Method::POST,
            &format!("api/manta/{USER}/jobs/{job}/live/cancel"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let list = other
        .req(
            &tc,
            Method::GET,
            &format!("api/manta/{OTHER}/jobs?state=all"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains(&job), "{list}");
    // Only operators see the cluster.
    assert_eq!(
        code(
            other
                .req(&tc, Method::GET, "api/cluster")
                .send()
                .await
                .unwrap()
        )
        .await
        .1,
        "NotOperator"
    );
    let c: Value = me
        .req(&tc, Method::GET, "api/cluster")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["nodes"].as_array().unwrap().len(), 3, "{c}");
    // Each node's scrubber as the node reports it, each shard's Raft group.
    assert!(c["nodes"][0]["scrub"]["passes"].is_u64(), "{c}");
    assert_eq!(c["shards"][0]["leader"], 1, "{c}");
    assert_eq!(c["shards"][0]["replicas_up"], 1, "{c}");

    // Share links: anyone can GET the object until they expire or are
    // revoked; they name one object and cannot be bent to another.
    let r = other
        .req(&tc, Method::POST, "api/share")
        .json(&json!({"path": format!("/{USER}/stor/d1/blob.bin"), "expires_in": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await.1, "InvalidArgument");
    let r = me
        .req(&tc, Method::POST, "api/share")
        .json(&json!({"path": format!("/{USER}/stor/d1/blob.bin"), "expires_in": 600}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let share: Value = r.json().await.unwrap();
    let url = share["url"].as_str().unwrap().to_string();
    let r = tc.anon(Method::GET, &url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-security-policy").contains("sandbox"));
    assert_eq!(r.bytes().await.unwrap(), body);
    let bent = url.replace("blob.bin", "other.bin");
    assert_eq!(
        code(tc.anon(Method::GET, &bent).send().await.unwrap())
            .await
            .1,
        "InvalidShareLink"
    );
    let longer = url.replace("expires=", "expires=9");
    assert_eq!(
        code(tc.anon(Method::GET, &longer).send().await.unwrap())
            .await
            .1,
        "InvalidShareLink"
    );
    let r = me
        .req(&tc, Method::POST, "api/share/revoke")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        code(tc.anon(Method::GET, &url).send().await.unwrap())
            .await
            .1,
        "InvalidShareLink"
    );

    // Sign-out ends the session for every copy of the cookie.
    let r = me
        .req(&tc, Method::DELETE, "api/session")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(header(&r, "set-cookie").contains("Max-Age=0"));
    let r = me
        .req(&tc, Method::GET, "api/session")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The pages carry a strict policy.
    let r = tc.http.get(console_url(&tc, "")).send().await.unwrap();
    let csp = header(&r, "content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(header(&r, "x-frame-options"), "DENY");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    // And what the Manta API serves runs sandboxed in a browser.
    tc.put("public/page.html", "<script>alert(1)</script>")
        .await;
    let r = tc
        .anon(Method::GET, &tc.url("public/page.html"))
        .send()
        .await
        .unwrap();
    assert!(header(&r, "content-security-policy").starts_with("sandbox"));
}

// ---------------------------------------------------------------- browser

/// chromedriver on a free port, stopped on drop.
struct Driver {
    child: std::process::Child,
    url: String,
}

impl Drop for Driver {
    /// Kills chromedriver's process group: the browser it started too,
    /// even when a failed test never closed its session.
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

async fn driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    use std::os::unix::process::CommandExt;
    let child = std::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromedriver (apt-get install chromium-driver; scripts/setup.sh does)");
    let url = format!("http://127.0.0.1:{port}");
    let d = Driver { child, url };
    let start = Instant::now();
    while reqwest::get(format!("{}/status", d.url)).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d
}

async fn browser(d: &Driver) -> Browser {
    let caps: serde_json::Map<String, Value> = serde_json::from_value(json!({
        "acceptInsecureCerts": true,
        "goog:chromeOptions": {"args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1280,900", "--lang=en-US"
        ]}
    }))
    .unwrap();
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&d.url)
        .await
        .expect("start headless chromium")
}

fn shots_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(b: &Browser, dir: &Path, name: &str) {
    // Let toasts and redraws settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = b.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

async fn find(b: &Browser, css: &str) -> fantoccini::elements::Element {
    b.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

/// Waits until the text of `css` satisfies `pred`; returns it.
async fn wait_text(b: &Browser, css: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        if let Ok(e) = b.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if pred(&t) {
                    return t;
                }
            }
        }
        assert!(
            start.elapsed() < limit,
            "{css}: condition not met in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Clicks `css`, again if the page redrew it meanwhile (the job page
/// redraws every second).
async fn click(b: &Browser, css: &str) {
    let start = Instant::now();
    loop {
        match find(b, css).await.click().await {
            Ok(_) => return,
            Err(e) if start.elapsed() > Duration::from_secs(20) => panic!("click {css}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn browser_sign_in(b: &Browser, link: &str) {
    b.goto(link).await.unwrap();
    click(b, "#login-button").await;
    wait_text(b, "#who", Duration::from_secs(20), |t| !t.is_empty()).await;
}

/// Runs `fetch` in the page (with its cookie) and returns status and body.
async fn page_fetch(b: &Browser, url: &str, method: &str, csrf: bool) -> (u64, Vec<u8>) {
    let script = r#"
        const [url, method, csrf] = arguments;
        const headers = {};
        if (csrf) {
            const s = await (await fetch('/console/api/session')).json();
            headers['x-console-csrf'] = s.csrf;
        }
        const r = await fetch(url, {method, headers, credentials: 'same-origin'});
        const buf = new Uint8Array(await r.arrayBuffer());
        let bin = '';
        for (let i = 0; i < buf.length; i += 8192) {
            bin += String.fromCharCode.apply(null, buf.subarray(i, i + 8192));
        }
        return [r.status, btoa(bin)];
    "#;
    let script = format!("return (async () => {{ {script} }}).apply(null, arguments);");
    let v = b
        .execute(&script, vec![json!(url), json!(method), json!(csrf)])
        .await
        .unwrap();
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD
        .decode(v[1].as_str().unwrap())
        .unwrap();
    (v[0].as_u64().unwrap(), body)
}

#[tokio::test]
async fn console_in_a_real_browser() {
    let tc = cluster().await;
    let d = driver().await;
    let b = browser(&d).await;
    let shots = shots_dir();
    println!("console screenshots: {}", shots.display());

    // Signed out, the console says how to sign in.
    b.goto(&console_url(&tc, "")).await.unwrap();
    find(&b, "#signed-out").await;
    // Sign in with a link; the link works once.
    let l = link(&tc, USER).await;
    b.goto(&l).await.unwrap();
    find(&b, "#login-button").await;
    shot(&b, &shots, "01-sign-in").await;
    click(&b, "#login-button").await;
    wait_text(&b, "#who", Duration::from_secs(20), |t| t == USER).await;
    let cookie = b.get_named_cookie("mconsole_session").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.secure(), Some(true));
    // The same link again, in the browser: refused.
    b.goto(&l).await.unwrap();
    click(&b, "#login-button").await;
    wait_text(&b, "#login-error", Duration::from_secs(20), |t| {
        t.contains("LoginLinkUsed")
    })
    .await;
    shot(&b, &shots, "11-link-replayed").await;
    assert_eq!(post_login(&tc, &l).await.status(), 403, "replayed link");
    // Still signed in by the first use.
    b.goto(&console_url(&tc, "")).await.unwrap();
    wait_text(&b, "#who", Duration::from_secs(20), |t| t == USER).await;

    // Upload a file (a real file input, XHR with progress).
    tc.mkdir("stor/docs").await;
    tc.put("stor/docs/readme.txt", "the cat the dog\nthe end\n")
        .await;
    let data = bytes(300_000, 11);
    let local = tc.local("photo.bin");
    std::fs::write(&local, &data).unwrap();
    b.goto(&format!(
        "{}#/objects/{USER}/stor/docs",
        console_url(&tc, "")
    ))
    .await
    .unwrap();
    find(&b, "#listing").await;
    find(&b, "#upload-file")
        .await
        .send_keys(local.to_str().unwrap())
        .await
        .unwrap();
    click(&b, "#upload-button").await;
    find(&b, "a.obj[data-name='photo.bin']").await;
    let stored = tc.get("stor/docs/photo.bin").await.bytes().await.unwrap();
    assert_eq!(stored.as_ref(), data.as_slice(), "uploaded bytes");
    // Make a directory.
    find(&b, "#mkdir-name")
        .await
        .send_keys("results")
        .await
        .unwrap();
    click(&b, "#mkdir-button").await;
    find(&b, "a.dir[href$='/docs/results']").await;
    shot(&b, &shots, "02-objects").await;

    // Details: download through the page's link, byte-exact.
    click(&b, "a.obj[data-name='photo.bin']").await;
    let href = find(&b, "#download-link")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let (status, got) = page_fetch(&b, &href, "GET", false).await;
    assert_eq!(status, 200);
    assert_eq!(got, data, "downloaded bytes");
    // A share link, fetched signed out by a plain client.
    click(&b, "#share-button").await;
    let share = find(&b, "#share-url").await;
    let start = Instant::now();
    let url = loop {
        let v = share.prop("value").await.unwrap().unwrap_or_default();
        if !v.is_empty() {
            break v;
        }
        assert!(start.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    shot(&b, &shots, "03-object-share").await;
    let r = tc.anon(Method::GET, &url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    assert_eq!(r.bytes().await.unwrap().as_ref(), data.as_slice());
    // Revoked from the page, the link is void.
    click(&b, "#share-revoke").await;
    let start = Instant::now();
    while tc.anon(Method::GET, &url).send().await.unwrap().status() != 403 {
        assert!(start.elapsed() < Duration::from_secs(20), "revoke");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A snaplink.
    find(&b, "#link-name")
        .await
        .send_keys("photo-link.bin")
        .await
        .unwrap();
    click(&b, "#link-button").await;
    find(&b, "a.obj[data-name='photo-link.bin']").await;
    assert_eq!(
        tc.get("stor/docs/photo-link.bin")
            .await
            .bytes()
            .await
            .unwrap()
            .len(),
        data.len()
    );
    // A change without the CSRF token is refused, even from the page.
    let (status, _) = page_fetch(
        &b,
        &format!("/console/api/manta/{USER}/stor/docs/photo.bin"),
        "DELETE",
        false,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(tc.get("stor/docs/photo.bin").await.status(), 200);
    // Delete (two clicks).
    click(&b, "a.obj[data-name='photo-link.bin']").await;
    click(&b, "#delete-button").await;
    click(&b, "#delete-confirm").await;
    let start = Instant::now();
    while tc.get("stor/docs/photo-link.bin").await.status() != 404 {
        assert!(start.elapsed() < Duration::from_secs(20), "delete");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A big directory pages with markers: 100 entries, then the rest.
    tc.mkdir("stor/many").await;
    for i in 0..104 {
        tc.put(&format!("stor/many/f{i:03}"), "x").await;
    }
    b.goto(&format!(
        "{}#/objects/{USER}/stor/many",
        console_url(&tc, "")
    ))
    .await
    .unwrap();
    find(&b, "#next-page").await;
    assert_eq!(
        b.find_all(Locator::Css("#listing a.obj"))
            .await
            .unwrap()
            .len(),
        100
    );
    click(&b, "#next-page").await;
    wait_text(&b, "#listing tbody", Duration::from_secs(20), |t| {
        t.contains("f103") && !t.contains("f050")
    })
    .await;
    assert_eq!(
        b.find_all(Locator::Css("#listing a.obj"))
            .await
            .unwrap()
            .len(),
        4
    );

    // A word-count job from the form: inputs picked in the browser.
    b.goto(&format!(
        "{}#/objects/{USER}/stor/docs",
        console_url(&tc, "")
    ))
    .await
    .unwrap();
    find(
        &b,
        &format!("input.pick[data-path='/{USER}/stor/docs/readme.txt']"),
    )
    .await
    .click()
    .await
    .unwrap();
    click(&b, "#job-from-selection").await;
    find(&b, "#job-form").await;
    find(&b, "#job-name")
        .await
        .send_keys("words")
        .await
        .unwrap();
    click(&b, "#add-reduce").await;
    let execs = b.find_all(Locator::Css(".phase-exec")).await.unwrap();
    execs[0].send_keys(WORDS_MAP).await.unwrap();
    execs[1].send_keys(WORDS_REDUCE).await.unwrap();
    let inputs = find(&b, "#job-inputs")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inputs, format!("/{USER}/stor/docs/readme.txt"));
    shot(&b, &shots, "04-job-new").await;
    click(&b, "#job-submit").await;
    wait_text(&b, "#job-state", Duration::from_secs(180), |t| {
        t.starts_with("done")
    })
    .await;
    let out = find(&b, "#job-outputs a.output")
        .await
        .text()
        .await
        .unwrap();
    assert!(out.starts_with(&format!("/{USER}/jobs/")), "{out}");
    shot(&b, &shots, "05-job-done").await;
    let text = crate::jobs::object_text(&tc, &out).await;
    assert!(text.contains("3 the") && text.contains("1 cat"), "{text}");

    // A failing job shows its error and stderr.
    b.goto(&format!("{}#/jobs/new", console_url(&tc, "")))
        .await
        .unwrap();
    find(&b, ".phase-exec")
        .await
        .send_keys("echo no such luck >&2; exit 3")
        .await
        .unwrap();
    find(&b, "#job-inputs").await.clear().await.unwrap();
    find(&b, "#job-inputs")
        .await
        .send_keys(&format!("/{USER}/stor/docs/readme.txt"))
        .await
        .unwrap();
    click(&b, "#job-submit").await;
    wait_text(&b, "#job-state", Duration::from_secs(180), |t| {
        t.starts_with("done")
    })
    .await;
    wait_text(
        &b,
        "#job-errors-list li.job-error",
        Duration::from_secs(20),
        |t| t.contains("UserTaskError"),
    )
    .await;
    wait_text(
        &b,
        "#job-errors-list pre.stderr",
        Duration::from_secs(20),
        |t| t.contains("no such luck"),
    )
    .await;
    shot(&b, &shots, "06-job-error").await;

    // A job still taking input, watched live, then cancelled on its page.
    let live =
        crate::jobs::create(&tc, json!({"name": "live", "phases": [{"exec": "wc -c"}]})).await;
    crate::jobs::add_inputs(
        &tc,
        &live,
        &[format!("/{USER}/stor/docs/readme.txt")],
        false,
    )
    .await;
    b.goto(&format!("{}#/job/{live}", console_url(&tc, "")))
        .await
        .unwrap();
    wait_text(&b, "#job-done", Duration::from_secs(120), |t| t == "1").await;
    wait_text(&b, "#job-outputs", Duration::from_secs(20), |t| {
        t.contains("/stor/")
    })
    .await;
    wait_text(&b, "#job-state", Duration::from_secs(20), |t| {
        t.starts_with("running")
    })
    .await;
    shot(&b, &shots, "10-job-running").await;
    click(&b, "#cancel-job").await;
    wait_text(&b, "#job-state", Duration::from_secs(60), |t| {
        t.contains("cancelled")
    })
    .await;
    b.goto(&format!("{}#/jobs", console_url(&tc, "")))
        .await
        .unwrap();
    wait_text(&b, "#jobs tbody", Duration::from_secs(20), |t| {
        t.contains("words")
    })
    .await;
    shot(&b, &shots, "07-jobs").await;

    // The cluster page (USER is an operator), charts drawn from samples.
    b.goto(&format!("{}#/cluster", console_url(&tc, "")))
        .await
        .unwrap();
    find(&b, "#nodes tr.node").await;
    assert_eq!(
        b.find_all(Locator::Css("#nodes tr.node"))
            .await
            .unwrap()
            .len(),
        3
    );
    let start = Instant::now();
    while b
        .find_all(Locator::Css("#charts path.line"))
        .await
        .unwrap()
        .len()
        < 2
    {
        assert!(start.elapsed() < Duration::from_secs(30), "charts");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    shot(&b, &shots, "08-cluster").await;

    // Sign out; the other account signs in and sees nothing of USER's.
    click(&b, "#signout").await;
    find(&b, "#signed-out").await;
    browser_sign_in(&b, &link(&tc, OTHER).await).await;
    assert!(find(&b, "#nav-cluster")
        .await
        .attr("hidden")
        .await
        .unwrap()
        .is_some());
    b.goto(&format!("{}#/jobs", console_url(&tc, "")))
        .await
        .unwrap();
    wait_text(&b, "#jobs tbody", Duration::from_secs(20), |t| {
        t.contains("No jobs yet")
    })
    .await;
    shot(&b, &shots, "09-other-account-jobs").await;
    let (status, _) = page_fetch(
        &b,
        &format!("/console/api/manta/{USER}/stor/docs"),
        "GET",
        false,
    )
    .await;
    assert_eq!(status, 403);
    b.goto(&format!(
        "{}#/objects/{USER}/stor/docs",
        console_url(&tc, "")
    ))
    .await
    .unwrap();
    wait_text(&b, "#toast", Duration::from_secs(20), |t| {
        t.contains("AuthorizationFailed")
    })
    .await;
    b.close().await.unwrap();
}

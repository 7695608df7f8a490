//! CORS on objects as Manta does it: `access-control-*` headers stored with
//! an entry, answered on GET/HEAD when the request's `Origin` matches, and
//! preflight `OPTIONS` answered without credentials (curl sends it as a
//! browser would).

use frontend::testkit::*;
use reqwest::Method;

const ORIGIN: &str = "https://app.example";

async fn curl_preflight(url: &str, origin: &str, method: &str, headers: Option<&str>) -> String {
    let mut args = vec![
        "-si".to_string(),
        "-X".into(),
        "OPTIONS".into(),
        "-H".into(),
        format!("Origin: {origin}"),
        "-H".into(),
        format!("Access-Control-Request-Method: {method}"),
    ];
    if let Some(h) = headers {
        args.push("-H".into());
        args.push(format!("Access-Control-Request-Headers: {h}"));
    }
    args.push(url.to_string());
    let out = tokio::process::Command::new("curl")
        .args(&args)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "curl failed");
    String::from_utf8_lossy(&out.stdout).to_ascii_lowercase()
}

#[tokio::test]
async fn stored_cors_headers_answer_matching_origins_and_preflights() {
    let tc = TestCluster::start().await;
    let dir = tc
        .req(Method::PUT, "stor/web")
        .header("content-type", "application/json; type=directory")
        .header("access-control-allow-origin", ORIGIN)
        .header("access-control-allow-methods", "PUT")
        .header("access-control-allow-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(dir.status(), 204);
    let put = tc
        .req(Method::PUT, "stor/web/app.js")
        .header("origin", ORIGIN)
        .header(
            "access-control-allow-origin",
            format!("https://other.example, {ORIGIN}"),
        )
        .header("access-control-allow-methods", "GET, HEAD")
        .header("access-control-allow-headers", "x-custom")
        .header("access-control-expose-headers", "etag, m-build")
        .header("access-control-max-age", "600")
        .header("m-build", "7")
        .body("console.log(1)")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    assert_eq!(header(&put, "access-control-allow-origin"), ORIGIN);

    // GET with a matching Origin: that origin, not the stored list.
    let r = tc
        .req(Method::GET, "stor/web/app.js")
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin"), ORIGIN);
    assert_eq!(header(&r, "access-control-expose-headers"), "etag, m-build");
    assert_eq!(header(&r, "access-control-max-age"), "600");
    // Another origin: no CORS header at all (the m-* header stays).
    let r = tc
        .req(Method::HEAD, "stor/web/app.js")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "m-build"), "7");
    for h in [
        "access-control-allow-origin",
        "access-control-expose-headers",
        "access-control-max-age",
        "access-control-allow-methods",
    ] {
        assert!(r.headers().get(h).is_none(), "{h} leaked to another origin");
    }
    // No Origin: the stored values, as stored.
    let r = tc.get("stor/web/app.js").await;
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        format!("https://other.example, {ORIGIN}")
    );

    // Preflights, without credentials.
    let url = tc.url("stor/web/app.js");
    let ok = curl_preflight(&url, ORIGIN, "GET", Some("x-custom")).await;
    assert!(ok.starts_with("http/1.1 200"), "{ok}");
    assert!(
        ok.contains(&format!("access-control-allow-origin: {ORIGIN}")),
        "{ok}"
    );
    assert!(
        ok.contains("access-control-allow-methods: get, head"),
        "{ok}"
    );
    assert!(
        ok.contains("access-control-allow-headers: x-custom"),
        "{ok}"
    );
    assert!(ok.contains("access-control-max-age: 600"), "{ok}");
    for (origin, method, hdrs) in [
        ("https://evil.example", "GET", None),
        (ORIGIN, "DELETE", None),
        (ORIGIN, "GET", Some("x-other")),
    ] {
        let no = curl_preflight(&url, origin, method, hdrs).await;
        assert!(no.starts_with("http/1.1 200"), "{no}");
        assert!(
            !no.contains("access-control-allow-origin"),
            "{origin} {method} {hdrs:?}: {no}"
        );
    }
    // A PUT preflight asks the parent directory, so a browser may create.
    let new = tc.url("stor/web/new.txt");
    let put = curl_preflight(&new, ORIGIN, "PUT", Some("content-type")).await;
    assert!(
        put.contains(&format!("access-control-allow-origin: {ORIGIN}")),
        "{put}"
    );
    let get_missing = curl_preflight(&new, ORIGIN, "GET", None).await;
    assert!(
        !get_missing.contains("access-control-allow-origin"),
        "{get_missing}"
    );

    // A metadata update with only role-tag (mchmod) keeps the CORS
    // headers; any other is a full replace of them.
    let tags_only = tc
        .req(Method::PUT, "stor/web/app.js?metadata=true")
        .header("role-tag", "")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_only.status(), 204);
    let r = tc.get("stor/web/app.js").await;
    assert_eq!(header(&r, "access-control-max-age"), "600");
    assert_eq!(header(&r, "m-build"), "7");
    let replace = tc
        .req(Method::PUT, "stor/web/app.js?metadata=true")
        .header("m-build", "8")
        .send()
        .await
        .unwrap();
    assert_eq!(replace.status(), 204);
    let r = tc.get("stor/web/app.js").await;
    assert_eq!(header(&r, "m-build"), "8");
    assert!(r.headers().get("access-control-max-age").is_none());
    assert_eq!(r.text().await.unwrap(), "console.log(1)");

    // Stored values are bounded.
    let long = tc
        .req(Method::PUT, "stor/web/long")
        .header("access-control-allow-origin", "x".repeat(3000))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_error(long, 400, "BadRequest").await;

    // /public objects are readable from any page unless told otherwise.
    assert_eq!(tc.put("public/p.txt", "hi").await.status(), 204);
    let r = tc
        .anon(Method::GET, &tc.url("public/p.txt"))
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "access-control-allow-origin"), ORIGIN);
}

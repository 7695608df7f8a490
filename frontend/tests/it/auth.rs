//! Authentication and authorization through real HTTP: HTTP Signatures with
//! every key type, signed URLs, anonymous /public, and each refusal with
//! its status and Manta code.

use client_sdk::Signer;
use frontend::auth::secrets::SecretBox;
use frontend::testkit::*;
use reqwest::{Method, RequestBuilder, Response};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn signer_of(alg: ssh_key::Algorithm) -> Signer {
    let key = ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, alg).unwrap();
    let text = key.to_openssh(ssh_key::LineEnding::LF).unwrap();
    Signer::from_openssh(&text).unwrap()
}

fn ed25519() -> Signer {
    signer_of(ssh_key::Algorithm::Ed25519)
}

/// A request carrying exactly these `date` and `authorization` values.
fn with_auth(
    tc: &TestCluster,
    method: Method,
    url: &str,
    date: &str,
    auth: &str,
) -> RequestBuilder {
    tc.anon(method, url)
        .header("date", date)
        .header("authorization", auth)
}

fn now_date() -> String {
    httpdate::fmt_http_date(SystemTime::now())
}

async fn send(rb: RequestBuilder) -> Response {
    rb.send().await.unwrap()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn every_key_type_and_both_fingerprints_authenticate() {
    let tc = TestCluster::start().await;
    let url = tc.url("stor");
    let algs = [
        ssh_key::Algorithm::Ed25519,
        ssh_key::Algorithm::Ecdsa {
            curve: ssh_key::EcdsaCurve::NistP256,
        },
        ssh_key::Algorithm::Ecdsa {
            curve: ssh_key::EcdsaCurve::NistP384,
        },
        ssh_key::Algorithm::Ecdsa {
            curve: ssh_key::EcdsaCurve::NistP521,
        },
        ssh_key::Algorithm::Rsa { hash: None },
    ];
    for alg in algs {
        let s = signer_of(alg.clone());
        let rec = tc
            .cluster
            .state
            .accounts
            .add_ssh_key(USER, &s.public_openssh().unwrap())
            .await
            .unwrap();
        let date = now_date();
        let r = send(with_auth(
            &tc,
            Method::GET,
            &url,
            &date,
            &s.authorization(&s.key_id(USER, None), &date).unwrap(),
        ))
        .await;
        assert_eq!(r.status(), 200, "{alg:?}");
        // The SHA-256 form of the keyId works too.
        let sig = s.sign(format!("date: {date}").as_bytes()).unwrap();
        let auth = format!(
            "Signature keyId=\"/{USER}/keys/{}\",algorithm=\"{}\",headers=\"date\",signature=\"{sig}\"",
            rec.sha256, s.algorithm()
        );
        let r = send(with_auth(&tc, Method::GET, &url, &date, &auth)).await;
        assert_eq!(r.status(), 200, "{alg:?} by SHA256 fingerprint");
    }
}

#[tokio::test]
async fn refusals_carry_mantas_codes() {
    let tc = TestCluster::start().await;
    assert_eq!(tc.put("stor/x", "mine").await.status(), 204);
    let url = tc.url("stor/x");

    // No auth at all.
    assert_error(
        send(tc.anon(Method::GET, &url)).await,
        403,
        "AuthorizationFailed",
    )
    .await;
    assert_error(
        send(tc.anon(Method::PUT, &tc.url("stor/y")).body("x")).await,
        403,
        "AuthorizationFailed",
    )
    .await;

    // A key the account does not have.
    let stranger = ed25519();
    let date = now_date();
    let auth = stranger
        .authorization(&stranger.key_id(USER, None), &date)
        .unwrap();
    assert_error(
        send(with_auth(&tc, Method::GET, &url, &date, &auth)).await,
        403,
        "KeyDoesNotExist",
    )
    .await;

    // Another account's key, presented as ours.
    let theirs = &tc.signers["other"];
    let auth = theirs
        .authorization(&date)
        .unwrap()
        .replace("/other/keys/", &format!("/{USER}/keys/"));
    assert_error(
        send(with_auth(&tc, Method::GET, &url, &date, &auth)).await,
        403,
        "KeyDoesNotExist",
    )
    .await;

    // A tampered signature, and a date changed after signing.
    let mine = &tc.signers[USER];
    let good = mine.authorization(&date).unwrap();
    let sig_at = good.find("signature=\"").unwrap() + "signature=\"".len();
    let mut tampered = good.clone().into_bytes();
    tampered[sig_at + 2] = if tampered[sig_at + 2] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_error(
        send(with_auth(&tc, Method::GET, &url, &date, &tampered)).await,
        403,
        "InvalidSignature",
    )
    .await;
    let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(1));
    let r = send(with_auth(&tc, Method::GET, &url, &later, &good)).await;
    if later != date {
        assert_error(r, 403, "InvalidSignature").await;
    }

    // Stale and future dates, correctly signed.
    let stale = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(600));
    let auth = mine.authorization(&stale).unwrap();
    assert_error(
        send(with_auth(&tc, Method::GET, &url, &stale, &auth)).await,
        400,
        "RequestExpired",
    )
    .await;
    let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(600));
    let auth = mine.authorization(&future).unwrap();
    assert_error(
        send(with_auth(&tc, Method::GET, &url, &future, &auth)).await,
        400,
        "InvalidHeader",
    )
    .await;

    // Malformed credentials.
    let date = now_date();
    let sig = mine.sign(format!("date: {date}").as_bytes()).unwrap();
    let cases = [
        (format!("Signature keyId=\"nonsense\",algorithm=\"ed25519-sha512\",signature=\"{sig}\""), 403, "InvalidKeyId"),
        (format!("Signature keyId=\"/{USER}/bob/keys/aa\",algorithm=\"ed25519-sha512\",signature=\"{sig}\""), 403, "UserDoesNotExist"),
        (format!("Signature keyId=\"/nobody/keys/aa\",algorithm=\"ed25519-sha512\",signature=\"{sig}\""), 403, "AccountDoesNotExist"),
        (mine.authorization(&date).unwrap().replace("ed25519-sha512", "hmac-sha256"), 401, "InvalidAlgorithm"),
        ("Basic dGVzdGVyOnB3".to_string(), 403, "AuthorizationSchemeNotAllowed"),
        ("Signature keyId=\"/tester/keys/aa\"".to_string(), 400, "InvalidHeader"),
    ];
    for (auth, status, code) in cases {
        assert_error(
            send(with_auth(&tc, Method::GET, &url, &date, &auth)).await,
            status,
            code,
        )
        .await;
    }
    // Still there, untouched.
    assert_eq!(tc.get("stor/x").await.text().await.unwrap(), "mine");
}

/// Attack: a signature captured days ago, over `date` only, replayed with
/// a fresh unsigned `x-date`. Freshness must be judged on a signed header,
/// so it is refused for every method and nothing changes; a client that
/// signs `(request-target) x-date` itself is accepted.
#[tokio::test]
async fn a_replayed_signature_with_a_fresh_x_date_is_refused() {
    let tc = TestCluster::start().await;
    assert_eq!(tc.put("stor/victim", "original").await.status(), 204);
    let mine = &tc.signers[USER];
    let old = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3 * 86_400));
    let captured = mine.authorization(&old).unwrap();
    let fresh = now_date();
    for (method, path) in [
        (Method::PUT, "stor/victim"),
        (Method::PUT, "stor/planted"),
        (Method::DELETE, "stor/victim"),
        (Method::GET, "stor/victim"),
    ] {
        let r = with_auth(&tc, method.clone(), &tc.url(path), &old, &captured)
            .header("x-date", &fresh)
            .body("replayed");
        assert_error(send(r).await, 401, "AuthorizationRequired").await;
    }
    // Signed over (request-target) only: no signed date, so no freshness.
    let target_only = format!(
        "Signature keyId=\"{}\",algorithm=\"{}\",headers=\"(request-target)\",signature=\"{}\"",
        mine.key_id,
        mine.algorithm(),
        mine.sign(format!("(request-target): get /{USER}/stor/victim").as_bytes())
            .unwrap()
    );
    let r = with_auth(
        &tc,
        Method::GET,
        &tc.url("stor/victim"),
        &fresh,
        &target_only,
    );
    assert_error(send(r).await, 401, "AuthorizationRequired").await;

    // Nothing was written or deleted, and honest requests still work.
    assert_eq!(
        tc.get("stor/victim").await.text().await.unwrap(),
        "original"
    );
    assert_eq!(tc.get("stor/planted").await.status(), 404);
    let path = format!("/{USER}/stor/victim");
    let signed = format!("(request-target): get {path}\nx-date: {fresh}");
    let auth = format!(
        "Signature keyId=\"{}\",algorithm=\"{}\",headers=\"(request-target) x-date\",signature=\"{}\"",
        mine.key_id,
        mine.algorithm(),
        mine.sign(signed.as_bytes()).unwrap()
    );
    let r = tc
        .anon(Method::GET, &tc.url("stor/victim"))
        .header("x-date", &fresh)
        .header("authorization", auth);
    let r = send(r).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "original");
}

#[tokio::test]
async fn accounts_cannot_touch_each_other() {
    let tc = TestCluster::start().await;
    assert_eq!(tc.put("stor/x", "mine").await.status(), 204);
    let url = tc.url("stor/x");
    let as_other = |m: Method, u: &str| tc.as_user("other", m, u);
    assert_error(
        send(as_other(Method::GET, &url)).await,
        403,
        "AuthorizationFailed",
    )
    .await;
    assert_eq!(send(as_other(Method::HEAD, &url)).await.status(), 403);
    assert_error(
        send(as_other(Method::PUT, &url).body("theirs")).await,
        403,
        "AuthorizationFailed",
    )
    .await;
    assert_error(
        send(as_other(Method::DELETE, &url)).await,
        403,
        "AuthorizationFailed",
    )
    .await;
    assert_error(
        send(as_other(Method::GET, &tc.url("stor"))).await,
        403,
        "AuthorizationFailed",
    )
    .await;
    assert_eq!(tc.get("stor/x").await.text().await.unwrap(), "mine");
    // `other` works in its own tree.
    let theirs = format!("{}/other/stor/y", tc.cluster.url);
    assert_eq!(
        send(as_other(Method::PUT, &theirs).body("y"))
            .await
            .status(),
        204
    );
    assert_error(
        send(tc.at(Method::GET, &theirs)).await,
        403,
        "AuthorizationFailed",
    )
    .await;
}

#[tokio::test]
async fn public_is_readable_by_anyone_writable_by_the_owner() {
    let tc = TestCluster::start().await;
    assert_eq!(tc.put("public/p", "hello world").await.status(), 204);
    let url = tc.url("public/p");
    let r = send(tc.anon(Method::GET, &url)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "hello world");
    assert_eq!(send(tc.anon(Method::HEAD, &url)).await.status(), 200);
    assert_eq!(
        send(tc.anon(Method::GET, &tc.url("public"))).await.status(),
        200
    );
    assert_eq!(
        send(tc.as_user("other", Method::GET, &url)).await.status(),
        200
    );
    assert_error(
        send(tc.anon(Method::PUT, &url).body("vandal")).await,
        403,
        "AuthorizationFailed",
    )
    .await;
    assert_error(
        send(tc.anon(Method::PUT, &tc.url("public/new")).body("x")).await,
        403,
        "AuthorizationFailed",
    )
    .await;
    assert_error(
        send(tc.anon(Method::DELETE, &url)).await,
        403,
        "AuthorizationFailed",
    )
    .await;
    assert_error(
        send(tc.as_user("other", Method::PUT, &url).body("x")).await,
        403,
        "AuthorizationFailed",
    )
    .await;
    assert_eq!(
        send(tc.anon(Method::GET, &url)).await.text().await.unwrap(),
        "hello world"
    );
}

#[tokio::test]
async fn signed_urls() {
    let tc = TestCluster::start().await;
    assert_eq!(tc.put("stor/s%20p", "signed").await.status(), 204);
    let s = &tc.signers[USER];
    let host = tc.cluster.url.trim_start_matches("http://").to_string();
    let path = format!("/{USER}/stor/s%20p");
    let base = &tc.cluster.url;
    let get = |u: String| async move { reqwest::get(u).await.unwrap() };

    let signed = s
        .sign_url(&host, &path, &["GET", "HEAD"], now_secs() + 60)
        .unwrap();
    let r = get(format!("{base}{signed}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "signed");
    let r = send(tc.anon(Method::HEAD, &format!("{base}{signed}"))).await;
    assert_eq!(r.status(), 200);
    // A method not signed.
    assert_error(
        send(tc.anon(Method::DELETE, &format!("{base}{signed}"))).await,
        403,
        "InvalidQueryStringAuthentication",
    )
    .await;
    // Expired.
    let old = s.sign_url(&host, &path, &["GET"], now_secs() - 1).unwrap();
    assert_error(
        get(format!("{base}{old}")).await,
        403,
        "InvalidQueryStringAuthentication",
    )
    .await;
    // Altered path, expiry, method list.
    let moved = signed.replace("s%20p", "other");
    assert_error(get(format!("{base}{moved}")).await, 403, "InvalidSignature").await;
    let exp = format!("expires={}", now_secs() + 60);
    let later = signed.replace(&exp, &format!("expires={}", now_secs() + 99_999));
    if later != signed {
        assert_error(get(format!("{base}{later}")).await, 403, "InvalidSignature").await;
    }
    let widened = signed.replace("method=GET%2CHEAD", "method=DELETE%2CGET%2CHEAD");
    assert_error(
        send(tc.anon(Method::DELETE, &format!("{base}{widened}"))).await,
        403,
        "InvalidSignature",
    )
    .await;
    // Missing parameters.
    let no_sig = signed.split("&signature=").next().unwrap().to_string();
    assert_error(
        get(format!("{base}{no_sig}")).await,
        403,
        "InvalidQueryStringAuthentication",
    )
    .await;
    // A URL signed by another account's key for our path.
    let theirs = tc.signers["other"]
        .sign_url(&host, &path, &["GET"], now_secs() + 60)
        .unwrap();
    assert_error(
        get(format!("{base}{theirs}")).await,
        403,
        "AuthorizationFailed",
    )
    .await;
    // A single-method URL signed for PUT can upload.
    let put = s
        .sign_url(
            &host,
            &format!("/{USER}/stor/up"),
            &["PUT"],
            now_secs() + 60,
        )
        .unwrap();
    let r = send(
        tc.anon(Method::PUT, &format!("{base}{put}"))
            .body("uploaded"),
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(tc.get("stor/up").await.text().await.unwrap(), "uploaded");
}

#[tokio::test]
async fn s3_keys_are_sealed_and_revocable() {
    let tc = TestCluster::start().await;
    let accounts = &tc.cluster.state.accounts;
    let sealer = SecretBox::new([9; 32]);
    let (id, secret) = accounts.create_s3_key(USER, &sealer).await.unwrap();
    let (acct, got) = accounts.s3_secret(&id, &sealer).await.unwrap().unwrap();
    assert_eq!((acct.login.as_str(), got.as_str()), (USER, secret.as_str()));
    // The metadata copy does not hold the secret in the clear.
    let raw = serde_json::to_string(&accounts.resolve(USER).await.unwrap()).unwrap();
    assert!(!raw.contains(&secret));
    // Another server key cannot open it.
    assert!(accounts
        .s3_secret(&id, &SecretBox::new([1; 32]))
        .await
        .is_err());
    accounts.revoke_s3_key(USER, &id).await.unwrap();
    assert!(accounts.s3_secret(&id, &sealer).await.unwrap().is_none());
    assert!(accounts
        .s3_secret("AKIANOSUCHKEY", &sealer)
        .await
        .unwrap()
        .is_none());
    assert!(accounts.revoke_s3_key("other", &id).await.is_err());
}

/// An S3 key made by another process (`mantad account`, another frontend:
/// here a second `Accounts` on the same shards) works at once, even while
/// this frontend holds the account in its cache.
#[tokio::test]
async fn s3_key_made_elsewhere_works_at_once() {
    let tc = TestCluster::start_with(1, |_| {}).await;
    let sealer = tc.cluster.state.settings.s3_secrets.as_ref().unwrap();
    let here = &tc.cluster.state.accounts;
    here.resolve(USER).await.unwrap();
    let elsewhere = frontend::accounts::Accounts::new(tc.cluster.meta.clone());
    let (id, secret) = elsewhere.create_s3_key(USER, sealer).await.unwrap();
    let (rec, got) = here
        .s3_secret(&id, sealer)
        .await
        .unwrap()
        .expect("key found");
    assert_eq!((rec.login.as_str(), got), (USER, secret));
    elsewhere.revoke_s3_key(USER, &id).await.unwrap();
    let after = frontend::accounts::Accounts::new(tc.cluster.meta.clone());
    assert!(after.s3_secret(&id, sealer).await.unwrap().is_none());
}

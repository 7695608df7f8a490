//! Raw HTTP against the cluster: requests signed as a test account with
//! exactly the headers a test wants (the SDK would fix them up), and checks
//! of Manta's error shape.

use super::{TestCluster, USER};
use reqwest::{Method, RequestBuilder, Response};

impl TestCluster {
    /// URL of a path relative to the test account, e.g. `stor/a`.
    pub fn url(&self, rel: &str) -> String {
        format!("{}/{USER}/{rel}", self.cluster.url)
    }

    /// A request to a path of the test account, signed as the test account.
    pub fn req(&self, method: Method, rel: &str) -> RequestBuilder {
        self.at(method, &self.url(rel))
    }

    /// A request to any URL, signed as the test account.
    pub fn at(&self, method: Method, url: &str) -> RequestBuilder {
        self.as_user(USER, method, url)
    }

    /// A request to any URL, signed as `login`.
    pub fn as_user(&self, login: &str, method: Method, url: &str) -> RequestBuilder {
        let (date, auth) = self.signers[login].headers_now().unwrap();
        self.http
            .request(method, url)
            .header("date", date)
            .header("authorization", auth)
    }

    /// An unsigned request.
    pub fn anon(&self, method: Method, url: &str) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// `Date` and `Authorization` header lines (CRLF-terminated) for a raw
    /// HTTP request as the test account.
    pub fn auth_lines(&self) -> String {
        let (date, auth) = self.signers[USER].headers_now().unwrap();
        format!("Date: {date}\r\nAuthorization: {auth}\r\n")
    }

    pub async fn put(&self, rel: &str, body: impl Into<reqwest::Body>) -> Response {
        self.req(Method::PUT, rel).body(body).send().await.unwrap()
    }

    pub async fn get(&self, rel: &str) -> Response {
        self.req(Method::GET, rel).send().await.unwrap()
    }

    pub async fn mkdir(&self, rel: &str) -> Response {
        self.req(Method::PUT, rel)
            .header("content-type", "application/json; type=directory")
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, rel: &str) -> Response {
        self.req(Method::DELETE, rel).send().await.unwrap()
    }
}

/// Asserts a Manta error response: status and JSON `code`.
pub async fn assert_error(resp: Response, status: u16, code: &str) {
    let got = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "status for {code}: body {text}");
    assert_eq!(ct.as_deref(), Some("application/json"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["code"], code, "{text}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{text}"
    );
}

/// A response header that must be there.
pub fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .unwrap()
        .to_string()
}

/// Base64 of the MD5 of `data`, as `Content-MD5` carries it.
pub fn md5_b64(data: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(data))
}

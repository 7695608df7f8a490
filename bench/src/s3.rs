//! `mantabench s3-put-get`: the put-get workload through the S3 API, each
//! request signed with AWS Signature Version 4 (payload `UNSIGNED-PAYLOAD`,
//! so bodies stream without being hashed first).

use crate::{run, Report};
use anyhow::{bail, Context};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::SystemTime;

pub const UNSIGNED: &str = "UNSIGNED-PAYLOAD";

/// An access key and the region it signs for.
#[derive(Clone)]
pub struct Signer {
    pub access_key: String,
    pub secret: String,
    pub region: String,
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// `yyyymmddThhmmssZ`.
pub fn amz_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl Signer {
    /// The `Authorization` value for a request whose path is already
    /// URI-encoded and that has no query; `headers` are the signed headers
    /// (lower-case names, sorted), `host` and `x-amz-date` among them.
    pub fn authorization(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        payload: &str,
        date: &str,
    ) -> String {
        let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
        let signed = names.join(";");
        let canon_headers: String = headers
            .iter()
            .map(|(n, v)| format!("{n}:{}\n", v.trim()))
            .collect();
        let canonical = format!("{method}\n{path}\n\n{canon_headers}\n{signed}\n{payload}");
        let day = &date[..8];
        let scope = format!("{day}/{}/s3/aws4_request", self.region);
        let sts = format!(
            "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let mut key = hmac(format!("AWS4{}", self.secret).as_bytes(), day);
        for part in [self.region.as_str(), "s3", "aws4_request"] {
            key = hmac(&key, part);
        }
        let sig = hex::encode(hmac(&key, &sts));
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={sig}",
            self.access_key
        )
    }

    /// A request to `base` + `path` signed now, with an unsigned payload.
    pub fn request(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        base: &str,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let host = base.trim_start_matches("http://").trim_end_matches('/');
        let date = amz_date(SystemTime::now());
        let headers = [
            ("host", host),
            ("x-amz-content-sha256", UNSIGNED),
            ("x-amz-date", date.as_str()),
        ];
        let auth = self.authorization(method.as_str(), path, &headers, UNSIGNED, &date);
        http.request(method, format!("{}{path}", base.trim_end_matches('/')))
            .header("x-amz-content-sha256", UNSIGNED)
            .header("x-amz-date", &date)
            .header("authorization", auth)
    }
}

/// PUTs `count` objects of `size` bytes into `bucket` (made if missing),
/// then GETs them back.
///
/// # Errors
/// Any request failing.
pub async fn put_get(
    url: &str,
    signer: &Signer,
    bucket: &str,
    count: usize,
    size: u64,
    concurrency: usize,
) -> anyhow::Result<Report> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let r = signer
        .request(&http, reqwest::Method::PUT, url, &format!("/{bucket}"))
        .send()
        .await
        .context("create bucket")?;
    let status = r.status();
    let text = r.text().await?;
    if !status.is_success() && !text.contains("BucketAlreadyOwnedByYou") {
        bail!("create bucket {bucket}: {status} {text}");
    }
    let chunk = Arc::new(Bytes::from(
        (0..(1u64 << 20).min(size.max(1)))
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    ));
    let put = run(count, concurrency, size, |i| {
        let req = signer.request(&http, reqwest::Method::PUT, url, &key(bucket, i));
        let chunk = chunk.clone();
        async move {
            let pieces = size.div_ceil(chunk.len() as u64).max(1);
            let body = futures::stream::iter((0..pieces).map(move |p| {
                let left = size - p * chunk.len() as u64;
                Ok::<_, std::io::Error>(chunk.slice(0..left.min(chunk.len() as u64) as usize))
            }));
            let r = req
                .header("content-length", size)
                .body(reqwest::Body::wrap_stream(body))
                .send()
                .await?;
            if r.status().as_u16() != 200 {
                bail!("PUT object {i}: {} {}", r.status(), r.text().await?);
            }
            Ok(())
        }
    })
    .await?;
    let get = run(count, concurrency, size, |i| {
        let req = signer.request(&http, reqwest::Method::GET, url, &key(bucket, i));
        async move {
            let r = req.send().await?;
            if r.status().as_u16() != 200 {
                bail!("GET object {i}: {}", r.status());
            }
            let got = crate::body_len(r).await?;
            if got != size {
                bail!("GET object {i}: {got} bytes, expected {size}");
            }
            Ok(())
        }
    })
    .await?;
    Ok(Report {
        workload: "s3-put-get",
        count,
        size,
        concurrency,
        put,
        get,
    })
}

fn key(bucket: &str, i: usize) -> String {
    format!("/{bucket}/obj-{i:08}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The GET example of AWS's "Signature Calculations for the
    /// Authorization Header" (header-based auth, S3).
    #[test]
    fn aws_documented_example() {
        let s = Signer {
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        };
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let date = "20130524T000000Z";
        let headers = [
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", empty),
            ("x-amz-date", date),
        ];
        let auth = s.authorization("GET", "/test.txt", &headers, empty, date);
        assert!(
            auth.ends_with(
                "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            ),
            "{auth}"
        );
    }
}

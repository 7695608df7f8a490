//! `mantabench s3-put-get`: the put-get workload through the S3 API, each
//! request signed with AWS Signature Version 4 by `client_sdk::sigv4` (the
//! functions the frontend verifies with), payload `UNSIGNED-PAYLOAD` so
//! bodies stream without being hashed first.

use crate::{run, Report};
use anyhow::{bail, Context};
use bytes::Bytes;
use client_sdk::sigv4::{format_amz_date, Credentials, UNSIGNED_PAYLOAD};
use std::sync::Arc;
use std::time::SystemTime;

/// A request to `base` + `path` signed now with `creds`, with an unsigned
/// payload.
fn request(
    creds: &Credentials,
    http: &reqwest::Client,
    method: reqwest::Method,
    base: &str,
    path: &str,
) -> reqwest::RequestBuilder {
    let host = base
        .split_once("://")
        .map_or(base, |(_, h)| h)
        .trim_end_matches('/');
    let date = format_amz_date(SystemTime::now());
    let headers = [
        ("host", vec![host]),
        ("x-amz-content-sha256", vec![UNSIGNED_PAYLOAD]),
        ("x-amz-date", vec![date.as_str()]),
    ];
    let auth = creds.authorization(
        method.as_str(),
        path,
        None,
        &headers,
        UNSIGNED_PAYLOAD,
        &date,
    );
    http.request(method, format!("{}{path}", base.trim_end_matches('/')))
        .header("x-amz-content-sha256", UNSIGNED_PAYLOAD)
        .header("x-amz-date", &date)
        .header("authorization", auth)
}

/// PUTs `count` objects of `size` bytes into `bucket` (made if missing),
/// then GETs them back.
///
/// # Errors
/// Any request failing.
pub async fn put_get(
    http: &reqwest::Client,
    url: &str,
    creds: &Credentials,
    bucket: &str,
    count: usize,
    size: u64,
    concurrency: usize,
) -> anyhow::Result<Report> {
    let r = request(
        creds,
        http,
        reqwest::Method::PUT,
        url,
        &format!("/{bucket}"),
    )
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
        let req = request(creds, http, reqwest::Method::PUT, url, &key(bucket, i));
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
        let req = request(creds, http, reqwest::Method::GET, url, &key(bucket, i));
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

//! Who sent an S3 request: AWS Signature Version 4 (header or presigned
//! query form) checked by [`crate::auth::sigv4`], or Version 2 by
//! [`crate::auth::sigv2`], against the secret of the access key
//! (`Accounts::s3_secret`), and the body wrapped so the bytes an operation
//! reads are the ones that were signed: a signed SHA-256 is checked as the
//! body ends, `aws-chunked` chunks are verified one by one
//! ([`crate::auth::aws_chunked`]). SigV2 signs no body (only a `Content-MD5`,
//! which the PUT checks). Requests without credentials go on as anonymous, and only
//! what an ACL opens to everyone lets them through (`super::acl`).

use super::checksum_body::Trailers;
use super::{S3Error, S3Result, S3State};
use crate::auth::aws_chunked::{verify_stream, ChunkSigner, ChunkedDecoder};
use crate::auth::sigv2;
use crate::auth::sigv4::{self, Payload};
use crate::records::AccountRecord;
use crate::store::Rejected;
use axum::body::Body;
use axum::http::request::Parts;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::time::SystemTime;

/// The account a request acts for (`None`: anonymous), and its body,
/// checked as it streams.
///
/// # Errors
/// `AccessDenied` with S3 keys disabled,
/// `InvalidAccessKeyId`, `SignatureDoesNotMatch`, and the other SigV4 and
/// SigV2 errors.
pub(crate) async fn authenticate(
    st: &S3State,
    parts: &Parts,
    body: Body,
) -> S3Result<(Option<AccountRecord>, Body, Trailers)> {
    let trailers = Trailers::default();
    let req = sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
    };
    if let Some(auth) = sigv2::parse(&req)? {
        let (account, secret) = secret_of(st, &auth.access_key_id).await?;
        let host_bucket = super::server::virtual_host_bucket(&st.cfg, &parts.headers);
        sigv2::verify(
            &req,
            host_bucket.as_deref(),
            &auth,
            &secret,
            SystemTime::now(),
        )?;
        return Ok((Some(account), body, trailers));
    }
    let Some(auth) = sigv4::parse(&req)? else {
        // Anonymous: only what an ACL opens to everyone (`s3::acl`).
        return Ok((None, body, trailers));
    };
    let (account, secret) = secret_of(st, &auth.access_key_id).await?;
    let verified = sigv4::verify(&req, &auth, &secret, SystemTime::now())?;
    let body = match &verified.payload {
        Payload::Unsigned => body,
        Payload::Sha256(want) => sha256_checked(body, want.clone()),
        Payload::Streaming => chunked(body, Some(ChunkSigner::new(&verified)), false, &trailers),
        Payload::StreamingTrailer => {
            chunked(body, Some(ChunkSigner::new(&verified)), true, &trailers)
        }
        Payload::UnsignedTrailer => chunked(body, None, true, &trailers),
    };
    Ok((Some(account), body, trailers))
}

/// An `aws-chunked` body, decoded (and its chunks verified) as it streams;
/// its trailers land in `trailers` before it ends.
fn chunked(body: Body, signer: Option<ChunkSigner>, trailer: bool, trailers: &Trailers) -> Body {
    let decoder = ChunkedDecoder::with(signer, trailer).trailers_into(trailers.clone());
    let stream = verify_stream(body.into_data_stream(), decoder)
        .map(|r| r.map_err(|e| Rejected::new(e).into_io()));
    Body::from_stream(stream)
}

/// The account holding `access_key_id`, and its secret.
async fn secret_of(st: &S3State, access_key_id: &str) -> S3Result<(AccountRecord, String)> {
    let sealer =
        st.app.settings.s3_secrets.as_ref().ok_or_else(|| {
            S3Error::AccessDenied("S3 keys are not enabled on this server".into())
        })?;
    st.app
        .accounts
        .s3_secret(access_key_id, sealer)
        .await?
        .ok_or(S3Error::InvalidAccessKeyId)
}

/// The body, failing at its end unless its SHA-256 is `want`.
fn sha256_checked(body: Body, want: String) -> Body {
    super::checksum_body::verified_at_end(
        body,
        super::checksum::Hasher::Sha256Hex(Sha256::new()),
        want,
        || S3Error::ContentSha256Mismatch,
    )
}

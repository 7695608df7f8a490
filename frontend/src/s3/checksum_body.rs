//! A body checked as it streams: hashed frame by frame, and at its end
//! compared with what the client said (a header, or an `aws-chunked`
//! trailer the decoder has read by then). A mismatch fails the stream with
//! a [`Rejected`] cause, so the upload commits nothing and answers with
//! that error; a match leaves the value in a [`Verified`] slot for the
//! record.

use super::checksum::{Algorithm, Hasher, Requested, Source};
use super::S3Error;
use crate::store::Rejected;
use axum::body::Body;
use futures::StreamExt;
use std::sync::{Arc, Mutex, OnceLock};

/// The trailers of an `aws-chunked` body, filled by its decoder when it
/// reads the final chunk (lower-case names).
#[derive(Debug, Clone, Default)]
pub(crate) struct Trailers(Arc<Mutex<Vec<(String, String)>>>);

impl Trailers {
    pub(crate) fn set(&self, all: Vec<(String, String)>) {
        if let Ok(mut t) = self.0.lock() {
            *t = all;
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<String> {
        let t = self.0.lock().ok()?;
        t.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    }
}

/// The checksum of a body once it ended and matched.
#[derive(Debug, Clone, Default)]
pub(crate) struct Verified(Arc<OnceLock<(Algorithm, String)>>);

impl Verified {
    /// `(header name, base64 value)`, as records keep it.
    pub(crate) fn get(&self) -> Option<(String, String)> {
        self.0
            .get()
            .map(|(a, v)| (a.header().to_string(), v.clone()))
    }
}

/// `body`, checked against `want`; the returned slot holds the value once
/// the body ended well.
pub(crate) fn checked(body: Body, want: &Requested, trailers: &Trailers) -> (Body, Verified) {
    let slot = Verified::default();
    let algorithm = want.algorithm;
    let (source, trailers, out) = (want.source.clone(), trailers.clone(), slot.clone());
    let check = move |got: String| -> Result<(), S3Error> {
        let expected = match &source {
            Source::Header(v) => Some(v.clone()),
            Source::Trailer => Some(trailers.get(algorithm.header()).ok_or_else(|| {
                S3Error::InvalidRequest(format!("the {} trailer is missing", algorithm.header()))
            })?),
            Source::Compute => None,
        };
        if expected.is_some_and(|e| e != got) {
            return Err(S3Error::BadDigest);
        }
        let _ = out.0.set((algorithm, got));
        Ok(())
    };
    (at_end(body, algorithm.hasher(), check), slot)
}

/// The body, failing at its end unless its digest is `want`; the
/// mismatch is `mismatch()`.
pub(crate) fn verified_at_end(
    body: Body,
    hasher: Hasher,
    want: String,
    mismatch: fn() -> S3Error,
) -> Body {
    at_end(body, hasher, move |got| {
        if got == want {
            Ok(())
        } else {
            Err(mismatch())
        }
    })
}

/// The body as it streams, hashed; at its end `check` judges the digest.
fn at_end(
    body: Body,
    hasher: Hasher,
    check: impl Fn(String) -> Result<(), S3Error> + Send + Sync + 'static,
) -> Body {
    let check = Arc::new(check);
    let state = Some((body.into_data_stream(), hasher));
    let stream = futures::stream::unfold(state, move |state| {
        let check = check.clone();
        async move {
            let (mut inner, mut hasher) = state?;
            match inner.next().await {
                Some(Ok(b)) => {
                    hasher.update(&b);
                    Some((Ok(b), Some((inner, hasher))))
                }
                Some(Err(e)) => Some((Err(std::io::Error::other(e)), None)),
                None => match check(hasher.finish()) {
                    Ok(()) => None,
                    Err(e) => Some((Err(Rejected::new(e).into_io()), None)),
                },
            }
        }
    });
    Body::from_stream(stream.boxed())
}

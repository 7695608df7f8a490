//! Checksums of multipart uploads: the algorithm and type an upload is
//! created with (AWS's defaults and allowed pairs), the checksum each part
//! is checked against (or gets computed), and the object's value combined
//! from its parts' at completion.

use super::checksum::{self, Algorithm, Requested, Source};
use super::crc_combine::{self, Kind};
use super::records::{PartRecord, UploadRecord};
use super::{S3Error, S3Req, S3Result};

/// `x-amz-checksum-algorithm` and `x-amz-checksum-type` of a new upload,
/// with AWS's defaults and combinations: CRC64NVME is full-object only,
/// the SHAs composite only, the other CRCs composite unless asked.
pub(crate) fn upload_checksum(req: &S3Req) -> S3Result<(Option<Algorithm>, Option<Kind>)> {
    let algorithm = checksum::named_algorithm(&req.headers)?;
    let kind = match req.header("x-amz-checksum-type") {
        None => None,
        Some(t) => Some(Kind::from_name(t).ok_or_else(|| {
            S3Error::InvalidRequest("Value for x-amz-checksum-type header is invalid.".into())
        })?),
    };
    let bad = |m: &str| Err(S3Error::InvalidRequest(m.to_string()));
    match (algorithm, kind) {
        (None, None) => Ok((None, None)),
        (None, Some(_)) => bad("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."),
        (Some(a), Some(Kind::FullObject)) if !a.is_crc() => {
            bad("The FULL_OBJECT checksum type cannot be used with the SHA1 or SHA256 algorithms.")
        }
        (Some(Algorithm::Crc64Nvme), Some(Kind::Composite)) => {
            bad("The COMPOSITE checksum type cannot be used with the CRC64NVME algorithm.")
        }
        (Some(Algorithm::Crc64Nvme), None) => Ok((algorithm, Some(Kind::FullObject))),
        (Some(_), None) => Ok((algorithm, Some(Kind::Composite))),
        (Some(_), Some(_)) => Ok((algorithm, kind)),
    }
}

/// The checksum an UploadPart body is checked against: the one it sent,
/// else, for an upload created with an algorithm, one computed.
///
/// # Errors
/// `InvalidRequest` for a checksum of another algorithm than the upload's.
pub(crate) fn part_checksum(req: &S3Req, up: &UploadRecord) -> S3Result<Option<Requested>> {
    let of_upload = up
        .checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name);
    match (checksum::requested(&req.headers)?, of_upload) {
        (Some(r), Some(a)) if r.algorithm != a => Err(S3Error::InvalidRequest(format!(
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
            a.name().to_lowercase(),
            r.algorithm.name().to_lowercase()
        ))),
        (Some(r), _) => Ok(Some(r)),
        (None, Some(algorithm)) => Ok(Some(Requested {
            algorithm,
            source: Source::Compute,
        })),
        (None, None) => Ok(None),
    }
}

/// The object's checksum from its parts', for an upload created with an
/// algorithm (every part then has one): composite or full-object as the
/// upload said. Also each part's value, for GetObjectAttributes and
/// `partNumber` reads.
pub(crate) fn combined_checksum(
    up: &UploadRecord,
    recs: &[PartRecord],
) -> (Option<(String, String)>, Vec<String>) {
    let Some(a) = up
        .checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name)
    else {
        return (None, Vec::new());
    };
    let values: Option<Vec<String>> = recs
        .iter()
        .map(|r| match &r.checksum {
            Some((h, v)) if Algorithm::from_header(h) == Some(a) => Some(v.clone()),
            _ => None,
        })
        .collect();
    let Some(values) = values else {
        return (None, Vec::new());
    };
    let kind = up.checksum_type.as_deref().and_then(Kind::from_name);
    let whole = if kind == Some(Kind::FullObject) {
        let sized: Vec<(String, u64)> = values
            .iter()
            .zip(recs)
            .map(|(v, r)| (v.clone(), r.part.size()))
            .collect();
        crc_combine::full_object(a, &sized)
    } else {
        crc_combine::composite(a, &values)
    };
    (whole.map(|w| (a.header().to_string(), w)), values)
}

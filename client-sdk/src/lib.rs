//! Client SDK for the Manta API, and the public API types the frontend
//! serves ([`types`]).
//!
//! - [`Client`] (`client`): a keep-alive connection pool, HTTP Signature
//!   signing with a fresh `Date` per request, retries with back-off for
//!   idempotent requests on connection errors and 503.
//! - Objects (`objects`): [`Client::put`] streams any `AsyncRead`;
//!   [`Client::put_file`] / [`Client::put_bytes`] retry; [`Client::get`]
//!   streams (ranges, conditions); [`Client::info`] (HEAD),
//!   [`Client::delete`], [`Client::link`] (snaplinks).
//! - Metadata (`chattr`): [`Client::chattr`] (PutMetadata) and
//!   [`Client::chmod`] with [`RoleTagChange`] (mchmod's `+-=` role tags).
//! - [`ObjectBody`] (`body`, with [`Verifier`] in `verify`): a `GET`'s
//!   body, hashed as it streams (BLAKE3 from `x-content-blake3`, else
//!   `Content-MD5`) and counted; a mismatch ends it with
//!   [`Error::Checksum`] ([`Mismatch`]) instead of its end.
//! - Directories (`dirs`): [`Client::list`] pages with Manta's inclusive
//!   markers; [`Client::mkdir`], [`Client::mkdirp`], [`Client::rmdir`].
//! - Multipart uploads (`uploads`): [`Client::create_upload`],
//!   [`Client::upload_part`], [`Client::commit_upload`],
//!   [`Client::abort_upload`], [`Client::upload_state`],
//!   [`Client::list_uploads`], [`Client::list_parts`].
//! - [`Client::sign_url`] ([`presign`]): msign's presigned URLs, and the
//!   canonical form the frontend verifies them with; [`console`]: the web
//!   console's one-time sign-in links (`mconsole`).
//! - [`sigv4`]: AWS Signature Version 4 for the S3 API, the functions the
//!   frontend verifies with and clients (the bench) sign with; [`sigv2`]:
//!   the older Signature Version 2 (`aws s3 presign`'s URLs).
//! - [`jobs`]: compute jobs: [`Client::create_job`],
//!   [`Client::add_job_inputs`], [`Client::end_job_input`],
//!   [`Client::cancel_job`], [`Client::job`], [`Client::list_jobs`],
//!   [`Client::job_outputs`] (and inputs, failures, errors), with the job
//!   JSON types ([`JobSpec`], [`Job`], [`JobError`]).
//! - [`sign`]: SSH keys from ssh-agent or `~/.ssh` (RSA, ECDSA, Ed25519),
//!   matched by MD5 or SHA256 fingerprint; the HTTP Signature signing
//!   string and key fingerprints the frontend also uses.
//! - [`Config`] (`config`): `MANTA_URL`, `MANTA_USER`, `MANTA_SUBUSER`,
//!   `MANTA_KEY_ID`, `MANTA_TLS_INSECURE`, `MANTA_CA_FILE`, `MANTA_ROLE`,
//!   `MANTA_NO_AUTH`; [`tls`]: how the server's certificate is verified
//!   (the bundled roots plus a CA file, or not at all).
//! - [`Error`] (`error`): typed errors carrying Manta's error code.
//! - [`path`]: `~~` expansion, normalisation, segment encoding and the one
//!   RFC 3986 encoder ([`path::rfc3986`]).
//!
//! The m* commands (mput, mget, mls, ...) are this crate's binaries
//! (`src/bin`, with `mjob` for jobs); they are documented in `docs/cli.md`.

mod body;
mod chattr;
mod client;
mod config;
pub mod console;
mod dirs;
mod error;
mod info;
pub mod jobs;
mod objects;
pub mod path;
pub mod presign;
pub mod sign;
pub mod sigv2;
pub mod sigv4;
pub mod tls;
pub mod types;
mod uploads;
mod verify;

#[cfg(test)]
mod path_prop;
#[cfg(any(test, feature = "prop"))]
#[doc(hidden)]
pub mod prop;
#[cfg(test)]
mod sigv4_prop;

pub use body::ObjectBody;
pub use chattr::RoleTagChange;
pub use client::Client;
pub use config::Config;
pub use dirs::ListOptions;
pub use error::{Error, Result};
pub use info::ObjectInfo;
pub use jobs::{Job, JobError, JobErrorCode, JobSpec, JobState, JobStats, Phase, PhaseType};
pub use objects::{ByteStream, GetOptions, GetResponse, Progress, PutOptions, PutResult};
pub use presign::{url_host, SignUrlOptions};
pub use sign::Signer;
pub use types::{DirEntry, EntryType, ErrorBody};
pub use uploads::{Upload, UploadState};
pub use verify::{Mismatch, Verifier};

//! One test cluster kit for every crate's integration tests.
//!
//! Before it, `frontend`, `client-sdk` and the kill tests each started a
//! cluster their own way, and a fix to one (ports, key set-up, heartbeat
//! timing) did not reach the others. Now they all import this module:
//!
//! - [`TestCluster`]: shards, storage nodes (with job agents), the Manta
//!   and S3 listeners as tasks of this process on `127.0.0.1:0`, in a temp
//!   dir; the test accounts ([`USER`], [`OTHER`]) with SSH keys and S3
//!   keys; a real SDK client signed as [`USER`]; raw signed `reqwest`
//!   requests ([`TestCluster::req`]); stopping and restarting a node
//!   (through [`TestCluster::cluster`]); running commands with the Manta
//!   environment of [`USER`] ([`TestCluster::run_with`]). With
//!   `Options::tls` the APIs speak HTTPS with a dev CA's certificate that
//!   the kit's clients trust.
//! - [`ProcessCluster`]: the same, but its storage nodes are real `mantad
//!   storage` processes, for kill -9 tests.
//! - helpers the suites share: [`assert_error`], [`bytes`], [`files_under`],
//!   the ssh-keygen wrappers in [`ssh`], the command output checks in
//!   [`commands`].
//!
//! Requests are signed with [`client_sdk::Signer`] (wrapped by
//! [`TestSigner`]): the SDK is the client half of Manta auth, so the tests
//! sign the way real clients do.
//!
//! Why a public, `#[doc(hidden)]` module rather than a cargo feature: the
//! crates' `[dev-dependencies]` need no feature lines, and `frontend`'s own
//! integration tests (which cannot enable a feature of their own package
//! without a self-dependency) see it too. It costs `mantad` nothing: the
//! linker drops what the binary never calls. Everything here panics on
//! failure: it is test set-up, and a loud failure is the point.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

mod cluster;
pub mod commands;
mod data;
mod http;
mod process;
mod signer;
pub mod ssh;

pub use cluster::{Options, S3Key, TestCluster};
pub use commands::{fails_with, ok, stderr, stdout};
pub use data::{bytes, files_under};
pub use http::{assert_error, header, md5_b64};
pub use process::{spawn_node, ProcessCluster};
pub use signer::{sdk_client, sdk_config, TestSigner};
pub use ssh::{keygen, md5_fp, sha256_fp};

use std::time::Duration;

/// The account the tests act as.
pub const USER: &str = "tester";
/// A second account, for cross-account checks.
pub const OTHER: &str = "other";
/// Nodes beat every 200 ms; a loaded 2-core CI machine can delay beats by
/// seconds, so a node counts as dead only after this.
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(4);

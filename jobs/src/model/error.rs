//! Job error objects of `live/err` and `err.txt` (muskie
//! `lib/jobs/error.js` projecting Marlin's record), MANTA-API.md §4.4. The
//! types are the SDK's, one definition for client and server.

pub use client_sdk::jobs::{JobError, JobErrorCode};

//! Unit tests of the job model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod job_tests;
mod spec_tests;

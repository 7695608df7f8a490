//! Integration tests: real files in temp dirs, real HTTP on 127.0.0.1:0.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod big;
mod common;
mod gc;
mod heartbeat;
mod http;
mod inflight;
mod listing;
mod scrub;
mod store;
mod verify;

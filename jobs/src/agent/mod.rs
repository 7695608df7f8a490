//! The job agent: runs tasks on the storage node that holds their input.

pub mod wire;

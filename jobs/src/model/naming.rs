//! Where task outputs go (MANTA-API.md §4.5) and how `msplit` routes a
//! key to a reducer (§4.6).

use md5::{Digest, Md5};

/// `/:login/jobs/:id/stor`, the job's output directory.
pub(crate) fn job_stor_dir(login: &str, job_id: &str) -> String {
    format!("/{login}/jobs/{job_id}/stor")
}

/// The base name of a map task's outputs: the input path, minus the job's
/// stor prefix when the input is itself an output of this job.
pub(crate) fn map_base(login: &str, job_id: &str, input: &str) -> String {
    let stor = job_stor_dir(login, job_id);
    match input.strip_prefix(&stor) {
        Some(rest) if rest.starts_with('/') => rest.to_string(),
        _ => input.to_string(),
    }
}

/// `$MANTA_OUTPUT_BASE` of a map task: `/:login/jobs/:id/stor<input>.<phase>.`.
pub(crate) fn map_output_base(login: &str, job_id: &str, input: &str, phase: u32) -> String {
    format!(
        "{}{}.{phase}.",
        job_stor_dir(login, job_id),
        map_base(login, job_id, input)
    )
}

/// `$MANTA_OUTPUT_BASE` of a reduce task: `/:login/jobs/:id/stor/reduce.<phase>.`.
pub(crate) fn reduce_output_base(login: &str, job_id: &str, phase: u32) -> String {
    format!("{}/reduce.{phase}.", job_stor_dir(login, job_id))
}

/// A map task's stdout object: `/:login/jobs/:id/stor/<input path>.<phase>.<task>`.
pub fn map_output(login: &str, job_id: &str, input: &str, phase: u32, task: &str) -> String {
    format!("{}{task}", map_output_base(login, job_id, input, phase))
}

/// A reduce task's stdout object: `/:login/jobs/:id/stor/reduce.<phase>.<task>`.
pub fn reduce_output(login: &str, job_id: &str, phase: u32, task: &str) -> String {
    format!("{}{task}", reduce_output_base(login, job_id, phase))
}

/// A failed task's saved stderr: `<output base>err.<task>`, i.e.
/// `…<base>.<phase>.err.<task>`. `base` is an output base from
/// [`map_output_base`] or [`reduce_output_base`].
pub(crate) fn stderr_object(output_base: &str, task: &str) -> String {
    format!("{output_base}err.{task}")
}

/// Directory of a phase's saved cores: `/:login/jobs/:id/stor/cores/<phase>`.
pub fn cores_dir(login: &str, job_id: &str, phase: u32) -> String {
    format!("{}/cores/{phase}", job_stor_dir(login, job_id))
}

/// `msplit`'s reducer for `key` among `count` reducers, as
/// manta-compute-bin computes it: the first 8 hex digits of the MD5 of
/// the key (i.e. the first 4 digest bytes, big-endian) as an integer,
/// modulo `count`. `count` 0 is treated as 1.
pub fn msplit_reducer(key: &[u8], count: u32) -> u32 {
    msplit_reducer_of_digest(Md5::digest(key).into(), count)
}

/// [`msplit_reducer`] of a key whose MD5 `digest` was computed as the key
/// was built.
pub(crate) fn msplit_reducer_of_digest(d: [u8; 16], count: u32) -> u32 {
    let first = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
    first % count.max(1)
}

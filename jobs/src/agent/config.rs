//! The job agent's keys in a storage node's config file. The agent is part
//! of the storage role, so its keys sit in the same table as the node's
//! (`jobs_runtime`, `job_slots`; the storage role flattens [`JobsConfig`]
//! into `storage_node::config::NodeConfig`), but their meaning, defaults
//! and checks live here, beside the agent that uses them.

use serde::Deserialize;

use crate::image::ImageLimits;
use crate::runtime::RuntimeKind;
use crate::{Error, Result};

/// The agent's keys, as written in TOML.
#[derive(Deserialize, Debug, Clone)]
pub struct JobsConfig {
    /// Runtime of job tasks: `runsc` (gVisor, the default), `runc`, or
    /// `off` to run no job agent on this node.
    #[serde(default)]
    pub jobs_runtime: RuntimeChoice,
    /// Map tasks (or batches) run at once; reducers get four times as many
    /// slots of their own.
    #[serde(default = "default_slots")]
    pub job_slots: u32,
    // The caps on what a task and an image may hand the agent; every key
    // is optional (defaults in [`SpoolLimits`] and [`ImageLimits`]). Plain
    // fields, not a flattened struct: the storage node's table flattens
    // this one and denies unknown keys, which a second flatten breaks.
    /// Bytes of one output (`mpipe`, `mtee`, stdout of a batch item) or
    /// `msplit` input the agent takes from a task's spool.
    pub job_output_max_bytes: Option<String>,
    /// Records (`mpipe`, `mcat`, `mtee`, `msplit` calls) one task may leave.
    pub job_spool_max_records: Option<usize>,
    /// Longest line `msplit` routes.
    pub job_msplit_max_line_bytes: Option<String>,
    /// Bytes of an image archive as given (an image object's size).
    pub job_image_max_compressed_bytes: Option<String>,
    /// Bytes of an image once decompressed (its archive and layer tars).
    pub job_image_max_unpacked_bytes: Option<String>,
    /// Entries in an image's archive and layers, together.
    pub job_image_max_files: Option<u64>,
    /// Size of each manifest, index and config JSON of an image.
    pub job_image_max_json_bytes: Option<String>,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            jobs_runtime: RuntimeChoice::default(),
            job_slots: default_slots(),
            job_output_max_bytes: None,
            job_spool_max_records: None,
            job_msplit_max_line_bytes: None,
            job_image_max_compressed_bytes: None,
            job_image_max_unpacked_bytes: None,
            job_image_max_files: None,
            job_image_max_json_bytes: None,
        }
    }
}

/// Caps on what the agent reads from a task's spool after it exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolLimits {
    pub max_output_bytes: u64,
    pub max_records: usize,
    pub max_line_bytes: u64,
}

impl Default for SpoolLimits {
    fn default() -> Self {
        SpoolLimits {
            max_output_bytes: 64 << 30,
            max_records: 100_000,
            max_line_bytes: 16 << 20,
        }
    }
}

/// Everything the agent caps, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SandboxLimits {
    pub spool: SpoolLimits,
    pub image: ImageLimits,
}

impl JobsConfig {
    /// The limits, defaults where a key is absent.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a size that does not parse or is zero.
    fn limits(&self) -> Result<SandboxLimits> {
        let (spool, image) = (SpoolLimits::default(), ImageLimits::default());
        let count = |key, value: Option<u64>, default| match value {
            Some(0) => Err(Error::InvalidConfig {
                key,
                reason: "must be more than zero".into(),
            }),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        let records = count(
            "job_spool_max_records",
            self.job_spool_max_records.map(|n| n as u64),
            spool.max_records as u64,
        )?;
        Ok(SandboxLimits {
            spool: SpoolLimits {
                max_output_bytes: size(
                    "job_output_max_bytes",
                    &self.job_output_max_bytes,
                    spool.max_output_bytes,
                )?,
                max_records: usize::try_from(records).unwrap_or(usize::MAX),
                max_line_bytes: size(
                    "job_msplit_max_line_bytes",
                    &self.job_msplit_max_line_bytes,
                    spool.max_line_bytes,
                )?,
            },
            image: ImageLimits {
                compressed_bytes: size(
                    "job_image_max_compressed_bytes",
                    &self.job_image_max_compressed_bytes,
                    image.compressed_bytes,
                )?,
                unpacked_bytes: size(
                    "job_image_max_unpacked_bytes",
                    &self.job_image_max_unpacked_bytes,
                    image.unpacked_bytes,
                )?,
                files: count("job_image_max_files", self.job_image_max_files, image.files)?,
                json_bytes: size(
                    "job_image_max_json_bytes",
                    &self.job_image_max_json_bytes,
                    image.json_bytes,
                )?,
            },
        })
    }
}

/// A positive size, bare or with a unit; `default` when absent.
fn size(key: &'static str, text: &Option<String>, default: u64) -> Result<u64> {
    let Some(text) = text else {
        return Ok(default);
    };
    match text.parse::<bytesize::ByteSize>() {
        Ok(b) if b.as_u64() > 0 => Ok(b.as_u64()),
        Ok(_) => Err(Error::InvalidConfig {
            key,
            reason: "must be more than zero".into(),
        }),
        Err(e) => Err(Error::InvalidConfig {
            key,
            reason: format!("{text:?} is no size (e.g. \"16GiB\"): {e}"),
        }),
    }
}

/// `jobs_runtime`: a runtime, or no agent at all.
#[derive(Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeChoice {
    #[default]
    Runsc,
    Runc,
    Off,
}

/// How a node's job agent runs tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentSettings {
    pub runtime: RuntimeKind,
    /// Tasks run at once (at least 1); more wait in the agent's queue.
    pub slots: u32,
    pub limits: SandboxLimits,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            runtime: RuntimeKind::Runsc,
            slots: default_slots(),
            limits: SandboxLimits::default(),
        }
    }
}

fn default_slots() -> u32 {
    8
}

impl JobsConfig {
    /// The agent this node runs; `None` for `jobs_runtime = "off"`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero `job_slots` or a bad limit.
    pub fn validate(&self) -> Result<Option<AgentSettings>> {
        let runtime = match self.jobs_runtime {
            RuntimeChoice::Off => return Ok(None),
            RuntimeChoice::Runsc => RuntimeKind::Runsc,
            RuntimeChoice::Runc => RuntimeKind::Runc,
        };
        if self.job_slots == 0 {
            return Err(Error::InvalidConfig {
                key: "job_slots",
                reason: "must be at least 1 (jobs_runtime = \"off\" runs no agent)".into(),
            });
        }
        Ok(Some(AgentSettings {
            runtime,
            slots: self.job_slots,
            limits: self.limits()?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> JobsConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_and_keys() {
        assert_eq!(
            parse("").validate().unwrap(),
            Some(AgentSettings::default())
        );
        let runc = parse("jobs_runtime = \"runc\"\njob_slots = 2")
            .validate()
            .unwrap();
        assert_eq!(
            runc,
            Some(AgentSettings {
                runtime: RuntimeKind::Runc,
                slots: 2,
                limits: SandboxLimits::default(),
            })
        );
        let capped = parse("job_image_max_unpacked_bytes = \"64MiB\"\njob_spool_max_records = 5")
            .validate()
            .unwrap()
            .unwrap();
        assert_eq!(capped.limits.image.unpacked_bytes, 64 << 20);
        assert_eq!(capped.limits.spool.max_records, 5);
        assert_eq!(parse("jobs_runtime = \"off\"").validate().unwrap(), None);
    }

    #[test]
    fn parses_inside_the_storage_node_table() {
        let text = "listen = \"127.0.0.1:1\"\ndata = \"/d\"\nmetadata_shards = []\n\
                    cluster_secret_file = \"/k\"\n\
                    jobs_runtime = \"runc\"\njob_slots = 8\njob_output_max_bytes = \"1GiB\"\n";
        let cfg: storage_node::config::NodeConfig<JobsConfig> = toml::from_str(text).unwrap();
        let agent = cfg.extra.validate().unwrap().unwrap();
        assert_eq!(agent.slots, 8);
        assert_eq!(agent.limits.spool.max_output_bytes, 1 << 30);
    }

    #[test]
    fn refused() {
        let err = parse("job_slots = 0").validate().unwrap_err().to_string();
        assert!(err.contains("job_slots"), "{err}");
        let err = parse("job_output_max_bytes = \"lots\"")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("job_output_max_bytes"), "{err}");
        let err = toml::from_str::<JobsConfig>("jobs_runtime = \"docker\"").unwrap_err();
        assert!(err.to_string().contains("runsc"), "{err}");
    }
}

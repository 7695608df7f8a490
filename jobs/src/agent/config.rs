//! The job agent's keys in a storage node's config file. The agent is part
//! of the storage role, so its keys sit in the same table as the node's
//! (`jobs_runtime`, `job_slots`; the storage role flattens [`JobsConfig`]
//! into `storage_node::config::NodeConfig`), but their meaning, defaults
//! and checks live here, beside the agent that uses them.

use std::path::PathBuf;

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
    /// The Manta API as this node's agent reaches it for the tasks'
    /// toolboxes and mlogin sessions (`https://manta.example.com`);
    /// default: the URL the frontend hands out with each task (its own
    /// `listen` address, `https://` when it speaks TLS).
    pub job_api_url: Option<String>,
    /// CA certificates (PEM) the agent trusts for an `https://` job API,
    /// besides the Mozilla roots: the cluster's private CA, or `mantad
    /// dev`'s `tls/ca.pem`.
    pub job_api_ca_file: Option<PathBuf>,
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
            job_api_url: None,
            job_api_ca_file: None,
        }
    }
}

/// How the agent reaches the Manta API for its tasks (`job_api_url`,
/// `job_api_ca_file`): task credentials travel only there, in TLS
/// verified with the roots and the CA file when the URL is `https://`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiAccess {
    /// Replaces the frontend's URL of every task, without a trailing `/`.
    pub url: Option<String>,
    pub ca_file: Option<PathBuf>,
}

impl ApiAccess {
    /// Checks the URL's form and that the CA file loads.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the key.
    pub fn validate(&self) -> Result<()> {
        if let Some(url) = &self.url {
            let ok = reqwest::Url::parse(url).ok().is_some_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some()
                    && u.query().is_none()
                    && u.username().is_empty()
                    && u.password().is_none()
            });
            if !ok {
                return Err(Error::InvalidConfig {
                    key: "job_api_url",
                    reason: format!("{url:?} is not an http:// or https:// URL of a host"),
                });
            }
        }
        if self.ca_file.is_some()
            && self
                .url
                .as_deref()
                .is_some_and(|u| u.starts_with("http://"))
        {
            return Err(Error::InvalidConfig {
                key: "job_api_ca_file",
                reason: "is for an https:// job_api_url; this one is plain HTTP".into(),
            });
        }
        if let Some(ca) = &self.ca_file {
            client_sdk::tls::tls_config(Some(ca), false).map_err(|e| Error::InvalidConfig {
                key: "job_api_ca_file",
                reason: e.to_string(),
            })?;
        }
        Ok(())
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSettings {
    pub runtime: RuntimeKind,
    /// Tasks run at once (at least 1); more wait in the agent's queue.
    pub slots: u32,
    pub limits: SandboxLimits,
    /// Where tasks' toolbox requests and mlogin sessions go.
    pub api: ApiAccess,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            runtime: RuntimeKind::Runsc,
            slots: default_slots(),
            limits: SandboxLimits::default(),
            api: ApiAccess::default(),
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
    /// [`Error::InvalidConfig`] for zero `job_slots`, a bad limit, a
    /// `job_api_url` that is no http(s) URL, a `job_api_ca_file` that
    /// does not load.
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
        let api = ApiAccess {
            url: self
                .job_api_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string()),
            ca_file: self.job_api_ca_file.clone(),
        };
        api.validate()?;
        Ok(Some(AgentSettings {
            runtime,
            slots: self.job_slots,
            limits: self.limits()?,
            api,
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
                api: ApiAccess::default(),
            })
        );
        let capped = parse("job_image_max_unpacked_bytes = \"64MiB\"\njob_spool_max_records = 5")
            .validate()
            .unwrap()
            .unwrap();
        assert_eq!(capped.limits.image.unpacked_bytes, 64 << 20);
        assert_eq!(capped.limits.spool.max_records, 5);
        assert_eq!(parse("jobs_runtime = \"off\"").validate().unwrap(), None);
        let api = parse("job_api_url = \"https://manta.example.com:8443/\"")
            .validate()
            .unwrap()
            .unwrap()
            .api;
        assert_eq!(api.url.as_deref(), Some("https://manta.example.com:8443"));
    }

    #[test]
    fn job_api_keys_are_checked() {
        let err = parse("job_api_url = \"http://x\"\njob_api_ca_file = \"/ca.pem\"")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("job_api_ca_file"), "{err}");
        for bad in ["manta.example.com", "ftp://x", "https://", "https://u:p@x"] {
            let err = parse(&format!("job_api_url = {bad:?}"))
                .validate()
                .unwrap_err()
                .to_string();
            assert!(err.contains("job_api_url"), "{bad}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "no PEM\n").unwrap();
        for file in [dir.path().join("missing.pem"), empty] {
            let err = parse(&format!(
                "job_api_ca_file = {:?}",
                file.display().to_string()
            ))
            .validate()
            .unwrap_err()
            .to_string();
            assert!(err.contains("job_api_ca_file"), "{err}");
        }
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

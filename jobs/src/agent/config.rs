//! The job agent's keys in a storage node's config file. The agent is part
//! of the storage role, so its keys sit in the same table as the node's
//! (`jobs_runtime`, `job_slots`; the storage role flattens [`JobsConfig`]
//! into `storage_node::config::NodeConfig`), but their meaning, defaults
//! and checks live here, beside the agent that uses them.

use serde::Deserialize;

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
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            jobs_runtime: RuntimeChoice::default(),
            job_slots: default_slots(),
        }
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
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            runtime: RuntimeKind::Runsc,
            slots: default_slots(),
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
    /// [`Error::InvalidConfig`] for zero `job_slots`.
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
                slots: 2
            })
        );
        assert_eq!(parse("jobs_runtime = \"off\"").validate().unwrap(), None);
    }

    #[test]
    fn refused() {
        let err = parse("job_slots = 0").validate().unwrap_err().to_string();
        assert!(err.contains("job_slots"), "{err}");
        let err = toml::from_str::<JobsConfig>("jobs_runtime = \"docker\"").unwrap_err();
        assert!(err.to_string().contains("runsc"), "{err}");
    }
}

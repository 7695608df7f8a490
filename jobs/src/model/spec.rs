//! The CreateJob body (`POST /:login/jobs`), MANTA-API.md §4.2: Marlin's
//! `sHttpJobInput` schema, `additionalProperties: false` at every level.

use serde::{Deserialize, Serialize};

/// Memory limits a phase may ask for, in MB.
pub const MEMORY_MB_ALLOWED: [u32; 7] = [128, 256, 512, 1024, 2048, 4096, 8192];
/// Disk quotas a phase may ask for, in GB.
pub const DISK_GB_ALLOWED: [u32; 10] = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/// Memory when a phase names none (agent `zoneDefaults`).
pub const DEFAULT_MEMORY_MB: u32 = 1024;
/// Disk when a phase names none (agent `zoneDefaults`).
pub const DEFAULT_DISK_GB: u32 = 8;
/// Largest reducer `count` (the docs' bound; Marlin's schema said 128).
pub const MAX_REDUCERS: u32 = 1024;

/// A job as posted to `POST /:login/jobs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Free-form name; node-manta sends `""` when none is given.
    #[serde(default)]
    pub name: String,
    /// Transient jobs (mlogin) are not listed like ordinary ones.
    #[serde(default)]
    pub transient: bool,
    /// At least one phase.
    pub phases: Vec<Phase>,
}

/// The kind of a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PhaseType {
    /// One task per input object, run where the object is stored.
    #[default]
    #[serde(rename = "map")]
    Map,
    /// `count` tasks fed the phase's inputs on stdin.
    #[serde(rename = "reduce")]
    Reduce,
    /// Legacy spelling of `map` still accepted by Marlin.
    #[serde(rename = "storage-map")]
    StorageMap,
}

impl PhaseType {
    /// True for `map` and the legacy `storage-map`.
    pub fn is_map(self) -> bool {
        matches!(self, PhaseType::Map | PhaseType::StorageMap)
    }
}

/// One phase of a job. Optional fields stay `None` when absent so that the
/// phase is echoed back in the job object exactly as posted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// `map` (default) or `reduce`.
    #[serde(rename = "type", default)]
    pub phase_type: PhaseType,
    /// The bash command line run for every task.
    pub exec: String,
    /// Bash run once per container before the first task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<String>,
    /// Objects made available in the container under `/assets/<path>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets: Option<Vec<String>>,
    /// Number of reducers (reduce phases only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Memory limit in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
    /// Disk quota in GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<u32>,
    /// Image version range (Manta: a semver range such as `>=13.1.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Opaque user argument object passed through to the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uarg: Option<serde_json::Value>,
}

impl Phase {
    /// Reducers this phase runs: `count` or 1 for reduce, 0 for map.
    pub fn reducers(&self) -> u32 {
        if self.phase_type.is_map() {
            0
        } else {
            self.count.unwrap_or(1)
        }
    }
    /// Memory limit in MB, defaulted.
    pub fn memory_mb(&self) -> u32 {
        self.memory.unwrap_or(DEFAULT_MEMORY_MB)
    }
    /// Disk quota in GB, defaulted.
    pub fn disk_gb(&self) -> u32 {
        self.disk.unwrap_or(DEFAULT_DISK_GB)
    }
}

/// Why a CreateJob body was refused. The frontend answers
/// `400 InvalidJob` with its `Display` text as the message, which
/// always names the offending field (`phases[1].memory: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The body is not JSON of the right shape (unknown property, wrong
    /// type, missing `phases` or `exec`); serde's message names the field.
    #[error("invalid job: {0}")]
    Parse(String),
    /// A field has a value the schema does not allow.
    #[error("{field}: {reason}")]
    Field {
        /// JSON path of the field, e.g. `phases[0].exec`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl SpecError {
    fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SpecError::Field {
            field: field.into(),
            reason: reason.into(),
        }
    }
    /// The restify code the frontend answers with.
    pub fn rest_code(&self) -> &'static str {
        "InvalidJob"
    }
}

fn list(values: &[u32]) -> String {
    values
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl JobSpec {
    /// Parses and validates a CreateJob body.
    pub fn from_json(body: &[u8]) -> Result<JobSpec, SpecError> {
        let spec: JobSpec =
            serde_json::from_slice(body).map_err(|e| SpecError::Parse(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Checks the values serde cannot: phase count, non-empty `exec`,
    /// `count` range and placement, `memory`/`disk` sets, `assets` paths,
    /// `image` and `uarg` shape.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.phases.is_empty() {
            return Err(SpecError::field("phases", "at least one phase is required"));
        }
        for (i, p) in self.phases.iter().enumerate() {
            p.validate(i)?;
        }
        Ok(())
    }
}

impl Phase {
    fn validate(&self, i: usize) -> Result<(), SpecError> {
        let f = |name: &str| format!("phases[{i}].{name}");
        if self.exec.is_empty() {
            return Err(SpecError::field(f("exec"), "must be a non-empty string"));
        }
        if let Some(count) = self.count {
            if self.phase_type.is_map() {
                return Err(SpecError::field(
                    f("count"),
                    "is only allowed on reduce phases",
                ));
            }
            if !(1..=MAX_REDUCERS).contains(&count) {
                return Err(SpecError::field(
                    f("count"),
                    format!("must be between 1 and {MAX_REDUCERS} (got {count})"),
                ));
            }
        }
        if let Some(m) = self.memory {
            if !MEMORY_MB_ALLOWED.contains(&m) {
                return Err(SpecError::field(
                    f("memory"),
                    format!("must be one of {} MB (got {m})", list(&MEMORY_MB_ALLOWED)),
                ));
            }
        }
        if let Some(d) = self.disk {
            if !DISK_GB_ALLOWED.contains(&d) {
                return Err(SpecError::field(
                    f("disk"),
                    format!("must be one of {} GB (got {d})", list(&DISK_GB_ALLOWED)),
                ));
            }
        }
        if let Some(assets) = &self.assets {
            for (j, a) in assets.iter().enumerate() {
                if !a.starts_with('/') || a.len() < 2 {
                    return Err(SpecError::field(
                        format!("phases[{i}].assets[{j}]"),
                        format!("must be an absolute Manta path (got {a:?})"),
                    ));
                }
            }
        }
        if let Some(image) = &self.image {
            if image.trim().is_empty() {
                return Err(SpecError::field(
                    f("image"),
                    "must be a non-empty version range",
                ));
            }
        }
        if let Some(uarg) = &self.uarg {
            if !uarg.is_object() {
                return Err(SpecError::field(f("uarg"), "must be an object"));
            }
        }
        Ok(())
    }
}

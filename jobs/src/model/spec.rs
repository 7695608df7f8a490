//! Validating the CreateJob body (`POST /:login/jobs`), MANTA-API.md §4.2:
//! Marlin's `sHttpJobInput` schema, `additionalProperties: false` at every
//! level. The types are the SDK's ([`client_sdk::jobs`], one definition of
//! the wire format); what only the server checks or defaults is here.

pub use client_sdk::jobs::{JobSpec, Phase, PhaseType};
use serde_json::{Map, Value};

/// Memory limits a phase may ask for, in MB.
pub(crate) const MEMORY_MB_ALLOWED: [u32; 7] = [128, 256, 512, 1024, 2048, 4096, 8192];
/// Disk quotas a phase may ask for, in GB.
pub(crate) const DISK_GB_ALLOWED: [u32; 10] = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/// Memory when a phase names none (agent `zoneDefaults`).
pub(crate) const DEFAULT_MEMORY_MB: u32 = 1024;
/// Disk when a phase names none (agent `zoneDefaults`).
pub(crate) const DEFAULT_DISK_GB: u32 = 8;
/// Largest reducer `count` (the docs' bound; Marlin's schema said 128).
pub(crate) const MAX_REDUCERS: u32 = 1024;

/// Server-side facts of a phase (defaults of the agent's `zoneDefaults`).
pub(crate) trait PhaseExt {
    /// Reducers this phase runs: `count` or 1 for reduce, 0 for map.
    fn reducers(&self) -> u32;
    /// Memory limit in MB, defaulted.
    fn memory_mb(&self) -> u32;
    /// Disk quota in GB, defaulted.
    fn disk_gb(&self) -> u32;
}

impl PhaseExt for Phase {
    fn reducers(&self) -> u32 {
        if self.phase_type.is_map() {
            0
        } else {
            self.count.unwrap_or(1)
        }
    }
    fn memory_mb(&self) -> u32 {
        self.memory.unwrap_or(DEFAULT_MEMORY_MB)
    }
    fn disk_gb(&self) -> u32 {
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

/// Parsing and validating a CreateJob body, on top of the SDK's type.
pub trait JobSpecExt: Sized {
    /// Parses and validates a CreateJob body.
    ///
    /// # Errors
    /// [`SpecError`] naming the field.
    fn from_json(body: &[u8]) -> Result<Self, SpecError>;

    /// Checks what serde cannot: no unknown properties, phase count,
    /// non-empty `exec`, `count` range and placement, `memory`/`disk` sets,
    /// `assets` paths, `image` and `uarg` shape.
    ///
    /// # Errors
    /// [`SpecError`] naming the field.
    fn validate(&self) -> Result<(), SpecError>;
}

/// Marlin refuses properties it does not know (`additionalProperties`).
fn no_unknown(extra: &Map<String, Value>, at: &str) -> Result<(), SpecError> {
    match extra.keys().next() {
        None => Ok(()),
        Some(k) => Err(SpecError::Parse(format!("{at}unknown field `{k}`"))),
    }
}

impl JobSpecExt for JobSpec {
    fn from_json(body: &[u8]) -> Result<JobSpec, SpecError> {
        let spec: JobSpec =
            serde_json::from_slice(body).map_err(|e| SpecError::Parse(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    fn validate(&self) -> Result<(), SpecError> {
        no_unknown(&self.extra, "")?;
        if self.phases.is_empty() {
            return Err(SpecError::field("phases", "at least one phase is required"));
        }
        for (i, p) in self.phases.iter().enumerate() {
            validate_phase(p, i)?;
        }
        Ok(())
    }
}

fn validate_phase(phase: &Phase, i: usize) -> Result<(), SpecError> {
    no_unknown(&phase.extra, &format!("phases[{i}]: "))?;
    let f = |name: &str| format!("phases[{i}].{name}");
    if phase.exec.is_empty() {
        return Err(SpecError::field(f("exec"), "must be a non-empty string"));
    }
    if let Some(count) = phase.count {
        if phase.phase_type.is_map() {
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
    if let Some(m) = phase.memory {
        if !MEMORY_MB_ALLOWED.contains(&m) {
            return Err(SpecError::field(
                f("memory"),
                format!("must be one of {} MB (got {m})", list(&MEMORY_MB_ALLOWED)),
            ));
        }
    }
    if let Some(d) = phase.disk {
        if !DISK_GB_ALLOWED.contains(&d) {
            return Err(SpecError::field(
                f("disk"),
                format!("must be one of {} GB (got {d})", list(&DISK_GB_ALLOWED)),
            ));
        }
    }
    if let Some(assets) = &phase.assets {
        for (j, a) in assets.iter().enumerate() {
            if !a.starts_with('/') || a.len() < 2 {
                return Err(SpecError::field(
                    format!("phases[{i}].assets[{j}]"),
                    format!("must be an absolute Manta path (got {a:?})"),
                ));
            }
        }
    }
    if let Some(image) = &phase.image {
        if image.trim().is_empty() {
            return Err(SpecError::field(
                f("image"),
                "must be a non-empty version range",
            ));
        }
    }
    if let Some(uarg) = &phase.uarg {
        if !uarg.is_object() {
            return Err(SpecError::field(f("uarg"), "must be an object"));
        }
    }
    Ok(())
}

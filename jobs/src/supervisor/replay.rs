//! Bringing a job's actor up: resolving its phases' assets and images, and
//! after a restart reading its inputs and done records (see `records.rs`)
//! for the scheduler to rebuild its state from (`restart.rs`).

use super::actor::Actor;
use super::error::{store, Error, Result};
use super::fault::{Fault, JobFault};
use super::records::{done_dir, inputs_dir, DoneRecord, InputRecord};
use super::scheduler::Event;
use crate::agent::wire::ImageRef;
use crate::model::JobErrorCode;
use std::collections::HashMap;

impl Actor {
    /// Resolves each phase's assets and image object once.
    pub(crate) async fn prepare_phases(&mut self) -> Result<()> {
        let phases = self.rec.job.phases.clone();
        let mut errors = Vec::with_capacity(phases.len());
        for phase in &phases {
            let mut error = None;
            let mut assets = Vec::new();
            let mlogin = crate::agent::medusa::is_medusa(&phase.exec);
            for a in phase.assets.iter().flatten() {
                if mlogin && crate::agent::medusa::plumbing_asset(&self.ctx.login, a) {
                    continue;
                }
                match self.ctx.ns.resolve(&self.ctx.login, a).await {
                    Ok(obj) => assets.push(obj),
                    Err(Fault::Job(e)) => {
                        error.get_or_insert(JobFault {
                            code: JobErrorCode::TaskInitError,
                            message: format!("failed to fetch asset {a}: {}", e.message),
                        });
                    }
                    Err(Fault::Internal(e)) => {
                        return Err(store(format!("resolving asset {a}"))(e))
                    }
                }
            }
            let image = match phase.image.as_deref().map(str::trim) {
                None | Some("") => ImageRef::Default,
                Some(p) if p.starts_with('/') => {
                    match self.ctx.ns.resolve(&self.ctx.login, p).await {
                        Ok(object) => ImageRef::Object { object },
                        Err(Fault::Job(e)) => {
                            error.get_or_insert(JobFault {
                                code: JobErrorCode::InvalidArgumentError,
                                message: format!("image {p}: {}", e.message),
                            });
                            ImageRef::Default
                        }
                        Err(Fault::Internal(e)) => {
                            return Err(store(format!("resolving image {p}"))(e))
                        }
                    }
                }
                // Manta's images are semver ranges of its own zone images;
                // any range means our default image.
                Some(v) if v.starts_with(|c: char| c.is_ascii_digit() || "<>=~^*".contains(c)) => {
                    ImageRef::Default
                }
                Some(name) => ImageRef::Named {
                    name: name.to_string(),
                },
            };
            self.assets.push(assets);
            self.images.push(image);
            errors.push(error);
        }
        self.sched.set_phase_errors(errors);
        Ok(())
    }

    /// Rebuilds a job from its records: done tasks are counted and their
    /// outputs routed again; everything else is scheduled anew.
    ///
    /// # Errors
    /// Metadata errors; an unreadable record.
    pub(crate) async fn replay(&mut self) -> Result<()> {
        let id = self.rec.job.id.clone();
        let mut inputs = Vec::new();
        let journal = self.ctx.journal.clone();
        journal
            .for_each(&inputs_dir(&id), |e| {
                let seq: u64 = e
                    .name
                    .parse()
                    .map_err(|_| Error::Internal(format!("bad input record {}", e.name)))?;
                let r: InputRecord = serde_json::from_value(e.value.clone())
                    .map_err(|err| Error::Internal(format!("input record {}: {err}", e.name)))?;
                inputs.push((seq, r.path));
                Ok(())
            })
            .await?;
        let mut done: HashMap<String, DoneRecord> = HashMap::new();
        journal
            .for_each(&done_dir(&id), |e| {
                let d: DoneRecord = serde_json::from_value(e.value.clone())
                    .map_err(|err| Error::Internal(format!("done record {}: {err}", e.name)))?;
                done.insert(d.task_id.clone(), d);
                Ok(())
            })
            .await?;
        // Reducers the old supervisor started may still run, fed only part
        // of their inputs: the scheduler stops them before they start again.
        self.step(Event::Replayed { inputs, done }).await;
        self.next_seq = self.sched.next_seq();
        Ok(())
    }
}

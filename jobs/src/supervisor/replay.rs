//! Bringing a job's actor up: resolving its phases' assets and images, and
//! after a restart rebuilding its state from its inputs and done records
//! (see `records.rs`): this reads the records and applies the pure plan of
//! `restart.rs`.

use super::actor::{Actor, ReducerState};
use super::error::{store, Error, Result};
use super::fault::{Fault, JobFault};
use super::flow::Shape;
use super::records::{done_dir, inputs_dir, DoneRecord, InputRecord};
use super::restart::{self, ReplayStep};
use crate::agent::wire::ImageRef;
use crate::model::JobErrorCode;
use std::collections::HashMap;

impl Actor {
    /// Resolves each phase's assets and image object once.
    pub(crate) async fn prepare_phases(&mut self) -> Result<()> {
        let phases = self.rec.job.phases.clone();
        for phase in &phases {
            let mut error = None;
            let mut assets = Vec::new();
            for a in phase.assets.iter().flatten() {
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
            self.phase_errors.push(error);
        }
        Ok(())
    }

    /// Rebuilds a job from its records: done tasks are counted and their
    /// outputs routed again; everything else is scheduled anew.
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
        for (_, path) in &inputs {
            super::actor::push_tail(&mut self.tails.inputs, path.clone());
        }
        let kinds = self.phase_kinds();
        let shape = Shape {
            job_id: &id,
            is_map: &kinds,
        };
        let reducers: Vec<Vec<String>> = self
            .phases
            .iter()
            .map(|ph| ph.reducers.iter().map(|r| r.task_id.clone()).collect())
            .collect();
        let plan = restart::replay(shape, &reducers, inputs, &done);
        self.next_seq = plan.next_seq;
        for step in plan.steps {
            match step {
                ReplayStep::ReducerDone(p, r) => {
                    if let Some(red) = self.reducer_mut(p, r) {
                        red.state = ReducerState::Done;
                        red.counted = true;
                        red.ended = true;
                    }
                }
                ReplayStep::Count(task) => {
                    if let Some(d) = done.get(&task) {
                        self.count(d, true);
                    }
                }
                ReplayStep::Schedule(item) => self.add_item(item),
            }
        }
        // Reducers the old supervisor started may still run, fed only part
        // of their inputs: stop them before they start again.
        self.refresh_live().await;
        for task in &plan.forget {
            for node in &self.live {
                self.ctx.agent.forget(&node.url, task).await;
            }
        }
        Ok(())
    }
}

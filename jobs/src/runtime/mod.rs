//! Running tasks in containers: [`TaskRunner`] takes a [`TaskSpec`] and
//! returns a [`TaskOutcome`], under runsc or runc ([`RuntimeKind`]).

mod cgroup;
mod cleanup;
mod console;
mod kind;
mod metrics;
mod monitor;
mod rootfs;
mod runner;
mod seccomp;
mod spec;
mod task;
mod userns;

pub(crate) use cleanup::layers_in_use;
pub use console::{set_size, ConsoleSink};
pub use kind::RuntimeKind;
pub use runner::TaskRunner;
pub use task::{BindMount, LimitKind, Limits, TaskOutcome, TaskSpec};

//! The two OCI runtimes and how each is invoked.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Which OCI runtime runs a task.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeKind {
    /// gVisor: a user-space kernel between the task and the host; the
    /// default, because tenants' code runs beside other tenants' data.
    #[default]
    Runsc,
    /// Native namespaces and cgroups: faster, for trusted tenants.
    Runc,
}

impl RuntimeKind {
    /// The binary's name.
    pub fn binary(self) -> &'static str {
        match self {
            Self::Runsc => "runsc",
            Self::Runc => "runc",
        }
    }

    /// The Debian package that installs it.
    pub fn package(self) -> &'static str {
        match self {
            Self::Runsc => "runsc",
            Self::Runc => "runc",
        }
    }

    /// Finds the binary in `PATH` (and the sbin directories a non-login
    /// shell may lack).
    ///
    /// # Errors
    /// [`Error::RuntimeMissing`] naming the package to install.
    pub fn locate(self) -> Result<PathBuf> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let dirs = std::env::split_paths(&path)
            .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from));
        self.locate_in(dirs)
    }

    fn locate_in(self, dirs: impl Iterator<Item = PathBuf>) -> Result<PathBuf> {
        dirs.map(|dir| dir.join(self.binary()))
            .find(|p| p.is_file())
            .ok_or(Error::RuntimeMissing {
                binary: self.binary(),
                package: self.package(),
            })
    }

    /// Global flags, before the subcommand. Each runtime keeps its state in
    /// its own root under the state directory, so recovery after a restart
    /// finds exactly our containers.
    pub(crate) fn global_args(self, state_dir: &Path) -> Vec<String> {
        let root = state_dir.join(self.binary()).display().to_string();
        let mut args = vec!["--root".to_owned(), root];
        if self == Self::Runsc {
            // The only configuration that works on this kind of host: no
            // network stack at all, no cgroup management (the task cgroup
            // wraps the sandbox instead) and the ptrace platform.
            args.extend(
                ["--network=none", "--ignore-cgroups", "--platform=ptrace"].map(String::from),
            );
            // A task may connect to the host sockets bind-mounted into it:
            // only its toolbox socket (agent/toolbox.rs) is.
            args.push("--host-uds=open".to_owned());
        }
        args
    }
}

impl std::fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.binary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_runtime_names_its_package() {
        let err = RuntimeKind::Runsc
            .locate_in(std::iter::once(PathBuf::from("/nonexistent")))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "runtime binary runsc not found in PATH: install the Debian package runsc"
        );
        assert!(RuntimeKind::Runc.locate().is_ok(), "runc is installed here");
    }
}

//! mjob: create, feed, follow and inspect compute jobs, with node-manta's
//! subcommands and flags. The spec building is in `mjob_phases.rs`,
//! `create`/`addinputs` in `mjob_create.rs`, the rest in `mjob_show.rs`.

#[path = "mjob_create.rs"]
mod create;
#[path = "mjob_phases.rs"]
mod phases;
#[path = "mjob_show.rs"]
mod show;

use super::{Cmd, Common};
use client_sdk::Client;

/// Manage Manta compute jobs.
#[derive(clap::Parser, Debug)]
#[command(name = "mjob", version, about = "Manage Manta compute jobs")]
pub struct Args {
    #[command(subcommand)]
    cmd: Sub,
}

#[derive(clap::Subcommand, Debug)]
enum Sub {
    /// Create a job: mjob create [-m MAP]... [-r REDUCE]... | EXPR | -f FILE
    #[command(after_help = CREATE_HELP)]
    Create(create::Create),
    /// Add inputs (one path per line on stdin) to jobs, then close them
    Addinputs(show::AddInputs),
    /// End input of jobs
    Close(show::Ids),
    /// Cancel jobs
    Cancel(show::Ids),
    /// Print jobs as JSON
    Get(show::Ids),
    /// Wait for jobs to finish, then print them as JSON
    #[command(alias = "wait")]
    Watch(show::Ids),
    /// List jobs
    List(show::List),
    /// Print the inputs of jobs
    Inputs(show::Ids),
    /// Print the output objects of jobs
    Outputs(show::Ids),
    /// Print the errors of jobs (one JSON object per line)
    Errors(show::Ids),
    /// Print the inputs that failed
    Failures(show::Ids),
}

/// How `mjob create` reads its phases (node-manta's words).
const CREATE_HELP: &str = "\
Map and reduce phases can be given (a) with -f FILE, a job's JSON,
(b) with -m and -r options:
    mjob create -m 'grep foo || true' -m 'cut -d: -f1' -r cat
or (c) as an expression, with ^ and ^^:
    mjob create 'grep foo || true' ^ 'cut -d: -f1' ^^ cat

Phase property options (--asset, --count, --disk, --image, --init,
--memory) apply differently depending on the style: with -m/-r they apply
to the *next* phase given with -m/-r, so put them before it
(--count 3 -r cat); after the last -m/-r they apply to nothing, and
mjob create warns. In expression style they apply to *all* phases.

Input objects are read from stdin, one path per line:
    mfind -t o ~~/stor/data | mjob create -m 'grep foo || true' -r sort";

/// `Code: message`, as the other commands print SDK errors.
pub fn sdk_err(e: client_sdk::Error) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", e.code(), e.message())
}

impl Cmd for Args {
    fn common(&self) -> &Common {
        match &self.cmd {
            Sub::Create(c) => &c.opts.common,
            Sub::Addinputs(a) => &a.common,
            Sub::List(l) => &l.common,
            Sub::Close(i)
            | Sub::Cancel(i)
            | Sub::Get(i)
            | Sub::Watch(i)
            | Sub::Inputs(i)
            | Sub::Outputs(i)
            | Sub::Errors(i)
            | Sub::Failures(i) => &i.common,
        }
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        use show::Keys;
        match self.cmd {
            Sub::Create(c) => c.run(client).await,
            Sub::Addinputs(a) => a.run(&client).await,
            Sub::Close(i) => i.close(&client).await,
            Sub::Cancel(i) => i.cancel(&client).await,
            Sub::Get(i) => i.get(&client).await,
            Sub::Watch(i) => i.watch(&client).await,
            Sub::List(l) => l.run(&client).await,
            Sub::Inputs(i) => i.keys(&client, Keys::In).await,
            Sub::Outputs(i) => i.keys(&client, Keys::Out).await,
            Sub::Failures(i) => i.keys(&client, Keys::Fail).await,
            Sub::Errors(i) => i.errors(&client).await,
        }
    }
}

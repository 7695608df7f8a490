//! The `mjob` subcommands that act on existing jobs: addinputs, close,
//! cancel, get, watch, list, inputs, outputs, failures, errors.

use super::create::Feed;
use super::sdk_err;
use crate::cli::Common;
use client_sdk::{Client, DirEntry, Job};
use std::io::Write;
use std::time::Duration;

/// Job ids (or `/login/jobs/<id>` paths).
#[derive(clap::Args, Debug)]
pub struct Ids {
    #[command(flatten)]
    pub common: Common,
    /// Accepted for node-manta compatibility; jobs are handled in order
    #[arg(short = 'p', long = "parallel", value_name = "NUM")]
    parallel: Option<u32>,
    #[arg(value_name = "JOB", required = true)]
    ids: Vec<String>,
}

/// `mjob addinputs`.
#[derive(clap::Args, Debug)]
pub struct AddInputs {
    #[command(flatten)]
    pub common: Common,
    /// Number of inputs to submit per batch
    #[arg(short = 'b', long = "batch", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..), value_name = "BATCH_SIZE")]
    batch: u32,
    /// Input batches in flight
    #[arg(short = 'p', long = "parallel", default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..), value_name = "NUM")]
    parallel: u32,
    /// Leave job input open for adding more inputs
    #[arg(short = 'o', long = "open")]
    open: bool,
    #[arg(value_name = "JOB", required = true)]
    ids: Vec<String>,
}

/// `mjob list`.
#[derive(clap::Args, Debug)]
pub struct List {
    #[command(flatten)]
    pub common: Common,
    /// Only jobs with this name
    #[arg(short = 'n', long = "name", value_name = "NAME")]
    name: Option<String>,
    /// Long listing format
    #[arg(short = 'l', long = "long")]
    long: bool,
    /// Only jobs in this state (running, ...)
    #[arg(short = 's', long = "state", value_name = "STATE")]
    state: Option<String>,
}

/// Which list of keys `Ids::keys` prints.
#[derive(Debug, Clone, Copy)]
pub enum Keys {
    In,
    Out,
    Fail,
}

/// Polls `live/status` until the job is done, backing off from 100 ms to
/// 10 s between polls as node-manta's `jobWatch`.
pub async fn watch_job(client: &Client, id: &str) -> anyhow::Result<Job> {
    let mut delay = Duration::from_millis(100);
    loop {
        tokio::time::sleep(delay).await;
        let job = client.job(id).await.map_err(sdk_err)?;
        if job.state.is_finished() {
            return Ok(job);
        }
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

fn print_job(job: &Job) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(job)?);
    Ok(())
}

impl AddInputs {
    pub async fn run(&self, client: &Client) -> anyhow::Result<()> {
        let feed = Feed {
            batch: self.batch as usize,
            parallel: self.parallel as usize,
            quiet: false,
            close: !self.open,
        };
        feed.run(client, &self.ids).await
    }
}

impl Ids {
    pub async fn close(&self, client: &Client) -> anyhow::Result<()> {
        for id in &self.ids {
            client.end_job_input(id).await.map_err(sdk_err)?;
        }
        Ok(())
    }

    pub async fn cancel(&self, client: &Client) -> anyhow::Result<()> {
        for id in &self.ids {
            client.cancel_job(id).await.map_err(sdk_err)?;
        }
        Ok(())
    }

    pub async fn get(&self, client: &Client) -> anyhow::Result<()> {
        for id in &self.ids {
            print_job(&client.job(id).await.map_err(sdk_err)?)?;
        }
        Ok(())
    }

    /// Waits for each job and prints it; exits 0 whatever its errors, as
    /// node-manta's `mjob watch` (only `create -w/-o` fail on errors).
    pub async fn watch(&self, client: &Client) -> anyhow::Result<()> {
        for id in &self.ids {
            print_job(&watch_job(client, id).await?)?;
        }
        Ok(())
    }

    pub async fn keys(&self, client: &Client, which: Keys) -> anyhow::Result<()> {
        for id in &self.ids {
            let keys = match which {
                Keys::In => client.job_inputs(id).await,
                Keys::Out => client.job_outputs(id).await,
                Keys::Fail => client.job_failures(id).await,
            }
            .map_err(sdk_err)?;
            let mut out = std::io::stdout().lock();
            for k in keys {
                writeln!(out, "{k}")?;
            }
            out.flush()?;
        }
        Ok(())
    }

    pub async fn errors(&self, client: &Client) -> anyhow::Result<()> {
        for id in &self.ids {
            let errs = client.job_errors(id).await.map_err(sdk_err)?;
            let mut out = std::io::stdout().lock();
            for e in errs {
                writeln!(out, "{}", serde_json::to_string(&e)?)?;
            }
            out.flush()?;
        }
        Ok(())
    }
}

/// `MMM D HH:mm`, or `MMM D YYYY` six months back (moment's formats, UTC).
fn list_date(iso: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let Ok(t) = time::OffsetDateTime::parse(iso, &Rfc3339) else {
        return iso.to_string();
    };
    let month = t.month().to_string();
    let month = month.get(..3).unwrap_or(&month);
    if time::OffsetDateTime::now_utc() - t >= time::Duration::days(182) {
        format!("{month} {} {}", t.day(), t.year())
    } else {
        format!("{month} {} {:02}:{:02}", t.day(), t.hour(), t.minute())
    }
}

impl List {
    fn line(&self, user: &str, e: &DirEntry) -> String {
        if self.long {
            format!("drwxr-xr-x 1 {user} 1 {} {}", list_date(&e.mtime), e.name)
        } else {
            format!("{}/", e.name)
        }
    }

    pub async fn run(&self, client: &Client) -> anyhow::Result<()> {
        let jobs = client
            .list_jobs(self.state.as_deref(), self.name.as_deref(), None)
            .await
            .map_err(sdk_err)?;
        let mut out = std::io::stdout().lock();
        for j in &jobs {
            writeln!(out, "{}", self.line(client.user(), j))?;
        }
        out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_dates_like_moment() {
        assert_eq!(list_date("2013-05-02T07:09:43.714Z"), "May 2 2013");
        let recent = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        let iso = recent
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let got = list_date(&iso);
        assert!(got.contains(':'), "{got}");
    }
}

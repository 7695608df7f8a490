//! `mjob create` and `mjob addinputs`: the job spec from the flags, input
//! keys from stdin in batches, then (with `-w`/`-o`) waiting for the job.

use super::phases::{self, PhaseOpt, Props};
use super::{sdk_err, show};
use crate::cli::Common;
use clap::parser::ValueSource;
use clap::{ArgMatches, FromArgMatches};
use client_sdk::{Client, JobSpec};
use futures::TryStreamExt;
use std::io::{IsTerminal, Write};
use tokio::io::AsyncBufReadExt;

/// The flags of `mjob create` (node-manta's names and defaults).
#[derive(clap::Args, Debug)]
pub struct CreateOpts {
    #[command(flatten)]
    pub common: Common,
    /// Number of inputs to submit per batch
    #[arg(short = 'b', long = "batch", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..), value_name = "BATCH_SIZE")]
    batch: u32,
    /// Wait for the job to complete, then fetch its outputs
    #[arg(short = 'o', long = "cat-outputs")]
    cat_outputs: bool,
    /// Do not leave the job waiting for inputs
    #[arg(long = "close")]
    close: bool,
    /// Print the job configuration and exit instead of creating the job
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// Job name
    #[arg(short = 'n', long = "name", value_name = "NAME")]
    name: Option<String>,
    /// Leave job input open for adding more inputs
    #[arg(long = "open")]
    open: bool,
    /// Input batches in flight
    #[arg(short = 'p', long = "parallel", default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..), value_name = "NUM")]
    parallel: u32,
    /// Do not report added inputs on stderr
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Wait for the job to complete
    #[arg(short = 'w', long = "watch")]
    watch: bool,
    /// Job manifest (JSON) to create the job from
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<std::path::PathBuf>,
    /// Map phase
    #[arg(short = 'm', long = "map", value_name = "CMD")]
    map: Vec<String>,
    /// Reduce phase
    #[arg(short = 'r', long = "reduce", value_name = "CMD")]
    reduce: Vec<String>,
    /// Asset to place in the compute zones
    #[arg(short = 's', long = "asset", value_name = "ASSET_PATH")]
    asset: Vec<String>,
    /// Number of reducers
    #[arg(long = "count", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), value_name = "REDUCERS")]
    count: u32,
    /// Disk space of a phase (GB)
    #[arg(long = "disk", value_parser = clap::value_parser!(u32).range(1..), value_name = "DISK_GB")]
    disk: Option<u32>,
    /// Compute image (semver range)
    #[arg(long = "image", value_name = "IMAGE_SEMVER")]
    image: Option<String>,
    /// Command run before the tasks (bash)
    #[arg(long = "init", value_name = "INIT_COMMAND")]
    init: Option<String>,
    /// Memory of a phase (MB)
    #[arg(long = "memory", value_parser = clap::value_parser!(u32).range(1..), value_name = "MEMORY_MB")]
    memory: Option<u32>,
    /// Expression: MAP [^ MAP]... [^^ REDUCE]...
    #[arg(value_name = "EXEC")]
    exec: Vec<String>,
}

/// `mjob create`: [`CreateOpts`] plus the order of the phase options,
/// which option style needs and derive does not keep.
#[derive(Debug)]
pub struct Create {
    pub opts: CreateOpts,
    order: Vec<PhaseOpt>,
}

impl clap::Args for Create {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        CreateOpts::augment_args(cmd)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        CreateOpts::augment_args_for_update(cmd)
    }
}

impl FromArgMatches for Create {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Create {
            order: phase_order(m),
            opts: CreateOpts::from_arg_matches(m)?,
        })
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        self.order = phase_order(m);
        self.opts.update_from_arg_matches(m)
    }
}

/// Pushes `(index, option)` for each command-line value of `id`.
fn indexed<T: Clone + Send + Sync + 'static>(
    m: &ArgMatches,
    id: &str,
    wrap: fn(T) -> PhaseOpt,
    out: &mut Vec<(usize, PhaseOpt)>,
) {
    if m.value_source(id) != Some(ValueSource::CommandLine) {
        return;
    }
    if let (Some(idx), Ok(Some(vals))) = (m.indices_of(id), m.try_get_many::<T>(id)) {
        out.extend(idx.zip(vals.cloned().map(wrap)));
    }
}

/// The phase options in command-line order.
fn phase_order(m: &ArgMatches) -> Vec<PhaseOpt> {
    let mut v = Vec::new();
    indexed::<String>(m, "map", PhaseOpt::Map, &mut v);
    indexed::<String>(m, "reduce", PhaseOpt::Reduce, &mut v);
    indexed::<String>(m, "asset", PhaseOpt::Asset, &mut v);
    indexed::<u32>(m, "count", PhaseOpt::Count, &mut v);
    indexed::<u32>(m, "disk", PhaseOpt::Disk, &mut v);
    indexed::<String>(m, "image", PhaseOpt::Image, &mut v);
    indexed::<String>(m, "init", PhaseOpt::Init, &mut v);
    indexed::<u32>(m, "memory", PhaseOpt::Memory, &mut v);
    v.sort_by_key(|(i, _)| *i);
    v.into_iter().map(|(_, o)| o).collect()
}

impl Create {
    /// The job as the flags describe it (assets not yet resolved).
    pub fn spec(&self) -> anyhow::Result<JobSpec> {
        let o = &self.opts;
        if let Some(f) = &o.file {
            let text =
                std::fs::read_to_string(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
            return serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: invalid job: {e}", f.display()));
        }
        let phases = if !o.map.is_empty() || !o.reduce.is_empty() {
            if !o.exec.is_empty() {
                anyhow::bail!(
                    "cannot use -m/-r along with a job expression\n(did you forget a \"-m\" or \"-r\"?)"
                );
            }
            for o in phases::unbound(&self.order) {
                eprintln!(
                    "mjob create: warning: {o} applies to no phase (phase options bind to the next -m/-r; --count only to -r)"
                );
            }
            phases::from_options(&self.order)
        } else if !o.exec.is_empty() {
            let props = Props {
                assets: o.asset.clone(),
                count: o.count,
                disk: o.disk,
                image: o.image.clone(),
                init: o.init.clone(),
                memory: o.memory,
            };
            phases::from_expression(&o.exec, &props)
        } else {
            anyhow::bail!("At least one map or reduce task must be specified");
        };
        if phases.is_empty() {
            anyhow::bail!("At least one map or reduce task must be specified");
        }
        Ok(JobSpec {
            name: o.name.clone(),
            phases,
            ..JobSpec::default()
        })
    }

    pub async fn run(self, client: Client) -> anyhow::Result<()> {
        let mut spec = self.spec()?;
        for p in &mut spec.phases {
            for a in p.assets.iter_mut().flatten() {
                *a = client.resolve(a).map_err(sdk_err)?;
            }
        }
        let o = &self.opts;
        if o.dry_run {
            println!("{}", pretty4(&spec)?);
            return Ok(());
        }
        let id = client.create_job(&spec).await.map_err(sdk_err)?;
        if !o.cat_outputs {
            println!("{id}");
        }
        let ids = [id.clone()];
        if std::io::stdin().is_terminal() {
            if !o.close && !o.open {
                eprintln!("mjob: warning: input stream left open");
            }
            if o.close {
                client.end_job_input(&id).await.map_err(sdk_err)?;
            }
        } else {
            let feed = Feed {
                batch: o.batch as usize,
                parallel: o.parallel as usize,
                quiet: o.quiet,
                close: !o.open || o.close,
            };
            feed.run(&client, &ids).await?;
        }
        if o.watch || o.cat_outputs {
            wait(&client, &id, o.cat_outputs).await?;
        }
        Ok(())
    }
}

/// `JSON.stringify(job, null, 4)`.
fn pretty4<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    v.serialize(&mut ser)?;
    Ok(String::from_utf8(out)?)
}

/// Waits for the job; fails if it had errors (node-manta's `jobWait`),
/// else with `cat` writes each output object's content to stdout.
async fn wait(client: &Client, id: &str, cat: bool) -> anyhow::Result<()> {
    let job = show::watch_job(client, id).await?;
    let n = job.stats.errors;
    if n > 0 {
        anyhow::bail!("job {id} had {n} error{}", if n > 1 { "s" } else { "" });
    }
    if !cat {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    for key in client.job_outputs(id).await.map_err(sdk_err)? {
        let resp = client
            .get(&key, &Default::default())
            .await
            .map_err(|e| crate::cli::path_err(&key, &e))?;
        let mut body = resp.body;
        while let Some(chunk) = body.try_next().await.map_err(sdk_err)? {
            out.write_all(&chunk)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Input keys from stdin, one per line, added in batches.
pub struct Feed {
    pub batch: usize,
    pub parallel: usize,
    pub quiet: bool,
    /// Close input once stdin ends.
    pub close: bool,
}

/// A key as the other commands take paths: `~~` expands (in the SDK),
/// relative keys are under `/:login/stor` (as mls).
fn input_key(user: &str, line: &str) -> String {
    if line.starts_with('/') || line.starts_with('~') {
        line.to_string()
    } else {
        format!("/{user}/stor/{line}")
    }
}

impl Feed {
    pub async fn run(&self, client: &Client, ids: &[String]) -> anyhow::Result<()> {
        let user = client.user().to_string();
        let lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let batch = self.batch.max(1);
        let batches = futures::stream::try_unfold(lines, move |mut lines| {
            let user = user.clone();
            async move {
                let mut keys = Vec::new();
                while keys.len() < batch {
                    match lines.next_line().await? {
                        Some(l) if l.trim_end_matches('\r').is_empty() => {}
                        Some(l) => keys.push(input_key(&user, l.trim_end_matches('\r'))),
                        None => break,
                    }
                }
                let out = (!keys.is_empty()).then_some((keys, lines));
                Ok::<_, std::io::Error>(out)
            }
        });
        batches
            .map_err(anyhow::Error::from)
            .map_ok(|keys| self.add(client, ids, keys))
            .try_buffer_unordered(self.parallel.max(1))
            .try_collect::<()>()
            .await?;
        if self.close {
            for id in ids {
                client.end_job_input(id).await.map_err(sdk_err)?;
            }
        }
        Ok(())
    }

    /// One batch to every job.
    async fn add(&self, client: &Client, ids: &[String], keys: Vec<String>) -> anyhow::Result<()> {
        for id in ids {
            client
                .add_job_inputs(id, &keys, false)
                .await
                .map_err(sdk_err)?;
            if !self.quiet {
                let s = if keys.len() > 1 { "s" } else { "" };
                eprintln!("added {} input{s} to {id}", keys.len());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Args, Sub};
    use super::*;
    use clap::Parser;
    use client_sdk::PhaseType;

    fn create(args: &[&str]) -> Create {
        let mut argv = vec!["mjob", "create"];
        argv.extend_from_slice(args);
        match Args::try_parse_from(argv) {
            Ok(Args {
                cmd: Sub::Create(c),
            }) => c,
            Ok(other) => panic!("parsed as {other:?}"),
            Err(e) => panic!("{e}"),
        }
    }

    fn spec(args: &[&str]) -> JobSpec {
        create(args).spec().unwrap()
    }

    #[test]
    fn option_style_keeps_flag_order() {
        let s = spec(&[
            "--memory",
            "512",
            "-m",
            "wc",
            "--count",
            "2",
            "-s",
            "~~/stor/a",
            "-r",
            "cat",
            "-n",
            "job1",
        ]);
        assert_eq!(s.name.as_deref(), Some("job1"));
        assert_eq!(s.phases.len(), 2);
        assert_eq!(s.phases[0].memory, Some(512));
        assert_eq!(s.phases[0].phase_type, PhaseType::Map);
        assert_eq!(s.phases[1].phase_type, PhaseType::Reduce);
        assert_eq!(s.phases[1].count, Some(2));
        assert_eq!(s.phases[1].assets, Some(vec!["~~/stor/a".to_string()]));
        assert_eq!(s.phases[1].memory, None);
    }

    #[test]
    fn several_maps_in_order() {
        let s = spec(&["-m", "grep foo || true", "-m", "cut -d: -f1", "-r", "cat"]);
        let execs: Vec<&str> = s.phases.iter().map(|p| p.exec.as_str()).collect();
        assert_eq!(execs, vec!["grep foo || true", "cut -d: -f1", "cat"]);
    }

    #[test]
    fn expression_style_with_count_and_properties() {
        let s = spec(&[
            "--count", "3", "--disk", "16", "--", "grep", "foo", "^", "cut", "-d:", "^^", "sort",
        ]);
        assert_eq!(s.phases.len(), 3);
        assert_eq!(s.phases[1].exec, "cut -d:");
        assert_eq!(s.phases[2].phase_type, PhaseType::Reduce);
        assert_eq!(s.phases[2].count, Some(3));
        assert!(s.phases.iter().all(|p| p.disk == Some(16)));
    }

    #[test]
    fn mixing_styles_or_nothing_is_an_error() {
        let e = create(&["-m", "wc", "cat"]).spec().unwrap_err().to_string();
        assert!(
            e.starts_with("cannot use -m/-r along with a job expression"),
            "{e}"
        );
        let e = create(&[]).spec().unwrap_err().to_string();
        assert_eq!(e, "At least one map or reduce task must be specified");
        assert!(Args::try_parse_from(["mjob", "create", "--memory", "0", "wc"]).is_err());
    }

    #[test]
    fn file_is_taken_whole() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("job.json");
        std::fs::write(
            &f,
            r#"{"name":"from file","phases":[{"exec":"wc"},{"type":"reduce","exec":"cat","count":2}]}"#,
        )
        .unwrap();
        let s = spec(&["-f", f.to_str().unwrap(), "-n", "ignored"]);
        assert_eq!(s.name.as_deref(), Some("from file"));
        assert_eq!(s.phases[1].count, Some(2));
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{").unwrap();
        assert!(create(&["-f", bad.to_str().unwrap()]).spec().is_err());
    }

    #[test]
    fn dry_run_json_shape() {
        let s = spec(&["-m", "wc -l", "-r", "cat"]);
        let text = pretty4(&s).unwrap();
        assert_eq!(
            text,
            "{\n    \"phases\": [\n        {\n            \"type\": \"map\",\n            \"exec\": \"wc -l\"\n        },\n        {\n            \"type\": \"reduce\",\n            \"exec\": \"cat\"\n        }\n    ]\n}"
        );
    }

    #[test]
    fn relative_keys_are_under_stor() {
        assert_eq!(input_key("u", "a/b"), "/u/stor/a/b");
        assert_eq!(input_key("u", "~~/stor/x"), "~~/stor/x");
        assert_eq!(input_key("u", "/v/public/x"), "/v/public/x");
    }
}

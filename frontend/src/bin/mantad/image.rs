//! `mantad image ...`: job images and trial runs, on the same code path as
//! job tasks (`jobs::image` imports and stores, `jobs::runtime` runs). Only
//! the command line is here: flags, printing, the exit code.

use anyhow::Context;
use clap::{Args, Subcommand};
use jobs::image::{ensure_default_image, import_path, import_url, ImageStore, DEFAULT_IMAGE};
use jobs::runtime::{RuntimeKind, TaskRunner, TaskSpec};
use std::path::PathBuf;

/// `mantad image`'s flags and subcommand.
#[derive(Args, Debug)]
pub struct ImageArgs {
    /// Jobs state directory (images, layer cache, task bundles).
    #[arg(long, global = true, default_value = "./data/jobs")]
    state: PathBuf,
    #[command(subcommand)]
    cmd: ImageCommand,
}

#[derive(Debug, Clone, Subcommand)]
enum ImageCommand {
    /// Import a `docker save` archive, a tar of an OCI layout or an OCI
    /// layout directory, from a local path or from an object in the store
    /// by URL (a public object or a signed URL from `msign`).
    Import {
        /// A local path, or an `http://`/`https://` URL.
        source: String,
        #[arg(long)]
        name: String,
    },
    /// List images.
    Ls,
    /// Remove an image and the layers only it used.
    Rm { name: String },
    /// Run a command in a container made from an image, as a job task would.
    Run {
        /// Image name (`default` is the built-in busybox image).
        name: String,
        #[arg(long, value_enum, default_value_t = RuntimeKind::Runsc)]
        runtime: RuntimeKind,
        /// File given to the command on stdin.
        #[arg(long)]
        stdin: Option<PathBuf>,
        /// The command: one word is a shell command (`sh -c WORD`); several
        /// are argv words, quoted and run under `sh -c`.
        #[arg(last = true, required = true)]
        cmd: Vec<String>,
    },
}

/// Runs one image command; returns the process exit code (the task's, for
/// `run`).
///
/// # Errors
/// Any import, store or runtime error, with context.
pub async fn run(args: ImageArgs) -> anyhow::Result<i32> {
    let store = ImageStore::open(&args.state)
        .with_context(|| format!("open image store {}", args.state.display()))?;
    match args.cmd {
        ImageCommand::Import { source, name } => import(store, source, name).await?,
        ImageCommand::Ls => {
            ensure_default_image(&store).context("build default image")?;
            for image in store.list().context("list images")? {
                let layers = image.layers.len();
                println!("{}\t{layers} layers\t{}", image.name, image.source);
            }
        }
        ImageCommand::Rm { name } => store
            .remove(&name)
            .with_context(|| format!("remove image {name}"))?,
        ImageCommand::Run {
            name,
            runtime,
            stdin,
            cmd,
        } => return try_run(store, name, runtime, stdin, cmd).await,
    }
    Ok(0)
}

async fn import(store: ImageStore, source: String, name: String) -> anyhow::Result<()> {
    let record = if source.starts_with("http://") || source.starts_with("https://") {
        import_url(&store, &source, &name).await
    } else {
        let file = PathBuf::from(&source);
        tokio::task::spawn_blocking(move || import_path(&store, &file, &name))
            .await
            .context("import task")?
    }
    .with_context(|| format!("import image from {source}"))?;
    let layers = record.layers.len();
    println!("{} {layers} layers ({})", record.name, record.source);
    Ok(())
}

/// The shell command a task runs (tasks run under `sh -c`, as Manta's `exec`
/// does): one word is taken as a shell command (`-- 'grep x | wc -l'`);
/// several are argv words, quoted so `-- sh -c 'wc -w'` means what it says.
fn shell_join(words: &[String]) -> String {
    if let [one] = words {
        return one.clone();
    }
    let safe = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    };
    words
        .iter()
        .map(|w| {
            if safe(w) {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn try_run(
    store: ImageStore,
    name: String,
    runtime: RuntimeKind,
    stdin: Option<PathBuf>,
    cmd: Vec<String>,
) -> anyhow::Result<i32> {
    let runner = TaskRunner::new(store);
    let spec = TaskSpec {
        image: (name != DEFAULT_IMAGE).then_some(name),
        command: shell_join(&cmd),
        runtime,
        stdin,
        ..TaskSpec::default()
    };
    let mut out = tokio::io::stdout();
    let outcome = runner.run(&spec, &mut out).await.context("run task")?;
    eprint!("{}", String::from_utf8_lossy(&outcome.stderr));
    for limit in &outcome.limits_hit {
        eprintln!("mantad: {limit}");
    }
    Ok(outcome.exit_code.unwrap_or(137))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        image: ImageArgs,
    }

    fn w(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shell_join_quotes_words() {
        assert_eq!(shell_join(&w(&["wc", "-l"])), "wc -l");
        assert_eq!(
            shell_join(&w(&["sh", "-c", "wc -w; echo 'x'"])),
            r"sh -c 'wc -w; echo '\''x'\'''"
        );
        assert_eq!(shell_join(&w(&["a", ""])), "a ''");
        assert_eq!(shell_join(&w(&["grep x | wc -l"])), "grep x | wc -l");
    }

    #[test]
    fn run_flags() {
        let args = [
            "image",
            "--state",
            "/s",
            "run",
            "t",
            "--runtime",
            "runc",
            "--",
            "true",
        ];
        let cli = Cli::try_parse_from(args).unwrap();
        assert_eq!(cli.image.state, PathBuf::from("/s"));
        match cli.image.cmd {
            ImageCommand::Run {
                name, runtime, cmd, ..
            } => {
                assert_eq!((name.as_str(), runtime), ("t", RuntimeKind::Runc));
                assert_eq!(cmd, ["true"]);
            }
            other => panic!("{other:?}"),
        }
    }
}

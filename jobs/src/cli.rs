//! `mantad image ...`: operator commands on the same code path as job
//! tasks. `mantad` embeds [`ImageCommand`] as a clap subcommand and calls
//! [`run_image_command`].

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use crate::image::{import_path, ImageRecord, ImageStore};
use crate::runtime::{RuntimeKind, TaskRunner, TaskSpec};

/// Image operator commands.
#[derive(Debug, Clone, Subcommand)]
pub enum ImageCommand {
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

/// Runs one image command with state under `state_dir`; returns the
/// process exit code (the task's, for `run`).
///
/// # Errors
/// Any import, store or runtime error, with context.
pub async fn run_image_command(state_dir: &Path, command: ImageCommand) -> anyhow::Result<i32> {
    let store = ImageStore::open(state_dir).context("open image store")?;
    match command {
        ImageCommand::Import { source, name } => {
            let record = if source.starts_with("http://") || source.starts_with("https://") {
                import_url(&store, &source, &name).await?
            } else {
                let file = PathBuf::from(source);
                tokio::task::spawn_blocking(move || import_path(&store, &file, &name))
                    .await
                    .context("import task")?
                    .context("import image")?
            };
            println!(
                "{} {} layers ({})",
                record.name,
                record.layers.len(),
                record.source
            );
        }
        ImageCommand::Ls => {
            crate::image::ensure_default_image(&store).context("build default image")?;
            for image in store.list().context("list images")? {
                println!(
                    "{}\t{} layers\t{}",
                    image.name,
                    image.layers.len(),
                    image.source
                );
            }
        }
        ImageCommand::Rm { name } => store.remove(&name).context("remove image")?,
        ImageCommand::Run {
            name,
            runtime,
            stdin,
            cmd,
        } => return run(store, name, runtime, stdin, cmd).await,
    }
    Ok(0)
}

/// Streams an image archive from a URL (an object of the store) into the
/// image store; nothing is held whole in memory.
async fn import_url(store: &ImageStore, url: &str, name: &str) -> anyhow::Result<ImageRecord> {
    use futures::TryStreamExt;
    let resp = reqwest::get(url)
        .await
        .with_context(|| format!("fetch {url}"))?;
    if !resp.status().is_success() {
        anyhow::bail!("fetch {url}: HTTP {}", resp.status());
    }
    let body = resp.bytes_stream().map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(body);
    crate::image::import_async(store, reader, name)
        .await
        .context("import image")
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

async fn run(
    store: ImageStore,
    name: String,
    runtime: RuntimeKind,
    stdin: Option<PathBuf>,
    cmd: Vec<String>,
) -> anyhow::Result<i32> {
    let runner = TaskRunner::new(store);
    let spec = TaskSpec {
        image: (name != crate::image::DEFAULT_IMAGE).then_some(name),
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
    #[test]
    fn shell_join_quotes_words() {
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(super::shell_join(&w(&["wc", "-l"])), "wc -l");
        assert_eq!(
            super::shell_join(&w(&["sh", "-c", "wc -w; echo 'x'"])),
            r"sh -c 'wc -w; echo '\''x'\'''"
        );
        assert_eq!(super::shell_join(&w(&["a", ""])), "a ''");
        assert_eq!(super::shell_join(&w(&["grep x | wc -l"])), "grep x | wc -l");
    }
}

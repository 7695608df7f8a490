//! mlogin: an interactive shell in a job container on a node holding the
//! object (mounted as for a map task at `$MANTA_INPUT_FILE`), or in a
//! reducer with no object. node-manta's flags and protocol: a one-phase
//! job whose exec is the medusa agent asset, then a websocket
//! `GET /:login/medusa/attach/<job>/master` relaying the terminal, with
//! `medusa:` and `mlogin:` control frames; over `https://` the websocket is
//! TLS, verified as every other command verifies (`client_sdk::tls`).

mod cli;

use cli::{Cmd, Common};
use client_sdk::{Client, JobSpec, Phase, PhaseType};
use futures::{SinkExt, StreamExt};
use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const MEDUSA_ASSET: &str = "/poseidon/public/medusa/agent.sh";

/// Interactive session in a Manta compute container.
#[derive(clap::Parser, Debug)]
#[command(
    name = "mlogin",
    version,
    about = "Interactive session on a Manta object"
)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// command to run instead of the default shell
    #[arg(short = 'c', long = "command", value_name = "COMMAND")]
    command: Option<String>,
    /// asset(s) to place in the container
    #[arg(short = 's', long = "asset", value_name = "ASSET_PATH")]
    asset: Vec<String>,
    /// disable advisory/progress messages
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// disk space for the session (gigabytes)
    #[arg(long = "disk", value_name = "DISK_GB")]
    disk: Option<u32>,
    /// memory for the session (megabytes)
    #[arg(long = "memory", value_name = "MEMORY_MB")]
    memory: Option<u32>,
    /// command to run before the session
    #[arg(long = "init", value_name = "INIT_COMMAND")]
    init: Option<String>,
    /// compute image (semver range, name or image object)
    #[arg(long = "image", value_name = "IMAGE")]
    image: Option<String>,
    /// escape character (accepted for compatibility; `~.` is not interpreted)
    #[arg(short = 'e', long = "escape", value_name = "ESCAPE_CHARACTER")]
    escape: Option<String>,
    #[arg(value_name = "PATH")]
    path: Option<String>,
}

impl Cmd for Args {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        session(self, client).await
    }
}

fn note(quiet: bool, text: &str) {
    if !quiet {
        print!(" * {text}\r\n");
        let _ = std::io::stdout().flush();
    }
}

/// Puts the terminal in raw mode until dropped.
struct RawMode(Option<rustix::termios::Termios>);

impl RawMode {
    fn enter() -> RawMode {
        let stdin = std::io::stdin();
        let Ok(saved) = rustix::termios::tcgetattr(stdin.as_fd()) else {
            return RawMode(None);
        };
        let mut raw = saved.clone();
        raw.make_raw();
        let _ =
            rustix::termios::tcsetattr(stdin.as_fd(), rustix::termios::OptionalActions::Now, &raw);
        RawMode(Some(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin().as_fd(),
                rustix::termios::OptionalActions::Now,
                saved,
            );
        }
    }
}

fn window() -> (Option<u16>, Option<u16>) {
    match rustix::termios::tcgetwinsize(std::io::stdout().as_fd()) {
        Ok(w) if w.ws_col > 0 => (Some(w.ws_col), Some(w.ws_row)),
        _ => (None, None),
    }
}

fn control(v: serde_json::Value) -> Message {
    Message::text(format!("mlogin:{v}"))
}

async fn session(args: Args, client: Client) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        anyhow::bail!("stdin and stdout must be a terminal");
    }
    let quiet = args.quiet;
    let path = match &args.path {
        Some(p) => Some(client.resolve(p)?),
        None => None,
    };
    let mut assets = vec![MEDUSA_ASSET.to_string()];
    for a in &args.asset {
        assets.push(client.resolve(a)?);
    }
    let spec = JobSpec {
        name: Some("interactive compute job".into()),
        phases: vec![Phase {
            phase_type: if path.is_some() {
                PhaseType::Map
            } else {
                PhaseType::Reduce
            },
            exec: format!("/assets{MEDUSA_ASSET}"),
            init: args.init.clone(),
            assets: Some(assets),
            memory: args.memory,
            disk: args.disk,
            image: args.image.clone(),
            ..Phase::default()
        }],
        ..JobSpec::default()
    };
    let id = client.create_job(&spec).await?;
    note(quiet, &format!("created interactive job -- {id}"));
    let ended = attach_and_run(&args, &client, &id, path).await;
    match ended {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = client.cancel_job(&id).await;
            Err(e)
        }
    }
}

async fn attach_and_run(
    args: &Args,
    client: &Client,
    id: &str,
    path: Option<String>,
) -> anyhow::Result<()> {
    let quiet = args.quiet;
    let base = client.url().trim_end_matches('/');
    let url = format!("{base}/{}/medusa/attach/{id}/master", client.user());
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let mut headers = vec![("date", date.clone())];
    if let (Some(signer), Some(key_id)) = (client.signer(), client.key_id()) {
        headers.push(("authorization", signer.authorization(key_id, &date)?));
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Verified as every other request of ours (MANTA_CA_FILE,
    // MANTA_TLS_INSECURE; client_sdk::tls).
    let cfg = client.config();
    let tls = client_sdk::tls::tls_config(cfg.ca_file.as_deref(), cfg.insecure)?;
    let ws = client_sdk::tls::websocket(&url, &headers, &tls)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let (mut tx, mut rx) = ws.split();
    match path {
        Some(p) => client.add_job_inputs(id, &[p], true).await?,
        None => client.end_job_input(id).await?,
    }
    // Wait for the session to come up.
    loop {
        match rx.next().await {
            Some(Ok(Message::Text(t))) if t.as_str().contains(r#""linkup""#) => break,
            Some(Ok(_)) => {}
            Some(Err(e)) => anyhow::bail!("connection ended: {e}"),
            None => anyhow::bail!("connection ended before the session started"),
        }
    }
    note(quiet, "session established");
    let (columns, lines) = window();
    let arguments = match &args.command {
        Some(c) => vec!["-c".to_string(), c.clone()],
        None => vec!["--norc".to_string()],
    };
    tx.send(control(serde_json::json!({
        "type": "start",
        "cwd": "/",
        "term": std::env::var("TERM").unwrap_or_else(|_| "xterm".into()),
        "columns": columns,
        "lines": lines,
        "command": "/bin/bash",
        "arguments": arguments,
    })))
    .await?;

    let mut raw: Option<RawMode> = None;
    let (keys_tx, mut keys) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    let mut winch = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())?;
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    loop {
        tokio::select! {
            msg = rx.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    let mut out = std::io::stdout();
                    out.write_all(&b)?;
                    out.flush()?;
                }
                Some(Ok(Message::Text(t))) => {
                    let Some(json) = t.as_str().strip_prefix("mlogin:") else { continue };
                    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
                    match v["type"].as_str() {
                        Some("started") if raw.is_none() => {
                            raw = Some(RawMode::enter());
                            let keys_tx = keys_tx.clone();
                            std::thread::spawn(move || read_keys(&keys_tx));
                        }
                        Some("exit") => {
                            drop(raw.take());
                            note(quiet, "remote process exited");
                            let _ = tx.send(Message::Close(None)).await;
                            return Ok(());
                        }
                        Some("error") => {
                            drop(raw.take());
                            anyhow::bail!("remote error: {}", v["error"]);
                        }
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None => {
                    drop(raw.take());
                    note(quiet, "session complete");
                    return Ok(());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    drop(raw.take());
                    anyhow::bail!("connection reset: {e}");
                }
            },
            Some(k) = keys.recv() => tx.send(Message::binary(k)).await?,
            _ = winch.recv() => {
                if let (Some(c), Some(l)) = window() {
                    tx.send(control(serde_json::json!({"type": "resize", "columns": c, "lines": l}))).await?;
                }
            }
            _ = ping.tick() => tx.send(Message::text("ping")).await?,
        }
    }
}

/// Forwards what is typed (a blocking read of stdin, on its own thread).
fn read_keys(keys: &tokio::sync::mpsc::Sender<Vec<u8>>) {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    let mut stdin = std::io::stdin();
    while let Ok(n) = stdin.read(&mut buf) {
        if n == 0 || keys.blocking_send(buf[..n].to_vec()).is_err() {
            break;
        }
    }
}

fn main() -> ExitCode {
    cli::main::<Args>("mlogin")
}

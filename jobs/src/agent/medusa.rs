//! mlogin on the node: a phase whose exec is Manta's medusa agent
//! (`/assets/poseidon/public/medusa/agent.sh`, which node-manta's `mlogin`
//! asks for) is an interactive session instead of a command.
//!
//! The task has no network, so the session goes through this agent: it
//! opens a websocket to the frontend (`GET /:login/medusa/attach/:job/slave`,
//! authenticated with the task's credential, `crate::task_token`; over
//! TLS, verified, when the API is `https://`: `toolbox::ApiClient`), waits
//! for the client's `mlogin:{"type":"start",...}` (relayed by the frontend
//! from the client's `master` side), starts the container with a terminal
//! (the runtime's `--console-socket` hands the pty master over), then
//! relays: pty output as binary frames, binary frames into the pty,
//! `resize` frames as `TIOCSWINSZ`. When the shell exits it sends
//! `mlogin:{"type":"exit"}` and closes; the task (and so the job) ends.
//! A client silent for the idle limit, or gone, ends it too; the runtime's
//! wall clock bounds it in all.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::failure::Failure;
use super::wire::TaskRequest;
use super::Shared;
use crate::model::JobErrorCode;
use crate::runtime::{set_size, ConsoleSink, TaskOutcome, TaskSpec};

/// The asset node-manta's mlogin names as the job's exec.
pub(crate) const MEDUSA_ASSET: &str = "/poseidon/public/medusa/agent.sh";
/// How long a session waits for the client's `start`.
const ATTACH_WAIT: Duration = Duration::from_secs(300);
/// Default idle limit: no input from the client for this long ends the
/// session (`MANTAD_MLOGIN_IDLE_SECS` overrides it).
const IDLE_LIMIT: Duration = Duration::from_secs(1800);

/// Is this phase an mlogin session?
pub fn is_medusa(exec: &str) -> bool {
    exec.trim() == format!("/assets{MEDUSA_ASSET}")
}

/// Assets of an mlogin phase that are the client's plumbing, not files
/// for the task: Manta's agent script and the client's config object.
pub fn plumbing_asset(login: &str, path: &str) -> bool {
    path == MEDUSA_ASSET
        || path
            .strip_prefix(&format!("/{login}/stor/medusa-config-"))
            .is_some_and(|rest| rest.ends_with(".json") && !rest.contains('/'))
}

fn idle_limit() -> Duration {
    std::env::var("MANTAD_MLOGIN_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(IDLE_LIMIT, Duration::from_secs)
}

/// The client's `mlogin:{"type":"start",...}`.
#[derive(Deserialize, Debug)]
struct Start {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    term: Option<String>,
    #[serde(default)]
    columns: Option<u16>,
    #[serde(default)]
    lines: Option<u16>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    arguments: Vec<String>,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The shell command for the client's argv: node-manta asks for
/// `/usr/bin/ctrun -i core -l child /bin/bash --norc` (or `-c CMD`), an
/// illumos tool; the ctrun options are dropped, and an image without bash
/// gets `/bin/sh` with the same arguments.
fn shell_command(start: &Start) -> String {
    let mut argv: Vec<String> = start.command.iter().cloned().collect();
    argv.extend(start.arguments.iter().cloned());
    if argv.first().map(String::as_str) == Some("/usr/bin/ctrun") {
        let mut rest = argv[1..].iter();
        let mut kept = Vec::new();
        while let Some(a) = rest.next() {
            if a.starts_with('-') && kept.is_empty() {
                rest.next();
                continue;
            }
            kept.push(a.clone());
        }
        argv = kept;
    }
    if argv.is_empty() || argv[0] == "/bin/bash" {
        let args: Vec<String> = argv
            .iter()
            .skip(1)
            .filter(|a| a.as_str() != "--norc")
            .map(|a| quote(a))
            .collect();
        let args = args.join(" ");
        return format!(
            "if [ -x /bin/bash ]; then exec /bin/bash --norc {args}; fi; exec /bin/sh {args}"
        );
    }
    let all: Vec<String> = argv.iter().map(|a| quote(a)).collect();
    format!("exec {}", all.join(" "))
}

type Ws = WebSocketStream<Box<dyn client_sdk::tls::Io>>;

/// The websocket to the frontend's `slave` side, at the API the node's
/// tasks reach (`toolbox::ApiClient`): TLS, verified, for `https://`.
async fn connect(shared: &Shared, req: &TaskRequest, api: &str) -> Result<Ws, String> {
    let url = format!("{api}/{}/medusa/attach/{}/slave", req.login, req.job_id);
    let token = crate::task_token::mint(
        &shared.cluster_key,
        &req.login,
        &req.job_id,
        &req.task_id,
        super::prepare::WALL_TIME + Duration::from_secs(60),
    );
    client_sdk::tls::websocket(
        &url,
        &[(crate::task_token::HEADER, token.as_str())],
        shared.api.tls(),
    )
    .await
    .map_err(|e| e.message())
}

fn control(kind: &str, extra: serde_json::Value) -> Message {
    let mut v = serde_json::json!({ "type": kind });
    if let (Some(o), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    Message::text(format!("mlogin:{v}"))
}

/// Runs the session of an mlogin task to its end.
///
/// # Errors
/// No client came (`UserTaskError`); the shell failed or hit a limit; the
/// frontend or the runtime could not be reached (ours).
pub(crate) async fn session(
    shared: &Shared,
    req: &TaskRequest,
    mut spec: TaskSpec,
) -> Result<(), Failure> {
    let api = shared.api.url_for(req.api_url.as_deref()).ok_or_else(|| {
        Failure::user(
            JobErrorCode::TaskInitError,
            "mlogin needs the frontend's API, which this task was not given",
        )
    })?;
    let ws = connect(shared, req, &api)
        .await
        .map_err(|e| Failure::Infra(format!("mlogin: reach the frontend: {e}")))?;
    let (mut tx, mut rx) = ws.split();
    let start = tokio::time::timeout(ATTACH_WAIT, async {
        while let Some(msg) = rx.next().await {
            let Ok(Message::Text(t)) = msg else {
                if msg.is_err() {
                    return None;
                }
                continue;
            };
            let Some(json) = t.as_str().strip_prefix("mlogin:") else {
                continue;
            };
            match serde_json::from_str::<Start>(json) {
                Ok(s) if s.kind == "start" => return Some(s),
                _ => continue,
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| Failure::user(JobErrorCode::UserTaskError, "no mlogin client attached"))?;

    let command = shell_command(&start);
    let term = start.term.clone().unwrap_or_else(|| "xterm".into());
    spec.env.push(("TERM".into(), term));
    match spec.env.iter_mut().find(|(k, _)| k == "MANTA_EXEC") {
        Some((_, v)) => *v = command,
        None => spec.command = command,
    }
    let (sink, master) = ConsoleSink::new();
    spec.console = Some(sink);
    let mut discard = tokio::io::sink();
    let run = shared.runner.run(&spec, &mut discard);
    tokio::pin!(run);
    let master = tokio::select! {
        m = master => m.ok(),
        ran = &mut run => {
            let why = match &ran {
                Ok(o) => format!("exit {:?}: {}", o.exit_code, String::from_utf8_lossy(&o.stderr).trim()),
                Err(e) => e.to_string(),
            };
            tracing::warn!(task = %req.task_id, %why, "mlogin session did not start");
            let _ = tx.send(control("error", serde_json::json!({"error": format!("the session could not start ({why})")}))).await;
            judge(ran.map_err(Failure::from_run)?)?;
            return Err(Failure::Infra(format!("mlogin: no terminal ({why})")));
        }
    };
    let Some(master) = master else {
        let _ = tx
            .send(control(
                "error",
                serde_json::json!({"error": "no terminal"}),
            ))
            .await;
        return Err(Failure::Infra(
            "mlogin: the runtime gave no terminal".into(),
        ));
    };
    if let (Some(c), Some(l)) = (start.columns, start.lines) {
        let _ = set_size(&master, c, l);
    }
    let clone = |what: &str| {
        master
            .try_clone()
            .map(|fd| tokio::fs::File::from_std(std::fs::File::from(fd)))
            .map_err(|e| Failure::infra(what, e))
    };
    let (mut reader, mut writer) = (clone("read the terminal")?, clone("write the terminal")?);
    let _ = tx.send(control("started", serde_json::json!({}))).await;

    let idle = idle_limit();
    let mut deadline = Instant::now() + idle;
    let mut buf = vec![0u8; 16 << 10];
    let mut pty_open = true;
    let ran = loop {
        tokio::select! {
            ran = &mut run => break Some(ran),
            n = reader.read(&mut buf), if pty_open => match n {
                Ok(n) if n > 0 => {
                    if tx.send(Message::binary(buf[..n].to_vec())).await.is_err() {
                        break None;
                    }
                }
                // The shell and everything on the terminal are gone.
                _ => pty_open = false,
            },
            msg = rx.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    deadline = Instant::now() + idle;
                    if writer.write_all(&b).await.is_err() || writer.flush().await.is_err() {
                        pty_open = false;
                    }
                }
                Some(Ok(Message::Text(t))) => {
                    deadline = Instant::now() + idle;
                    if let Some(json) = t.as_str().strip_prefix("mlogin:") {
                        if let Ok(s) = serde_json::from_str::<Start>(json) {
                            if let (true, Some(c), Some(l)) = (s.kind == "resize", s.columns, s.lines) {
                                let _ = set_size(&master, c, l);
                            }
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                Some(Ok(_)) => {}
            },
            () = tokio::time::sleep_until(deadline) => {
                let _ = tx.send(Message::binary(b"\r\nmlogin: idle too long; session ended\r\n".to_vec())).await;
                break None;
            }
        }
    };
    let Some(ran) = ran else {
        // The client left (or idled out): the container goes with `run`.
        let _ = tx.send(Message::Close(None)).await;
        return Ok(());
    };
    // What the shell wrote last.
    while pty_open {
        match tokio::time::timeout(Duration::from_millis(300), reader.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                let _ = tx.send(Message::binary(buf[..n].to_vec())).await;
            }
            _ => pty_open = false,
        }
    }
    let outcome = ran.map_err(Failure::from_run)?;
    let code = outcome.exit_code.unwrap_or(137);
    let _ = tx
        .send(control("exit", serde_json::json!({ "code": code })))
        .await;
    let _ = tx.send(Message::Close(None)).await;
    judge(outcome)
}

fn judge(outcome: TaskOutcome) -> Result<(), Failure> {
    if let Some(limit) = outcome.limits_hit.first() {
        return Err(Failure::user(
            JobErrorCode::TaskKilledError,
            format!("task killed (excessive resource usage): {limit}"),
        ));
    }
    match outcome.exit_code {
        Some(0) => Ok(()),
        code => Err(Failure::user(
            JobErrorCode::UserTaskError,
            format!("user command exited with code {}", code.unwrap_or(137)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(cmd: &str, args: &[&str]) -> Start {
        Start {
            kind: "start".into(),
            term: None,
            columns: None,
            lines: None,
            command: Some(cmd.into()),
            arguments: args.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    #[test]
    fn node_mantas_ctrun_becomes_a_shell() {
        let c = shell_command(&start(
            "/usr/bin/ctrun",
            &["-i", "core", "-l", "child", "/bin/bash", "--norc"],
        ));
        assert_eq!(
            c,
            "if [ -x /bin/bash ]; then exec /bin/bash --norc ; fi; exec /bin/sh "
        );
        let c = shell_command(&start(
            "/usr/bin/ctrun",
            &["-i", "core", "-l", "child", "/bin/bash", "-c", "echo 'hi'"],
        ));
        assert!(
            c.contains("exec /bin/bash --norc '-c' 'echo '\\''hi'\\'''"),
            "{c}"
        );
        assert_eq!(
            shell_command(&start("/bin/ls", &["-l"])),
            "exec '/bin/ls' '-l'"
        );
    }

    #[test]
    fn plumbing_assets() {
        assert!(is_medusa(" /assets/poseidon/public/medusa/agent.sh"));
        assert!(plumbing_asset("u", MEDUSA_ASSET));
        assert!(plumbing_asset("u", "/u/stor/medusa-config-1234.json"));
        assert!(!plumbing_asset("u", "/v/stor/medusa-config-1234.json"));
        assert!(!plumbing_asset("u", "/u/stor/x.json"));
    }
}

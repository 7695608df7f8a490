//! mlogin's reflector (Manta's medusa): `GET /:login/medusa/attach/:job/master`
//! is node-manta's `mlogin` (HTTP Signature of the job's owner, or of the
//! sub-user that created the job, see `rbac::jobs::may_attach`), `.../slave`
//! the agent running the job's session task (its task credential,
//! `jobs::task_token`, naming this job). Both upgrade to websockets; the
//! first to come waits for the other (the master is sent
//! `medusa:{"type":"wait"}` meanwhile), then the master gets
//! `medusa:{"type":"linkup"}` and every frame is relayed both ways until
//! either side closes. The session itself (pty, `mlogin:` frames) is the
//! agent's (`jobs/src/agent/medusa.rs`).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use jobs::model::JobState;
use sha1::{Digest, Sha1};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::AppState;

type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// How long one side waits for the other.
const PAIRING_WAIT: Duration = Duration::from_secs(600);
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

enum Parked {
    /// A client waiting for its job's session.
    Master(oneshot::Sender<Ws>),
    /// A session waiting for its client.
    Slave(Box<Ws>),
}

/// Sides waiting for their other half, by job id.
static PARKED: LazyLock<Mutex<HashMap<String, Parked>>> = LazyLock::new(Mutex::default);

/// Serves `/:login/medusa/attach/:id/:side` (it needs the raw request to
/// upgrade); anything else goes on to the API.
pub(crate) async fn intercept(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let parts: Vec<String> = req
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let [login, medusa, attach, id, side] = parts.as_slice() else {
        return next.run(req).await;
    };
    if medusa != "medusa" || attach != "attach" {
        return next.run(req).await;
    }
    match accept(&state, login, id, side, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn accept(
    state: &AppState,
    login: &str,
    id: &str,
    side: &str,
    mut req: Request,
) -> Result<Response> {
    let master = match side {
        "master" => true,
        "slave" => false,
        _ => {
            return Err(Error::ResourceNotFound {
                path: req.uri().path().to_string(),
            })
        }
    };
    if master {
        let caller =
            crate::auth::authenticate(state, req.method(), req.uri(), req.headers()).await?;
        let account = match &caller {
            Caller::Account(a) | Caller::SubUser { account: a, .. } => a,
            _ => {
                return Err(Error::AuthorizationFailed(format!(
                    "this caller is not allowed to attach to job {id}"
                )))
            }
        };
        if account.login != login {
            return Err(Error::AuthorizationFailed(format!(
                "{} is not allowed to attach to job {id}",
                account.login
            )));
        }
        let rec = state
            .jobs
            .job(account.uuid.as_str(), id)
            .await
            .map_err(crate::jobs::http_error)?
            .ok_or_else(|| Error::JobNotFound { id: id.to_string() })?;
        if rec.job.state == JobState::Done {
            return Err(Error::InvalidJobState {
                id: id.to_string(),
                reason: "is done".into(),
            });
        }
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let creator = rec.caller.as_ref().map(|c| c.user.as_str());
        crate::rbac::jobs::may_attach(state, &caller, creator, id, req.headers().clone(), peer)
            .await?;
    } else {
        let grant = req
            .headers()
            .get(jobs::task_token::HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|t| jobs::task_token::verify(state.meta.cluster_key(), t));
        if !grant.is_some_and(|g| g.login == login && g.job_id == id) {
            return Err(Error::AuthorizationFailed(
                "only the job's session may attach as slave".into(),
            ));
        }
    }
    let upgrade = req
        .headers()
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = req.headers().get("sec-websocket-key").cloned();
    let (true, Some(key)) = (upgrade, key) else {
        let body = serde_json::json!({
            "code": "ExpectedUpgrade",
            "message": "medusa attach needs a websocket upgrade"
        });
        return Ok((StatusCode::BAD_REQUEST, axum::Json(body)).into_response());
    };
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(WS_GUID.as_bytes());
    let accept = base64::engine::general_purpose::STANDARD.encode(sha.finalize());
    let on_upgrade = hyper::upgrade::on(&mut req);
    let id = id.to_string();
    tokio::spawn(async move {
        let Ok(io) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(io), Role::Server, None).await;
        if master {
            run_master(id, ws).await;
        } else {
            park_slave(id, ws);
        }
    });
    let mut resp = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = resp.headers_mut();
    h.insert("upgrade", HeaderValue::from_static("websocket"));
    h.insert("connection", HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert("sec-websocket-accept", v);
    }
    Ok(resp)
}

fn park_slave(id: String, slave: Ws) {
    let Ok(mut parked) = PARKED.lock() else {
        return;
    };
    let slave = match parked.remove(&id) {
        Some(Parked::Master(tx)) => match tx.send(slave) {
            Ok(()) => return,
            Err(slave) => slave,
        },
        Some(Parked::Slave(_)) | None => slave,
    };
    parked.insert(id.clone(), Parked::Slave(Box::new(slave)));
    drop(parked);
    // A session nobody attaches to is dropped (its agent then ends it).
    tokio::spawn(async move {
        tokio::time::sleep(PAIRING_WAIT).await;
        if let Ok(mut parked) = PARKED.lock() {
            if matches!(parked.get(&id), Some(Parked::Slave(_))) {
                parked.remove(&id);
            }
        }
    });
}

async fn run_master(id: String, mut master: Ws) {
    let (tx, mut rx) = oneshot::channel();
    let slave = {
        let Ok(mut parked) = PARKED.lock() else {
            return;
        };
        match parked.remove(&id) {
            Some(Parked::Slave(s)) => Some(*s),
            _ => {
                parked.insert(id.clone(), Parked::Master(tx));
                None
            }
        }
    };
    let slave = match slave {
        Some(s) => s,
        None => {
            let give_up = tokio::time::sleep(PAIRING_WAIT);
            tokio::pin!(give_up);
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let got = loop {
                tokio::select! {
                    s = &mut rx => break s.ok(),
                    _ = tick.tick() => {
                        if master.send(Message::text(r#"medusa:{"type":"wait"}"#)).await.is_err() {
                            break None;
                        }
                    }
                    msg = master.next() => match msg {
                        Some(Ok(Message::Close(_)) | Err(_)) | None => break None,
                        Some(Ok(_)) => {}
                    },
                    () = &mut give_up => break None,
                }
            };
            match got {
                Some(s) => s,
                None => {
                    if let Ok(mut parked) = PARKED.lock() {
                        if matches!(parked.get(&id), Some(Parked::Master(_))) {
                            parked.remove(&id);
                        }
                    }
                    let _ = master.close(None).await;
                    return;
                }
            }
        }
    };
    if master
        .send(Message::text(r#"medusa:{"type":"linkup"}"#))
        .await
        .is_err()
    {
        return;
    }
    relay(master, slave).await;
}

/// Forwards frames both ways until one side closes, then closes the other.
async fn relay(master: Ws, slave: Ws) {
    let (mut m_tx, mut m_rx) = master.split();
    let (mut s_tx, mut s_rx) = slave.split();
    loop {
        tokio::select! {
            msg = m_rx.next() => match msg {
                Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => {
                    if s_tx.send(m).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            msg = s_rx.next() => match msg {
                Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => {
                    if m_tx.send(m).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = m_tx.send(Message::Close(None)).await;
    let _ = s_tx.send(Message::Close(None)).await;
}

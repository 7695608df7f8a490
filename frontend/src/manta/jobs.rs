//! The jobs API routes (MANTA-API.md §4.1): `POST /:login/jobs`,
//! `POST /:login/jobs/:id/live/{in,in/end,cancel}`,
//! `GET /:login/jobs/:id/live/{status,in,out,err,fail}` and the job
//! listing: `GET /:login/jobs?state=&name=&transient=`, and `GET
//! /:login/jobs` with at most `limit` and `marker` (what `mjob list` and
//! `mls` send; see `is_job_listing`). Everything else under
//! `/:login/jobs` (the job directories, `stor/`, the archives) is ordinary
//! objects.

use crate::error::{Error, Result};
use crate::jobs::http_error;
use crate::manta::respond::{self, json_response};
use crate::manta::Req;
use crate::store::Error as StoreError;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use futures::StreamExt;
use jobs::model::{JobError, JobSpec, JobSpecExt, JobState};
use jobs::supervisor::{Command, JobRecord, Snapshot, TAIL};
use tokio::sync::oneshot;

/// Where a job command's answer comes back.
type Reply = oneshot::Sender<jobs::supervisor::Result<()>>;

/// Largest CreateJob body (Manta's JSON parser limit).
const MAX_JOB_BODY: usize = 100_000;
/// Largest body of one `live/in` call.
const MAX_INPUT_BODY: usize = 16 << 20;
const JOB_ERROR_TYPE: &str = "application/x-json-stream; type=job-error";

/// Handles the request if it is a jobs API call; otherwise gives the body
/// back for the plain object or directory handlers.
pub(crate) async fn route(req: &Req, body: Body) -> std::result::Result<Result<Response>, Body> {
    if req.path.tree.as_deref() != Some("jobs") {
        return Err(body);
    }
    let parts: Vec<&str> = req.path.parts.iter().map(String::as_str).collect();
    let m = &req.method;
    Ok(match (m, parts.as_slice()) {
        (&Method::POST, []) => create(req, body).await,
        (&Method::GET | &Method::HEAD, []) if is_job_listing(req) => list(req).await,
        (&Method::POST, [id, "live", "in"]) => add_inputs(req, id, body).await,
        (&Method::POST, [id, "live", "in", "end"]) => {
            command(req, id, |reply| Command::EndInput { reply }).await
        }
        (&Method::POST, [id, "live", "cancel"]) => {
            command(req, id, |reply| Command::Cancel { reply }).await
        }
        (&Method::GET | &Method::HEAD, [id, "live", what])
            if ["status", "in", "out", "err", "fail"].contains(what) =>
        {
            live_get(req, id, what).await
        }
        (_, [_, "live", ..]) => Err(Error::MethodNotAllowed {
            method: m.to_string(),
            path: req.path.display(),
        }),
        (&Method::POST, _) => Err(Error::MethodNotAllowed {
            method: m.to_string(),
            path: req.path.display(),
        }),
        _ => return Err(body),
    })
}

async fn read_body(body: Body, max: usize, what: &str) -> Result<Vec<u8>> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::BadRequest(format!("reading {what}: {e}")))?;
        if buf.len() + chunk.len() > max {
            return Err(StoreError::TooLarge { max: max as u64 }.into());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

async fn create(req: &Req, body: Body) -> Result<Response> {
    let bytes = match read_body(body, MAX_JOB_BODY, "job").await {
        Err(Error::Store(StoreError::TooLarge { .. })) => {
            return Err(Error::InvalidJob(format!(
                "job description is larger than {MAX_JOB_BODY} bytes"
            )))
        }
        other => other?,
    };
    let spec = JobSpec::from_json(&bytes).map_err(|e| Error::InvalidJob(e.to_string()))?;
    // RBAC (docs/rbac.md, "Jobs"): what a sub-user's job reads and how it is tagged.
    crate::rbac::jobs::check_assets(req, &spec).await?;
    let tags = crate::rbac::jobs::job_tags(req).await?;
    let ns = crate::jobs::namespace(&req.state);
    let (owner, login) = (req.account.uuid.as_str(), &req.account.login);
    let caller = crate::rbac::jobs::caller(req);
    let id = req
        .state
        .jobs
        .create(ns, owner, login, &spec, caller)
        .await
        .map_err(http_error)?;
    crate::rbac::jobs::tag_job_dir(req, &id, tags).await?;
    let mut resp = respond::empty(StatusCode::CREATED);
    let h = resp.headers_mut();
    respond::set(h, "location", &format!("/{}/jobs/{id}", req.account.login));
    respond::set(h, "content-length", "0");
    Ok(resp)
}

/// Job ids are uuids; anything else cannot name a job.
fn check_id(id: &str) -> Result<()> {
    uuid::Uuid::parse_str(id)
        .map(|_| ())
        .map_err(|_| Error::JobNotFound { id: id.to_string() })
}

async fn stored_job(req: &Req, id: &str) -> Result<JobRecord> {
    check_id(id)?;
    req.state
        .jobs
        .job(req.account.uuid.as_str(), id)
        .await
        .map_err(http_error)?
        .ok_or_else(|| Error::JobNotFound { id: id.to_string() })
}

async fn add_inputs(req: &Req, id: &str, body: Body) -> Result<Response> {
    let bytes = read_body(body, MAX_INPUT_BODY, "job inputs").await?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::BadRequest("job inputs must be UTF-8 text".into()))?;
    let paths: Vec<String> = text
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    crate::rbac::jobs::check_inputs(req, &paths).await?;
    let end = req.query.get("end").is_some_and(|v| v == "true");
    let status = StatusCode::NO_CONTENT;
    send(req, id, |reply| Command::AddInputs { paths, end, reply }).await?;
    Ok(respond::empty(status))
}

async fn command(req: &Req, id: &str, make: impl FnOnce(Reply) -> Command) -> Result<Response> {
    send(req, id, make).await?;
    Ok(respond::empty(StatusCode::ACCEPTED))
}

/// Sends a command to the job's actor; a job that is not running refuses
/// (409), an unknown one is 404.
async fn send(req: &Req, id: &str, make: impl FnOnce(Reply) -> Command) -> Result<()> {
    let rec = stored_job(req, id).await?;
    let refused = || Error::InvalidJobState {
        id: id.to_string(),
        reason: if rec.job.cancelled {
            "was cancelled".into()
        } else {
            "is done".into()
        },
    };
    let actor = if rec.job.state == JobState::Done {
        None
    } else {
        req.state.jobs.running_actor(id).await
    };
    let Some(actor) = actor else {
        // It may have finished meanwhile.
        let now = stored_job(req, id).await?;
        if now.job.state != JobState::Done {
            return Err(StoreError::MetadataUnavailable(format!(
                "job {id} is not picked up by a supervisor yet"
            ))
            .into());
        }
        return Err(refused());
    };
    let (tx, rx) = oneshot::channel();
    actor.send(make(tx)).await.map_err(|_| refused())?;
    rx.await.map_err(|_| refused())?.map_err(http_error)
}

async fn snapshot(req: &Req, id: &str) -> Result<Option<Snapshot>> {
    let Some(actor) = req.state.jobs.running_actor(id).await else {
        return Ok(None);
    };
    let (tx, rx) = oneshot::channel();
    if actor.send(Command::Snapshot { reply: tx }).await.is_err() {
        return Ok(None);
    }
    Ok(rx.await.ok())
}

async fn live_get(req: &Req, id: &str, what: &str) -> Result<Response> {
    let rec = stored_job(req, id).await?;
    let snap = if rec.job.state == JobState::Done {
        None
    } else {
        snapshot(req, id).await?
    };
    if what == "status" {
        let job = snap.map_or(rec.job, |s| s.job);
        return Ok(json_response(StatusCode::OK, &job));
    }
    let lines: Vec<String> = match snap {
        Some(s) => match what {
            "in" => s.inputs,
            "out" => s.outputs,
            "fail" => s.failures,
            _ => s.errors.iter().map(error_line).collect(),
        },
        None => {
            let name = match what {
                "in" => "in.txt",
                "out" => "out.txt",
                "fail" => "fail.txt",
                _ => "err.txt",
            };
            let path = format!("/{}/jobs/{id}/{name}", req.account.login);
            let ns = crate::jobs::namespace(&req.state);
            match ns.tail_lines(req.account.uuid.as_str(), &path, TAIL).await {
                Ok(lines) => lines.unwrap_or_default(),
                Err(e) => return Err(store_error(e)),
            }
        }
    };
    let ctype = if what == "err" {
        JOB_ERROR_TYPE
    } else {
        "text/plain"
    };
    Ok(text_lines(&lines, ctype))
}

/// The frontend error of a store error (kept whole when it is one).
fn store_error(e: jobs::supervisor::NsError) -> Error {
    match e.downcast::<Error>() {
        Ok(e) => *e,
        Err(other) => Error::Internal(other.to_string()),
    }
}

fn error_line(e: &JobError) -> String {
    serde_json::to_string(e).unwrap_or_default()
}

fn text_lines(lines: &[String], ctype: &str) -> Response {
    let mut body = String::new();
    for l in lines {
        body.push_str(l);
        body.push('\n');
    }
    let len = body.len();
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    respond::set(h, "content-type", ctype);
    respond::set(h, "content-length", &len.to_string());
    resp
}

/// Largest page of the job listing (the directory listing's too).
const MAX_LIST_LIMIT: usize = 1024;

/// Whether a request for `/:login/jobs` gets the job listing rather than
/// the plain directory listing: when it filters (`state`, `name`,
/// `transient`), and for a `GET` with nothing but `limit` and `marker`,
/// which is what both `mjob list` and `mls` send (node-manta's `mjob
/// list` is `?limit=1024`, ours has no query), so transient jobs are left
/// out of both. The same entries otherwise (a directory per job, by id);
/// other options (`sort`, types, `HEAD`) keep the directory listing.
fn is_job_listing(req: &Req) -> bool {
    ["state", "name", "transient"]
        .iter()
        .any(|k| req.query.contains_key(*k))
        || (req.method == Method::GET && req.query.keys().all(|k| k == "limit" || k == "marker"))
}

/// Which jobs a listing shows by their `transient` flag.
fn transient_filter(req: &Req) -> Result<Option<bool>> {
    match req.query.get("transient").map(String::as_str) {
        None | Some("false") => Ok(Some(false)),
        Some("true") => Ok(Some(true)),
        Some("all") => Ok(None),
        Some(other) => Err(Error::InvalidParameter(format!(
            "transient {other:?} is not one of true, false, all"
        ))),
    }
}

/// `GET /:login/jobs?state=&name=&transient=`: the account's jobs, newest
/// first is not promised (Manta lists by id). Transient jobs are left out
/// unless asked for: `transient=true` lists only them (as Marlin's
/// `jobsList` filter), `transient=all` every job.
async fn list(req: &Req) -> Result<Response> {
    let state = req.query.get("state").map(String::as_str);
    if let Some(s) = state {
        if !["running", "live", "queued", "done", "all"].contains(&s) {
            return Err(Error::InvalidParameter(format!(
                "state {s:?} is not one of running, done, all"
            )));
        }
    }
    let transient = transient_filter(req)?;
    let name = req.query.get("name").cloned();
    if let Some(n) = &name {
        if !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::InvalidParameter(format!(
                "name {n:?} may only hold [A-Za-z0-9_-]"
            )));
        }
    }
    let limit = req
        .query
        .get("limit")
        .map(|l| {
            l.parse::<usize>()
                .map_err(|_| Error::InvalidParameter(format!("limit {l:?}")))
        })
        .transpose()?
        .unwrap_or(1000)
        .clamp(1, MAX_LIST_LIMIT);
    let keep = |job: &jobs::model::Job| {
        let keep_state = match state {
            Some("running" | "live") => job.state != JobState::Done,
            Some("queued") => job.state == JobState::Queued,
            Some("done") => job.state == JobState::Done,
            _ => true,
        };
        keep_state
            && name.as_ref().is_none_or(|n| &job.name == n)
            && transient.is_none_or(|t| job.transient == t)
    };
    let line = |job: &jobs::model::Job| {
        serde_json::json!({
            "name": job.id,
            "type": "directory",
            "mtime": job.time_created,
        })
        .to_string()
    };
    let owner = req.account.uuid.as_str();
    let mut lines = Vec::new();
    // Jobs by id, from `marker` (inclusive, as the directory listing's, so
    // `mls` pages through either alike).
    let mut marker = req.query.get("marker").filter(|m| !m.is_empty()).cloned();
    if let Some(m) = &marker {
        if uuid::Uuid::parse_str(m).is_ok() {
            let rec = req.state.jobs.job(owner, m).await.map_err(http_error)?;
            if let Some(rec) = rec.filter(|r| keep(&r.job)) {
                lines.push(line(&rec.job));
            }
        }
    }
    'pages: while lines.len() < limit {
        let page = req
            .state
            .jobs
            .jobs(owner, marker.take())
            .await
            .map_err(http_error)?;
        for rec in page.jobs.iter().filter(|r| keep(&r.job)) {
            lines.push(line(&rec.job));
            if lines.len() >= limit {
                break 'pages;
            }
        }
        match page.next {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    let mut resp = text_lines(&lines, "application/x-json-stream; type=job");
    respond::set(
        resp.headers_mut(),
        "result-set-size",
        &lines.len().to_string(),
    );
    Ok(resp)
}

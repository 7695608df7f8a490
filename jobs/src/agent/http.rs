//! The agent's routes under `/agent/v1` (see [`super::wire`] for the
//! contract).

use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::tasks::{self, InputsError};
use super::wire::{AgentErrorBody, ReduceInputs, TaskRequest};
use super::Agent;

/// The longest a `GET .../tasks/{id}` waits for the task to finish.
const MAX_WAIT: Duration = Duration::from_secs(30);

pub(crate) fn routes(agent: Agent) -> Router {
    Router::new()
        .route("/agent/v1/tasks", post(create_task))
        .route("/agent/v1/tasks/{id}", get(task_status).delete(delete_task))
        .route("/agent/v1/tasks/{id}/inputs", post(add_inputs))
        .route("/agent/v1/status", get(agent_status))
        .with_state(agent)
}

struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "TaskNotFound",
            format!("task {id} not known"),
        )
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        Self::new(e.status(), "BadRequest", e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = AgentErrorBody {
            code: self.code.to_owned(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

async fn create_task(
    State(agent): State<Agent>,
    body: Result<Json<TaskRequest>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body?;
    let status = tasks::submit(&agent.shared, req);
    Ok((StatusCode::ACCEPTED, Json(status)))
}

async fn add_inputs(
    State(agent): State<Agent>,
    Path(id): Path<String>,
    body: Result<Json<ReduceInputs>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(batch) = body?;
    match tasks::add_inputs(&agent.shared, &id, batch) {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(InputsError::UnknownTask) => Err(ApiError::not_found(&id)),
        Err(InputsError::NotAReducer) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "NotAReducer",
            format!("task {id} is not a reduce task"),
        )),
        Err(InputsError::AlreadyEnded) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "InputsEnded",
            format!("task {id} already had its last input batch"),
        )),
    }
}

#[derive(Deserialize)]
struct WaitQuery {
    #[serde(default)]
    wait_ms: u64,
}

async fn task_status(
    State(agent): State<Agent>,
    Path(id): Path<String>,
    Query(query): Query<WaitQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let wait = Duration::from_millis(query.wait_ms).min(MAX_WAIT);
    match tasks::wait(&agent.shared, &id, wait).await {
        Some(status) => Ok(Json(status)),
        None => Err(ApiError::not_found(&id)),
    }
}

async fn delete_task(State(agent): State<Agent>, Path(id): Path<String>) -> StatusCode {
    tasks::cancel(&agent.shared, &id);
    StatusCode::NO_CONTENT
}

async fn agent_status(State(agent): State<Agent>) -> impl IntoResponse {
    Json(agent.status())
}

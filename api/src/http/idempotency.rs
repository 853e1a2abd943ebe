//! The `Idempotency-Key` header on mutations: a signed-in caller's retry of
//! the same request replays the first response (with `Idempotent-Replayed:
//! true`) instead of running it again; the rules and storage are in
//! `domain::idempotency`.

use async_graphql::{Request as GqlRequest, parser::types::OperationType};
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode},
    response::Response,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    AppState,
    respond::{self, Media, Refusal},
    steps::Judged,
};
use crate::auth::Viewer;
use crate::domain::idempotency::Claim;
use crate::error::{ApiError, codes};
use crate::i18n::{Format, Locale, Message};

/// The request header carrying the key.
pub const HEADER: &str = "idempotency-key";
/// The response header marking a replay.
pub const REPLAYED: &str = "idempotent-replayed";

/// Longest key accepted.
const KEY_MAX: usize = 255;

/// How the secrets Trestle shows once begin, as JSON strings: API tokens and webhook secrets.
const SECRETS: [&[u8]; 2] = [b"\"trst_", b"\"whsec_"];

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A key claimed for the request now running.
#[derive(Debug, Clone)]
pub struct Claimed {
    user: Uuid,
    key: String,
}

impl Claimed {
    /// Run `work` (the request's execution) holding this key: what it
    /// commits marks the key as run in the same transaction.
    pub async fn hold<F: std::future::Future>(&self, work: F) -> F::Output {
        crate::domain::idempotency::holding(self.user, self.key.clone(), work).await
    }
}

/// What the key lets the request do.
pub enum Begun {
    /// No key, or nothing it applies to (a query, an anonymous caller): run as usual.
    Untracked,
    /// Run, then [`finish`] with the answer.
    Run(Claimed),
    /// Answer this replay of the first response.
    Replayed(Response),
}

/// SHA-256 of what makes two requests the same: the document (as resolved,
/// so a persisted query and its text agree), the operation and the variables.
fn fingerprint(request: &GqlRequest) -> String {
    let variables = serde_json::to_value(&request.variables).unwrap_or_default();
    fingerprint_of(
        &request.query,
        request.operation_name.as_deref(),
        &variables,
    )
}

/// The fingerprint of a request with this document, operation and variables.
pub fn fingerprint_of(
    query: &str,
    operation_name: Option<&str>,
    variables: &serde_json::Value,
) -> String {
    let canonical = serde_json::json!([query, operation_name, variables]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Read the key of a mutation by a signed-in caller and claim it.
pub async fn begin(
    state: &AppState,
    headers: &HeaderMap,
    viewer: &Viewer,
    request: &GqlRequest,
    judged: &Judged,
    media: Media,
) -> Result<Begun, Refusal> {
    let locale = viewer.locale;
    let Some(value) = headers.get(HEADER) else {
        return Ok(Begun::Untracked);
    };
    let is_mutation = judged
        .analysis
        .as_ref()
        .is_some_and(|analysis| analysis.kind == OperationType::Mutation);
    let Some(user) = viewer.user.as_ref().filter(|_| is_mutation) else {
        return Ok(Begun::Untracked);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|key| {
            !key.is_empty() && key.len() <= KEY_MAX && key.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            Refusal::http(
                StatusCode::BAD_REQUEST,
                codes::BAD_USER_INPUT,
                &Message::InvalidFormat {
                    expected: Format::IdempotencyKey,
                },
                locale,
            )
        })?;
    let claim = state
        .domain
        .claim_idempotent(
            user.id,
            key,
            &fingerprint(request),
            state.limits.idempotency_lease,
        )
        .await;
    match claim {
        Ok(Claim::Run) => Ok(Begun::Run(Claimed {
            user: user.id,
            key: key.to_owned(),
        })),
        Ok(Claim::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = respond::raw(status, body.into_bytes(), media);
            response
                .headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            Ok(Begun::Replayed(response))
        }
        Err(error) => Err(refusal(&error, locale)),
    }
}

/// The refusal of a claim: 422 for a key reused with another request, 409
/// while the first runs (or when its answer was not kept), 500 otherwise.
fn refusal(error: &ApiError, locale: Locale) -> Refusal {
    let status = match error {
        ApiError::Conflict(Message::IdempotencyKeyReused) => StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(%error, "claiming an idempotency key failed");
        return Refusal::http(
            status,
            codes::INTERNAL_SERVER_ERROR,
            &Message::Internal,
            locale,
        );
    }
    Refusal::new(status, error, locale)
}

/// Keep the answer of a claimed request, or give the key back when a retry
/// should run again (a server error, a refused rate).
pub async fn finish(
    state: &AppState,
    claimed: Claimed,
    status: StatusCode,
    body: &[u8],
    codes: &[String],
) {
    let retry_runs_again = status.is_server_error()
        || codes
            .iter()
            .any(|code| code == codes::INTERNAL_SERVER_ERROR || code == codes::RATE_LIMITED);
    // A new API token or webhook secret is shown once and never stored in
    // the clear: such an answer is remembered as given, not kept for replay.
    let body = if SECRETS.iter().any(|prefix| contains(body, prefix)) {
        &[][..]
    } else {
        body
    };
    let outcome = if retry_runs_again {
        state
            .domain
            .release_idempotent(claimed.user, &claimed.key)
            .await
    } else {
        state
            .domain
            .complete_idempotent(claimed.user, &claimed.key, status.as_u16(), body)
            .await
    };
    if let Err(error) = outcome {
        tracing::error!(%error, "recording an idempotency key's answer failed");
    }
}

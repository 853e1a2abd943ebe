//! The steps every GraphQL request goes through before it runs, over HTTP
//! and WebSocket alike, each a function that answers a [`Refusal`] when the
//! request may not go on: who asks, whether its document may run, and
//! whether the asker's budget holds what the document is estimated to cost.

use std::net::IpAddr;

use async_graphql::{Request as GqlRequest, parser::types::ExecutableDocument};
use axum::http::StatusCode;

use super::{
    AppState,
    credentials::{self, Refused},
    document::{Analysis, scan},
    metrics::Rejection,
    rate_limit::{Principal, Reservation},
    respond::Refusal,
};
use crate::auth::Viewer;
use crate::error::{ApiError, codes};
use crate::i18n::{Locale, Message};

/// Who sends `authorization` (an `Authorization` value, if any) from
/// `address`: anonymous without one; a bad credential is refused, never
/// taken as anonymous (401, or 429 once the address has spent its budget).
/// With the caller, the programs it is a member of when they were read in
/// the same statement.
pub async fn authenticate(
    state: &AppState,
    address: IpAddr,
    authorization: Option<&[u8]>,
    locale: Locale,
) -> Result<(Viewer, Option<Vec<uuid::Uuid>>), Refusal> {
    match credentials::authenticate(state, address, authorization).await {
        Ok(None) => Ok((Viewer::anonymous(locale), None)),
        Ok(Some(caller)) => Ok((Viewer::signed_in(caller.user), caller.programs)),
        Err(Refused::Unauthenticated(message)) => Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            &ApiError::Unauthenticated(message),
            locale,
        )),
        Err(Refused::RateLimited(exhausted)) => {
            Err(rate_limited(state, exhausted.retry_after, locale))
        }
        Err(Refused::Internal) => Err(Refusal::http(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL_SERVER_ERROR,
            &Message::Internal,
            locale,
        )),
    }
}

/// A refusal for a spent budget.
pub fn rate_limited(state: &AppState, retry_after: u64, locale: Locale) -> Refusal {
    state.metrics.rejected(Rejection::Rate);
    Refusal::new(
        StatusCode::TOO_MANY_REQUESTS,
        &ApiError::RateLimited { retry_after },
        locale,
    )
}

/// Let `principal` in only while at least one point of its budget is left,
/// before its document is even read.
pub async fn admit(state: &AppState, principal: Principal, locale: Locale) -> Result<(), Refusal> {
    match &state.rate_limits.requests {
        Some(limiter) => limiter
            .admit(principal)
            .await
            .map(|_| ())
            .map_err(|exhausted| rate_limited(state, exhausted.retry_after, locale)),
        None => Ok(()),
    }
}

/// A document judged fit to run.
pub struct Judged {
    /// The parsed document, for the executor.
    pub document: ExecutableDocument,
    /// What the operation asks for; `None` when no operation can be chosen
    /// (the executor reports that).
    pub analysis: Option<Analysis>,
}

/// Find the document of `request` (it may come by hash), then scan, parse
/// and walk it: refused when it is unknown or untrusted, too large for the
/// parser, not GraphQL, over a limit, or holds a NUL character. A document
/// sent with its hash is kept under it once it passes.
pub async fn judge(
    state: &AppState,
    request: &mut GqlRequest,
    locale: Locale,
) -> Result<Judged, Refusal> {
    let registration = state.persisted.resolve(request, locale).await?;
    let judged = judge_document(state, request, locale)?;
    if let Some(registration) = registration {
        state.persisted.register(registration, &request.query).await;
    }
    Ok(judged)
}

fn judge_document(
    state: &AppState,
    request: &GqlRequest,
    locale: Locale,
) -> Result<Judged, Refusal> {
    let limits = &state.limits;
    scan::check_document(
        &request.query,
        limits.max_document_bytes,
        limits.max_document_nesting,
    )
    .map_err(|oversized| {
        let status = match oversized {
            scan::Oversized::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            scan::Oversized::TooDeep => StatusCode::BAD_REQUEST,
        };
        Refusal::http(
            status,
            codes::BAD_USER_INPUT,
            &Message::DocumentTooLarge,
            locale,
        )
    })?;
    let document = state
        .parsed
        .parse(&request.query)
        .map_err(|error| Refusal::syntax(&error.into(), locale))?;
    let analysis = state.documents.analyse(
        &document,
        request.operation_name.as_deref(),
        &request.variables,
    );
    if let Some(analysis) = &analysis {
        if let Err(exceeded) = state.documents.limits.check(&analysis.measures) {
            state.metrics.rejected(Rejection::Cost);
            return Err(Refusal::request_error(&exceeded, locale));
        }
        if analysis.introspects && !limits.introspection {
            return Err(Refusal::document(
                codes::GRAPHQL_VALIDATION_FAILED,
                &Message::IntrospectionDisabled,
                locale,
            ));
        }
        if let Some(path) = &analysis.nul_argument {
            let error = ApiError::bad_input(path.as_str(), Message::ControlCharacters);
            return Err(Refusal::request_error(&error, locale));
        }
    }
    Ok(Judged { document, analysis })
}

/// Set aside the estimated cost of `judged` from `principal`'s budget, so
/// concurrent requests cannot spend the same points; 429 while it does not
/// hold them. `None` when budgets are off.
pub async fn reserve(
    state: &AppState,
    principal: Principal,
    judged: &Judged,
    locale: Locale,
) -> Result<Option<Reservation>, Refusal> {
    let Some(limiter) = &state.rate_limits.requests else {
        return Ok(None);
    };
    let estimate = judged
        .analysis
        .as_ref()
        .map_or(1, |analysis| analysis.measures.complexity);
    limiter
        .reserve(principal, estimate)
        .await
        .map(Some)
        .map_err(|exhausted| rate_limited(state, exhausted.retry_after, locale))
}

//! `POST /graphql` and `GET /graphql`: GraphQL over HTTP.

// Early refusals are whole HTTP responses, built at most once per request.
#![allow(clippy::result_large_err)]

use async_graphql::{
    ErrorExtensionValues, Request as GqlRequest, Response as GqlResponse, ServerError, Value,
    http::GraphiQLSource,
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
};
use axum::{
    body::{Body, to_bytes},
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

use super::{AppState, REQUEST_ID, guard, refusal};
use crate::auth::Viewer;
use crate::error::ApiError;
use crate::graphql::{RequestContext, loaders::Loaders};
use crate::i18n::{Locale, Message, locale_from_accept_language};

/// The response media type of the GraphQL-over-HTTP spec.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Limits applied before a document reaches the executor.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Largest document in bytes.
    pub max_document_bytes: usize,
    /// Deepest bracket nesting of a document.
    pub max_document_nesting: usize,
    /// Whether browsers get GraphiQL on `GET /graphql`.
    pub graphiql: bool,
}

/// The query-string form of a GraphQL request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

fn anonymous_locale(headers: &HeaderMap) -> Locale {
    locale_from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

fn accepts_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE_JSON))
}

fn bad_request(message: Message, locale: Locale) -> Response {
    refusal(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &message, locale)
}

/// Decode the caller from `Authorization`; a bad credential is an error, never anonymous.
async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<Viewer, Response> {
    let locale = anonymous_locale(headers);
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Viewer::anonymous(locale));
    };
    let unauthenticated = |message: Message| {
        let mut response = refusal(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            &message,
            locale,
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    };
    let credential = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| unauthenticated(Message::InvalidToken))?;
    match state.domain.authenticate(credential).await {
        Ok(user) => Ok(Viewer::signed_in(user)),
        Err(ApiError::Unauthenticated(message)) => Err(unauthenticated(message)),
        Err(error) => {
            tracing::error!(error = ?error, "authentication failed unexpectedly");
            Err(refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                &Message::Internal,
                locale,
            ))
        }
    }
}

/// Refuse documents that are too large or deep before they are parsed.
fn check_document(state: &AppState, document: &str, locale: Locale) -> Result<(), Response> {
    guard::check_document(
        document,
        state.limits.max_document_bytes,
        state.limits.max_document_nesting,
    )
    .map_err(|refused| match refused {
        guard::Refusal::TooLarge => refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BAD_USER_INPUT",
            &Message::DocumentTooLarge,
            locale,
        ),
        guard::Refusal::TooDeep => bad_request(Message::DocumentTooLarge, locale),
    })
}

/// The type of the operation a parsed request would run.
fn operation_type(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    }
}

/// `POST /graphql` with a JSON body.
pub async fn post_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let locale = anonymous_locale(&headers);
    // Only JSON executes: a form or text/plain POST (a CSRF vector) does nothing.
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            &Message::UnsupportedMediaType,
            locale,
        );
    }
    let bytes = match to_bytes(body, state.limits.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &Message::BodyTooLarge,
                locale,
            );
        }
    };
    let request: GqlRequest = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(_) => return bad_request(Message::MalformedRequest, locale),
    };
    execute(&state, &headers, request, Method::Post).await
}

/// `GET /graphql`: GraphiQL for browsers, otherwise queries (never mutations).
pub async fn get_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let locale = anonymous_locale(&headers);
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let Some(query) = params.query else {
        if wants_html && state.limits.graphiql {
            return Html(
                GraphiQLSource::build()
                    .endpoint("/graphql")
                    .title("Trestle")
                    .finish(),
            )
            .into_response();
        }
        return bad_request(Message::MalformedRequest, locale);
    };
    let mut request = GqlRequest::new(query);
    request.operation_name = params.operation_name;
    if let Some(variables) = params.variables.filter(|v| !v.is_empty()) {
        match serde_json::from_str(&variables) {
            Ok(variables) => request.variables = variables,
            Err(_) => return bad_request(Message::MalformedRequest, locale),
        }
    }
    if let Some(extensions) = params.extensions.filter(|v| !v.is_empty()) {
        match serde_json::from_str(&extensions) {
            Ok(extensions) => request.extensions = extensions,
            Err(_) => return bad_request(Message::MalformedRequest, locale),
        }
    }
    execute(&state, &headers, request, Method::Get).await
}

/// How the request arrived.
#[derive(PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    mut request: GqlRequest,
    method: Method,
) -> Response {
    let request_id = request_id(headers);
    let locale = anonymous_locale(headers);
    if let Err(response) = check_document(state, &request.query, locale) {
        return response;
    }
    let graphql_media = accepts_graphql_response(headers);
    let operation_name = request.operation_name.clone();
    let operation = match request.parsed_query() {
        Ok(document) => operation_type(document, operation_name.as_deref()),
        Err(error) => return parse_failure(&error, locale, graphql_media),
    };
    // GET is safe by definition: it never runs a mutation (nor a subscription).
    if method == Method::Get
        && matches!(
            operation,
            Some(OperationType::Mutation | OperationType::Subscription)
        )
    {
        let mut response = refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            &Message::MutationOverGet,
            locale,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let viewer = match viewer(state, headers).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    let locale = viewer.locale;
    let loaders = Loaders::new(&state.domain, &viewer);
    let request = request.data(loaders).data(RequestContext {
        viewer,
        request_id: request_id.clone(),
    });
    let mut response = state.schema.execute(request).await;
    let request_failed = finish_errors(&mut response, locale, &request_id);
    let status = if graphql_media && request_failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let content_type = if graphql_media {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    let body = match serde_json::to_vec(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "could not serialise a response");
            return refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                &Message::Internal,
                locale,
            );
        }
    };
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// A syntax error: its position, never an echo of the document.
fn parse_failure(error: &ServerError, locale: Locale, graphql_media: bool) -> Response {
    let locations: Vec<_> = error
        .locations
        .iter()
        .map(|pos| serde_json::json!({ "line": pos.line, "column": pos.column }))
        .collect();
    let body = serde_json::json!({
        "errors": [{
            "message": Message::SyntaxError.text(locale),
            "locations": locations,
            "extensions": { "code": "GRAPHQL_PARSE_FAILED" }
        }]
    });
    let (status, content_type) = if graphql_media {
        (StatusCode::BAD_REQUEST, GRAPHQL_RESPONSE_JSON)
    } else {
        (StatusCode::OK, "application/json")
    };
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body.to_string(),
    )
        .into_response()
}

fn set_code(error: &mut ServerError, code: &str) {
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code);
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|ext| ext.get("code").is_some())
}

/// The quoted argument path in an async-graphql input error (`"input.key"`).
fn quoted_field(message: &str) -> Option<&str> {
    let start = message.find('"')? + 1;
    let end = start + message[start..].find('"')?;
    Some(&message[start..end])
}

/// Localise domain errors, give every error a code and keep internals out.
/// Returns whether the request failed before execution (parse or validation).
fn finish_errors(response: &mut GqlResponse, locale: Locale, request_id: &str) -> bool {
    let mut request_failed = false;
    let executed =
        !matches!(response.data, Value::Null) || response.errors.iter().any(|e| !e.path.is_empty());
    for error in &mut response.errors {
        if let Some(api) = error.source::<ApiError>().cloned() {
            if let ApiError::Internal(cause) = &api {
                tracing::error!(request_id, cause = %cause, path = ?error.path, "internal error");
                error
                    .extensions
                    .get_or_insert_with(ErrorExtensionValues::default)
                    .set("requestId", request_id);
            }
            error.message = api.message(locale);
            continue;
        }
        if has_code(error) {
            continue;
        }
        if error.message.starts_with("Invalid value for argument")
            || error.message.starts_with("Invalid value for variable")
            || error.message.contains("Variable \"")
        {
            let field = quoted_field(&error.message).map(|argument| {
                // `unknown field "x"` names the offending key inside the argument.
                match error
                    .message
                    .split_once("unknown field ")
                    .and_then(|(_, rest)| quoted_field(rest))
                {
                    Some(unknown) => format!("{argument}.{unknown}"),
                    None => argument.to_owned(),
                }
            });
            set_code(error, "BAD_USER_INPUT");
            if let Some(field) = field {
                error
                    .extensions
                    .get_or_insert_with(ErrorExtensionValues::default)
                    .set("field", field.trim_start_matches('$'));
            }
            request_failed |= !executed;
        } else if error.message.starts_with("Failed to parse") {
            // A scalar refused its value during execution; the message names the type.
            set_code(error, "BAD_USER_INPUT");
        } else if error.path.is_empty() && !executed {
            set_code(error, "GRAPHQL_VALIDATION_FAILED");
            request_failed = true;
        } else {
            tracing::error!(request_id, message = %error.message, path = ?error.path, "unclassified error");
            error.message = Message::Internal.text(locale);
            set_code(error, "INTERNAL_SERVER_ERROR");
            error
                .extensions
                .get_or_insert_with(ErrorExtensionValues::default)
                .set("requestId", request_id);
        }
    }
    request_failed
}

//! `POST /graphql` and `GET /graphql`: GraphQL over HTTP.

// Early refusals are whole HTTP responses, built at most once per request.
#![allow(clippy::result_large_err)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use async_graphql::{
    ErrorExtensionValues, PathSegment, Request as GqlRequest, Response as GqlResponse, ServerError,
    Value,
    http::GraphiQLSource,
    parser::types::{DocumentOperations, OperationType},
};
use axum::{
    Extension,
    body::{Body, to_bytes},
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    AppState, REQUEST_ID,
    cost::{self, CostChecked},
    credentials::{self, Refused},
    guard,
    metrics::Rejection,
    rate_limit::{Exhausted, Principal, Quota, SignInOutcome, client_network},
    refusal,
};
use crate::auth::Viewer;
use crate::domain::loaders::Loaders;
use crate::error::ApiError;
use crate::graphql::RequestContext;
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

/// The client address of a request: the peer, or with `trust_forwarded_for`
/// the last `X-Forwarded-For` entry (the one the proxy in front appended).
pub fn client_address(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> IpAddr {
    let forwarded = trust_forwarded_for
        .then(|| headers.get_all("x-forwarded-for").iter().next_back())
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    forwarded
        .or(peer.map(|peer| peer.ip()))
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// One GraphQL request's bookkeeping: who asked, what for, how it ended.
/// Every answer leaves through [`Exchange::finish`], which charges the
/// budget, sets the `x-ratelimit-*` headers, counts and logs.
struct Exchange {
    started: Instant,
    request_id: String,
    address: IpAddr,
    principal: Principal,
    operation: Option<String>,
    /// `extensions.code` of every error sent.
    codes: Vec<String>,
    /// The estimated cost, once measured.
    cost: Option<u64>,
    /// Points to charge; 1 for a request refused before execution.
    charge: u64,
    /// The budget as the rate limiter refused it (nothing is charged then).
    refused_quota: Option<Quota>,
}

impl Exchange {
    fn begin(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> Self {
        let address = client_network(client_address(
            headers,
            peer,
            state.rate_limits.trust_forwarded_for,
        ));
        Self {
            started: Instant::now(),
            request_id: request_id(headers),
            address,
            principal: Principal::Address(address),
            operation: None,
            codes: Vec::new(),
            cost: None,
            charge: 1,
            refused_quota: None,
        }
    }

    /// A refusal with an HTTP status, recorded under its code.
    fn refuse(
        &mut self,
        status: StatusCode,
        code: &str,
        message: &Message,
        locale: Locale,
    ) -> Response {
        self.codes.push(code.to_owned());
        refusal(status, code, message, locale)
    }

    fn finish(self, state: &AppState, mut response: Response) -> Response {
        let quota = match &state.rate_limits.requests {
            Some(_) if self.refused_quota.is_some() => self.refused_quota,
            Some(limiter) => Some(limiter.charge(self.principal, self.charge.max(1))),
            None => None,
        };
        if let Some(quota) = quota {
            quota.apply(response.headers_mut());
        }
        let elapsed = self.started.elapsed();
        state
            .metrics
            .observe(self.operation.as_deref(), &self.codes, elapsed);
        tracing::info!(
            request_id = %self.request_id,
            principal = %self.principal,
            operation = self.operation.as_deref().unwrap_or("-"),
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            status = response.status().as_u16(),
            codes = %self.codes.join(","),
            cost = self.cost.unwrap_or(0),
            charged = if self.refused_quota.is_some() { 0 } else { self.charge.max(1) },
            "graphql request"
        );
        response
    }
}

/// `429 Too Many Requests` with `Retry-After` and a `RATE_LIMITED` error.
pub(super) fn too_many_requests(message: &Message, retry_after: u64, locale: Locale) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": message.text(locale),
            "extensions": { "code": "RATE_LIMITED", "retryAfter": retry_after }
        }]
    });
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::RETRY_AFTER, HeaderValue::from(retry_after)),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The response fields a request pays for: every field in `data`,
/// introspection included.
fn fields_returned(data: &Value) -> u64 {
    match data {
        Value::Object(map) => map.values().fold(0u64, |sum, v| {
            sum.saturating_add(1).saturating_add(fields_returned(v))
        }),
        Value::List(items) => items
            .iter()
            .fold(0u64, |sum, v| sum.saturating_add(fields_returned(v))),
        _ => 0,
    }
}

/// A sign-in in the document: its response key and the email it names.
struct SignIn {
    key: String,
    email: Option<String>,
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

/// Decode the caller from `Authorization`; a bad credential is an error,
/// never anonymous, and is paid for by the client address (429 once its
/// budget is spent, before any database statement).
async fn viewer(
    state: &AppState,
    headers: &HeaderMap,
    exchange: &mut Exchange,
) -> Result<Viewer, Response> {
    let locale = anonymous_locale(headers);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    match credentials::authenticate(state, exchange.address, authorization).await {
        Ok(None) => Ok(Viewer::anonymous(locale)),
        Ok(Some(user)) => Ok(Viewer::signed_in(user)),
        Err(Refused::Unauthenticated(message)) => {
            let mut response = exchange.refuse(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                &message,
                locale,
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            Err(response)
        }
        Err(Refused::RateLimited(exhausted)) => {
            Err(rate_limited(state, exchange, exhausted, locale))
        }
        Err(Refused::Internal) => Err(exchange.refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            &Message::Internal,
            locale,
        )),
    }
}

/// 429 for a spent budget; nothing more is charged.
fn rate_limited(
    state: &AppState,
    exchange: &mut Exchange,
    exhausted: Exhausted,
    locale: Locale,
) -> Response {
    state.metrics.rejected(Rejection::Rate);
    exchange.refused_quota = Some(exhausted.quota);
    exchange.codes.push("RATE_LIMITED".into());
    let retry_after = exhausted.retry_after;
    too_many_requests(&Message::RateLimited { retry_after }, retry_after, locale)
}

/// Refuse documents that are too large or deep before they are parsed.
fn check_document(
    state: &AppState,
    document: &str,
    locale: Locale,
    exchange: &mut Exchange,
) -> Result<(), Response> {
    guard::check_document(
        document,
        state.limits.max_document_bytes,
        state.limits.max_document_nesting,
    )
    .map_err(|refused| match refused {
        guard::Refusal::TooLarge => exchange.refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BAD_USER_INPUT",
            &Message::DocumentTooLarge,
            locale,
        ),
        guard::Refusal::TooDeep => exchange.refuse(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            &Message::DocumentTooLarge,
            locale,
        ),
    })
}

/// The connection's peer address, when the server recorded it.
type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// `POST /graphql` with a JSON body.
pub async fn post_graphql(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut exchange = Exchange::begin(&state, &headers, peer.map(|p| p.0.0));
    let response = post_request(&state, &headers, body, &mut exchange).await;
    exchange.finish(&state, response)
}

async fn post_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    exchange: &mut Exchange,
) -> Response {
    let locale = anonymous_locale(headers);
    // Only JSON executes: a form or text/plain POST (a CSRF vector) does nothing.
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return exchange.refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            &Message::UnsupportedMediaType,
            locale,
        );
    }
    let bytes = match to_bytes(body, state.limits.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return exchange.refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &Message::BodyTooLarge,
                locale,
            );
        }
    };
    let request: GqlRequest = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(_) => {
            exchange.codes.push("BAD_USER_INPUT".into());
            return bad_request(Message::MalformedRequest, locale);
        }
    };
    execute(state, headers, request, Method::Post, exchange).await
}

/// `GET /graphql`: GraphiQL for browsers, otherwise queries (never mutations).
pub async fn get_graphql(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if params.query.is_none() && wants_html && state.limits.graphiql {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("Trestle")
                .finish(),
        )
        .into_response();
    }
    let mut exchange = Exchange::begin(&state, &headers, peer.map(|p| p.0.0));
    let response = get_request(&state, &headers, params, &mut exchange).await;
    exchange.finish(&state, response)
}

async fn get_request(
    state: &AppState,
    headers: &HeaderMap,
    params: GetParams,
    exchange: &mut Exchange,
) -> Response {
    let locale = anonymous_locale(headers);
    let malformed = |exchange: &mut Exchange| {
        exchange.codes.push("BAD_USER_INPUT".into());
        bad_request(Message::MalformedRequest, locale)
    };
    let Some(query) = params.query else {
        return malformed(exchange);
    };
    let mut request = GqlRequest::new(query);
    request.operation_name = params.operation_name;
    if let Some(variables) = params.variables.filter(|v| !v.is_empty()) {
        match serde_json::from_str(&variables) {
            Ok(variables) => request.variables = variables,
            Err(_) => return malformed(exchange),
        }
    }
    if let Some(extensions) = params.extensions.filter(|v| !v.is_empty()) {
        match serde_json::from_str(&extensions) {
            Ok(extensions) => request.extensions = extensions,
            Err(_) => return malformed(exchange),
        }
    }
    execute(state, headers, request, Method::Get, exchange).await
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
    exchange: &mut Exchange,
) -> Response {
    exchange.operation = request.operation_name.clone();
    // Who asks decides whose budget pays, so the caller is known first.
    let viewer = match viewer(state, headers, exchange).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    if let Some(user) = &viewer.user {
        exchange.principal = Principal::User(user.id);
    }
    let locale = viewer.locale;
    if let Some(limiter) = &state.rate_limits.requests
        && let Err(exhausted) = limiter.admit(exchange.principal)
    {
        return rate_limited(state, exchange, exhausted, locale);
    }
    if let Err(response) = check_document(state, &request.query, locale, exchange) {
        return response;
    }
    let graphql_media = accepts_graphql_response(headers);
    let document = match async_graphql::parser::parse_query(&request.query) {
        Ok(document) => document,
        Err(error) => {
            exchange.codes.push("GRAPHQL_PARSE_FAILED".into());
            return parse_failure(&error.into(), locale, graphql_media);
        }
    };
    // A lone named operation is known by its name even when the client does not send it.
    if let (None, DocumentOperations::Multiple(operations)) =
        (&exchange.operation, &document.operations)
        && operations.len() == 1
    {
        exchange.operation = operations.keys().next().map(|name| name.to_string());
    }
    let operation_name = request.operation_name.as_deref();
    let operation = cost::select_operation(&document, operation_name);
    let operation_type = operation.map(|op| op.ty);
    // GET is safe by definition: it never runs a mutation (nor a subscription).
    if method == Method::Get
        && matches!(
            operation_type,
            Some(OperationType::Mutation | OperationType::Subscription)
        )
    {
        let mut response = exchange.refuse(
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
    if let Some(field) = super::nul::find(&document, &request.variables) {
        exchange.codes.push("BAD_USER_INPUT".into());
        let error = ApiError::bad_input(field, Message::ControlCharacters);
        let mut server_error = ServerError::new(error.message(locale), None);
        server_error.extensions = error.to_graphql(locale).extensions;
        return graphql_errors(vec![server_error], graphql_media);
    }
    // The cost is judged on the document alone: nothing has run yet.
    if let Some(measures) = state
        .cost
        .measure(&document, operation_name, &request.variables)
    {
        exchange.cost = Some(measures.complexity);
        if let Err(exceeded) = state.cost.limits.check(&measures) {
            state.metrics.rejected(Rejection::Cost);
            exchange.codes.push("QUERY_TOO_COMPLEX".into());
            return graphql_errors(vec![exceeded.to_server_error(locale)], graphql_media);
        }
    }
    let roots = operation
        .map(|op| cost::root_fields(&document, op))
        .unwrap_or_default();
    let mut mutations = 0u64;
    let mut sign_ins = Vec::new();
    if let Some(op) = operation.filter(|op| op.ty == OperationType::Mutation) {
        for field in &roots {
            match field.name.node.as_str() {
                "__typename" => {}
                "login" => {
                    mutations += 1;
                    let email =
                        cost::argument(field, "input", op, &request.variables).and_then(|input| {
                            match input {
                                Value::Object(input) => match input.get("email") {
                                    Some(Value::String(email)) => Some(email.clone()),
                                    _ => None,
                                },
                                _ => None,
                            }
                        });
                    sign_ins.push(SignIn {
                        key: field.response_key().node.to_string(),
                        email,
                    });
                }
                _ => mutations += 1,
            }
        }
    }
    drop(roots);
    // Sign-ins are counted before they run, so parallel guesses cannot slip past.
    if let Some(limiter) = &state.rate_limits.sign_ins
        && !sign_ins.is_empty()
    {
        let accounts: Vec<Option<String>> = sign_ins.iter().map(|s| s.email.clone()).collect();
        if let Err(retry_after) = limiter.reserve(&accounts, exchange.address) {
            tracing::warn!(
                request_id = %exchange.request_id,
                retry_after,
                "sign-in refused: too many failures from the address, or the account must wait"
            );
            state.metrics.rejected(Rejection::SignIn);
            exchange.codes.push("RATE_LIMITED".into());
            return too_many_requests(
                &Message::TooManySignInFailures { retry_after },
                retry_after,
                locale,
            );
        }
    }
    request.set_parsed_query(document);
    let loaders = Loaders::new(&state.domain, &viewer);
    let work = loaders.work_meter();
    let request = request
        .data(CostChecked)
        .data(loaders)
        .data(RequestContext {
            viewer,
            request_id: exchange.request_id.clone(),
        });
    let mut response = state.schema.execute(request).await;
    if let Some(limiter) = &state.rate_limits.sign_ins {
        for sign_in in &sign_ins {
            let outcome = sign_in_outcome(&response, &sign_in.key);
            if outcome == SignInOutcome::Failed {
                tracing::info!(request_id = %exchange.request_id, "sign-in failed");
            }
            limiter.settle(sign_in.email.as_deref(), exchange.address, outcome);
        }
    }
    // What it returned, what it computed beyond that (plans, rendering), and
    // a flat fee per mutation.
    exchange.charge = fields_returned(&response.data)
        .max(1)
        .saturating_add(work.load(std::sync::atomic::Ordering::Relaxed))
        .saturating_add(state.rate_limits.mutation_cost.saturating_mul(mutations));
    let request_failed = finish_errors(&mut response, locale, &exchange.request_id);
    exchange
        .codes
        .extend(response.errors.iter().filter_map(|error| {
            match error.extensions.as_ref()?.get("code")? {
                Value::String(code) => Some(code.clone()),
                _ => None,
            }
        }));
    let status = if graphql_media && request_failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    json_response(status, &response, graphql_media, locale)
}

/// How the sign-in answered under `key` ended.
fn sign_in_outcome(response: &GqlResponse, key: &str) -> SignInOutcome {
    let refused = response.errors.iter().any(|error| {
        matches!(error.path.first(), Some(PathSegment::Field(field)) if field == key)
            && matches!(
                error.source::<ApiError>(),
                Some(ApiError::Unauthenticated(Message::InvalidCredentials))
            )
    });
    let signed_in = matches!(&response.data, Value::Object(data)
        if data.get(key).is_some_and(|value| !matches!(value, Value::Null)));
    if refused {
        SignInOutcome::Failed
    } else if signed_in {
        SignInOutcome::Succeeded
    } else {
        SignInOutcome::NotRun
    }
}

/// Errors refused before execution, as a GraphQL response.
fn graphql_errors(errors: Vec<ServerError>, graphql_media: bool) -> Response {
    let status = if graphql_media {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    json_response(
        status,
        &GqlResponse::from_errors(errors),
        graphql_media,
        Locale::En,
    )
}

fn json_response(
    status: StatusCode,
    response: &GqlResponse,
    graphql_media: bool,
    locale: Locale,
) -> Response {
    let content_type = if graphql_media {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    let body = match serde_json::to_vec(response) {
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
pub(super) fn finish_errors(response: &mut GqlResponse, locale: Locale, request_id: &str) -> bool {
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
        } else if error.message.starts_with("Failed to parse")
            || error.message.starts_with("Expected input type")
        {
            // An argument refused its value during execution; the message names the type.
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

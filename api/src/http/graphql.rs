//! `POST /graphql` and `GET /graphql`: GraphQL over HTTP.
//!
//! A request reads its body, then goes through the [`steps`](super::steps)
//! shared with the WebSocket transport — who asks, whether any budget is
//! left, whether the document may run, whether the budget holds its
//! estimate — runs, and leaves through [`Exchange::finish`], which charges
//! what it cost, sets the `x-ratelimit-*` headers, counts and logs.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Instant;

use async_graphql::{
    Request as GqlRequest, Value,
    parser::types::{DocumentOperations, OperationType},
};
use axum::{
    Extension,
    body::{Body, to_bytes},
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    AppState, REQUEST_ID,
    idempotency::{self, Begun},
    metrics::Rejection,
    playground,
    rate_limit::{Principal, Reservation, client_network},
    respond::{self, Media, Refusal},
    steps::{self, Judged},
};
use crate::auth::Viewer;
use crate::domain::loaders::{CurrentLoaders, Loaders};
use crate::error::{ApiError, codes};
use crate::graphql::RequestContext;
use crate::i18n::{Locale, Message, locale_from_accept_language};

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
    /// Whether `__schema` and `__type` may be asked for.
    pub introspection: bool,
    /// How long an `Idempotency-Key` stays claimed by a request that never
    /// finishes (the server died): a little over the request timeout.
    pub idempotency_lease: std::time::Duration,
    /// The estimated cost of the requests executing at once, across every
    /// caller: a request waits its turn until its estimate fits.
    pub in_flight: InFlight,
}

/// Cost points of the large requests executing now, capped in total, so that
/// many callers' large requests together cannot take the server's memory:
/// each holds its estimate (at most the whole cap) while it runs, and the
/// next waits until its own fits (the request timeout bounds the wait).
/// Requests estimated under a two-hundredth of the cap (a dashboard, a
/// mutation) never wait: turns are given in order, and they must not queue
/// behind the large ones.
#[derive(Debug, Clone)]
pub struct InFlight {
    points: std::sync::Arc<tokio::sync::Semaphore>,
    total: u32,
}

impl InFlight {
    /// A cap of `total` points (at least 1).
    pub fn new(total: u64) -> Self {
        let total = u32::try_from(total.max(1)).unwrap_or(u32::MAX >> 3);
        Self {
            points: std::sync::Arc::new(tokio::sync::Semaphore::new(total as usize)),
            total,
        }
    }

    /// For a large request, wait until `cost` points (at most the cap) are
    /// free and hold them while the returned turn lives; a small one goes at once.
    pub async fn turn(&self, cost: u64) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if cost < u64::from(self.total / 200) {
            return None;
        }
        let cost = u32::try_from(cost.min(u64::from(self.total))).unwrap_or(self.total);
        Some(
            self.points
                .clone()
                .acquire_many_owned(cost)
                .await
                .expect("the in-flight semaphore is never closed"),
        )
    }
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

/// The connection's peer address, when the server recorded it.
type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// The query-string form of a GraphQL request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// How the request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// `POST /graphql` with a JSON body.
pub async fn post_graphql(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut exchange = Exchange::begin(&state, &headers, peer);
    let outcome = match read_body(&state, &headers, body).await {
        Ok(request) => run(&state, &headers, request, Method::Post, &mut exchange).await,
        Err(refusal) => Err(refusal),
    };
    exchange.finish(&state, outcome).await
}

/// `GET /graphql`: GraphiQL for browsers, otherwise queries (never mutations).
pub async fn get_graphql(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    if params.query.is_none() && state.limits.graphiql && playground::wants_html(&headers) {
        return playground::page();
    }
    let mut exchange = Exchange::begin(&state, &headers, peer);
    let outcome = match read_query_string(params, exchange.locale) {
        Ok(request) => run(&state, &headers, request, Method::Get, &mut exchange).await,
        Err(refusal) => Err(refusal),
    };
    exchange.finish(&state, outcome).await
}

/// The steps of one request, each refusing with its own answer.
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    mut request: GqlRequest,
    method: Method,
    exchange: &mut Exchange,
) -> Result<Response, Refusal> {
    exchange.operation.clone_from(&request.operation_name);
    // Who asks decides whose budget pays, so the caller is known first.
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let (viewer, programs) =
        steps::authenticate(state, exchange.address, authorization, exchange.locale).await?;
    exchange.signed_in(&viewer);
    steps::admit(state, exchange.principal, exchange.locale).await?;
    let judged = steps::judge(state, &mut request, exchange.locale).await?;
    exchange.name_operation(&judged);
    refuse_unsafe_method(method, &judged, exchange.locale)?;
    // The budget first: a request it refuses has claimed no key.
    exchange.reservation =
        steps::reserve(state, exchange.principal, &judged, exchange.locale).await?;
    let claimed =
        match idempotency::begin(state, headers, &viewer, &request, &judged, exchange.media).await?
        {
            Begun::Untracked => None,
            Begun::Run(claimed) => Some(claimed),
            Begun::Replayed(response) => return Ok(response),
        };
    let execution = exchange.execute(
        state,
        request,
        judged,
        (viewer, programs),
        claimed.is_some(),
    );
    let (response, body) = match &claimed {
        Some(claimed) => claimed.hold(execution).await,
        None => execution.await,
    };
    if let (Some(claimed), Some(body)) = (claimed, body) {
        idempotency::finish(state, claimed, response.status(), &body, &exchange.codes).await;
    }
    Ok(response)
}

/// Read a JSON `POST` body: only JSON executes, so a form or `text/plain`
/// POST (a CSRF vector) does nothing.
async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<GqlRequest, Refusal> {
    let locale = anonymous_locale(headers);
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Refusal::http(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            &Message::UnsupportedMediaType,
            locale,
        ));
    }
    let bytes = to_bytes(body, state.limits.max_body_bytes)
        .await
        .map_err(|_| {
            Refusal::http(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                &Message::BodyTooLarge,
                locale,
            )
        })?;
    serde_json::from_slice(&bytes).map_err(|_| malformed(locale))
}

/// Read a request from the query string of a `GET`.
fn read_query_string(params: GetParams, locale: Locale) -> Result<GqlRequest, Refusal> {
    // A persisted query may come as its hash alone, in `extensions`.
    let query = match params.query {
        Some(query) => query,
        None if params.extensions.is_some() => String::new(),
        None => return Err(malformed(locale)),
    };
    let mut request = GqlRequest::new(query);
    request.operation_name = params.operation_name;
    if let Some(variables) = params.variables.filter(|v| !v.is_empty()) {
        request.variables = serde_json::from_str(&variables).map_err(|_| malformed(locale))?;
    }
    if let Some(extensions) = params.extensions.filter(|v| !v.is_empty()) {
        request.extensions = serde_json::from_str(&extensions).map_err(|_| malformed(locale))?;
    }
    Ok(request)
}

fn malformed(locale: Locale) -> Refusal {
    Refusal::http(
        StatusCode::BAD_REQUEST,
        codes::BAD_USER_INPUT,
        &Message::MalformedRequest,
        locale,
    )
}

/// GET is safe by definition: it never runs a mutation (nor a subscription).
fn refuse_unsafe_method(method: Method, judged: &Judged, locale: Locale) -> Result<(), Refusal> {
    let kind = judged.analysis.as_ref().map(|analysis| analysis.kind);
    if method == Method::Get
        && matches!(
            kind,
            Some(OperationType::Mutation | OperationType::Subscription)
        )
    {
        return Err(Refusal::http(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::METHOD_NOT_ALLOWED,
            &Message::MutationOverGet,
            locale,
        )
        .header(header::ALLOW, HeaderValue::from_static("POST")));
    }
    Ok(())
}

fn anonymous_locale(headers: &HeaderMap) -> Locale {
    locale_from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
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

/// One GraphQL request's bookkeeping: who asked, what for, how it ended.
struct Exchange {
    started: Instant,
    request_id: String,
    /// The client network, whose budget pays while nobody is signed in.
    address: IpAddr,
    principal: Principal,
    /// The caller's language: `Accept-Language`, then the user's own.
    locale: Locale,
    media: Media,
    operation: Option<String>,
    /// `extensions.code` of every error sent.
    codes: Vec<String>,
    /// The estimated cost, once measured.
    estimate: Option<u64>,
    /// Budget set aside for the request while it runs.
    reservation: Option<Reservation>,
    /// Points it cost; 1 for a request refused before execution.
    charge: u64,
    /// Whether a signed-in caller's operation was executed.
    ran: bool,
}

impl Exchange {
    fn begin(state: &AppState, headers: &HeaderMap, peer: Peer) -> Self {
        let address = client_network(client_address(
            headers,
            peer.map(|p| p.0.0),
            state.rate_limits.trust_forwarded_for,
        ));
        Self {
            started: Instant::now(),
            request_id: headers
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned(),
            address,
            principal: Principal::Address(address),
            locale: anonymous_locale(headers),
            media: Media::accepted(headers),
            operation: None,
            codes: Vec::new(),
            estimate: None,
            reservation: None,
            charge: 1,
            ran: false,
        }
    }

    /// From now on the signed-in user pays, in their language.
    fn signed_in(&mut self, viewer: &Viewer) {
        if let Some(user) = &viewer.user {
            self.principal = Principal::User(user.id);
        }
        self.locale = viewer.locale;
    }

    /// Name the operation for the log and the metrics by the document's
    /// own operation name: the one the client chose if the document has
    /// it, or its only one; an anonymous operation has none.
    fn name_operation(&mut self, judged: &Judged) {
        self.operation = match &judged.document.operations {
            DocumentOperations::Single(_) => None,
            DocumentOperations::Multiple(operations) => match self.operation.take() {
                Some(chosen) if operations.contains_key(chosen.as_str()) => Some(chosen),
                _ if operations.len() == 1 => operations.keys().next().map(|name| name.to_string()),
                _ => None,
            },
        };
        self.estimate = judged
            .analysis
            .as_ref()
            .map(|analysis| analysis.measures.complexity);
    }

    /// Run the judged request and answer it: what it cost is what it
    /// returned, what it computed beyond that (plans, rendering) and a flat
    /// fee per mutation field. With `keep_body`, also the body answered.
    async fn execute(
        &mut self,
        state: &AppState,
        mut request: GqlRequest,
        judged: Judged,
        (viewer, programs): (Viewer, Option<Vec<uuid::Uuid>>),
        keep_body: bool,
    ) -> (Response, Option<Vec<u8>>) {
        let mutations = judged
            .analysis
            .as_ref()
            .filter(|analysis| analysis.kind == OperationType::Mutation)
            .map_or(0, |analysis| analysis.root_fields);
        let writes = judged
            .analysis
            .as_ref()
            .is_none_or(|analysis| analysis.kind == OperationType::Mutation);
        request.set_parsed_query(judged.document);
        let _turn = state
            .limits
            .in_flight
            .turn(self.estimate.unwrap_or(1))
            .await;
        // A document that writes may change the caller's programs (a new
        // program makes its creator OWNER): it reads them when it needs them.
        let loaders = if writes {
            Loaders::uncached(&state.domain, &viewer)
        } else {
            let loaders = Loaders::new(&state.domain, &viewer);
            if let Some(programs) = programs {
                loaders.visibility().know_programs(programs);
            }
            loaders
        };
        let work = loaders.work_meter();
        let request = request
            .data(CurrentLoaders::new(loaders))
            .data(RequestContext {
                viewer,
                request_id: self.request_id.clone(),
                address: Some(self.address),
            });
        self.ran = matches!(self.principal, Principal::User(_));
        let mut response = state.schema.execute(request).await;
        for error in &response.errors {
            if let Some(ApiError::TooManySignIns { .. }) = error.source::<ApiError>() {
                state.metrics.rejected(Rejection::SignIn);
                tracing::warn!(request_id = %self.request_id, "sign-in refused: too many failures");
            }
        }
        self.charge = fields_returned(&response.data)
            .max(1)
            .saturating_add(work.load(Ordering::Relaxed))
            .saturating_add(state.rate_limits.mutation_cost.saturating_mul(mutations));
        let request_failed = respond::finish_errors(&mut response, self.locale, &self.request_id);
        self.codes
            .extend(response.errors.iter().filter_map(|error| {
                match error.extensions.as_ref()?.get("code")? {
                    Value::String(code) => Some(code.clone()),
                    _ => None,
                }
            }));
        let status = respond::status_of(&response, request_failed, self.media);
        let outcome = if request_failed {
            respond::Outcome::RequestError
        } else {
            respond::Outcome::Executed
        };
        let Some(body) = respond::body(&response, outcome) else {
            return (StatusCode::INTERNAL_SERVER_ERROR.into_response(), None);
        };
        let kept = keep_body.then(|| body.clone());
        let mut answer = respond::raw(status, body, self.media);
        if status == StatusCode::TOO_MANY_REQUESTS
            && let Some(retry_after) = respond::retry_after(&response)
        {
            answer
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        (answer, kept)
    }

    /// The answer, charged, counted and logged.
    async fn finish(mut self, state: &AppState, outcome: Result<Response, Refusal>) -> Response {
        let refused_for_rate;
        let mut response = match outcome {
            Ok(response) => {
                refused_for_rate = false;
                response
            }
            Err(refusal) => {
                let code = refusal.code();
                refused_for_rate = code == codes::RATE_LIMITED;
                self.codes.push(code);
                refusal.into_response(self.media)
            }
        };
        let charged = if refused_for_rate {
            0
        } else {
            self.charge.max(1)
        };
        if let Some(limiter) = &state.rate_limits.requests {
            let quota = match self.reservation.take() {
                Some(reservation) => limiter.settle(reservation, charged).await,
                None => limiter.charge(self.principal, charged).await,
            };
            quota.apply(response.headers_mut());
        }
        let elapsed = self.started.elapsed();
        state
            .metrics
            .observe(self.operation.as_deref(), self.ran, &self.codes, elapsed);
        tracing::info!(
            request_id = %self.request_id,
            principal = %self.principal,
            operation = self.operation.as_deref().unwrap_or("-"),
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            status = response.status().as_u16(),
            codes = %self.codes.join(","),
            cost = self.estimate.unwrap_or(0),
            charged,
            "graphql request"
        );
        response
    }
}

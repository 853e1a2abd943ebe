//! How a GraphQL answer leaves the server: one [`Refusal`] type for every
//! request refused before (or instead of) execution, every error finished
//! with its code and a message in the caller's language, internals kept in
//! the log, and the body in the media type the client accepted.

use async_graphql::{ErrorExtensionValues, Response as GqlResponse, ServerError, Value};
use axum::{
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::error::{ApiError, codes};
use crate::i18n::{Locale, Message};

/// The media type of the GraphQL-over-HTTP specification.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The media type a response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/json`: request errors answer 200, as clients before the
    /// GraphQL-over-HTTP specification expect.
    Json,
    /// `application/graphql-response+json`: request errors answer 400.
    GraphqlResponse,
}

impl Media {
    /// The media type `headers` accept.
    pub fn accepted(headers: &HeaderMap) -> Self {
        let accepts = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE_JSON));
        if accepts {
            Self::GraphqlResponse
        } else {
            Self::Json
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Json => "application/json",
            Self::GraphqlResponse => GRAPHQL_RESPONSE_JSON,
        })
    }

    /// The status of a GraphQL response that failed as a whole (nothing ran).
    fn request_error(self) -> StatusCode {
        match self {
            Self::Json => StatusCode::OK,
            Self::GraphqlResponse => StatusCode::BAD_REQUEST,
        }
    }
}

/// A request refused before it ran: an HTTP status (or, for a document the
/// schema refuses, that of a GraphQL request error), one error with its
/// code, and headers.
#[derive(Debug)]
pub struct Refusal {
    /// `None`: a GraphQL request error, 400 or 200 by media type.
    status: Option<StatusCode>,
    error: Box<ServerError>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Refusal {
    /// `error`, answered with `status`.
    pub fn new(status: StatusCode, error: &ApiError, locale: Locale) -> Self {
        let mut refusal = Self::request_error(error, locale);
        refusal.status = Some(status);
        if let Some(retry_after) = error.retry_after() {
            refusal = refusal.header(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        if matches!(error, ApiError::Unauthenticated(_)) {
            refusal = refusal.header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        refusal
    }

    /// `error` as a GraphQL request error: nothing ran.
    pub fn request_error(error: &ApiError, locale: Locale) -> Self {
        let mut server_error = ServerError::new(error.message(locale), None);
        server_error.extensions = error.to_graphql(locale).extensions;
        Self {
            status: None,
            error: Box::new(server_error),
            headers: Vec::new(),
        }
    }

    /// A refusal of the HTTP exchange itself, with its own code.
    pub fn http(status: StatusCode, code: &'static str, message: &Message, locale: Locale) -> Self {
        let mut error = ServerError::new(message.text(locale), None);
        set_code(&mut error, code);
        Self {
            status: Some(status),
            error: Box::new(error),
            headers: Vec::new(),
        }
    }

    /// A GraphQL request error (nothing ran) with its own code.
    pub fn document(code: &'static str, message: &Message, locale: Locale) -> Self {
        let mut error = ServerError::new(message.text(locale), None);
        set_code(&mut error, code);
        Self {
            status: None,
            error: Box::new(error),
            headers: Vec::new(),
        }
    }

    /// A syntax error: where it is, never an echo of the document.
    pub fn syntax(at: &ServerError, locale: Locale) -> Self {
        let mut error = ServerError::new(Message::SyntaxError.text(locale), None);
        error.locations.clone_from(&at.locations);
        set_code(&mut error, codes::GRAPHQL_PARSE_FAILED);
        Self {
            status: None,
            error: Box::new(error),
            headers: Vec::new(),
        }
    }

    /// The same refusal with one more header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Its `extensions.code`.
    pub fn code(&self) -> String {
        code_of(&self.error).unwrap_or_default()
    }

    /// The error, for a transport that sends GraphQL errors only (WebSocket).
    pub fn into_error(self) -> ServerError {
        *self.error
    }

    /// The response, in `media`.
    pub fn into_response(self, media: Media) -> Response {
        let status = self.status.unwrap_or(media.request_error());
        let errors = GqlResponse::from_errors(vec![*self.error]);
        let mut response = respond(status, &errors, media, Outcome::RequestError);
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// Whether a response comes from executing the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The operation ran (perhaps with field errors): the body has `data`.
    Executed,
    /// The request failed before anything ran (it did not parse, validate
    /// or pass a limit): the body has `errors` and no `data` entry.
    RequestError,
}

/// A GraphQL response with `status`, in `media`.
pub fn respond(
    status: StatusCode,
    response: &GqlResponse,
    media: Media,
    outcome: Outcome,
) -> Response {
    match body(response, outcome) {
        Some(body) => raw(status, body, media),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The JSON body of a GraphQL response (without `data` for a request error),
/// written straight from the response: `data` in the document's field order.
pub fn body(response: &GqlResponse, outcome: Outcome) -> Option<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a Value>,
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        extensions: &'a std::collections::BTreeMap<String, Value>,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        errors: &'a [ServerError],
    }
    let body = Body {
        data: (outcome != Outcome::RequestError).then_some(&response.data),
        extensions: &response.extensions,
        errors: &response.errors,
    };
    serde_json::to_vec(&body)
        .inspect_err(|error| tracing::error!(%error, "could not serialise a response"))
        .ok()
}

/// A body already serialised, with `status`, in `media`.
pub fn raw(status: StatusCode, body: Vec<u8>, media: Media) -> Response {
    (status, [(header::CONTENT_TYPE, media.content_type())], body).into_response()
}

/// The status of an executed response: 400 in the GraphQL-over-HTTP media
/// type when the request failed as a whole (it did not validate); 429 when
/// nothing was answered and part of it must wait (a sign-in held back);
/// 200 otherwise.
pub fn status_of(response: &GqlResponse, request_failed: bool, media: Media) -> StatusCode {
    if request_failed {
        return media.request_error();
    }
    let waited = matches!(response.data, Value::Null)
        && response
            .errors
            .iter()
            .any(|error| code_of(error).as_deref() == Some(codes::RATE_LIMITED));
    if waited {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::OK
    }
}

/// The longest `retryAfter` among the errors of `response`.
pub fn retry_after(response: &GqlResponse) -> Option<u64> {
    response
        .errors
        .iter()
        .filter_map(
            |error| match error.extensions.as_ref()?.get("retryAfter")? {
                Value::Number(seconds) => seconds.as_u64(),
                _ => None,
            },
        )
        .max()
}

fn code_of(error: &ServerError) -> Option<String> {
    match error.extensions.as_ref()?.get("code")? {
        Value::String(code) => Some(code.clone()),
        _ => None,
    }
}

fn set_code(error: &mut ServerError, code: &str) {
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code);
}

/// The quoted argument path in an async-graphql input error (`"input.key"`).
fn quoted_field(message: &str) -> Option<&str> {
    let start = message.find('"')? + 1;
    let end = start + message[start..].find('"')?;
    Some(&message[start..end])
}

/// Localise domain errors, give every error a code and keep internals out
/// (logged under `request_id`). Returns whether the request failed before
/// execution (it did not validate).
pub fn finish_errors(response: &mut GqlResponse, locale: Locale, request_id: &str) -> bool {
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
        if code_of(error).is_some() {
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
            set_code(error, codes::BAD_USER_INPUT);
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
            set_code(error, codes::BAD_USER_INPUT);
        } else if error.path.is_empty() && !executed {
            set_code(error, codes::GRAPHQL_VALIDATION_FAILED);
            request_failed = true;
        } else {
            tracing::error!(request_id, message = %error.message, path = ?error.path, "unclassified error");
            error.message = Message::Internal.text(locale);
            set_code(error, codes::INTERNAL_SERVER_ERROR);
            error
                .extensions
                .get_or_insert_with(ErrorExtensionValues::default)
                .set("requestId", request_id);
        }
    }
    request_failed
}

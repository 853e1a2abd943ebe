//! The one error type of the domain layer and its mapping to GraphQL errors.

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};
use uuid::Uuid;

use crate::i18n::{Locale, Message};

/// Every `extensions.code` a client may receive: the one place they are spelled.
pub mod codes {
    /// No valid credentials (HTTP 401).
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// Known caller, not allowed.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// Does not exist, or the caller may not know it exists.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// A bad input value (`extensions.field` names it).
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// A stale version, a clash, or a concurrent change.
    pub const CONFLICT: &str = "CONFLICT";
    /// A dependency would close a cycle (`extensions.cycle`).
    pub const DEPENDENCY_CYCLE: &str = "DEPENDENCY_CYCLE";
    /// The work asked for exceeds a limit (`extensions.measure`, `cost`, `limit`).
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    /// The caller's budget is spent (HTTP 429, `extensions.retryAfter`).
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// Something failed on the server (`extensions.requestId`).
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    /// The document is not valid GraphQL syntax.
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The document does not fit the schema.
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// A mutation sent with GET (HTTP 405).
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    /// A body that is not JSON (HTTP 415).
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    /// A body over the size limit (HTTP 413).
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// The server is at a cap (HTTP 503).
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    /// A persisted-query hash this server does not know: send the document with it.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// This server takes no persisted-query hashes: send documents.
    pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
    /// The server runs trusted documents only, and this is not one.
    pub const PERSISTED_QUERY_NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";
}

/// What a `QUERY_TOO_COMPLEX` refusal measured (`extensions.measure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The estimated cost of a document.
    Complexity,
    /// The deepest field nesting of a document.
    Depth,
    /// The aliased fields of a document, counted after fragment expansion.
    Aliases,
    /// The fields at the root of an operation.
    RootFields,
    /// The directive uses of a document, counted after fragment expansion.
    Directives,
    /// The fragment spreads of a document, counted after expansion.
    Fragments,
    /// The levels a dependency's cycle check would search.
    CycleSearch,
    /// The work one request did: plans loaded, text rendered and returned.
    Work,
}

impl Measure {
    /// The name sent as `extensions.measure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complexity => "complexity",
            Self::Depth => "depth",
            Self::Aliases => "aliases",
            Self::RootFields => "rootFields",
            Self::Directives => "directives",
            Self::Fragments => "fragments",
            Self::CycleSearch => "cycleSearch",
            Self::Work => "work",
        }
    }

    /// What the caller is told when `value` exceeds `limit`.
    fn message(self, value: u64, limit: u64) -> Message {
        match self {
            Self::Complexity | Self::Work => Message::QueryTooComplex { cost: value, limit },
            Self::Depth => Message::QueryTooDeep {
                depth: value,
                limit,
            },
            Self::Aliases => Message::TooManyAliases {
                count: value,
                limit,
            },
            Self::RootFields => Message::TooManyRootFields {
                count: value,
                limit,
            },
            Self::Directives => Message::TooManyDirectives {
                count: value,
                limit,
            },
            Self::Fragments => Message::TooManyFragments {
                count: value,
                limit,
            },
            Self::CycleSearch => Message::CycleSearchTooLarge { limit },
        }
    }
}

/// One bad row of an imported file.
#[derive(Debug, Clone)]
pub struct RowError {
    /// The row: its line in a CSV file (the header is line 1), its position
    /// (from 1) in its list in a JSON file.
    pub row: usize,
    /// The column (CSV) or `list.field` (JSON) at fault.
    pub field: String,
    /// What is wrong.
    pub message: Message,
}

/// Every failure a caller can see, each with a stable `extensions.code`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// No valid credentials were presented.
    #[error("unauthenticated")]
    Unauthenticated(Message),
    /// The caller is known but may not do this.
    #[error("forbidden")]
    Forbidden(Message),
    /// The thing does not exist or the caller may not know that it exists.
    #[error("not found")]
    NotFound(Message),
    /// An input value is invalid; `field` names the input path.
    #[error("bad user input at {field}")]
    BadUserInput {
        /// The input field at fault, as a dotted path (`input.key`).
        field: String,
        /// What is wrong with it.
        message: Message,
    },
    /// Several input values are invalid (at least two), each with its path.
    #[error("bad user input at {}", .0.first().map_or("", |(field, _)| field.as_str()))]
    BadUserInputs(Vec<(String, Message)>),
    /// Rows of an imported file are invalid, each with its row and field.
    #[error("bad rows, first at row {}", .0.first().map_or(0, |error| error.row))]
    BadRows(Vec<RowError>),
    /// A stale `expectedVersion` or a uniqueness clash.
    #[error("conflict")]
    Conflict(Message),
    /// A new dependency would close a cycle; the ids go around it.
    #[error("dependency cycle")]
    DependencyCycle(Vec<Uuid>),
    /// The work asked for exceeds a configured limit.
    #[error("query too complex")]
    QueryTooComplex {
        /// What was measured.
        measure: Measure,
        /// What it measured.
        cost: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The caller spent its budget; it may retry after this many seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until enough budget has refilled.
        retry_after: u64,
    },
    /// Too many failed sign-ins from this address, or this account must wait.
    #[error("too many failed sign-ins")]
    TooManySignIns {
        /// Seconds until the next attempt may run.
        retry_after: u64,
    },
    /// Anything unexpected; the cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(Arc<dyn std::error::Error + Send + Sync>),
}

/// The shorthand result type of the domain layer.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An unexpected failure with its cause kept for the log.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(Arc::from(cause.into()))
    }

    /// A bad value at `field`.
    pub fn bad_input(field: impl Into<String>, message: Message) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message,
        }
    }

    /// Seconds to wait before trying again, for a refusal of the rate.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after } | Self::TooManySignIns { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// The `extensions.code` clients rely on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => codes::UNAUTHENTICATED,
            Self::Forbidden(_) => codes::FORBIDDEN,
            Self::NotFound(_) => codes::NOT_FOUND,
            Self::BadUserInput { .. } | Self::BadUserInputs(_) | Self::BadRows(_) => {
                codes::BAD_USER_INPUT
            }
            Self::Conflict(_) => codes::CONFLICT,
            Self::DependencyCycle(_) => codes::DEPENDENCY_CYCLE,
            Self::QueryTooComplex { .. } => codes::QUERY_TOO_COMPLEX,
            Self::RateLimited { .. } | Self::TooManySignIns { .. } => codes::RATE_LIMITED,
            Self::Internal(_) => codes::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message in the caller's locale; internal causes are never part of it.
    pub fn message(&self, locale: Locale) -> String {
        let message = match self {
            Self::BadUserInputs(errors) => {
                let first = errors
                    .first()
                    .map(|(_, message)| message.text(locale))
                    .unwrap_or_default();
                let more = Message::MoreInputErrors {
                    count: errors.len().saturating_sub(1),
                };
                return format!("{first} {}", more.text(locale));
            }
            Self::BadRows(errors) => {
                return Message::BadRows {
                    count: errors.len(),
                    first_row: errors.first().map_or(0, |error| error.row),
                }
                .text(locale);
            }
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::BadUserInput { message: m, .. } => m.clone(),
            Self::DependencyCycle(_) => Message::DependencyCycle,
            Self::QueryTooComplex {
                measure,
                cost,
                limit,
            } => measure.message(*cost, *limit),
            Self::RateLimited { retry_after } => Message::RateLimited {
                retry_after: *retry_after,
            },
            Self::TooManySignIns { retry_after } => Message::TooManySignInFailures {
                retry_after: *retry_after,
            },
            Self::Internal(_) => Message::Internal,
        };
        message.text(locale)
    }

    /// The GraphQL error for this failure, its message in `locale`.
    pub fn to_graphql(&self, locale: Locale) -> async_graphql::Error {
        let error = async_graphql::Error {
            message: self.message(locale),
            source: Some(Arc::new(self.clone())),
            extensions: None,
        };
        error.extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                Self::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                Self::BadUserInputs(errors) => {
                    if let Some((field, _)) = errors.first() {
                        ext.set("field", field.as_str());
                    }
                    let all: Vec<async_graphql::Value> = errors
                        .iter()
                        .map(|(field, message)| {
                            let mut entry = async_graphql::indexmap::IndexMap::new();
                            entry.insert(
                                async_graphql::Name::new("field"),
                                async_graphql::Value::from(field.as_str()),
                            );
                            entry.insert(
                                async_graphql::Name::new("message"),
                                async_graphql::Value::from(message.text(locale)),
                            );
                            async_graphql::Value::Object(entry)
                        })
                        .collect();
                    ext.set("errors", all);
                }
                Self::BadRows(errors) => {
                    if let Some(first) = errors.first() {
                        ext.set("field", first.field.as_str());
                    }
                    let all: Vec<async_graphql::Value> = errors
                        .iter()
                        .map(|error| {
                            let mut entry = async_graphql::indexmap::IndexMap::new();
                            entry.insert(
                                async_graphql::Name::new("row"),
                                async_graphql::Value::from(error.row as u64),
                            );
                            entry.insert(
                                async_graphql::Name::new("field"),
                                async_graphql::Value::from(error.field.as_str()),
                            );
                            entry.insert(
                                async_graphql::Name::new("message"),
                                async_graphql::Value::from(error.message.text(locale)),
                            );
                            async_graphql::Value::Object(entry)
                        })
                        .collect();
                    ext.set("errors", all);
                }
                Self::DependencyCycle(cycle) => ext.set(
                    "cycle",
                    cycle.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
                ),
                Self::QueryTooComplex {
                    measure,
                    cost,
                    limit,
                } => {
                    ext.set("measure", measure.as_str());
                    ext.set("cost", *cost);
                    ext.set("limit", *limit);
                }
                Self::RateLimited { retry_after } | Self::TooManySignIns { retry_after } => {
                    ext.set("retryAfter", *retry_after)
                }
                _ => {}
            }
        })
    }
}

/// Converted with English text; the HTTP layer re-renders it in the caller's
/// locale from the attached source before the response leaves.
impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.to_graphql(Locale::En)
    }
}

impl From<DbErr> for ApiError {
    fn from(error: DbErr) -> Self {
        if is_contention(&error) {
            return Self::Conflict(Message::Contention);
        }
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(Message::AlreadyExists),
            _ => Self::internal(error),
        }
    }
}

/// Whether PostgreSQL gave up on a transaction because a concurrent one
/// touched the same data (a serialization failure or a deadlock): running it
/// again may succeed.
fn is_contention(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let (DbErr::Conn(RuntimeErr::SqlxError(error))
    | DbErr::Exec(RuntimeErr::SqlxError(error))
    | DbErr::Query(RuntimeErr::SqlxError(error))) = error
    else {
        return false;
    };
    error
        .as_database_error()
        .and_then(|error| error.code())
        .is_some_and(|code| code == "40001" || code == "40P01")
}

impl<E> From<sea_orm::TransactionError<E>> for ApiError
where
    E: Into<ApiError> + std::error::Error,
{
    fn from(error: sea_orm::TransactionError<E>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(error: ApiError) -> String {
        let gql = async_graphql::Error::from(error);
        gql.extensions
            .and_then(|ext| ext.get("code").cloned())
            .map(|value| value.to_string().trim_matches('"').to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn every_variant_maps_to_its_code() {
        let cases = [
            (
                ApiError::Unauthenticated(Message::SignInRequired),
                "UNAUTHENTICATED",
            ),
            (ApiError::Forbidden(Message::AdminOnly), "FORBIDDEN"),
            (ApiError::NotFound(Message::NotFound), "NOT_FOUND"),
            (
                ApiError::bad_input("input.key", Message::Required),
                "BAD_USER_INPUT",
            ),
            (ApiError::Conflict(Message::StaleVersion), "CONFLICT"),
            (ApiError::DependencyCycle(vec![]), "DEPENDENCY_CYCLE"),
            (
                ApiError::QueryTooComplex {
                    measure: Measure::Complexity,
                    cost: 2,
                    limit: 1,
                },
                "QUERY_TOO_COMPLEX",
            ),
            (ApiError::RateLimited { retry_after: 1 }, "RATE_LIMITED"),
            (ApiError::internal("secret detail"), "INTERNAL_SERVER_ERROR"),
        ];
        for (error, code) in cases {
            assert_eq!(code_of(error), code);
        }
    }

    #[test]
    fn internal_errors_never_carry_their_cause_in_the_message() {
        let error = ApiError::internal("SELECT * FROM users; /srv/trestle/db.rs");
        let gql = async_graphql::Error::from(error);
        assert!(!gql.message.contains("SELECT"));
        assert!(!gql.message.contains("/srv"));
    }

    #[test]
    fn bad_input_carries_the_field() {
        let gql = async_graphql::Error::from(ApiError::bad_input("input.key", Message::Required));
        let field = gql.extensions.and_then(|ext| ext.get("field").cloned());
        assert_eq!(field.map(|v| v.to_string()), Some("\"input.key\"".into()));
    }

    #[test]
    fn messages_follow_the_locale() {
        let error = ApiError::NotFound(Message::NotFound);
        assert_ne!(error.message(Locale::En), error.message(Locale::Ko));
    }
}

//! The one error type of the domain layer and its mapping to GraphQL errors.

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};
use uuid::Uuid;

use crate::i18n::{Locale, Message};

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
    /// A stale `expectedVersion` or a uniqueness clash.
    #[error("conflict")]
    Conflict(Message),
    /// A new dependency would close a cycle; the ids go around it.
    #[error("dependency cycle")]
    DependencyCycle(Vec<Uuid>),
    /// The work asked for exceeds a configured limit.
    #[error("query too complex")]
    QueryTooComplex {
        /// What was measured: `complexity`, `cycleSearch`, ….
        measure: &'static str,
        /// The computed cost.
        cost: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The caller spent its budget; it may retry after this many seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until enough budget has refilled.
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

    /// The `extensions.code` clients rely on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::DependencyCycle(_) => "DEPENDENCY_CYCLE",
            Self::QueryTooComplex { .. } => "QUERY_TOO_COMPLEX",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The message in the caller's locale; internal causes are never part of it.
    pub fn message(&self, locale: Locale) -> String {
        let message = match self {
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::BadUserInput { message: m, .. } => m.clone(),
            Self::DependencyCycle(_) => Message::DependencyCycle,
            Self::QueryTooComplex {
                measure: "cycleSearch",
                limit,
                ..
            } => Message::CycleSearchTooLarge { limit: *limit },
            Self::QueryTooComplex { cost, limit, .. } => Message::QueryTooComplex {
                cost: *cost,
                limit: *limit,
            },
            Self::RateLimited { retry_after } => Message::RateLimited {
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
                Self::DependencyCycle(cycle) => ext.set(
                    "cycle",
                    cycle.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
                ),
                Self::QueryTooComplex {
                    measure,
                    cost,
                    limit,
                } => {
                    ext.set("measure", *measure);
                    ext.set("cost", *cost as u64);
                    ext.set("limit", *limit as u64);
                }
                Self::RateLimited { retry_after } => ext.set("retryAfter", *retry_after),
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
                    measure: "complexity",
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

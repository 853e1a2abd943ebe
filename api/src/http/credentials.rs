//! The bearer credential of a request or a WebSocket, checked so that a bad
//! one is paid for by its client address before it costs a database statement.
//!
//! A signed token (JWT) is verified by its signature alone; only a good one
//! reaches the database, to load its user. An API token can only be judged by
//! looking it up, so it is looked up only while the client address still has
//! budget: an address that spent its budget on anonymous requests or bad
//! credentials gets 429 before any statement runs. Whatever a bad credential
//! costs (one point) is charged to the address by the caller.

use std::net::IpAddr;

use super::{
    AppState,
    rate_limit::{Exhausted, Principal},
};
use crate::auth::api_token;
use crate::domain::users::Caller;
use crate::error::ApiError;
use crate::i18n::Message;

/// Why a credential was not accepted.
#[derive(Debug)]
pub enum Refused {
    /// Missing scheme, bad, expired or revoked: HTTP 401, WebSocket close 4403.
    Unauthenticated(Message),
    /// The client address's budget is spent: HTTP 429, WebSocket close 4429.
    RateLimited(Exhausted),
    /// The check itself failed: HTTP 500, WebSocket close 4500.
    Internal,
}

/// The token of an `Authorization` value: the `Bearer` scheme, in any case
/// (RFC 9110 §11.1), then the token.
pub fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim();
    let (scheme, token) = value.split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Admit one more credential check from `address`, or why not.
async fn admit_address(state: &AppState, address: IpAddr) -> Result<(), Refused> {
    match &state.rate_limits.requests {
        Some(limiter) => limiter
            .admit(Principal::Address(address))
            .await
            .map(|_| ())
            .map_err(Refused::RateLimited),
        None => Ok(()),
    }
}

/// A refusal of a credential judged without the database: 429 when the
/// address has nothing left to pay for it, 401 otherwise.
async fn refuse(state: &AppState, address: IpAddr, message: Message) -> Refused {
    match admit_address(state, address).await {
        Ok(()) => Refused::Unauthenticated(message),
        Err(refused) => refused,
    }
}

/// The user an `Authorization` value names, for a caller at `address` (its
/// client network), with its programs when they were read with it.
/// `Ok(None)` without a value: an anonymous caller.
pub async fn authenticate(
    state: &AppState,
    address: IpAddr,
    authorization: Option<&[u8]>,
) -> Result<Option<Caller>, Refused> {
    let Some(value) = authorization else {
        return Ok(None);
    };
    let Some(token) = std::str::from_utf8(value).ok().and_then(bearer_token) else {
        return Err(refuse(state, address, Message::InvalidToken).await);
    };
    let domain = &state.domain;
    let result = if api_token::is_api_token(token) {
        // Only a lookup tells a good API token from a bad one: the address pays first.
        admit_address(state, address).await?;
        domain
            .authenticate_api_token(token)
            .await
            .map(|user| Caller {
                user,
                programs: None,
            })
    } else {
        match domain.verify_token(token) {
            Ok(verified) => domain.token_caller(token, &verified).await,
            Err(ApiError::Unauthenticated(message)) => {
                return Err(refuse(state, address, message).await);
            }
            Err(error) => Err(error),
        }
    };
    match result {
        Ok(user) => Ok(Some(user)),
        Err(ApiError::Unauthenticated(message)) => Err(Refused::Unauthenticated(message)),
        Err(error) => {
            tracing::error!(error = ?error, "authentication failed unexpectedly");
            Err(Refused::Internal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "bEaReR   abc  ",
            "Bearer\tabc",
        ] {
            assert_eq!(bearer_token(value), Some("abc"), "{value:?}");
        }
        for value in ["Basic abc", "Bearer", "Bearer ", "Bearerabc", "abc", ""] {
            assert_eq!(bearer_token(value), None, "{value:?}");
        }
    }
}

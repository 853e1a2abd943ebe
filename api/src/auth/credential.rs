//! Which credential a signed-in caller presented, and what ends it.
//!
//! Every check of a credential happens when it is presented; a connection
//! that outlives that moment (a WebSocket) must also stop when the
//! credential does. [`Credential::expires_at`] says when it ends by itself,
//! and [`Credential::is_ended_by`] which committed change ends it early.
//! Both are the one place to extend when a new way to end a credential
//! appears (logout, logging out everywhere, deactivating a user: each
//! writes a history entry that `is_ended_by` recognises).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::jwt::LEEWAY_SECONDS;
use crate::events::ChangeEvent;

/// The credential a signed-in caller presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A token Trestle signed (`login`, `trestle token`).
    Session {
        /// Its `iat`: logging out everywhere will end tokens issued before it.
        issued_at: DateTime<Utc>,
        /// Its `exp`.
        expires_at: DateTime<Utc>,
    },
    /// A token of the external identity provider.
    IdentityProvider {
        /// Its `exp`.
        expires_at: DateTime<Utc>,
    },
    /// An API token (`createApiToken`).
    ApiToken {
        /// The token's id (`ApiToken.id`).
        id: Uuid,
        /// When it stops working, if ever.
        expires_at: Option<DateTime<Utc>>,
    },
    /// Work started inside the server (the demo loader): no bearer token.
    Internal,
}

impl Credential {
    /// A signed token's lifetime as [`Credential::Session`] or
    /// [`Credential::IdentityProvider`], from its `iat` and `exp`.
    pub fn from_token(external: bool, issued_at: i64, expires_at: i64) -> Self {
        let at =
            |seconds: i64| DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
        if external {
            Self::IdentityProvider {
                expires_at: at(expires_at),
            }
        } else {
            Self::Session {
                issued_at: at(issued_at),
                expires_at: at(expires_at),
            }
        }
    }

    /// The moment it stops being accepted by itself: a signed token's `exp`
    /// plus the clock-skew leeway it is verified with, an API token's expiry.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        let leeway = chrono::TimeDelta::seconds(LEEWAY_SECONDS);
        match self {
            Self::Session { expires_at, .. } | Self::IdentityProvider { expires_at } => {
                Some(expires_at.checked_add_signed(leeway).unwrap_or(*expires_at))
            }
            Self::ApiToken { expires_at, .. } => *expires_at,
            Self::Internal => None,
        }
    }

    /// Whether `event`, committed on any replica, ends this credential of
    /// user `user_id`: today the revocation of this API token.
    pub fn is_ended_by(&self, _user_id: Uuid, event: &ChangeEvent) -> bool {
        match self {
            Self::ApiToken { id, .. } => {
                event.action == "apiToken.revoke" && event.entity_id == *id
            }
            Self::Session { .. } | Self::IdentityProvider { .. } | Self::Internal => false,
        }
    }

    /// Whether this is an API token.
    pub fn is_api_token(&self) -> bool {
        matches!(self, Self::ApiToken { .. })
    }
}

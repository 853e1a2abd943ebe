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
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::jwt::{LEEWAY_SECONDS, Principal, Verified};
use crate::events::ChangeEvent;

/// The credential a signed-in caller presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A token Trestle signed (`login`, `trestle token`).
    Session {
        /// Its `iat`: logging out everywhere ends tokens issued before it.
        issued_at: DateTime<Utc>,
        /// Its `exp`.
        expires_at: DateTime<Utc>,
        /// SHA-256 hex of the token: `logout` ends this one token.
        fingerprint: String,
    },
    /// A token of the external identity provider.
    IdentityProvider {
        /// Its `iat`.
        issued_at: DateTime<Utc>,
        /// Its `exp`.
        expires_at: DateTime<Utc>,
        /// SHA-256 hex of the token.
        fingerprint: String,
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

/// What a committed change means for a credential in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Nothing.
    Untouched,
    /// It has ended.
    Ended,
    /// It may have ended: check it as a new request would.
    Recheck,
}

impl Credential {
    /// A verified token's lifetime and fingerprint as [`Credential::Session`]
    /// or [`Credential::IdentityProvider`]: issued at its stamp (to the
    /// millisecond) or else its `iat`, until its `exp`. The fingerprint is
    /// the SHA-256 of the signed part (header and claims): an ECDSA
    /// signature can be rewritten into another valid one, which must not
    /// make a logged-out token new.
    pub fn from_token(verified: &Verified, token: &str) -> Self {
        let at =
            |seconds: i64| DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let signed = token.rsplit_once('.').map_or(token, |(signed, _)| signed);
        let fingerprint = hex::encode(Sha256::digest(signed.as_bytes()));
        let issued_at = verified.stamp.unwrap_or_else(|| at(verified.issued_at));
        let expires_at = verified.expires_at;
        if matches!(verified.principal, Principal::Email(_)) {
            Self::IdentityProvider {
                issued_at,
                expires_at: at(expires_at),
                fingerprint,
            }
        } else {
            Self::Session {
                issued_at,
                expires_at: at(expires_at),
                fingerprint,
            }
        }
    }

    /// The moment it stops being accepted by itself: a signed token's `exp`
    /// plus the clock-skew leeway it is verified with, an API token's expiry.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        let leeway = chrono::TimeDelta::seconds(LEEWAY_SECONDS);
        match self {
            Self::Session { expires_at, .. } | Self::IdentityProvider { expires_at, .. } => {
                Some(expires_at.checked_add_signed(leeway).unwrap_or(*expires_at))
            }
            Self::ApiToken { expires_at, .. } => *expires_at,
            Self::Internal => None,
        }
    }

    /// A signed token's `iat` and fingerprint.
    pub fn signed_token(&self) -> Option<(DateTime<Utc>, &str)> {
        match self {
            Self::Session {
                issued_at,
                fingerprint,
                ..
            }
            | Self::IdentityProvider {
                issued_at,
                fingerprint,
                ..
            } => Some((*issued_at, fingerprint)),
            Self::ApiToken { .. } | Self::Internal => None,
        }
    }

    /// What `event`, committed on any replica, means for this credential of
    /// user `user_id`: the revocation of this API token ends it; any change
    /// to the account (a logout, logging out everywhere, a deactivation, a
    /// new role) is checked against the database, as a new request would
    /// be, so a replica that hears of an ending late cannot end a session
    /// begun after it.
    pub fn is_ended_by(&self, user_id: Uuid, event: &ChangeEvent) -> Ending {
        match self {
            Self::ApiToken { id, .. }
                if event.action == "apiToken.revoke" && event.entity_id == *id =>
            {
                Ending::Ended
            }
            Self::Internal => Ending::Untouched,
            _ if event.entity_type == "User" && event.entity_id == user_id => Ending::Recheck,
            _ => Ending::Untouched,
        }
    }

    /// Whether this is an API token.
    pub fn is_api_token(&self) -> bool {
        matches!(self, Self::ApiToken { .. })
    }
}

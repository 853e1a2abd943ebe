//! The end of a credential while a long-lived connection still uses it.
//!
//! A WebSocket is authenticated once, by its `connection_init`; from then on
//! it must stop when its credential stops: at the credential's expiry, or
//! when a committed change ends it early on any replica (the history entry
//! reaches every replica's [`EventBus`](crate::events::EventBus)). Which
//! changes end which credential is decided in one place,
//! [`Credential::is_ended_by`](crate::auth::Credential::is_ended_by).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::broadcast;

use super::Domain;
use crate::auth::{AuthUser, Ending};
use crate::events::ChangeEvent;

/// Why a credential stopped being accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialEnd {
    /// It reached its expiry.
    Expired,
    /// A committed change ended it (a revoked API token, a logout, a
    /// deactivation, a new role).
    Revoked,
}

/// Committed changes, followed for the end of one caller's credential.
pub struct CredentialWatch {
    domain: Domain,
    events: broadcast::Receiver<Arc<ChangeEvent>>,
}

impl Domain {
    /// Start following committed changes. Call it *before* checking the
    /// credential: an ending committed between the check and the watch is
    /// then still seen.
    pub fn watch_credential(&self) -> CredentialWatch {
        CredentialWatch {
            domain: self.clone(),
            events: self.events.subscribe(),
        }
    }
}

impl CredentialWatch {
    /// Resolves when `user`'s credential ends; never for one that cannot.
    pub async fn ended(mut self, user: &AuthUser) -> CredentialEnd {
        let expiry = async {
            match user.credential.expires_at() {
                Some(at) => {
                    let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                    tokio::time::sleep(wait).await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let domain = self.domain.clone();
        let revocation = async {
            loop {
                match self.events.recv().await {
                    Ok(event) => match user.credential.is_ended_by(user.id, &event) {
                        Ending::Ended => return,
                        Ending::Recheck => {
                            if !still_valid(&domain, user).await {
                                return;
                            }
                        }
                        Ending::Untouched => {}
                    },
                    // Events were missed: ask the database instead.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if !still_valid(&domain, user).await {
                            return;
                        }
                    }
                    // The server is stopping; its connections close anyway.
                    Err(broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await;
                    }
                }
            }
        };
        tokio::select! {
            () = expiry => CredentialEnd::Expired,
            () = revocation => CredentialEnd::Revoked,
        }
    }
}

/// Whether `user`'s credential is still accepted, as a new request would
/// find it; a failed check keeps the connection (and is logged).
async fn still_valid(domain: &Domain, user: &AuthUser) -> bool {
    domain
        .credential_is_valid(user)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(error = ?error, "could not re-check a WebSocket's credential");
            true
        })
}

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
use crate::auth::AuthUser;
use crate::events::ChangeEvent;

/// Why a credential stopped being accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialEnd {
    /// It reached its expiry.
    Expired,
    /// A committed change ended it (a revoked API token).
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
        let revocation = async {
            loop {
                match self.events.recv().await {
                    Ok(event) if user.credential.is_ended_by(user.id, &event) => return,
                    Ok(_) => {}
                    // Events were missed: ask the database instead.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        match self.domain.credential_is_valid(user).await {
                            Ok(true) => {}
                            Ok(false) => return,
                            Err(error) => tracing::warn!(
                                error = ?error,
                                "could not re-check a WebSocket's credential"
                            ),
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

//! Sessions and accounts that end: which signed tokens and accounts are
//! still accepted, `logout` (this token), `logoutEverywhere` (every token
//! issued before now) and an ADMIN's deactivation of an account.
//!
//! Each request checks the credential against its user's row, which it
//! reads anyway; the `revoked_sessions` table is read only for a user who
//! has logged out a token that has not expired yet. Each ending writes a
//! history entry, which every replica's WebSockets follow
//! ([`Credential::is_ended_by`]), so open subscriptions end too.

use chrono::{DateTime, Utc};
use entity::{api_token, audit_event::Verb, enums::UserRole, revoked_session, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::OnConflict};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Visible},
    account::{own_row, user_row},
    audit::Change,
    versioned::{self, check_expected},
};
use crate::auth::{Credential, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// What of an account decides whether its credentials are still accepted.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct SessionState {
    /// When the account was deactivated.
    pub deactivated_at: Option<DateTime<Utc>>,
    /// Signed tokens issued before are refused.
    pub sessions_valid_after: Option<DateTime<Utc>>,
    /// Until then, signed tokens are looked up among the logged-out ones.
    pub revoked_sessions_until: Option<DateTime<Utc>>,
}

impl From<&user::Model> for SessionState {
    fn from(row: &user::Model) -> Self {
        Self {
            deactivated_at: row.deactivated_at,
            sessions_valid_after: row.sessions_valid_after,
            revoked_sessions_until: row.revoked_sessions_until,
        }
    }
}

impl Domain {
    /// Why `row` no longer accepts `credential`, if it does not: the account
    /// is deactivated, or the signed token was issued before the account's
    /// last `logoutEverywhere` or has been logged out.
    pub async fn session_refusal(
        &self,
        row: &SessionState,
        credential: &Credential,
    ) -> ApiResult<Option<Message>> {
        if row.deactivated_at.is_some() {
            return Ok(Some(Message::AccountDeactivated));
        }
        let Some((issued_at, fingerprint)) = credential.signed_token() else {
            return Ok(None);
        };
        if row
            .sessions_valid_after
            .is_some_and(|after| issued_at < after)
        {
            return Ok(Some(Message::SessionEnded));
        }
        if row
            .revoked_sessions_until
            .is_some_and(|until| until > Utc::now())
        {
            let revoked = revoked_session::Entity::find_by_id(fingerprint.to_owned())
                .one(&self.db)
                .await?
                .is_some();
            if revoked {
                return Ok(Some(Message::SessionEnded));
            }
        }
        Ok(None)
    }

    /// End the signed token the caller presented; other sessions go on.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn logout(&self, viewer: &Viewer) -> ApiResult<Visible<user::Model>> {
        let me = viewer.require_user()?;
        let (expires_at, fingerprint) = match &me.credential {
            Credential::Session { fingerprint, .. }
            | Credential::IdentityProvider { fingerprint, .. } => (
                me.credential
                    .expires_at()
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
                fingerprint.clone(),
            ),
            Credential::ApiToken { .. } | Credential::Internal => {
                return Err(ApiError::Forbidden(Message::LogoutNeedsSession));
            }
        };
        let now = super::now();
        let txn = self.begin_write().await?;
        let before = own_row(&txn, me.id).await?;
        // Rows of tokens that have expired by themselves are no longer needed.
        revoked_session::Entity::delete_many()
            .filter(revoked_session::Column::UserId.eq(me.id))
            .filter(revoked_session::Column::ExpiresAt.lte(now))
            .exec(&txn)
            .await?;
        revoked_session::Entity::insert(revoked_session::ActiveModel {
            fingerprint: Set(fingerprint),
            user_id: Set(me.id),
            expires_at: Set(expires_at),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(revoked_session::Column::Fingerprint)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        let mut active: user::ActiveModel = before.clone().into();
        active.revoked_sessions_until = Set(Some(
            before
                .revoked_sessions_until
                .filter(|until| *until > expires_at)
                .unwrap_or(expires_at),
        ));
        let after = versioned::save::<user::Entity>(&txn, me.id, before.version, active).await?;
        self.commit(
            txn,
            me.id,
            [Change::updated(&before, &after).as_verb(Verb::Logout)],
        )
        .await?;
        access::admit_unscoped(viewer, after)
    }

    /// Refuse every signed token of the caller issued until now, on every
    /// replica and on open subscriptions; API tokens are revoked one by one.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn logout_everywhere(&self, viewer: &Viewer) -> ApiResult<Visible<user::Model>> {
        let me = viewer.require_user()?;
        if me.credential.signed_token().is_none() {
            return Err(ApiError::Forbidden(Message::LogoutNeedsSession));
        }
        let txn = self.begin_write().await?;
        let before = own_row(&txn, me.id).await?;
        let after = end_sessions(&txn, &before, super::now()).await?;
        self.commit(
            txn,
            me.id,
            [Change::updated(&before, &after).as_verb(Verb::LogoutEverywhere)],
        )
        .await?;
        access::admit_unscoped(viewer, after)
    }

    /// Change a user's instance role (ADMIN only); the instance keeps an
    /// active ADMIN. The new role applies to the next request at once, and
    /// the user's open subscriptions end so they reconnect with it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_user(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        role: UserRole,
    ) -> ApiResult<Visible<user::Model>> {
        let admin = viewer.require_admin()?;
        let txn = self.begin_write().await?;
        let before = user_row(&txn, id).await?;
        check_expected(before.version, expected_version)?;
        if before.role == role {
            return access::admit_unscoped(viewer, before);
        }
        if before.role == UserRole::Admin {
            keep_an_admin(&txn, id).await?;
        }
        let mut active: user::ActiveModel = before.clone().into();
        active.role = Set(role);
        let after = versioned::save::<user::Entity>(&txn, id, before.version, active).await?;
        self.commit(txn, admin.id, [Change::updated(&before, &after)])
            .await?;
        access::admit_unscoped(viewer, after)
    }

    /// Deactivate an account (ADMIN only): it can no longer sign in, and its
    /// signed tokens and API tokens stop at once, open subscriptions
    /// included. Its tokens stay ended if it is reactivated.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn deactivate_user(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> ApiResult<Visible<user::Model>> {
        let admin = viewer.require_admin()?;
        let now = super::now();
        let txn = self.begin_write().await?;
        let before = user_row(&txn, id).await?;
        if before.deactivated_at.is_some() {
            return access::admit_unscoped(viewer, before);
        }
        if before.role == UserRole::Admin {
            keep_an_admin(&txn, id).await?;
        }
        api_token::Entity::update_many()
            .col_expr(
                api_token::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(api_token::Column::UserId.eq(id))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        let ended = end_sessions(&txn, &before, now).await?;
        let mut active: user::ActiveModel = ended.clone().into();
        active.deactivated_at = Set(Some(now));
        let after = versioned::save::<user::Entity>(&txn, id, ended.version, active).await?;
        self.commit(
            txn,
            admin.id,
            [Change::updated(&before, &after).as_verb(Verb::Deactivate)],
        )
        .await?;
        access::admit_unscoped(viewer, after)
    }

    /// Let a deactivated account sign in again (ADMIN only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reactivate_user(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> ApiResult<Visible<user::Model>> {
        let admin = viewer.require_admin()?;
        let txn = self.begin_write().await?;
        let before = user_row(&txn, id).await?;
        if before.deactivated_at.is_none() {
            return access::admit_unscoped(viewer, before);
        }
        let mut active: user::ActiveModel = before.clone().into();
        active.deactivated_at = Set(None);
        let after = versioned::save::<user::Entity>(&txn, id, before.version, active).await?;
        self.commit(
            txn,
            admin.id,
            [Change::updated(&before, &after).as_verb(Verb::Reactivate)],
        )
        .await?;
        access::admit_unscoped(viewer, after)
    }
}

/// Refuse every signed token of `user` issued until `now`: the single
/// logouts are then covered and their rows dropped. Tokens issued after an
/// earlier ending in the same millisecond are stamped with the next one, so
/// this ending lies past that stamp too.
async fn end_sessions(
    txn: &sea_orm::DatabaseTransaction,
    user: &user::Model,
    now: DateTime<Utc>,
) -> ApiResult<user::Model> {
    let past_earlier_stamps = user.sessions_valid_after.and_then(|earlier| {
        crate::auth::jwt::next_millisecond(earlier)
            .checked_add_signed(chrono::TimeDelta::microseconds(1))
    });
    let now = past_earlier_stamps.map_or(now, |after| after.max(now));
    revoked_session::Entity::delete_many()
        .filter(revoked_session::Column::UserId.eq(user.id))
        .exec(txn)
        .await?;
    let mut active: user::ActiveModel = user.clone().into();
    active.sessions_valid_after = Set(Some(now));
    active.revoked_sessions_until = Set(None);
    versioned::save::<user::Entity>(txn, user.id, user.version, active).await
}

/// Refuse to take away the last active ADMIN other than `leaving`. The
/// active ADMINs' rows are locked on PostgreSQL (SQLite's write
/// transaction is already exclusive), so two ADMINs demoting each other at
/// once cannot both succeed.
async fn keep_an_admin(txn: &sea_orm::DatabaseTransaction, leaving: Uuid) -> ApiResult<()> {
    let others = user::Entity::find()
        .filter(user::Column::Role.eq(UserRole::Admin))
        .filter(user::Column::DeactivatedAt.is_null())
        .filter(user::Column::Id.ne(leaving))
        .select_only()
        .column(user::Column::Id)
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .all(txn)
        .await?;
    if others.is_empty() {
        return Err(ApiError::Conflict(Message::LastAdmin));
    }
    Ok(())
}

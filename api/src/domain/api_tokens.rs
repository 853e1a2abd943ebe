//! API tokens for scripted integrations.

use chrono::{DateTime, Utc};
use entity::{api_token, audit_event::Verb};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Visible},
    audit::Change,
    validate,
};
use crate::auth::{Viewer, api_token as tokens};
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// A created token: the secret, shown once, and its stored record.
pub struct CreatedToken {
    /// The secret to present as `Authorization: Bearer …`.
    pub secret: String,
    /// The stored record (hash only).
    pub token: Visible<api_token::Model>,
}

impl Domain {
    /// Create an API token for the signed-in user. An API token cannot
    /// create another: a leaked token must not be able to outlive its revocation.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_api_token(
        &self,
        viewer: &Viewer,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> ApiResult<CreatedToken> {
        let user = viewer.require_user()?;
        if user.credential.is_api_token() {
            return Err(ApiError::Forbidden(Message::ApiTokenCannotCreateTokens));
        }
        let name = validate::name("input.name", name)?;
        if expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(ApiError::bad_input(
                "input.expiresAt",
                Message::DateBefore { other: "now" },
            ));
        }
        let minted = tokens::mint();
        let txn = self.begin_write().await?;
        let token = api_token::ActiveModel {
            user_id: Set(user.id),
            name: Set(name),
            token_hash: Set(minted.hash),
            token_prefix: Set(minted.display_prefix),
            last_used_at: Set(None),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.commit(txn, user.id, [Change::created(&token)]).await?;
        Ok(CreatedToken {
            secret: minted.secret,
            token: access::admit_unscoped(viewer, token)?,
        })
    }

    /// Revoke a token: the owner's own, or any for an ADMIN. Takes effect at once.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_api_token(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> ApiResult<Visible<api_token::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let token = api_token::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .filter(|token| token.user_id == user.id || viewer.is_admin())
            .ok_or(ApiError::NotFound(Message::NotFound))?;
        if token.revoked_at.is_some() {
            return access::admit_unscoped(viewer, token);
        }
        let mut active: api_token::ActiveModel = token.clone().into();
        active.revoked_at = Set(Some(super::now()));
        let revoked = active.update(&txn).await?;
        self.commit(
            txn,
            user.id,
            [Change::updated(&token, &revoked).as_verb(Verb::Revoke)],
        )
        .await?;
        access::admit_unscoped(viewer, revoked)
    }

    /// The signed-in user's tokens, newest first.
    pub async fn my_api_tokens(
        &self,
        viewer: &Viewer,
    ) -> ApiResult<Vec<Visible<api_token::Model>>> {
        let user = viewer.require_user()?;
        api_token::Entity::find()
            .filter(api_token::Column::UserId.eq(user.id))
            .order_by_desc(api_token::Column::CreatedAt)
            .order_by_desc(api_token::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|token| access::admit_unscoped(viewer, token))
            .collect()
    }
}

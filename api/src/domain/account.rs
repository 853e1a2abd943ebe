//! A person managing their own account: their name and language, and their
//! password.
//!
//! A password is changed with a signed-in session, never with an API token
//! (a leaked token must not be able to take the account over), and only
//! with the current password: a wrong one counts as a failed sign-in of the
//! account, so the change cannot be used to guess it.

use entity::{enums::Locale, user};
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect, Set};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Visible},
    audit::Change,
    sign_ins::SignInOutcome,
    validate,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// What `updateViewer` changes; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ViewerChanges {
    /// New display name.
    pub name: Option<String>,
    /// New language of messages.
    pub locale: Option<Locale>,
}

impl Domain {
    /// Change the caller's own name or language.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_viewer(
        &self,
        viewer: &Viewer,
        expected_version: Option<i32>,
        changes: ViewerChanges,
    ) -> ApiResult<Visible<user::Model>> {
        let me = viewer.require_user()?;
        if changes.name.is_none() && changes.locale.is_none() {
            return Err(ApiError::bad_input("input", Message::NothingToChange));
        }
        let name = changes
            .name
            .map(|name| validate::name("input.name", &name))
            .transpose()?;
        let txn = self.begin_write().await?;
        let before = own_row(&txn, me.id).await?;
        check_expected(before.version, expected_version)?;
        let mut active: user::ActiveModel = before.clone().into();
        if let Some(name) = name {
            active.name = Set(name);
        }
        if let Some(locale) = changes.locale {
            active.locale = Set(locale);
        }
        let after = versioned::save::<user::Entity>(&txn, me.id, before.version, active).await?;
        self.commit(txn, me.id, [Change::updated(&before, &after)])
            .await?;
        access::admit_unscoped(viewer, after)
    }

    /// Change the caller's password, given the current one.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn change_password(
        &self,
        viewer: &Viewer,
        address: Option<std::net::IpAddr>,
        current: &str,
        new: &str,
    ) -> ApiResult<Visible<user::Model>> {
        let me = viewer.require_user()?;
        if me.credential.is_api_token() {
            return Err(ApiError::Forbidden(Message::PasswordNeedsSession));
        }
        validate::password("input.newPassword", new)?;
        let before = own_row(&self.db, me.id).await?;
        // Counted like a sign-in of the account, before the hash runs.
        let account = Some(before.email.clone());
        if let Some(address) = address {
            self.reserve_sign_ins(std::slice::from_ref(&account), address)
                .await?
                .map_err(|retry_after| ApiError::TooManySignIns { retry_after })?;
        }
        let stored = before.password_hash.clone();
        let matches =
            self.hasher.verify(current.to_owned(), stored).await? && before.password_hash.is_some();
        if let Some(address) = address {
            let outcome = if matches {
                SignInOutcome::Succeeded
            } else {
                SignInOutcome::Failed
            };
            self.settle_sign_in(account.as_deref(), address, outcome)
                .await?;
        }
        if !matches {
            return Err(ApiError::bad_input(
                "input.currentPassword",
                Message::WrongPassword,
            ));
        }
        let hash = self.hasher.hash(new.to_owned()).await?;
        let txn = self.begin_write().await?;
        let mut active: user::ActiveModel = before.clone().into();
        active.password_hash = Set(Some(hash));
        let after = versioned::save::<user::Entity>(&txn, me.id, before.version, active).await?;
        self.commit(txn, me.id, [Change::updated(&before, &after)])
            .await?;
        access::admit_unscoped(viewer, after)
    }
}

/// The caller's own row (`UNAUTHENTICATED` once the account is gone),
/// locked until the transaction ends on PostgreSQL, so a concurrent change
/// to the account waits instead of failing this one's versioned save.
pub(super) async fn own_row(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<user::Model> {
    user::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated(Message::InvalidToken))
}

/// The row of a user someone acts on (`NOT_FOUND` when there is none),
/// locked like [`own_row`].
pub(super) async fn user_row(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<user::Model> {
    user::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(Message::NotFound))
}

//! The caller of one request, decoded once from its credentials.

use entity::enums::{Locale, UserRole};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// A signed-in user as seen by the domain layer.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user's id.
    pub id: Uuid,
    /// The user's global role.
    pub role: UserRole,
    /// The user's preferred locale.
    pub locale: Locale,
    /// The credential this request or connection was authenticated with.
    pub credential: super::Credential,
}

/// Who is calling: a signed-in user or nobody.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The signed-in user, if any.
    pub user: Option<AuthUser>,
    /// The locale messages are written in.
    pub locale: Locale,
}

impl Viewer {
    /// A caller without credentials.
    pub fn anonymous(locale: Locale) -> Self {
        Self { user: None, locale }
    }

    /// A signed-in caller.
    pub fn signed_in(user: AuthUser) -> Self {
        Self {
            locale: user.locale,
            user: Some(user),
        }
    }

    /// The signed-in user, or `UNAUTHENTICATED`.
    pub fn require_user(&self) -> ApiResult<&AuthUser> {
        self.user
            .as_ref()
            .ok_or(ApiError::Unauthenticated(Message::SignInRequired))
    }

    /// The signed-in ADMIN, or `UNAUTHENTICATED` / `FORBIDDEN`.
    pub fn require_admin(&self) -> ApiResult<&AuthUser> {
        let user = self.require_user()?;
        if user.role == UserRole::Admin {
            Ok(user)
        } else {
            Err(ApiError::Forbidden(Message::AdminOnly))
        }
    }

    /// Whether the caller is a global ADMIN.
    pub fn is_admin(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|user| user.role == UserRole::Admin)
    }
}

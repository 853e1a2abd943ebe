//! A person managing their own account.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use crate::domain::account::ViewerChanges;
use crate::graphql::scalars::Instant;
use crate::graphql::{
    RequestContext,
    context::{request_data, scope},
    types::{User, enums::Locale},
};

/// Changes to your own account; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateViewerInput {
    /// Your display name.
    pub name: Option<String>,
    /// The language of your messages, briefs and notifications.
    pub locale: Option<Locale>,
    /// The `version` the change is based on; `CONFLICT` if your account changed since.
    pub expected_version: Option<i32>,
}

/// Your account after the change.
#[derive(SimpleObject)]
pub struct UpdateViewerPayload {
    /// You.
    pub user: User,
}

/// A new password for your account.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// Your password now (a wrong one counts as a failed sign-in).
    pub current_password: String,
    /// The new password, at least 8 characters.
    pub new_password: String,
}

/// Your account after the change.
#[derive(SimpleObject)]
pub struct ChangePasswordPayload {
    /// You.
    pub user: User,
}

/// The session that ended.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// When it ended: signed tokens it covers are refused from now on, on every replica.
    pub logged_out_at: Instant,
}

/// Mutations of one's own account.
#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Change your own name or language.
    async fn update_viewer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: UpdateViewerInput,
    ) -> Result<UpdateViewerPayload> {
        let (domain, viewer) = scope(ctx)?;
        let changes = ViewerChanges {
            name: input.name,
            locale: input.locale.map(Into::into),
        };
        let user = domain
            .update_viewer(viewer, input.expected_version, changes)
            .await?;
        Ok(UpdateViewerPayload { user: User(user) })
    }

    /// Change your password, given the current one (with a signed-in session, not an API token).
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: ChangePasswordInput,
    ) -> Result<ChangePasswordPayload> {
        let (domain, viewer) = scope(ctx)?;
        let address = request_data::<RequestContext>(ctx)?.address;
        let user = domain
            .change_password(
                viewer,
                address,
                &input.current_password,
                &input.new_password,
            )
            .await?;
        Ok(ChangePasswordPayload { user: User(user) })
    }

    /// End the session of the token you sent: it is refused from now on, on every replica and on your open subscriptions; other sessions go on.
    async fn logout(&self, ctx: &Context<'_>) -> Result<LogoutPayload> {
        let (domain, viewer) = scope(ctx)?;
        let user = domain.logout(viewer).await?;
        Ok(LogoutPayload {
            logged_out_at: Instant(user.updated_at),
        })
    }

    /// End every session of yours (after a lost laptop): every token issued until now is refused, on every replica and on open subscriptions. API tokens are revoked one by one.
    async fn logout_everywhere(&self, ctx: &Context<'_>) -> Result<LogoutPayload> {
        let (domain, viewer) = scope(ctx)?;
        let user = domain.logout_everywhere(viewer).await?;
        Ok(LogoutPayload {
            logged_out_at: Instant(user.sessions_valid_after.unwrap_or(user.updated_at)),
        })
    }
}

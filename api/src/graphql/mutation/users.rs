//! An ADMIN managing people's accounts: their instance role, and the
//! deactivation of a leaver.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use crate::graphql::{
    context::{parse_id, scope},
    types::{User, enums::UserRole},
};

/// A new instance role for a user.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The user's id.
    pub id: ID,
    /// The instance role (ADMIN sees and manages everything; MEMBER what their programs allow).
    pub role: UserRole,
    /// The `version` the change is based on; `CONFLICT` if the account changed since.
    pub expected_version: Option<i32>,
}

/// The user after the change.
#[derive(SimpleObject)]
pub struct UpdateUserPayload {
    /// The user.
    pub user: User,
}

/// The user to deactivate or reactivate.
#[derive(InputObject)]
pub struct UserActivationInput {
    /// The user's id.
    pub id: ID,
}

/// The user after the change.
#[derive(SimpleObject)]
pub struct UserActivationPayload {
    /// The user.
    pub user: User,
}

/// ADMIN mutations of other people's accounts.
#[derive(Default)]
pub struct UsersMutation;

#[Object]
impl UsersMutation {
    /// Change a user's instance role (ADMIN only; the instance keeps an active ADMIN). It applies to their next request, and their open subscriptions end so they reconnect with it.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: UpdateUserInput,
    ) -> Result<UpdateUserPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let user = domain
            .update_user(viewer, id, input.expected_version, input.role.into())
            .await?;
        Ok(UpdateUserPayload { user: User(user) })
    }

    /// Deactivate a leaver's account (ADMIN only): they cannot sign in, and their tokens and API tokens stop at once, open subscriptions included. Their history and memberships stay.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: UserActivationInput,
    ) -> Result<UserActivationPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let user = domain.deactivate_user(viewer, id).await?;
        Ok(UserActivationPayload { user: User(user) })
    }

    /// Let a deactivated account sign in again (ADMIN only); its earlier tokens stay ended.
    async fn reactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: UserActivationInput,
    ) -> Result<UserActivationPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let user = domain.reactivate_user(viewer, id).await?;
        Ok(UserActivationPayload { user: User(user) })
    }
}

//! Sign-in, users and API tokens.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use crate::domain::users::NewUser;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::graphql::{
    RequestContext,
    context::{parse_id, request_data, scope},
    types::{
        ApiToken, User,
        enums::{Locale, UserRole},
    },
};

/// Credentials to sign in with.
#[derive(InputObject)]
pub struct LoginInput {
    /// Account email (case-insensitive).
    pub email: String,
    /// Account password.
    pub password: String,
}

/// A signed-in session.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// Bearer token for the `Authorization` header.
    pub token: Text<String>,
    /// When the token expires.
    pub expires_at: Instant,
    /// Who signed in.
    pub user: User,
}

/// A new user account.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Sign-in email (unique, case-insensitive).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Initial password, at least 8 characters.
    pub password: String,
    /// Global role.
    #[graphql(default_with = "UserRole::Member")]
    pub role: UserRole,
    /// Preferred language.
    #[graphql(default_with = "Locale::En")]
    pub locale: Locale,
}

/// The created user.
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    /// The new account.
    pub user: User,
}

/// A new API token for the signed-in user.
#[derive(InputObject)]
pub struct CreateApiTokenInput {
    /// What the token is for, e.g. "Jira sync".
    pub name: String,
    /// When it should stop working; never when absent.
    pub expires_at: Option<Instant>,
}

/// The created token; `token` is the secret and is shown only this once.
#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    /// The secret, to send as `Authorization: Bearer …`. It cannot be shown again.
    pub token: Text<String>,
    /// The stored token.
    pub api_token: ApiToken,
}

/// Which token to revoke.
#[derive(InputObject)]
pub struct RevokeApiTokenInput {
    /// The token's id.
    pub id: ID,
}

/// The revoked token.
#[derive(SimpleObject)]
pub struct RevokeApiTokenPayload {
    /// The token, now with `revokedAt` set.
    pub api_token: ApiToken,
}

/// Sign-in, users and API tokens.
#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Sign in with email and password; returns a bearer token.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: LoginInput,
    ) -> Result<LoginPayload> {
        let (domain, _) = scope(ctx)?;
        let address = request_data::<RequestContext>(ctx)?.address;
        let session = domain.login(&input.email, &input.password, address).await?;
        Ok(LoginPayload {
            token: Text(session.token),
            expires_at: Instant(session.expires_at),
            user: User(session.user),
        })
    }

    /// Create a user account (ADMIN only).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: CreateUserInput,
    ) -> Result<CreateUserPayload> {
        let (domain, viewer) = scope(ctx)?;
        let user = domain
            .create_user(
                viewer,
                NewUser {
                    email: input.email,
                    name: input.name,
                    password: input.password,
                    role: input.role.into(),
                    locale: input.locale.into(),
                },
            )
            .await?;
        Ok(CreateUserPayload { user: User(user) })
    }

    /// Create an API token for scripts; the secret is returned once.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: CreateApiTokenInput,
    ) -> Result<CreateApiTokenPayload> {
        let (domain, viewer) = scope(ctx)?;
        let created = domain
            .create_api_token(viewer, &input.name, input.expires_at.map(Into::into))
            .await?;
        Ok(CreateApiTokenPayload {
            token: Text(created.secret),
            api_token: ApiToken(created.token),
        })
    }

    /// Revoke an API token; it stops working at once.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: RevokeApiTokenInput,
    ) -> Result<RevokeApiTokenPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let token = domain.revoke_api_token(viewer, id).await?;
        Ok(RevokeApiTokenPayload {
            api_token: ApiToken(token),
        })
    }
}

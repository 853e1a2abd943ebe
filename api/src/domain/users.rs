//! Users: sign-in, credentials on each request, accounts and the first admin.

use chrono::{DateTime, Utc};
use entity::{
    api_token,
    enums::{Locale, UserRole},
    user,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Visible},
    audit::Change,
    pagination::{Direction, Ordering, Page, PageArgs},
    sessions::SessionState,
    sign_ins::SignInOutcome,
    validate,
};
use crate::auth::{
    AuthUser, Credential, Principal, Viewer, api_token as tokens, jwt::Verified, password,
};
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// What `createUser` and `trestle user create` accept.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in email (unique, case-insensitive).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Initial password.
    pub password: String,
    /// Global role.
    pub role: UserRole,
    /// Preferred locale.
    pub locale: Locale,
}

/// The result of a successful sign-in.
pub struct Session {
    /// The bearer token.
    pub token: String,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
    /// Who signed in.
    pub user: Visible<user::Model>,
}

fn auth_user(user: &user::Model, credential: Credential) -> AuthUser {
    AuthUser {
        id: user.id,
        role: user.role,
        locale: user.locale,
        credential,
    }
}

/// A signed-in caller, and the programs it is a member of when they were
/// read with it.
pub struct Caller {
    /// Who.
    pub user: AuthUser,
    /// The programs the user was a member of when the credential was checked.
    pub programs: Option<Vec<Uuid>>,
}

/// A user as a credential check needs it, with one of its memberships: the
/// user's row joined to its memberships, one row each (or one without).
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
struct CallerRow {
    id: Uuid,
    role: UserRole,
    locale: Locale,
    deactivated_at: Option<DateTime<Utc>>,
    sessions_valid_after: Option<DateTime<Utc>>,
    revoked_sessions_until: Option<DateTime<Utc>>,
    program_id: Option<Uuid>,
}

impl CallerRow {
    /// The rows of user `id`: no password hash, nothing else it does not need.
    fn find(id: Uuid) -> sea_orm::Selector<sea_orm::SelectModel<Self>> {
        use sea_orm::{JoinType, QuerySelect, RelationTrait};
        user::Entity::find_by_id(id)
            .select_only()
            .columns([
                user::Column::Id,
                user::Column::Role,
                user::Column::Locale,
                user::Column::DeactivatedAt,
                user::Column::SessionsValidAfter,
                user::Column::RevokedSessionsUntil,
            ])
            .column(entity::program_member::Column::ProgramId)
            .join(
                JoinType::LeftJoin,
                entity::program_member::Relation::User.def().rev(),
            )
            .into_model::<Self>()
    }

    fn session(&self) -> SessionState {
        SessionState {
            deactivated_at: self.deactivated_at,
            sessions_valid_after: self.sessions_valid_after,
            revoked_sessions_until: self.revoked_sessions_until,
        }
    }

    fn of(user: &user::Model) -> Self {
        Self {
            id: user.id,
            role: user.role,
            locale: user.locale,
            deactivated_at: user.deactivated_at,
            sessions_valid_after: user.sessions_valid_after,
            revoked_sessions_until: user.revoked_sessions_until,
            program_id: None,
        }
    }
}

impl Domain {
    /// Resolve a bearer credential (JWT or API token) to the user it names.
    pub async fn authenticate(&self, credential: &str) -> ApiResult<AuthUser> {
        if tokens::is_api_token(credential) {
            self.authenticate_api_token(credential).await
        } else {
            let verified = self.verify_token(credential)?;
            self.token_user(credential, &verified).await
        }
    }

    /// Check a signed token's signature and claims, without the database.
    pub fn verify_token(&self, token: &str) -> ApiResult<Verified> {
        self.jwt.verify(token)
    }

    /// The user verified `token` names, if the token is still accepted (the
    /// account is active, the token not logged out); none is created for an
    /// identity-provider email that matches no user.
    pub async fn token_user(&self, token: &str, verified: &Verified) -> ApiResult<AuthUser> {
        Ok(self.token_caller(token, verified).await?.user)
    }

    /// [`token_user`](Self::token_user), with the programs the user is a
    /// member of read in the same statement (for a Trestle token; an
    /// identity provider's names a user by email and reads only the user).
    pub async fn token_caller(&self, token: &str, verified: &Verified) -> ApiResult<Caller> {
        let invalid = || ApiError::Unauthenticated(Message::InvalidToken);
        let credential = Credential::from_token(verified, token);
        let epoch = self.callers.epoch();
        let (account, programs) = match &verified.principal {
            Principal::User(id) => {
                if let Some((user, programs)) = self.callers.recall(*id, &credential) {
                    return Ok(Caller {
                        user,
                        programs: Some(programs),
                    });
                }
                let rows = CallerRow::find(*id).all(&self.db).await?;
                let account = rows.first().ok_or_else(invalid)?.clone();
                let programs = rows
                    .iter()
                    .filter_map(|row| row.program_id)
                    .collect::<Vec<_>>();
                (account, Some(programs))
            }
            Principal::Email(email) => {
                let user = find_by_email(&self.db, email).await?.ok_or_else(invalid)?;
                (CallerRow::of(&user), None)
            }
        };
        if let Some(refusal) = self
            .session_refusal(&account.session(), &credential)
            .await?
        {
            return Err(ApiError::Unauthenticated(refusal));
        }
        let user = AuthUser {
            id: account.id,
            role: account.role,
            locale: account.locale,
            credential,
        };
        if let Some(programs) = &programs {
            self.callers.remember(epoch, &user, programs);
        }
        Ok(Caller { user, programs })
    }

    /// Resolve an API token (`trst_…`) to its user: one lookup by its hash.
    pub async fn authenticate_api_token(&self, secret: &str) -> ApiResult<AuthUser> {
        let invalid = || ApiError::Unauthenticated(Message::InvalidToken);
        let token = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(tokens::hash(secret)))
            .one(&self.db)
            .await?
            .ok_or_else(invalid)?;
        let now = Utc::now();
        if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at <= now) {
            return Err(invalid());
        }
        // Record use at most once a minute, so reads do not turn into writes.
        if token
            .last_used_at
            .is_none_or(|at| now - at > chrono::Duration::minutes(1))
        {
            let mut active: api_token::ActiveModel = token.clone().into();
            active.last_used_at = Set(Some(super::now()));
            active.update(&self.db).await?;
        }
        let user = user::Entity::find_by_id(token.user_id)
            .one(&self.db)
            .await?
            .ok_or_else(invalid)?;
        let credential = Credential::ApiToken {
            id: token.id,
            expires_at: token.expires_at,
        };
        if let Some(refusal) = self
            .session_refusal(&SessionState::from(&user), &credential)
            .await?
        {
            return Err(ApiError::Unauthenticated(refusal));
        }
        Ok(auth_user(&user, credential))
    }

    /// Whether `user`'s credential is still accepted, as a new request would
    /// find it: the API token is not revoked or expired, the user exists, is
    /// active and has the same role, and the signed token is not logged out.
    pub async fn credential_is_valid(&self, user: &AuthUser) -> ApiResult<bool> {
        if user
            .credential
            .expires_at()
            .is_some_and(|at| at <= Utc::now())
        {
            return Ok(false);
        }
        if let Credential::ApiToken { id, .. } = &user.credential {
            let token = api_token::Entity::find_by_id(*id).one(&self.db).await?;
            if token.is_none_or(|token| token.revoked_at.is_some()) {
                return Ok(false);
            }
        }
        let Some(row) = user::Entity::find_by_id(user.id).one(&self.db).await? else {
            return Ok(false);
        };
        Ok(row.role == user.role
            && self
                .session_refusal(&SessionState::from(&row), &user.credential)
                .await?
                .is_none())
    }

    /// Check an email and password and issue a token.
    #[tracing::instrument(level = "debug", skip_all)]
    ///
    /// From a client `address`, an attempt is counted before it runs: too
    /// many failures from the address, or an account being guessed at, are
    /// refused with the seconds to wait (see [`super::sign_ins`]).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        address: Option<std::net::IpAddr>,
    ) -> ApiResult<Session> {
        if let Some(address) = address {
            self.reserve_sign_ins(&[Some(email.to_owned())], address)
                .await?
                .map_err(|retry_after| ApiError::TooManySignIns { retry_after })?;
        }
        let signed_in = self.check_password(email, password).await;
        if let Some(address) = address {
            let outcome = match &signed_in {
                Ok(_) => SignInOutcome::Succeeded,
                Err(ApiError::Unauthenticated(_)) => SignInOutcome::Failed,
                Err(_) => SignInOutcome::NotRun,
            };
            self.settle_sign_in(Some(email), address, outcome).await?;
        }
        let user = signed_in?;
        if user.deactivated_at.is_some() {
            return Err(ApiError::Unauthenticated(Message::AccountDeactivated));
        }
        let (token, expires_at) = self.jwt.issue_after(user.id, user.sessions_valid_after)?;
        Ok(Session {
            token,
            expires_at,
            user: access::own_account(user),
        })
    }

    /// The user whose email and password these are (`UNAUTHENTICATED` otherwise).
    async fn check_password(&self, email: &str, password: &str) -> ApiResult<user::Model> {
        let email = email.trim().to_lowercase();
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(&self.db)
            .await?;
        // An unknown user is verified against a dummy hash: timing tells nothing.
        let stored = found.as_ref().and_then(|user| user.password_hash.clone());
        let matches = self.hasher.verify(password.to_owned(), stored).await?;
        match found {
            Some(user) if matches && user.password_hash.is_some() => Ok(user),
            _ => Err(ApiError::Unauthenticated(Message::InvalidCredentials)),
        }
    }

    /// Create a user account (ADMIN only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_user(
        &self,
        viewer: &Viewer,
        input: NewUser,
    ) -> ApiResult<Visible<user::Model>> {
        let admin = viewer.require_admin()?;
        let actor = Some(admin.id);
        let created = self.insert_user(actor, input, "input").await?;
        access::admit_unscoped(viewer, created)
    }

    /// Insert a user after validating the input; `actor` is recorded in the history.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn insert_user(
        &self,
        actor: Option<Uuid>,
        input: NewUser,
        path: &str,
    ) -> ApiResult<user::Model> {
        let email = validate::email(&format!("{path}.email"), &input.email)?;
        let name = validate::name(&format!("{path}.name"), &input.name)?;
        validate::password(&format!("{path}.password"), &input.password)?;
        let password_hash = self.hasher.hash(input.password).await?;
        let txn = self.begin_write().await?;
        let taken = user::Entity::find()
            .filter(user::Column::Email.eq(email.clone()))
            .count(&txn)
            .await?
            > 0;
        if taken {
            return Err(ApiError::Conflict(Message::EmailTaken));
        }
        let created = user::ActiveModel {
            email: Set(email),
            name: Set(name),
            password_hash: Set(Some(password_hash)),
            role: Set(input.role),
            locale: Set(input.locale),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(Message::AlreadyExists) => ApiError::Conflict(Message::EmailTaken),
            other => other,
        })?;
        self.commit(txn, actor, [Change::created(&created)]).await?;
        Ok(created)
    }

    /// The signed-in user's own account.
    pub async fn viewer_user(&self, viewer: &Viewer) -> ApiResult<Option<Visible<user::Model>>> {
        let auth = viewer.require_user()?;
        access::visible(viewer, user::Entity::find_by_id(auth.id))?
            .one(&self.db)
            .await
    }

    /// Users, oldest first: every signed-in user may look people up by
    /// name or email (`search`, case-insensitive) to staff a program
    /// (deactivated accounts left out); the whole list without a search,
    /// deactivated accounts included, is ADMIN only.
    pub async fn list_users(
        &self,
        viewer: &Viewer,
        search: Option<&str>,
        args: &PageArgs,
    ) -> ApiResult<Page<Visible<user::Model>>> {
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if search.is_none() {
            viewer.require_admin()?;
        }
        let mut select = access::visible(viewer, user::Entity::find())?;
        // Staffing searches find people who can still sign in; ADMINs see leavers too.
        if !viewer.is_admin() {
            select = select.narrow(user::Column::DeactivatedAt.is_null());
        }
        if let Some(search) = search {
            use super::programs::{escape_like, lower_like};
            let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
            select = select.narrow(
                sea_orm::Condition::any()
                    .add(lower_like(user::Column::Name, &pattern))
                    .add(lower_like(user::Column::Email, &pattern)),
            );
        }
        select
            .page(
                &self.db,
                Ordering {
                    name: "CREATED_AT:ASC".into(),
                    column: user::Column::CreatedAt,
                    id_column: user::Column::Id,
                    direction: Direction::Asc,
                },
                args,
                self.limits.max_page_size,
                |user| user.created_at.into(),
                |user| user.id,
            )
            .await
    }
}

/// Outcome of [`ensure_admins`], for the start-up log.
pub enum AdminBootstrap {
    /// Users exist already; nothing was done.
    Existing,
    /// The configured bootstrap admin was created.
    Configured(String),
    /// A first-start admin was created with this random password.
    FirstStart {
        /// The admin's email.
        email: String,
        /// The generated password, printed once.
        password: String,
    },
}

/// Create the configured bootstrap admin, or on a brand-new database the
/// first-start admin with a random password (when `first_start` is allowed).
pub async fn ensure_admins(
    domain: &Domain,
    bootstrap: Option<(&str, &SecretString)>,
    first_start: bool,
) -> ApiResult<AdminBootstrap> {
    if let Some((email, password)) = bootstrap {
        let email = validate::email("TRESTLE_BOOTSTRAP_ADMIN_EMAIL", email)?;
        let exists = user::Entity::find()
            .filter(user::Column::Email.eq(email.clone()))
            .count(&domain.db)
            .await?
            > 0;
        if exists {
            return Ok(AdminBootstrap::Existing);
        }
        let password = password.expose_secret().to_owned();
        let created = insert_admin(domain, &email, password, "TRESTLE_BOOTSTRAP_ADMIN").await?;
        return Ok(if created {
            AdminBootstrap::Configured(email)
        } else {
            AdminBootstrap::Existing
        });
    }
    if !first_start || user::Entity::find().count(&domain.db).await? > 0 {
        return Ok(AdminBootstrap::Existing);
    }
    let email = "admin@localhost".to_owned();
    let password = password::random_secret(20);
    let created = insert_admin(domain, &email, password.clone(), "firstStartAdmin").await?;
    Ok(if created {
        AdminBootstrap::FirstStart { email, password }
    } else {
        AdminBootstrap::Existing
    })
}

/// Create an ADMIN; `false` when another replica starting at the same time
/// created the same email first.
async fn insert_admin(
    domain: &Domain,
    email: &str,
    password: String,
    field: &str,
) -> ApiResult<bool> {
    let new = NewUser {
        name: "Administrator".into(),
        email: email.to_owned(),
        password,
        role: UserRole::Admin,
        locale: Locale::En,
    };
    match domain.insert_user(None, new, field).await {
        Ok(_) => Ok(true),
        Err(ApiError::Conflict(Message::EmailTaken)) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Find a user by email (for `trestle token`).
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> ApiResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?)
}

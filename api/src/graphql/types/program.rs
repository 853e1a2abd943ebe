//! `Program`.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{enums::ProgramRole as StoredRole, program};

use super::{
    AuditEvent, ProgramMember, User,
    connection::{ListConnection, connection, page_args},
    enums::{Health, ProgramRole, ProgramStatus},
    money::Money,
};
use crate::graphql::{context::request_data, loaders::Loaders, scalars::Date};

/// A cross-team program led by a TPM.
pub struct Program(pub program::Model);

/// Which history entries to list.
#[derive(async_graphql::InputObject, Default)]
pub struct ActivityFilter {
    /// Only entries about this kind of entity, e.g. `Workstream`.
    pub entity_type: Option<String>,
    /// Only entries about this entity.
    pub entity_id: Option<ID>,
    /// Only entries by this user.
    pub actor_id: Option<ID>,
}

/// A cross-team program led by a TPM: workstreams, dependencies, decisions, risks and status.
#[Object]
impl Program {
    /// Unique id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Short unique key, e.g. `GDPR` or `K8S2026`.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Longer description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// What the program is meant to achieve.
    async fn objective(&self) -> Option<&str> {
        self.0.objective.as_deref()
    }
    /// Lifecycle status.
    async fn status(&self) -> ProgramStatus {
        self.0.status.into()
    }
    /// Health, as set by the latest status update.
    async fn health(&self) -> Health {
        self.0.health.into()
    }
    /// First day of the program.
    async fn start_date(&self) -> Option<Date> {
        self.0.start_date.map(Date)
    }
    /// Day the program is meant to land.
    async fn target_date(&self) -> Option<Date> {
        self.0.target_date.map(Date)
    }
    /// Budget, if one is set.
    async fn budget(&self) -> Option<Money> {
        match (self.0.budget_amount, &self.0.budget_currency) {
            (Some(amount), Some(currency)) => Some(Money {
                amount,
                currency: currency.clone(),
            }),
            _ => None,
        }
    }
    /// The TPM who owns the program.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let loaders = request_data::<Loaders>(ctx)?;
        Ok(loaders.users.load_one(self.0.owner_id).await?.map(User))
    }
    /// Everyone with a role in the program.
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<ProgramMember>> {
        let loaders = request_data::<Loaders>(ctx)?;
        Ok(loaders
            .members_by_program
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ProgramMember)
            .collect())
    }
    /// The signed-in user's role in this program (null for an ADMIN who is not a member).
    async fn viewer_role(&self, ctx: &Context<'_>) -> Result<Option<ProgramRole>> {
        let loaders = request_data::<Loaders>(ctx)?;
        Ok(loaders
            .viewer_roles
            .load_one(self.0.id)
            .await?
            .map(Into::into))
    }
    /// Whether the signed-in user may edit what is inside this program.
    async fn viewer_can_edit(&self, ctx: &Context<'_>) -> Result<bool> {
        let (_, viewer) = crate::graphql::context::scope(ctx)?;
        if viewer.is_admin() {
            return Ok(true);
        }
        let loaders = request_data::<Loaders>(ctx)?;
        let role = loaders.viewer_roles.load_one(self.0.id).await?;
        Ok(matches!(role, Some(StoredRole::Owner | StoredRole::Editor)))
    }
    /// The program's history, newest first: every change to it and to everything in it.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ActivityFilter>,
    ) -> Result<ListConnection<AuditEvent>> {
        let (domain, viewer) = crate::graphql::context::scope(ctx)?;
        let filter = filter.unwrap_or_default();
        let page = domain
            .program_activity(
                viewer,
                self.0.id,
                crate::domain::members::ActivityFilter {
                    entity_type: filter.entity_type,
                    entity_id: crate::graphql::context::parse_optional_id("filter.entityId", filter.entity_id.as_ref())?,
                    actor_id: crate::graphql::context::parse_optional_id("filter.actorId", filter.actor_id.as_ref())?,
                },
                &page_args(first, after, last, before),
            )
            .await?;
        Ok(connection(page, AuditEvent))
    }
    /// When the program was archived; archived programs are hidden from lists by default.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
    /// When the program was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the program was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

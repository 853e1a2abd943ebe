//! `Risk`, with the filter and order of a program's risks.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use entity::risk;
use uuid::Uuid;

use super::{
    Dependency, Program, User, Workstream,
    connection::{ListConnection, connection, page_args},
    enums::{order_input, order_of},
};
use crate::domain::access::Visible;
use crate::domain::loaders::group;
use crate::domain::risks::{RiskFilter as DomainFilter, RiskOrderField as DomainField};
use crate::error::ApiError;
use crate::graphql::context::loaders;
use crate::graphql::context::{parse_optional_id, scope};
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::i18n::Message;

/// Where a risk stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::RiskStatus")]
pub enum RiskStatus {
    /// Identified, nothing done yet.
    Open,
    /// Being reduced by the mitigation plan.
    Mitigating,
    /// Knowingly accepted as it is.
    Accepted,
    /// No longer applies.
    Closed,
}

/// Something that could hurt a program, scored by likelihood × impact.
pub struct Risk(pub Visible<risk::Model>);

/// Which risks to list.
#[derive(InputObject, Default)]
pub struct RiskFilter {
    /// Only risks in one of these statuses.
    pub status: Option<Vec<RiskStatus>>,
    /// Only risks scoring at least this much (score = likelihood × impact, 1–25).
    pub min_score: Option<i32>,
    /// Only risks owned by this user.
    pub owner_id: Option<ID>,
    /// Case-insensitive text contained in the title or description.
    pub search: Option<String>,
}

/// Sortable fields of risks.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::risks::RiskOrderField")]
pub enum RiskOrderField {
    /// Score (likelihood × impact).
    Score,
    /// Creation time.
    CreatedAt,
    /// Title.
    Title,
}

order_input! {
    /// Order of a risk list; ties are broken by id.
    RiskOrder { field: RiskOrderField => DomainField }
}

/// The `risks` field of a program: loaded in one batch, paged in memory.
#[allow(clippy::too_many_arguments)]
pub async fn program_risks(
    ctx: &Context<'_>,
    program_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    filter: Option<RiskFilter>,
    order_by: Option<RiskOrder>,
) -> Result<ListConnection<Risk>> {
    let (domain, _) = scope(ctx)?;
    let filter = filter.unwrap_or_default();
    let owner_id = parse_optional_id("filter.ownerId", filter.owner_id.as_ref())?;
    let loaders = loaders(ctx)?;
    let rows = group(&loaders.risks_by_program, program_id).await?;
    let filter = DomainFilter {
        status: filter
            .status
            .map(|s| s.into_iter().map(Into::into).collect()),
        min_score: filter.min_score,
        owner_id,
        search: filter.search,
    };
    let page = domain.page_loaded(
        rows,
        |row| filter.matches(row),
        order_of(order_by, DomainField::CreatedAt),
        &page_args(first, after, last, before),
        |row| row.id,
    )?;
    Ok(connection(page, Risk))
}

/// Something that could hurt a program, scored by likelihood × impact.
#[Object]
impl Risk {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The program the risk threatens.
    async fn program(&self, ctx: &Context<'_>) -> Result<Program> {
        let loaders = loaders(ctx)?;
        loaders
            .programs
            .load_one(self.0.program_id)
            .await?
            .map(Program)
            .ok_or_else(|| ApiError::NotFound(Message::NotFound).into())
    }
    /// Short name.
    async fn title(&self) -> Text<&str> {
        Text(&self.0.title)
    }
    /// Longer description.
    async fn description(&self) -> Option<Text<&str>> {
        self.0.description.as_deref().map(Text)
    }
    /// Its id in another tool (a Jira key, a GitHub issue number), unique in its program.
    async fn external_id(&self) -> Option<Text<&str>> {
        self.0.external_id.as_deref().map(Text)
    }
    /// Where its work is tracked in other tools.
    async fn links(&self) -> Vec<super::link::Link> {
        super::link::links_of(&self.0.links)
    }
    /// How likely it is to happen, from 1 (rare) to 5 (almost certain).
    async fn likelihood(&self) -> i32 {
        self.0.likelihood
    }
    /// How badly it would hurt, from 1 (minor) to 5 (severe).
    async fn impact(&self) -> i32 {
        self.0.impact
    }
    /// Likelihood × impact, from 1 to 25.
    async fn score(&self) -> i32 {
        self.0.score
    }
    /// Where the risk stands.
    async fn status(&self) -> RiskStatus {
        self.0.status.into()
    }
    /// The plan to reduce the risk.
    async fn mitigation(&self) -> Option<Text<&str>> {
        self.0.mitigation.as_deref().map(Text)
    }
    /// Who handles the risk.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.owner_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.users.load_one(id).await?.map(User))
    }
    /// The workstream the risk threatens, if any (always in the same program).
    async fn workstream(&self, ctx: &Context<'_>) -> Result<Option<Workstream>> {
        let Some(id) = self.0.workstream_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.workstreams.load_one(id).await?.map(Workstream))
    }
    /// The dependency the risk threatens, if any (recorded in the same program);
    /// null when its upstream end lies in a program the viewer cannot see.
    async fn dependency(&self, ctx: &Context<'_>) -> Result<Option<Dependency>> {
        let Some(id) = self.0.dependency_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.dependencies.load_one(id).await?.map(Dependency))
    }
    /// The conversation on this risk, oldest first.
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n (at most the server's page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n (at most the server's page size).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ListConnection<super::comment::Comment>> {
        super::comment::comments_on(
            ctx,
            |loaders| &loaders.comments_by_risk,
            self.0.id,
            first,
            after,
            last,
            before,
        )
        .await
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when changing the risk.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the risk was recorded.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the risk was last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
}

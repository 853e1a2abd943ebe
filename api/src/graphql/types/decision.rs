//! `Decision` and `DecisionOption`, with the filter and order of a program's decisions.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use entity::{decision, decision_option, enums::DecisionStatus as StoredStatus};
use uuid::Uuid;

use super::{
    Program, User,
    connection::{ListConnection, connection, page_args},
    enums::{order_input, order_of},
};
use crate::domain::access::Visible;
use crate::domain::decisions::{DecisionFilter as DomainFilter, DecisionOrderField as DomainField};
use crate::domain::loaders::group;
use crate::error::ApiError;
use crate::graphql::context::loaders;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::graphql::{context::scope, scalars::Date};
use crate::i18n::Message;

/// Where a decision stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::DecisionStatus")]
pub enum DecisionStatus {
    /// Proposed and awaiting a decision.
    Proposed,
    /// Accepted: this is what the program does.
    Accepted,
    /// Rejected.
    Rejected,
    /// Was accepted, then replaced by a later accepted decision.
    Superseded,
}

/// A recorded decision of a program: what was weighed, what was chosen and why.
pub struct Decision(pub Visible<decision::Model>);

/// An alternative weighed for a decision.
pub struct DecisionOption(pub Visible<decision_option::Model>);

/// Which decisions to list.
#[derive(InputObject, Default)]
pub struct DecisionFilter {
    /// Only decisions in one of these statuses.
    pub status: Option<Vec<DecisionStatus>>,
    /// Case-insensitive text contained in the title or context.
    pub search: Option<String>,
    /// Only decisions due strictly before this day (those without a due date are left out).
    pub due_before: Option<Date>,
}

/// Sortable fields of decisions.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::decisions::DecisionOrderField")]
pub enum DecisionOrderField {
    /// Creation time.
    CreatedAt,
    /// Due date (decisions without one come last).
    DueDate,
    /// Title.
    Title,
    /// When the decision was taken (undecided ones come last).
    DecidedAt,
}

order_input! {
    /// Order of a decision list; ties are broken by id.
    DecisionOrder { field: DecisionOrderField => DomainField }
}

/// The `decisions` field of a program: loaded in one batch, paged in memory.
#[allow(clippy::too_many_arguments)]
pub async fn program_decisions(
    ctx: &Context<'_>,
    program_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    filter: Option<DecisionFilter>,
    order_by: Option<DecisionOrder>,
) -> Result<ListConnection<Decision>> {
    let (domain, _) = scope(ctx)?;
    let loaders = loaders(ctx)?;
    let rows = group(&loaders.decisions_by_program, program_id).await?;
    let filter = filter.unwrap_or_default();
    let filter = DomainFilter {
        status: filter
            .status
            .map(|s| s.into_iter().map(Into::into).collect()),
        search: filter.search,
        due_before: filter.due_before.map(Into::into),
    };
    let page = domain.page_loaded(
        rows,
        |row| filter.matches(row),
        order_of(order_by, DomainField::CreatedAt),
        &page_args(first, after, last, before),
        |row| row.id,
    )?;
    Ok(connection(page, Decision))
}

async fn load_decision(ctx: &Context<'_>, id: Option<Uuid>) -> Result<Option<Decision>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let loaders = loaders(ctx)?;
    Ok(loaders.decisions.load_one(id).await?.map(Decision))
}

/// A recorded decision of a program: what was weighed, what was chosen and why.
#[Object]
impl Decision {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The program the decision belongs to.
    async fn program(&self, ctx: &Context<'_>) -> Result<Program> {
        let loaders = loaders(ctx)?;
        loaders
            .programs
            .load_one(self.0.program_id)
            .await?
            .map(Program)
            .ok_or_else(|| ApiError::NotFound(Message::NotFound).into())
    }
    /// What is being decided.
    async fn title(&self) -> Text<&str> {
        Text(&self.0.title)
    }
    /// Background that calls for the decision.
    async fn context(&self) -> Option<Text<&str>> {
        self.0.context.as_deref().map(Text)
    }
    /// The alternatives weighed, in the order they were given.
    async fn options(&self, ctx: &Context<'_>) -> Result<Vec<DecisionOption>> {
        let loaders = loaders(ctx)?;
        Ok(group(&loaders.options_by_decision, self.0.id)
            .await?
            .into_iter()
            .map(DecisionOption)
            .collect())
    }
    /// What was decided.
    async fn outcome(&self) -> Option<Text<&str>> {
        self.0.outcome.as_deref().map(Text)
    }
    /// Why it was decided that way.
    async fn rationale(&self) -> Option<Text<&str>> {
        self.0.rationale.as_deref().map(Text)
    }
    /// What follows from the decision.
    async fn consequences(&self) -> Option<Text<&str>> {
        self.0.consequences.as_deref().map(Text)
    }
    /// Where the decision stands.
    async fn status(&self) -> DecisionStatus {
        self.0.status.into()
    }
    /// Who accepted or rejected it.
    async fn decided_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.decided_by_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.users.load_one(id).await?.map(User))
    }
    /// When it was accepted or rejected.
    async fn decided_at(&self) -> Option<Instant> {
        self.0.decided_at.map(Instant)
    }
    /// Day by which the decision is needed.
    async fn due_date(&self) -> Option<Date> {
        self.0.due_date.map(Date)
    }
    /// The later accepted decision that replaced this one (set once this one is SUPERSEDED).
    async fn superseded_by(&self, ctx: &Context<'_>) -> Result<Option<Decision>> {
        if self.0.status != StoredStatus::Superseded {
            return Ok(None);
        }
        load_decision(ctx, self.0.superseded_by_id).await
    }
    /// A PROPOSED decision that will supersede this one if it is accepted.
    async fn proposed_replacement(&self, ctx: &Context<'_>) -> Result<Option<Decision>> {
        if self.0.status == StoredStatus::Superseded {
            return Ok(None);
        }
        load_decision(ctx, self.0.superseded_by_id).await
    }
    /// The decisions this one replaces: superseded once it is accepted, pending while it is proposed.
    async fn supersedes(&self, ctx: &Context<'_>) -> Result<Vec<Decision>> {
        let loaders = loaders(ctx)?;
        Ok(group(&loaders.decisions_by_superseder, self.0.id)
            .await?
            .into_iter()
            .map(Decision)
            .collect())
    }
    /// The conversation on this decision, oldest first.
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
            |loaders| &loaders.comments_by_decision,
            self.0.id,
            first,
            after,
            last,
            before,
        )
        .await
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when changing the decision.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the decision was recorded.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the decision was last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
}

/// An alternative weighed for a decision.
#[Object]
impl DecisionOption {
    /// The option's id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Short name of the alternative.
    async fn title(&self) -> Text<&str> {
        Text(&self.0.title)
    }
    /// Arguments for it.
    async fn pros(&self) -> Option<Text<&str>> {
        self.0.pros.as_deref().map(Text)
    }
    /// Arguments against it.
    async fn cons(&self) -> Option<Text<&str>> {
        self.0.cons.as_deref().map(Text)
    }
}

//! `ComputedHealth` and its reasons.

use async_graphql::{Context, Enum, ID, Object, Result};
use entity::audit_event::Subject;

use super::enums::{Health, Locale};
use crate::domain::health::{self, Reason};
use crate::graphql::context::loaders;
use crate::graphql::context::scope;
use crate::graphql::work::Text;

/// Why the computed health is what it is.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::health::ReasonCode")]
pub enum HealthReasonCode {
    /// The forecast finish is past the target (`OFF_TRACK` beyond the program's `offTrackAfterDays`).
    ForecastLate,
    /// A blocked workstream is on the critical path.
    BlockedOnCriticalPath,
    /// An overdue dependency touches the critical path.
    OverdueDependencyOnCriticalPath,
    /// A dependency at risk or predicted late touches the critical path.
    AtRiskDependencyOnCriticalPath,
    /// The upstream team declined a dependency that touches the critical path.
    DeclinedDependencyOnCriticalPath,
    /// An open risk scoring 15 or more touches the critical path.
    HighRiskOnCriticalPath,
}

/// A program's health as its forecast gives it, beside the posted `health`.
pub struct ComputedHealth(pub health::ComputedHealth);

/// A program's health as its forecast gives it, beside the posted `health`.
#[Object]
impl ComputedHealth {
    /// The computed health.
    async fn health(&self) -> Health {
        self.0.health.into()
    }
    /// Why, most severe first; empty when on track.
    async fn reasons(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "At most this many, most severe first (default and largest: the server's list size, 1,000 unless configured)."
        )]
        first: Option<i32>,
    ) -> Result<Vec<HealthReason>> {
        let size = loaders(ctx)?.list_size(first)?;
        Ok(self
            .0
            .reasons
            .iter()
            .take(size)
            .cloned()
            .map(HealthReason)
            .collect())
    }
}

/// One reason for a computed health.
pub struct HealthReason(Reason);

/// One reason for a computed health.
#[Object]
impl HealthReason {
    /// What kind of reason.
    async fn code(&self) -> HealthReasonCode {
        self.0.code.into()
    }
    /// The health this reason alone leads to.
    async fn health(&self) -> Health {
        self.0.health.into()
    }
    /// The reason as a sentence (default: the viewer's language).
    async fn message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The language (default: the viewer's).")] locale: Option<Locale>,
    ) -> Result<Text<String>> {
        let (_, viewer) = scope(ctx)?;
        Ok(Text(
            self.0.fact.text(locale.map_or(viewer.locale, Into::into)),
        ))
    }
    /// The type of the entity it is about (`Program`, `Workstream`, `Dependency`, `Risk`).
    async fn entity_type(&self) -> Option<Text<&'static str>> {
        self.0
            .subject
            .map(|(subject, _)| Text(Subject::entity_type(subject)))
    }
    /// The id of the entity it is about.
    async fn entity_id(&self) -> Option<ID> {
        self.0.subject.map(|(_, id)| ID(id.to_string()))
    }
}

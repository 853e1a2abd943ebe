//! Relay's object identification: which kind of entity an id names, so that
//! `node(id:)` and `nodes(ids:)` load it through that kind's access-checked
//! loader. Ids are UUIDs, unique across tables; one statement finds the
//! kinds of any number of ids among the rows the caller may see, so what
//! the caller may not see stays null and costs what a missing id does.

use std::collections::HashMap;

use entity::{
    api_token, audit_event, baseline, comment, cost, decision, decision_option, dependency, goal,
    milestone, notification, portfolio, program, program_member, risk, status_update, team, user,
    webhook, webhook_delivery, workstream,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, EnumIter, Iterable, QueryFilter,
    sea_query::{SelectStatement, UnionType},
};
use uuid::Uuid;

use super::{Domain, access};
use crate::auth::Viewer;
use crate::error::ApiResult;

/// Every kind of entity with an id a client can refetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter)]
pub enum Kind {
    /// A user.
    User,
    /// A team.
    Team,
    /// A program.
    Program,
    /// A membership in a program.
    ProgramMember,
    /// A workstream.
    Workstream,
    /// A milestone.
    Milestone,
    /// A dependency.
    Dependency,
    /// A decision.
    Decision,
    /// One option of a decision.
    DecisionOption,
    /// A risk.
    Risk,
    /// A status update.
    StatusUpdate,
    /// A cost.
    Cost,
    /// A baseline.
    Baseline,
    /// A comment.
    Comment,
    /// A notification.
    Notification,
    /// A history entry.
    AuditEvent,
    /// An API token.
    ApiToken,
    /// A portfolio.
    Portfolio,
    /// A goal.
    Goal,
    /// A webhook.
    Webhook,
    /// One delivery of a webhook.
    WebhookDelivery,
}

impl Kind {
    /// The ids among `ids` of this kind that `viewer` may see, tagged with
    /// the kind's position: hidden rows are left out in SQL, so a hidden id
    /// costs what a missing one does.
    fn visible_ids(
        self,
        viewer: &Viewer,
        position: i32,
        ids: &[Uuid],
    ) -> ApiResult<SelectStatement> {
        macro_rules! of {
            ($module:ident) => {
                of!($module, access::visible)
            };
            ($module:ident, $rule:path) => {
                $rule(
                    viewer,
                    $module::Entity::find().filter($module::Column::Id.is_in(ids.iter().copied())),
                )?
                .tagged_ids($module::Column::Id, position)
            };
        }
        Ok(match self {
            Self::User => of!(user),
            Self::Team => of!(team),
            Self::Program => of!(program),
            Self::ProgramMember => of!(program_member),
            Self::Workstream => of!(workstream),
            Self::Milestone => of!(milestone),
            Self::Dependency => of!(dependency),
            Self::Decision => of!(decision),
            Self::DecisionOption => of!(decision_option),
            Self::Risk => of!(risk),
            Self::StatusUpdate => of!(status_update),
            Self::Cost => of!(cost),
            Self::Baseline => of!(baseline),
            Self::Comment => of!(comment),
            Self::Notification => of!(notification),
            Self::AuditEvent => of!(audit_event),
            Self::ApiToken => of!(api_token),
            Self::Portfolio => of!(portfolio, access::readable_portfolios),
            Self::Goal => of!(goal, access::readable_goals),
            Self::Webhook => of!(webhook, access::managed_webhooks),
            Self::WebhookDelivery => of!(webhook_delivery, access::managed_deliveries),
        })
    }
}

impl Domain {
    /// The kind of each of `ids` that exists and `viewer` may see, in one
    /// statement.
    pub async fn kinds_of(&self, viewer: &Viewer, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, Kind>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let kinds: Vec<Kind> = Kind::iter().collect();
        let mut select = kinds[0].visible_ids(viewer, 0, ids)?;
        for (position, kind) in (1..).zip(&kinds[1..]) {
            select.union(UnionType::All, kind.visible_ids(viewer, position, ids)?);
        }
        let statement = self.db.get_database_backend().build(&select);
        let mut found = HashMap::with_capacity(ids.len());
        for row in self.db.query_all_raw(statement).await? {
            let id: Uuid = row.try_get("", "id")?;
            let position: i32 = row.try_get("", "kind")?;
            if let Some(kind) = usize::try_from(position).ok().and_then(|p| kinds.get(p)) {
                found.insert(id, *kind);
            }
        }
        Ok(found)
    }
}

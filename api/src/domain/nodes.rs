//! Relay's object identification: which kind of entity an id names, so that
//! `node(id:)` and `nodes(ids:)` load it through that kind's access-checked
//! loader. Ids are UUIDs, unique across tables; one statement finds the
//! kinds of any number of ids, and what the caller may not see stays null.

use std::collections::HashMap;

use entity::{
    api_token, audit_event, baseline, comment, decision, decision_option, dependency, milestone,
    notification, program, program_member, risk, status_update, team, user, workstream,
};
use sea_orm::{
    ConnectionTrait, EntityName, EnumIter, Iterable,
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, UnionType},
};
use uuid::Uuid;

use super::Domain;
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
}

impl Kind {
    /// The table holding this kind.
    fn table(self) -> &'static str {
        match self {
            Self::User => user::Entity.table_name(),
            Self::Team => team::Entity.table_name(),
            Self::Program => program::Entity.table_name(),
            Self::ProgramMember => program_member::Entity.table_name(),
            Self::Workstream => workstream::Entity.table_name(),
            Self::Milestone => milestone::Entity.table_name(),
            Self::Dependency => dependency::Entity.table_name(),
            Self::Decision => decision::Entity.table_name(),
            Self::DecisionOption => decision_option::Entity.table_name(),
            Self::Risk => risk::Entity.table_name(),
            Self::StatusUpdate => status_update::Entity.table_name(),
            Self::Baseline => baseline::Entity.table_name(),
            Self::Comment => comment::Entity.table_name(),
            Self::Notification => notification::Entity.table_name(),
            Self::AuditEvent => audit_event::Entity.table_name(),
            Self::ApiToken => api_token::Entity.table_name(),
        }
    }

    /// The ids among `ids` in this kind's table, tagged with the kind's position.
    fn select(self, position: i32, ids: &[Uuid]) -> SelectStatement {
        Query::select()
            .column(Alias::new("id"))
            .expr_as(Expr::val(position), Alias::new("kind"))
            .from(Alias::new(self.table()))
            .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().copied()))
            .to_owned()
    }
}

impl Domain {
    /// The kind of each of `ids` that exists (in one statement).
    pub async fn kinds_of(&self, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, Kind>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let kinds: Vec<Kind> = Kind::iter().collect();
        let mut select = kinds[0].select(0, ids);
        for (position, kind) in (1..).zip(&kinds[1..]) {
            select.union(UnionType::All, kind.select(position, ids));
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

//! SeaORM entities for Trestle's database tables.
//!
//! One module per table; the entities describe storage only and hold no
//! business rules.

/// Stamp new rows as they are inserted: the one place a row gets its id
/// (UUID v7), its first `version` and its timestamps, for every table that
/// has them. Columns a caller set explicitly are kept.
macro_rules! stamped {
    ($($column:ident),+ $(,)?) => {
        #[sea_orm::prelude::async_trait::async_trait]
        impl sea_orm::ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, sea_orm::DbErr>
            where
                C: sea_orm::ConnectionTrait,
            {
                if insert {
                    #[allow(unused_variables)]
                    let now = $crate::now();
                    $( $crate::stamp_column!(self, $column, now); )+
                }
                Ok(self)
            }
        }
    };
}
pub(crate) use stamped;

/// Fill one stamped column of a row being inserted if it was left unset.
#[doc(hidden)]
#[macro_export]
macro_rules! stamp_column {
    ($row:ident, id, $now:ident) => {
        if $row.id.is_not_set() {
            $row.id = sea_orm::Set(sea_orm::prelude::Uuid::now_v7());
        }
    };
    ($row:ident, version, $now:ident) => {
        if $row.version.is_not_set() {
            $row.version = sea_orm::Set(1);
        }
    };
    ($row:ident, $timestamp:ident, $now:ident) => {
        if $row.$timestamp.is_not_set() {
            $row.$timestamp = sea_orm::Set($now);
        }
    };
}

/// A timestamp for new rows, truncated to microseconds so that every
/// database stores exactly what was written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

pub mod api_token;
pub mod audit_event;
pub mod baseline;
pub mod comment;
pub mod cost;
pub mod decision;
pub mod decision_option;
pub mod dependency;
pub mod enums;
pub mod goal;
pub mod goal_program;
pub mod goal_value;
pub mod idempotency_key;
pub mod link;
pub mod milestone;
pub mod notification;
pub mod persisted_query;
pub mod portfolio;
pub mod portfolio_program;
pub mod program;
pub mod program_member;
pub mod revoked_session;
pub mod risk;
pub mod setting;
pub mod sign_in_counter;
pub mod status_update;
pub mod team;
pub mod user;
pub mod webhook;
pub mod webhook_delivery;
pub mod workstream;

/// Re-exports every entity under its table-singular name, like `sea-orm-cli` generates.
pub mod prelude {
    pub use super::api_token::Entity as ApiToken;
    pub use super::audit_event::Entity as AuditEvent;
    pub use super::comment::Entity as Comment;
    pub use super::cost::Entity as Cost;
    pub use super::decision::Entity as Decision;
    pub use super::decision_option::Entity as DecisionOption;
    pub use super::dependency::Entity as Dependency;
    pub use super::goal::Entity as Goal;
    pub use super::goal_program::Entity as GoalProgram;
    pub use super::goal_value::Entity as GoalValue;
    pub use super::idempotency_key::Entity as IdempotencyKey;
    pub use super::milestone::Entity as Milestone;
    pub use super::notification::Entity as Notification;
    pub use super::persisted_query::Entity as PersistedQuery;
    pub use super::portfolio::Entity as Portfolio;
    pub use super::portfolio_program::Entity as PortfolioProgram;
    pub use super::program::Entity as Program;
    pub use super::program_member::Entity as ProgramMember;
    pub use super::risk::Entity as Risk;
    pub use super::setting::Entity as Setting;
    pub use super::sign_in_counter::Entity as SignInCounter;
    pub use super::status_update::Entity as StatusUpdate;
    pub use super::team::Entity as Team;
    pub use super::user::Entity as User;
    pub use super::webhook::Entity as Webhook;
    pub use super::webhook_delivery::Entity as WebhookDelivery;
    pub use super::workstream::Entity as Workstream;
}

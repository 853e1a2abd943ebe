//! String-backed enumerations stored in the database.
//!
//! Every enum is persisted as its SCREAMING_SNAKE_CASE variant name in a
//! `VARCHAR(16)` column, so the same schema works on SQLite and PostgreSQL;
//! serde uses the same SCREAMING_SNAKE_CASE names.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Instance-wide role of a user account.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserRole {
    /// Administrator with access to every program and instance settings.
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// Regular member whose access is governed by program membership.
    #[sea_orm(string_value = "MEMBER")]
    Member,
}

/// Preferred user interface language of a user.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Locale {
    /// English.
    #[sea_orm(string_value = "EN")]
    En,
    /// Korean.
    #[sea_orm(string_value = "KO")]
    Ko,
}

/// Role of a user within a single program.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProgramRole {
    /// Owner of the program.
    #[sea_orm(string_value = "OWNER")]
    Owner,
    /// Member allowed to edit the program.
    #[sea_orm(string_value = "EDITOR")]
    Editor,
    /// Member with read-only access to the program.
    #[sea_orm(string_value = "VIEWER")]
    Viewer,
}

/// Lifecycle status of a program.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProgramStatus {
    /// Program is planned but has not started.
    #[sea_orm(string_value = "PLANNED")]
    Planned,
    /// Program is in progress.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Program is paused.
    #[sea_orm(string_value = "ON_HOLD")]
    OnHold,
    /// Program has finished.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// Program was stopped before finishing.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Traffic-light health of a program, workstream or status update.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Health {
    /// Green: on track.
    #[sea_orm(string_value = "ON_TRACK")]
    OnTrack,
    /// Yellow: at risk.
    #[sea_orm(string_value = "AT_RISK")]
    AtRisk,
    /// Red: off track.
    #[sea_orm(string_value = "OFF_TRACK")]
    OffTrack,
}

/// How urgent a workstream is, against the rest of its team's work.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Priority {
    /// Drop everything else.
    #[sea_orm(string_value = "P0")]
    P0,
    /// Urgent.
    #[sea_orm(string_value = "P1")]
    P1,
    /// Normal (the default).
    #[default]
    #[sea_orm(string_value = "P2")]
    P2,
    /// When there is time.
    #[sea_orm(string_value = "P3")]
    P3,
}

/// Lifecycle status of a workstream.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkstreamStatus {
    /// Work has not started.
    #[sea_orm(string_value = "NOT_STARTED")]
    NotStarted,
    /// Work is in progress.
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    /// Work is blocked.
    #[sea_orm(string_value = "BLOCKED")]
    Blocked,
    /// Work is finished.
    #[sea_orm(string_value = "DONE")]
    Done,
    /// Work was cancelled.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Status of a cross-workstream dependency.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DependencyStatus {
    /// Dependency is open and not yet delivered.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Dependency delivery is at risk.
    #[sea_orm(string_value = "AT_RISK")]
    AtRisk,
    /// Dependency is blocking the downstream workstream.
    #[sea_orm(string_value = "BLOCKED")]
    Blocked,
    /// Dependency has been delivered.
    #[sea_orm(string_value = "RESOLVED")]
    Resolved,
}

/// Status of a decision record.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DecisionStatus {
    /// Decision is proposed and awaiting an outcome.
    #[sea_orm(string_value = "PROPOSED")]
    Proposed,
    /// Decision was accepted.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Decision was rejected.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    /// Decision was replaced by a later decision.
    #[sea_orm(string_value = "SUPERSEDED")]
    Superseded,
}

/// Status of a risk.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskStatus {
    /// Risk is identified and not yet handled.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Risk is being mitigated.
    #[sea_orm(string_value = "MITIGATING")]
    Mitigating,
    /// Risk is accepted without further mitigation.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Risk no longer applies.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

/// The upstream team's answer to a dependency, which is a request.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Commitment {
    /// Asked for; the upstream team has not answered.
    #[sea_orm(string_value = "REQUESTED")]
    Requested,
    /// The upstream team promised a day.
    #[sea_orm(string_value = "COMMITTED")]
    Committed,
    /// The upstream team said it will not deliver.
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    /// The upstream team delivered.
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
}

/// What a notification tells its recipient.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationKind {
    /// A comment mentions the recipient.
    #[sea_orm(string_value = "MENTIONED")]
    Mentioned,
    /// A team asks the recipient's program for a delivery.
    #[sea_orm(string_value = "DEPENDENCY_REQUESTED")]
    DependencyRequested,
    /// The upstream team promised a day.
    #[sea_orm(string_value = "DEPENDENCY_COMMITTED")]
    DependencyCommitted,
    /// The upstream team declined.
    #[sea_orm(string_value = "DEPENDENCY_DECLINED")]
    DependencyDeclined,
    /// The upstream team delivered.
    #[sea_orm(string_value = "DEPENDENCY_DELIVERED")]
    DependencyDelivered,
    /// A dependency is past its need date and not delivered.
    #[sea_orm(string_value = "DEPENDENCY_OVERDUE")]
    DependencyOverdue,
    /// An open decision is coming due.
    #[sea_orm(string_value = "DECISION_DUE")]
    DecisionDue,
    /// The program's status update is due.
    #[sea_orm(string_value = "STATUS_UPDATE_DUE")]
    StatusUpdateDue,
}

/// The tool a link points into.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LinkKind {
    /// A Jira issue or epic.
    #[sea_orm(string_value = "JIRA")]
    Jira,
    /// A GitHub issue, pull request or project.
    #[sea_orm(string_value = "GITHUB")]
    Github,
    /// A Linear issue or project.
    #[sea_orm(string_value = "LINEAR")]
    Linear,
    /// A document.
    #[sea_orm(string_value = "DOC")]
    Doc,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Where a webhook delivery stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryState {
    /// Not delivered yet; tried again at `next_attempt_at`.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The receiver answered 2xx.
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    /// Every attempt failed; only a redelivery sends it again.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

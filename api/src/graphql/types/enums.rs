//! GraphQL enums, mirrored from the stored enums.

use async_graphql::Enum;

use crate::domain::pagination::Direction;

/// Global role of a user.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::UserRole")]
pub enum UserRole {
    /// Does everything and manages users.
    Admin,
    /// Works in the programs they are a member of.
    Member,
}

/// Language of messages and briefs.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::Locale")]
pub enum Locale {
    /// English.
    En,
    /// Korean.
    Ko,
}

/// Role of a member within one program.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::ProgramRole")]
pub enum ProgramRole {
    /// The TPM: edits everything and manages members.
    Owner,
    /// Edits workstreams, milestones, dependencies, decisions, risks and status updates.
    Editor,
    /// Reads.
    Viewer,
}

/// Lifecycle of a program.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::ProgramStatus")]
pub enum ProgramStatus {
    /// Not started yet.
    Planned,
    /// Under way.
    Active,
    /// Paused.
    OnHold,
    /// Delivered.
    Completed,
    /// Stopped for good.
    Cancelled,
}

/// How likely something is to land on its date.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::Health")]
pub enum Health {
    /// Expected to land on time.
    OnTrack,
    /// Could slip without action.
    AtRisk,
    /// Will slip without a change of plan.
    OffTrack,
}

/// How urgent a workstream is against the rest of its team's work.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::Priority")]
pub enum Priority {
    /// Drop everything else: the team's most urgent work.
    P0,
    /// Urgent: ahead of normal work.
    P1,
    /// Normal work (the default).
    P2,
    /// When there is time.
    P3,
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

impl From<OrderDirection> for Direction {
    fn from(value: OrderDirection) -> Self {
        match value {
            OrderDirection::Asc => Direction::Asc,
            OrderDirection::Desc => Direction::Desc,
        }
    }
}

/// An `orderBy` input: a sortable field and a direction.
pub trait OrderInput {
    /// The domain's sortable fields of the list.
    type Field;
    /// The field and direction asked for.
    fn into_order(self) -> (Self::Field, Direction);
}

/// The order `order_by` asks for, or `default` ascending.
pub fn order_of<I: OrderInput>(order_by: Option<I>, default: I::Field) -> (I::Field, Direction) {
    order_by.map_or((default, Direction::Asc), OrderInput::into_order)
}

/// Declare the `orderBy` input of a list: `$input { field: $field, direction }`,
/// where `$field` is the GraphQL mirror of the domain's `$domain` fields.
macro_rules! order_input {
    ($(#[$meta:meta])* $input:ident { field: $field:ident => $domain:path }) => {
        $(#[$meta])*
        #[derive(async_graphql::InputObject)]
        pub struct $input {
            /// Field to sort by.
            pub field: $field,
            /// Direction.
            #[graphql(default)]
            pub direction: $crate::graphql::types::enums::OrderDirection,
        }

        impl $crate::graphql::types::enums::OrderInput for $input {
            type Field = $domain;

            fn into_order(self) -> (Self::Field, $crate::domain::pagination::Direction) {
                (self.field.into(), self.direction.into())
            }
        }
    };
}
pub(crate) use order_input;

/// The upstream team's answer to a dependency.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::Commitment")]
pub enum Commitment {
    /// Asked for; the upstream team has not answered yet.
    Requested,
    /// The upstream team promised `committedDate`.
    Committed,
    /// The upstream team will not deliver (see `declineReason`).
    Declined,
    /// The upstream team delivered on `deliveredOn`.
    Delivered,
}

/// What a notification tells its recipient.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::NotificationKind")]
pub enum NotificationKind {
    /// A comment mentions you.
    Mentioned,
    /// Another team asks your program for a delivery (to the upstream program's OWNERs and the upstream workstream's lead).
    DependencyRequested,
    /// The upstream team promised a day (to the downstream program's OWNERs and the downstream workstream's lead).
    DependencyCommitted,
    /// The upstream team declined (to the downstream program's OWNERs and lead).
    DependencyDeclined,
    /// The upstream team delivered (to the downstream program's OWNERs and lead).
    DependencyDelivered,
    /// A dependency is past its need date and not delivered; once a day (to the downstream program's OWNERs and lead).
    DependencyOverdue,
    /// A proposed decision is due within 3 days or past due; once a day (to the program's OWNERs).
    DecisionDue,
    /// The program has had no status update for 7 days; once a day (to its OWNERs).
    StatusUpdateDue,
}

/// How a program's plan is written for `Program.export` and `importProgram`.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::transfer::Format")]
pub enum PlanFormat {
    /// One JSON object: `workstreams`, `milestones`, `dependencies` and `risks` lists.
    Json,
    /// One CSV table with a header; its `type` column says which kind each row is.
    Csv,
}

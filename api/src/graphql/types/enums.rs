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

//! SeaORM entities for Trestle's database tables.
//!
//! One module per table; the entities describe storage only and hold no
//! business rules.

pub mod api_token;
pub mod audit_event;
pub mod decision;
pub mod decision_option;
pub mod dependency;
pub mod enums;
pub mod milestone;
pub mod program;
pub mod program_member;
pub mod risk;
pub mod setting;
pub mod status_update;
pub mod team;
pub mod user;
pub mod workstream;

/// Re-exports every entity under its table-singular name, like `sea-orm-cli` generates.
pub mod prelude {
    pub use super::api_token::Entity as ApiToken;
    pub use super::audit_event::Entity as AuditEvent;
    pub use super::decision::Entity as Decision;
    pub use super::decision_option::Entity as DecisionOption;
    pub use super::dependency::Entity as Dependency;
    pub use super::milestone::Entity as Milestone;
    pub use super::program::Entity as Program;
    pub use super::program_member::Entity as ProgramMember;
    pub use super::risk::Entity as Risk;
    pub use super::setting::Entity as Setting;
    pub use super::status_update::Entity as StatusUpdate;
    pub use super::team::Entity as Team;
    pub use super::user::Entity as User;
    pub use super::workstream::Entity as Workstream;
}

//! GraphQL object, input and enum types, one file per type.

pub mod api_token;
pub mod audit_event;
pub mod baseline;
pub mod connection;
pub mod decision;
pub mod dependency;
pub mod enums;
pub mod forecast_point;
pub mod health;
pub mod milestone;
pub mod money;
pub mod planning;
pub mod program;
pub mod program_event;
pub mod program_member;
pub mod risk;
pub mod status_update;
pub mod team;
pub mod user;
pub mod workstream;

pub use api_token::ApiToken;
pub use audit_event::AuditEvent;
pub use baseline::Baseline;
pub use decision::{Decision, DecisionOption};
pub use dependency::Dependency;
pub use forecast_point::ForecastPoint;
pub use milestone::Milestone;
pub use program::Program;
pub use program_event::{ProgramEvent, ProgramEventKind};
pub use program_member::ProgramMember;
pub use risk::Risk;
pub use status_update::StatusUpdate;
pub use team::Team;
pub use user::User;
pub use workstream::Workstream;

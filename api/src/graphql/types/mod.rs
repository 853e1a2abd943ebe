//! GraphQL object, input and enum types, one file per type.

pub mod api_token;
pub mod audit_event;
pub mod connection;
pub mod enums;
pub mod money;
pub mod program;
pub mod program_member;
pub mod user;

pub use api_token::ApiToken;
pub use audit_event::AuditEvent;
pub use program::Program;
pub use program_member::ProgramMember;
pub use user::User;

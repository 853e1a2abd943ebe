//! `ProgramMember`.

use async_graphql::{Context, ID, Object, Result};
use entity::program_member;

use super::{User, enums::ProgramRole};
use crate::domain::access::Visible;
use crate::graphql::context::loaders;
use crate::graphql::scalars::Instant;

/// A user's membership in a program.
pub struct ProgramMember(pub Visible<program_member::Model>);

/// A user's membership in a program, with their role.
#[Object]
impl ProgramMember {
    /// Unique id of the membership.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The member.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let loaders = loaders(ctx)?;
        Ok(loaders.users.load_one(self.0.user_id).await?.map(User))
    }
    /// The member's role in the program.
    async fn role(&self) -> ProgramRole {
        self.0.role.into()
    }
    /// When the user joined the program.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// Optimistic-concurrency version.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

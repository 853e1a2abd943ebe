//! Program membership mutations.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use crate::domain::members::MemberRef;
use crate::error::ApiError;
use crate::graphql::{
    context::{parse_id, scope},
    types::{Program, ProgramMember, enums::ProgramRole},
};
use crate::i18n::Message;

/// Give a user a role in a program (OWNER only); adds them if needed. Name
/// the user by exactly one of `userId` or `email`.
#[derive(InputObject)]
pub struct SetProgramMemberInput {
    /// The program.
    pub program_id: ID,
    /// The user, by id.
    pub user_id: Option<ID>,
    /// The user, by sign-in email (case-insensitive).
    pub email: Option<String>,
    /// Their role.
    pub role: ProgramRole,
}

/// The membership as it now stands.
#[derive(SimpleObject)]
pub struct SetProgramMemberPayload {
    /// The membership.
    pub member: ProgramMember,
}

/// Remove a user from a program (OWNER, or the member themself).
#[derive(InputObject)]
pub struct RemoveProgramMemberInput {
    /// The program.
    pub program_id: ID,
    /// The user to remove.
    pub user_id: ID,
}

/// The removed membership.
#[derive(SimpleObject)]
pub struct RemoveProgramMemberPayload {
    /// Id of the user who left the program.
    pub removed_user_id: ID,
    /// The program after the change (null when the caller removed themself and can no longer see it).
    pub program: Option<Program>,
}

/// Program membership mutations.
#[derive(Default)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Add a member or change their role (OWNER). A program always keeps one OWNER.
    async fn set_program_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: SetProgramMemberInput,
    ) -> Result<SetProgramMemberPayload> {
        let (domain, viewer) = scope(ctx)?;
        let program_id = parse_id("input.programId", &input.program_id)?;
        let member = match (&input.user_id, input.email) {
            (Some(id), None) => MemberRef::Id(parse_id("input.userId", id)?),
            (None, Some(email)) => MemberRef::Email(email),
            _ => {
                return Err(ApiError::bad_input(
                    "input.userId",
                    Message::InvalidFormat {
                        expected: crate::i18n::Format::UserIdOrEmail,
                    },
                )
                .into());
            }
        };
        let member = domain
            .set_program_member(viewer, program_id, member, input.role.into())
            .await?;
        Ok(SetProgramMemberPayload {
            member: ProgramMember(member),
        })
    }

    /// Remove a member (OWNER, or a member leaving). The last OWNER cannot leave.
    async fn remove_program_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: RemoveProgramMemberInput,
    ) -> Result<RemoveProgramMemberPayload> {
        let (domain, viewer) = scope(ctx)?;
        let program_id = parse_id("input.programId", &input.program_id)?;
        let user_id = parse_id("input.userId", &input.user_id)?;
        let removed = domain
            .remove_program_member(viewer, program_id, user_id)
            .await?;
        let program = domain.program(viewer, program_id).await?;
        Ok(RemoveProgramMemberPayload {
            removed_user_id: ID(removed.user_id.to_string()),
            program: program.map(Program),
        })
    }
}

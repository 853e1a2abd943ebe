//! Root mutations, merged by area. Each takes one `input` and returns a payload.

mod auth;
mod member;
mod program;

use async_graphql::MergedObject;

/// The root mutation type.
#[derive(MergedObject, Default)]
pub struct Mutation(auth::AuthMutation, member::MemberMutation, program::ProgramMutation);

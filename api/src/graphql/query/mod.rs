//! Root queries, merged by area.

mod program;
mod user;

use async_graphql::MergedObject;

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(user::UserQuery, program::ProgramQuery);
